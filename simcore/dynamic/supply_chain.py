"""simcore's supply-chain engine: labelled layer over the numba kernels.

The model (equations in ``docs/methodology.md``) is Pichler et al.'s (2022) dynamic IO model
with inventories and partially binding Leontief production, reduced to its supply-chain core
(final demand exogenous) and extended for import cuts in a competitive-import table:

* one day per step; annual flows are divided by 365;
* each buyer ``j`` holds a stock ``S_ij`` of every input ``i`` (domestic and imported units of
  a product are perfect substitutes once delivered), with target ``n_ij Z0_ij``;
* orders ``O_ij = A_ij d_j(t-1) + (n_ij Z0_ij - S_ij) / tau`` (clamped at 0);
* output ``x_j = min(capacity, input bound, demand)`` where the input bound is
  ``min_i [(1 - theta_ij) x0_j + theta_ij S_ij / A_ij]`` (``theta`` = dependency share;
  CES within the dependent share when ``sigma_i > 0``);
* imports of product ``i`` are a share ``mu_i`` of every user's purchases (import
  proportionality); for cut products the import supply by origin is an exogenous schedule
  (cut, substitution ramp) plus a stockpile released on shortage;
* proportional rationing (or firms first) of domestic output and of imports;
* stocks rise by deliveries ``z_ij`` and fall by use
  ``min(A_ij x_j, max(S_ij, S_ij + z_ij - target_ij))``: technical use, capped at the stock
  at the start of the day unless the day's deliveries would lift the stock above its target,
  in which case everything above the target can be used (for a fully
  binding input this is ``A_ij x_j``; for a partially binding one the share of output that
  does not need the input does not eat the day's deliveries, and a restocking buyer does not
  overshoot its target);
* value added at fixed coefficients: loss ``c_j (x0_j - x_j)``, exact and without lag.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .. import _nodask

_nodask.install()  # xarray imports dask lazily; only a Dask engine needs it

from .. import tables as _tables
from .._jit import raise_for_status
from .._version import __version__
from .._checks import positive_number
from ..errors import LabelError, ParameterError, ShockError, TableError
from ..transform import dynamics_arrays, prepare_for_dynamics
from . import _bundles as kn
from .common import (MAX_DAYS, MAX_RECORD_BYTES, ONSET_SHARE, RECOVERED_RTOL,  # noqa: F401
                     check_days, check_record_bytes, is_recovered, onset_day,
                     params_json, shocks_json)
from .params import DynamicParams
from .shocks import CapacityShock, DemandShock, ImportCut, intensity
from .. import _accessor  # noqa: F401  (registers result.simcore; see simcore._accessor)

__all__ = [
    "simulate",
    "prepare_model",
    "Prepared",
    "RECORDS",
    "DAYS_PER_YEAR",
]

DAYS_PER_YEAR = 365.0
#: Records that can be requested from :func:`simulate`.
RECORDS = ("output", "final_demand_unmet", "imports", "stocks")


def _index_type(m: int) -> type:
    """The narrowest of int32 and int64 that holds indices below ``m``."""
    return np.int32 if m < 2**31 - 1 else np.int64


@dataclass(frozen=True)
class Prepared:
    """A table lowered to the kernel's arrays (shared by every scenario run on it)."""

    sectors: list[str]
    index: dict[str, int]
    colptr: np.ndarray
    rowidx: np.ndarray
    A: np.ndarray  # per cell
    Z0: np.ndarray  # per cell, daily
    x0: np.ndarray
    f0: np.ndarray
    e0: np.ndarray
    mu: np.ndarray
    m0: np.ndarray
    c: np.ndarray  # GDP-like VA coefficient
    comp_names: list[str]
    comp_coef: np.ndarray  # (components, n)
    gdp_annual: float
    unit: str
    coords: dict[str, Any]
    preprocessing: str
    #: What lowering built from this table and a parameter set, by the parameters' JSON
    #: (:func:`_memo_get`); a table derived with ``dataclasses.replace`` starts empty.
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Results' coordinates (:func:`_result_coords`), by horizon and special products.
    _coords_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    #: :func:`simulate`'s lowered runs (:func:`_lowered`), by parameters, shocks and horizon.
    _low_memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.sectors)

    @functools.cached_property
    def cols(self) -> np.ndarray:
        """Buyer column of every stored cell (computed once per table)."""
        return np.repeat(np.arange(self.n, dtype=_index_type(self.n)), np.diff(self.colptr))

    @functools.cached_property
    def row_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells sorted by product row, and the start of each row in that order (computed
        once per table)."""
        order = np.argsort(self.rowidx, kind="stable").astype(_index_type(self.rowidx.size))
        return order, np.searchsorted(self.rowidx[order], np.arange(self.n + 1))

    def idx(self, code: str, what: str) -> int:
        try:
            return self.index[str(code)]
        except KeyError:
            raise LabelError(
                f"{what}: unknown sector or product {code!r}; expected one of the table's "
                f"{self.n} sector codes (e.g. {', '.join(self.sectors[:4])}, ...)"
            ) from None


def prepare_model(table: xr.Dataset, *, preprocess: bool = True, check: bool = True) -> Prepared:
    """Lower a single-region table to the arrays of the engine.

    Tables with negative intermediate or final-demand cells (MIC tables have them) are first
    passed through :func:`simcore.transform.prepare_for_dynamics` (``preprocess=True``);
    with ``preprocess=False`` they are rejected.  The table is validated first
    (:func:`simcore.tables.validate`, with the balance tolerances the table was built with):
    a table edited after it was built is refused, not run.  ``check=False`` skips the
    balance and productivity checks (labels and finite values are always checked), for a
    table knowingly out of balance: then even a run without shock drifts from baseline.
    """
    _tables.check_table(table, "simulate", balance=check, productive=check,
                        hint="; to run a table knowingly out of balance anyway, pass "
                             "simcore.dynamic.prepare_model(table, check=False)")
    if _tables.is_multiregional(table):
        raise TableError(
            "prepare_model: lowers single-region tables with origin-split imports; "
            "simcore.simulate runs multi-regional tables itself (simcore.dynamic.mrio."
            "prepare_mrio lowers them), or use simcore.dynamic.ario.simulate_ario"
        )
    note = "none"
    f = _tables.flat(table)
    if (f["Z"] < 0).any() or (f["Y"] < 0).any():
        if not preprocess:
            i, j = np.argwhere(f["Z"] < 0)[0] if (f["Z"] < 0).any() else (
                np.argwhere(f["Y"] < 0)[0])
            raise TableError(
                f"simulate: the table has negative cells (first at row {i}, column {j}); "
                "apply simcore.transform.prepare_for_dynamics or pass preprocess=True")
        if "nadj" in set(str(v) for v in table.va_item.values):
            table, report = prepare_for_dynamics(table)
            f = _tables.flat(table)
        else:
            # prepare_for_dynamics' arrays, without building (and validating again) the
            # table: the value-added item it adds is not in GDP, so the GDP coefficients,
            # components and GDP below are the input table's, to the bit; only the flows
            # and the import shares change (tests/test_fused.py checks every array
            # against the built table's)
            f, report = dynamics_arrays(table)
        note = f"prepare_for_dynamics: {report}"
    x = f["x"]
    x0 = x / DAYS_PER_YEAR
    pos = x0 > 0
    n = x.shape[0]
    # by buyer column (the transposed matrices, contiguous: the cells' stored order), the
    # same divisions as Z / 365 and Z0_ij / x0_j cell by cell
    ZdT = np.ascontiguousarray(f["Z"].T) / DAYS_PER_YEAR
    AT = np.zeros_like(ZdT)
    np.divide(ZdT, x0[:, None], out=AT, where=pos[:, None])
    maskT = (AT > 0) & pos[:, None]
    colptr = np.zeros(n + 1, dtype=np.int64)
    colptr[1:] = np.cumsum(maskT.sum(axis=1))
    rowidx = np.flatnonzero(maskT)  # column-major order: j * n + i, then i
    # the cells in that order (as AT[maskT], gathered by the flat positions: cheaper)
    A_cells = AT.ravel()[rowidx]
    Z_cells = ZdT.ravel()[rowidx]
    rowidx %= max(n, 1)
    f0 = f["Y"].sum(1) / DAYS_PER_YEAR
    e0 = f["E"].sum(1) / DAYS_PER_YEAR
    m0 = f["M"].sum(1) / DAYS_PER_YEAR
    use = f["Z"].sum(1) + f["Y"].sum(1)  # simcore.tables.import_shares on the arrays
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.clip(np.where(use > 0, f["M"].sum(1) / use, 0.0), 0.0, 1.0)
    c = _tables.gdp_coefficients(table)
    V = _tables.flat(table)["V"] if "va_item" in f else f["V"]
    comps, comp_coef = _tables.gdp_component_coefficients(table, V, x)
    labels = table.sector.values  # once (from the index: a conversion each time)
    coords: dict[str, Any] = {"sector": labels}
    for nm in ("name_en", "name_ja"):
        if nm in table.coords:
            coords[nm] = ("sector", table[nm].values)
    sectors = [str(s) for s in labels]
    return Prepared(
        sectors=sectors,
        index={s: i for i, s in enumerate(sectors)},
        colptr=colptr, rowidx=rowidx, A=A_cells, Z0=Z_cells, x0=x0, f0=f0, e0=e0, mu=mu,
        m0=m0, c=c, comp_names=comps, comp_coef=comp_coef,
        gdp_annual=float(_tables.gdp(table)), unit=str(table.attrs.get("unit", "")),
        coords=coords, preprocessing=note,
    )


# --------------------------------------------------------------------------------------
# Lowering parameters and shocks
# --------------------------------------------------------------------------------------
def _row_values(prep: Prepared, spec: Any, default: Any, what: str) -> np.ndarray:
    """A per-buyer vector from a float or ``{sector: value, "*": default}`` mapping.

    ``default`` is a scalar or the row's base values (from a :class:`CellMatrix`)."""
    out = np.array(np.broadcast_to(np.asarray(default, dtype=float), (prep.n,)))
    if isinstance(spec, Mapping):
        if "*" in spec:
            out[:] = float(spec["*"])
        for k, v in spec.items():
            if k == "*":
                continue
            out[prep.idx(k, what)] = float(v)
    else:
        out[:] = float(spec)
    return out


def _cols(prep: Prepared) -> np.ndarray:
    """Buyer column of every stored cell (:attr:`Prepared.cols`, kept with the table)."""
    return prep.cols


def _row_cells(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Cells sorted by product row, and the start of each row in that order
    (:attr:`Prepared.row_cells`, kept with the table)."""
    return prep.row_cells


def _dense_base(prep: Prepared, cm: Any, default: float) -> np.ndarray | None:
    """A :class:`CellMatrix` aligned to the table's sectors ``(n, n)``; pairs it does not
    name take ``default``; ``None`` when there is no matrix."""
    if cm is None:
        return None
    out = np.full((prep.n, prep.n), float(default))
    pi = np.array([prep.index.get(str(c), -1) for c in cm.products])
    bj = np.array([prep.index.get(str(c), -1) for c in cm.buyers])
    okp, okb = pi >= 0, bj >= 0
    out[np.ix_(pi[okp], bj[okb])] = cm.values[np.ix_(okp, okb)]
    return out


#: Tables up to this many stored cells keep what lowering built from a parameter set
#: (:func:`_memo_get`), for at most :data:`MEMO_SIZE` parameter sets each.
MEMO_MAX_CELLS = 2**18
MEMO_SIZE = 4


def _memo_get(prep: Prepared, kind: str, params: DynamicParams, build,
              pj: str | None = None):
    """``build()``, kept on ``prep`` for the next lowering with parameters of the same
    content (their JSON, :func:`~simcore.dynamic.common.params_json`: cell matrices by
    digest) on a table of at most :data:`MEMO_MAX_CELLS` cells; callers copy what a run
    may write; ``pj``: the parameters' JSON when the caller has it already."""
    if prep.A.shape[0] > MEMO_MAX_CELLS:
        return build()
    key = (kind, pj if pj is not None else params_json(params))
    memo = prep._memo
    hit = memo.get(key, memo)
    if hit is not memo:
        return hit
    val = build()
    with _prep_lock:
        memo[key] = val
        while len(memo) > 2 * MEMO_SIZE:
            memo.pop(next(iter(memo)))
    return val


def _cell_arrays(prep: Prepared, params: DynamicParams, special: Sequence[int],
                 pj: str | None = None):
    """Per-cell targets and dependency shares, per-product sigma, and special-row overrides.

    The base of every pair is the scalar default (``dependency``, ``inventory_days``) or,
    where given, the pair's value in ``dependency_cells``/``inventory_cells``; the
    ``*_by_product`` maps override rows (or single pairs) on top of it.  The per-cell
    arrays are built once per parameter set on a table (:func:`_memo_get`); each call
    gets its own copies."""
    tgt, theta, sigma = (a.copy() for a in _memo_get(
        prep, "cells", params, lambda: _cell_base(prep, params), pj))
    theta_sp, tgt_sp = _special_dense(prep, special, theta, tgt)
    return tgt, theta, sigma, theta_sp, tgt_sp


def _cell_base(prep: Prepared, params: DynamicParams):
    """:func:`_cell_arrays`' per-cell targets, dependency shares and per-product sigma."""
    n = prep.n
    rows = prep.rowidx
    cols = _cols(prep)
    base_th = _dense_base(prep, params.dependency_cells, params.dependency)
    base_d = _dense_base(prep, params.inventory_cells, params.inventory_days)
    days_rows: dict[int, np.ndarray] = {}
    theta_rows: dict[int, np.ndarray] = {}
    for prod, spec in params.inventory_days_by_product.items():
        i = prep.idx(prod, f"inventory_days_by_product[{prod!r}]")
        days_rows[i] = _row_values(prep, spec,
                                   base_d[i] if base_d is not None else params.inventory_days,
                                   f"inventory_days_by_product[{prod!r}]")
    for prod, spec in params.dependency_by_product.items():
        i = prep.idx(prod, f"dependency_by_product[{prod!r}]")
        theta_rows[i] = _row_values(prep, spec,
                                    base_th[i] if base_th is not None else params.dependency,
                                    f"dependency_by_product[{prod!r}]")
    sigma = np.zeros(n)
    for prod, s in params.elasticity_by_product.items():
        sigma[prep.idx(prod, f"elasticity_by_product[{prod!r}]")] = float(s)
    d = (base_d[rows, cols] if base_d is not None
         else np.full(rows.shape[0], float(params.inventory_days)))
    theta = (base_th[rows, cols] if base_th is not None
             else np.full(rows.shape[0], float(params.dependency)))
    order, starts = _row_cells(prep)
    for i, row in days_rows.items():
        m = order[starts[i]:starts[i + 1]]
        d[m] = row[cols[m]]
    for i, row in theta_rows.items():
        m = order[starts[i]:starts[i + 1]]
        theta[m] = row[cols[m]]
    return d * prep.Z0, theta, sigma


def _special_dense(prep: Prepared, special: Sequence[int], theta: np.ndarray,
                   tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(K, n)`` dependency shares and targets of the special rows, from the
    per-cell arrays (buyers without a cell get 0: the kernel never reads them)."""
    n = prep.n
    K = len(special)
    theta_sp = np.zeros((K, n))
    tgt_sp = np.zeros((K, n))
    if K:
        cols = _cols(prep)
        order, starts = _row_cells(prep)
        for k, i in enumerate(special):
            m = order[starts[i]:starts[i + 1]]
            theta_sp[k, cols[m]] = theta[m]
            tgt_sp[k, cols[m]] = tgt[m]
    return theta_sp, tgt_sp


@dataclass(frozen=True)
class OriginSplit:
    """How :func:`split_origins` extended a table: pool rows after the table's own."""

    n: int  # sectors of the original table
    parent: np.ndarray  # original row of each pool row (length n2 - n)
    codes: list[str]  # pool codes "PRODUCT@ORIGIN"


def _origin_pools(prep: Prepared, params: DynamicParams) -> list[tuple[int, str, str, float]]:
    """The pool rows of :func:`split_origins`: ``(row, product, origin, share)`` each."""
    pools: list[tuple[int, str, str, float]] = []
    for prod, shares in params.import_origins.items():
        i = prep.idx(prod, f"import_origins[{prod!r}]")
        if prep.mu[i] <= 0:
            continue
        for o, so in shares.items():
            if str(o) != "ROW" and float(so) > 0:
                pools.append((i, str(prod), str(o), float(so)))
    return pools


def pool_shocks(pools: Sequence[tuple[int, str, str, float]], shocks: Sequence[Any]) -> list[Any]:
    """Shocks with import cuts of a pooled (product, origin) moved to its pool row
    ``PRODUCT@ORIGIN`` (:func:`split_origins`; the batch reuses it for scenarios that share
    a lowered table and differ only in shocks)."""
    import dataclasses

    key = {(prod, o): f"{prod}@{o}" for _, prod, o, _ in pools}
    return [dataclasses.replace(s, product=key[(str(s.product), str(s.origin))])
            if isinstance(s, ImportCut) and (str(s.product), str(s.origin)) in key else s
            for s in shocks]


def split_origins(prep: Prepared, shocks: Sequence[Any], params: DynamicParams,
                  tgt: np.ndarray, theta: np.ndarray, pj: str | None = None):
    """Stocks per origin (``params.origin_stocks``): lower every named origin of an
    origin-split product to a pool row of its own.

    For product ``i`` with import share ``mu_i`` and named origins ``o`` (shares ``s_o`` of
    its imports; the rest of the world is not named), every buyer's cell ``(i, j)`` becomes
    a cell for domestic and rest-of-world supply, with share ``r_i = 1 - mu_i sum_o s_o``
    of the coefficient, the baseline flow, the stock target and the dependency share, plus
    one cell per origin with share ``mu_i s_o``, on a pool row ``i@o`` that has no domestic
    output and imports only from ``o``.  Splitting the dependency share with the flow makes
    the pools parallel lines: an empty pool costs ``theta x`` its share of output, the
    other pools keep theirs.  With every pool full the lowering is exact (orders, demand
    addressed to domestic producers and import demand are unchanged).  Cuts, substitution
    and stockpiles of ``i`` move to its pools (stockpiles pro rata to the origin shares).

    Returns ``(prep2, shocks2, params2, tgt2, theta2, split)``; unchanged inputs and
    ``split = None`` when no product is split.
    """
    st = _memo_get(prep, "split", params, lambda: _split_structure(prep, params), pj)
    if st is None:
        return prep, list(shocks), params, tgt, theta, None
    pools, prep2, params2, Sx, F, split = st
    return (prep2, pool_shocks(pools, shocks), params2, tgt[Sx] * F, theta[Sx] * F, split)


def _split_index(prep: Prepared, pools: Sequence[tuple[int, str, str, float]]):
    """The index arithmetic of :func:`split_origins`, which depends on the pools' rows
    alone (not on their shares): ``(R, Sx, pool, colptr)``: row and source cell of every
    cell after the split, the pool each cell lies on (-1: its own row) and the new column
    pointers."""
    n = prep.n
    cols = _cols(prep)
    rows = prep.rowidx
    new_rows, new_cols, src = [rows], [cols], [np.arange(rows.size)]
    which = [np.full(rows.size, -1, dtype=np.int64)]
    order, starts = _row_cells(prep)
    for q, (i, _, _, _) in enumerate(pools):
        m = order[starts[i]:starts[i + 1]]
        new_rows.append(np.full(m.size, n + q, dtype=np.int64))
        new_cols.append(cols[m])
        src.append(m)
        which.append(np.full(m.size, q, dtype=np.int64))
    R = np.concatenate(new_rows)
    Cc = np.concatenate(new_cols)
    Sx = np.concatenate(src)
    W = np.concatenate(which)
    perm = np.argsort(Cc, kind="stable")
    R, Cc, Sx, W = R[perm], Cc[perm], Sx[perm], W[perm]
    colptr = np.zeros(n + len(pools) + 1, dtype=np.int64)
    colptr[1:n + 1] = np.cumsum(np.bincount(Cc, minlength=n))
    colptr[n + 1:] = colptr[n]
    return R, Sx, W, colptr


def _split_values(prep: Prepared, pools: Sequence[tuple[int, str, str, float]],
                  Sx: np.ndarray, W: np.ndarray):
    """The values of :func:`split_origins` that depend on the pools' shares, for the
    index ``Sx``, ``W`` of :func:`_split_index`: ``(tot, F, f0, mu, m0)``: each row's
    pooled share, every cell's factor, and the rows' final demand, import share and
    imports after the split (pool rows appended).  Shared by single runs and the batch's
    band draws (which vary the shares on one index), so both get the same numbers."""
    n = prep.n
    tot = np.zeros(n)
    for i, _, _, so in pools:
        tot[i] += so
    r = 1.0 - prep.mu * tot  # share of each row left on the row itself
    parent = np.array([i for i, _, _, _ in pools], dtype=np.int64)
    so_arr = np.array([so for _, _, _, so in pools])
    own = W < 0
    F = np.empty(W.size)
    F[own] = r[prep.rowidx[Sx[own]]]
    F[~own] = (prep.mu[parent] * so_arr)[W[~own]]
    f0 = prep.f0.copy()
    mu = prep.mu.copy()
    m0 = prep.m0.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_left = np.where(r > 0, prep.mu * (1.0 - tot) / np.where(r > 0, r, 1.0), 0.0)
    hit = tot > 0
    f0[hit] = prep.f0[hit] * r[hit]
    mu[hit] = mu_left[hit]
    m0[hit] = prep.m0[hit] * (1.0 - tot[hit])
    P = len(pools)
    f0 = np.concatenate([f0, prep.f0[parent] * prep.mu[parent] * so_arr])
    mu = np.concatenate([mu, np.ones(P)])
    m0 = np.concatenate([m0, prep.m0[parent] * so_arr])
    return tot, F, f0, mu, m0


def _split_structure(prep: Prepared, params: DynamicParams):
    """What :func:`split_origins` builds from the table and the parameters alone (built
    once per parameter set on a table: :func:`_memo_get`): ``(pools, prep2, params2,
    source cell, factor, split)``, or None when no product is split."""
    import dataclasses

    pools = _origin_pools(prep, params)
    if not pools:
        return None
    n = prep.n
    P = len(pools)
    R, Sx, W, colptr = _split_index(prep, pools)
    tot, F, f0, mu, m0 = _split_values(prep, pools, Sx, W)
    codes = [f"{prod}@{o}" for _, prod, o, _ in pools]
    parent = np.array([i for i, _, _, _ in pools], dtype=np.int64)
    ext = lambda a, v: np.concatenate([a, v])  # noqa: E731
    prep2 = dataclasses.replace(
        prep,
        sectors=prep.sectors + codes,
        index={**prep.index, **{c: n + q for q, c in enumerate(codes)}},
        colptr=colptr, rowidx=R, A=prep.A[Sx] * F, Z0=prep.Z0[Sx] * F,
        x0=ext(prep.x0, np.zeros(P)), f0=f0, e0=ext(prep.e0, np.zeros(P)), mu=mu, m0=m0,
        c=ext(prep.c, np.zeros(P)),
        comp_coef=np.concatenate([prep.comp_coef, np.zeros((prep.comp_coef.shape[0], P))], 1),
    )
    split_prods = {prod for _, prod, _, _ in pools}
    origins = {k: v for k, v in params.import_origins.items() if k not in split_prods}
    origins.update({k: {} for k in split_prods})
    subst = {k: v for k, v in params.substitution.items() if k not in split_prods}
    piles = {k: v for k, v in params.stockpiles.items() if k not in split_prods}
    for (_, prod, o, so), code in zip(pools, codes):
        origins[code] = {o: 1.0}
        if prod in params.substitution:
            subst[code] = params.substitution[prod]
        if prod in params.stockpiles:
            sp = params.stockpiles[prod]
            t = float(tot[prep.index[prod]])
            piles[code] = dataclasses.replace(sp, days=sp.days / t,
                                              release_rate=sp.release_rate / t)
    params2 = dataclasses.replace(params, import_origins=origins, substitution=subst,
                                  stockpiles=piles)
    return pools, prep2, params2, Sx, F, OriginSplit(n=n, parent=parent, codes=codes)


@dataclass(frozen=True)
class Lowered:
    """Every array one kernel run takes, from a table, shocks and parameters."""

    prep: Prepared  # the table the kernel runs on (with pool rows under origin stocks)
    special_orig: list[int]  # special products of the original table (result labels)
    split: OriginSplit | None
    tgt: np.ndarray
    theta: np.ndarray
    sigma: np.ndarray
    sp_pos: np.ndarray
    sp_idx: np.ndarray
    theta_sp: np.ndarray
    tgt_sp: np.ndarray
    impcap: np.ndarray
    stock0: np.ndarray
    relmax: np.ndarray
    cap_idx: np.ndarray
    capfac: np.ndarray
    dem_idx: np.ndarray
    demfac: np.ndarray
    exfac: np.ndarray


def lower(prep: Prepared, shocks: Sequence[Any], params: DynamicParams, T: int, *,
          pj: str | None = None) -> Lowered:
    """Lower ``shocks`` and ``params`` on ``prep`` over ``T`` days (both engines' batch and
    single paths use this; the batch path re-lowers only the per-scenario parts).  ``pj``:
    ``params_json(params)`` when the caller has it (the key of what is kept per parameter
    set, :func:`_memo_get`)."""
    if pj is None and prep.A.shape[0] <= MEMO_MAX_CELLS:
        pj = params_json(params)
    special = _special_products(prep, shocks, params)
    # under stocks per origin the special rows' dense arrays are built after the split
    tgt, theta, sigma, theta_sp, tgt_sp = _cell_arrays(
        prep, params, [] if params.origin_stocks else special, pj)
    split = None
    p2, sh2, pa2 = prep, list(shocks), params
    if params.origin_stocks:
        p2, sh2, pa2, tgt, theta, split = split_origins(prep, shocks, params, tgt, theta, pj)
        if split is not None:
            sigma = np.concatenate([sigma, np.zeros(len(split.codes))])
            special2 = _special_products(p2, sh2, pa2)
        else:
            special2 = special
        theta_sp, tgt_sp = _special_dense(p2, special2, theta, tgt)
    else:
        special2 = special
    impcap, stock0, relmax = _lower_imports(p2, sh2, pa2, special2, T)
    cap_idx, capfac, dem_idx, demfac, exfac = _lower_domestic(p2, sh2, T)
    K = len(special2)
    sp_pos = np.full(p2.n, -1, dtype=np.int64)
    sp_pos[np.asarray(special2, dtype=np.int64)] = np.arange(K)
    return Lowered(prep=p2, special_orig=list(special), split=split, tgt=tgt, theta=theta,
                   sigma=sigma, sp_pos=sp_pos, sp_idx=np.asarray(special2, dtype=np.int64),
                   theta_sp=theta_sp, tgt_sp=tgt_sp, impcap=impcap, stock0=stock0,
                   relmax=relmax, cap_idx=cap_idx, capfac=capfac, dem_idx=dem_idx,
                   demfac=demfac, exfac=exfac)


def kernel_table(low: Lowered, params: DynamicParams):
    """The :class:`~simcore.dynamic._kernels.Table` bundle of a lowered run."""
    p2 = low.prep
    return kn.Table(p2.colptr, p2.rowidx, p2.A, low.tgt, low.theta, low.sigma, p2.x0, p2.f0,
                    p2.e0, p2.mu, p2.c, 1.0 / params.inventory_tau)


def kernel_special(low: Lowered):
    """The :class:`~simcore.dynamic._kernels.Special` bundle of a lowered run."""
    return kn.Special(low.sp_pos, low.sp_idx, low.impcap, low.stock0, low.relmax,
                      low.theta_sp, low.tgt_sp)


def kernel_shocks(low: Lowered):
    """The :class:`~simcore.dynamic._kernels.Shocks` bundle of a lowered run."""
    return kn.Shocks(low.cap_idx, low.capfac, low.dem_idx, low.demfac, low.exfac)


def kernel_options(params: DynamicParams):
    """The :class:`~simcore.dynamic._kernels.Options` bundle of a parameter set."""
    return kn.Options(kn.RATION_FIRMS_FIRST if params.rationing == "firms_first"
                      else kn.RATION_PROPORTIONAL, float(params.alpha_max),
                      float(params.alpha_tau))


def check_lowering(prep: Prepared, shocks: Sequence[Any], params: DynamicParams) -> None:
    """Lower ``shocks`` and ``params`` against ``prep`` over one day, so that unknown sector,
    product or origin codes and per-product maps raise here (sweeps check every design
    point this way before they start); on a multi-regional table
    :func:`simcore.dynamic.mrio.check_lowering_mrio`."""
    lower(prep, shocks, params, 1)


def _special_products(prep: Prepared, shocks: Iterable[Any], params: DynamicParams) -> list[int]:
    out: dict[int, None] = {}
    for s in shocks:
        if isinstance(s, ImportCut):
            out[prep.idx(s.product, f"ImportCut(product={s.product!r})")] = None
    for prod in list(params.import_origins) + list(params.stockpiles) + list(params.substitution):
        out[prep.idx(prod, f"parameters for product {prod!r}")] = None
    return sorted(out)


def _lower_imports(prep: Prepared, shocks: Sequence[Any], params: DynamicParams,
                   special: Sequence[int], T: int):
    K = len(special)
    impcap = np.zeros((T, K))
    stock0 = np.zeros(K)
    relmax = np.zeros(K)
    for k, i in enumerate(special):
        prod = prep.sectors[i]
        shares = params.origin_shares(prod)
        cuts = [s for s in shocks if isinstance(s, ImportCut) and prep.sectors[i] == str(s.product)]
        # Overlapping cuts of one product from one origin add up and are capped at that
        # origin's whole supply (the rule of CapacityShock); origins then add up, so an
        # origin never loses more than its own share (docs/methodology.md, "Import cuts").
        by_origin: dict[str, np.ndarray] = {}
        for s in cuts:
            if str(s.origin) not in shares or shares[str(s.origin)] <= 0:
                raise ShockError(
                    f"ImportCut(product={s.product!r}, origin={s.origin!r}): origin has no share "
                    f"of the product's imports; import_origins[{prod!r}] gives "
                    f"{ {o: round(v, 6) for o, v in shares.items()} }")
            o = str(s.origin)
            by_origin[o] = by_origin.get(o, np.zeros(T)) + s.share * intensity(s, T)
        lost_frac = np.zeros(T)
        for o, cut in by_origin.items():
            lost_frac += shares[o] * np.minimum(cut, 1.0)
        lost_frac = np.minimum(lost_frac, 1.0)
        base = prep.m0[i]
        cap = base * (1.0 - lost_frac)
        sub = params.substitution.get(prod)
        if sub is not None and cuts:
            t0 = min(s.start for s in cuts)
            tt = np.arange(T, dtype=float) + 0.5 - t0 - sub.lag_days
            ramp = np.where(tt > 0, 1.0 - np.exp(-np.maximum(tt, 0.0) / sub.tau_days), 0.0)
            cap = cap + sub.headroom * base * lost_frac * ramp
        impcap[:, k] = cap
        sp = params.stockpiles.get(prod)
        if sp is not None:
            stock0[k] = sp.days * base
            relmax[k] = sp.release_rate * base
    return impcap, stock0, relmax


def _lower_domestic(prep: Prepared, shocks: Sequence[Any], T: int):
    cap_sh = [s for s in shocks if isinstance(s, CapacityShock)]
    dem_sh = [s for s in shocks if isinstance(s, DemandShock)]
    cap_idx = sorted({prep.idx(s.sector, f"CapacityShock(sector={s.sector!r})") for s in cap_sh})
    dem_idx = sorted({prep.idx(s.sector, f"DemandShock(sector={s.sector!r})") for s in dem_sh})
    capfac = np.ones((T, len(cap_idx)))
    loss = np.zeros((T, len(cap_idx)))
    for s in cap_sh:
        q = cap_idx.index(prep.index[str(s.sector)])
        loss[:, q] += s.share * intensity(s, T)
    capfac -= np.minimum(loss, 1.0)
    demfac = np.ones((T, len(dem_idx)))
    exfac = np.ones((T, len(dem_idx)))
    for s in dem_sh:
        q = dem_idx.index(prep.index[str(s.sector)])
        chg = s.change * intensity(s, T)
        if s.target in ("all", "domestic"):
            demfac[:, q] += chg
        if s.target in ("all", "exports"):
            exfac[:, q] += chg
    return (np.asarray(cap_idx, dtype=np.int64), capfac, np.asarray(dem_idx, dtype=np.int64),
            np.maximum(demfac, 0.0), np.maximum(exfac, 0.0))


def _check_shocks(shocks: Any) -> list[Any]:
    if isinstance(shocks, (ImportCut, CapacityShock, DemandShock)):
        return [shocks]
    if type(shocks).__name__ == "ExportCut":
        shocks = [shocks]
    if shocks is None or isinstance(shocks, (str, bytes, Mapping)) or not hasattr(
            shocks, "__iter__"):
        raise ShockError(f"shocks = {shocks!r}: expected a shock or a sequence of shocks "
                         "(ImportCut, CapacityShock, DemandShock); pass [] for no shock")
    out = list(shocks)
    for s in out:
        if type(s).__name__ == "ExportCut":
            raise ShockError(f"{s!r}: an export cut needs a multi-regional table (with a "
                             "'region' dimension); on a single-region table cut imports "
                             "with ImportCut(product=..., origin=...)")
        if not isinstance(s, (ImportCut, CapacityShock, DemandShock)):
            raise ShockError(f"expected ImportCut, CapacityShock or DemandShock, got {s!r}")
    return out


# --------------------------------------------------------------------------------------
# The prepared model of a labelled table, kept for the next call on the same content
# --------------------------------------------------------------------------------------
#: Tables up to this many bytes (every variable, coordinates included) are compared by
#: :func:`simulate` with a copy of their values kept beside their prepared model; larger
#: tables by a digest of their values (``hashlib.blake2b``; measured on the benchmarks'
#: 3,000-sector table, 69 MiB: 0.07 s to hash against 0.29 s to prepare it again).
PREP_CACHE_MAX_BYTES = 16 * 2**20
#: How many tables' prepared models are kept (the most recently used); an entry goes with
#: its table (when the table is freed).
PREP_CACHE_SIZE = 4
#: Labels (object arrays) of a table above :data:`PREP_CACHE_MAX_BYTES` are copied to
#: compare, up to this many elements a variable (more: the table's model is not kept).
PREP_CACHE_MAX_OBJECTS = 2**16
_prep_cache: list[tuple[Any, dict, Prepared]] = []
_prep_lock = threading.Lock()


def _fingerprint(a: np.ndarray, hashed: bool) -> tuple:
    """What :func:`_unchanged` compares of one variable's values: labels (object arrays)
    copied; other arrays by their shape and bytes (equal bytes: equal values; a NaN of
    another payload or a zero of another sign is a change, prepared again), or the
    blake2b digest of those bytes when ``hashed``."""
    if a.dtype.kind == "O":
        if hashed and a.size > PREP_CACHE_MAX_OBJECTS:
            raise ValueError("too many labels to copy")
        return ("O", np.array(a, copy=True))
    if hashed:
        import hashlib

        return ("h", a.shape, hashlib.blake2b(np.ascontiguousarray(a).data,
                                              digest_size=32).digest())
    return ("b", a.shape, a.tobytes())


def _same_fingerprint(a: np.ndarray, fp: tuple, hashed: bool) -> bool:
    if fp[0] == "O":
        return a.dtype.kind == "O" and _same(a, fp[1])
    return a.dtype.kind != "O" and _fingerprint(a, hashed) == fp


def _snapshot(table: xr.Dataset) -> dict | None:
    """What :func:`_unchanged` compares of ``table`` later: every variable's dims, dtype,
    attrs (copied) and values (:func:`_fingerprint`: copied, or hashed when the table is
    above :data:`PREP_CACHE_MAX_BYTES`), the table's attrs, and its indexes (xarray's
    indexes are immutable: the same index object holds the same labels); None when the
    table holds anything not comparable."""
    import copy

    hashed = sum(v.nbytes for v in table.variables.values()) > PREP_CACHE_MAX_BYTES
    try:
        return {"vars": {k: (v.dims, v.dtype, _fingerprint(v.values, hashed),
                             copy.deepcopy(dict(v.attrs)))
                         for k, v in table.variables.items()},
                "attrs": copy.deepcopy(dict(table.attrs)),
                "indexes": dict(table.xindexes),
                "hashed": hashed}
    except Exception:  # noqa: BLE001 - anything odd is simply not kept
        return None


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)
    except Exception:  # noqa: BLE001 - not comparable: not the same
        return False


def _unchanged(table: xr.Dataset, snap: dict) -> bool:
    """Whether ``table`` holds what ``snap`` kept (values compared in full or by digest,
    every call: an edit in place is seen)."""
    vs = table.variables
    if set(vs) != set(snap["vars"]) or not _attrs_same(table.attrs, snap["attrs"]):
        return False
    idx, idx0, hashed = table.xindexes, snap["indexes"], snap["hashed"]
    for k, (dims, dtype, fp, attrs) in snap["vars"].items():
        v = vs[k]
        if v.dims != dims or v.dtype != dtype or not _attrs_same(v.attrs, attrs):
            return False
        if k in idx0 and idx.get(k) is idx0[k]:
            continue  # the same immutable index: the same labels
        a = v.values
        if fp[0] == "b":  # _same_fingerprint's test, inline (most variables)
            if a.dtype.kind == "O" or a.shape != fp[1] or a.tobytes() != fp[2]:
                return False
        elif not _same_fingerprint(a, fp, hashed):
            return False
    return True


def _attrs_same(a: Mapping, b: Mapping) -> bool:
    if not a and not b:
        return True
    return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)


def _drop_entry(ref: Any) -> None:
    """Weakref callback: the table of an entry was freed, its prepared model goes too (no
    lock: it may run while this thread holds it; an entry left behind by a race is
    dropped on the next insertion)."""
    _prep_cache[:] = [e for e in list(_prep_cache) if e[0] is not ref]


def _prepared_for(table: xr.Dataset) -> Prepared:
    """:func:`prepare_model` of a labelled table (defaults: preprocessed, checked), kept for
    the next call on the same table object with the same content: a table edited after
    the call (in place or not) is compared against what was kept (:func:`_snapshot`), and
    prepared (and validated) again.  Validation runs once per content."""
    with _prep_lock:
        entries = list(_prep_cache)
    for ref, snap, prep in entries:
        if ref() is table and _unchanged(table, snap):
            return prep
    snap = _snapshot(table)
    prep = prepare_model(table)
    if snap is not None:
        import weakref

        with _prep_lock:
            keep = [e for e in _prep_cache if e[0]() is not None and e[0]() is not table]
            _prep_cache[:] = [(weakref.ref(table, _drop_entry), snap, prep),
                              *keep][:PREP_CACHE_SIZE]
    return prep


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
#: The kernel layouts of a single run (``simulate(layout=...)``).
LAYOUTS = ("auto", "rows", "fused", "parallel", "csc")

#: Stored cells (pool rows included) from which ``layout="auto"`` runs the parallel sweep
#: (:func:`simcore.dynamic._fused.run_fused_par`).  Measured on the 2-core benchmark
#: machine (docs/performance.md): on ``kiuchi-2025-3m``'s table (15 thousand cells) two
#: threads were slower than the serial sweep (a parallel launch a day costs more than the
#: day's cells), on the 1,000-sector table (400 thousand cells) 1.7x faster; the rule
#: switches between the two, on the table's size alone, never on the number of threads.
PARALLEL_MIN_CELLS = 2**18


def choose_layout(n: int, nnz: int) -> str:
    """The layout ``simulate(layout="auto")`` runs a table of ``n`` sectors (pool rows
    included) and ``nnz`` stored cells on: the fused column sweep
    (:func:`simcore.dynamic._fused.run_fused`), faster than ``run_one`` (``"csc"``, two
    passes a day) and than the dense rows (``"rows"``) on every table measured, 37 to
    3,000 sectors, dense or not; from :data:`PARALLEL_MIN_CELLS` cells its parallel form
    (``"parallel"``, :func:`simcore.dynamic._fused.run_fused_par`: column blocks on every
    thread numba has).  A function of the table's size alone: the results of a run do not
    depend on the machine's number of threads (docs/methodology.md, docs/performance.md)."""
    del n
    return "parallel" if nnz >= PARALLEL_MIN_CELLS else "fused"


def simulate(
    table: xr.Dataset | Prepared,
    shocks: Any = (),
    *,
    params: DynamicParams | None = None,
    days: int = 365,
    record: Sequence[str] = ("output", "final_demand_unmet", "imports"),
    gdp_denominator: float | None = None,
    gdp_denominator_source: str | None = None,
    layout: str = "auto",
) -> xr.Dataset:
    """Simulate the daily propagation of shocks through a single-region IO table.

    A multi-regional table (with a ``region`` dimension) or the result of
    :func:`simcore.dynamic.mrio.prepare_mrio` runs on the multi-regional engine,
    :func:`simcore.dynamic.mrio.simulate_mrio` (same arguments; shocks may also be
    :class:`~simcore.dynamic.shocks.ExportCut`; docs/mrio.md).

    Parameters
    ----------
    table : xarray.Dataset or Prepared
        A simcore table (negative cells are preprocessed, see :func:`prepare_model`) or the
        result of :func:`prepare_model` (to reuse the lowering across calls).  A labelled
        table's prepared model is kept for the next call on the same table object while
        its content is unchanged (every variable and attribute compared with a copy
        kept, or by a digest of the values above :data:`PREP_CACHE_MAX_BYTES`): it is
        validated and prepared once per content, and an edit, in place or not, is seen.
    shocks : ImportCut, CapacityShock, DemandShock or a sequence of them
    params : DynamicParams, optional
        Model parameters (defaults: :class:`DynamicParams`).
    days : int, default 365
        Horizon in days (1..36500).
    record : sequence of str
        Daily records to keep, among ``"output"``, ``"final_demand_unmet"``, ``"imports"``
        (import supply of cut products) and ``"stocks"`` (stocks of cut products held by all
        buyers).  The daily GDP loss and the cumulative losses by sector are always kept.
    gdp_denominator : float, optional
        Annual GDP used for the loss share, in table units; default the table's GDP-like value
        added (:func:`simcore.tables.gdp`).
    gdp_denominator_source : str, optional
        Where the denominator comes from (stored in attrs).
    layout : {"auto", "rows", "fused", "parallel", "csc"}, default "auto"
        The kernel's storage of the table (docs/methodology.md, "The supply-chain
        engine"): ``"rows"``
        dense product rows (:func:`simcore.dynamic._rows.run_rows`, vectorised),
        ``"fused"`` sparse buyer columns swept once a day
        (:func:`simcore.dynamic._fused.run_fused`), ``"parallel"`` the same sweep over
        fixed column blocks on every thread (:func:`simcore.dynamic._fused.run_fused_par`),
        ``"csc"`` sparse buyer columns in two passes a day
        (:func:`simcore.dynamic._kernels.run_one`); ``"auto"`` (:func:`choose_layout`) the
        fused sweep, in parallel on large tables; multi-regional tables run their own
        kernel.  All give the same numbers bit for bit, except the stock gap share on rows
        and every sum on ``"parallel"`` (summed block by block), which agree to round-off
        (1e-12 relative); ``"parallel"`` gives the same bits on any number of threads.

    Returns
    -------
    xarray.Dataset
        ``gdp_loss (time)`` daily GDP-like value-added loss; ``cumulative_gdp_loss (time)``;
        ``value_added_loss (sector)`` cumulative by sector; ``value_added_loss_by_component
        (component, sector)``; ``output_loss (sector)`` cumulative; ``gdp_loss_total`` and
        ``gdp_loss_share`` scalars (net: value added above baseline, from overproduction,
        counts against the loss); ``gdp_gain (time)``, ``gdp_gain_total`` and
        ``gdp_loss_gross_total``, which keep those gains apart (gross loss =
        net loss + gains); and the requested daily records.  Money is in the table's unit
        (``attrs['unit']``).

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("japan-2015-37")
    >>> cut = sc.CapacityShock(sector="35", share=0.1, start=0, duration=30)
    >>> res = sc.simulate(t, cut, days=120)
    >>> bool(res.gdp_loss_total > 0)
    True
    """
    params = params if params is not None else DynamicParams()
    if not isinstance(params, DynamicParams):
        raise ParameterError(f"params: expected a DynamicParams, got {type(params).__name__}")
    T = check_days(days)
    shocks = _check_shocks(shocks)
    if layout not in LAYOUTS:
        raise ParameterError(f"layout = {layout!r}: expected one of {', '.join(map(repr, LAYOUTS))}")
    for r in record:
        if r not in RECORDS:
            raise ParameterError(f"record: unknown record {r!r}; allowed: {', '.join(RECORDS)}")
    if gdp_denominator is not None:
        positive_number(gdp_denominator, f"gdp_denominator = {gdp_denominator!r}: expected a "
                                         "positive number (annual GDP in table units)")
    if not isinstance(table, (Prepared, xr.Dataset)):
        raise TableError(f"simulate: table must be an IO table (xarray.Dataset) or the result "
                         f"of prepare_model, got {type(table).__name__}")
    prep = table if isinstance(table, Prepared) else _prepared_for(table)
    n = prep.n
    check_record_bytes(T * n * 8 * len(record),
                       f"record: {len(record)} daily records of {n} sectors over {T} days",
                       "record fewer series or use sweeps")
    pj = params_json(params)
    sj = shocks_json(shocks)
    low, agg = _lowered(prep, shocks, params, T, pj, sj)
    p2 = low.prep
    n2 = p2.n
    K = low.sp_idx.shape[0]

    nnz = p2.A.shape[0]
    gdp_loss = np.zeros(T)
    out_cum = np.zeros(n2)
    rec_x = np.zeros((T if "output" in record else 0, n2))
    rec_fdu = np.zeros((T if "final_demand_unmet" in record else 0, n2))
    rec_imp = np.zeros((T if "imports" in record else 0, K))
    rec_sp = np.zeros((T if "stocks" in record else 0, K))
    gdp_gain = np.zeros(T)
    out_dem = np.zeros(n2)
    kind = choose_layout(n2, nnz) if layout == "auto" else layout
    # the result reads the last day's gaps only; the fused kernel then sums the stock gap
    # on that day alone (simcore.dynamic._fused.run_fused), the others record every day's
    gap = np.zeros((1 if kind == "fused" else T, 2))
    info = np.zeros(1, dtype=np.int64)
    records = kn.Records(gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_sp, gdp_gain, gap,
                         info, out_dem)
    if kind == "rows":
        from . import _rows

        status = _rows.run_single_rows(low, kernel_table(low, params), kernel_special(low),
                                       kernel_shocks(low), kernel_options(params), records)
    elif kind == "fused":
        status = kn.run_single_fused(kernel_table(low, params), kernel_special(low),
                                         kernel_shocks(low), kernel_options(params), records)
    elif kind == "parallel":
        from . import _fused

        status = _fused.run_single_fused_par(kernel_table(low, params), kernel_special(low),
                                             kernel_shocks(low), kernel_options(params),
                                             records)
    else:
        from . import _kernels

        status = _kernels.run_single(kernel_table(low, params), kernel_special(low),
                                     kernel_shocks(low), kernel_options(params),
                                     kn.work_arrays(nnz, n2, K), records)
    raise_for_status(int(status), where="simulate", day=int(info[0]))
    special = low.special_orig
    if low.split is not None:
        sp = low.split
        n = sp.n
        out_cum = out_cum[:n]
        out_dem = out_dem[:n]
        if rec_x.shape[0]:
            rec_x = rec_x[:, :n]
        if rec_fdu.shape[0]:
            fdu = rec_fdu[:, :n].copy()
            np.add.at(fdu, (slice(None), sp.parent), rec_fdu[:, n:])
            rec_fdu = fdu
        # imports and stocks of each original special product: its row plus its pools
        # (``agg``: :func:`_pool_sums`)
        rec_imp = rec_imp @ agg if rec_imp.shape[0] else np.zeros((0, len(special)))
        rec_sp = rec_sp @ agg if rec_sp.shape[0] else np.zeros((0, len(special)))
    return _result(prep, params, shocks, T, gdp_loss, out_cum, rec_x, rec_fdu, rec_imp,
                   rec_sp, special, gdp_denominator, gdp_denominator_source, gdp_gain,
                   out_dem, gap=gap, pj=pj, sj=sj)


#: How many lowered runs (:func:`_lowered`) a prepared model keeps, and the most bytes of
#: arrays one may hold to be kept.
LOWERED_MEMO_SIZE = 4
LOWERED_MEMO_MAX_BYTES = 32 * 2**20


def _pool_sums(prep: Prepared, low: Lowered) -> np.ndarray | None:
    """Under stocks per origin: the ``(K2, K)`` 0/1 matrix that sums the imports and stocks
    of the lowered run's special rows (pool rows included) into the original table's
    special products (each product: its row plus its pools); None without a split."""
    if low.split is None:
        return None
    p2 = low.prep
    names = [prep.sectors[i] for i in low.special_orig]
    agg = np.zeros((low.sp_idx.shape[0], len(names)))
    for k, i in enumerate(low.sp_idx):
        agg[k, names.index(p2.sectors[i].split("@", 1)[0])] = 1.0
    return agg


def _lowered(prep: Prepared, shocks: Sequence[Any], params: DynamicParams, T: int,
             pj: str, sj: str) -> tuple[Lowered, np.ndarray | None]:
    """:func:`lower` and :func:`_pool_sums` of a run of :func:`simulate`, kept on ``prep``
    for the next call with parameters and shocks of the same content (``pj``, ``sj``: their
    JSON, :func:`~simcore.dynamic.common.params_json` and
    :func:`~simcore.dynamic.common.shocks_json`) and the same horizon, on a table of at
    most :data:`MEMO_MAX_CELLS` cells (at most :data:`LOWERED_MEMO_SIZE` runs, each of at
    most :data:`LOWERED_MEMO_MAX_BYTES`).  Shared by the runs: the kernels only read their
    inputs (tests/test_fused.py checks every layout), and :func:`simulate` hands none of
    these arrays out."""
    if prep.A.shape[0] > MEMO_MAX_CELLS:
        low = lower(prep, shocks, params, T, pj=pj)
        return low, _pool_sums(prep, low)
    key = (pj, sj, int(T))
    memo = prep._low_memo
    hit = memo.get(key)
    if hit is not None:
        rest, p2, agg = hit
        return Lowered(prep=prep if p2 is None else p2, **rest), agg
    low = lower(prep, shocks, params, T, pj=pj)
    agg = _pool_sums(prep, low)
    # kept without ``prep`` itself (no reference cycle from the model to itself)
    rest = {k: v for k, v in vars(low).items() if k != "prep"}
    if sum(v.nbytes for v in rest.values() if isinstance(v, np.ndarray)) \
            <= LOWERED_MEMO_MAX_BYTES:
        with _prep_lock:
            memo[key] = (rest, None if low.prep is prep else low.prep, agg)
            while len(memo) > LOWERED_MEMO_SIZE:
                memo.pop(next(iter(memo)))
    return low, agg


def recovered_rule(prep: Prepared, gdp_loss_day: Any, gap_day: Any) -> np.ndarray:
    """Whether a day counts as back at baseline (:func:`simcore.dynamic.common.is_recovered`)
    from the day's net GDP loss in table units and ``gap_day`` ``(..., 2)``: output and
    stock gap shares as the kernel reports them."""
    last = np.asarray(gdp_loss_day) / max(prep.gdp_annual / DAYS_PER_YEAR, 1e-300)
    g = np.asarray(gap_day)
    return is_recovered(last, g[..., 0], g[..., 1])


#: How many coordinate sets and result templates a prepared model keeps.
COORDS_MEMO_SIZE = 16


def _result_coords(prep: Prepared, T: int, special: Sequence[int]) -> xr.Coordinates:
    """The coordinates of a result on ``prep`` over ``T`` days with these special products
    (``sector`` and its names, ``time``, ``component``, ``product``), with their indexes:
    built once per prepared model, horizon and special products and shared by the results
    (xarray's indexes are immutable, and a Dataset built on them holds its own variables;
    :func:`_result` gives each result its own copy of the coordinates without an index).
    Built from copies: an edit of the table after the call does not reach them."""
    key = (int(T), tuple(int(i) for i in special))
    memo = prep._coords_memo
    hit = memo.get(key)
    if hit is not None:
        return hit
    coords = {k: (v[0], np.array(v[1], copy=True)) if isinstance(v, tuple)
              else np.array(v, copy=True) for k, v in prep.coords.items()}
    coords["time"] = np.arange(T)
    coords["component"] = list(prep.comp_names)
    coords["product"] = [prep.sectors[i] for i in special]
    val = xr.Coordinates(coords)
    with _prep_lock:
        memo[key] = val
        while len(memo) > COORDS_MEMO_SIZE:
            memo.pop(next(iter(memo)))
    return val


@functools.lru_cache(maxsize=16)
def _result_vars(unit: str) -> dict[str, tuple[tuple[str, ...], dict[str, str]]]:
    """Every variable a result of :func:`simulate` may hold, in the result's order: its
    dims and attrs (the same for every run in a table's ``unit``; each result copies the
    attrs)."""
    return {
        "gdp_loss": (("time",), {"units": f"{unit} per day",
                                 "long_name": "GDP-like value-added loss"}),
        "cumulative_gdp_loss": (("time",), {"units": unit,
                                            "long_name": "cumulative GDP-like VA loss"}),
        "value_added_loss": (("sector",), {"units": unit,
                                           "long_name": "cumulative value-added loss"}),
        "value_added_loss_by_component": (
            ("component", "sector"),
            {"units": unit, "long_name": "cumulative value-added loss by component"}),
        "output_loss": (("sector",), {"units": unit,
                                      "long_name": "cumulative gross-output loss"}),
        "output_baseline": (("sector",), {"units": f"{unit} per day",
                                          "long_name": "baseline daily output"}),
        "gdp_loss_total": ((), {"units": unit}),
        "gdp_loss_share": ((), {"units": "1", "long_name": "loss as a share of annual GDP"}),
        # overproduction can lift some sectors above baseline; the net loss
        # above nets those gains against the losses, these keep them apart
        "gdp_gain": (("time",), {"units": f"{unit} per day",
                                 "long_name": "value added above baseline, summed over "
                                              "sectors"}),
        "gdp_gain_total": ((), {"units": unit,
                                "long_name": "value-added gains (overproduction)"}),
        "gdp_loss_gross_total": ((), {"units": unit,
                                      "long_name": "value-added losses before netting gains"}),
        "output_loss_demand": (
            ("sector",),
            {"units": unit, "long_name": "cumulative output loss, demand-constrained part",
             "description": "sum over days of min(x0 - x, max(x0 - d, 0)): the loss the "
                            "customers' lower orders alone would cause"}),
        "output_loss_supply": (
            ("sector",),
            {"units": unit, "long_name": "cumulative output loss, supply-constrained part",
             "description": "output loss minus its demand-constrained part: inputs or "
                            "capacity bind (net of output above baseline)"}),
        "value_added_loss_demand": (("sector",), {"units": unit, "long_name": "value-added "
                                                  "loss, demand-constrained part"}),
        "value_added_loss_supply": (("sector",), {"units": unit, "long_name": "value-added "
                                                  "loss, supply-constrained part"}),
        "output": (("time", "sector"), {"units": f"{unit} per day"}),
        "onset_day": (("sector",), {"units": "day", "long_name": (
            f"first day output is more than {100 * ONSET_SHARE:g} % below baseline "
            "(-1: never)")}),
        "value_added_loss_daily": (("time", "sector"), {"units": f"{unit} per day"}),
        "final_demand_unmet": (("time", "sector"),
                               {"units": f"{unit} per day",
                                "long_name": "final demand and exports not delivered"}),
        "import_supply": (("time", "product"), {"units": f"{unit} per day"}),
        "stocks": (("time", "product"), {"units": unit,
                                         "long_name": "stocks held by all buyers"}),
    }


def _result_template(prep: Prepared, T: int, special: Sequence[int],
                     data: Mapping[str, Any]) -> tuple[xr.Dataset, list[str]]:
    """A result's Dataset without its values, for ``Dataset.copy(data=...)``: the variables
    named in ``data`` (name: values; dims and attrs from :func:`_result_vars`) on
    :func:`_result_coords`, each on a read-only zero of its shape (no memory), and the
    names of its coordinates without an index (each result copies them).
    Kept per prepared model by horizon, special products and the variables' names (which
    fix every shape on ``prep``).  Copying it skips the merge and alignment of building a
    Dataset (on Japan-187 the copy took under half the time); the copy has its own
    variables and attrs, and shares the template's immutable indexes."""
    key = ("template", int(T), tuple(int(i) for i in special), tuple(data))
    memo = prep._coords_memo
    hit = memo.get(key)
    if hit is not None:
        return hit
    spec = _result_vars(prep.unit)
    zeros = {k: xr.Variable(spec[k][0], np.broadcast_to(np.zeros((), np.asarray(v).dtype),
                                                        np.shape(v)), dict(spec[k][1]))
             for k, v in data.items()}
    ds = xr.Dataset(zeros, coords=_result_coords(prep, T, special))
    val = (ds, [k for k in ds.coords if k not in ds.xindexes])
    with _prep_lock:
        memo[key] = val
        while len(memo) > COORDS_MEMO_SIZE:
            memo.pop(next(iter(memo)))
    return val


def _result(prep, params, shocks, T, gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_sp,
            special, gdp_denominator, gdp_denominator_source, gdp_gain,
            out_dem=None, gap=None, pj=None, sj=None) -> xr.Dataset:
    unit = prep.unit
    denom = float(gdp_denominator) if gdp_denominator is not None else prep.gdp_annual
    if not (math.isfinite(denom) and denom > 0):
        raise ParameterError(f"gdp_denominator = {gdp_denominator!r}: expected a positive number")
    loss_sum, gain_sum = gdp_loss.sum(), gdp_gain.sum()  # each summed once
    loss_total = float(loss_sum)
    gain_total = float(gain_sum)
    data: dict[str, Any] = {
        "gdp_loss": gdp_loss,
        "cumulative_gdp_loss": np.cumsum(gdp_loss),
        "value_added_loss": prep.c * out_cum,
        "value_added_loss_by_component": prep.comp_coef * out_cum[None, :],
        "output_loss": out_cum,
        "output_baseline": prep.x0.copy(),
        "gdp_loss_total": loss_total,
        "gdp_loss_share": loss_total / denom,
        "gdp_gain": gdp_gain,
        "gdp_gain_total": gain_total,
        "gdp_loss_gross_total": float(loss_sum + gain_sum),
    }
    if out_dem is not None:
        sup = out_cum - out_dem
        data["output_loss_demand"] = out_dem
        data["output_loss_supply"] = sup
        data["value_added_loss_demand"] = prep.c * out_dem
        data["value_added_loss_supply"] = prep.c * sup
    if rec_x.shape[0]:
        data["output"] = rec_x
        data["onset_day"] = onset_day(rec_x, prep.x0)
        # c (x0 - x) in one array written in place: the same operations as
        # prep.c[None, :] * (prep.x0[None, :] - rec_x)
        vad = np.subtract(prep.x0[None, :], rec_x)
        vad *= prep.c[None, :]
        data["value_added_loss_daily"] = vad
    if rec_fdu.shape[0]:
        data["final_demand_unmet"] = rec_fdu
    if rec_imp.shape[0]:
        data["import_supply"] = rec_imp
    if rec_sp.shape[0]:
        data["stocks"] = rec_sp
    template, noindex = _result_template(prep, T, special, data)
    ds = template.copy(deep=False, data=data)
    # the coordinates without an index share their data with the template kept on
    # ``prep``: each result gets its own (an edit in place must not reach another result)
    vs = ds.variables
    for k in noindex:
        vs[k].data = np.array(vs[k].data, copy=True)
    last = gdp_loss[-1] / max(prep.gdp_annual / DAYS_PER_YEAR, 1e-300)
    gap_last = np.asarray(gap[-1]) if gap is not None else np.zeros(2)
    ds.attrs.update({
        "unit": unit,
        "days": T,
        "gdp_denominator": denom,
        "gdp_denominator_source": gdp_denominator_source or "GDP-like value added of the table",
        "value_added_convention": _VA_CONVENTION,
        "recovered": int(recovered_rule(prep, gdp_loss[-1], gap_last)),
        "final_loss_rate_share_of_daily_gdp": float(last),
        "final_output_gap_share": float(gap_last[0]),
        "final_stock_gap_share": float(gap_last[1]),
        "shocks": sj if sj is not None else shocks_json(shocks),
        "params": pj if pj is not None else params_json(params),
        "preprocessing": prep.preprocessing,
        "engine": "supply-chain",
        "simcore_version": __version__,
    })
    return ds


_VA_CONVENTION = ("fixed GDP-like VA coefficients times output (no lag); "
                  "VA rows excluded from GDP: " + ", ".join(_tables.GDP_EXCLUDED_VA_ITEMS))


def run_lowered_rows(low, params, T: int, *, record_output: bool = False) -> dict:
    """Run a lowered scenario with the dense-row kernel
    (:func:`simcore.dynamic._rows.run_rows`); bare arrays (``gdp_loss``, ``gdp_gain``,
    ``out_cum``, ``out_dem``, ``gap``, ``status``, ``info`` and optionally ``output``)."""
    n = low.prep.n
    gl, gg, oc, od = np.zeros(T), np.zeros(T), np.zeros(n), np.zeros(n)
    rx = np.zeros((T if record_output else 0, n))
    gap, info = np.zeros((T, 2)), np.zeros(1, dtype=np.int64)
    empty = np.zeros((0, low.sp_idx.shape[0]))
    from . import _rows

    st = _rows.run_single_rows(low, kernel_table(low, params), kernel_special(low),
                               kernel_shocks(low), kernel_options(params),
                               kn.Records(gl, oc, rx, np.zeros((0, n)), empty, empty, gg,
                                          gap, info, od))
    out = {"gdp_loss": gl, "gdp_gain": gg, "out_cum": oc, "out_dem": od, "gap": gap,
           "status": int(st), "info": int(info[0])}
    if record_output:
        out["output"] = rx
    return out
