"""simcore's supply-chain engine on multi-regional tables (region x sector).

The engine is the single-region one (:mod:`simcore.dynamic.supply_chain`, equations in
docs/methodology.md) with the nodes of the table's flat region x sector axis, and one
stock rule for trade between regions (docs/mrio.md):

* **Stocks per buyer and input product, over all supplying regions.**  Buyer node
  ``b = (s, j)`` holds one stock ``S_ib`` of product ``i`` whatever region it comes from
  (Pichler-type models on MRIO tables do the same): coefficient
  ``A_ib = sum_r Z0_(r,i),b / x0_b``, target ``n_ib sum_r Z0_(r,i),b``, dependency share
  ``theta_ib``, and one input bound per stock, as in the single-region engine.
* **Orders split over origins in baseline shares.**  The order of the stock,
  ``O_ib = A_ib d_b + (target - S_ib) / tau``, goes to region ``r``'s producer of ``i`` in
  the share ``Z0_(r,i),b / sum_r Z0_(r,i),b``; nothing is redirected to other origins
  when one falls short (a short origin's buyers draw down their stock).
* **Imports from outside the table** (the table's ``M``, if any) are a share ``mu_u`` of
  row ``u``'s deliveries, exactly as in the single-region engine, and can be cut with an
  :class:`~simcore.dynamic.shocks.ImportCut` whose product is a node ``"REGION/SECTOR"``.
* **Export cuts** (:class:`~simcore.dynamic.shocks.ExportCut`): the deliveries of product
  ``i`` from region ``r`` to all buyers (firms and final demand) of a destination region
  are capped at ``(1 - cut) x`` their baseline flow, rationed over the link's buyers by
  the engine's rule; the origin's producer loses the demand it may not serve.  Outside
  the cut's days the link is not capped (restocking orders above baseline are served, as
  from any other supplier).
* Capacity and demand shocks name a node, ``"REGION/SECTOR"``.

Criticality classes and buffers apply by product and buyer *sector* in every region
(:class:`~simcore.dynamic.params.CellMatrix` labels are sector codes); the
``*_by_product`` maps are keyed by product sector code, with buyer keys that are a sector
code (every region) or a node ``"REGION/SECTOR"`` (one buyer), and ``"*"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .. import tables as _tables
from .._checks import positive_number
from .._version import __version__
from ..errors import LabelError, ParameterError, ShockError, TableError
from .. import _jit
from . import _bundles as kn
from .common import ONSET_SHARE, check_days, check_record_bytes, gap_rows_for
from . import supply_chain as _model
from .supply_chain import (_lower_domestic, _lower_imports, _special_products, recovered_rule)
from .params import DynamicParams
from .shocks import CapacityShock, DemandShock, ExportCut, ImportCut, intensity

__all__ = ["PreparedMRIO", "prepare_mrio", "simulate_mrio", "simulate_mrio_batch",
           "third_country_split", "lower_mrio", "MRIO_RECORDS", "FINE_DATASET"]

DAYS_PER_YEAR = 365.0
#: Daily records :func:`simulate_mrio` can keep.
MRIO_RECORDS = ("output", "final_demand_unmet", "imports", "stocks")


@dataclass(frozen=True)
class PreparedMRIO:
    """A multi-regional table lowered to the MRIO kernel's arrays."""

    regions: list[str]
    products: list[str]  # sector codes
    sectors: list[str]  # node labels "REGION/SECTOR" (the flat axis, region-major)
    index: dict[str, int]  # node label -> node
    cptr: np.ndarray  # (p+1) stock cells by buyer
    cprod: np.ndarray  # (nc) product of each cell
    cA: np.ndarray  # (nc) coefficient over all origins
    cZ0: np.ndarray  # (nc) daily baseline flow over all origins
    lptr: np.ndarray  # (nc+1) legs of each cell
    lsup: np.ndarray  # supplier node of each leg
    lw: np.ndarray  # baseline share of each leg in its cell's flow
    x0: np.ndarray
    f0: np.ndarray
    F0: np.ndarray  # (p, R) daily final demand by destination region
    ZR0: np.ndarray  # (p, R) daily intermediate deliveries by destination region
    e0: np.ndarray
    mu: np.ndarray
    m0: np.ndarray
    c: np.ndarray
    nreg: np.ndarray  # region of each node
    comp_names: list[str]
    comp_coef: np.ndarray  # (components, p)
    gdp_annual: float
    gdp_region: np.ndarray  # (R,) annual
    unit: str
    coords: dict[str, Any]
    preprocessing: str = "none"

    @property
    def n(self) -> int:
        """Number of nodes (the kernel's rows)."""
        return len(self.sectors)

    @property
    def R(self) -> int:
        return len(self.regions)

    @property
    def n_products(self) -> int:
        return len(self.products)

    def region_index(self, code: Any, what: str) -> int:
        try:
            return self.regions.index(str(code))
        except ValueError:
            raise LabelError(f"{what}: unknown region {code!r}; expected one of the table's "
                             f"regions {', '.join(self.regions)}") from None

    def product_index(self, code: Any, what: str) -> int:
        try:
            return self.products.index(str(code))
        except ValueError:
            raise LabelError(
                f"{what}: unknown sector or product {code!r}; expected one of the table's "
                f"{self.n_products} sector codes (e.g. {', '.join(self.products[:4])}, ...)"
            ) from None

    def idx(self, code: Any, what: str) -> int:
        """Node of a ``"REGION/SECTOR"`` code (errors name the unknown part)."""
        s = str(code)
        if s in self.index:
            return self.index[s]
        if "/" not in s:
            raise LabelError(
                f"{what}: {code!r} is not a node of the multi-regional table; expected "
                f"'REGION/SECTOR', e.g. {self.sectors[0]!r} (regions "
                f"{', '.join(self.regions)})")
        r, sec = s.split("/", 1)
        self.region_index(r, what)
        self.product_index(sec, what)
        raise LabelError(f"{what}: unknown node {code!r}")  # pragma: no cover


def prepare_mrio(table: xr.Dataset, *, check: bool = True) -> PreparedMRIO:
    """Lower a multi-regional table (``region`` x ``sector``) for :func:`simulate_mrio`.

    The table is validated first (as :func:`simcore.dynamic.supply_chain.prepare_model` does);
    negative intermediate or final-demand cells are refused.
    """
    _tables.check_table(table, "simulate", balance=check, productive=check)
    if not _tables.is_multiregional(table):
        raise TableError("simulate_mrio: expected a multi-regional table (with a 'region' "
                         "dimension); run single-region tables with simcore.simulate")
    f = _tables.flat(table)
    if (f["Z"] < 0).any() or (f["Y"] < 0).any():
        var = "Z" if (f["Z"] < 0).any() else "Y"
        i, j = np.argwhere(f[var] < 0)[0]
        lab = _tables.industry_labels(table)
        raise TableError(f"simulate: the multi-regional table has negative {var} cells (first "
                         f"at row {lab[i]!r}, column {int(j)}); the supply-chain engine needs "
                         "non-negative flows")
    regions = [str(r) for r in table.region.values]
    products = [str(s) for s in table.sector.values]
    R, n = len(regions), len(products)
    p = R * n
    nodes = [f"{r}/{s}" for r in regions for s in products]
    x = f["x"]
    x0 = x / DAYS_PER_YEAR
    Z = f["Z"]  # annual, (p, p); not copied
    nreg = np.repeat(np.arange(R), n).astype(np.int64)
    pos = x0 > 0
    # stock cells (product i, buyer b): flows summed over supplying regions
    Zc = Z.reshape(R, n, p).sum(0)  # (n, p), annual
    Zc[:, ~pos] = 0.0
    cmask = Zc > 0  # (n, p)
    cptr = np.zeros(p + 1, dtype=np.int64)
    cptr[1:] = np.cumsum(cmask.sum(axis=0))
    cb, ci = np.nonzero(cmask.T)  # buyer-major, products ascending
    cZ0 = Zc[ci, cb] / DAYS_PER_YEAR
    cA = cZ0 / x0[cb]
    # legs: supplier nodes (r, i) with a positive flow into the cell, ordered by cell
    # (buyer, product) and then region; weight = the leg's share of the cell's flow
    Zb = Z.T.reshape(p, R, n).transpose(0, 2, 1)  # (buyer, product, region), a view
    lb, li, lr = np.nonzero((Zb > 0) & pos[:, None, None])
    lsup = (lr * n + li).astype(np.int32 if p < 2**31 else np.int64)
    lw = Zb[lb, li, lr] / Zc[li, lb]
    lcell = np.searchsorted(cb * n + ci, lb * n + li)  # cells are sorted by (b, i)
    lptr = np.zeros(cA.size + 1, dtype=np.int64)
    lptr[1:] = np.cumsum(np.bincount(lcell, minlength=cA.size))
    del Zb, lb, li, lr, lcell
    k_cat = f["Y"].shape[1] // R
    F0 = f["Y"].reshape(p, R, k_cat).sum(2) / DAYS_PER_YEAR
    ZR0 = Z.reshape(p, R, n).sum(2) / DAYS_PER_YEAR
    e0 = f["E"].sum(1) / DAYS_PER_YEAR
    m0 = f["M"].sum(1) / DAYS_PER_YEAR
    mu = _tables.import_shares(table).values.reshape(-1)
    c = _tables.gdp_coefficients(table)
    comps, comp_coef = _tables.gdp_component_coefficients(table, f["V"], x)
    gdp_region = np.bincount(nreg, weights=c * x, minlength=R)
    coords: dict[str, Any] = {"region": regions, "sector": products}
    for nm in ("name_en", "name_ja"):
        if nm in table.coords:
            coords[nm] = ("sector", [str(v) for v in table[nm].values])
    return PreparedMRIO(
        regions=regions, products=products, sectors=nodes,
        index={s: u for u, s in enumerate(nodes)},
        cptr=cptr, cprod=ci.astype(np.int64), cA=cA, cZ0=cZ0, lptr=lptr, lsup=lsup, lw=lw,
        x0=x0, f0=F0.sum(1), F0=F0, ZR0=ZR0, e0=e0, mu=mu, m0=m0, c=c, nreg=nreg,
        comp_names=comps, comp_coef=comp_coef, gdp_annual=float(_tables.gdp(table)),
        gdp_region=gdp_region, unit=str(table.attrs.get("unit", "")), coords=coords,
    )


# --------------------------------------------------------------------------------------
# Lowering
# --------------------------------------------------------------------------------------
def _cell_buyers(prep: PreparedMRIO) -> np.ndarray:
    return np.repeat(np.arange(prep.n), np.diff(prep.cptr))


def _pair_base(prep: PreparedMRIO, cm: Any, default: float) -> np.ndarray:
    """Per-cell values of a :class:`CellMatrix` keyed by product and buyer *sector*."""
    b = _cell_buyers(prep)
    nsec = prep.n_products
    if cm is None:
        return np.full(b.size, float(default))
    dense = np.full((nsec, nsec), float(default))
    pi = np.array([prep.products.index(str(c)) if str(c) in prep.products else -1
                   for c in cm.products])
    bj = np.array([prep.products.index(str(c)) if str(c) in prep.products else -1
                   for c in cm.buyers])
    okp, okb = pi >= 0, bj >= 0
    dense[np.ix_(pi[okp], bj[okb])] = cm.values[np.ix_(okp, okb)]
    return dense[prep.cprod, b % nsec]


def _apply_by_product(prep: PreparedMRIO, values: np.ndarray, spec_map: Mapping[str, Any],
                      name: str) -> None:
    """Overrides ``{product: value | {buyer: value, "*": value}}`` on the per-cell values;
    a buyer is a sector code (every region) or a node ``"REGION/SECTOR"``."""
    b = _cell_buyers(prep)
    nsec = prep.n_products
    for prod, spec in spec_map.items():
        i = prep.product_index(prod, f"{name}[{prod!r}]")
        rows = prep.cprod == i
        if not isinstance(spec, Mapping):
            values[rows] = float(spec)
            continue
        if "*" in spec:
            values[rows] = float(spec["*"])
        # sector keys first, then node keys (more specific) on top
        for key, v in sorted(spec.items(), key=lambda kv: "/" in str(kv[0])):
            if key == "*":
                continue
            what = f"{name}[{prod!r}][{key!r}]"
            if "/" in str(key):
                m = rows & (b == prep.idx(key, what))
            else:
                m = rows & (b % nsec == prep.product_index(key, what))
            values[m] = float(v)


def _cells(prep: PreparedMRIO, params: DynamicParams):
    tgt_days = _pair_base(prep, params.inventory_cells, params.inventory_days)
    theta = _pair_base(prep, params.dependency_cells, params.dependency)
    _apply_by_product(prep, tgt_days, params.inventory_days_by_product,
                      "inventory_days_by_product")
    _apply_by_product(prep, theta, params.dependency_by_product, "dependency_by_product")
    sigma = np.zeros(prep.n_products)
    for prod, s in params.elasticity_by_product.items():
        sigma[prep.product_index(prod, f"elasticity_by_product[{prod!r}]")] = float(s)
    return tgt_days * prep.cZ0, theta, sigma


@dataclass(frozen=True)
class LoweredMRIO:
    """Every array one MRIO kernel run takes."""

    tgt: np.ndarray
    theta: np.ndarray
    sigma: np.ndarray
    llink: np.ndarray
    link_node: np.ndarray
    link_dest: np.ndarray
    link_base: np.ndarray
    link_fd0: np.ndarray
    link_cap: np.ndarray
    sp_pos: np.ndarray
    sp_idx: np.ndarray
    impcap: np.ndarray
    stock0: np.ndarray
    relmax: np.ndarray
    cap_idx: np.ndarray
    capfac: np.ndarray
    dem_idx: np.ndarray
    demfac: np.ndarray
    exfac: np.ndarray
    stk_products: list[int]


def _lower_links(prep: PreparedMRIO, shocks: Sequence[Any], T: int):
    cuts = [s for s in shocks if isinstance(s, ExportCut)]
    lost: dict[tuple[int, int], np.ndarray] = {}
    for s in cuts:
        what = f"ExportCut(product={s.product!r}, origin={s.origin!r})"
        r = prep.region_index(s.origin, what)
        i = prep.product_index(s.product, what)
        dests = (range(prep.R) if s.destinations is None else
                 [prep.region_index(d, what + " destinations") for d in s.destinations])
        u = r * prep.n_products + i
        for d in dests:
            if d == r:
                continue
            lost[(u, d)] = lost.get((u, d), np.zeros(T)) + s.share * intensity(s, T)
    keys = sorted(lost)
    L = len(keys)
    node = np.array([k[0] for k in keys], dtype=np.int64)
    dest = np.array([k[1] for k in keys], dtype=np.int64)
    fd0 = prep.F0[node, dest] if L else np.zeros(0)
    base = (prep.ZR0[node, dest] + fd0) if L else np.zeros(0)
    cap = np.zeros((T, L))
    for q, k in enumerate(keys):
        lf = np.minimum(lost[k], 1.0)
        cap[:, q] = np.where(lf > 0.0, base[q] * (1.0 - lf), np.inf)
    llink = np.full(prep.lsup.size if cuts else 0, -1, dtype=np.int32)
    if L:
        lkey = np.array([u * prep.R + d for u, d in keys], dtype=np.int64)  # sorted
        lbuyer = np.repeat(_cell_buyers(prep), np.diff(prep.lptr))
        key = prep.lsup.astype(np.int64) * prep.R + prep.nreg[lbuyer]
        q = np.minimum(np.searchsorted(lkey, key), L - 1)
        hit = lkey[q] == key
        llink[hit] = q[hit]
    return llink, node, dest, base, fd0, cap


def lower_mrio(prep: PreparedMRIO, shocks: Sequence[Any], params: DynamicParams,
               T: int) -> LoweredMRIO:
    """Lower ``shocks`` and ``params`` on ``prep`` over ``T`` days (errors name the unknown
    region, sector or node)."""

    if params.origin_stocks:
        raise ParameterError("parameter 'origin_stocks' = True: stocks per origin are not "
                             "available on multi-regional tables, where every buyer holds "
                             "one stock per input product over all supplying regions "
                             "(docs/mrio.md, 'The stock rule')")
    tgt, theta, sigma = _cells(prep, params)
    llink, lnode, ldest, lbase, lfd0, lcap = _lower_links(prep, shocks, T)
    special = _special_products(prep, shocks, params)
    impcap, stock0, relmax = _lower_imports(prep, shocks, params, special, T)
    cap_idx, capfac, dem_idx, demfac, exfac = _lower_domestic(prep, shocks, T)
    sp_pos = np.full(prep.n, -1, dtype=np.int64)
    sp_pos[np.asarray(special, dtype=np.int64)] = np.arange(len(special))
    stk = sorted({int(u) % prep.n_products for u in lnode}
                 | {int(u) % prep.n_products for u in special})
    return LoweredMRIO(tgt=tgt, theta=theta, sigma=sigma, llink=llink, link_node=lnode,
                       link_dest=ldest, link_base=lbase, link_fd0=lfd0, link_cap=lcap,
                       sp_pos=sp_pos, sp_idx=np.asarray(special, dtype=np.int64),
                       impcap=impcap, stock0=stock0, relmax=relmax, cap_idx=cap_idx,
                       capfac=capfac, dem_idx=dem_idx, demfac=demfac, exfac=exfac,
                       stk_products=stk)


def _check_shocks(shocks: Any) -> list[Any]:
    kinds = (ImportCut, ExportCut, CapacityShock, DemandShock)
    if isinstance(shocks, kinds):
        return [shocks]
    if shocks is None or isinstance(shocks, (str, bytes, Mapping)) or not hasattr(
            shocks, "__iter__"):
        raise ShockError(f"shocks = {shocks!r}: expected a shock or a sequence of shocks "
                         "(ExportCut, ImportCut, CapacityShock, DemandShock); pass [] for none")
    out = list(shocks)
    for s in out:
        if not isinstance(s, kinds):
            raise ShockError(f"expected ExportCut, ImportCut, CapacityShock or DemandShock, "
                             f"got {s!r}")
    return out


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------
def run_lowered(prep: PreparedMRIO, low: LoweredMRIO, params: DynamicParams, T: int,
                record: Sequence[str], *, check: bool = True) -> dict[str, np.ndarray]:
    """Run the kernel on a lowering; return its raw outputs (``status`` among them; a
    failed run raises a :class:`~simcore.errors.KernelError` unless ``check=False``)."""

    p, R = prep.n, prep.R
    K = low.sp_idx.shape[0]
    L = low.link_node.shape[0]
    P = len(low.stk_products)
    stk_pos = np.full(prep.n_products, -1, dtype=np.int64)
    stk_pos[np.asarray(low.stk_products, dtype=np.int64)] = np.arange(P)
    out = {
        "gdp_loss": np.zeros(T), "gdp_loss_reg": np.zeros((T, R)), "out_cum": np.zeros(p),
        "rec_x": np.zeros((T if "output" in record else 0, p)),
        "rec_fdu": np.zeros((T if "final_demand_unmet" in record else 0, p)),
        "rec_imp": np.zeros((T if "imports" in record else 0, K)),
        "rec_link": np.zeros((T, L)),
        "gdp_gain": np.zeros(T), "gap": np.zeros((T, 2)), "info": np.zeros(1, np.int64),
        "out_dem": np.zeros(p),
        "rec_stk": np.zeros((T if "stocks" in record else 0, P, R)),
    }
    from ._mrio_kernels import run_mrio

    status = run_mrio(
        prep.cptr, prep.cprod, prep.cA, low.tgt, low.theta, low.sigma, prep.lptr, prep.lsup,
        prep.lw, low.llink, prep.x0, prep.f0, prep.e0, prep.mu, prep.c, prep.nreg,
        1.0 / params.inventory_tau, low.link_node, low.link_fd0, low.link_cap,
        low.sp_pos, low.sp_idx, low.impcap, low.stock0, low.relmax,
        low.cap_idx, low.capfac, low.dem_idx, low.demfac, low.exfac,
        kn.RATION_FIRMS_FIRST if params.rationing == "firms_first" else kn.RATION_PROPORTIONAL,
        float(params.alpha_max), float(params.alpha_tau),
        out["gdp_loss"], out["gdp_loss_reg"], out["out_cum"], out["rec_x"], out["rec_fdu"],
        out["rec_imp"], out["rec_link"], out["gdp_gain"], out["gap"], out["info"],
        out["out_dem"], stk_pos, out["rec_stk"],
    )
    out["status"] = int(status)
    if check:
        _jit.raise_for_status(int(status), where="simulate", day=int(out["info"][0]))
    return out


def simulate_mrio(
    table: xr.Dataset | PreparedMRIO,
    shocks: Any = (),
    *,
    params: DynamicParams | None = None,
    days: int = 365,
    record: Sequence[str] = ("output", "final_demand_unmet", "imports"),
    gdp_denominator: float | None = None,
    gdp_denominator_source: str | None = None,
) -> xr.Dataset:
    """Simulate the daily propagation of shocks through a multi-regional table.

    :func:`simcore.simulate` calls this for a table with a ``region`` dimension; the
    arguments are those of :func:`simcore.simulate` (see there), shocks may also be
    :class:`~simcore.dynamic.shocks.ExportCut`, and sector codes are nodes
    ``"REGION/SECTOR"``.

    Returns
    -------
    xarray.Dataset
        As :func:`simcore.simulate`'s result, with ``(region, sector)`` in place of
        ``sector``, plus ``gdp_loss_by_region (region)`` (cumulative net value-added loss
        of each region: a region's GDP loss), ``gdp_loss_share_by_region (region)`` (of
        the region's annual GDP-like value added), ``gdp_loss_region (time, region)``
        (daily) and ``export_cut_deliveries (time, link)`` (deliveries over every cut
        link).  ``gdp_loss_total`` is the sum over regions; its share is of the whole
        table's GDP unless ``gdp_denominator`` is given.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("jcr-2015-39")
    >>> cut = sc.ExportCut(product="MAG", origin="CHN", share=1.0, duration=30)
    >>> res = sc.simulate(t, cut, days=60)
    >>> bool(res.gdp_loss_by_region.sel(region="JPN") > 0)
    True
    """

    params = params if params is not None else DynamicParams()
    if not isinstance(params, DynamicParams):
        raise ParameterError(f"params: expected a DynamicParams, got {type(params).__name__}")
    T = check_days(days)
    shocks = _check_shocks(shocks)
    for r in record:
        if r not in MRIO_RECORDS:
            raise ParameterError(f"record: unknown record {r!r}; allowed: "
                                 f"{', '.join(MRIO_RECORDS)}")
    if gdp_denominator is not None:
        positive_number(gdp_denominator, f"gdp_denominator = {gdp_denominator!r}: expected a "
                                         "positive number (annual GDP in table units)")
    prep = table if isinstance(table, PreparedMRIO) else prepare_mrio(table)
    check_record_bytes(T * prep.n * 8 * len(record),
                       f"record: {len(record)} daily records of {prep.n} nodes over {T} days",
                       "record fewer series or use sweeps")
    low = lower_mrio(prep, shocks, params, T)
    out = run_lowered(prep, low, params, T, record)
    return _result(prep, low, params, shocks, T, out, gdp_denominator, gdp_denominator_source)


def _result(prep, low, params, shocks, T, out, gdp_denominator, gdp_denominator_source):

    R, n = prep.R, prep.n_products
    unit = prep.unit
    denom = float(gdp_denominator) if gdp_denominator is not None else prep.gdp_annual
    if not (math.isfinite(denom) and denom > 0):
        raise ParameterError(f"gdp_denominator = {gdp_denominator!r}: expected a positive number")
    rs = lambda v: v.reshape(R, n)  # noqa: E731
    gl = out["gdp_loss"]
    glr = out["gdp_loss_reg"]
    out_cum = out["out_cum"]
    coords = dict(prep.coords)
    coords["time"] = np.arange(T)
    coords["component"] = prep.comp_names
    coords["product"] = [prep.sectors[u] for u in low.sp_idx]
    coords["link"] = [f"{prep.sectors[u]}->{prep.regions[d]}"
                      for u, d in zip(low.link_node, low.link_dest)]
    coords["stock_product"] = [prep.products[i] for i in low.stk_products]
    by_reg = glr.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_reg = np.where(prep.gdp_region > 0, by_reg / prep.gdp_region, 0.0)
    sup = out_cum - out["out_dem"]
    data: dict[str, Any] = {
        "gdp_loss": (("time",), gl, {"units": f"{unit} per day",
                                     "long_name": "GDP-like value-added loss, all regions"}),
        "cumulative_gdp_loss": (("time",), np.cumsum(gl), {"units": unit}),
        "gdp_loss_region": (("time", "region"), glr,
                            {"units": f"{unit} per day",
                             "long_name": "GDP-like value-added loss by region"}),
        "gdp_loss_by_region": (("region",), by_reg,
                               {"units": unit, "long_name": "cumulative GDP-like value-added "
                                                            "loss by region (net)"}),
        "gdp_loss_share_by_region": (("region",), share_reg,
                                     {"units": "1", "long_name": "loss as a share of the "
                                                                 "region's annual GDP"}),
        "region_gdp": (("region",), prep.gdp_region,
                       {"units": unit, "long_name": "annual GDP-like value added"}),
        "value_added_loss": (("region", "sector"), rs(prep.c * out_cum),
                             {"units": unit, "long_name": "cumulative value-added loss"}),
        "value_added_loss_by_component": (
            ("component", "region", "sector"),
            (prep.comp_coef * out_cum[None, :]).reshape(-1, R, n), {"units": unit}),
        "output_loss": (("region", "sector"), rs(out_cum), {"units": unit}),
        "output_baseline": (("region", "sector"), rs(prep.x0), {"units": f"{unit} per day"}),
        "output_loss_demand": (("region", "sector"), rs(out["out_dem"]), {"units": unit}),
        "output_loss_supply": (("region", "sector"), rs(sup), {"units": unit}),
        "value_added_loss_demand": (("region", "sector"), rs(prep.c * out["out_dem"]),
                                    {"units": unit}),
        "value_added_loss_supply": (("region", "sector"), rs(prep.c * sup), {"units": unit}),
        "gdp_loss_total": ((), float(gl.sum()), {"units": unit}),
        "gdp_loss_share": ((), float(gl.sum()) / denom, {"units": "1"}),
        "gdp_gain": (("time",), out["gdp_gain"], {"units": f"{unit} per day"}),
        "gdp_gain_total": ((), float(out["gdp_gain"].sum()), {"units": unit}),
        "gdp_loss_gross_total": ((), float(gl.sum() + out["gdp_gain"].sum()), {"units": unit}),
        "export_cut_deliveries": (("time", "link"), out["rec_link"],
                                  {"units": f"{unit} per day",
                                   "long_name": "deliveries over each cut export link"}),
        "export_cut_baseline": (("link",), low.link_base, {"units": f"{unit} per day"}),
    }
    if out["rec_x"].shape[0]:
        x = out["rec_x"]
        data["output"] = (("time", "region", "sector"), x.reshape(T, R, n),
                          {"units": f"{unit} per day"})
        below = x < (1.0 - ONSET_SHARE) * prep.x0[None, :]
        data["onset_day"] = (("region", "sector"),
                             rs(np.where(below.any(axis=0), below.argmax(axis=0), -1)),
                             {"units": "day"})
    if out["rec_fdu"].shape[0]:
        data["final_demand_unmet"] = (("time", "region", "sector"),
                                      out["rec_fdu"].reshape(T, R, n),
                                      {"units": f"{unit} per day",
                                       "long_name": "final demand and exports not delivered"})
    if out["rec_imp"].shape[0]:
        data["import_supply"] = (("time", "product"), out["rec_imp"],
                                 {"units": f"{unit} per day"})
    if out["rec_stk"].shape[0]:
        data["stocks"] = (("time", "stock_product", "region"), out["rec_stk"],
                          {"units": unit, "long_name": "stocks held by all buyers of the "
                                                       "region"})
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    gap_last = out["gap"][-1]
    last = gl[-1] / max(prep.gdp_annual / DAYS_PER_YEAR, 1e-300)
    ds.attrs.update({
        "unit": unit, "days": T, "gdp_denominator": denom,
        "gdp_denominator_source": gdp_denominator_source
        or "GDP-like value added of the whole table (all regions)",
        "recovered": int(recovered_rule(prep, gl[-1], gap_last)),
        "final_loss_rate_share_of_daily_gdp": float(last),
        "final_output_gap_share": float(gap_last[0]),
        "final_stock_gap_share": float(gap_last[1]),
        "shocks": repr(list(shocks)), "params": repr(params),
        "preprocessing": prep.preprocessing,
        "stock_rule": "one stock per buyer region-sector and input product over all "
                      "supplying regions; orders split over origins in baseline shares",
        "engine": "simcore supply-chain engine (multi-regional)",
        "simcore_version": __version__,
    })
    return ds


def _closed_channel(prep: PreparedMRIO, shocks: Sequence[Any], region: str) -> list[Any]:
    """The shocks with the third-country channel to ``region`` closed (see
    :func:`third_country_split`)."""
    closed = []
    for s in shocks:
        if isinstance(s, ExportCut):
            prep.region_index(s.origin, f"ExportCut(origin={s.origin!r})")
            dests = s.destinations if s.destinations is not None else tuple(
                g for g in prep.regions if g != s.origin)
            if region in dests:
                closed.append(dataclasses.replace(s, destinations=(region,)))
        else:
            closed.append(s)
    return closed


def add_third_country_split(res: xr.Dataset, prep: PreparedMRIO, shocks: Sequence[Any],
                            region: str, *, params: DynamicParams | None, days: int,
                            **kwargs: Any) -> xr.Dataset:
    """Add the split of :func:`third_country_split` to a result ``res`` of ``shocks`` (the
    run with every channel open): ``direct_loss_by_region (region)`` from the rerun with
    the third-country channel to ``region`` closed (same ``params``: required, so that the
    rerun cannot fall back to defaults), and the scalars
    ``region_loss_direct`` and ``region_loss_third_country`` (``region``'s loss)."""
    r = prep.region_index(region, "third_country_region")
    region = prep.regions[r]
    kwargs = {k: v for k, v in kwargs.items() if k != "record"}
    dire = simulate_mrio(prep, _closed_channel(prep, _check_shocks(shocks), region),
                         params=params, days=days, record=(), **kwargs)
    t = float(res.gdp_loss_by_region.values[r])
    d = float(dire.gdp_loss_by_region.values[r])
    unit = prep.unit
    res = res.copy()
    res["direct_loss_by_region"] = xr.Variable(
        ("region",), dire.gdp_loss_by_region.values,
        {"units": unit, "long_name": f"loss by region with the third-country channel to "
                                     f"{region} closed"})
    res["region_loss_direct"] = xr.Variable((), d, {"units": unit})
    res["region_loss_third_country"] = xr.Variable((), t - d, {"units": unit})
    res.attrs.update({"third_country_region": region,
                      "third_country_method": "direct = rerun with every export cut reaching "
                      f"{region} restricted to destinations = [{region}]; third country = "
                      "total - direct (docs/mrio.md)"})
    return res


def third_country_split(table: xr.Dataset | PreparedMRIO, shocks: Any, region: str, *,
                        params: DynamicParams | None = None, days: int = 365,
                        **kwargs: Any) -> xr.Dataset:
    """Split ``region``'s loss from export cuts into a direct part and a part that comes
    through third countries.

    Two runs: the scenario as given (*total*), and the scenario with the third-country
    channel closed: every :class:`ExportCut` that reaches ``region`` is restricted to
    ``destinations = [region]`` and export cuts that do not reach it are dropped, so that
    only ``region``'s own imports from the origin are cut (*direct*).  Other shocks are
    kept in both runs.  The part through third countries is *total - direct*: what the
    cut's other destinations pass on to ``region`` (their scarcer parts and products, and
    their lower orders), including the interaction of the two channels.

    Returns
    -------
    xarray.Dataset
        ``total``, ``direct`` and ``third_country`` (``region``'s cumulative GDP-like
        value-added loss in each), their ``*_share`` of ``region``'s GDP, and the totals by
        region of both runs (``total_by_region``, ``direct_by_region``).
    """
    prep = table if isinstance(table, PreparedMRIO) else prepare_mrio(table)
    r = prep.region_index(region, "third_country_split")
    region = prep.regions[r]
    shocks = _check_shocks(shocks)
    closed = _closed_channel(prep, shocks, region)
    kw = dict(params=params, days=days, record=(), **kwargs)
    tot = simulate_mrio(prep, shocks, **kw)
    dire = simulate_mrio(prep, closed, **kw)
    t = float(tot.gdp_loss_by_region.values[r])
    d = float(dire.gdp_loss_by_region.values[r])
    g = float(prep.gdp_region[r])
    ds = xr.Dataset(
        {"total": ((), t), "direct": ((), d), "third_country": ((), t - d),
         "total_share": ((), t / g), "direct_share": ((), d / g),
         "third_country_share": ((), (t - d) / g),
         "total_by_region": (("region",), tot.gdp_loss_by_region.values),
         "direct_by_region": (("region",), dire.gdp_loss_by_region.values)},
        coords={"region": prep.regions})
    ds.attrs.update({"region": region, "unit": prep.unit, "days": int(days),
                     "method": "direct = rerun with every export cut reaching the region "
                               "restricted to destinations = [region]; third_country = "
                               "total - direct"})
    return ds


# --------------------------------------------------------------------------------------
#: Fine single-region dataset of each embedded multi-regional dataset (a scenario on one
#: takes its classes and buffers from the fine table, aggregated:
#: simcore.criticality.aggregate_params, simcore.scenario).
FINE_DATASET = {"jcr-2015-39": "japan-2015-185"}


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------
def simulate_mrio_batch(table: xr.Dataset | PreparedMRIO, scenarios: Sequence[Any], *,
                        days: int = 365, workers: int | None = None,
                        names: Sequence[str] | None = None) -> xr.Dataset:
    """Many scenarios on one multi-regional table, on several threads.

    ``scenarios`` is a sequence of ``(shocks, params)`` pairs (``params`` may be ``None``
    for the defaults).  The table is lowered once; each scenario is lowered and run by the
    MRIO kernel, which releases the GIL, so ``workers`` threads (default: numba's thread
    count) run scenarios at the same time.  Each scenario's numbers equal
    :func:`simulate_mrio` with the same arguments (the same kernel runs).

    Returns
    -------
    xarray.Dataset
        Over ``scenario`` (``names`` or 0, 1, ...): ``gdp_loss_total``,
        ``gdp_loss_by_region (scenario, region)``, ``value_added_loss (scenario, region,
        sector)``, ``gdp_loss (scenario, time)`` and ``recovered``.
    """
    from concurrent.futures import ThreadPoolExecutor


    prep = table if isinstance(table, PreparedMRIO) else prepare_mrio(table)
    T = check_days(days)
    items = []
    for k, sc_ in enumerate(scenarios):
        try:
            shocks, params = sc_
        except (TypeError, ValueError):
            raise ParameterError(f"scenarios[{k}]: expected a pair (shocks, params), got "
                                 f"{sc_!r}") from None
        params = params if params is not None else DynamicParams()
        if not isinstance(params, DynamicParams):
            raise ParameterError(f"scenarios[{k}]: params: expected a DynamicParams, got "
                                 f"{type(params).__name__}")
        shocks = _check_shocks(shocks)
        items.append((shocks, params, lower_mrio(prep, shocks, params, T)))
    S = len(items)
    if names is not None and len(names) != S:
        raise ParameterError(f"names: {len(names)} names for {S} scenarios")
    if workers is None:
        import numba

        workers = numba.get_num_threads()

    def one(item):
        shocks, params, low = item
        return run_lowered(prep, low, params, T, ())

    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as ex:
        outs = list(ex.map(one, items))
    R, n = prep.R, prep.n_products
    gl = np.stack([o["gdp_loss"] for o in outs]) if S else np.zeros((0, T))
    rec = np.array([int(recovered_rule(prep, o["gdp_loss"][-1], o["gap"][-1])) for o in outs],
                   dtype=np.int64)
    unit = prep.unit
    ds = xr.Dataset(
        {"gdp_loss_total": (("scenario",), gl.sum(1), {"units": unit}),
         "gdp_loss_by_region": (("scenario", "region"),
                                np.stack([o["gdp_loss_reg"].sum(0) for o in outs])
                                if S else np.zeros((0, R)), {"units": unit}),
         "value_added_loss": (("scenario", "region", "sector"),
                              np.stack([(prep.c * o["out_cum"]).reshape(R, n) for o in outs])
                              if S else np.zeros((0, R, n)), {"units": unit}),
         "gdp_loss": (("scenario", "time"), gl, {"units": f"{unit} per day"}),
         "recovered": (("scenario",), rec)},
        coords={"scenario": list(names) if names is not None else np.arange(S),
                "region": prep.regions, "sector": prep.products, "time": np.arange(T)})
    ds.attrs.update({"unit": unit, "days": T, "engine": "simcore supply-chain engine "
                     "(multi-regional, batch)", "simcore_version": __version__})
    return ds


class SweepBackend:
    """What :mod:`simcore.sweeps` needs of an engine, for multi-regional scenarios: the
    contract of :func:`simcore.dynamic.batch.run_lowered` and
    :func:`~simcore.dynamic.supply_chain.recovered_rule` (bare arrays in scenario order, failed runs
    flagged by a non-zero ``status``, not raised; ``gaps="last"`` keeps the last day's
    gaps only, ``(s, 1, 2)``: the multi-regional kernel records every day's either way)."""

    @staticmethod
    def run_lowered(prep: PreparedMRIO, scenarios: Sequence[tuple[Any, Any]], days: int,
                    *, workers: int | None = None, gaps: str = "daily") -> dict[str, np.ndarray]:
        from concurrent.futures import ThreadPoolExecutor

        T = check_days(days)
        G = gap_rows_for(gaps, T)
        items = []
        for sh, p in scenarios:
            p = p if p is not None else DynamicParams()
            sh = _check_shocks(sh)
            items.append((p, lower_mrio(prep, sh, p, T)))
        if workers is None:
            import numba

            workers = numba.get_num_threads()
        with ThreadPoolExecutor(max_workers=max(1, int(workers))) as ex:
            outs = list(ex.map(lambda it: run_lowered(prep, it[1], it[0], T, (), check=False),
                               items))
        ns = len(outs)
        return {
            "gdp_loss": np.stack([o["gdp_loss"] for o in outs]) if ns else np.zeros((0, T)),
            "gdp_gain": np.stack([o["gdp_gain"] for o in outs]) if ns else np.zeros((0, T)),
            "out_cum": np.stack([o["out_cum"] for o in outs]) if ns else np.zeros((0, prep.n)),
            "gap": (np.stack([o["gap"][T - G:] for o in outs]) if ns
                    else np.zeros((0, G, 2))),
            "status": np.array([o["status"] for o in outs], dtype=np.int64),
            "info": np.array([int(o["info"][0]) for o in outs], dtype=np.int64),
        }


def check_lowering_mrio(prep: PreparedMRIO, shocks: Sequence[Any], params: DynamicParams) -> None:
    """Lower ``shocks`` and ``params`` against a prepared multi-regional table over one day,
    so that unknown regions, sectors and products raise here (as
    :func:`simcore.dynamic.supply_chain.check_lowering` for one region)."""
    lower_mrio(prep, shocks, params, 1)


def simulate(table: Any, shocks: Any, **kwargs: Any) -> xr.Dataset:
    """The supply-chain engine on any table: a multi-regional table (or a
    :class:`PreparedMRIO`) runs :func:`simulate_mrio`, a single-region one
    :func:`simcore.dynamic.supply_chain.simulate` (same arguments; see there)."""
    if not isinstance(table, _model.Prepared) and (
            isinstance(table, PreparedMRIO)
            or isinstance(table, xr.Dataset) and _tables.is_multiregional(table)):
        return simulate_mrio(table, shocks, **kwargs)
    return _model.simulate(table, shocks, **kwargs)


simulate.__doc__ = (simulate.__doc__ or "") + "\n" + (_model.simulate.__doc__ or "")
