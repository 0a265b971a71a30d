"""Tests of simcore's ARIO engine (simcore.dynamic.ario) against its numpy reference and the
analytic properties of the ARIO model (Hallegatte 2008; Guan et al. 2020): steady state
without a shock, inventory buffers, overproduction, per-step accounting, restoration time."""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore.dynamic._ario_reference import simulate_reference
from simcore.dynamic.ario import (
    RECOVERY_FUNCTIONS,
    ARIOParams,
    ArbitraryCapacityLoss,
    _prepare,
    capacity_loss,
    prepare_ario,
    simulate_ario,
    simulate_ario_batch,
)
from simcore.errors import KernelError, LabelError, ParameterError, ShockError, TableError


def random_mrio(seed: int, R: int = 3, n: int = 6, *, zero_share: float = 0.3,
                tiny: bool = True):
    """A random, exactly row-balanced MRIO (x = Z 1 + Y 1) with zero and tiny coefficients."""
    rng = np.random.default_rng(seed)
    p = R * n
    A = rng.uniform(0, 1, (p, p)) * (rng.uniform(0, 1, (p, p)) > zero_share)
    A *= rng.uniform(0.3, 0.6, p)[None, :] / np.maximum(A.sum(0), 1e-300)[None, :]
    if tiny:
        A[rng.integers(0, p), rng.integers(0, p)] = 1e-9   # below BoARIO's mask threshold
    Y = rng.uniform(10, 100, (p, 2 * R))
    x = np.linalg.solve(np.eye(p) - A, Y.sum(1))
    Z = A * x[None, :]
    x = Z.sum(1) + Y.sum(1)
    V = (x - Z.sum(0))[None, :]
    regions = [f"r{i}" for i in range(R)]
    sectors = [f"s{j}" for j in range(n)]
    return sc.tables.from_arrays(Z, Y, V, x=x, regions=regions, sectors=sectors,
                                 final_demand=["hh", "gov"], unit="M")


def two_sector_chain():
    """Sector 'A' (no inputs) supplies sector 'B' (sole input A); both sell to households."""
    Z = np.array([[0.0, 30.0], [0.0, 0.0]])
    Y = np.array([[70.0], [100.0]])
    x = Z.sum(1) + Y.sum(1)
    V = (x - Z.sum(0))[None, :]
    return sc.tables.from_arrays(Z, Y, V, x=x, sectors=["A", "B"], unit="M")


def reference_for(table, events, params, days, fd_mult=None):
    prep = _prepare(table, params.input_threshold, keep_flows=True)
    dl, _ = capacity_loss(table, events, days=days, boario_compat=params.boario_compat,
                          dense=True)
    return simulate_reference(
        prep.arrays["Z"], prep.arrays["F"], prep.arrays["x"], n_regions=prep.R, delta=dl,
        inv_duration=params.inventory_days(prep.sectors),
        restoration_tau=params.restoration_tau(prep.sectors), mask=prep.mask,
        fd_mult=fd_mult, order_type=params.order_type, alpha_base=params.alpha_base,
        alpha_max=params.alpha_max, alpha_tau=params.alpha_tau, psi=params.psi,
        boario_compat=params.boario_compat)


def flat_rec(ds, var):
    da = ds[var]
    return da.values.reshape(da.shape[0], -1) if var != "stocks" else da.values.reshape(
        da.shape[0], da.shape[1], -1)


# --------------------------------------------------------------------------------------
# kernel == numpy reference
# --------------------------------------------------------------------------------------
CASES = [
    (0, "alt", True, {}),
    (1, "noalt", True, {}),
    (2, "alt", False, {}),
    (3, "noalt", False, {"psi": 0.9, "main_inv_dur": 20}),
    (4, "alt", True, {"infinite_inventories_sect": ["s1"], "inventory_duration": {"s2": 5},
                      "inventory_restoration_tau": [5, 10, 20, 30, 60, 90],
                      "alpha_max": 1.1, "alpha_tau": 100}),
    (5, "alt", True, {"input_threshold": 1e-3}),
]


@pytest.mark.parametrize("seed, order_type, compat, extra", CASES)
def test_kernel_matches_reference(seed, order_type, compat, extra):
    table = random_mrio(seed)
    params = ARIOParams(order_type=order_type, boario_compat=compat, **extra)
    events = [ArbitraryCapacityLoss(["r0/s0", "r1/s0", "r2/s0"], [0.8, 0.9, 0.7], 3, 60,
                                    recovery_tau=15),
              ArbitraryCapacityLoss(["r0/s3", "r2/s5"], [0.3, 1.0], 10, 5,
                                    recovery="convexe", recovery_tau=10)]
    days = 150
    rng = np.random.default_rng(seed)
    fdm = np.where(rng.uniform(size=(days, 18)) < 0.05, 1.3, 1.0)
    ref = reference_for(table, events, params, days, fd_mult=fdm)
    assert int(ref["status"]) == 0
    names = ("production", "capacity", "final_demand_unmet", "demand", "overproduction",
             "orders_received", "stocks")
    res = simulate_ario(table, events, params=params, days=days, record=names, fd_mult=fdm)
    assert res.production.dims == ("time", "region", "sector")
    # the scenario does bite: some industry is inventory-constrained (x < min(D, cap))
    x = flat_rec(res, "production")
    opt = np.minimum(flat_rec(res, "demand"), flat_rec(res, "capacity"))
    assert np.any(x < opt * (1 - 1e-6))
    for name in names:
        got = flat_rec(res, name)
        want = ref[name]
        fin = np.isfinite(want)
        assert np.array_equal(fin, np.isfinite(got)), name
        scale = np.max(np.abs(want[fin])) if name != "overproduction" else 1.0
        err = np.max(np.abs(got[fin] - want[fin])) / scale
        assert err <= 1e-12, f"{name}: {err:.2e}"


def test_single_region_matches_reference():
    Z = np.array([[150.0, 500, 10], [200, 100, 0], [0, 40, 5]])
    Y = np.array([[350.0, 20], [1700, 5], [50, 10]])
    x = Z.sum(1) + Y.sum(1)
    table = sc.tables.from_arrays(Z, Y, (x - Z.sum(0))[None, :], x=x, sectors=["a", "b", "c"],
                                  unit="$")
    params = ARIOParams(main_inv_dur=10, inventory_restoration_tau=5)
    events = [ArbitraryCapacityLoss("a", 0.8, 2, 30, recovery_tau=20)]
    ref = reference_for(table, events, params, 120)
    res = simulate_ario(table, events, params=params, days=120,
                        record=("production", "demand", "stocks"))
    assert res.production.dims == ("time", "sector")
    for name in ("production", "demand", "stocks"):
        np.testing.assert_allclose(flat_rec(res, name), ref[name], rtol=1e-12, atol=0)


def test_reference_and_kernel_agree_on_failure():
    """An inactive input (below the mask threshold) is never rationed, so its stock can run
    out: BoARIO raises (negative stock); both implementations report it on the same day."""
    table = two_sector_chain()
    params = ARIOParams(input_threshold=0.5, main_inv_dur=3)  # A's coefficient 0.3 < 0.5
    events = [ArbitraryCapacityLoss("A", 1.0, 1, 50, recovery_tau=5)]
    ref = reference_for(table, events, params, 60)
    assert int(ref["status"]) == 1
    with pytest.raises(KernelError, match=f"negative.*day {int(ref['fail_day'])}"):
        simulate_ario(table, events, params=params, days=60)


# --------------------------------------------------------------------------------------
# No shock -> steady state
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("compat", [True, False])
@pytest.mark.parametrize("order_type", ["alt", "noalt"])
def test_steady_state_ten_years(order_type, compat):
    table = random_mrio(7)
    res = simulate_ario(table, [], params=ARIOParams(order_type=order_type,
                                                     boario_compat=compat),
                        days=3650, record=("production", "orders_received", "value_added",
                                           "final_demand_unmet"))
    x0 = res.baseline_production.values.ravel()
    x = flat_rec(res, "production")
    assert np.max(np.abs(x / x0 - 1)) < 1e-12
    z0 = table.Z.values.reshape(18, 18).sum(1) / 365
    assert np.max(np.abs(flat_rec(res, "orders_received") / z0 - 1)) < 1e-12
    va = flat_rec(res, "value_added").sum(1)
    assert np.max(np.abs(va / va[0] - 1)) < 1e-12
    np.testing.assert_allclose(va[0] * 365, sc.tables.gdp(table), rtol=1e-12)
    assert np.max(np.abs(flat_rec(res, "final_demand_unmet"))) < 1e-12 * x0.max()


def test_steady_state_japan(japan185):
    from simcore.transform import prepare_for_dynamics

    table, _ = prepare_for_dynamics(japan185)
    res = simulate_ario(table, [], days=3650, record=("production",),
                        aggregate=("value_added",))
    x = res.production.values
    x0 = res.baseline_production.values
    assert np.max(np.abs(x / x0 - 1)) < 1e-12
    # imports are pooled with domestic supply; GDP-like value added is preserved
    assert res.attrs["pooled_imports"] == 1
    np.testing.assert_allclose(float(res.aggregate_value_added[0]) * 365,
                               sc.tables.gdp(table), rtol=1e-9)


# --------------------------------------------------------------------------------------
# Inventory buffers: analytics
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("psi, s, exact", [(0.75, 90, True), (0.8, 90, False),
                                           (0.5, 41, True)])
def test_inventory_buffer_onset_and_decay(psi, s, exact):
    table = two_sector_chain()
    days = 120
    delta = np.zeros((days, 2))
    delta[1:, 0] = 1.0  # supplier A loses all capacity from t = 1 (no lag: delta is raw)
    params = ARIOParams(psi=psi, main_inv_dur=s, alpha_max=1.0)
    res = simulate_ario(table, [], params=params, days=days, delta=delta,
                        record=("production",))
    xb = res.production.sel(sector="B").values
    x0 = float(res.baseline_production.sel(sector="B"))
    onset = int(np.argmax(xb < x0 * (1 - 1e-12)))
    expected = int(np.floor((1 - psi) * s)) + 2
    if exact:
        assert onset == expected
    else:
        assert abs(onset - expected) <= 1
    decay = xb[onset + 2:] / xb[onset + 1:-1]
    np.testing.assert_allclose(decay, 1 - 1 / (psi * s), rtol=1e-12)


# --------------------------------------------------------------------------------------
# Overproduction: analytics
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("compat", [True, False])
def test_overproduction_rule(compat):
    table = random_mrio(11)
    params = ARIOParams(alpha_tau=50, boario_compat=compat)
    ev = ArbitraryCapacityLoss(("r1", "s2"), 0.4, 5, 80, recovery_tau=40)
    res = simulate_ario(table, [ev], params=params, days=250,
                        record=("production", "demand", "overproduction"))
    a = flat_rec(res, "overproduction")
    D = flat_rec(res, "demand")
    x = flat_rec(res, "production")
    assert np.all(a >= 1.0)
    assert np.all(a[:2] == params.alpha_base)  # no update on steps 0 and 1
    zeta = (D[2:] - x[1:-1]) / D[2:]       # today's demand vs yesterday's production
    assert (zeta > 0).any() and (zeta < 0).any() and a.max() > 1.01
    rate = 1 / params.alpha_tau
    prev = a[1:-1]
    if compat:   # BoARIO's code (quirk Q2)
        expect = prev + ((params.alpha_max - prev) * zeta * rate
                         + (params.alpha_base - prev) * (zeta == 0) * rate)
    else:        # BoARIO's documentation
        expect = np.where(zeta > 0, prev + (params.alpha_max - prev) * zeta * rate,
                          prev + (params.alpha_base - prev) * rate)
    np.testing.assert_allclose(a[2:], np.maximum(expect, 1.0), rtol=0, atol=1e-14)
    # with zeta > 0 (and no floor): alpha_max - alpha(t) = (alpha_max - alpha(t-1))(1 - zeta/tau)
    pos = (zeta > 0) & (expect > 1.0)
    np.testing.assert_allclose((params.alpha_max - a[2:])[pos],
                               ((params.alpha_max - prev) * (1 - zeta * rate))[pos],
                               rtol=0, atol=1e-14)


# --------------------------------------------------------------------------------------
# Per-step accounting invariants
# --------------------------------------------------------------------------------------
def test_accounting_invariants():
    table = random_mrio(5)
    params = ARIOParams(boario_compat=False, main_inv_dur=15)
    events = [ArbitraryCapacityLoss(("r0", "s1"), 0.7, 2, 40, recovery_tau=20),
              ArbitraryCapacityLoss(("r2", "s4"), 0.5, 30, 10, recovery_tau=5)]
    res = simulate_ario(table, events, params=params, days=120,
                        record=("production", "capacity", "demand", "final_demand_unmet",
                                "orders_received", "stocks", "value_added"))
    x, cap, D = (flat_rec(res, v) for v in ("production", "capacity", "demand"))
    fu, oin, st = (flat_rec(res, v) for v in ("final_demand_unmet", "orders_received",
                                              "stocks"))
    tol = 1e-12 * x.max()
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(st))
    assert np.all(st >= 0)
    assert np.all(x <= np.minimum(D, cap) + tol)           # x^a <= min(D, x^cap)
    yt = D - oin                                            # final demand of the day
    assert np.all(fu >= -tol) and np.all(fu <= yt + tol)    # 0 <= unmet <= final demand
    # deliveries sum to production: intermediate + final deliveries = x
    delivered_final = yt - fu
    delivered_int = oin * np.where(D > 0, x / D, 0)
    np.testing.assert_allclose(delivered_int + delivered_final, x, rtol=1e-12)
    # stock-flow identity, summed: stock(t+1) - stock(t) = deliveries - use
    prep = _prepare(table, None)
    use = x @ prep.aS.sum(0)  # sum_f x_f sum_k aS_kf
    d_stock = st[1:].sum((1, 2)) - st[:-1].sum((1, 2))
    np.testing.assert_allclose(d_stock, delivered_int[:-1].sum(1) - use[:-1],
                               rtol=1e-9, atol=1e-9 * float(st.sum((1, 2)).max()))
    np.testing.assert_allclose(flat_rec(res, "value_added"),
                               x * (res.baseline_value_added.values.ravel()
                                    / res.baseline_production.values.ravel()), rtol=1e-14)


# --------------------------------------------------------------------------------------
# Inventory restoration time, robustness and oscillation diagnostic
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [1, 5, 10, 60])
def test_restoration_tau_robustness(tau, record_property):
    table = random_mrio(3)
    ev = ArbitraryCapacityLoss(("r1", "s0"), 0.5, 5, 60, recovery_tau=30)
    res = simulate_ario(table, [ev], params=ARIOParams(inventory_restoration_tau=tau),
                        days=400, record=("production", "stocks"))
    st = res.stocks.values
    assert np.all(np.isfinite(st)) and np.all(st >= 0)
    agg = res.production.sum(("region", "sector")).values
    change = np.diff(agg[100:])
    change = change[np.abs(change) > 1e-12 * agg[0]]
    flips = int(np.sum(np.sign(change[1:]) != np.sign(change[:-1])))
    record_property(f"sign_changes_after_day_100_tau_{tau}", flips)
    print(f"tau_inv={tau}: {flips} sign changes of aggregate output after day 100")


# --------------------------------------------------------------------------------------
# batch == looped single runs
# --------------------------------------------------------------------------------------
def test_batch_matches_single_runs():
    table = random_mrio(9)
    days = 120
    plist = [ARIOParams(), ARIOParams(order_type="noalt", psi=0.9),
             ARIOParams(alpha_max=1.0, inventory_restoration_tau=10),
             ARIOParams(main_inv_dur=30, infinite_inventories_sect=["s3"])]
    scen = [[ArbitraryCapacityLoss(("r0", "s2"), sh, 4, 30, recovery_tau=20)]
            for sh in (0.2, 0.5, 0.8, 1.0)]
    rec = ("production", "final_demand_unmet")
    batch = simulate_ario_batch(table, scen, params=plist, days=days, record=rec,
                                cumulative=("production", "value_added"),
                                aggregate=("value_added",), workers=2)
    assert batch.production.dims == ("scenario", "time", "region", "sector")
    for j, (p_, evs) in enumerate(zip(plist, scen)):
        one = simulate_ario(table, evs, params=p_, days=days, record=rec + ("value_added",))
        for v in rec:
            np.testing.assert_allclose(batch[v].isel(scenario=j), one[v], rtol=1e-13, atol=0)
        np.testing.assert_allclose(batch.cumulative_production.isel(scenario=j),
                                   one.production.sum("time"), rtol=1e-12)
        np.testing.assert_allclose(batch.aggregate_value_added.isel(scenario=j),
                                   one.value_added.sum(("region", "sector")), rtol=1e-12)


def test_batch_array_input_and_shared_shock():
    table = random_mrio(2, R=2, n=4)
    days = 60
    delta = np.zeros((days, 1))
    delta[5:30, 0] = 0.5
    plist = [ARIOParams(psi=ps) for ps in (0.5, 0.8, 1.0)]
    out = simulate_ario_batch(table, delta, params=plist, industries=["r1/s2"],
                              cumulative=("production",), aggregate=())
    for j, p_ in enumerate(plist):
        full = np.zeros((days, 8))
        full[:, 6] = delta[:, 0]
        one = simulate_ario(table, [], params=p_, days=days, delta=full,
                            record=("production",))
        np.testing.assert_allclose(out.cumulative_production.isel(scenario=j),
                                   one.production.sum("time"), rtol=1e-12)


def test_prepared_table_reused():
    table = random_mrio(4)
    prep = prepare_ario(table)
    ev = ArbitraryCapacityLoss(("r1", "s0"), 0.5, 3, 20, recovery_tau=10)
    a = simulate_ario(table, [ev], days=60, record=("production",))
    b = simulate_ario(prep, [ev], days=60, record=("production",))
    np.testing.assert_array_equal(a.production, b.production)
    c = simulate_ario_batch(prep, [[ev]], days=60, cumulative=("production",))
    np.testing.assert_allclose(c.cumulative_production.isel(scenario=0),
                               a.production.sum("time"), rtol=1e-12)
    with pytest.raises(ParameterError, match="input_threshold"):
        simulate_ario(prep, [ev], params=ARIOParams(input_threshold=1e-4), days=5)


# --------------------------------------------------------------------------------------
# events lowering
# --------------------------------------------------------------------------------------
def test_event_lowering_boario_lag():
    table = random_mrio(0)
    ev = ArbitraryCapacityLoss(("r1", "s0"), 0.5, 5, 60, recovery_tau=30)
    dl, idx = capacity_loss(table, [ev], days=120)
    assert idx.tolist() == [6]
    d = dl[:, 0]
    assert np.all(d[:6] == 0)
    assert np.all(d[6:68] == 0.5)                       # t0 + 1 .. t0 + d + 2 (f(0) = 0.5)
    t = np.arange(68, 120)
    np.testing.assert_array_equal(d[68:], np.maximum(np.round(0.5 * (1 - (t - 67) / 30), 6), 0))
    dl2, _ = capacity_loss(table, [ev], days=120, boario_compat=False)
    assert np.all(dl2[5:65, 0] == 0.5) and dl2[4, 0] == 0 and dl2[95, 0] == 0
    both, _ = capacity_loss(table, [ev, ArbitraryCapacityLoss("r1/s0", 0.7, 10, 2)], days=20)
    assert both[11, 0] == 0.7 and both[20 - 1, 0] == 0.5     # combined by maximum


def test_recovery_registry():
    init = np.array([0.4])
    for name, f in RECOVERY_FUNCTIONS.items():
        assert f(0, init, 30)[0] == pytest.approx(0.4), name
        assert f(30, init, 30)[0] < f(10, init, 30)[0] < 0.4, name
    assert RECOVERY_FUNCTIONS["linear"](15, init, 30)[0] == pytest.approx(0.2)
    assert RECOVERY_FUNCTIONS["convexe"](30, init, 30)[0] < 0.4 * 0.05  # "mostly recovered"
    assert RECOVERY_FUNCTIONS["convexe noscale"](30, init, 30)[0] == pytest.approx(
        0.4 * (29 / 30) ** 30)


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, name", [
    ({"psi": 1.5}, "psi"), ({"psi": 0}, "psi"), ({"order_type": "foo"}, "order_type"),
    ({"alpha_base": 0.9}, "alpha_base"), ({"alpha_max": 0.99}, "alpha_max"),
    ({"alpha_tau": 0}, "alpha_tau"), ({"main_inv_dur": 1}, "main_inv_dur"),
    ({"inventory_restoration_tau": 0.5}, "inventory_restoration_tau"),
    ({"inventory_duration": {"s0": 0.5}}, "inventory_duration"),
    ({"input_threshold": -1}, "input_threshold"), ({"monetary_factor": 0}, "monetary_factor"),
    ({"alpha_max": float("nan")}, "alpha_max"),
])
def test_bad_parameters(kw, name):
    with pytest.raises(ParameterError, match=f"'{name}'.*allowed"):
        ARIOParams(**kw)


def test_bad_inputs():
    table = random_mrio(0)
    with pytest.raises(ParameterError, match="'days'"):
        simulate_ario(table, [], days=0)
    with pytest.raises(ParameterError, match="cover every sector"):
        simulate_ario(table, [], params=ARIOParams(inventory_restoration_tau={"s0": 5}),
                      days=5)
    with pytest.raises(LabelError, match="unknown sector"):
        simulate_ario(table, [], params=ARIOParams(infinite_inventories_sect=["zz"]), days=5)
    with pytest.raises(LabelError, match="unknown industry"):
        simulate_ario(table, [ArbitraryCapacityLoss("nope", 0.5, 1, 1)], days=5)
    with pytest.raises(ShockError, match="share"):
        ArbitraryCapacityLoss("r0/s0", 1.5, 1, 1)
    with pytest.raises(ShockError, match="occurrence"):
        ArbitraryCapacityLoss("r0/s0", 0.5, -1, 1)
    with pytest.raises(ShockError, match="recovery"):
        ArbitraryCapacityLoss("r0/s0", 0.5, 1, 1, recovery="sigmoid")
    with pytest.raises(ParameterError, match="unknown daily record"):
        simulate_ario(table, [], days=5, record=("gdp",))
    with pytest.raises(ParameterError, match="boario_compat"):
        simulate_ario_batch(table, np.zeros((5, 18)),
                            params=[ARIOParams(), ARIOParams(boario_compat=False)])
    neg = sc.tables.from_arrays([[-1.0, 2.0], [1.0, 0.0]], [[10.0], [10.0]], [[11.0, 9.0]],
                                sectors=["a", "b"])
    with pytest.raises(TableError, match="negative"):
        simulate_ario(neg, [], days=5)
