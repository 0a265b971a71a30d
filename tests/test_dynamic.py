"""Tests of simcore's supply-chain engine (simcore.dynamic.supply_chain / _kernels).

The numba kernel is checked against the plain-numpy reference (simcore.dynamic._reference)
on random tables, and both against closed forms (docs/methodology.md, "The supply-chain engine"):
the no-shock steady
state (test 1), the inventory-buffer timing of Pichler et al. (2022) (test 5, §3.5), the
pure-chain static limit (test 4), accounting invariants (test 7), the CES ratios of §5
(test 8), import-split invariances (test 9) and monotonicity and stability (test 10).
"""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore import tables as tb
from simcore.dynamic import _kernels as kn
from simcore.dynamic import _reference as ref
from simcore.dynamic import supply_chain as md
from simcore.dynamic.params import DynamicParams
from simcore.dynamic.shocks import CapacityShock, DemandShock, ImportCut
from simcore.errors import (
    KernelError,
    LabelError,
    ParameterError,
    ShockError,
    TableError,
)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def random_table(seed: int, n: int = 6, imports: bool = True) -> "xr.Dataset":  # noqa: F821
    """A random balanced, productive single-region table with imports."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(50, 200, n)
    A = rng.uniform(0, 1, (n, n)) * (rng.uniform(0, 1, (n, n)) < 0.6)
    A *= rng.uniform(0.2, 0.7) / np.maximum(A.sum(0), 1e-9)
    Z = A * x[None, :]
    V = x - Z.sum(0)
    E = rng.uniform(0, 0.2, n) * x
    sales = Z.sum(1) + E
    # final demand closes the row: x = Z1 + Y + E - M, with M a share of domestic use
    mu = rng.uniform(0, 0.4, n) if imports else np.zeros(n)
    # Y (1 - mu) + Z1 (1 - mu) ... solve for Y: x = (Z1 + Y)(1 - mu) + E
    Y = (x - E) / (1 - mu) - Z.sum(1)
    bad = Y < 0
    if bad.any():  # raise output to keep final demand non-negative
        return random_table(seed + 1000, n, imports)
    M = mu * (Z.sum(1) + Y)
    return tb.from_arrays(Z, Y[:, None], V[None, :], x=x, E=E, M=M,
                          sectors=[f"s{i}" for i in range(n)], unit="M")


def chain_table(parts_fd: float = 0.0):
    """import RE -> parts (sole user) -> cars (sole user of parts) -> final demand; 'oth' is
    linked by demand only."""
    # sectors: RE (no domestic output), parts, cars, oth
    x = np.array([0.0, 100.0, 200.0, 300.0])
    Z = np.zeros((4, 4))
    Z[0, 1] = 10.0  # RE -> parts
    Z[1, 2] = 100.0 - parts_fd  # parts -> cars
    Z[3, 1] = 20.0  # oth -> parts
    Z[3, 2] = 30.0  # oth -> cars
    Z[3, 3] = 30.0  # oth -> oth
    Y = np.array([0.0, parts_fd, 200.0, 300.0 - 80.0])
    M = np.array([10.0, 0, 0, 0])
    V = x - Z.sum(0)
    return tb.from_arrays(Z, Y[:, None], V[None, :], x=x, M=M,
                          sectors=["RE", "parts", "cars", "oth"], unit="M")


def lowered(table, shocks, params, T):
    """The kernel's inputs and dense equivalents for the reference (on the table the kernel
    runs on: with pool rows when ``params.origin_stocks``)."""
    low = md.lower(md.prepare_model(table), shocks, params, T)
    prep = low.prep
    special = list(low.sp_idx)
    tgt, theta, sigma, theta_sp, tgt_sp = low.tgt, low.theta, low.sigma, low.theta_sp, low.tgt_sp
    impcap, stock0, relmax = low.impcap, low.stock0, low.relmax
    cap_idx, capfac, dem_idx, demfac, exfac = (low.cap_idx, low.capfac, low.dem_idx,
                                               low.demfac, low.exfac)
    n = prep.n
    Ad = np.zeros((n, n))
    tg = np.zeros((n, n))
    th = np.zeros((n, n))
    for j in range(n):
        for kk in range(prep.colptr[j], prep.colptr[j + 1]):
            i = prep.rowidx[kk]
            Ad[i, j] = prep.A[kk]
            tg[i, j] = tgt[kk]
            th[i, j] = theta[kk]
    for k, i in enumerate(special):
        th[i] = np.where(Ad[i] > 0, theta_sp[k], 0.0)
        tg[i] = np.where(Ad[i] > 0, tgt_sp[k], 0.0)
    cf = np.ones((T, n))
    cf[:, cap_idx] = capfac
    df = np.ones((T, n))
    df[:, dem_idx] = demfac
    ef = np.ones((T, n))
    ef[:, dem_idx] = exfac
    spec = {i: (impcap[:, k], stock0[k], relmax[k]) for k, i in enumerate(special)}
    return prep, dict(A=Ad, tgt=tg, theta=th, sigma=sigma, x0=prep.x0, f0=prep.f0, e0=prep.e0,
                      mu=prep.mu, c=prep.c, tau=params.inventory_tau, special=spec,
                      capfac=cf, demfac=df, exfac=ef)


# --------------------------------------------------------------------------------------
# kernel against the numpy reference
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_kernel_matches_reference(seed):
    rng = np.random.default_rng(seed)
    t = random_table(seed, n=int(rng.integers(3, 9)))
    n = t.sizes["sector"]
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(n))]
    p_cap = prods[int(rng.integers(n))]
    shocks = [
        ImportCut(product=p_cut, origin="CHN", share=float(rng.uniform(0.3, 1)),
                  start=float(rng.uniform(0, 5)), duration=float(rng.uniform(5, 40))),
        CapacityShock(sector=p_cap, share=float(rng.uniform(0, 0.5)), start=3, duration=20,
                      profile="linear_recovery", recovery_days=10),
        DemandShock(sector=prods[0], change=-0.2, start=2, duration=15, target="all"),
    ]
    params = DynamicParams(
        # seeds 0-3: thin stocks, where a day's deliveries can exceed the whole target and
        # the stock-use cap max(S, S + z - target) binds; the others: any stocks and tau
        # outside the refused corner (stocks < 1.5 days with tau < 2)
        inventory_days=[1.0, 1.0, 1.2, 1.5][seed] if seed < 4 else float(rng.uniform(1.5, 20)),
        inventory_tau=float(rng.uniform(2, 8)) if seed < 4 else float(rng.uniform(1, 15)),
        dependency=float(rng.uniform(0.3, 1)),
        dependency_by_product={p_cut: {"*": 0.2, prods[-1]: 1.0}},
        elasticity_by_product={prods[1]: 0.5} if seed % 2 else {},
        import_origins={p_cut: {"CHN": float(rng.uniform(0.3, 1))}},
        stockpiles={p_cut: {"days": 3.0, "release_rate": 0.5}} if seed % 3 == 0 else {},
        substitution={p_cut: {"headroom": 0.5, "lag_days": 2, "tau_days": 5}},
        rationing="firms_first" if seed % 2 else "proportional",
        alpha_max=1.2 if seed % 4 == 1 else 1.0,
    )
    T = 80
    prep, dense = lowered(t, shocks, params, T)
    res = sc.simulate(prep, shocks, params=params, days=T,
                      record=("output", "final_demand_unmet", "imports", "stocks"))
    oracle = ref.run_reference(**dense, firms_first=params.rationing == "firms_first",
                               alpha_max=params.alpha_max, alpha_tau=params.alpha_tau)
    scale = prep.x0.max()
    assert np.max(np.abs(res.output.values - oracle["x"])) <= 1e-12 * scale
    assert np.max(np.abs(res.final_demand_unmet.values - oracle["fd_unmet"])) <= 1e-12 * scale
    assert np.max(np.abs(res.import_supply.values - oracle["imports"])) <= 1e-12 * scale
    assert np.allclose(res.gdp_loss.values, oracle["gdp_loss"], rtol=1e-12, atol=1e-12 * scale)
    assert np.max(np.abs(res.stocks.values - oracle["stocks"])) <= 1e-11 * scale
    assert np.allclose(res.gdp_gain.values, oracle["gain"], rtol=1e-12, atol=1e-12 * scale)
    assert np.max(np.abs(res.output_loss_demand.values - oracle["dem"])) <= 1e-10 * scale
    # the distance from baseline that decides recovery (issue 15): output and stock gaps
    assert res.attrs["final_output_gap_share"] == pytest.approx(oracle["gap"][-1, 0],
                                                                rel=1e-9, abs=1e-12)
    assert res.attrs["final_stock_gap_share"] == pytest.approx(oracle["gap"][-1, 1],
                                                               rel=1e-9, abs=1e-12)
    # the shocks did something in most cases (so the comparison is not vacuous)
    assert res.gdp_loss_total.values > 0


@pytest.mark.parametrize("sigma", [0.0, 0.01, 0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_ces_kernel_matches_reference(sigma, q):
    assert kn.ces_ratio(0.001, sigma, q) == pytest.approx(ref.ces_ratio(0.001, sigma, q),
                                                          rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(
    "sigma,loss",
    # The CES loss (Pichler et al. 2022): s = 0.001, delta = 0.5, exact CES loss
    [(1.0, 0.00069), (0.5, 0.00100), (0.2, 0.0037), (0.1, 0.045), (0.05, 0.281), (0.01, 0.464)],
)
def test_ces_published_table(sigma, loss):
    assert 1 - kn.ces_ratio(0.001, sigma, 0.5) == pytest.approx(loss, rel=0.02)


def test_ces_limits():
    # sigma = 1: loss 1 - (1 - delta)^s; sigma -> 0: loss delta (docs/methodology.md, "One day, in
    # the kernel's order")
    s, delta = 0.3, 0.4
    assert kn.ces_ratio(s, 1.0, 1 - delta) == pytest.approx((1 - delta) ** s, rel=1e-12)
    assert kn.ces_ratio(s, 1e-6, 1 - delta) == pytest.approx(1 - delta, rel=1e-5)
    # stable in log space at sigma = 1e-3, delta = 0.9
    v = kn.ces_ratio(0.001, 1e-3, 0.1)
    assert np.isfinite(v) and 0.1 <= v <= 0.11  # just above the Leontief limit
    # monotone in sigma
    vals = [kn.ces_ratio(0.05, sg, 0.5) for sg in (0.0, 0.05, 0.2, 0.5, 1.0, 3.0)]
    assert all(a <= b + 1e-15 for a, b in zip(vals, vals[1:]))


# --------------------------------------------------------------------------------------
# closed forms and static limits
# --------------------------------------------------------------------------------------
def test_steady_state_ten_years_random():
    t = random_table(3, n=7)
    res = sc.simulate(t, [], days=3650, record=("output",))
    rel = np.abs(res.output.values / res.output_baseline.values[None, :] - 1)
    assert rel.max() < 1e-12
    assert abs(float(res.gdp_loss_total)) < 1e-9


def test_steady_state_ten_years_japan185(japan185):
    res = sc.simulate(japan185, [], days=3650, record=("output",))
    x0 = res.output_baseline.values
    pos = x0 > 0
    rel = np.abs(res.output.values[:, pos] / x0[pos] - 1)
    assert rel.max() < 1e-12


@pytest.mark.parametrize("n_days", [1, 5, 10, 30])
@pytest.mark.parametrize("theta,level", [(1.0, 0.0), (0.5, 0.5)])
def test_inventory_buffer_timing(n_days, theta, level):
    """A critical input cut to zero keeps output at baseline for exactly n
    days, then 0 (critical) or 1/2 (important)."""
    x = np.array([100.0, 200.0])
    Z = np.array([[0.0, 50.0], [0.0, 0.0]])
    Y = np.array([50.0, 200.0])
    t = tb.from_arrays(Z, Y[:, None], (x - Z.sum(0))[None, :], x=x, sectors=["in", "user"],
                       unit="M")
    p = DynamicParams(inventory_days=n_days, dependency=theta)
    res = sc.simulate(t, CapacityShock(sector="in", share=1.0, start=0, duration=400),
                      params=p, days=n_days + 20, record=("output",))
    user = res.output.sel(sector="user").values / (200 / 365)
    np.testing.assert_allclose(user[:n_days], 1.0, rtol=1e-12)
    np.testing.assert_allclose(user[n_days:], level, atol=1e-12)


@pytest.mark.parametrize("n_days,tau", [(1, 2), (1.5, 1), (10, 10), (30, 10), (5, 20)])
def test_pure_chain_long_run_equals_static(n_days, tau):
    """A permanent 50 % cut of an import in a pure chain gives parts and cars
    at exactly 0.5 in the long run, whatever (n, tau); the other sector follows the mixed
    model (its final demand fixed, its sales to parts and cars at their new levels)."""
    t = chain_table()
    # (n, tau) = (1, 1), the smallest pure chain, is refused: stocks under 1.5 days with tau < 2
    # (docs/robustness.md, "Stable ranges"); the corner's edges are tried instead
    p = DynamicParams(inventory_days=n_days, inventory_tau=tau,
                      import_origins={"RE": {"CHN": 1.0}})
    res = sc.simulate(t, ImportCut(product="RE", origin="CHN", share=0.5, start=0,
                                   duration=10_000), params=p, days=1500, record=("output",))
    x_end = res.output.isel(time=-1).values
    x0 = res.output_baseline.values
    np.testing.assert_allclose(x_end[1:3] / x0[1:3], 0.5, rtol=1e-9)
    A = tb.technical_coefficients(t).values
    f_oth = 220.0 / 365
    x_oth = (f_oth + A[3, 1] * x_end[1] + A[3, 2] * x_end[2]) / (1 - A[3, 3])
    assert x_end[3] == pytest.approx(x_oth, rel=1e-9)


def test_accounting_identities():
    t = random_table(11, n=6)
    prods = [str(s) for s in t.sector.values]
    p = DynamicParams(import_origins={prods[2]: {"CHN": 0.8}}, inventory_days=3)
    res = sc.simulate(t, ImportCut(product=prods[2], origin="CHN", share=1.0, duration=30),
                      params=p, days=120, record=("output", "final_demand_unmet", "imports"))
    c = tb.gdp_coefficients(t)
    x0 = res.output_baseline.values
    out = res.output.values
    # daily GDP loss = c'(x0 - x), cumulative is the running sum
    np.testing.assert_allclose(res.gdp_loss.values, (x0[None, :] - out) @ c, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(res.cumulative_gdp_loss.values, np.cumsum(res.gdp_loss.values))
    # by-sector and by-component losses add up to the total
    assert float(res.value_added_loss.sum()) == pytest.approx(float(res.gdp_loss_total),
                                                              rel=1e-10)
    assert float(res.value_added_loss_by_component.sum()) == pytest.approx(
        float(res.gdp_loss_total), rel=1e-10)
    np.testing.assert_allclose(res.output_loss.values, (x0[None, :] - out).sum(0), rtol=1e-10,
                               atol=1e-9)
    # output never exceeds capacity (baseline) nor goes negative; unmet demand >= 0
    assert (out <= x0[None, :] * (1 + 1e-12)).all() and (out >= 0).all()
    assert (res.final_demand_unmet.values >= -1e-12).all()
    # imports delivered never exceed the available supply (cut share of 80 % of imports)
    m0 = float(t.M.sel(sector=prods[2]).sum()) / 365
    assert (res.import_supply.values <= m0 * (1 + 1e-12)).all()
    assert res.import_supply.values[5, 0] <= m0 * 0.2 * (1 + 1e-9)
    # share uses the stated denominator
    assert float(res.gdp_loss_share) == pytest.approx(float(res.gdp_loss_total) / tb.gdp(t))


def test_non_critical_cut_has_no_output_loss():
    """Cutting an input declared non-critical has zero effect.

    (With domestic producers of the cut product, Pichler-type orders based on demand can
    still move output through the bullwhip channel; the pure case is a fully imported
    input.)"""
    t = chain_table()
    p = DynamicParams(dependency_by_product={"RE": 0.0}, import_origins={"RE": {"CHN": 1.0}},
                      inventory_days=3)
    res = sc.simulate(t, ImportCut(product="RE", origin="CHN", share=1.0, duration=60),
                      params=p, days=100, record=("output", "imports"))
    assert float(res.import_supply.min()) == 0.0
    np.testing.assert_allclose(res.output.values, res.output_baseline.values[None, :] *
                               np.ones((100, 1)), rtol=1e-12)
    assert float(res.gdp_loss_total) == 0.0


def test_zero_cut_equals_no_special_product():
    """kappa = 0 on an origin-split product changes nothing."""
    t = random_table(8, n=6)
    prods = [str(s) for s in t.sector.values]
    base = sc.simulate(t, CapacityShock(sector=prods[0], share=0.3, duration=20), days=90,
                       record=("output",))
    p = DynamicParams(import_origins={prods[3]: {"CHN": 0.7}})
    split = sc.simulate(t, [CapacityShock(sector=prods[0], share=0.3, duration=20),
                            ImportCut(product=prods[3], origin="CHN", share=0.0, duration=50)],
                        params=p, days=90, record=("output",))
    np.testing.assert_allclose(split.output.values, base.output.values, rtol=1e-12)


def _cut_loss(t, share=1.0, duration=60.0, days_inv=5.0, **kw):
    prods = [str(s) for s in t.sector.values]
    p = DynamicParams(inventory_days=days_inv, import_origins={prods[2]: {"CHN": 0.9}}, **kw)
    return float(sc.simulate(t, ImportCut(product=prods[2], origin="CHN", share=share,
                                          duration=duration), params=p, days=400,
                             record=()).gdp_loss_total)


def test_losses_rise_with_share_and_duration():
    t = random_table(21, n=6)
    shares = [_cut_loss(t, share=s) for s in (0.0, 0.2, 0.5, 0.8, 1.0)]
    assert shares[0] == pytest.approx(0.0, abs=1e-9)
    assert all(a <= b + 1e-9 for a, b in zip(shares, shares[1:])) and shares[-1] > 0
    durs = [_cut_loss(t, duration=d) for d in (0, 10, 30, 90, 180)]
    assert all(a <= b + 1e-9 for a, b in zip(durs, durs[1:])) and durs[-1] > 0


def test_losses_fall_with_inventory_days_in_pure_chain():
    """Proven for pure chains without overproduction (docs/methodology.md, "One day, in the
    kernel's order")."""
    t = chain_table()
    losses = []
    for n in (1, 5, 15, 30, 60):
        p = DynamicParams(inventory_days=n, import_origins={"RE": {"CHN": 1.0}})
        losses.append(float(sc.simulate(t, ImportCut(product="RE", origin="CHN", share=0.7,
                                                     duration=40), params=p, days=600,
                                        record=()).gdp_loss_total))
    assert all(a >= b - 1e-9 for a, b in zip(losses, losses[1:]))
    assert losses[0] > losses[-1]


@pytest.mark.parametrize("tau", [1, 5, 10, 60])
def test_short_restoration_times_are_stable(tau):
    """tau_inv in {1, 5, 10, 60} runs without crash or negative stocks; the
    number of sign changes of aggregate output after the shock is a diagnostic."""
    t = random_table(4, n=8)
    prods = [str(s) for s in t.sector.values]
    p = DynamicParams(inventory_tau=tau, inventory_days=10,
                      import_origins={prods[2]: {"CHN": 1.0}})
    res = sc.simulate(t, ImportCut(product=prods[2], origin="CHN", share=0.5, duration=30),
                      params=p, days=400, record=("output", "stocks"))
    assert np.isfinite(res.output.values).all()
    assert (res.stocks.values >= 0).all()
    agg = res.output.sum("sector").values[30:]
    flips = int(np.sum(np.diff(np.sign(np.diff(agg))) != 0))
    print(f"tau={tau}: sign changes of aggregate output after the shock: {flips}")


def test_substitution_and_stockpile_reduce_losses():
    t = chain_table()
    cut = ImportCut(product="RE", origin="CHN", share=1.0, duration=120)
    base = DynamicParams(inventory_days=1, import_origins={"RE": {"CHN": 0.7}})
    l0 = float(sc.simulate(t, cut, params=base, days=400, record=()).gdp_loss_total)
    l_sub = float(sc.simulate(t, cut, params=base.replace(
        substitution={"RE": {"headroom": 0.5, "tau_days": 20}}), days=400,
        record=()).gdp_loss_total)
    l_sp = float(sc.simulate(t, cut, params=base.replace(
        stockpiles={"RE": {"days": 30}}), days=400, record=()).gdp_loss_total)
    assert 0 < l_sub < l0
    assert 0 < l_sp < l0


def test_constant_rate_without_buffers():
    """With no buffer and no substitution the loss is linear in duration (the shape Kiuchi's
    figures imply: 1 year = 4 x 3 months)."""
    t = chain_table()
    p = DynamicParams(inventory_days=1, import_origins={"RE": {"CHN": 0.6}})
    q = float(sc.simulate(t, ImportCut(product="RE", origin="CHN", share=1, duration=91.25),
                          params=p, days=500, record=()).gdp_loss_total)
    y = float(sc.simulate(t, ImportCut(product="RE", origin="CHN", share=1, duration=365),
                          params=p, days=800, record=()).gdp_loss_total)
    # only the start and end transients (a day or two) keep the ratio from exactly 4
    assert y / q == pytest.approx(4.0, rel=0.02)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def test_bad_inputs_are_named(mb23):
    with pytest.raises(LabelError, match="'9'"):
        sc.simulate(mb23, CapacityShock(sector="9", share=0.1, duration=5), days=10)
    with pytest.raises(ShockError, match="share"):
        ImportCut(product="1", origin="CHN", share=1.5, duration=5)
    with pytest.raises(ShockError, match="duration"):
        CapacityShock(sector="1", share=0.5, duration=-1)
    with pytest.raises(ShockError, match="share"):
        CapacityShock(sector="1", share=float("nan"), duration=1)
    with pytest.raises(ParameterError, match="days"):
        sc.simulate(mb23, [], days=0)
    with pytest.raises(ParameterError, match="days"):
        sc.simulate(mb23, [], days=36501)
    with pytest.raises(ParameterError, match="inventory_days"):
        DynamicParams(inventory_days=0.5)
    with pytest.raises(ParameterError, match="rationing"):
        DynamicParams(rationing="random")
    with pytest.raises(ParameterError, match="import_origins"):
        DynamicParams(import_origins={"1": {"CHN": 0.8, "USA": 0.5}})
    with pytest.raises(ParameterError, match="unknown parameter 'foo'"):
        DynamicParams().replace(foo=1)
    with pytest.raises(ShockError, match="origin"):
        sc.simulate(mb23, ImportCut(product="1", origin="CHN", share=1, duration=5), days=10)
    with pytest.raises(ParameterError, match="record"):
        sc.simulate(mb23, [], days=10, record=("nonsense",))


@pytest.mark.parametrize("layout", ["csc", "rows"])
def test_kernel_status_becomes_exception(monkeypatch, mb23, layout):
    from simcore.dynamic import _rows

    monkeypatch.setattr(kn, "run_one", lambda *a: 2)
    monkeypatch.setattr(_rows, "run_rows", lambda *a: 2)
    with pytest.raises(KernelError, match="NaN or infinite"):
        sc.simulate(mb23, [], days=5, layout=layout)


def test_multiregional_table_runs_on_the_mrio_path():
    """prepare_model lowers single-region tables only; simulate runs a multi-regional table
    on the MRIO path (tests/test_mrio.py)."""
    Z = np.array([[1.0, 1.0], [1.0, 1.0]])
    t = tb.from_arrays(Z, [[5.0, 0.0], [0.0, 5.0]], [[5.0, 5.0]], sectors=["a"],
                       regions=["r1", "r2"])
    with pytest.raises(TableError, match="simulate_ario"):
        md.prepare_model(t)
    res = sc.simulate(t, [], days=5)
    assert res.attrs["engine"] == "simcore supply-chain engine (multi-regional)"
    assert abs(float(res.gdp_loss_total)) < 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_long_run_gdp_at_most_lp_optimum(seed):
    """The weakest-link bound (docs/methodology.md, "S1: the weakest link"): with all inputs
    critical and no overproduction, long-run GDP
    under a permanent import cut is at most the linear-programme best case (S2)."""
    t = random_table(100 + seed, n=6)
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[seed % 6]
    share = 0.6
    p = DynamicParams(dependency=1.0, inventory_days=5, import_origins={p_cut: {"CHN": 1.0}})
    res = sc.simulate(t, ImportCut(product=p_cut, origin="CHN", share=share, duration=10_000),
                      params=p, days=1500, record=())
    dyn_annual_loss = float(res.gdp_loss.values[-1]) * 365
    lp = sc.static.lp_best_case(t, import_ratio={p_cut: 1 - share})
    assert dyn_annual_loss >= float(lp.gdp_loss) * (1 - 1e-9) - 1e-9
    # and the chain case, where the LP loss is strictly positive
    c = chain_table()
    pc = DynamicParams(dependency=1.0, inventory_days=5, import_origins={"RE": {"CHN": 1.0}})
    rc = sc.simulate(c, ImportCut(product="RE", origin="CHN", share=share, duration=10_000),
                     params=pc, days=1500, record=())
    lpc = sc.static.lp_best_case(c, import_ratio={"RE": 1 - share})
    assert float(lpc.gdp_loss) > 0
    assert float(rc.gdp_loss.values[-1]) * 365 >= float(lpc.gdp_loss) * (1 - 1e-9)


def _plain_chain(v):
    """simcore.dynamic.common.plain before its fast paths (the isinstance chain alone)."""
    import dataclasses
    from collections.abc import Mapping

    if hasattr(v, "digest") and dataclasses.is_dataclass(v):
        return {"digest": str(v.digest), "source": str(getattr(v, "source", ""))}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: _plain_chain(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, Mapping):
        return {str(k): _plain_chain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return _plain_chain(v.tolist())
    if isinstance(v, (list, tuple)):
        return [_plain_chain(x) for x in v]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def test_plain_fast_paths_give_the_chains_json():
    """plain's fast paths (exact built-in types, dataclass fields kept per class) give the
    same JSON-able values, types included, as the isinstance chain: parameters with cell
    matrices, shocks with custom profiles, numpy scalars and arrays, subclasses of the
    built-ins, odd objects."""
    import collections
    import json

    from simcore.dynamic.common import params_json, plain, shocks_json
    from simcore.scenario import load

    class Sub(float):
        pass

    class Lst(list):
        pass

    s = load("kiuchi-2025-3m")
    cases = [
        s.params(), DynamicParams(), s.shocks(),
        [CapacityShock(sector="35", share=0.3, duration=20, profile=[0.5, 1.0, 0.25]),
         DemandShock(sector="01", change=-0.2, duration=10, target="exports")],
        {"a": (1, 2.5, True, None, "x"), 3: np.float32(0.1), "b": np.int64(7),
         "c": np.arange(3.0), "d": collections.OrderedDict(z=1), "e": Sub(1.5),
         "f": Lst([1, Sub(2.0)]), "g": object, "h": complex(1, 2), "i": -0.0},
    ]
    for v in cases:
        got, want = plain(v), _plain_chain(v)
        assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
        assert repr(got) == repr(want)
    assert params_json(s.params()) == json.dumps(_plain_chain(s.params()), sort_keys=True)
    assert shocks_json(s.shocks()) == json.dumps(
        [{"kind": type(x).__name__, **_plain_chain(x), "end": float(x.end)}
         for x in s.shocks()])


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (40, 7), (6, 0), (4, 2, 3)])
def test_onset_day_equals_the_two_pass_rule(shape):
    """onset_day (one argmax, then a check of the day found) gives the first day below
    the threshold, -1 for never, as ``where(any, argmax, -1)`` does."""
    from simcore.dynamic.common import ONSET_SHARE, onset_day

    rng = np.random.default_rng(sum(shape))
    x = rng.random(shape)
    base = rng.random(shape[1:]) * 0.8 + 0.3
    base.flat[::3] = 0.0  # never below a zero baseline
    below = x < (1.0 - ONSET_SHARE) * base[None]
    want = np.where(below.any(axis=0), below.argmax(axis=0), -1)
    got = onset_day(x, base)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
