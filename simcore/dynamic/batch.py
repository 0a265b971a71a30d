"""Many scenarios on one prepared table in one call: the labelled layer over
:func:`simcore.dynamic._kernels.run_batch`.

Each scenario is a pair ``(shocks, params)``.  It is lowered with the helpers of
:mod:`simcore.dynamic.model` (special products, import schedules, domestic shocks, the
dependency and inventory rows of the special products), so a scenario run here gives the
same numbers as :func:`simcore.simulate` with the same arguments (to round-off: the same
kernel, :func:`~simcore.dynamic._kernels.run_one`, runs either way).

The batch kernel varies per scenario only the arrays with a leading scenario axis: import
schedules, stockpiles, the dependency shares and inventory targets of the *special*
(origin-split) products, capacity and demand shock schedules, ``inventory_tau`` and
``alpha_max``.  Everything else is shared by one kernel call: which products are special,
which sectors are shocked, the default ``inventory_days`` and ``dependency``, the rows of
other products, elasticities, the rationing rule and ``alpha_tau``.  Scenarios are therefore
grouped by these shared settings (the *group key*) and each group runs as one parallel
kernel call; a batch whose scenarios differ only in per-scenario quantities is one call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr


from .._jit import raise_for_status
from .._version import __version__
from ..errors import ParameterError
from . import model as _m
from .common import MAX_RECORD_BYTES, check_days
from .params import DynamicParams
from . import _kernels as kn
from .shocks import CapacityShock, DemandShock

__all__ = ["simulate_batch", "run_lowered", "BatchResult", "group_key"]


def _canon(v: Any) -> Any:
    """A hashable, order-independent form of a parameter value."""
    if isinstance(v, Mapping):
        return tuple(sorted((str(k), _canon(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_canon(x) for x in v)
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return float(v)
    return v


def group_key(prep: _m.Prepared, shocks: Sequence[Any], params: DynamicParams) -> tuple:
    """The settings a kernel call shares; scenarios with equal keys run in one call."""
    special = tuple(_m._special_products(prep, shocks, params))
    sp_names = {prep.sectors[i] for i in special}
    cap = tuple(sorted({str(s.sector) for s in shocks if isinstance(s, CapacityShock)}))
    dem = tuple(sorted({str(s.sector) for s in shocks if isinstance(s, DemandShock)}))
    return (
        special, cap, dem,
        float(params.inventory_days), float(params.dependency), params.rationing,
        float(params.alpha_tau),
        _canon({k: v for k, v in params.inventory_days_by_product.items()
                if str(k) not in sp_names}),
        _canon({k: v for k, v in params.dependency_by_product.items()
                if str(k) not in sp_names}),
        _canon(params.elasticity_by_product),
        params.dependency_cells.digest if params.dependency_cells is not None else None,
        params.inventory_cells.digest if params.inventory_cells is not None else None,
        # stocks per origin: the kernel's table depends on the origin shares
        _canon(params.import_origins) if params.origin_stocks else None,
    )


def _zfull(prep: _m.Prepared, special: Sequence[int]) -> np.ndarray:
    """Baseline daily flows of each special product to every buyer, ``(K, n)``."""
    n = prep.n
    col = np.repeat(np.arange(n), np.diff(prep.colptr))
    out = np.zeros((len(special), n))
    for k, i in enumerate(special):
        hit = prep.rowidx == i
        out[k, col[hit]] = prep.Z0[hit]
    return out


def _special_rows(prep: _m.Prepared, params: DynamicParams, special: Sequence[int],
                  zfull: np.ndarray, base_th: np.ndarray | None,
                  base_d: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``theta_sp`` and ``tgt_sp`` exactly as :func:`simcore.dynamic.model._cell_arrays`
    (``base_th``/``base_d``: the group's dense cell matrices, or None)."""
    pos = {i: k for k, i in enumerate(special)}
    K, n = len(special), prep.n
    sp = np.asarray(special, dtype=np.int64)
    theta_sp = (base_th[sp].copy() if base_th is not None
                else np.full((K, n), float(params.dependency)))
    days = base_d[sp].copy() if base_d is not None else np.full((K, n), float(params.inventory_days))
    for prod, spec in params.inventory_days_by_product.items():
        what = f"inventory_days_by_product[{prod!r}]"
        i = prep.idx(prod, what)
        if i in pos:
            days[pos[i]] = _m._row_values(prep, spec, days[pos[i]], what)
    for prod, spec in params.dependency_by_product.items():
        what = f"dependency_by_product[{prod!r}]"
        i = prep.idx(prod, what)
        if i in pos:
            theta_sp[pos[i]] = _m._row_values(prep, spec, theta_sp[pos[i]], what)
    return theta_sp, days * zfull


class BatchResult(dict):
    """Bare arrays of a batch: ``gdp_loss (s, T)``, ``out_cum (s, n)``, ``status (s,)``,
    ``info (s,)`` and, if recorded, ``output (s, T, n)``."""


def run_lowered(prep: _m.Prepared, scenarios: Sequence[tuple[Any, DynamicParams]], days: int,
                *, record_output: bool = False) -> BatchResult:
    """Run ``scenarios`` over ``days`` days; bare arrays in scenario order (no labels).

    Scenarios are grouped by :func:`group_key`; each group is one call of the parallel
    batch kernel.  Failed scenarios have a non-zero ``status`` (see :mod:`simcore._jit`);
    nothing is raised for them here.
    """

    T = check_days(days)
    items = [(_m._check_shocks(sh), p if p is not None else DynamicParams())
             for sh, p in scenarios]
    for _, p in items:
        if not isinstance(p, DynamicParams):
            raise ParameterError(f"params: expected a DynamicParams, got {type(p).__name__}")
    ns, n = len(items), prep.n
    out = BatchResult(
        gdp_loss=np.zeros((ns, T)), out_cum=np.zeros((ns, n)), gap=np.zeros((ns, T, 2)),
        status=np.zeros(ns, dtype=np.int64), info=np.full(ns, -1, dtype=np.int64))
    if record_output:
        out["output"] = np.zeros((ns, T, n))
    groups: dict[tuple, list[int]] = {}
    for s, (sh, p) in enumerate(items):
        groups.setdefault(group_key(prep, sh, p), []).append(s)
    for key, members in groups.items():
        sh0, p0 = items[members[0]]
        low0 = _m.lower(prep, sh0, p0, T)
        p2 = low0.prep
        n2 = p2.n
        K = low0.sp_idx.shape[0]
        split_mode = low0.split is not None
        if not split_mode:
            special = list(low0.sp_idx)
            zfull = _zfull(prep, special)
            base_th = _m._dense_base(prep, p0.dependency_cells, p0.dependency)
            base_d = _m._dense_base(prep, p0.inventory_cells, p0.inventory_days)
        m = len(members)
        C, D = low0.cap_idx.shape[0], low0.dem_idx.shape[0]
        impcap = np.empty((m, T, K))
        stock0 = np.empty((m, K))
        relmax = np.empty((m, K))
        theta_sp = np.empty((m, K, n2))
        tgt_sp = np.empty((m, K, n2))
        capfac = np.empty((m, T, C))
        demfac = np.empty((m, T, D))
        exfac = np.empty((m, T, D))
        inv_tau = np.empty(m)
        alpha_max = np.empty(m)
        for q, s in enumerate(members):
            sh, p = items[s]
            if split_mode:
                # stocks per origin: the pool rows' arrays come from a full lowering
                lw = low0 if q == 0 else _m.lower(prep, sh, p, T)
                impcap[q], stock0[q], relmax[q] = lw.impcap, lw.stock0, lw.relmax
                theta_sp[q], tgt_sp[q] = lw.theta_sp, lw.tgt_sp
                capfac[q], demfac[q], exfac[q] = lw.capfac, lw.demfac, lw.exfac
            else:
                impcap[q], stock0[q], relmax[q] = _m._lower_imports(prep, sh, p, special, T)
                theta_sp[q], tgt_sp[q] = _special_rows(prep, p, special, zfull, base_th,
                                                       base_d)
                _, capfac[q], _, demfac[q], exfac[q] = _m._lower_domestic(prep, sh, T)
            inv_tau[q] = 1.0 / p.inventory_tau
            alpha_max[q] = float(p.alpha_max)
        gl = np.zeros((m, T))
        oc = np.zeros((m, n2))
        rx = np.zeros((m, T, n2)) if record_output else np.zeros((0, T, n2))
        st = np.zeros(m, dtype=np.int64)
        inf = np.zeros(m, dtype=np.int64)
        gp = np.zeros((m, T, 2))
        kn.run_batch(
            p2.colptr, p2.rowidx, p2.A, low0.tgt, low0.theta, low0.sigma, p2.x0, p2.f0, p2.e0,
            p2.mu, p2.c, inv_tau,
            low0.sp_pos, low0.sp_idx, impcap, stock0, relmax, theta_sp, tgt_sp,
            low0.cap_idx, capfac, low0.dem_idx, demfac, exfac,
            kn.RATION_FIRMS_FIRST if p0.rationing == "firms_first" else kn.RATION_PROPORTIONAL,
            alpha_max, float(p0.alpha_tau),
            gl, oc, rx, np.zeros((0, T, n2)), st, inf, gp, np.zeros((0, n2)),
        )
        idx = np.asarray(members)
        out["gdp_loss"][idx] = gl
        out["out_cum"][idx] = oc[:, :n]
        out["status"][idx] = st
        out["info"][idx] = inf
        out["gap"][idx] = gp
        if record_output:
            out["output"][idx] = rx[:, :, :n]
    out["groups"] = len(groups)
    return out


def simulate_batch(
    table: xr.Dataset | _m.Prepared,
    scenarios: Sequence[tuple[Any, DynamicParams | None]],
    *,
    days: int = 365,
    record: Sequence[str] = (),
    gdp_denominator: float | None = None,
) -> xr.Dataset:
    """Simulate many scenarios on one table in parallel.

    Parameters
    ----------
    table : xarray.Dataset or Prepared
        A simcore table or the result of :func:`simcore.dynamic.model.prepare_model`.
    scenarios : sequence of (shocks, params)
        ``shocks`` as for :func:`simcore.simulate` (one shock or a sequence);
        ``params`` a :class:`~simcore.dynamic.params.DynamicParams` or ``None`` (defaults).
    days : int, default 365
        Horizon shared by every scenario.
    record : sequence of str
        ``"output"`` keeps the daily output of every sector (``scenario x time x sector``);
        the daily GDP loss is always kept.
    gdp_denominator : float, optional
        Annual GDP for the loss share (default: the table's GDP-like value added).

    Returns
    -------
    xarray.Dataset
        Over dims ``scenario`` (and ``time``, ``sector``): ``gdp_loss`` daily,
        ``gdp_loss_total``, ``gdp_loss_share``, ``value_added_loss`` and ``output_loss``
        by sector, ``recovered`` and ``status`` (0 = ok).  Equal, scenario by scenario, to
        :func:`simcore.simulate` with the same arguments.

    Raises
    ------
    KernelError
        If a scenario fails in the kernel (the first failure is reported).

    Examples
    --------
    >>> import simcore as sc
    >>> from simcore.dynamic.batch import simulate_batch
    >>> t = sc.datasets.load("japan-2015-37")
    >>> cuts = [(sc.CapacityShock(sector="35", share=s, duration=30), None) for s in (0.1, 0.2)]
    >>> res = simulate_batch(t, cuts, days=60)
    >>> bool(res.gdp_loss_total[1] > res.gdp_loss_total[0])
    True
    """
    for r in record:
        if r != "output":
            raise ParameterError(f"record: {r!r} is not available in batches; allowed: 'output'")
    prep = table if isinstance(table, _m.Prepared) else _m.prepare_model(table)
    scen = list(scenarios)
    T = check_days(days)
    if "output" in record and len(scen) * T * prep.n * 8 > MAX_RECORD_BYTES:
        raise ParameterError(
            f"record: daily output of {len(scen)} scenarios x {T} days x {prep.n} sectors needs "
            f"{len(scen) * T * prep.n * 8 / 1e9:.1f} GB; record nothing or use simcore.sweep")
    r = run_lowered(prep, scen, T, record_output="output" in record)
    bad = np.nonzero(r["status"])[0]
    if bad.size:
        s = int(bad[0])
        raise_for_status(int(r["status"][s]), where=f"simulate_batch (scenario {s})",
                         day=int(r["info"][s]))
    denom = float(gdp_denominator) if gdp_denominator is not None else prep.gdp_annual
    if not (math.isfinite(denom) and denom > 0):
        raise ParameterError(f"gdp_denominator = {gdp_denominator!r}: expected a positive number")
    unit = prep.unit
    tot = r["gdp_loss"].sum(axis=1)
    coords = dict(prep.coords)
    coords["scenario"] = np.arange(len(scen))
    coords["time"] = np.arange(T)
    data = {
        "gdp_loss": (("scenario", "time"), r["gdp_loss"], {"units": f"{unit} per day"}),
        "gdp_loss_total": (("scenario",), tot, {"units": unit}),
        "gdp_loss_share": (("scenario",), tot / denom, {"units": "1"}),
        "value_added_loss": (("scenario", "sector"), prep.c[None, :] * r["out_cum"],
                             {"units": unit}),
        "output_loss": (("scenario", "sector"), r["out_cum"], {"units": unit}),
        "recovered": (("scenario",), _m.recovered_rule(prep, r["gdp_loss"][:, -1],
                                                  r["gap"][:, -1]), {}),
        "status": (("scenario",), r["status"], {}),
    }
    if "output" in record:
        data["output"] = (("scenario", "time", "sector"), r["output"],
                          {"units": f"{unit} per day"})
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    ds.attrs.update({"unit": unit, "days": T, "gdp_denominator": denom,
                     "kernel_calls": int(r["groups"]), "simcore_version": __version__,
                     "engine": "supply-chain"})
    return ds
