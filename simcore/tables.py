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
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import _nodask
from . import _io

_nodask.install()  # xarray imports dask lazily; only a Dask engine needs it

from ._version import __version__
from .errors import (
    BalanceError,
    LabelError,
    NegativeOutputError,
    NonFiniteError,
    NonProductiveError,
    TableError,
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
    "import_shares",
    "import_coefficients",
    "import_split",
    "spectral_radius",
    "balance_residuals",
]

#: Value-added items that are *not* part of GDP.  ``ohcr`` is Japan's "consumption
#: expenditure outside households" row (business entertainment, per diems, welfare), which
#: the SNA treats as intermediate consumption.  ``nadj`` is the negative-input adjustment
#: account created by :func:`simcore.transform.prepare_for_dynamics`.  ``imports`` is the
#: cost of the foreign industries created by :func:`simcore.transform.split_imports`
#: (:data:`simcore.transform.IMPORTS_VA_ITEM`), which is foreign, not domestic, value added.
#: This is the single place where GDP-like value added is defined.
GDP_EXCLUDED_VA_ITEMS: tuple[str, ...] = ("ohcr", "nadj", "imports")

#: Yen per table unit, for the units whose losses are reported in yen (CLI headline, sweeps,
#: calibration targets, plots).  Any other unit, or none, is reported in table units: there
#: is no currency default.  The single place where a unit is recognised as yen.
YEN_PER_UNIT: dict[str, float] = {"JPY": 1.0, "thousand JPY": 1e3, "million JPY": 1e6,
                                  "billion JPY": 1e9}
_YEN_ALIASES = {"yen": "JPY", "million yen": "million JPY", "mn jpy": "million JPY",
                "jpy million": "million JPY", "thousand yen": "thousand JPY",
                "billion yen": "billion JPY", "bn jpy": "billion JPY"}


def yen_per_unit(unit: str | None) -> float | None:
    """Yen per ``unit`` (case-insensitive, common spellings), or ``None`` if not a yen unit.

    >>> yen_per_unit("million JPY"), yen_per_unit("Million yen"), yen_per_unit("$ million")
    (1000000.0, 1000000.0, None)
    """
    if not isinstance(unit, str):
        return None
    u = unit.strip()
    canon = {k.lower(): k for k in YEN_PER_UNIT}
    key = canon.get(u.lower()) or _YEN_ALIASES.get(u.lower())
    return YEN_PER_UNIT[key] if key else None


#: Value-added components used to report losses by component.  Items not listed are
#: reported under ``"other"``.
VA_COMPONENTS: dict[str, str] = {
    # 185-sector items
    "wage": "compensation_of_employees",
    "ssce": "compensation_of_employees",
    "othp": "compensation_of_employees",
    # 37-sector item
    "epin": "compensation_of_employees",
    "opse": "operating_surplus",
    "depr": "consumption_of_fixed_capital",
    "drsc": "consumption_of_fixed_capital",
    "idtx": "taxes_less_subsidies",
    "subs": "taxes_less_subsidies",
    "ohcr": "outside_household_consumption",
    "nadj": "negative_input_adjustment",
    "imports": "imports_of_foreign_industries",
    # generic names
    "compensation": "compensation_of_employees",
    "operating_surplus": "operating_surplus",
}

_SR_VARS = {
    "Z": ("sector", "sector_to"),
    "Y": ("sector", "final_demand"),
    "E": ("sector", "export_item"),
    "M": ("sector", "import_item"),
    "V": ("va_item", "sector"),
    "x": ("sector",),
}
_MR_VARS = {
    "Z": ("region", "sector", "region_to", "sector_to"),
    "Y": ("region", "sector", "region_to", "final_demand"),
    "E": ("region", "sector", "export_item"),
    "M": ("region", "sector", "import_item"),
    "V": ("va_item", "region", "sector"),
    "x": ("region", "sector"),
}

#: Default balance tolerances: absolute (table units) and relative to gross output.
DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 1e-9


# --------------------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------------------
def _labels(values: Sequence[Any] | None, n: int, what: str, default_prefix: str) -> list[str]:
    if values is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    out = [str(v) for v in values]
    if len(out) != n:
        raise LabelError(f"{what}: got {len(out)} labels for an axis of length {n}")
    seen: set[str] = set()
    for label in out:
        if label in seen:
            raise LabelError(f"{what}: duplicate label {label!r}; labels must be unique")
        seen.add(label)
    return out


def _float_array(a: Any, name: str) -> np.ndarray:
    """``a`` as a float64 array, or a :class:`TableError` naming the variable."""
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TableError(f"{name}: expected numbers, got a non-numeric value ({exc})") from None


def _as2d(a: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1 and shape[1] == 1:
        arr = arr[:, None]
    if arr.shape != shape:
        raise TableError(f"{name}: expected shape {shape}, got {arr.shape}")
    return arr


def from_arrays(
    Z: Any,
    Y: Any,
    V: Any,
    *,
    sectors: Sequence[Any] | None = None,
    x: Any = None,
    E: Any = None,
    M: Any = None,
    regions: Sequence[Any] | None = None,
    final_demand: Sequence[Any] | None = None,
    va_items: Sequence[Any] | None = None,
    export_items: Sequence[Any] | None = None,
    import_items: Sequence[Any] | None = None,
    name_en: Sequence[str] | None = None,
    name_ja: Sequence[str] | None = None,
    unit: str = "",
    year: int | None = None,
    source: str = "user-supplied arrays",
    title: str = "",
    provenance: str = "",
    check: bool = True,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
) -> xr.Dataset:
    """Build a validated IO table from plain arrays.

    Parameters
    ----------
    Z : array_like, shape (p, p)
        Intermediate flows, supplier (row) x buyer (column).  For a multi-regional table
        ``p = R n`` and industries are ordered region-major (all sectors of region 0 first).
    Y : array_like, shape (p, k) or (p, R k)
        Domestic final demand by category; for a multi-regional table the columns are
        ordered region-major (all categories of region 0 first).
    V : array_like, shape (q, p)
        Value added by item.
    sectors : sequence of str, optional
        Sector codes (length ``n``); ``s0, s1, ...`` if omitted.
    x : array_like, shape (p,), optional
        Gross output.  If omitted it is computed from the column balance ``1'Z + 1'V``.
    E, M : array_like, shape (p,) or (p, k), optional
        Exports and competitive imports (imports as positive amounts).  Zero if omitted.
    regions : sequence of str, optional
        Region codes; giving them makes the table multi-regional.
    final_demand, va_items, export_items, import_items : sequence of str, optional
        Item labels.
    name_en, name_ja : sequence of str, optional
        Sector names.
    unit : str, default ""
        Unit of money of every flow, e.g. ``"million JPY"`` or ``"$ million"``.  Empty means
        unspecified: losses are then reported in table units, never converted to yen (only
        the yen units ``"JPY"``, ``"thousand JPY"``, ``"million JPY"`` and ``"billion JPY"``
        are).  There is no currency default, so a table cannot be mislabelled silently.
    year, source, title, provenance : attrs.
    check : bool, default True
        Run :func:`validate` on the result.
    atol, rtol : float
        Balance tolerances passed to :func:`validate`.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    Miller & Blair (2009), Table 2.3:

    >>> import simcore as sc
    >>> t = sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]],
    ...                           [[650, 1400]], sectors=["1", "2"], unit="$")
    >>> t.x.values
    array([1000., 2000.])
    """
    Z = _float_array(Z, "Z")
    if Z.ndim != 2 or Z.shape[0] != Z.shape[1]:
        raise TableError(f"Z: expected a square 2-D array, got shape {Z.shape}")
    p = Z.shape[0]
    R = 1 if regions is None else len(regions)
    if p % R:
        raise TableError(f"Z: {p} industries is not a multiple of {R} regions")
    n = p // R
    sec = _labels(sectors, n, "sectors", "s")
    reg = None if regions is None else _labels(regions, R, "regions", "r")

    Y = _float_array(Y, "Y")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != p or Y.shape[1] % R:
        raise TableError(f"Y: expected shape ({p}, k*{R}), got {Y.shape}")
    k = Y.shape[1] // R
    fd = _labels(final_demand, k, "final_demand", "fd")

    V = _float_array(V, "V")
    if V.ndim == 1:
        V = V[None, :]
    if V.ndim != 2 or V.shape[1] != p:
        raise TableError(f"V: expected shape (q, {p}), got {V.shape}")
    va = _labels(va_items, V.shape[0], "va_items", "va")

    def _items(a: Any, labels: Sequence[Any] | None, what: str, prefix: str):
        if a is None:
            return np.zeros((p, 0)), []
        arr = _float_array(a, what)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != p:
            raise TableError(f"{what}: expected shape ({p}, k), got {arr.shape}")
        return arr, _labels(labels, arr.shape[1], f"{what} items", prefix)

    E, ex = _items(E, export_items, "E", "e")
    M, im = _items(M, import_items, "M", "m")
    xv = Z.sum(axis=0) + V.sum(axis=0) if x is None else _float_array(x, "x")
    if xv.shape != (p,):
        raise TableError(f"x: expected shape ({p},), got {xv.shape}")

    coords: dict[str, Any] = {
        "sector": sec,
        "sector_to": sec,
        "final_demand": fd,
        "va_item": va,
        "export_item": ex,
        "import_item": im,
    }
    if name_en is not None:
        coords["name_en"] = ("sector", [str(s) for s in _check_len(name_en, n, "name_en")])
    if name_ja is not None:
        coords["name_ja"] = ("sector", [str(s) for s in _check_len(name_ja, n, "name_ja")])
    coords["in_gdp"] = ("va_item", [v not in GDP_EXCLUDED_VA_ITEMS for v in va])
    coords["component"] = ("va_item", [VA_COMPONENTS.get(v, "other") for v in va])
    if reg is None:
        data = {
            "Z": (_SR_VARS["Z"], Z),
            "Y": (_SR_VARS["Y"], Y),
            "E": (_SR_VARS["E"], E),
            "M": (_SR_VARS["M"], M),
            "V": (_SR_VARS["V"], V),
            "x": (_SR_VARS["x"], xv),
        }
    else:
        coords["region"] = reg
        coords["region_to"] = reg
        data = {
            "Z": (_MR_VARS["Z"], Z.reshape(R, n, R, n)),
            "Y": (_MR_VARS["Y"], Y.reshape(R, n, R, k)),
            "E": (_MR_VARS["E"], E.reshape(R, n, -1)),
            "M": (_MR_VARS["M"], M.reshape(R, n, -1)),
            "V": (_MR_VARS["V"], V.reshape(-1, R, n)),
            "x": (_MR_VARS["x"], xv.reshape(R, n)),
        }
    attrs = {
        "unit": unit,
        "year": _year(year),
        "source": source,
        "title": title,
        "provenance": provenance,
        "simcore_version": __version__,
        "history": "[]",
    }
    if not isinstance(unit, str):
        raise TableError(f"unit = {unit!r}: expected a string such as 'million JPY' or "
                         "'$ million' (or '' for unspecified)")
    if (atol, rtol) != (DEFAULT_ATOL, DEFAULT_RTOL):
        # the engines re-check the balance with the tolerances the table was built with
        attrs["balance_atol"] = float(atol)
        attrs["balance_rtol"] = float(rtol)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    _describe(ds)
    if check:
        validate(ds, atol=atol, rtol=rtol)
    return ds


def _year(year: Any) -> int:
    if year is None:
        return -1
    try:
        if isinstance(year, bool) or float(year) != int(year):
            raise ValueError
        return int(year)
    except (TypeError, ValueError, OverflowError):
        raise TableError(f"year = {year!r}: expected a whole number (e.g. 2015)") from None


def _check_len(values: Sequence[Any], n: int, what: str) -> Sequence[Any]:
    if len(values) != n:
        raise LabelError(f"{what}: got {len(values)} names for {n} sectors")
    return values


_DESCRIPTIONS = {
    "Z": "intermediate flows, supplier (row) x buyer (column)",
    "Y": "domestic final demand by category",
    "E": "exports by item",
    "M": "competitive imports by item (positive amounts)",
    "V": "value added by item",
    "x": "gross output",
}


def _describe(ds: xr.Dataset) -> None:
    for k, d in _DESCRIPTIONS.items():
        if k in ds:
            ds[k].attrs.update({"long_name": d, "units": ds.attrs.get("unit", "")})


def from_pandas(
    Z: pd.DataFrame,
    Y: pd.DataFrame,
    V: pd.DataFrame,
    *,
    x: pd.Series | None = None,
    E: pd.DataFrame | pd.Series | None = None,
    M: pd.DataFrame | pd.Series | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Build a table from labelled pandas objects (single-region, or region-sector MultiIndex).

    ``Z`` is indexed by supplier and has buyers as columns; its index and columns must carry
    the same labels in the same order.  ``Y``, ``E`` and ``M`` share ``Z``'s index; ``V`` has
    value-added items as index and ``Z``'s columns as columns.  A two-level
    ``(region, sector)`` MultiIndex makes the table multi-regional.  Other keyword arguments
    go to :func:`from_arrays`.
    """
    for nm, obj in (("Z", Z), ("Y", Y), ("V", V)):
        if not isinstance(obj, pd.DataFrame):
            raise TableError(f"from_pandas: {nm} must be a pandas DataFrame, got "
                             f"{type(obj).__name__}; use from_arrays for plain arrays")
    if not Z.index.equals(Z.columns):
        diff = [str(a) for a, b in zip(Z.index, Z.columns) if a != b][:3]
        raise LabelError(
            f"Z: row labels and column labels differ (first mismatches: {diff}); "
            "expected the same sectors in the same order"
        )
    for nm, obj in (("Y", Y), ("E", E), ("M", M)):
        if obj is not None and not obj.index.equals(Z.index):
            missing = [str(s) for s in Z.index if s not in obj.index][:3]
            raise LabelError(
                f"{nm}: row labels do not match Z's (missing or misordered: {missing})"
            )
    if not V.columns.equals(Z.columns):
        missing = [str(s) for s in Z.columns if s not in V.columns][:3]
        raise LabelError(f"V: columns do not match Z's columns (missing: {missing})")
    if x is not None and not x.index.equals(Z.index):
        raise LabelError("x: index does not match Z's index")
    if isinstance(Z.index, pd.MultiIndex):
        regions = list(dict.fromkeys(Z.index.get_level_values(0)))
        sectors = list(dict.fromkeys(Z.index.get_level_values(1)))
        kwargs.setdefault("regions", regions)
        if isinstance(Y.columns, pd.MultiIndex):
            kwargs.setdefault("final_demand", list(dict.fromkeys(Y.columns.get_level_values(1))))
        else:
            raise LabelError("Y: a multi-regional table needs (region, category) columns")
    else:
        sectors = list(Z.index)
        kwargs.setdefault("final_demand", list(Y.columns))
    kwargs.setdefault("va_items", list(V.index))
    if E is not None:
        E = E.to_frame() if isinstance(E, pd.Series) else E
        kwargs.setdefault("export_items", list(E.columns))
    if M is not None:
        M = M.to_frame() if isinstance(M, pd.Series) else M
        kwargs.setdefault("import_items", list(M.columns))
    return from_arrays(
        Z.to_numpy(dtype=float),
        Y.to_numpy(dtype=float),
        V.to_numpy(dtype=float),
        sectors=sectors,
        x=None if x is None else x.to_numpy(dtype=float),
        E=None if E is None else E.to_numpy(dtype=float),
        M=None if M is None else M.to_numpy(dtype=float),
        **kwargs,
    )


#: Row and column types accepted in the long CSV layout.
LONG_ROW_TYPES = ("sector", "value_added")
LONG_COL_TYPES = ("sector", "final_demand", "export", "import")


def from_csv(
    path: str | Path,
    *,
    layout: str = "long",
    sectors: Sequence[str] | None = None,
    imports_negative: bool = True,
    **kwargs: Any,
) -> xr.Dataset:
    """Read a single-region table from CSV.

    Two layouts are supported.

    ``layout="long"`` (one file): columns ``row_code, row_type, col_code, col_type, value``
    (the value column may also be called ``value_million_jpy``).  ``row_type`` is ``sector``
    or ``value_added``; ``col_type`` is ``sector``, ``final_demand``, ``export`` or
    ``import``.  Missing cells are zero.  Imports are signed as in MIC's tables (negative)
    unless ``imports_negative=False``.

    ``layout="wide"``: ``path`` is a directory (or a file prefix) holding
    ``*intermediate.csv`` (first column ``row_code``, then one column per buyer),
    ``*final_demand.csv`` (``row_code`` then one column per final-demand, export and import
    item; pass ``export_items`` and ``import_items`` to say which are which, defaults
    ``expo, expd`` and ``impo, impd, imta, imtx``) and ``*value_added.csv`` (``va_code``
    then one column per sector).

    Sector order follows ``sectors`` if given, else the order of first appearance.
    Any error names the file and the offending row, column or label.
    """
    path = Path(path)
    if layout == "long":
        return _from_long_csv(path, sectors=sectors, imports_negative=imports_negative, **kwargs)
    if layout == "wide":
        return _from_wide_csv(path, sectors=sectors, imports_negative=imports_negative, **kwargs)
    raise TableError(f"from_csv: unknown layout {layout!r}; expected 'long' or 'wide'")


def _read_csv(path: Path, **kw: Any) -> pd.DataFrame:
    if not path.exists():
        raise TableError(f"{path}: file not found")
    if path.is_dir():
        raise TableError(f"{path}: is a directory; the long layout reads one CSV file "
                         "(use layout='wide' for a folder of wide files)")
    kw.setdefault("keep_default_na", False)  # a sector coded "NA" is a label, not a gap
    try:
        df = pd.read_csv(path, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise TableError(f"{path}: cannot parse as CSV ({exc})") from exc
    if not isinstance(df.index, pd.RangeIndex):
        # every data row has more fields than the header: pandas took the first field(s) as
        # an index and shifted every value to the left; refuse it, naming the line
        _check_csv_fields(path, kw.get("comment"))
    return df


def _check_csv_fields(path: Path, comment: str | None) -> None:
    """Every row has as many fields as the header, or a TableError names the line.

    pandas silently takes the first column as an index when *every* data row has one field
    too many, which shifts every value one column to the left; this check refuses it.
    """
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header: list[str] | None = None
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or (comment and row[0].lstrip().startswith(comment)):
                continue
            if header is None:
                header = row
            elif len(row) != len(header):
                raise TableError(f"{path}: line {lineno} has {len(row)} fields, the header "
                                 f"has {len(header)} ({', '.join(header)}); expected one value "
                                 "per column")
    raise TableError(f"{path}: the rows have more fields than the header; expected one value "
                     "per column")


def _from_long_csv(path: Path, *, sectors, imports_negative: bool, **kwargs: Any) -> xr.Dataset:
    df = _read_csv(path, dtype={"row_code": str, "col_code": str}, comment="#")
    value_col = next((c for c in ("value", "value_million_jpy") if c in df.columns), None)
    if value_col == "value_million_jpy":  # the column name states the unit
        kwargs.setdefault("unit", "million JPY")
    need = {"row_code", "row_type", "col_code", "col_type"}
    if value_col is None or not need <= set(df.columns):
        raise TableError(
            f"{path}: long layout needs columns row_code, row_type, col_code, col_type, value; "
            f"got {list(df.columns)}"
        )
    vals = pd.to_numeric(df[value_col], errors="coerce")
    bad = vals.isna() | ~np.isfinite(vals.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        r = df.iloc[i]
        raise NonFiniteError(
            f"{path}: line {i + 2}: value {df[value_col].iloc[i]!r} for "
            f"({r['row_code']}, {r['col_code']}) is not a finite number"
        )
    df = df.assign(value=vals.astype(float))
    for col, allowed in (("row_type", LONG_ROW_TYPES), ("col_type", LONG_COL_TYPES)):
        badt = ~df[col].isin(allowed)
        if badt.any():
            i = int(np.flatnonzero(badt.to_numpy())[0])
            raise TableError(
                f"{path}: line {i + 2}: {col} {df[col].iloc[i]!r} not allowed; "
                f"expected one of {allowed}"
            )
    dup = df.duplicated(["row_code", "row_type", "col_code", "col_type"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = df.iloc[i]
        raise LabelError(
            f"{path}: line {i + 2}: duplicate cell ({r['row_code']}, {r['col_code']})"
        )
    sec_rows = df[df.row_type == "sector"]
    if sectors is None:
        sectors = list(dict.fromkeys(list(sec_rows.row_code) + list(
            df[df.col_type == "sector"].col_code)))
    sectors = [str(s) for s in sectors]
    idx = {s: i for i, s in enumerate(sectors)}
    for col, typ in (("row_code", "sector"), ("col_code", "sector")):
        sub = df[df[col.replace("code", "type")] == typ]
        unknown = sorted(set(sub[col]) - set(idx))
        if unknown:
            raise LabelError(f"{path}: unknown sector {unknown[0]!r} in {col}")
    n = len(sectors)

    def block(rt: str, ct: str, rows: list[str] | None, cols: list[str] | None):
        sub = df[(df.row_type == rt) & (df.col_type == ct)]
        rl = rows if rows is not None else list(dict.fromkeys(sub.row_code))
        cl = cols if cols is not None else list(dict.fromkeys(sub.col_code))
        ri = {s: i for i, s in enumerate(rl)}
        ci = {s: i for i, s in enumerate(cl)}
        out = np.zeros((len(rl), len(cl)))
        out[sub.row_code.map(ri).to_numpy(int), sub.col_code.map(ci).to_numpy(int)] = sub.value
        return out, cl, rl

    Z, _, _ = block("sector", "sector", sectors, sectors)
    Y, fd, _ = block("sector", "final_demand", sectors, kwargs.pop("final_demand", None))
    E, ex, _ = block("sector", "export", sectors, kwargs.pop("export_items", None))
    M, im, _ = block("sector", "import", sectors, kwargs.pop("import_items", None))
    Vt, _, va = block("value_added", "sector", kwargs.pop("va_items", None), sectors)
    if imports_negative:
        M = -M
    kwargs.setdefault("source", str(path))
    return from_arrays(
        Z, Y, Vt, sectors=sectors, E=E, M=M, final_demand=fd, export_items=ex,
        import_items=im, va_items=va, **kwargs,
    )


def _from_wide_csv(path: Path, *, sectors, imports_negative: bool, **kwargs: Any) -> xr.Dataset:
    def find(suffix: str) -> Path:
        if path.is_dir():
            hits = sorted(path.glob(f"*{suffix}.csv"))
            if len(hits) != 1:
                raise TableError(f"{path}: expected exactly one *{suffix}.csv, found {len(hits)}")
            return hits[0]
        return Path(f"{path}{suffix}.csv")

    export_items = list(kwargs.pop("export_items", ["expo", "expd"]))
    import_items = list(kwargs.pop("import_items", ["impo", "impd", "imta", "imtx"]))
    fz, fy, fv = find("intermediate"), find("final_demand"), find("value_added")
    Zdf = _read_csv(fz, dtype={"row_code": str}).set_index("row_code")
    Zdf.columns = [str(c) for c in Zdf.columns]
    Ydf = _read_csv(fy, dtype={"row_code": str}).set_index("row_code")
    Vdf = _read_csv(fv, dtype={"va_code": str}).set_index("va_code")
    Vdf.columns = [str(c) for c in Vdf.columns]
    for f, d in ((fz, Zdf), (fy, Ydf), (fv, Vdf)):
        vals = d.apply(pd.to_numeric, errors="coerce")
        if vals.isna().any().any():
            r, c = np.argwhere(vals.isna().to_numpy())[0]
            raise NonFiniteError(f"{f}: cell ({d.index[r]}, {d.columns[c]}) is not a number")
        if d.index.duplicated().any():
            raise LabelError(f"{f}: duplicate row label {d.index[d.index.duplicated()][0]!r}")
    if sectors is not None:
        order = [str(s) for s in sectors]
        for f, lab in ((fz, Zdf.index), (fz, Zdf.columns), (fy, Ydf.index), (fv, Vdf.columns)):
            missing = [s for s in order if s not in lab]
            if missing:
                raise LabelError(f"{f}: sector {missing[0]!r} missing")
        Zdf, Ydf, Vdf = Zdf.loc[order, order], Ydf.loc[order], Vdf[order]
    ex = [c for c in Ydf.columns if c in export_items]
    im = [c for c in Ydf.columns if c in import_items]
    fd = [c for c in Ydf.columns if c not in ex and c not in im]
    M = Ydf[im].astype(float)
    if imports_negative:
        M = -M
    kwargs.setdefault("source", str(path))
    return from_pandas(Zdf.astype(float), Ydf[fd].astype(float), Vdf.astype(float),
                       E=Ydf[ex].astype(float), M=M, **kwargs)


def to_csv(table: xr.Dataset, path: str | Path, *, imports_negative: bool = True) -> Path:
    """Write a single-region table in the long CSV layout read by :func:`from_csv`.

    Only non-zero cells are written.  The file is written atomically (to a temporary file
    that is then renamed), so a crash never leaves half a file.
    """
    if is_multiregional(table):
        raise TableError("to_csv: the long CSV layout is for single-region tables")
    rows = []

    def emit(arr: np.ndarray, rl, cl, rt: str, ct: str, sign: float = 1.0):
        r, c = np.nonzero(arr)
        for i, j in zip(r, c):
            rows.append((rl[i], rt, cl[j], ct, repr(float(sign * arr[i, j]))))

    s = list(table.sector.values)
    emit(table.Z.values, s, s, "sector", "sector")
    emit(table.Y.values, s, list(table.final_demand.values), "sector", "final_demand")
    emit(table.E.values, s, list(table.export_item.values), "sector", "export")
    emit(table.M.values, s, list(table.import_item.values), "sector", "import",
         -1.0 if imports_negative else 1.0)
    emit(table.V.values, list(table.va_item.values), s, "value_added", "sector")
    text = "row_code,row_type,col_code,col_type,value\n" + "".join(
        ",".join(map(str, r)) + "\n" for r in rows)
    return _io.atomic_write_text(Path(path), text)


# --------------------------------------------------------------------------------------
# Flat views
# --------------------------------------------------------------------------------------
def is_multiregional(table: xr.Dataset) -> bool:
    """Whether the table has a ``region`` dimension."""
    return "region" in table.dims


def industry_labels(table: xr.Dataset) -> list[str]:
    """Labels of the flat industry axis: sector codes, or ``REGION/SECTOR`` for MRIO tables."""
    if is_multiregional(table):
        return [f"{r}/{s}" for r in table.region.values for s in table.sector.values]
    return [str(s) for s in table.sector.values]


def flat(table: xr.Dataset) -> dict[str, np.ndarray]:
    """Plain float64 arrays on the flat industry axis (region-major for MRIO tables).

    Returns a dict with ``Z (p, p)``, ``Y (p, k)`` (for MRIO, ``k = R x categories``,
    region-major), ``E (p, ke)``, ``M (p, km)``, ``V (q, p)`` and ``x (p,)``.
    """
    # the bare variables (not DataArrays: building their coordinates cost ~1 ms each)
    var = table.variables

    def arr(k: str, dims: tuple[str, ...]) -> np.ndarray:
        v = var[k]
        return (v if v.dims == tuple(dims) else v.transpose(*dims)).values

    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        p = R * n
        return {
            "Z": arr("Z", _MR_VARS["Z"]).reshape(p, p),
            "Y": arr("Y", _MR_VARS["Y"]).reshape(p, -1),
            "E": arr("E", _MR_VARS["E"]).reshape(p, -1),
            "M": arr("M", _MR_VARS["M"]).reshape(p, -1),
            "V": arr("V", _MR_VARS["V"]).reshape(-1, p),
            "x": arr("x", _MR_VARS["x"]).reshape(p),
        }
    return {k: arr(k, d) for k, d in _SR_VARS.items()}


def _wrap_vector(table: xr.Dataset, v: np.ndarray, name: str, **attrs: Any) -> xr.DataArray:
    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        da = xr.DataArray(v.reshape(R, n), dims=("region", "sector"),
                          coords={"region": table.region, "sector": table.sector}, name=name)
    else:
        da = xr.DataArray(v, dims=("sector",), coords={"sector": table.sector}, name=name)
    da.attrs.update(attrs)
    return da


def _wrap_matrix(table: xr.Dataset, m: np.ndarray, name: str, **attrs: Any) -> xr.DataArray:
    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        da = xr.DataArray(
            m.reshape(R, n, R, n), dims=_MR_VARS["Z"],
            coords={"region": table.region, "sector": table.sector,
                    "region_to": table.region_to, "sector_to": table.sector_to}, name=name)
    else:
        da = xr.DataArray(m, dims=_SR_VARS["Z"],
                          coords={"sector": table.sector, "sector_to": table.sector_to},
                          name=name)
    da.attrs.update(attrs)
    return da


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
def balance_residuals(table: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Row and column balance residuals on the flat industry axis.

    Row residual: ``Z 1 + Y 1 + E 1 - M 1 - x``; column residual: ``1'Z + 1'V - x``.
    """
    f = flat(table)
    row = f["Z"].sum(1) + f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1) - f["x"]
    col = f["Z"].sum(0) + f["V"].sum(0) - f["x"]
    return row, col


def spectral_radius(A: np.ndarray) -> float:
    """Spectral radius of a square matrix (dense eigenvalues up to 2,500, else ARPACK)."""
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    if n == 0:
        return 0.0
    if n <= 2500:
        return float(np.max(np.abs(np.linalg.eigvals(A))))
    from scipy.sparse.linalg import eigs

    vals = eigs(A, k=1, which="LM", return_eigenvectors=False, maxiter=5000, tol=1e-10)
    return float(np.abs(vals[0]))


def _radius_bound(B: np.ndarray, *, steps: int = 20) -> float:
    """A cheap upper bound on the spectral radius of a non-negative square matrix ``B``.

    Collatz-Wielandt: for any strictly positive ``v``, ``rho(B) <= max_j (v'B)_j / v_j``.
    ``v`` starts at ``1`` (the bound is then the largest column sum) and follows a few
    left power-iteration steps, kept strictly positive, which tightens the bound towards
    ``rho(B)``; the smallest bound seen is returned (it stops early once below 1).  Since
    ``rho(A) <= rho(|A|)``, a bound below 1 for ``|A|`` proves ``A`` productive without an
    eigenvalue computation.  A bound of 1 or more proves nothing.
    """
    n = B.shape[0]
    if n == 0:
        return 0.0
    v = np.ones(n)
    best = np.inf
    for _ in range(steps):
        w = v @ B
        best = min(best, float(np.max(w / v)))
        top = float(w.max())
        if best < 1.0 - 1e-12 or top <= 0.0 or not np.isfinite(top):
            return 0.0 if top <= 0.0 else best
        v = w / top + 1e-3  # strictly positive, scaled to avoid over- or underflow
    return best


def validate(
    table: xr.Dataset,
    *,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    check_balance: bool = True,
    check_productive: bool = True,
) -> xr.Dataset:
    """Check a table and return it unchanged, or raise a :class:`~simcore.errors.TableError`.

    Checks, in order: required variables and dims; unique labels; finite values; non-negative
    gross output; row and column balances within ``max(atol, rtol * |x|)`` (the error names the
    worst sector and its residual); and a productive technical-coefficient matrix (spectral
    radius of ``A`` below 1).  Productivity is proved cheaply where possible (column sums of
    ``|A|`` below 1, or a Collatz-Wielandt bound from a few power-iteration steps on ``|A|``);
    eigenvalues are computed only when those bounds fail.  Negative intermediate or
    final-demand cells are allowed (MIC tables contain them, from scrap and by-products and
    from stock changes); see :func:`simcore.transform.prepare_for_dynamics`.
    """
    if not isinstance(table, xr.Dataset):
        raise TableError(f"validate: expected an IO table (xarray.Dataset), got "
                         f"{type(table).__name__}")
    dims = _MR_VARS if is_multiregional(table) else _SR_VARS
    for var, d in dims.items():
        if var not in table:
            raise TableError(f"table: missing variable {var!r} (expected dims {d})")
        if set(table[var].dims) != set(d):
            raise TableError(f"table: variable {var!r} has dims {table[var].dims}, expected {d}")
    for dim in ("sector", "sector_to", "final_demand", "va_item", "export_item", "import_item",
                "region", "region_to"):
        if dim in table.indexes:
            idx = table.indexes[dim]
            if idx.has_duplicates:
                raise LabelError(f"table: duplicate {dim} label {idx[idx.duplicated()][0]!r}")
    if not np.array_equal(table.sector.values, table.sector_to.values):
        raise LabelError("table: sector and sector_to labels differ; Z must be square")
    labels = industry_labels(table)
    f = flat(table)
    for var in ("Z", "Y", "E", "M", "V", "x"):
        a = f[var]
        if a.size and not np.all(np.isfinite(a)):
            bad = np.argwhere(~np.isfinite(np.atleast_2d(a)))[0]
            where = _cell_name(table, var, bad, labels)
            raise NonFiniteError(f"table: {var} holds a non-finite value at {where}")
    x = f["x"]
    if x.size == 0:
        raise TableError("table: empty table (no sectors)")
    if np.any(x < 0):
        i = int(np.argmin(x))
        raise NegativeOutputError(
            f"table: sector {labels[i]!r} has negative gross output {x[i]:.6g}; "
            "expected x >= 0"
        )
    if check_balance:
        row, col = balance_residuals(table)
        tol = np.maximum(atol, rtol * np.abs(x))
        for kind, res in (("row (sales + final demand - imports)", row),
                          ("column (inputs + value added)", col)):
            excess = np.abs(res) - tol
            if np.any(excess > 0):
                i = int(np.argmax(np.abs(res)))
                raise BalanceError(
                    f"table: {kind} balance violated; worst sector {labels[i]!r} has residual "
                    f"{res[i]:.6g} {table.attrs.get('unit', '')} against gross output "
                    f"{x[i]:.6g} (tolerance {tol[i]:.3g}); {int(np.sum(excess > 0))} sector(s) "
                    "out of balance"
                )
    if check_productive:
        A = _A(f["Z"], x)
        absA = np.abs(A)
        colsum = absA.sum(0)
        if (colsum.max(initial=0.0) >= 1.0 - 1e-12
                and not _radius_bound(absA) < 1.0 - 1e-12):
            rho = spectral_radius(A)
            if not rho < 1.0 - 1e-12:
                i = int(np.argmax(colsum))
                raise NonProductiveError(
                    f"table: technical-coefficient matrix is not productive: spectral radius "
                    f"{rho:.6g} >= 1 (expected < 1); largest column sum {colsum[i]:.6g} at "
                    f"sector {labels[i]!r}"
                )
    return table


def checks_table(*, balance: bool = True, productive: bool = True
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of public functions whose first argument is a table: refuse anything that is
    not a valid table (:func:`validate`) with a :class:`~simcore.errors.TableError` naming the
    function, before any computation.  ``balance=False`` and ``productive=False`` skip those
    checks (static analyses of tables without full value-added rows; functions that detect a
    singular ``I - A`` themselves)."""
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(table: Any, *args: Any, **kwargs: Any) -> Any:
            check_table(table, fn.__name__, balance=balance, productive=productive)
            return fn(table, *args, **kwargs)
        return wrapper
    return deco


def check_table(table: Any, where: str, *, balance: bool = True,
                productive: bool = True, hint: str = "") -> None:
    """Raise a :class:`~simcore.errors.TableError` (prefixed with ``where``) unless ``table``
    is a valid simcore table: variables and labels, finite values, non-negative output and,
    if asked, balance and a productive coefficient matrix.  A table edited after it was built (a NaN written into
    ``Z``, relabelled sectors) is caught here, not silently run."""
    if not isinstance(table, xr.Dataset):
        raise TableError(f"{where}: expected an IO table (xarray.Dataset with Z, Y, V, x), "
                         f"got {type(table).__name__}")
    for var in ("Z", "Y", "E", "M", "V", "x"):
        if var in table and not np.issubdtype(table[var].dtype, np.number):
            raise TableError(f"{where}: table: variable {var!r} has dtype "
                             f"{table[var].dtype}; expected numbers")
    for coord in ("in_gdp", "component"):
        if "va_item" in table.dims and coord not in table.coords:
            raise TableError(f"{where}: table: coordinate {coord!r} of the value-added items "
                             "is missing; build tables with simcore.tables constructors")
    tol = {k: float(table.attrs[f"balance_{k}"]) for k in ("atol", "rtol")
           if f"balance_{k}" in table.attrs}
    try:
        validate(table, check_balance=balance, check_productive=productive, **tol)
    except (BalanceError, NonProductiveError) as exc:
        raise type(exc)(f"{where}: {exc}{hint}") from None
    except TableError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _cell_name(table: xr.Dataset, var: str, idx: np.ndarray, labels: list[str]) -> str:
    if var == "x":
        return f"sector {labels[int(idx[-1])]!r}"
    if var == "V":
        return f"({table.va_item.values[idx[0]]!r}, {labels[idx[1]]!r})"
    if var == "Z":
        return f"({labels[idx[0]]!r}, {labels[idx[1]]!r})"
    return f"sector {labels[idx[0]]!r}, column {int(idx[1])}"


# --------------------------------------------------------------------------------------
# Aggregates and coefficients
# --------------------------------------------------------------------------------------
def _A(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        A = Z / x[None, :]
    A[:, x == 0] = 0.0
    return A


def gross_output(table: xr.Dataset) -> xr.DataArray:
    """Gross output ``x``."""
    return table.x


def final_demand_total(table: xr.Dataset) -> np.ndarray:
    """Total final demand per industry: domestic final demand plus exports minus imports."""
    f = flat(table)
    return f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1)


def value_added_gdp(table: xr.Dataset) -> xr.DataArray:
    """GDP-like value added per sector: VA rows with ``in_gdp`` (see :data:`GDP_EXCLUDED_VA_ITEMS`)."""
    v = table.V.where(table.in_gdp, 0.0).sum("va_item")
    v.attrs.update(units=table.attrs.get("unit", ""), long_name="GDP-like value added")
    return v.rename("v")


def gdp(table: xr.Dataset) -> float:
    """GDP-like value added of the table (sum of :func:`value_added_gdp`), in table units."""
    return float(value_added_gdp(table).sum())


def technical_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Technical coefficients ``A = Z x^-1`` (column-normalised; 0 for zero-output buyers)."""
    f = flat(table)
    return _wrap_matrix(table, _A(f["Z"], f["x"]), "A", long_name="technical coefficients")


def allocation_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Ghosh allocation coefficients ``B = x^-1 Z`` (row-normalised)."""
    f = flat(table)
    return _wrap_matrix(table, _A(f["Z"].T, f["x"]).T, "B", long_name="allocation coefficients")


def leontief_inverse(table: xr.Dataset) -> xr.DataArray:
    """Leontief inverse ``L = (I - A)^-1``, by LU solve (formed only when asked for)."""
    import scipy.linalg as sla

    f = flat(table)
    A = _A(f["Z"], f["x"])
    L = sla.solve(np.eye(A.shape[0]) - A, np.eye(A.shape[0]), check_finite=False)
    return _wrap_matrix(table, L, "L", long_name="Leontief inverse")


def ghosh_inverse(table: xr.Dataset) -> xr.DataArray:
    """Ghosh inverse ``G = (I - B)^-1``, by LU solve."""
    import scipy.linalg as sla

    f = flat(table)
    B = _A(f["Z"].T, f["x"]).T
    G = sla.solve(np.eye(B.shape[0]) - B, np.eye(B.shape[0]), check_finite=False)
    return _wrap_matrix(table, G, "G", long_name="Ghosh inverse")


def value_added_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Value-added coefficients by item, ``V x^-1`` (0 for zero-output sectors)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (table.V / table.x).where(table.x != 0, 0.0)
    c.attrs.update(long_name="value-added coefficients", units="1")
    return c.rename("c")


def gdp_coefficients(table: xr.Dataset) -> np.ndarray:
    """GDP-like value added per unit of output on the flat industry axis."""
    f = flat(table)
    ing = table.in_gdp.values
    v = f["V"][ing].sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(f["x"] != 0, v / f["x"], 0.0)
    return c


def import_shares(table: xr.Dataset) -> xr.DataArray:
    """Import share of domestic use per product, ``mu_i = m_i / (sum_j z_ij + f^d_i)``.

    The import-proportionality assumption (docs/methodology.md, "Conventions"): every user of
    product ``i``
    imports the same share ``mu_i`` of its purchases.  Re-exports are assumed zero.  The
    share is clipped to [0, 1]; products with no domestic use get 0.
    """
    f = flat(table)
    use = f["Z"].sum(1) + f["Y"].sum(1)
    m = f["M"].sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(use > 0, m / use, 0.0)
    return _wrap_vector(table, np.clip(mu, 0.0, 1.0), "mu",
                        long_name="import share of domestic use", units="1")


def import_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Import coefficients ``A^m = diag(mu) A`` under import proportionality."""
    f = flat(table)
    A = _A(f["Z"], f["x"])
    mu = import_shares(table).values.reshape(-1)
    return _wrap_matrix(table, mu[:, None] * A, "A_m", long_name="import coefficients")


def import_split(table: xr.Dataset) -> dict[str, np.ndarray]:
    """Domestic and imported parts of intermediate and final use, under import proportionality.

    Every user of product ``i`` imports the same share ``mu_i`` of its purchases
    (:func:`import_shares`), so ``A = A^d + A^m`` with ``A^m = diag(mu) A`` and
    ``A^d = diag(1 - mu) A``, the matrices behind ``domestic=True`` in :mod:`simcore.static`.

    Parameters
    ----------
    table : xarray.Dataset

    Returns
    -------
    dict of numpy.ndarray
        On the flat industry axis (region-major for MRIO tables): ``"A_d"`` and ``"A_m"``
        (``(p, p)``, domestic and import coefficients), ``"f_m"`` (``(p,)``, imports of each
        product delivered to domestic final demand, ``mu * Y 1``, in table units) and ``"mu"``
        (``(p,)``, the import shares).

    Examples
    --------
    >>> import numpy as np, simcore as sc
    >>> t = sc.datasets.load("japan-2015-37")
    >>> s = sc.tables.import_split(t)
    >>> bool(np.allclose(s["A_d"] + s["A_m"], sc.tables.technical_coefficients(t).values))
    True
    """
    f = flat(table)
    A = _A(f["Z"], f["x"])
    mu = import_shares(table).values.reshape(-1)
    return {
        "A_d": (1.0 - mu)[:, None] * A,
        "A_m": mu[:, None] * A,
        "f_m": mu * f["Y"].sum(1),
        "mu": mu,
    }


# --------------------------------------------------------------------------------------
# History helpers (used by transform and datasets)
# --------------------------------------------------------------------------------------
def history(table: xr.Dataset) -> list[dict[str, Any]]:
    """The list of transformations recorded in ``attrs['history']``."""
    return json.loads(table.attrs.get("history", "[]"))


def with_history(table: xr.Dataset, entry: Mapping[str, Any]) -> xr.Dataset:
    """A shallow copy of ``table`` with ``entry`` appended to its history."""
    out = table.copy()
    out.attrs = dict(table.attrs)
    out.attrs["history"] = json.dumps(history(table) + [dict(entry)], ensure_ascii=False)
    return out
