"""The IO table data model: an immutable :class:`xarray.Dataset` in Miller & Blair notation.

A *single-region* table (such as Japan's competitive-import table) holds

==========  ===========================  ==================================================
variable    dims                         meaning
==========  ===========================  ==================================================
``Z``       (sector, sector_to)          intermediate flows, supplier x buyer
``Y``       (sector, final_demand)       domestic final demand by category
``E``       (sector, export_item)        exports by item
``M``       (sector, import_item)        competitive imports by item, **positive** amounts
``V``       (va_item, sector)            value added by item (rows of the table)
``x``       (sector,)                    gross output
==========  ===========================  ==================================================

with the row balance ``x = Z 1 + Y 1 + E 1 - M 1`` and the column balance
``x = 1'Z + 1'V``.  A *multi-regional* table has ``region`` and ``region_to`` dims as well:
``Z(region, sector, region_to, sector_to)``, ``Y(region, sector, region_to, final_demand)``,
``V(va_item, region, sector)``, ``x(region, sector)``; exports and imports to the rest of
the world are optional (``E(region, sector, export_item)``, ``M(region, sector, import_item)``).

Coordinates carry English and Japanese names where known (``name_en``, ``name_ja`` on
``sector``), the value-added flag ``in_gdp`` and the ``component`` of each VA item.
Attributes carry ``unit``, ``year``, ``source``, ``provenance``, ``title`` and a ``history``
of every transformation applied (aggregation, carve-out, rescaling, preprocessing).

Derived quantities (``A``, ``B``, ``L``, ``G``, value-added and import coefficients) come from
functions here that return new objects; a table is never modified in place.

Which value-added rows count as GDP is decided in one place, :data:`GDP_EXCLUDED_VA_ITEMS`:
Japan's ``ohcr`` row (consumption expenditure outside households: business entertainment,
per diems) is treated by the SNA as intermediate consumption, so GDP-like value added
excludes it.

The package's modules, lowest first: :mod:`~simcore.tables.units` (yen units, GDP's
value-added items), :mod:`~simcore.tables.views` (variable layout, flat arrays),
:mod:`~simcore.tables.coefficients`, :mod:`~simcore.tables.checks` (validation),
:mod:`~simcore.tables.model` (construction, history) and :mod:`~simcore.tables.csv`
(reading and writing CSV); every name is importable from ``simcore.tables`` itself.
"""

from __future__ import annotations

from .. import _nodask

_nodask.install()  # xarray imports dask lazily; only a Dask engine needs it

from . import units as _units
from .units import _YEN_ALIASES, yen_per_unit
from .views import (
    flat,
    industry_labels,
    is_multiregional,
    _MR_VARS,
    _SR_VARS,
    _wrap_matrix,
    _wrap_vector,
)
from .coefficients import (
    allocation_coefficients,
    final_demand_total,
    gdp,
    gdp_coefficients,
    gdp_component_coefficients,
    ghosh_inverse,
    gross_output,
    import_coefficients,
    import_shares,
    import_split,
    leontief_inverse,
    technical_coefficients,
    value_added_coefficients,
    value_added_gdp,
    _A,
)
from .checks import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    balance_residuals,
    check_table,
    checks_table,
    spectral_radius,
    validate,
    _cell_name,
    _radius_bound,
)
from .model import (
    from_arrays,
    from_pandas,
    history,
    with_history,
    _DESCRIPTIONS,
    _as2d,
    _check_len,
    _describe,
    _float_array,
    _labels,
    _year,
)
from .csv import (
    LONG_COL_TYPES,
    LONG_ROW_TYPES,
    from_csv,
    to_csv,
    _check_csv_fields,
    _from_long_csv,
    _from_wide_csv,
    _read_csv,
)

__all__ = [
    "GDP_EXCLUDED_VA_ITEMS",
    "VA_COMPONENTS",
    "YEN_PER_UNIT",
    "yen_per_unit",
    "from_arrays",
    "from_pandas",
    "from_csv",
    "to_csv",
    "validate",
    "is_multiregional",
    "industry_labels",
    "flat",
    "gross_output",
    "final_demand_total",
    "gdp",
    "value_added_gdp",
    "technical_coefficients",
    "allocation_coefficients",
    "leontief_inverse",
    "ghosh_inverse",
    "value_added_coefficients",
    "gdp_coefficients",
    "gdp_component_coefficients",
    "import_shares",
    "import_coefficients",
    "import_split",
    "spectral_radius",
    "balance_residuals",
]

# The constants of simcore.tables.units, documented here: autodoc reads the ``#:``
# comments of the module it documents (simcore.tables).
#: Value-added items that are *not* part of GDP.  ``ohcr`` is Japan's "consumption
#: expenditure outside households" row (business entertainment, per diems, welfare), which
#: the SNA treats as intermediate consumption.  ``nadj`` is the negative-input adjustment
#: account created by :func:`simcore.transform.prepare_for_dynamics`.  ``imports`` is the
#: cost of the foreign industries created by :func:`simcore.transform.split_imports`
#: (:data:`simcore.transform.IMPORTS_VA_ITEM`), which is foreign, not domestic, value added.
#: This is the single place where GDP-like value added is defined.
GDP_EXCLUDED_VA_ITEMS: tuple[str, ...] = _units.GDP_EXCLUDED_VA_ITEMS

#: Yen per table unit, for the units whose losses are reported in yen (CLI headline, sweeps,
#: calibration targets, plots).  Any other unit, or none, is reported in table units: there
#: is no currency default.  The single place where a unit is recognised as yen.
YEN_PER_UNIT: dict[str, float] = _units.YEN_PER_UNIT

#: Value-added components used to report losses by component.  Items not listed are
#: reported under ``"other"``.
VA_COMPONENTS: dict[str, str] = _units.VA_COMPONENTS
