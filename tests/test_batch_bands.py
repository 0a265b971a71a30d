"""Band draws through the batch (issue 17): lowered from their group's split, each draw's
numbers bit for bit its own scenario run's."""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore import calibrate, scenario
from simcore.dynamic import batch as b
from simcore.dynamic import supply_chain as m
from simcore.dynamic.params import DynamicParams, Stockpile, Substitution


@pytest.fixture(scope="module")
def post():
    return calibrate.load_posterior()


@pytest.fixture(scope="module")
def prep37(japan37):
    return m.prepare_model(japan37)


def test_band_draws_equal_their_single_runs_bit_for_bit(post, monkeypatch):
    """Eight draws (one lane block) of a shipped band: the daily loss, its total and the
    value-added loss by sector of a draw equal, bit for bit, the scenario run at the
    draw's parameters; and the draws lowered from their group's split equal full
    lowerings of every draw."""
    ds = calibrate.run_bands("kiuchi-2025-3m", 8, posterior=post, seed=3)
    assert ds.attrs["parameters_drawn"] == "dependency_scale, china_mag_share"
    base = scenario.load("kiuchi-2025-3m")
    n = ds.sizes["sector"]
    for q in (0, 5, 7):
        x = ds["parameters"].values[q]
        one = base.run(**{"model.dependency_scale": float(x[0]),
                          "model.import_origins.MAG.CHN": float(x[1])})
        T = one.sizes["time"]
        np.testing.assert_array_equal(ds.gdp_loss.values[q, :T], one.gdp_loss.values)
        assert not ds.gdp_loss.values[q, T:].any()
        assert float(ds.gdp_loss_total[q]) == float(one.gdp_loss_total)
        np.testing.assert_array_equal(ds.value_added_loss.values[q],
                                      one.value_added_loss.values[:n])
    assert len(set(ds.gdp_loss_total.values.tolist())) == 8
    monkeypatch.setattr(b, "_SPLIT_ROWS", False)
    full = calibrate.run_bands("kiuchi-2025-3m", 8, posterior=post, seed=3)
    for k in ("gdp_loss", "gdp_loss_total", "value_added_loss", "parameters"):
        np.testing.assert_array_equal(ds[k].values, full[k].values)


def test_pooled_shares_with_a_stockpile_or_substitution(prep37, monkeypatch):
    """Stocks per origin, members differing in a pool's share: with a stockpile on the
    split product (its pools' stocks scale with the shares) each member is lowered in
    full; with a substitution ramp, from the group's split; both bit for bit the full
    lowerings and within 1e-12 of the single runs."""
    calls = []
    real = m.lower
    monkeypatch.setattr(m, "lower", lambda *a, **k: calls.append(1) or real(*a, **k))
    for extra, n_lower in (({"stockpiles": {"27": Stockpile(days=3.0, release_rate=0.2)}}, 7),
                           ({"substitution": {"27": Substitution(headroom=0.4, lag_days=5.0)}},
                            1)):
        scen = []
        for q in range(7):
            p = DynamicParams(import_origins={"27": {"CHN": 0.3 + 0.08 * q, "USA": 0.2}},
                              origin_stocks=True, dependency_by_product={"27": 0.3 + 0.05 * q},
                              inventory_days_by_product={"27": 2.0},
                              **extra)
            scen.append(([sc.ImportCut(product="27", origin="CHN", share=1.0, duration=40)], p))
        calls.clear()
        r = b.run_lowered(prep37, scen, 90)
        assert len(calls) == n_lower and r["groups"] == 1
        monkeypatch.setattr(b, "_SPLIT_ROWS", False)
        full = b.run_lowered(prep37, scen, 90)
        monkeypatch.setattr(b, "_SPLIT_ROWS", True)
        for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status"):
            np.testing.assert_array_equal(r[k], full[k])
        assert len({float(v) for v in r["gdp_loss"].sum(axis=1)}) == len(scen)
        for s, (sh, p) in enumerate(scen):
            one = sc.simulate(prep37, sh, params=p, days=90)
            ref = one.gdp_loss.values
            assert np.max(np.abs(r["gdp_loss"][s] - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_split_values_check_compares_pools_and_every_other_field(prep37):
    """``_same_but_split_values``: equal but for the per-product maps (at least the first
    member's products) and the pools' shares; another pooled origin, a share that makes or
    removes a pool, a product the first member overrides and this one does not, or any
    other field that differs makes it False."""
    p0 = DynamicParams(import_origins={"27": {"CHN": 0.5, "ROW": 0.2}}, origin_stocks=True,
                       dependency_by_product={"27": 0.5})

    def same(**kw):
        base = dict(import_origins={"27": {"CHN": 0.7, "ROW": 0.2}}, origin_stocks=True,
                    dependency_by_product={"27": 0.9})
        return b._same_but_split_values(prep37, DynamicParams(**{**base, **kw}), p0)

    assert same()
    assert same(dependency_by_product={"27": {"*": 0.2, "35": 0.9}})
    assert same(inventory_days_by_product={"27": 3.0})  # more products than the first's
    # a product the first member overrides and this one does not
    assert not same(dependency_by_product={})
    assert not same(inventory_days=4.0)
    assert not same(import_origins={"27": {"USA": 0.7, "ROW": 0.2}})
    assert not same(import_origins={"27": {"CHN": 0.0, "ROW": 0.2}})
    assert not same(import_origins={"27": {"CHN": 0.7, "ROW": 0.1}})  # ROW: no pool
    assert not same(import_origins={"27": {"CHN": 0.7, "ROW": 0.2}, "28": {"CHN": 0.5}})
    # and the group key: equal for members that differ in the pools' shares only
    sh = [sc.ImportCut(product="27", origin="CHN", share=1.0, duration=10)]
    p1 = DynamicParams(import_origins={"27": {"CHN": 0.7, "ROW": 0.2}}, origin_stocks=True,
                       dependency_by_product={"27": 0.9})
    assert b.group_key(prep37, sh, p1) == b.group_key(prep37, sh, p0)
    p2 = DynamicParams(import_origins={"27": {"CHN": 0.7, "ROW": 0.2}}, origin_stocks=False)
    p3 = DynamicParams(import_origins={"27": {"CHN": 0.5, "ROW": 0.2}}, origin_stocks=False)
    assert b.group_key(prep37, sh, p2) == b.group_key(prep37, sh, p3)  # shares: lane values


def test_a_member_without_the_group_s_special_row_override_gets_its_own_rows(prep37):
    """The group's first member overrides the dependency share of a special (pooled)
    product and the others do not: each gets its own rows (the base), not the first
    member's (on main before issue 17's round 4 the others ran with the first's rows)."""
    scen = []
    for q in range(3):
        p = DynamicParams(import_origins={"27": {"CHN": 0.5}}, origin_stocks=True,
                          dependency_by_product={"27": 0.5} if q == 0 else {},
                          inventory_days=3.0)
        scen.append(([sc.ImportCut(product="27", origin="CHN", share=1.0, duration=30)], p))
    r = b.run_lowered(prep37, scen, 60)
    for s, (sh, p) in enumerate(scen):
        ref = sc.simulate(prep37, sh, params=p, days=60).gdp_loss.values
        assert np.max(np.abs(r["gdp_loss"][s] - ref)) <= 1e-12 * np.max(np.abs(ref))
    assert r["gdp_loss"][1].sum() > 1.5 * r["gdp_loss"][0].sum()


def test_even_blocks_give_the_fixed_layout_s_numbers(prep37):
    """``run_lowered(even=True)`` (the band draws' layout): the scenarios of a structure in
    blocks of about equal width, multiples of LANE_STEP, a whole number of rounds of the
    threads, the rest in a last block (or alone under MIN_LANES); every scenario's numbers
    bit for bit those of the fixed layout (LANES-wide blocks)."""
    import numba

    from test_lanes import _mixed

    assert b.LANES % b.LANE_STEP == 0
    assert b.even_width(100, 2) == 48 and b.even_width(100, 1) == 48
    assert b.even_width(64, 2) == b.LANES and b.even_width(200, 2) == 48
    # a table whose 64-lane block would pass EVEN_BLOCK_BYTES: blocks of at most LANES
    big = b.EVEN_BLOCK_BYTES // (8 * b.EVEN_LANES) + 1
    assert b.even_width(100, 2, big) == 24 and b.even_width(100, 2, big - 1) == 48
    assert b.even_width(20, 2) == 8 and b.even_width(20, 1) == 16
    assert b.even_width(8, 2) == b.LANES  # blocks of 4: the fixed layout
    for m_scen in (2 * b.LANES + 11, 3 * b.LANES + 4):
        scen = _mixed(m_scen)
        fixed = b.run_lowered(prep37, scen, 60)
        before = numba.get_num_threads()
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            try:
                grab = []
                real = b._ln.run_lanes
                b._ln.run_lanes = lambda *a: grab.append(a[1].A.shape[-1]) or real(*a)
                try:
                    r = b.run_lowered(prep37, scen, 60, even=True)
                finally:
                    b._ln.run_lanes = real
            finally:
                numba.set_num_threads(before)
            w = b.even_width(m_scen, threads)
            rest = m_scen % w
            last = [min(w, -(-rest // b.LANE_STEP) * b.LANE_STEP)] if rest >= b.MIN_LANES else []
            assert sorted(grab, reverse=True) == [w] * (m_scen // w) + last
            assert r["kernel_calls"] == len(grab) + (rest if rest < b.MIN_LANES else 0)
            for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status", "info"):
                np.testing.assert_array_equal(r[k], fixed[k])


def test_a_draw_outside_a_parameter_s_range_raises_a_clear_error():
    """Draws are scenario overrides, each checked: a value outside its key's allowed range
    raises, naming the file, the key and what was allowed, before anything runs."""
    from simcore.errors import ScenarioError

    base = scenario.load("kiuchi-2025-3m")
    ok = {"model.dependency_scale": 1.0}
    with pytest.raises(ScenarioError, match=r"kiuchi-2025-3m.*'model.dependency_scale' = "
                                            r"-1.0 is not allowed; expected a number >= 0"):
        calibrate.run_draws(base, [ok, {"model.dependency_scale": -1.0}])
    with pytest.raises(ScenarioError, match=r"model.import_origins.*number <= 1 and >= 0 "
                                            r"\(bad entry 'CHN'\)"):
        calibrate.run_draws(base, [ok, {"model.import_origins.MAG.CHN": 1.5}])
