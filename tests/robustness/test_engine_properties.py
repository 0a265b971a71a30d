"""Hypothesis properties of the daily engine (``simcore.simulate``) on random valid inputs.

Tables come from ``tests/strategies.py`` (balanced, productive, ``x > 0``, competitive
imports up to 90 % of domestic use); shocks are random capacity losses and random import
cuts (origin ``ROW``, i.e. all imports of the product).  Parameters are drawn inside the
documented stable range (``docs/robustness.md``): ``inventory_days`` 1..90,
``inventory_tau`` 5..60, no overproduction (``alpha_max = 1``), either rationing rule, and
dependency shares 0, 1 or a partial share drawn in [0.05, 0.95] (the engine is stable for
every share since stock use is capped, see ``test_stability.py``).

Properties (issue 8):

* no negative output, stock or import supply, no NaN (stocks are non-negative by
  construction; the kernel reports non-finite values and negative output as a
  :class:`~simcore.errors.KernelError`);
* losses are at least zero for pure cuts;
* losses rise with the cut share (under ``firms_first`` for import cuts only: a capacity
  cut of a sector that buys its own product is not monotone under that rule, see
  :func:`test_firms_first_capacity_cut_hoarding`) and with the duration, under both
  rationing rules and every dependency share, compared over a horizon that holds the
  aftermath (:func:`test_duration_monotone_needs_the_aftermath_in_the_horizon`,
  :func:`test_share_monotone_needs_the_aftermath_in_the_horizon`);
* results are invariant to the order of the sectors and to the unit of money;
* no shock means no loss.

Tolerances: losses are compared against ``1e-9`` of the table's annual GDP (days of
round-off in a few-sector table are ~1e-15 relative).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore.dynamic.params import DynamicParams

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import permute_sectors, productive_tables, scale_money  # noqa: E402

_share = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)
_RECORD = ("output", "final_demand_unmet", "imports", "stocks")


@st.composite
def params(draw, table, rationing=("proportional", "firms_first"),
           thetas=("0", "1", "partial")) -> DynamicParams:
    kind = draw(st.sampled_from(list(thetas)), label="theta")
    theta = ({"0": 0.0, "1": 1.0}[kind] if kind != "partial"
             else draw(st.floats(0.05, 0.95), label="partial theta"))
    return DynamicParams(
        inventory_days=draw(st.sampled_from([1.0, 3.0, 10.0, 30.0, 90.0]), label="n"),
        inventory_tau=draw(st.sampled_from([5.0, 10.0, 30.0, 60.0]), label="tau"),
        dependency=theta,
        rationing=draw(st.sampled_from(list(rationing)), label="rationing"),
    )


@st.composite
def cut_kind(draw, table, kinds=("capacity", "import")) -> tuple[str, str]:
    """("capacity", sector) or ("import", product with imports), among ``kinds``."""
    sectors = [str(s) for s in table.sector.values]
    imported = [s for s, m in zip(sectors, table.M.sum("import_item").values) if m > 0]
    kinds = [k for k in kinds if k == "capacity" or (k == "import" and imported)]
    assume(kinds)
    kind = draw(st.sampled_from(kinds), label="kind")
    code = draw(st.sampled_from(sectors if kind == "capacity" else imported), label="code")
    return kind, code


def _shock(kind: str, code: str, share: float, duration: float, start: float = 0.0):
    if kind == "capacity":
        return sc.CapacityShock(sector=code, share=share, start=start, duration=duration)
    return sc.ImportCut(product=code, origin="ROW", share=share, start=start, duration=duration)


def _gdp(table) -> float:
    return float(sc.tables.gdp(table))


@st.composite
def random_cut(draw, table):
    """Parameters and one random cut (capacity or import, share, duration up to 120 days)."""
    p = draw(params(table), label="params")
    kind, code = draw(cut_kind(table))
    share = draw(_share, label="share")
    duration = draw(st.floats(0.0, 120.0), label="duration")
    return p, _shock(kind, code, share, duration)


@given(data=st.data(), table=productive_tables(max_n=6))
def test_no_negative_output_stock_or_nan(data, table):
    p, shock = data.draw(random_cut(table))
    res = sc.simulate(table, shock, params=p, days=150,
                      record=_RECORD)
    for var in ("output", "final_demand_unmet", "import_supply", "stocks", "gdp_loss"):
        if var in res:
            assert np.all(np.isfinite(res[var].values)), var
    assert float(res.output.min()) >= 0.0
    if "stocks" in res and res.stocks.size:
        assert float(res.stocks.min()) >= 0.0
    if "import_supply" in res and res.import_supply.size:
        assert float(res.import_supply.min()) >= 0.0
    # output never exceeds baseline without overproduction, so there are no VA gains
    x0 = res.output_baseline.values
    assert np.all(res.output.values <= x0[None, :] * (1 + 1e-9) + 1e-12)
    assert float(res.gdp_gain_total) <= 1e-9 * _gdp(table)


@given(data=st.data(), table=productive_tables(max_n=6))
def test_pure_cuts_lose_at_least_zero(data, table):
    p, shock = data.draw(random_cut(table))
    res = sc.simulate(table, shock, params=p, days=200)
    tol = 1e-9 * _gdp(table)
    assert float(res.gdp_loss_total) >= -tol
    assert np.all(res.value_added_loss.values >= -tol)
    assert np.all(res.gdp_loss.values >= -tol)


@given(data=st.data(), table=productive_tables(max_n=5))
def test_loss_rises_with_cut_share(data, table):
    p = data.draw(params(table), label="params")
    # firms_first: import cuts only (the import-cut share kappa); a capacity cut of a sector
    # that buys its own product is not monotone under that rule, see
    # test_firms_first_capacity_cut_hoarding
    kinds = ("import",) if p.rationing == "firms_first" else ("capacity", "import")
    kind, code = data.draw(cut_kind(table, kinds))
    a, b = sorted(data.draw(st.lists(_share, min_size=2, max_size=2), label="shares"))
    duration = data.draw(st.floats(1.0, 90.0), label="duration")
    # over a horizon that holds the aftermath: cut short, a larger cut's later restocking
    # dip can fall outside it (test_share_monotone_needs_the_aftermath_in_the_horizon)
    la = _loss_with_aftermath(table, _shock(kind, code, a, duration), p)
    lb = _loss_with_aftermath(table, _shock(kind, code, b, duration), p)
    assert lb >= la - 1e-9 * _gdp(table)


def _loss_with_aftermath(table, shock, p) -> float:
    """The total loss over 1,500 days, or over 6,000 where the run is not back at baseline
    by then (``attrs['recovered']``)."""
    for days in (1500, 6000):
        r = sc.simulate(table, shock, params=p, days=days)
        if r.attrs["recovered"]:
            break
    return float(r.gdp_loss_total)


@given(data=st.data(), table=productive_tables(max_n=5))
def test_loss_rises_with_duration(data, table):
    p = data.draw(params(table), label="params")
    kind, code = data.draw(cut_kind(table))
    share = data.draw(_share, label="share")
    d1, d2 = sorted(data.draw(st.lists(st.floats(0.0, 120.0), min_size=2, max_size=2),
                              label="durations"))
    # a long horizon: the aftermath of a longer cut can start months later (see
    # test_duration_monotone_needs_the_aftermath_in_the_horizon)
    l1 = float(sc.simulate(table, _shock(kind, code, share, d1), params=p,
                           days=1500).gdp_loss_total)
    l2 = float(sc.simulate(table, _shock(kind, code, share, d2), params=p,
                           days=1500).gdp_loss_total)
    assert l2 >= l1 - 1e-9 * _gdp(table)


def test_duration_monotone_needs_the_aftermath_in_the_horizon():
    """Found by the thorough profile: compared over a horizon that cuts the aftermath short,
    a longer cut can show a smaller loss.  Chain s0 -> s1 -> s2, half of s2's use of s1
    imported, non-critical inputs (theta = 0), 30-day stocks, tau = 5: after a 57-day total
    import cut, s2's depleted stock can never be rebuilt (no spare capacity, import supply
    capped at baseline), its restocking orders keep s1's expected demand high, s1
    overstocks and buys less from s0 -- from day 240 on.  Over 250 days the 1-day cut
    loses more; over 600 days and beyond the 57-day cut loses far more."""
    Zm = np.zeros((5, 5))
    Zm[0, 1], Zm[1, 2] = 6.375, 23.5
    x = np.array([7.375, 12.75, 47.0, 1.0, 1.0])
    va = x - Zm.sum(0)
    t = sc.tables.from_arrays(Zm, [[0.0], [0.0], [46.0], [0.0], [0.0]], [va / 2, va / 2],
                              x=x, E=np.ones(5), M=[0.0, 11.75, 0.0, 0.0, 0.0],
                              sectors=[f"s{i}" for i in range(5)],
                              va_items=["compensation", "operating_surplus"])
    p = DynamicParams(inventory_days=30.0, inventory_tau=5.0, dependency=0.0)

    def loss(duration, days):
        cut = sc.ImportCut(product="s1", origin="ROW", share=1.0, duration=duration)
        return float(sc.simulate(t, cut, params=p, days=days).gdp_loss_total)

    assert loss(57.0, 250) < loss(1.0, 250)
    assert loss(57.0, 600) > 10 * loss(1.0, 600)
    res = sc.simulate(t, sc.ImportCut(product="s1", origin="ROW", share=1.0, duration=57.0),
                      params=p, days=600)
    assert res.attrs["recovered"] == 0



def test_restocking_does_not_overshoot_after_a_short_cut():
    """Found by the random (dev) profile: a 2-day cut cost less than a 1-day cut.  s1 buys
    s0 (half imported, non-critical), one-day stocks, tau = 5.  With stock use capped at the
    morning stock, min(A x, S), a buyer whose stock had fallen below one day's use stored
    the whole day's deliveries once the cut ended, overshot its target, cut its orders, and
    s0 lost output for weeks -- more after the 1-day cut (1.53e-5 of GDP) than after the
    2-day cut (1.42e-5).  Deliveries above the target are now used first, so the stock
    returns to its target without overshooting and, the input being non-critical, neither
    cut costs anything."""
    t = sc.tables.from_arrays([[0.0, 0.5], [0.0, 0.0]], [[0.0], [0.0]],
                              [[0.625, 0.25], [0.625, 0.25]], x=[1.25, 1.0], E=[1.0, 1.0],
                              M=[0.25, 0.0], sectors=["s0", "s1"],
                              va_items=["compensation", "operating_surplus"])
    p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=0.0)
    res = {d: sc.simulate(t, sc.ImportCut(product="s0", origin="ROW", share=1.0, duration=d),
                          params=p, days=60, record=("stocks",)) for d in (1.0, 2.0)}
    tol = 1e-12 * _gdp(t)
    assert float(res[2.0].gdp_loss_total) >= float(res[1.0].gdp_loss_total) - tol
    for r in res.values():
        assert abs(float(r.gdp_loss_total)) <= tol
        target = 0.5 / 365  # one day of s1's use of s0
        assert float(r.stocks.max()) <= target * (1 + 1e-12)
        assert float(r.stocks.values[-1, 0]) == pytest.approx(target, rel=1e-12)

@given(data=st.data(), table=productive_tables(min_n=2, max_n=6))
def test_invariant_to_sector_order(data, table):
    p = data.draw(params(table), label="params")
    kind, code = data.draw(cut_kind(table))
    share = data.draw(_share, label="share")
    perm = data.draw(st.permutations(range(table.sizes["sector"])), label="perm")
    shock = _shock(kind, code, share, 60.0)
    r1 = sc.simulate(table, shock, params=p, days=120)
    r2 = sc.simulate(permute_sectors(table, perm), shock, params=p, days=120)
    scale = 1e-9 * max(_gdp(table), 1e-300)
    np.testing.assert_allclose(r2.value_added_loss.sel(sector=r1.sector).values,
                               r1.value_added_loss.values, rtol=0, atol=scale)
    np.testing.assert_allclose(r2.gdp_loss.values, r1.gdp_loss.values, rtol=0,
                               atol=scale / 365)


@given(data=st.data(), table=productive_tables(max_n=6),
       k=st.sampled_from([1e-6, 1e-3, 0.01, 7.0, 1e3, 1e6]))
def test_invariant_to_unit_of_money(data, table, k):
    p = data.draw(params(table), label="params")
    kind, code = data.draw(cut_kind(table))
    share = data.draw(_share, label="share")
    shock = _shock(kind, code, share, 45.0)
    r1 = sc.simulate(table, shock, params=p, days=120)
    r2 = sc.simulate(scale_money(table, k), shock, params=p, days=120)
    # the loss share is unit-free; the money amounts scale with k
    assert abs(float(r2.gdp_loss_share) - float(r1.gdp_loss_share)) <= 1e-9
    np.testing.assert_allclose(r2.value_added_loss.values / k, r1.value_added_loss.values,
                               rtol=0, atol=1e-9 * _gdp(table))


@given(data=st.data(), table=productive_tables(max_n=8),
       days=st.integers(1, 400), zero=st.sampled_from(["none", "share0", "duration0"]))
@settings(max_examples=40)
def test_no_shock_no_loss(data, table, days, zero):
    p = data.draw(params(table), label="params")
    code = str(table.sector.values[0])
    shocks = {"none": [],
              "share0": [sc.CapacityShock(sector=code, share=0.0, duration=days)],
              "duration0": [sc.CapacityShock(sector=code, share=1.0, duration=0.0)]}[zero]
    res = sc.simulate(table, shocks, params=p, days=days, record=("output",))
    tol = 1e-12 * _gdp(table)
    assert abs(float(res.gdp_loss_total)) <= tol * days
    np.testing.assert_allclose(res.output.values,
                               np.broadcast_to(res.output_baseline.values, res.output.shape),
                               rtol=1e-12, atol=1e-12 * float(res.output_baseline.max()))




def test_firms_first_capacity_cut_hoarding():
    """Under rationing='firms_first' a partial capacity cut can cost as much as a full one,
    and slightly more: the loss is not monotone in the share of a capacity cut.

    One sector with own use A = 0.5 and exports only, one-day stocks, tau = 5, a one-day
    cut.  Orders follow last period's demand (Pichler et al. Eq. 4), so on the day of a
    50 % cut the sector still orders its own product for full output, and intermediate
    users are served first: it receives 1 day of input for half a day of output and
    exports get nothing.  The half-day of input it hoards is worked off by ordering less,
    which lowers its own demand twice over (1 / (1 - A) = 2): another half day of output.
    The half cut costs 1.00025 days of value added (the excess over the full cut is the
    restocking transient), the full cut 1 day (nothing to hoard), and under proportional
    rationing the half cut costs exactly half a day.  Import cuts (the import-cut share
    kappa) are monotone under both rules (test_loss_rises_with_cut_share)."""
    t = sc.tables.from_arrays([[1.0]], [[0.0]], [[0.5], [0.5]], x=[2.0], E=[1.0], M=[0.0],
                              sectors=["s0"], va_items=["compensation", "operating_surplus"])
    day = _gdp(t) / 365

    def run(share, rationing, theta=1.0, days=200):
        p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=theta,
                          rationing=rationing)
        return sc.simulate(t, sc.CapacityShock(sector="s0", share=share, duration=1.0),
                           params=p, days=days, record=("output", "final_demand_unmet"))

    for theta in (0.0, 1.0):
        half, full = run(0.5, "firms_first", theta), run(1.0, "firms_first", theta)
        assert float(full.gdp_loss_total) / day == pytest.approx(1.0, rel=1e-9)
        assert float(half.gdp_loss_total) / day == pytest.approx(1.0, rel=1e-3)
        assert float(half.gdp_loss_total) > float(full.gdp_loss_total) * (1 + 1e-5)
        # day 0: exports get nothing, the sector's own orders are served in full
        assert float(half.final_demand_unmet[0, 0]) == pytest.approx(1.0 / 365, rel=1e-12)
        # proportional rationing: half the output on day 0, then back at baseline
        prop = run(0.5, "proportional", theta)
        assert float(prop.gdp_loss_total) / day == pytest.approx(0.5, rel=1e-12)
        # the hoarded input: after the half cut the sector produces below baseline for
        # weeks while it works off the stock (the full cut leaves nothing to work off)
        x0 = float(half.output_baseline[0])
        assert float(half.output[1, 0]) < 0.96 * x0
        assert float(full.output[1, 0]) == pytest.approx(x0, rel=1e-12)


def test_partial_dependency_loss_monotone_in_share():
    t = sc.tables.from_arrays([[1.0]], [[0.0]], [[0.5], [0.5]], x=[2.0], E=[1.0], M=[0.0],
                              sectors=["s0"], va_items=["compensation", "operating_surplus"])
    p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=0.625)
    half, full = (float(sc.simulate(t, sc.CapacityShock(sector="s0", share=s, duration=1.0),
                                    params=p, days=200).gdp_loss_total) for s in (0.5, 1.0))
    assert full >= half - 1e-12 * _gdp(t)


def _demand_only_table():
    """The table hypothesis found (dev profile, 2026-12-02): four sectors, s1 buys s0
    (22.5, of which imports 7.03), s0 buys s2 (8.23), final demand for s1 only, exports 1
    each; no input binds (dependency 0) and no overproduction."""
    return sc.tables.from_arrays(
        [[0.0, 22.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [8.234375, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0]], [[0.0], [29.0], [0.0], [0.0]],
        [[4.1171875, 3.75, 4.6171875, 0.5], [4.1171875, 3.75, 4.6171875, 0.5]],
        x=[16.46875, 30.0, 9.234375, 1.0], E=[1.0, 1.0, 1.0, 1.0], M=[7.03125, 0.0, 0.0, 0.0],
        sectors=["s0", "s1", "s2", "s3"], va_items=["compensation", "operating_surplus"],
        unit="money")


@pytest.mark.parametrize("rationing, smaller, larger", [("proportional", 0.3, 0.45),
                                                         ("firms_first", 0.4, 0.5)])
def test_share_monotone_needs_the_aftermath_in_the_horizon(rationing, smaller, larger):
    """Found by the dev profile (2026-12-02), when :func:`test_loss_rises_with_cut_share`
    compared over 200 days: there a larger import cut of s0 showed a smaller loss, under
    both rationing rules.  No input binds; the loss is all s2's, the supplier of s0, and
    comes after the 75-day cut (from day 155 for a 30 % cut, day 174 for 45 %, under
    proportional rationing), so 200 days cut the larger cut's aftermath shorter.  Over a
    horizon that holds the aftermath (the run back at baseline) the loss rises with the
    share, as :func:`test_duration_monotone_needs_the_aftermath_in_the_horizon` found for
    the duration."""
    t = _demand_only_table()
    p = DynamicParams(inventory_days=10.0, inventory_tau=5.0, dependency=0.0,
                      rationing=rationing)

    def run(share, days):
        r = sc.simulate(t, _shock("import", "s0", share, 75.0), params=p, days=days)
        out = r.output_loss.to_series()
        assert out["s2"] > 0 and (out.drop("s2").abs() < 1e-12 * _gdp(t)).all()
        assert float(r.gdp_gain_total) == 0.0
        return r

    assert float(run(larger, 200).gdp_loss_total) < float(run(smaller, 200).gdp_loss_total)
    long = [run(share, 3000) for share in (smaller, larger)]
    assert all(r.attrs["recovered"] for r in long)
    assert float(long[1].gdp_loss_total) > float(long[0].gdp_loss_total)
    shares = (0.3, 0.375, 0.4, 0.45, 0.5, 0.6, 1.0)
    full = [_loss_with_aftermath(t, _shock("import", "s0", s, 75.0), p) for s in shares]
    assert all(b > a for a, b in zip(full, full[1:])), full
