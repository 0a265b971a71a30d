"""Static input-output models: Leontief, Ghosh, multipliers, linkages, extraction, IIM,
the mixed model and supply-constrained solutions for an import cut.

Every function takes a table (see :mod:`simcore.tables`) and labelled inputs, and returns a
labelled :class:`xarray.DataArray` or :class:`xarray.Dataset` whose variables carry
``long_name`` and ``units``.  Inside, everything runs on the flat industry axis of
:func:`simcore.tables.flat` (region-major for multi-regional tables) and linear systems are
solved from an LU factorisation of ``I - A``; the Leontief inverse is never formed.

Shocks and ratios are given per industry as

* a :class:`xarray.DataArray` over ``sector`` (or ``region`` and ``sector``), possibly with
  extra dims (one solve per column) where the function says so; sectors it omits count as 0
  (shocks) or 1 (ratios);
* a mapping ``{sector: value}`` (for multi-regional tables the keys are ``(region, sector)``
  tuples or ``"REGION/SECTOR"`` strings), or a :class:`pandas.Series` indexed likewise;
* an array with one value per industry, in the order of the table;
* for ratios only, a scalar applied to every industry.

An unknown label raises :class:`~simcore.errors.LabelError` naming it; a wrong length, a
non-finite value or a ratio outside [0, 1] raises :class:`~simcore.errors.ShockError`.

Notation follows Miller & Blair (2009) and docs/methodology.md, "Static models": ``A = Z x^-1``,
``B = x^-1 Z``, ``L = (I - A)^-1``, ``G = (I - B)^-1``, ``c`` the GDP-like value added per
unit of output (:func:`simcore.tables.gdp_coefficients`) and ``mu`` the import share of
domestic use (:func:`simcore.tables.import_shares`).  Functions with ``domestic=True`` use
the domestic coefficients ``A^d = (I - mu^) A`` of a competitive-import table split by import
proportionality (docs/methodology.md, "Conventions"); the import coefficients are ``A^m = mu^ A``. 
For a
table without imports the two coincide.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla
import xarray as xr

from .errors import KernelError, LabelError, NonProductiveError, ParameterError, ShockError
from .tables import _A as _tables_A
from .tables import checks_table as _checks_table
from .tables import (
    _wrap_matrix,
    _wrap_vector,
    flat,
    gdp,
    gdp_coefficients,
    import_shares,
    industry_labels,
    is_multiregional,
)

__all__ = [
    "leontief",
    "ghosh",
    "leontief_price",
    "output_multipliers",
    "value_added_multipliers",
    "import_multipliers",
    "import_exposure",
    "backward_linkages",
    "forward_linkages",
    "hypothetical_extraction",
    "iim_interdependency",
    "iim_demand",
    "iim_supply",
    "mixed_model",
    "weakest_link",
    "weakest_link_mixed",
    "lp_best_case",
    "value_added_loss",
    "gdp_loss_share",
]


# --------------------------------------------------------------------------------------
# Lowering labelled inputs to flat arrays, and lifting results back
# --------------------------------------------------------------------------------------
def _industry_dims(table: xr.Dataset) -> tuple[str, ...]:
    return ("region", "sector") if is_multiregional(table) else ("sector",)


def _industry_index(table: xr.Dataset) -> dict[Any, int]:
    """Every accepted spelling of an industry label -> its position on the flat axis."""
    labels = industry_labels(table)
    index: dict[Any, int] = {lab: i for i, lab in enumerate(labels)}
    if is_multiregional(table):
        n = table.sizes["sector"]
        for i in range(len(labels)):
            r, s = table.region.values[i // n], table.sector.values[i % n]
            index[(str(r), str(s))] = i
    return index


def _position(table: xr.Dataset, key: Any, what: str, index: dict[Any, int] | None = None) -> int:
    index = _industry_index(table) if index is None else index
    k = tuple(str(v) for v in key) if isinstance(key, tuple) else str(key)
    if k not in index:
        labels = industry_labels(table)
        hint = ", ".join(repr(s) for s in labels[:5]) + (", ..." if len(labels) > 5 else "")
        raise LabelError(f"{what}: unknown sector {key!r}; the table's sectors are {hint}")
    return index[k]


@dataclass(frozen=True)
class _Batch:
    """A lowered input: ``values`` (p, k) plus what is needed to label a result like it."""

    values: np.ndarray
    dims: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    coords: Mapping[str, Any] | None = None


def _lower(
    table: xr.Dataset,
    value: Any,
    what: str,
    *,
    fill: float = 0.0,
    batch: bool = False,
    allow_nan: bool = False,
) -> _Batch:
    """Turn a mapping, Series, DataArray or array into values on the flat industry axis.

    Labels the input omits get ``fill``.  With ``batch=True`` a DataArray may carry extra
    dims, which become the columns of ``values``; otherwise ``values`` has one column.
    """
    p = int(np.prod([table.sizes[d] for d in _industry_dims(table)]))
    if isinstance(value, pd.Series):
        value = dict(value.items())
    if isinstance(value, Mapping):
        out = np.full(p, fill, dtype=np.float64)
        index = _industry_index(table)
        for key, v in value.items():
            out[_position(table, key, what, index)] = _float(v, what, key)
        b = _Batch(out[:, None])
    elif isinstance(value, xr.DataArray):
        b = _lower_dataarray(table, value, what, fill=fill, batch=batch)
    elif value is None or isinstance(value, (str, bytes)):
        raise ShockError(f"{what}: expected a mapping, DataArray or array of values, got "
                         f"{type(value).__name__}")
    else:
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 2 and is_multiregional(table) and arr.shape == (
                table.sizes["region"], table.sizes["sector"]):
            arr = arr.reshape(-1)
        if arr.shape != (p,):
            raise ShockError(f"{what}: expected {p} values (one per industry), got an array "
                             f"of shape {arr.shape}")
        b = _Batch(arr.copy()[:, None])
    bad = ~np.isfinite(b.values) & ~(allow_nan & np.isnan(b.values))
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise ShockError(f"{what}: non-finite value for sector {industry_labels(table)[i]!r}")
    return b


def _float(v: Any, what: str, key: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError) as exc:
        raise ShockError(f"{what}: value for sector {key!r} is not a number ({v!r})") from exc


def _lower_dataarray(table: xr.Dataset, da: xr.DataArray, what: str, *, fill: float,
                     batch: bool) -> _Batch:
    ind = _industry_dims(table)
    missing = [d for d in ind if d not in da.dims]
    if missing:
        raise ShockError(f"{what}: DataArray has dims {da.dims}; expected the dims {ind}")
    extra = tuple(d for d in da.dims if d not in ind)
    if extra and not batch:
        raise ShockError(f"{what}: unexpected dims {extra}; expected only {ind}")
    for d in ind:
        known = set(map(str, table[d].values))
        for lab in da[d].values:
            if str(lab) not in known:
                noun = "region" if d == "region" else "sector"
                raise LabelError(f"{what}: unknown {noun} {lab!r}")
    drop = [c for c in da.coords if c not in da.dims]
    da = da.drop_vars(drop).astype(np.float64)
    da = da.assign_coords({d: [str(v) for v in da[d].values] for d in ind})
    da = da.reindex({d: [str(v) for v in table[d].values] for d in ind}, fill_value=fill)
    da = da.transpose(*ind, *extra)
    shape = tuple(da.sizes[d] for d in extra)
    values = da.values.reshape(-1, int(np.prod(shape)) if extra else 1)
    coords = {d: da[d].values for d in extra if d in da.coords}
    return _Batch(np.array(values, dtype=np.float64), extra, shape, coords)


def _lift(table: xr.Dataset, b: _Batch, out: np.ndarray, name: str, **attrs: Any) -> xr.DataArray:
    """Label a (p, k) result like the input ``b`` was labelled."""
    if not b.dims:
        return _wrap_vector(table, np.ascontiguousarray(out[:, 0]), name, **attrs)
    ind = _industry_dims(table)
    ind_shape = tuple(table.sizes[d] for d in ind)
    coords: dict[str, Any] = {d: table[d].values for d in ind}
    coords.update(b.coords or {})
    return xr.DataArray(out.reshape(ind_shape + b.shape), dims=ind + b.dims, coords=coords,
                        name=name, attrs=attrs)


def _ratio(table: xr.Dataset, value: Any, what: str) -> np.ndarray:
    """A ratio per industry in [0, 1]; ``None`` means 1 everywhere, a scalar applies to all."""
    p = len(industry_labels(table))
    if value is None:
        return np.ones(p)
    if np.ndim(value) == 0 and not isinstance(value, (Mapping, xr.DataArray)):
        r = np.full(p, _float(value, what, "(all)"))
    else:
        r = _lower(table, value, what, fill=1.0).values[:, 0]
    bad = ~((r >= 0.0) & (r <= 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ShockError(f"{what}: ratio for sector {industry_labels(table)[i]!r} is {r[i]:.6g}; "
                         "expected a value in [0, 1]")
    return r


def _units(table: xr.Dataset) -> str:
    return str(table.attrs.get("unit", ""))


# --------------------------------------------------------------------------------------
# Coefficients and factorisations on the flat axis
# --------------------------------------------------------------------------------------
#: ``Z x^-1`` column-normalised, with 0 for zero-output buyers (docs/methodology.md, "Conventions":
#: 0/0 := 0): the same
#: helper as the table module's, so both compute coefficients identically.
_coefficients = _tables_A


def _mu(table: xr.Dataset) -> np.ndarray:
    return import_shares(table).values.reshape(-1)


def _technical(table: xr.Dataset,
               domestic: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Flat arrays and ``A`` (or ``A^d = (I - mu^) A`` when ``domestic``)."""
    f = flat(table)
    A = _coefficients(f["Z"], f["x"])
    if domestic:
        A = (1.0 - _mu(table))[:, None] * A
    return f, A


def _factor(M: np.ndarray, what: str = "I - A") -> tuple[np.ndarray, np.ndarray]:
    """LU factors of ``M``; a singular ``M`` raises :class:`NonProductiveError`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sla.LinAlgWarning)
        lu = sla.lu_factor(M, check_finite=False)
    d = np.abs(np.diag(lu[0]))
    if d.size and (not np.all(np.isfinite(d)) or d.min() <= 1e-14 * max(d.max(), 1.0)):
        raise NonProductiveError(f"{what} is singular; the coefficient matrix is not productive")
    return lu


def _solve(A: np.ndarray, b: np.ndarray, *, transpose: bool = False) -> np.ndarray:
    """Solve ``(I - A) x = b`` (or ``(I - A)' x = b``) by LU factorisation."""
    lu = _factor(np.eye(A.shape[0]) - A)
    return sla.lu_solve(lu, b, trans=1 if transpose else 0, check_finite=False)


def _final_demand_total(f: Mapping[str, np.ndarray]) -> np.ndarray:
    return f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1)


# --------------------------------------------------------------------------------------
# Leontief, Ghosh and the price dual
# --------------------------------------------------------------------------------------
@_checks_table(balance=False, productive=False)
def leontief(table: xr.Dataset, dy: Any, *, domestic: bool = False) -> xr.DataArray:
    """Change in gross output caused by a change in final demand, ``dx = L dy``.

    The demand-driven Leontief quantity model (Miller & Blair 2009, ch. 2): the balance
    ``x = A x + f`` gives ``x = (I - A)^-1 f`` and ``dx = L dy``.  ``L`` is not formed: the
    system ``(I - A) dx = dy`` is solved from an LU factorisation.

    Parameters
    ----------
    table : xarray.Dataset
        An IO table.
    dy : mapping, DataArray or array_like
        Change in final demand per industry, in table units; sectors not given are 0.  A
        DataArray may carry extra dims (scenarios), solved together.
    domestic : bool, default False
        Use the domestic coefficients ``A^d = (I - mu^) A`` (MIC's ``[I - (I - M^) A]^-1``
        model for competitive-import tables): intermediate demand leaks abroad in
        proportion to each product's import share, and ``dy`` is the change in final demand
        *for domestic output*.  With ``False`` imports are exogenous: every extra unit of
        intermediate demand is met by domestic production.

    Returns
    -------
    xarray.DataArray
        ``dx`` over the table's industries (and the extra dims of ``dy``), table units.

    Raises
    ------
    LabelError
        ``dy`` names a sector that is not in the table.
    ShockError
        ``dy`` has the wrong length or a non-finite value.

    Examples
    --------
    Miller & Blair (2009), section 2.3: a new final demand ``f = (600, 1500)``.

    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> x = sc.static.leontief(t, {"1": 600, "2": 1500})
    >>> x.round(2).values
    array([1247.52, 1841.58])
    >>> sc.static.leontief(t, {"1": 100}).round(3).values
    array([125.413,  26.403])
    """
    f, A = _technical(table, domestic)
    b = _lower(table, dy, "dy", batch=True)
    dx = _solve(A, b.values)
    return _lift(table, b, dx, "dx", long_name="change in gross output (Leontief)",
                 units=_units(table))


@_checks_table(balance=False, productive=False)
def ghosh(table: xr.Dataset, dv: Any) -> xr.DataArray:
    """Change in gross output caused by a change in primary inputs, ``dx' = dv' G``.

    The supply-driven Ghosh model: ``x' = x' B + v'`` with ``B = x^-1 Z`` gives
    ``x' = v' (I - B)^-1``.  Solved from an LU factorisation of ``(I - B)'``.

    .. warning::
       The Ghosh model is **not a bottleneck model**.  Fixed allocation coefficients make
       a sector's output follow *any one* of its inputs alone, as if all inputs were perfect
       substitutes (Oosterhaven 1988, *J. Regional Science* 28(2):203-217).  As a quantity
       model of a shortage it gives a lower bound on losses at best.  Read its results as
       *value* changes at fixed quantities, i.e. cost-push price changes (Dietzenbacher
       1997, *J. Regional Science* 37(4):629-651): ``ghosh(t, dv) / x`` equals
       ``leontief_price(t, dv / x)``.  For an import cut use :func:`weakest_link` and
       :func:`lp_best_case`.

    Parameters
    ----------
    table : xarray.Dataset
    dv : mapping, DataArray or array_like
        Change in primary inputs (value added, all items) per industry, table units; may
        carry extra dims.

    Returns
    -------
    xarray.DataArray
        ``dx``, table units.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.ghosh(t, {"1": -100}).round(3).values
    array([-125.413,  -66.007])
    """
    f = flat(table)
    B = _coefficients(f["Z"].T, f["x"]).T
    b = _lower(table, dv, "dv", batch=True)
    dx = _solve(B, b.values, transpose=True)
    return _lift(table, b, dx, "dx", long_name="change in gross output (Ghosh, supply-driven)",
                 units=_units(table))


@_checks_table(balance=False, productive=False)
def leontief_price(
    table: xr.Dataset,
    dc: Any = None,
    *,
    import_price: Any = None,
    domestic: bool = False,
) -> xr.DataArray:
    """Relative price changes from cost-push shocks, the Leontief price model ``p' = c' L``.

    The price dual of the quantity model (Miller & Blair 2009, section 2.6): unit prices
    satisfy ``p' = p' A + c'`` with baseline ``p = 1``, so a change in primary cost per unit
    of output ``dc`` gives ``dp' = dc' L``.  With ``domestic=True`` the imported share of
    every input is priced separately, ``p' = p' A^d + pi' A^m + c'``, and a relative change
    in import prices ``dpi`` passes through as ``dp' = (dc' + dpi' A^m) (I - A^d)^-1``
    (docs/methodology.md, "Leontief price model"; Miller & Blair 2009, ch. 2).

    Parameters
    ----------
    table : xarray.Dataset
    dc : mapping, DataArray or array_like, optional
        Change in primary-input cost per unit of output, by industry (a fraction of the
        baseline price); 0 if omitted.  May carry extra dims.
    import_price : mapping, DataArray or array_like, optional
        Relative change in the price of each imported product (0.1 = 10 % dearer).
        Needs ``domestic=True``: in the competitive model imports are priced like domestic
        goods and cannot have a price of their own.
    domestic : bool, default False
        Use the domestic/imported split of docs/methodology.md, "Conventions".

    Returns
    -------
    xarray.DataArray
        ``dp``, the relative change in each industry's output price (units "1").

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.leontief_price(t, {"1": 0.1}).round(4).values
    array([0.1254, 0.033 ])
    """
    if import_price is not None and not domestic:
        raise ParameterError("import_price: the competitive-import model prices imports like "
                             "domestic goods; pass domestic=True to give imports a price")
    f, A = _technical(table, domestic)
    p = A.shape[0]
    b = _lower(table, dc, "dc", batch=True) if dc is not None else _Batch(np.zeros((p, 1)))
    rhs = b.values
    if import_price is not None:
        Am = _mu(table)[:, None] * _coefficients(f["Z"], f["x"])
        dpi = _lower(table, import_price, "import_price").values
        rhs = rhs + Am.T @ dpi
    dp = _solve(A, rhs, transpose=True)
    return _lift(table, b, dp, "dp", long_name="relative change in output price (Leontief)",
                 units="1")


# --------------------------------------------------------------------------------------
# Multipliers and linkages
# --------------------------------------------------------------------------------------
@_checks_table(balance=False, productive=False)
def output_multipliers(table: xr.Dataset, *, domestic: bool = False) -> xr.DataArray:
    """Simple output multipliers ``m' = 1' L``: total output per unit of final demand.

    Parameters
    ----------
    table : xarray.Dataset
    domestic : bool, default False
        Use ``A^d`` (imports leak out of the round-by-round effects); see :func:`leontief`.

    Returns
    -------
    xarray.DataArray
        One multiplier per industry (the buyer of final demand), units "1".

    Examples
    --------
    Miller & Blair (2009), section 2.6: (1.518, 1.452).

    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.output_multipliers(t).round(3).values
    array([1.518, 1.452])
    """
    _, A = _technical(table, domestic)
    m = _solve(A, np.ones(A.shape[0]), transpose=True)
    return _wrap_vector(table, m, "output_multiplier", long_name="output multiplier",
                        units="1")


@_checks_table(balance=False, productive=False)
def value_added_multipliers(table: xr.Dataset, *, domestic: bool = False) -> xr.DataArray:
    """Value-added multipliers ``c' L``: GDP-like value added per unit of final demand.

    ``c`` is GDP-like value added per unit of output (:func:`simcore.tables.gdp_coefficients`;
    items such as Japan's ``ohcr`` row are excluded).  With ``domestic=True`` and every value
    added item counted, value added and imports per unit of final demand add up to one:
    ``c_all' L^d + a^m' L^d = 1'`` (see :func:`import_multipliers`).

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.value_added_multipliers(t).round(6).values
    array([1., 1.])
    """
    _, A = _technical(table, domestic)
    m = _solve(A, gdp_coefficients(table), transpose=True)
    return _wrap_vector(table, m, "value_added_multiplier",
                        long_name="GDP-like value added per unit of final demand", units="1")


def _import_coefficient_matrix(table: xr.Dataset) -> np.ndarray:
    f = flat(table)
    return _mu(table)[:, None] * _coefficients(f["Z"], f["x"])


@_checks_table(balance=False, productive=False)
def import_multipliers(table: xr.Dataset, *, domestic: bool = False) -> xr.DataArray:
    """Total (direct and indirect) intermediate imports per unit of final demand, ``a^m' L``.

    Under import proportionality (docs/methodology.md, "Conventions") buyer ``j`` imports
    ``a^m_j = sum_i mu_i A_ij`` per unit of its output, where ``mu_i`` is the import share of
    domestic use of product ``i`` (:func:`simcore.tables.import_shares`).  The multiplier
    is ``a^m' L`` (``a^m' L^d`` with ``domestic=True``).  Imports delivered directly to final
    demand are not included.

    ``domestic=True`` is the consistent choice for a competitive-import table: it counts the
    imports of a production chain whose imported share does not also appear as domestic
    output, and then value added plus imports per unit of final demand add up to one
    (``c_all' L^d + a^m' L^d = 1'``).  With ``domestic=False`` the chain ``L`` assumes every
    intermediate input is produced at home, so the two overlap.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("japan-2015-37")
    >>> m = sc.static.import_multipliers(t, domestic=True)
    >>> bool(((m >= 0) & (m < 1)).all())
    True
    """
    _, A = _technical(table, domestic)
    am = _import_coefficient_matrix(table).sum(0)
    m = _solve(A, am, transpose=True)
    return _wrap_vector(table, m, "import_multiplier",
                        long_name="intermediate imports per unit of final demand", units="1")


@_checks_table(balance=False, productive=False)
def import_exposure(table: xr.Dataset, *, domestic: bool = False) -> xr.DataArray:
    """Imports of each product embodied in a unit of each industry's final demand, ``A^m L``.

    Entry ``(p, j)`` is the total (direct and indirect) import of product ``p`` needed to
    deliver one unit of ``j`` to final demand: "how much imported rare earth is embodied in
    a car" (docs/methodology.md, "Hypothetical extraction"; Miller & Lahr 2001).  A linear
    *exposure* screen, not a bottleneck model.
    Column sums are :func:`import_multipliers`.

    Returns
    -------
    xarray.DataArray
        Dims ``(sector, sector_to)``: imported product x final-demand industry; units "1".
    """
    _, A = _technical(table, domestic)
    Am = _import_coefficient_matrix(table)
    # X = A^m L  <=>  (I - A)' X' = A^m'
    X = _solve(A, Am.T, transpose=True).T
    return _wrap_matrix(table, X, "import_exposure", units="1",
                        long_name="imports embodied per unit of final demand")


@_checks_table(balance=False, productive=False)
def backward_linkages(table: xr.Dataset, *, normalized: bool = True) -> xr.DataArray:
    """Rasmussen backward linkages from the column sums of ``L``.

    The index of industry ``j`` is ``p * (1'L)_j / (1'L 1)``: its output multiplier relative
    to the average (Rasmussen 1956; Miller & Blair 2009, ch. 12).  Above 1 means stronger
    than average pull on suppliers.  ``normalized=False`` gives the column sums themselves.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.backward_linkages(t).round(4).values
    array([1.0222, 0.9778])
    """
    m = output_multipliers.__wrapped__(table).values.reshape(-1)  # table checked above
    out = m * m.size / m.sum() if normalized else m
    return _wrap_vector(table, out, "backward_linkage", units="1",
                        long_name="backward linkage" + (" (normalised)" if normalized else ""))


@_checks_table(balance=False, productive=False)
def forward_linkages(table: xr.Dataset, *, normalized: bool = True) -> xr.DataArray:
    """Forward linkages from the row sums of the Ghosh inverse ``G``.

    The index of industry ``i`` is ``p * (G 1)_i / (1'G 1)`` (Miller & Blair 2009, ch. 12,
    recommend ``G`` rather than ``L`` for forward linkages).  ``normalized=False`` gives the
    row sums.  The Ghosh caveat of :func:`ghosh` applies: this measures exposure, not
    bottlenecks.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.forward_linkages(t, normalized=False).round(4).values
    array([1.9142, 1.2541])
    """
    f = flat(table)
    B = _coefficients(f["Z"].T, f["x"]).T
    g = _solve(B, np.ones(B.shape[0]))
    out = g * g.size / g.sum() if normalized else g
    return _wrap_vector(table, out, "forward_linkage", units="1",
                        long_name="forward linkage" + (" (normalised)" if normalized else ""))


# --------------------------------------------------------------------------------------
# Hypothetical extraction
# --------------------------------------------------------------------------------------
@_checks_table(balance=False, productive=False)
def hypothetical_extraction(
    table: xr.Dataset,
    sector: Any,
    kind: Literal["full", "backward", "forward"] = "full",
) -> xr.Dataset:
    """Output lost when an industry is hypothetically extracted (docs/methodology.md, "Hypothetical
    extraction"; Miller & Lahr 2001).

    * ``"full"``: zero row and column ``k`` of ``A`` and final demand ``f_k``, then
      ``x_bar = (I - A_bar)^-1 f_bar`` (Dietzenbacher, van der Linden & Steenge 1993).
    * ``"backward"``: zero column ``k`` of ``A`` (``k`` buys nothing from the others);
      ``x_bar = (I - A_bar)^-1 f``.
    * ``"forward"``: zero row ``k`` of ``B`` (``k`` sells nothing to the others);
      ``x_bar' = v' (I - B_bar)^-1`` with ``v`` all primary inputs.  The Ghosh caveat applies
      (see :func:`ghosh`).

    The total linkage is ``T_k = 1'x - 1'x_bar``.

    Parameters
    ----------
    table : xarray.Dataset
    sector : label or sequence of labels
        The industry to extract, or several extracted together.  For multi-regional tables
        a ``(region, sector)`` tuple or ``"REGION/SECTOR"`` string.
    kind : {"full", "backward", "forward"}

    Returns
    -------
    xarray.Dataset
        ``x`` (output after extraction), ``dx`` (``x_bar - x``), ``total_linkage`` (``T_k``,
        table units) and ``total_linkage_share`` (``T_k / 1'x``).

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> r = sc.static.hypothetical_extraction(t, "1")
    >>> r.x.round(2).values
    array([   0.  , 1789.47])
    >>> round(float(r.total_linkage), 2)
    1210.53
    """
    if kind not in ("full", "backward", "forward"):
        raise ParameterError(f"kind: expected 'full', 'backward' or 'forward', got {kind!r}")
    keys = [sector] if isinstance(sector, (str, tuple)) or np.ndim(sector) == 0 else list(sector)
    index = _industry_index(table)
    k = np.array([_position(table, s, "sector", index) for s in keys], dtype=int)
    f = flat(table)
    x0 = f["x"]
    if kind == "forward":
        B = _coefficients(f["Z"].T, x0).T
        B[k, :] = 0.0
        v = x0 - f["Z"].sum(0)
        xbar = _solve(B, v, transpose=True)
    else:
        A = _coefficients(f["Z"], x0)
        A[:, k] = 0.0
        fd = _final_demand_total(f)
        if kind == "full":
            A[k, :] = 0.0
            fd[k] = 0.0
        xbar = _solve(A, fd)
    unit = _units(table)
    T = float(x0.sum() - xbar.sum())
    labels = [industry_labels(table)[i] for i in k]
    return xr.Dataset(
        {
            "x": _wrap_vector(table, xbar, "x", units=unit,
                              long_name=f"gross output after {kind} extraction"),
            "dx": _wrap_vector(table, xbar - x0, "dx", units=unit,
                               long_name=f"change in gross output from {kind} extraction"),
            "total_linkage": xr.DataArray(T, attrs={"units": unit,
                                                    "long_name": "total linkage 1'x - 1'x_bar"}),
            "total_linkage_share": xr.DataArray(
                T / float(x0.sum()), attrs={"units": "1",
                                            "long_name": "total linkage / total gross output"}),
        },
        attrs={"model": "hypothetical extraction", "kind": kind,
               "extracted": ", ".join(labels), "unit": unit},
    )


# --------------------------------------------------------------------------------------
# Inoperability input-output model
# --------------------------------------------------------------------------------------
@_checks_table(balance=False, productive=False)
def iim_interdependency(table: xr.Dataset) -> xr.DataArray:
    """The IIM interdependency matrix ``A* = x^-1 A x``.

    It equals the Ghosh allocation matrix ``B = x^-1 Z`` (docs/methodology.md, "Ghosh model and its
    price reading"; Dietzenbacher 1997), so the
    demand-side IIM is a rescaled Leontief model.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.iim_interdependency(t).values
    array([[0.15, 0.5 ],
           [0.1 , 0.05]])
    """
    return _wrap_matrix(table, _iim_matrix(flat(table)), "A_star", units="1",
                        long_name="IIM interdependency matrix x^-1 A x")


def _iim_matrix(f: Mapping[str, np.ndarray]) -> np.ndarray:
    x = f["x"]
    A = _coefficients(f["Z"], x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x[:, None] != 0, A * x[None, :] / x[:, None], 0.0)


def _relative(table: xr.Dataset, b: _Batch, relative: bool, what: str) -> np.ndarray:
    if relative:
        return b.values
    x = flat(table)["x"]
    bad = (x == 0) & np.any(b.values != 0, axis=1)
    if bad.any():
        lab = industry_labels(table)[int(np.argmax(bad))]
        raise ShockError(f"{what}: sector {lab!r} has zero output; its perturbation must be 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x[:, None] != 0, b.values / x[:, None], 0.0)


@_checks_table(balance=False, productive=False)
def iim_demand(table: xr.Dataset, dc: Any, *, relative: bool = False) -> xr.DataArray:
    """Inoperability from a final-demand reduction, the demand-side IIM.

    Santos & Haimes (2004), *Risk Analysis* 24(6):1437-1451; Haimes & Jiang (2001).
    Inoperability is the relative output loss ``q = x^-1 (x0 - x)``; the demand
    perturbation ``c* = x^-1 (f0 - f)`` gives ``q = (I - A*)^-1 c*`` with ``A* = x^-1 A x``
    (:func:`iim_interdependency`).  Hence ``q = -x^-1 L df``.

    Parameters
    ----------
    table : xarray.Dataset
    dc : mapping, DataArray or array_like
        The *reduction* of final demand ``f0 - f`` by industry, table units (positive values
        reduce demand); may carry extra dims.
    relative : bool, default False
        ``dc`` is already ``c*``, the reduction as a fraction of gross output.

    Returns
    -------
    xarray.DataArray
        ``q``, the inoperability (fraction of output lost) of each industry, units "1".

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.iim_demand(t, {"1": 100}).round(5).values
    array([0.12541, 0.0132 ])
    """
    b = _lower(table, dc, "dc", batch=True)
    cstar = _relative(table, b, relative, "dc")
    q = _solve(_iim_matrix(flat(table)), cstar)
    return _lift(table, b, q, "q", units="1",
                 long_name="inoperability (fraction of output lost), demand-side IIM")


@_checks_table(balance=False, productive=False)
def iim_supply(table: xr.Dataset, delta: Any, *, relative: bool = False) -> xr.DataArray:
    """Inoperability from a reduction of primary inputs, the supply-side IIM.

    Leung, Haimes & Santos (2007), *J. Infrastructure Systems* 13(4):299-310.  Built on
    Ghosh: a primary-input perturbation ``delta = x^-1 (v0 - v)`` gives ``q' = delta' L``
    (because ``x (I - B)^-1 x^-1 = L``; docs/methodology.md, "Ghosh model and its price reading";
    Dietzenbacher 1997).  It inherits Ghosh's
    perfect-substitution reading: see the warning in :func:`ghosh`.

    Parameters
    ----------
    table : xarray.Dataset
    delta : mapping, DataArray or array_like
        The *reduction* of primary inputs ``v0 - v`` by industry, table units; may carry
        extra dims.
    relative : bool, default False
        ``delta`` is already normalised by gross output.

    Returns
    -------
    xarray.DataArray
        ``q``, units "1".

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.iim_supply(t, {"1": 100}).round(5).values
    array([0.12541, 0.033  ])
    """
    b = _lower(table, delta, "delta", batch=True)
    d = _relative(table, b, relative, "delta")
    _, A = _technical(table)
    q = _solve(A, d, transpose=True)
    return _lift(table, b, q, "q", units="1",
                 long_name="inoperability (fraction of output lost), supply-side IIM")


# --------------------------------------------------------------------------------------
# Mixed exogenous/endogenous model
# --------------------------------------------------------------------------------------
def _mixed(A: np.ndarray, f0: np.ndarray, fixed: np.ndarray,
           xbar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat mixed model: output ``x`` (``xbar`` on ``fixed``) and final demand ``f``."""
    N, E = ~fixed, fixed
    x = np.where(E, xbar, 0.0)
    if N.any():
        rhs = f0[N] + A[np.ix_(N, E)] @ xbar[E]
        x[N] = _solve(A[np.ix_(N, N)], rhs)
    f = f0.copy()
    f[E] = x[E] - A[E] @ x
    return x, f


@_checks_table(balance=False, productive=False)
def mixed_model(table: xr.Dataset, fixed_output: Any, *, domestic: bool = False) -> xr.Dataset:
    """The mixed exogenous/endogenous model (Miller & Blair 2009, ch. 13; docs/methodology.md,
    "Mixed exogenous/endogenous model").

    Industries in ``E`` have their output fixed at ``x_bar_E``; the others (``N``) keep their
    baseline final demand ``f_N``.  Then

    ``x_N = (I - A_NN)^-1 (f_N + A_NE x_bar_E)``  and  ``f_E = (I - A_EE) x_bar_E - A_EN x_N``.

    Only the *backward* effect is captured: ``N`` loses the sales it made to ``E``.  Users
    of ``E``'s output keep their full inputs and ``f_E`` absorbs the shortfall, so it can go
    negative (infeasible) for a deep cut (Pichler & Farmer 2022).  Check ``f``.

    Parameters
    ----------
    table : xarray.Dataset
    fixed_output : mapping, DataArray or array_like
        ``x_bar_E``: output of the industries with fixed output, table units.  Industries
        not given (or NaN) are endogenous.
    domestic : bool, default False
        Use ``A^d``, with final demand for domestic output ``x0 - A^d x0`` as baseline.

    Returns
    -------
    xarray.Dataset
        ``x`` (all industries), ``f`` (final demand: baseline on ``N``, ``f_E`` on ``E``),
        ``dx`` and ``df`` (changes from baseline), and the boolean ``fixed``.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> r = sc.static.mixed_model(t, {"1": 900})
    >>> r.x.round(2).values
    array([ 900.  , 1978.95])
    >>> r.f.round(2).values
    array([ 270.26, 1700.  ])
    """
    b = _lower(table, fixed_output, "fixed_output", fill=np.nan, allow_nan=True)
    xbar = b.values[:, 0]
    fixed = ~np.isnan(xbar)
    if np.any(xbar[fixed] < 0):
        i = int(np.argmax(fixed & (np.nan_to_num(xbar) < 0)))
        raise ShockError(f"fixed_output: sector {industry_labels(table)[i]!r} has negative "
                         f"output {xbar[i]:.6g}; expected >= 0")
    f, A = _technical(table, domestic)
    x0 = f["x"]
    f0 = x0 - A @ x0
    x, fd = _mixed(A, f0, fixed, np.nan_to_num(xbar))
    unit = _units(table)
    return xr.Dataset(
        {
            "x": _wrap_vector(table, x, "x", units=unit, long_name="gross output (mixed model)"),
            "f": _wrap_vector(table, fd, "f", units=unit,
                              long_name="final demand (exogenous on N, implied on E)"),
            "dx": _wrap_vector(table, x - x0, "dx", units=unit,
                               long_name="change in gross output"),
            "df": _wrap_vector(table, fd - f0, "df", units=unit,
                               long_name="change in final demand"),
            "fixed": _wrap_vector(table, fixed, "fixed", long_name="output fixed exogenously"),
        },
        attrs={"model": "mixed exogenous/endogenous (Miller & Blair ch. 13)",
               "domestic": int(domestic), "unit": unit},
    )


# --------------------------------------------------------------------------------------
# Supply-constrained solutions for an import cut (docs/methodology.md, "S1: the weakest link")
# --------------------------------------------------------------------------------------
def _critical(table: xr.Dataset, critical: Any, Z: np.ndarray) -> np.ndarray:
    """Boolean (supplier, buyer) criticality on the flat axis, restricted to positive flows."""
    p = Z.shape[0]
    if critical is None:
        crit = np.ones((p, p), dtype=bool)
    elif isinstance(critical, xr.DataArray):
        dims = ("region", "sector", "region_to", "sector_to") if is_multiregional(table) \
            else ("sector", "sector_to")
        if set(critical.dims) != set(dims):
            raise ShockError(f"critical: DataArray has dims {critical.dims}; expected {dims}")
        for d in dims:
            known = set(map(str, table[d].values))
            for lab in critical[d].values:
                if str(lab) not in known:
                    raise LabelError(f"critical: unknown {d} {lab!r}")
        c = critical.drop_vars([c for c in critical.coords if c not in critical.dims])
        c = c.assign_coords({d: [str(v) for v in c[d].values] for d in dims})
        c = c.reindex({d: [str(v) for v in table[d].values] for d in dims}, fill_value=False)
        crit = np.asarray(c.transpose(*dims).values, dtype=bool).reshape(p, p)
    else:
        crit = np.asarray(critical)
        if crit.shape != (p, p):
            raise ShockError(f"critical: expected a ({p}, {p}) boolean matrix (supplier, "
                             f"buyer), got shape {crit.shape}")
        crit = crit.astype(bool)
    return crit & (Z > 0)


def _outcome(table: xr.Dataset, x: np.ndarray, model: str, rho: np.ndarray | None = None,
             **extra: xr.DataArray) -> xr.Dataset:
    """Output, output ratio, value-added loss and GDP loss for a constrained solution."""
    f = flat(table)
    x0 = f["x"]
    unit = _units(table)
    if rho is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(x0 != 0, x / x0, 1.0)
    c = gdp_coefficients(table)
    loss = c * (x0 - x)
    total = float(loss.sum())
    gdp0 = gdp(table)
    data = {
        "x": _wrap_vector(table, x, "x", units=unit, long_name="gross output"),
        "rho": _wrap_vector(table, rho, "rho", units="1", long_name="output / baseline output"),
        "dx": _wrap_vector(table, x - x0, "dx", units=unit, long_name="change in gross output"),
        "va": _wrap_vector(table, c * x, "va", units=unit,
                           long_name="GDP-like value added at fixed coefficients"),
        "va_loss": _wrap_vector(table, loss, "va_loss", units=unit,
                                long_name="loss of GDP-like value added"),
        "gdp_loss": xr.DataArray(total, attrs={"units": unit, "long_name": "GDP loss"}),
        "gdp_loss_share": xr.DataArray(total / gdp0 if gdp0 else np.nan,
                                       attrs={"units": "1",
                                              "long_name": "GDP loss / baseline GDP"}),
        **extra,
    }
    return xr.Dataset(data, attrs={"model": model, "unit": unit})


def _weakest_link(table: xr.Dataset, capacity_ratio: Any, import_ratio: Any,
                  critical: Any) -> tuple[np.ndarray, np.ndarray]:
    """S1 on the flat axis: output ratios and the root cause of each constraint."""
    f = flat(table)
    Z = f["Z"]
    p = Z.shape[0]
    labels = industry_labels(table)
    cap = _ratio(table, capacity_ratio, "capacity_ratio")
    rim = _ratio(table, import_ratio, "import_ratio")
    mu = _mu(table)
    crit = _critical(table, critical, Z)
    on_domestic = crit & ((1.0 - mu)[:, None] * Z > 0)
    on_imports = crit & (mu[:, None] * Z > 0)

    rim_masked = np.where(on_imports, rim[:, None], np.inf)
    worst_import = rim_masked.argmin(axis=0)
    rho_imp = np.minimum(rim_masked.min(axis=0), 1.0)
    rho = np.minimum(cap, rho_imp)
    cause = np.array([""] * p, dtype=object)
    for j in range(p):
        if rho[j] < 1.0:
            cause[j] = f"capacity:{labels[j]}" if cap[j] <= rho_imp[j] \
                else f"import:{labels[worst_import[j]]}"
    # Fixed point: rho_j = min(rho_j, min over critical domestic suppliers).  The values are
    # drawn from the finite set of initial ratios, so this ends in at most p sweeps.
    for _ in range(p + 1):
        sup = np.where(on_domestic, rho[:, None], np.inf)
        best = sup.argmin(axis=0)
        new = np.minimum(rho, sup.min(axis=0))
        lowered = new < rho
        if not lowered.any():
            break
        cause[lowered] = cause[best[lowered]]
        rho = new
    return rho, cause


@_checks_table(balance=False, productive=False)
def weakest_link(
    table: xr.Dataset,
    *,
    capacity_ratio: Any = None,
    import_ratio: Any = None,
    critical: Any = None,
) -> xr.Dataset:
    """S1: the weakest-link solution with baseline orders (docs/methodology.md, "S1: the weakest
    link").

    Every customer of a supplier receives the same fraction of its baseline deliveries,
    and each industry produces at the smallest ratio among its own capacity, its critical
    domestic suppliers and its critical imported inputs:

    ``rho_j = min(rho_cap_j, min_{i in V_j} rho_i, min_{p in V^m_j} r^m_p)``.

    Solved by fixed-point iteration from ``rho = 1``, a shortest-path-like propagation of
    minimum ratios over the critical-dependency graph, which ends in finitely many steps.
    Imported inputs follow import proportionality: buyer ``j`` depends on imports of ``p``
    when ``p`` is critical for ``j`` and ``mu_p z_pj > 0``, and on domestic ``p`` when
    ``(1 - mu_p) z_pj > 0``.  Only positive flows can be critical.

    S1 is the short-run, no-substitution, no-inventory view of the *downstream* leg.  It
    does not propagate losses upstream: a supplier keeps producing at its own ratio even
    when its constrained customers take less (the surplus piles up), so its value added is
    overstated.  :func:`weakest_link_mixed` adds the upstream (demand) leg.

    Parameters
    ----------
    table : xarray.Dataset
    capacity_ratio : mapping, DataArray, array_like or float, optional
        Available capacity as a fraction of baseline output, per industry (default 1).
    import_ratio : mapping, DataArray, array_like or float, optional
        ``r^m_p``: available imports of each product as a fraction of its baseline imports
        (default 1).
    critical : DataArray or array_like of bool, optional
        Criticality matrix (supplier, buyer), dims ``(sector, sector_to)``; ``None``: every
        input with a positive flow is critical (Leontief technology).

    Returns
    -------
    xarray.Dataset
        ``x``, ``rho`` (= ``x / x0``), ``dx``, ``va`` and ``va_loss`` (GDP-like value added
        ``c * x`` and its loss ``c * (x0 - x)``, per industry), ``gdp_loss`` (table units),
        ``gdp_loss_share`` (of the table's GDP) and ``constraint``: the root cause of each
        industry's constraint (``"capacity:<sector>"``, ``"import:<product>"`` or ``""``).

    Raises
    ------
    ShockError
        A ratio outside [0, 1], or a criticality matrix of the wrong shape.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> r = sc.static.weakest_link(t, capacity_ratio={"1": 0.8})
    >>> r.rho.values
    array([0.8, 0.8])
    >>> r.constraint.values.tolist()
    ['capacity:1', 'capacity:1']
    """
    rho, cause = _weakest_link(table, capacity_ratio, import_ratio, critical)
    x = rho * flat(table)["x"]
    constraint = _wrap_vector(table, cause.astype(str), "constraint",
                              long_name="root cause of the constraint")
    return _outcome(table, x, "S1 weakest link", rho=rho, constraint=constraint)


@_checks_table(balance=False, productive=False)
def weakest_link_mixed(
    table: xr.Dataset,
    *,
    capacity_ratio: Any = None,
    import_ratio: Any = None,
    critical: Any = None,
    domestic: bool = True,
) -> xr.Dataset:
    """S1 + mixed model, the two-stage static solution (docs/methodology.md, "S1: the weakest
    link").

    1. :func:`weakest_link` gives the constrained set ``E = {j : rho_j < 1}`` and
       ``x_bar_E = rho_E x0_E``.
    2. The mixed model (:func:`mixed_model`) gives the output of everyone else, who lose the
       sales they made to ``E`` (the upstream, demand leg), and the final demand ``f_E``
       left for ``E``.

    In a pure supply chain this is the long-run state of the dynamic models whatever their
    inventory parameters.  Where a constrained supplier sells to a more
    constrained customer, ``f_E`` exceeds its baseline (output nobody can use); where the cut
    is deep it can turn negative.  Both show in ``df``.

    Parameters
    ----------
    capacity_ratio, import_ratio, critical
        As in :func:`weakest_link`.
    domestic : bool, default True
        Solve stage 2 on the domestic system ``A^d`` (imports leak by import share, as in
        the import constraint of stage 1 and in :func:`lp_best_case`).  ``False`` uses ``A``.

    Returns
    -------
    xarray.Dataset
        As :func:`weakest_link`, plus ``f`` and ``df`` (final deliveries and their change)
        and the boolean ``constrained`` (the set ``E``).

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> r = sc.static.weakest_link_mixed(t, capacity_ratio={"2": 0.5},
    ...                                  critical=[[False, False], [False, False]])
    >>> r.x.round(2).values
    array([ 705.88, 1000.  ])
    """
    rho, cause = _weakest_link(table, capacity_ratio, import_ratio, critical)
    f, A = _technical(table, domestic)
    x0 = f["x"]
    fixed = rho < 1.0
    f0 = x0 - A @ x0
    x, fd = _mixed(A, f0, fixed, rho * x0)
    unit = _units(table)
    extra = {
        "f": _wrap_vector(table, fd, "f", units=unit, long_name="final deliveries"),
        "df": _wrap_vector(table, fd - f0, "df", units=unit,
                           long_name="change in final deliveries"),
        "constrained": _wrap_vector(table, fixed, "constrained",
                                    long_name="supply-constrained in stage 1 (set E)"),
        "constraint": _wrap_vector(table, cause.astype(str), "constraint",
                                   long_name="root cause of the stage-1 constraint"),
    }
    return _outcome(table, x, "S1 weakest link + mixed model", **extra)


@_checks_table(balance=False, productive=False)
def lp_best_case(
    table: xr.Dataset,
    *,
    capacity_ratio: Any = None,
    import_ratio: Any = None,
) -> xr.Dataset:
    """S2: the best feasible allocation under Leontief technology, a linear programme.

    docs/methodology.md, "S1: the weakest link" (the concept of Pichler & Farmer 2022): choose
    outputs ``x`` and
    final deliveries of domestic (``y_del``) and imported (``y_m_del``) goods to

    ``max c'x``  s.t.  ``x = A^d x + y_del``,  ``A^m x + y_m_del <= M_max``,
    ``0 <= y_del <= y0``,  ``0 <= y_m_del <= f^m``,  ``x <= x_cap``,

    where ``A^d = (I - mu^) A`` and ``A^m = mu^ A`` split the table by import
    proportionality, ``y0 = x0 - A^d x0`` (= ``(I - mu^) f^d + e``) and ``f^m = mu^ f^d`` are
    the baseline final deliveries, ``M_max = r^m * (A^m x0 + f^m)`` the available imports,
    ``x_cap = rho_cap * x0`` and ``c`` the GDP-like value-added coefficients.  A planner
    sends scarce imports where they earn the most value added: the result bounds
    Leontief-technology losses from below.

    ``y_m_del`` earns nothing, so it is eliminated (``A^m x <= M_max``) and reported as the
    imports left over for final users.  Negative baseline final deliveries (net inventory
    drawdowns) may be kept or reduced to zero: their bounds are ``[min(0, y0), max(0, y0)]``.
    The programme is solved in output ratios with HiGHS (:func:`scipy.optimize.linprog`).

    Returns
    -------
    xarray.Dataset
        As :func:`weakest_link` (without ``constraint``), plus ``y_del``, ``y_m_del``,
        ``imports_available`` (``M_max``), ``imports_used`` (``A^m x``) and
        ``import_shadow_price``: GDP gained per extra unit of imports of each product (the
        dual value of its import constraint; not unique at a degenerate optimum, e.g. when
        an import is cut to zero).

    Raises
    ------
    KernelError
        HiGHS did not find an optimum (the problem is always feasible, with ``x = 0``).

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> r = sc.static.lp_best_case(t, capacity_ratio={"1": 0.5})
    >>> r.x.round(2).values
    array([ 500., 1700.])
    >>> round(float(r.gdp_loss_share), 4)
    0.261
    """
    f = flat(table)
    x0 = f["x"]
    p = x0.size
    cap = _ratio(table, capacity_ratio, "capacity_ratio")
    rim = _ratio(table, import_ratio, "import_ratio")
    mu = _mu(table)
    A = _coefficients(f["Z"], x0)
    Ad, Am = (1.0 - mu)[:, None] * A, mu[:, None] * A
    y0 = x0 - Ad @ x0
    fm = mu * f["Y"].sum(1)
    M0 = Am @ x0 + fm
    Mmax = rim * M0
    lo, hi = np.minimum(0.0, y0), np.maximum(0.0, y0)
    lo_m, hi_m = np.minimum(0.0, fm), np.maximum(0.0, fm)

    # Variables s = x / x0; every row scaled by its baseline level.
    xs = np.where(x0 > 0, x0, 1.0)
    ms = np.where(M0 > 1e-12 * float(x0.max(initial=0.0)), M0, 1.0)
    D = (np.eye(p) - Ad) * x0[None, :] / xs[:, None]
    Im = Am * x0[None, :] / ms[:, None]
    A_ub = np.vstack([D, -D, Im])
    b_ub = np.concatenate([hi / xs, -lo / xs, (Mmax - lo_m) / ms])
    c = gdp_coefficients(table)
    gdp0 = float(c @ x0)
    obj = -(c * x0) / (gdp0 if gdp0 > 0 else 1.0)
    bounds = np.column_stack([np.zeros(p), np.where(x0 > 0, cap, 0.0)])
    res, solver = _linprog(obj, A_ub, b_ub, bounds)
    x = np.clip(res.x, 0.0, bounds[:, 1]) * x0
    y_del = x - Ad @ x
    used = Am @ x
    y_m = np.clip(Mmax - used, lo_m, hi_m)
    duals = -np.asarray(res.ineqlin.marginals)[2 * p:] / ms * (gdp0 if gdp0 > 0 else 1.0)
    unit = _units(table)
    extra = {
        "y_del": _wrap_vector(table, y_del, "y_del", units=unit,
                              long_name="final deliveries of domestic output"),
        "y_m_del": _wrap_vector(table, y_m, "y_m_del", units=unit,
                                long_name="imports left for final users"),
        "imports_available": _wrap_vector(table, Mmax, "imports_available", units=unit,
                                          long_name="available imports M_max"),
        "imports_used": _wrap_vector(table, used, "imports_used", units=unit,
                                     long_name="imports used by industries A^m x"),
        "import_shadow_price": _wrap_vector(table, np.maximum(duals, 0.0),
                                            "import_shadow_price", units="1",
                                            long_name="GDP gained per extra unit of imports"),
    }
    ds = _outcome(table, x, "S2 best case (linear programme)", **extra)
    ds.attrs["solver"] = solver
    return ds


#: HiGHS option sets tried in turn by :func:`lp_best_case`: tight tolerances first (the
#: programme is scaled to ratios, so 1e-9 is meaningful), then HiGHS's defaults, then the
#: interior-point solver.
_HIGHS_ATTEMPTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("highs", {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}),
    ("highs", {}),
    ("highs-ipm", {}),
)


def _linprog(obj: np.ndarray, A_ub: np.ndarray, b_ub: np.ndarray,
             bounds: np.ndarray) -> tuple[Any, str]:
    """Minimise with HiGHS; the result and a description of the solver run that succeeded."""
    from scipy.optimize import linprog

    messages = []
    for method, options in _HIGHS_ATTEMPTS:
        res = linprog(obj, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method=method,
                      options=options)
        if res.status == 0:
            return res, f"scipy.optimize.linprog(method={method!r}, options={options}): " \
                f"{res.message}"
        messages.append(f"{method} {options or 'defaults'}: status {res.status} ({res.message})")
    raise KernelError("lp_best_case: HiGHS found no optimum; " + "; ".join(messages))


# --------------------------------------------------------------------------------------
# Reporting losses
# --------------------------------------------------------------------------------------
@_checks_table(balance=False, productive=False)
def value_added_loss(table: xr.Dataset, dx: Any, *, by_component: bool = False) -> xr.DataArray:
    """Loss of GDP-like value added implied by an output change, ``-c * dx`` (docs/methodology.md,
    "Reporting losses").

    Value added moves with output at fixed coefficients ``c = v_0 / x_0``; only items that
    count in GDP are used (:data:`simcore.tables.GDP_EXCLUDED_VA_ITEMS`).  A fall in output
    gives a positive loss.

    Parameters
    ----------
    table : xarray.Dataset
    dx : mapping, DataArray or array_like
        Change in gross output by industry, table units; may carry extra dims.
    by_component : bool, default False
        Split the loss by value-added component (``component`` coordinate of the table),
        adding a leading ``component`` dim.

    Returns
    -------
    xarray.DataArray
        The loss per industry (and component), table units.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> sc.static.value_added_loss(t, {"1": -100}).values
    array([65.,  0.])
    """
    b = _lower(table, dx, "dx", batch=True)
    unit = _units(table)
    if not by_component:
        loss = -gdp_coefficients(table)[:, None] * b.values + 0.0
        return _lift(table, b, loss, "va_loss", units=unit,
                     long_name="loss of GDP-like value added")
    f = flat(table)
    x = f["x"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(x[None, :] != 0, f["V"] / x[None, :], 0.0)
    cv = cv * table.in_gdp.values[:, None]
    comps = list(dict.fromkeys(str(c) for c in table.component.values))
    item_comp = np.array([str(c) for c in table.component.values])
    parts = [_lift(table, b, -cv[item_comp == k].sum(0)[:, None] * b.values, "va_loss")
             for k in comps]
    out = xr.concat(parts, dim=pd.Index(comps, name="component"))
    out.attrs.update(units=unit, long_name="loss of GDP-like value added by component")
    return out.rename("va_loss")


@_checks_table(balance=False, productive=False)
def gdp_loss_share(table: xr.Dataset, dx: Any, denominator: float | None = None) -> xr.DataArray:
    """GDP loss implied by an output change, as a fraction of GDP.

    ``sum_j -c_j dx_j / denominator``, the denominator being the table's GDP-like value
    added (:func:`simcore.tables.gdp`) unless given (e.g. a later year's nominal GDP in the
    table's unit).

    Returns
    -------
    xarray.DataArray
        A scalar (or one value per extra dim of ``dx``), units "1".

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> round(float(sc.static.gdp_loss_share(t, {"1": -100})), 4)
    0.0317
    """
    denom = gdp(table) if denominator is None else float(denominator)
    if not np.isfinite(denom) or denom <= 0:
        raise ParameterError(f"denominator: expected a positive GDP, got {denom!r}")
    loss = value_added_loss.__wrapped__(table, dx)  # table checked above
    share = loss.sum(list(_industry_dims(table))) / denom
    share.attrs.update(units="1", long_name="GDP loss / GDP")
    return share.rename("gdp_loss_share")
