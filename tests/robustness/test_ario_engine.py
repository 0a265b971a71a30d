"""The failures issue 8 names for BoARIO, checked on simcore's ARIO engine
(:mod:`simcore.dynamic.ario`, the BoARIO-parity engine).

* BoARIO crashes when a shocked industry has zero intermediate flows: here it runs, and an
  industry with no inputs and no intermediate sales loses exactly its own capacity loss.
* BoARIO returns a silent zero loss when its money-unit default does not match the table:
  here ``monetary_factor`` is metadata only, and in the documented model the same table in
  another unit of money gives the same relative losses (amounts scale exactly).  The
  BoARIO-parity mode (``boario_compat=True``) inherits one unit trap from BoARIO, the
  absolute tolerance of its ``np.allclose`` skips, and warns when a table's flows are
  small enough for it to matter.
* BoARIO goes unstable with some parameters (issue #18, ``inventory_restoration_tau = 1``):
  ``test_ario.py::test_restoration_tau_robustness`` runs tau = 1, 5, 10, 60; here a 100 %
  shock of an industry every other industry buys from (``universal_input_table``), with
  tau = 1, over 10 years, stays finite, non-negative and returns to baseline.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import simcore as sc
from simcore.dynamic.ario import (
    ARIOParams,
    ArbitraryCapacityLoss,
    simulate_ario,
    simulate_ario_batch,
)
from simcore.errors import SimcoreWarning

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import scale_money  # noqa: E402


def _three_industries(a_to_c: float):
    """A supplies B (30) and C (``a_to_c``), B supplies A (5); final demand 70, 95, 50."""
    Z = np.array([[0.0, 30.0, a_to_c], [5.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    Y = np.array([[70.0], [95.0], [50.0]])
    x = Z.sum(1) + Y.sum(1)
    V = (x - Z.sum(0))[None, :]
    return sc.tables.from_arrays(Z, Y, V, x=x, sectors=["A", "B", "C"], unit="M")


def isolated_table():
    """Three industries: A supplies B; C has no intermediate inputs and no intermediate
    sales (only final demand), a zero row and a zero column of Z."""
    return _three_industries(0.0)


def universal_input_table():
    """Three industries, balanced: A supplies B (30) and C (10), B supplies A (5); every
    other industry buys A directly."""
    return _three_industries(10.0)


def test_shocked_industry_with_zero_intermediate_flows():
    t = isolated_table()
    p = ARIOParams(alpha_max=1.0, boario_compat=False)
    res = simulate_ario(t, [ArbitraryCapacityLoss("C", 0.5, 0, 30)], params=p, days=200,
                        record=("production", "value_added"))
    prod = res.production.values
    assert np.isfinite(prod).all() and (prod >= 0).all()
    x0 = res.baseline_production.values
    va0 = res.baseline_value_added.values
    # C runs at half capacity for days 0..30 (the linear recovery starts from the full loss
    # on day t0 + d), A and B are untouched, then C is back at baseline
    np.testing.assert_allclose(prod[:31, 2], 0.5 * x0[2], rtol=1e-12)
    np.testing.assert_allclose(prod[:, :2], np.broadcast_to(x0[:2], (200, 2)), rtol=1e-12)
    np.testing.assert_allclose(prod[31:, 2], x0[2], rtol=1e-12)
    loss = float((va0[None, :] - res.value_added.values).sum())
    assert loss == pytest.approx(0.5 * 31 * va0[2], rel=1e-12)


def _rel_loss(r):
    va0 = r.baseline_value_added.values
    return float((va0[None, :] - r.value_added.values).sum() / va0.sum())


@pytest.mark.parametrize("k", [1e-6, 1e-3, 1e3, 1e6])
def test_unit_of_money_does_not_change_relative_losses(k):
    """The documented model (boario_compat=False) is invariant to the unit of money; a
    different ``monetary_factor`` is metadata only."""
    t = isolated_table()
    ev = [ArbitraryCapacityLoss("A", 0.6, 5, 40, recovery_tau=20)]
    p = ARIOParams(boario_compat=False)
    r1 = simulate_ario(t, ev, params=p, days=300, record=("production", "value_added"))
    r2 = simulate_ario(scale_money(t, k), ev, params=p, days=300,
                       record=("production", "value_added"))
    r3 = simulate_ario(t, ev, params=ARIOParams(boario_compat=False, monetary_factor=1.0),
                       days=300, record=("production", "value_added"))
    assert _rel_loss(r1) > 1.0  # a real loss (over a day of GDP), not a silent zero
    assert _rel_loss(r2) == pytest.approx(_rel_loss(r1), rel=1e-9)
    np.testing.assert_allclose(r2.production.values / k, r1.production.values, rtol=1e-9)
    np.testing.assert_array_equal(r3.production.values, r1.production.values)


def test_boario_compat_unit_trap_is_flagged():
    """BoARIO's stock-update and gap skips use np.allclose with an absolute tolerance of
    1e-8 in table units (quirk Q5), which boario_compat=True reproduces.  The same table in
    millionths of its unit (median daily flow 5e-8) loses 12.15 days of GDP instead of
    12.91: a unit trap, which simcore flags with a SimcoreWarning.  In the table's own unit
    (median daily flow 0.05) there is no warning, and the result equals the one in a unit a
    million times smaller (numbers 1e6 times larger)."""
    t = isolated_table()
    ev = [ArbitraryCapacityLoss("A", 0.6, 5, 40, recovery_tau=20)]
    rec = ("production", "value_added")
    base = simulate_ario(t, ev, days=300, record=rec)
    big = simulate_ario(scale_money(t, 1e6), ev, days=300, record=rec)
    assert _rel_loss(big) == pytest.approx(_rel_loss(base), rel=1e-9)
    with pytest.warns(SimcoreWarning, match="depends on the unit of money"):
        small = simulate_ario(scale_money(t, 1e-6), ev, days=300, record=rec)
    assert abs(_rel_loss(small) / _rel_loss(base) - 1) > 0.03
    with pytest.warns(SimcoreWarning, match="depends on the unit of money"):
        simulate_ario_batch(scale_money(t, 1e-6), [ev], days=30)
    # the documented model needs no warning at any unit
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimcoreWarning)
        simulate_ario(scale_money(t, 1e-6), ev, params=ARIOParams(boario_compat=False),
                      days=30)


def test_full_shock_of_a_universal_input_with_one_day_restoration():
    # B and C both buy A; A loses all capacity for 60 days
    t = universal_input_table()
    p = ARIOParams(inventory_restoration_tau=1.0)
    res = simulate_ario(t, [ArbitraryCapacityLoss("A", 1.0, 0, 60, recovery_tau=30)],
                        params=p, days=3650, record=("production", "stocks"))
    prod, st = res.production.values, res.stocks.values
    assert np.isfinite(prod).all() and (prod >= 0).all()
    assert np.isfinite(st).all() and (st >= 0).all()
    x0 = res.baseline_production.values
    # the shock reaches both buyers (each falls to about half of its baseline) ...
    assert (prod[:, 1:].min(axis=0) < 0.9 * x0[1:]).all()
    # ... and the economy is back at baseline
    np.testing.assert_allclose(prod[-1], x0, rtol=1e-9)


def test_partial_loss_costs_more_than_a_total_one():
    """BoARIO goes unstable with some parameters, and simcore reproduces it exactly.  Two
    regions, each with a sector that buys its own product (s0) and one that buys nothing;
    5-day stocks, restoration tau = 10, BoARIO's defaults otherwise (overproduction
    alpha_max 1.25).  A one-day capacity loss of (r0, s0): 50 % costs 4.4 days of that
    sector's output, 100 % costs 8.9 days, but 75 % costs 236 days.  BoARIO 0.6.3 gives the
    same numbers (checked here, to 1e-12 of output).  The documented model
    (boario_compat=False) loses 7.5 days at 75 %: the blow-up comes from BoARIO's quirks."""
    import logging
    import tempfile

    import pandas as pd
    pytest.importorskip("boario")
    import boario.event
    from boario.extended_models import ARIOPsiModel
    from boario.simulation import Simulation

    Z = np.zeros((4, 4))
    Z[0, 0] = Z[2, 2] = 1e5
    Y = np.array([[1.0, 0], [1.0, 0], [0, 1.0], [0, 1.0]]) * 1e5
    x = Z.sum(1) + Y.sum(1)
    t = sc.tables.from_arrays(Z, Y, (x - Z.sum(0))[None, :], x=x, regions=["r0", "r1"],
                              sectors=["s0", "s1"], final_demand=["hh"], unit="M")
    mriot = sc.to_pymrio(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mriot.calc_all()
    logging.getLogger("boario").setLevel(logging.ERROR)
    T = 300
    lost = {}
    for share in (0.5, 0.75, 1.0):
        ev = [ArbitraryCapacityLoss(("r0", "s0"), share, 5, 1, recovery_tau=10.0)]
        p = ARIOParams(main_inv_dur=5.0, inventory_restoration_tau=10.0)
        ours = simulate_ario(t, ev, params=p, days=T, record=("production",))
        prod = ours.production.values.reshape(T, -1)
        with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = Simulation(ARIOPsiModel(mriot, main_inv_dur=5, inventory_restoration_tau=10),
                             n_temporal_units_to_sim=T, boario_output_dir=d)
            sim.add_event(boario.event.from_series(
                pd.Series({("r0", "s0"): share}), event_type="arbitrary", occurrence=5,
                duration=1, recovery_tau=10, recovery_function="linear"))
            sim.loop()
            theirs = sim.production_realised.to_numpy()[:T]
        assert not sim.has_crashed
        # BoARIO sorts industries lexicographically: here the same order as simcore's
        np.testing.assert_allclose(prod, theirs, rtol=0, atol=1e-12 * prod.max())
        lost[share] = float((prod[0, 0] - prod[:, 0]).sum() / prod[0, 0])
    assert lost[0.5] == pytest.approx(4.42, abs=0.01)
    assert lost[1.0] == pytest.approx(8.91, abs=0.01)
    assert lost[0.75] == pytest.approx(236.4, abs=0.1)
    doc = simulate_ario(t, [ArbitraryCapacityLoss(("r0", "s0"), 0.75, 5, 1, recovery_tau=10.0)],
                        params=ARIOParams(main_inv_dur=5.0, inventory_restoration_tau=10.0,
                                          boario_compat=False), days=T, record=("production",))
    dp = doc.production.values.reshape(T, -1)
    assert float((dp[0, 0] - dp[:, 0]).sum() / dp[0, 0]) == pytest.approx(7.47, abs=0.01)
