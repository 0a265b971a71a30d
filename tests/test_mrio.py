"""Tests of the supply-chain engine on multi-regional tables (simcore.dynamic.mrio and
_mrio_kernels), against the single-region engine where the two must agree, and against the
plain-numpy MRIO oracle (simcore.dynamic._mrio_reference) on random MRIOs.
"""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore import tables as tb
from simcore.dynamic import mrio as mr
from simcore.dynamic._mrio_reference import run_mrio_reference
from simcore.dynamic.params import CellMatrix, DynamicParams
from simcore.dynamic.shocks import CapacityShock, DemandShock, ExportCut, ImportCut
from simcore.errors import LabelError, ParameterError, ShockError

from test_dynamic import random_table


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def random_mrio(seed: int, R: int = 3, n: int = 4, *, trade: float = 0.3,
                outside: bool = True, density: float = 0.7):
    """A random balanced, productive MRIO: ``trade`` is the largest share of a buyer's
    input that comes from other regions; ``outside`` adds imports from outside the table
    (``M``) and exports to it (``E``)."""
    rng = np.random.default_rng(seed)
    p = R * n
    regions = [f"R{k}" for k in range(R)]
    x = rng.uniform(50, 200, p)
    A = rng.uniform(0, 1, (p, p)) * (rng.uniform(0, 1, (p, p)) < density)
    reg = np.repeat(np.arange(R), n)
    foreign = reg[:, None] != reg[None, :]
    A[foreign] *= rng.uniform(0, trade)
    A *= rng.uniform(0.2, 0.6, p)[None, :] / np.maximum(A.sum(0), 1e-9)
    Z = A * x[None, :]
    V = x - Z.sum(0)
    E = rng.uniform(0, 0.2, p) * x if outside else np.zeros(p)
    mu = rng.uniform(0, 0.3, p) if outside else np.zeros(p)
    Yt = (x - E) / (1 - mu) - Z.sum(1)
    if (Yt < 0).any():
        return random_mrio(seed + 1000, R, n, trade=trade, outside=outside, density=density)
    sh = rng.uniform(0, 1, (p, R)) * np.where(np.eye(R)[reg] > 0, 3.0, trade)
    sh /= sh.sum(1, keepdims=True)
    Y = Yt[:, None] * sh
    M = mu * (Z.sum(1) + Yt)
    return tb.from_arrays(Z, Y, V[None, :], x=x, E=E, M=M, regions=regions,
                          sectors=[f"s{i}" for i in range(n)], unit="M")


def block_mrio(tables, regions):
    """An MRIO of single-region tables that trade with each other not at all: each region
    buys from outside the table only (its ``M``)."""
    R = len(tables)
    n = tables[0].sizes["sector"]
    p = R * n
    Z = np.zeros((p, p))
    Y = np.zeros((p, R))
    E = np.zeros(p)
    M = np.zeros(p)
    V = np.zeros((1, p))
    x = np.zeros(p)
    for k, t in enumerate(tables):
        f = tb.flat(t)
        s = slice(k * n, (k + 1) * n)
        Z[s, s] = f["Z"]
        Y[s, k] = f["Y"].sum(1)
        E[s] = f["E"].sum(1)
        M[s] = f["M"].sum(1)
        V[0, s] = f["V"].sum(0)
        x[s] = f["x"]
    return tb.from_arrays(Z, Y, V, x=x, E=E, M=M, regions=regions,
                          sectors=[str(c) for c in tables[0].sector.values], unit="M")


def dense_inputs(table, shocks, params, T):
    prep = mr.prepare_mrio(table)
    low = mr.lower_mrio(prep, shocks, params, T)
    f = tb.flat(table)
    p, n, R = prep.n, prep.n_products, prep.R
    with np.errstate(divide="ignore", invalid="ignore"):
        Afull = np.where(f["x"][None, :] > 0, f["Z"] / f["x"][None, :], 0.0)
    tgt = np.zeros((n, p))
    th = np.zeros((n, p))
    b = np.repeat(np.arange(p), np.diff(prep.cptr))
    tgt[prep.cprod, b] = low.tgt
    th[prep.cprod, b] = low.theta
    F0 = f["Y"].reshape(p, R, -1).sum(2) / 365.0
    cf = np.ones((T, p))
    cf[:, low.cap_idx] = low.capfac
    df = np.ones((T, p))
    df[:, low.dem_idx] = low.demfac
    ef = np.ones((T, p))
    ef[:, low.dem_idx] = low.exfac
    special = {int(u): (low.impcap[:, k], low.stock0[k], low.relmax[k])
               for k, u in enumerate(low.sp_idx)}
    links = [(int(u), int(d), low.link_cap[:, q])
             for q, (u, d) in enumerate(zip(low.link_node, low.link_dest))]
    return prep, dict(Afull=Afull, prod=np.tile(np.arange(n), R), nreg=prep.nreg, tgt=tgt,
                      theta=th, sigma=low.sigma, x0=prep.x0, F0=F0, e0=prep.e0, mu=prep.mu,
                      c=prep.c, tau=params.inventory_tau, special=special, links=links,
                      capfac=cf, demfac=df, exfac=ef)


def random_scenario(seed: int, table):
    rng = np.random.default_rng(seed)
    regions = [str(r) for r in table.region.values]
    prods = [str(s) for s in table.sector.values]
    R = len(regions)
    o = regions[int(rng.integers(R))]
    others = [r for r in regions if r != o]
    dest = None if seed % 2 else others[: max(1, len(others) // 2)]
    node_cut = f"{regions[int(rng.integers(R))]}/{prods[int(rng.integers(len(prods)))]}"
    shocks = [
        ExportCut(product=prods[int(rng.integers(len(prods)))], origin=o,
                  share=float(rng.uniform(0.3, 1)), destinations=dest,
                  start=float(rng.uniform(0, 5)), duration=float(rng.uniform(5, 40))),
        ImportCut(product=node_cut, origin="CHN", share=float(rng.uniform(0.3, 1)),
                  start=2, duration=float(rng.uniform(5, 30))),
        CapacityShock(sector=f"{regions[-1]}/{prods[0]}", share=float(rng.uniform(0, 0.5)),
                      start=3, duration=20, profile="linear_recovery", recovery_days=10),
        DemandShock(sector=f"{regions[0]}/{prods[-1]}", change=-0.2, start=2, duration=15),
    ]
    params = DynamicParams(
        inventory_days=float(rng.uniform(1.5, 20)),
        inventory_tau=float(rng.uniform(2, 15)),
        dependency=float(rng.uniform(0.3, 1)),
        dependency_by_product={prods[0]: {"*": 0.2, prods[-1]: 1.0,
                                          f"{regions[0]}/{prods[1]}": 0.6}},
        inventory_days_by_product={prods[-1]: 5.0},
        elasticity_by_product={prods[1]: 0.5} if seed % 2 else {},
        import_origins={node_cut: {"CHN": float(rng.uniform(0.3, 1))}},
        stockpiles={node_cut: {"days": 3.0, "release_rate": 0.5}} if seed % 3 == 0 else {},
        rationing="firms_first" if seed % 2 else "proportional",
        alpha_max=1.2 if seed % 4 == 1 else 1.0,
    )
    return shocks, params


# --------------------------------------------------------------------------------------
# the two paths agree where they should
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_regions_trading_only_through_outside_imports_equal_single_region(seed):
    """An MRIO whose regions are linked to each other only by imports from outside the
    table: every region's results equal the single-region engine's on its own table, with
    the same shocks (import cuts of the table's M, capacity, demand) and parameters."""
    t1, t2 = random_table(seed, n=5), random_table(seed + 50, n=5)
    m = block_mrio([t1, t2], ["JPN", "ROW"])
    rng = np.random.default_rng(seed)
    sh1 = [ImportCut(product="s1", origin="CHN", share=0.8, start=1, duration=25),
           CapacityShock(sector="s3", share=0.3, start=2, duration=10)]
    sh2 = [DemandShock(sector="s0", change=-0.3, start=0, duration=20, target="all")]
    base = dict(inventory_days=float(rng.uniform(2, 20)), inventory_tau=float(rng.uniform(2, 12)),
                dependency=float(rng.uniform(0.4, 1)),
                rationing="firms_first" if seed % 2 else "proportional",
                alpha_max=1.1 if seed == 3 else 1.0,
                elasticity_by_product={"s2": 0.4} if seed == 2 else {})
    p1 = DynamicParams(import_origins={"s1": {"CHN": 0.6}},
                       stockpiles={"s1": {"days": 2.0}}, **base)
    pm = DynamicParams(import_origins={"JPN/s1": {"CHN": 0.6}},
                       stockpiles={"JPN/s1": {"days": 2.0}}, **base)
    T = 90
    rec = ("output", "final_demand_unmet", "imports")
    r1 = sc.simulate(t1, sh1, params=p1, days=T, record=rec)
    r2 = sc.simulate(t2, sh2, params=DynamicParams(**base), days=T, record=rec)
    shm = [ImportCut(product="JPN/s1", origin="CHN", share=0.8, start=1, duration=25),
           CapacityShock(sector="JPN/s3", share=0.3, start=2, duration=10),
           DemandShock(sector="ROW/s0", change=-0.3, start=0, duration=20, target="all")]
    rm = sc.simulate(m, shm, params=pm, days=T, record=rec)
    for reg, r in (("JPN", r1), ("ROW", r2)):
        for var in ("output", "final_demand_unmet", "value_added_loss", "output_loss",
                    "output_loss_demand"):
            a = rm[var].sel(region=reg).values
            b = r[var].values
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())
        np.testing.assert_allclose(rm.gdp_loss_region.sel(region=reg).values,
                                   r.gdp_loss.values, rtol=1e-12,
                                   atol=1e-12 * np.abs(r.gdp_loss.values).max())
        assert float(rm.gdp_loss_by_region.sel(region=reg)) == pytest.approx(
            float(r.gdp_loss_total), rel=1e-12)
    np.testing.assert_allclose(rm.import_supply.values[:, 0], r1.import_supply.values[:, 0],
                               rtol=1e-12)
    assert float(r1.gdp_loss_total) > 0 and float(r2.gdp_loss_total) > 0  # not vacuous


def test_one_region_mrio_equals_single_region():
    t = random_table(7, n=6)
    m = block_mrio([t], ["JPN"])
    sh = [ImportCut(product="s2", origin="CHN", share=1.0, duration=30)]
    p1 = DynamicParams(import_origins={"s2": {"CHN": 0.7}}, dependency=0.8)
    pm = DynamicParams(import_origins={"JPN/s2": {"CHN": 0.7}}, dependency=0.8)
    r1 = sc.simulate(t, sh, params=p1, days=120)
    rm = sc.simulate(m, [ImportCut(product="JPN/s2", origin="CHN", share=1.0, duration=30)],
                     params=pm, days=120)
    np.testing.assert_allclose(rm.output.values[:, 0, :], r1.output.values, rtol=1e-12)
    assert float(rm.gdp_loss_total) == pytest.approx(float(r1.gdp_loss_total), rel=1e-12)


# --------------------------------------------------------------------------------------
# kernel against the numpy oracle
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(8))
def test_mrio_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    t = random_mrio(seed, R=int(rng.integers(2, 5)), n=int(rng.integers(3, 6)))
    shocks, params = random_scenario(seed, t)
    T = 70
    prep, dense = dense_inputs(t, shocks, params, T)
    res = sc.simulate(prep, shocks, params=params, days=T,
                      record=("output", "final_demand_unmet", "imports"))
    ora = run_mrio_reference(**dense, firms_first=params.rationing == "firms_first",
                             alpha_max=params.alpha_max, alpha_tau=params.alpha_tau)
    _compare(res, ora, prep)
    assert float(res.gdp_loss_total) > 0


def _compare(res, ora, prep, tol=1e-12):
    T = res.sizes["time"]
    scale = prep.x0.max()
    np.testing.assert_allclose(res.output.values.reshape(T, -1), ora["x"], rtol=0,
                               atol=tol * scale)
    np.testing.assert_allclose(res.final_demand_unmet.values.reshape(T, -1), ora["fd_unmet"],
                               rtol=0, atol=tol * scale)
    np.testing.assert_allclose(res.gdp_loss.values, ora["gdp_loss"], rtol=tol,
                               atol=tol * scale)
    np.testing.assert_allclose(res.gdp_loss_region.values, ora["gdp_loss_reg"], rtol=tol,
                               atol=tol * scale)
    np.testing.assert_allclose(res.export_cut_deliveries.values, ora["links"], rtol=tol,
                               atol=tol * scale)
    if "import_supply" in res:
        np.testing.assert_allclose(res.import_supply.values, ora["imports"], rtol=tol,
                                   atol=tol * scale)
    np.testing.assert_allclose(res.gdp_gain.values, ora["gain"], rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(res.output_loss_demand.values.reshape(-1), ora["dem"],
                               rtol=0, atol=1e-10 * scale)
    assert res.attrs["final_output_gap_share"] == pytest.approx(ora["gap"][-1, 0], rel=1e-9,
                                                                abs=1e-12)
    assert res.attrs["final_stock_gap_share"] == pytest.approx(ora["gap"][-1, 1], rel=1e-9,
                                                               abs=1e-12)


# --------------------------------------------------------------------------------------
# export cuts
# --------------------------------------------------------------------------------------
def test_no_shock_no_loss_and_steady_state():
    t = random_mrio(3)
    res = sc.simulate(t, [], days=200, record=("output",))
    assert abs(float(res.gdp_loss_total)) <= 1e-9 * float(res.region_gdp.sum())
    np.testing.assert_allclose(res.output.values[-1], res.output_baseline.values, rtol=1e-12)


def test_zero_share_export_cut_is_no_shock():
    t = random_mrio(4)
    res = sc.simulate(t, ExportCut(product="s1", origin="R0", share=0.0, duration=50),
                      days=100)
    assert abs(float(res.gdp_loss_total)) <= 1e-9 * float(res.region_gdp.sum())


def test_export_cut_caps_deliveries_and_hits_destinations():
    t = random_mrio(5, R=3, n=4, trade=0.5)
    cut = ExportCut(product="s2", origin="R0", share=0.75, destinations=["R1"], start=5,
                    duration=30)
    res = sc.simulate(t, cut, days=120)
    assert list(res.link.values) == ["R0/s2->R1"]
    base = float(res.export_cut_baseline[0])
    dl = res.export_cut_deliveries.values[:, 0]
    assert dl[10:35].max() <= 0.25 * base * (1 + 1e-12)
    # no cap outside the cut's days: restocking orders above baseline are served after it
    assert dl[:5].max() == pytest.approx(base, rel=1e-9)
    assert dl[36:].max() > base * (1 + 1e-6)
    loss = res.gdp_loss_by_region
    assert float(loss.sel(region="R1")) > 0  # the destination loses
    assert float(loss.sel(region="R0")) > 0  # the origin loses the customers it may not serve
    # all destinations: one link per other region
    res2 = sc.simulate(t, ExportCut(product="s2", origin="R0", share=0.75, start=5,
                                    duration=30), days=120)
    assert list(res2.link.values) == ["R0/s2->R1", "R0/s2->R2"]
    assert float(res2.gdp_loss_total) >= float(res.gdp_loss_total) - 1e-9


def test_losses_grow_with_the_cut():
    t = random_mrio(6, trade=0.5)
    tot = [float(sc.simulate(t, ExportCut(product="s0", origin="R1", share=s, duration=40),
                             days=150, record=()).gdp_loss_total)
           for s in (0.0, 0.25, 0.5, 1.0)]
    assert all(a <= b * (1 + 1e-9) + 1e-9 for a, b in zip(tot, tot[1:]))
    assert tot[-1] > tot[0]


def test_third_country_split():
    t = random_mrio(8, R=3, n=4, trade=0.5)
    cut = [ExportCut(product="s1", origin="R0", share=1.0, duration=40)]
    sp = mr.third_country_split(t, cut, "R1", days=150)
    tot = sc.simulate(t, cut, days=150, record=())
    direct = sc.simulate(t, [ExportCut(product="s1", origin="R0", share=1.0, duration=40,
                                       destinations=["R1"])], days=150, record=())
    assert float(sp.total) == pytest.approx(float(tot.gdp_loss_by_region.sel(region="R1")),
                                            rel=1e-12)
    assert float(sp.direct) == pytest.approx(
        float(direct.gdp_loss_by_region.sel(region="R1")), rel=1e-12)
    assert float(sp.third_country) == pytest.approx(float(sp.total) - float(sp.direct),
                                                    rel=1e-12, abs=1e-9)
    # closing the channel to R2 removes R2's direct loss
    assert float(sp.direct_by_region.sel(region="R2")) < float(
        sp.total_by_region.sel(region="R2"))


# --------------------------------------------------------------------------------------
# labels and errors
# --------------------------------------------------------------------------------------
def test_errors_name_unknown_regions_and_sectors():
    t = random_mrio(1)
    with pytest.raises(LabelError, match="unknown region 'XX'"):
        sc.simulate(t, ExportCut(product="s1", origin="XX", share=1, duration=5), days=10)
    with pytest.raises(LabelError, match="unknown region 'XX'"):
        sc.simulate(t, ExportCut(product="s1", origin="R0", share=1, duration=5,
                                 destinations=["R1", "XX"]), days=10)
    with pytest.raises(LabelError, match="unknown sector or product 'zz'"):
        sc.simulate(t, ExportCut(product="zz", origin="R0", share=1, duration=5), days=10)
    with pytest.raises(LabelError, match="unknown sector or product 'zz'"):
        sc.simulate(t, CapacityShock(sector="R0/zz", share=0.1, duration=5), days=10)
    with pytest.raises(LabelError, match="unknown region 'XX'"):
        sc.simulate(t, DemandShock(sector="XX/s1", change=-0.1, duration=5), days=10)
    with pytest.raises(LabelError, match="REGION/SECTOR"):
        sc.simulate(t, CapacityShock(sector="s1", share=0.1, duration=5), days=10)
    with pytest.raises(LabelError, match="dependency_by_product"):
        sc.simulate(t, [], params=DynamicParams(dependency_by_product={"zz": 0.5}), days=5)
    with pytest.raises(ShockError, match="origin 'R0' cannot be a destination"):
        ExportCut(product="s1", origin="R0", share=1, destinations=["R0"])
    with pytest.raises(ShockError, match="list of region codes"):
        ExportCut(product="s1", origin="R0", share=1, destinations="R1")
    with pytest.raises(ShockError, match="multi-regional table"):
        sc.simulate(random_table(1), ExportCut(product="s1", origin="R0", share=1), days=5)
    with pytest.raises(ParameterError, match="origin_stocks"):
        sc.simulate(t, [], params=DynamicParams(origin_stocks=True), days=5)
    with pytest.raises(ParameterError, match="record"):
        sc.simulate(t, [], days=5, record=("nope",))


def test_criticality_cells_apply_by_sector_in_every_region():
    t = random_mrio(2, R=2, n=3)
    prep = mr.prepare_mrio(t)
    cm = CellMatrix(products=("s0", "s1"), buyers=("s2",), values=np.array([[0.3], [0.0]]),
                    digest="x")
    low = mr.lower_mrio(prep, [], DynamicParams(dependency_cells=cm, dependency=0.9,
                                                dependency_by_product={"s1": {"R1/s2": 0.7}}),
                        5)
    b = np.repeat(np.arange(prep.n), np.diff(prep.cptr))
    for kk in range(b.size):
        i, j, r = prep.cprod[kk], b[kk] % 3, b[kk] // 3
        want = 0.9
        if j == 2 and i == 0:
            want = 0.3
        if j == 2 and i == 1:
            want = 0.7 if r == 1 else 0.0
        assert low.theta[kk] == pytest.approx(want)


def test_stock_rule_one_stock_per_product_over_origins():
    t = random_mrio(9, R=3, n=3, density=1.0)
    prep = mr.prepare_mrio(t)
    # every buyer has one cell per product it uses, with legs summing to weight 1
    assert prep.cA.size <= prep.n * prep.n_products
    sums = np.add.reduceat(prep.lw, prep.lptr[:-1])
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    f = tb.flat(t)
    b = np.repeat(np.arange(prep.n), np.diff(prep.cptr))
    want = np.array([f["Z"][prep.cprod[k]::3, b[k]].sum() for k in range(b.size)]) / 365.0
    np.testing.assert_allclose(prep.cZ0, want, rtol=1e-12)


# --------------------------------------------------------------------------------------
# the shipped MRIO, its scenario, and pymrio
# --------------------------------------------------------------------------------------
def test_shipped_mrio_follows_its_assumptions():
    import tomllib

    from simcore.datasets import _build_mrio

    a = tomllib.loads(_build_mrio.ASSUMPTIONS.read_text(encoding="utf-8"))
    t = sc.datasets.load("jcr-2015-39")
    assert tb.is_multiregional(t) and list(t.region.values) == ["JPN", "CHN", "ROW"]
    assert t.sizes["sector"] == 39 and {"RE", "MAG"} <= set(map(str, t.sector.values))
    va = tb.value_added_gdp(t).sum("sector").values
    from simcore.datasets import _build

    jp, _, _ = _build_mrio.japan_39(_build._japan)
    assert va[0] == pytest.approx(tb.gdp(jp), rel=1e-9)
    assert va[1] / va[0] == pytest.approx(a["gdp"]["CHN"], rel=1e-9)
    assert va[2] / va[0] == pytest.approx(a["gdp"]["ROW"], rel=1e-9)
    # the rest of the world's magnet use: the assumed share from China
    Z = t.Z.sel(sector="MAG").sum("sector_to")
    use = Z.sel(region_to="ROW") + t.Y.sel(sector="MAG", region_to="ROW").sum("final_demand")
    assert float(use.sel(region="CHN") / use.sum()) == pytest.approx(
        a["origins"]["ROW_from_CHN_override"]["MAG"], rel=1e-9)


def test_shipped_mrio_scenario_reports_regions_and_the_third_country_split():
    from simcore import scenario

    s = scenario.load("china-rare-earth-stop-mrio-3m")
    res = s.run(**{"horizon.days": 200})
    assert list(res.region.values) == ["JPN", "CHN", "ROW"]
    by = res.gdp_loss_by_region
    assert (by.values > 0).all()
    assert float(by.sum()) == pytest.approx(float(res.gdp_loss_total), rel=1e-12)
    assert set(res.link.values) == {"CHN/RE->JPN", "CHN/RE->ROW", "CHN/MAG->JPN",
                                    "CHN/MAG->ROW"}
    # the split equals a fresh rerun with the stop limited to Japan
    closed = [ExportCut(product=p, origin="CHN", share=1.0, duration=91.25,
                        destinations=["JPN"]) for p in ("RE", "MAG")]
    d = sc.simulate(s.prepared(), closed, params=s.params(), days=200, record=())
    assert float(res.region_loss_direct) == pytest.approx(
        float(d.gdp_loss_by_region.sel(region="JPN")), rel=1e-12)
    assert float(res.region_loss_third_country) == pytest.approx(
        float(by.sel(region="JPN")) - float(res.region_loss_direct), rel=1e-9)
    # the classes of the carved products reach the MRIO's sectors
    p = s.params()
    dep = p.dependency_cells
    assert dep.values[dep.products.index("RE"), dep.buyers.index("MAG")] > 0.5
    assert dep.values[dep.products.index("MAG"), dep.buyers.index("35")] > 0


def test_scenario_export_cut_errors_name_the_file():
    from simcore import scenario
    from simcore.errors import ScenarioError

    s = scenario.load("china-rare-earth-stop-mrio-3m")
    with pytest.raises(ScenarioError, match="unknown region 'XX'"):
        s.run(**{"shocks.0.origin": "XX", "horizon.days": 5})
    with pytest.raises(ScenarioError, match="destinations"):
        s.copy_with({"shocks.0.destinations": "JPN"})
    with pytest.raises(ScenarioError, match="origin_stocks"):
        s.copy_with({"model.origin_stocks": True}).params()


def test_pymrio_test_system_runs():
    pymrio = pytest.importorskip("pymrio")
    t = sc.from_pymrio(pymrio.load_test().calc_all())
    cut = ExportCut(product="mining", origin="reg2", share=1.0, duration=30)
    res = sc.simulate(t, cut, days=120, record=())
    assert (res.gdp_loss_by_region.values > 0).all()
    assert float(res.gdp_loss_by_region.sel(region="reg2")) > 0
    sp = mr.third_country_split(t, cut, "reg1", days=120)
    assert float(sp.direct) > 0


def test_batch_equals_single_runs():
    t = random_mrio(11, R=3, n=4, trade=0.5)
    prep = mr.prepare_mrio(t)
    scen = [([ExportCut(product="s1", origin="R0", share=s, duration=30)],
             DynamicParams(inventory_days=d)) for s, d in ((0.5, 10.0), (1.0, 5.0), (0.0, 3.0))]
    scen.append(([CapacityShock(sector="R2/s0", share=0.4, duration=20)], None))
    b = mr.simulate_mrio_batch(prep, scen, days=90, workers=2)
    for k, (sh, p) in enumerate(scen):
        r = sc.simulate(prep, sh, params=p, days=90, record=())
        np.testing.assert_array_equal(b.gdp_loss.values[k], r.gdp_loss.values)
        np.testing.assert_array_equal(b.gdp_loss_by_region.values[k],
                                      r.gdp_loss_by_region.values)
        np.testing.assert_array_equal(b.value_added_loss.values[k], r.value_added_loss.values)
    assert float(b.gdp_loss_total[0]) < float(b.gdp_loss_total[1])
    with pytest.raises(ParameterError, match="scenarios\\[0\\]"):
        mr.simulate_mrio_batch(prep, [42], days=5)


def test_sweep_of_an_mrio_scenario_equals_its_runs():
    from simcore import scenario

    base = scenario.load("china-rare-earth-stop-mrio-3m")
    res = sc.sweep(base, grid={"shocks.0.share": [0.5, 1.0]}, days=120, sectors=True)
    for k, share in enumerate((0.5, 1.0)):
        r = base.run(**{"shocks.0.share": share, "horizon.days": 120})
        assert float(res.gdp_loss_total.isel({"shocks.0.share": k})) == pytest.approx(
            float(r.gdp_loss_total), rel=1e-12)
    assert float(res.gdp_loss_total[0]) < float(res.gdp_loss_total[1])
    with pytest.raises(Exception, match="unknown region 'XX'"):
        sc.sweep(base, grid={"shocks.0.origin": ["CHN", "XX"]}, days=10)


from simcore.criticality import aggregate_params  # noqa: E402


def test_aggregate_params_flow_weighted():
    """Classes and stocks of a fine single-region table, mapped onto a coarser
    classification flow-weighted (the mapping of docs/mrio.md for another MRIO)."""
    t = random_table(21, n=4, imports=False)
    p = DynamicParams(dependency=0.5, inventory_days=10.0,
                      dependency_by_product={"s0": {"*": 1.0, "s2": 0.0}},
                      inventory_days_by_product={"s1": 30.0})
    groups = {"s0": "A", "s1": "A", "s2": "B", "s3": "B"}
    dep, inv = aggregate_params(t, p, groups, ["A", "B"])
    Z = tb.flat(t)["Z"]
    th = np.full((4, 4), 0.5)
    th[0, :] = 1.0
    th[0, 2] = 0.0
    dd = np.full((4, 4), 10.0)
    dd[1, :] = 30.0
    g = np.array([0, 0, 1, 1])
    for I in range(2):
        for J in range(2):
            m = (g[:, None] == I) & (g[None, :] == J) & (Z > 0)
            if not m.any():
                continue
            assert dep.values[I, J] == pytest.approx((Z * th)[m].sum() / Z[m].sum(), rel=1e-12)
            assert inv.values[I, J] == pytest.approx((Z * dd)[m].sum() / Z[m].sum(), rel=1e-12)


def test_stock_record_by_product_and_region():
    t = random_mrio(12, R=3, n=4, trade=0.5)
    prep = mr.prepare_mrio(t)
    p = DynamicParams(inventory_days=7.0)
    cut = ExportCut(product="s2", origin="R1", share=1.0, start=2, duration=20)
    res = sc.simulate(prep, cut, params=p, days=60, record=("stocks",))
    assert list(res.stock_product.values) == ["s2"]
    b = np.repeat(np.arange(prep.n), np.diff(prep.cptr))
    on = prep.cprod == 2
    target = np.bincount(prep.nreg[b[on]], weights=7.0 * prep.cZ0[on], minlength=3)
    np.testing.assert_allclose(res.stocks.values[0, 0], target, rtol=1e-9)
    # the destinations' stocks are drawn down during the cut, and refill after it
    low = res.stocks.values[:, 0, :].min(0)
    assert (low[[0, 2]] < 0.99 * target[[0, 2]]).all()
    assert (res.stocks.values[-1, 0, [0, 2]] > 1.01 * low[[0, 2]]).all()
