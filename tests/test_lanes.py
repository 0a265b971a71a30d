"""The lane kernel (:mod:`simcore.dynamic._lanes`): batches with the scenario as the
innermost axis give each scenario its single run's numbers (issue 17), and scenarios whose
lowered tables differ only in values share lanes (issue 16's bands)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import simcore as sc
from simcore._jit import STATUS_NON_FINITE, STATUS_OK
from simcore.errors import ParameterError
from simcore.dynamic import _kernels as kn
from simcore.dynamic import _lanes as ln
from simcore.dynamic import batch as b
from simcore.dynamic import supply_chain as m
from simcore.dynamic.params import DynamicParams
from simcore.dynamic.supply_chain import recovered_rule

RTOL = 1e-12
DAYS = 300


@pytest.fixture(scope="module")
def prep37(japan37):
    return m.prepare_model(japan37)


@pytest.fixture
def one_thread():
    """numba on one thread here (the batch's calls take the caller's setting), so that
    where a partial last block runs does not depend on the machine's cores."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def _close(a, ref):
    a, ref = np.asarray(a, dtype=float), np.asarray(ref, dtype=float)
    scale = max(float(np.max(np.abs(ref))), 1e-300)
    assert float(np.max(np.abs(a - ref))) <= RTOL * scale


def _mixed(n_scen: int):
    """Capacity and import-cut scenarios of one structure, differing in values: shares,
    start and length (so lanes stop and recover on different days), inventory days,
    restocking time, overproduction (gains), an elasticity held by all."""
    base = dict(elasticity_by_product={"20": 0.5})
    out = []
    for q in range(n_scen):
        p = DynamicParams(inventory_days=5.0 + 3.0 * (q % 5), inventory_tau=2.0 + q % 7,
                          alpha_max=1.0 + 0.05 * (q % 4), alpha_tau=1.0 + 30.0 * (q % 3),
                          **base)
        sh = [sc.CapacityShock(sector="35", share=0.05 + 0.04 * (q % 20), start=float(q % 6),
                               duration=5.0 + 3.0 * q),
              sc.ImportCut(product="20", origin="ROW", share=0.3 + 0.03 * (q % 20),
                           start=float(q % 3), duration=10.0 + 5.0 * (q % 9))]
        out.append((sh, p))
    return out


def test_lanes_equal_single_runs_with_a_partial_last_block(prep37, one_thread):
    scen = _mixed(b.LANES + b.MIN_LANES + 1)  # a full block and a partial one (padded)
    r = b.run_lowered(prep37, scen, DAYS, record_output=True)
    # the partial block runs in lanes too, in a narrower block of its own call
    assert b.last_width(b.MIN_LANES + 1) < b.LANES
    assert r["groups"] == 1 and r["kernel_calls"] == 2
    ends = []
    for s, (sh, p) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=p, days=DAYS, record=("output",))
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["gdp_gain"][s], one.gdp_gain)
        _close(r["out_cum"][s], one.output_loss)
        _close(r["output"][s], one.output)
        assert r["status"][s] == STATUS_OK
        assert bool(recovered_rule(prep37, r["gdp_loss"][s, -1], r["gap"][s, -1])) == bool(
            one.attrs["recovered"])
        rec = recovered_rule(prep37, r["gdp_loss"][s], r["gap"][s])
        ends.append(int(np.nonzero(~rec)[0].max()) + 1 if not rec.all() else 0)
    # the lanes really recover on different days (or not within the horizon)
    assert len({e for e in ends if e < DAYS}) > 5
    assert (r["gdp_gain"].sum(axis=1) > 0).sum() >= 2


def test_partial_blocks_of_every_width_give_the_full_block_s_numbers(prep37, one_thread):
    """A partial last block runs at the narrowest of LANES/4, LANES/2 and LANES that holds
    it; each lane's numbers are bit for bit those of the same scenario in a full block
    (and so its single run's, checked above)."""
    assert [b.last_width(r) for r in (1, b.LANES // 4, b.LANES // 4 + 1, b.LANES // 2,
                                      b.LANES // 2 + 1, b.LANES)] == \
        [b.LANES // 4, b.LANES // 4, b.LANES // 2, b.LANES // 2, b.LANES, b.LANES]
    scen = _mixed(b.LANES)
    full = b.run_lowered(prep37, scen, 60)
    assert full["kernel_calls"] == 1
    for rest in (b.MIN_LANES, b.LANES // 4 + 1, b.LANES // 2 + 1):
        part = b.run_lowered(prep37, scen[:rest], 60)
        assert part["kernel_calls"] == 1
        np.testing.assert_array_equal(part["gdp_loss"], full["gdp_loss"][:rest])
        np.testing.assert_array_equal(part["out_cum"], full["out_cum"][:rest])
        np.testing.assert_array_equal(part["gap"], full["gap"][:rest])


def test_few_leftover_scenarios_run_alone_with_the_same_numbers(prep37, one_thread):
    """A partial last block under MIN_LANES scenarios runs them with run_one: a batch of
    one scenario costs one single run, not a block of padding."""
    scen = _mixed(b.LANES + 3)
    r = b.run_lowered(prep37, scen, 80)
    assert r["groups"] == 1 and r["kernel_calls"] == 1 + 3
    one = b.run_lowered(prep37, scen[-1:], 80)
    assert one["kernel_calls"] == 1
    np.testing.assert_array_equal(one["gdp_loss"][0], r["gdp_loss"][-1])
    for s in (0, b.LANES, b.LANES + 2):
        sh, p = scen[s]
        _close(r["gdp_loss"][s], sc.simulate(prep37, sh, params=p, days=80).gdp_loss)


def test_numbers_do_not_depend_on_the_threads(prep37):
    """Blocks and single runs go to a pool of threads as they are lowered (whichever thread
    is free takes the next); one thread or two give the same numbers, bit for bit, and the
    same calls."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    scen = _mixed(3 * b.LANES + 3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = b.run_lowered(prep37, scen, 50)
        numba.set_num_threads(2)
        r = b.run_lowered(prep37, scen, 50)
    finally:
        numba.set_num_threads(before)
    assert alone["kernel_calls"] == r["kernel_calls"] == 3 + 3
    for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status"):
        np.testing.assert_array_equal(r[k], alone[k])


def test_the_last_day_s_gaps_alone_leave_every_number_as_it_was(prep37, one_thread):
    """``gaps="last"`` (what the band draws, sweeps of a fixed horizon and
    ``simulate_batch`` ask for) keeps only the last day's gaps, summed on that day only, in
    the lane blocks and in the single runs of a few leftover scenarios: every other output
    and the last day's gaps are the same bits as with every day's."""
    scen = _mixed(b.LANES + 3)
    daily = b.run_lowered(prep37, scen, 120)
    last = b.run_lowered(prep37, scen, 120, gaps="last")
    assert daily["kernel_calls"] == last["kernel_calls"] == 1 + 3
    assert last["gap"].shape == (len(scen), 1, 2)
    np.testing.assert_array_equal(last["gap"], daily["gap"][:, -1:])
    assert np.all(last["gap"][:, 0, 1] > 0)  # the stock gaps are there, not zeros
    for k in ("gdp_loss", "gdp_gain", "out_cum", "status", "info"):
        np.testing.assert_array_equal(last[k], daily[k])
    one_day = b.run_lowered(prep37, scen, 1, gaps="last")  # T = 1: the one row is the day's
    np.testing.assert_array_equal(one_day["gap"], b.run_lowered(prep37, scen, 1)["gap"])
    with pytest.raises(ParameterError, match="gaps = 'weekly'"):
        b.run_lowered(prep37, scen[:1], 10, gaps="weekly")


def test_a_failing_lane_stops_as_run_one_and_the_others_run_on(prep37):
    """A lane whose loss turns non-finite on day 7 stops recording there, as ``run_one``
    returns; its neighbours in the block are unaffected."""
    scen = _mixed(b.MIN_LANES + 1)
    grab = {}
    real = ln.run_lanes

    def capture(*a):
        grab["a"] = a
        real(*a)

    try:
        b._ln.run_lanes = capture
        r = b.run_lowered(prep37, scen, DAYS)
    finally:
        b._ln.run_lanes = real
    st, tab, scn, out = grab["a"]
    bad = 2
    scn.capfac[0, 7, :, bad] = np.nan
    res = ln.LaneOutput(*[np.zeros_like(a) for a in out[:6]],
                        np.zeros_like(out.status), np.full_like(out.info, -1),
                        np.zeros_like(out.skipped))
    ln.run_lanes(st, tab, scn, res)
    # the failing scenario's single run with the same input
    sh, p = scen[bad]
    low = m.lower(prep37, sh, p, DAYS)
    low.capfac[7, :] = np.nan
    p2 = low.prep
    nnz, n2, K = p2.A.shape[0], p2.n, low.sp_idx.shape[0]
    gl, oc, gg, info = np.zeros(DAYS), np.zeros(n2), np.zeros(DAYS), np.zeros(1, np.int64)
    status = kn.run_single(
        m.kernel_table(low, p), m.kernel_special(low), m.kernel_shocks(low),
        m.kernel_options(p), kn.work_arrays(nnz, n2, K),
        kn.Records(gl, oc, np.zeros((0, n2)), np.zeros((0, n2)), np.zeros((0, K)),
                   np.zeros((0, K)), gg, np.zeros((0, 2)), info, np.zeros(0)))
    assert status == STATUS_NON_FINITE and info[0] == 7
    assert res.status[0, bad] == STATUS_NON_FINITE and res.info[0, bad] == 7
    got = res.gdp_loss[0, :, bad]
    assert np.all(got[8:] == 0) and not np.isfinite(got[7])
    np.testing.assert_array_equal(got[:7], gl[:7])
    np.testing.assert_array_equal(res.out_cum[0, :, bad][np.isfinite(oc)],
                                  oc[np.isfinite(oc)])
    for s in range(len(scen)):
        if s != bad:
            assert res.status[0, s] == STATUS_OK
            np.testing.assert_array_equal(res.gdp_loss[0, :, s], r["gdp_loss"][s])
    # with the last day's gaps only: the failing lane records none, the others the same
    # (ones: what the kernel must overwrite)
    res1 = ln.LaneOutput(*[np.zeros_like(a) for a in out[:5]],
                         np.ones_like(out.rec_gap[:, :1]),
                         np.zeros_like(out.status), np.full_like(out.info, -1),
                         np.zeros_like(out.skipped))
    ln.run_lanes(st, tab, scn, res1)
    np.testing.assert_array_equal(res1.gdp_loss, res.gdp_loss)
    np.testing.assert_array_equal(res1.rec_gap[0, 0, :, bad], [0.0, 0.0])
    # outputs and schedules of sizes the kernel does not take are refused before it runs
    with pytest.raises(ValueError, match=r"run_lanes: rec_x has shape \(1, 3, "):
        ln.run_lanes(st, tab, scn, res1._replace(rec_x=np.zeros((1, 3) + out.rec_x.shape[2:])))
    with pytest.raises(ValueError, match=r"run_lanes: capfac has shape \(1, 7, "):
        ln.run_lanes(st, tab, scn._replace(capfac=scn.capfac[:, :7]), res1)
    for s in range(len(scen)):
        if s != bad:
            np.testing.assert_array_equal(res1.rec_gap[0, 0, :, s], res.rec_gap[0, -1, :, s])


def test_origin_shares_that_differ_share_lanes(prep37):
    """Stocks per origin with different China shares: different lowered tables (the pool
    rows' coefficients), one structure, so one kernel call instead of one per share."""
    scen = []
    for q in range(b.MIN_LANES + 2):
        p = DynamicParams(import_origins={"27": {"CHN": 0.3 + 0.06 * q}}, origin_stocks=True,
                          inventory_days=10.0 + q)
        scen.append(([sc.ImportCut(product="27", origin="CHN", share=1.0, duration=40)], p))
    keys = {b.group_key(prep37, sh, p) for sh, p in scen}
    assert len(keys) == len(scen)  # as many lowerings ...
    r = b.run_lowered(prep37, scen, DAYS)
    assert r["groups"] == 1 and r["kernel_calls"] == 1  # ... one call
    for s, (sh, p) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=p, days=DAYS, record=())
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["out_cum"][s], one.output_loss)
    tot = r["gdp_loss"].sum(axis=1)
    assert np.all(np.diff(tot) > 0)  # a larger China share loses more


def test_structures_that_differ_run_apart(prep37):
    a = ([sc.CapacityShock(sector="35", share=0.2, duration=10)], DynamicParams())
    c = ([sc.CapacityShock(sector="11", share=0.2, duration=10)], DynamicParams())
    d = ([sc.CapacityShock(sector="35", share=0.2, duration=10)],
         DynamicParams(rationing="firms_first"))
    r = b.run_lowered(prep37, [a, c, d, a], 30)
    assert r["groups"] == 3
    np.testing.assert_array_equal(r["gdp_loss"][0], r["gdp_loss"][3])
    for s, (sh, p) in enumerate((a, c, d)):
        _close(r["gdp_loss"][s], sc.simulate(prep37, sh, params=p, days=30).gdp_loss)


def test_large_batches_split_into_calls_of_whole_blocks(prep37, monkeypatch):
    scen = _mixed(2 * b.LANES + 1)
    ref = b.run_lowered(prep37, scen, 40)
    monkeypatch.setattr(b, "LANE_CALL_BYTES", 1)  # the fewest blocks in flight: one a thread
    r = b.run_lowered(prep37, scen, 40)
    assert r["kernel_calls"] == 3
    np.testing.assert_array_equal(r["gdp_loss"], ref["gdp_loss"])
    np.testing.assert_array_equal(r["out_cum"], ref["out_cum"])


def test_lane_key_ignores_values_not_structure(prep37):
    p = DynamicParams()
    sh = [sc.CapacityShock(sector="35", share=0.2, duration=10)]
    k1 = b.lane_key(m.lower(prep37, sh, p, 5), p)
    p2 = dataclasses.replace(p, inventory_days=40.0, alpha_max=1.3)
    k2 = b.lane_key(m.lower(prep37, [dataclasses.replace(sh[0], share=0.9)], p2, 5), p2)
    assert k1 == k2
    k3 = b.lane_key(m.lower(prep37, sh, dataclasses.replace(p, rationing="firms_first"), 5),
                    dataclasses.replace(p, rationing="firms_first"))
    assert k3 != k1


def test_shared_parameters_under_stocks_per_origin_lower_once(prep37, monkeypatch):
    """Scenarios with one parameter set under stocks per origin (the Nomura sweep's case)
    reuse the group's lowered table: only their shocks are lowered, with the same numbers
    as a full lowering each."""
    p = DynamicParams(import_origins={"27": {"CHN": 0.5, "USA": 0.2}}, origin_stocks=True,
                      inventory_days=12.0)
    scen = [([sc.ImportCut(product="27", origin="CHN", share=0.4 + 0.1 * q,
                           duration=20.0 + 9 * q),
              sc.ImportCut(product="27", origin="USA" if q % 2 else "ROW", share=0.5,
                           start=float(q), duration=15.0)], p) for q in range(6)]
    calls = []
    real = m.lower
    monkeypatch.setattr(m, "lower", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = b.run_lowered(prep37, scen, 120)
    assert len(calls) == 1  # one lowering for the group
    monkeypatch.setattr(m, "lower", real)
    for s, (sh, pp) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=pp, days=120, record=())
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["out_cum"][s], one.output_loss)


def test_bundles_match_run_one():
    """The namedtuple bundles name run_one's parameters in its order (run_single unpacks
    them positionally)."""
    import inspect

    names = list(inspect.signature(kn.run_one.py_func).parameters)
    fields = [f for nt in (kn.Table, kn.Special, kn.Shocks, kn.Options, kn.Work, kn.Records)
              for f in nt._fields]
    assert fields == names
    lanes = [f for nt in (ln.LaneTable, ln.LaneScenario, ln.LaneOutput) for f in nt._fields]
    assert len(set(lanes)) == len(lanes)


def test_special_rows_that_differ_under_stocks_per_origin_lower_once(prep37, monkeypatch):
    """Stocks per origin, members whose parameters differ only in the special products'
    rows (dependency shares and inventory days by product: the Nomura sweep's
    ``dependency_scale``): one lowering for the group, each member's cells from the
    group's, bit for bit a full lowering's, and each member its single run's numbers."""
    scen = []
    for q in range(7):
        p = DynamicParams(import_origins={"27": {"CHN": 0.5, "USA": 0.2}}, origin_stocks=True,
                          inventory_days=12.0, dependency=0.3,
                          dependency_by_product={"27": {"*": 0.2 + 0.1 * q, "35": 0.9},
                                                 "20": 0.4},
                          inventory_days_by_product={"27": 5.0 + 2 * q} if q % 2 else {})
        scen.append(([sc.ImportCut(product="27", origin="CHN", share=0.5 + 0.05 * q,
                                   duration=20.0 + 9 * q)], p))
    calls = []
    real = m.lower
    monkeypatch.setattr(m, "lower", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = b.run_lowered(prep37, scen, 90)
    assert len(calls) == 1 and r["groups"] == 1
    monkeypatch.setattr(b, "_SPLIT_ROWS", False)
    calls.clear()
    full = b.run_lowered(prep37, scen, 90)
    assert len(calls) == len(scen)  # a full lowering each
    monkeypatch.setattr(m, "lower", real)
    for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status"):
        np.testing.assert_array_equal(r[k], full[k])
    assert len({float(v) for v in r["gdp_loss"].sum(axis=1)}) == len(scen)
    for s, (sh, pp) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=pp, days=90, record=())
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["out_cum"][s], one.output_loss)


def test_several_blocks_in_one_call_and_unsigned_indices(prep37, monkeypatch):
    """``run_lanes`` on a batch of several blocks (a pool of threads, no numba parallel
    wrapper) gives each block's numbers as a call of that block alone; the structure the
    batch hands the lane kernel has unsigned indices (``_lanes.indices``) equal to the
    table's, and leftovers under MIN_LANES run on the fused kernel (not ``run_one``)."""
    scen = _mixed(2 * b.LANES)
    grab = []
    real = ln.run_lanes
    monkeypatch.setattr(b._ln, "run_lanes", lambda *a: grab.append(a) or real(*a))
    r = b.run_lowered(prep37, scen, 60)
    monkeypatch.setattr(b._ln, "run_lanes", real)
    assert len(grab) == 2
    st = grab[0][0]
    assert st.colptr.dtype == np.uint64 and st.rowidx.dtype == np.uint32
    np.testing.assert_array_equal(st.colptr, prep37.colptr)
    np.testing.assert_array_equal(st.rowidx, prep37.rowidx)
    with pytest.raises(ValueError, match="negative"):
        ln.indices(prep37.colptr, -prep37.rowidx - 1, prep37.n)
    # both blocks stacked on the block axis, one call
    tab = ln.LaneTable(*[np.concatenate([g[1][f] for g in grab]) for f in range(8)])
    scn = ln.LaneScenario(*[np.concatenate([g[2][f] for g in grab]) for f in range(9)])
    out = ln.LaneOutput(*[np.zeros((2,) + a.shape[1:], a.dtype) for a in grab[0][3]])
    ln.run_lanes(st, tab, scn, out)
    for bk in range(2):
        for f in ("gdp_loss", "gdp_gain", "out_cum", "rec_gap", "status", "info"):
            np.testing.assert_array_equal(getattr(out, f)[bk], getattr(grab[bk][3], f)[0])
    # and the batch's results are those of the blocks (lanes in lowering order)
    rows = {r["gdp_loss"][s].tobytes() for s in range(len(scen))}
    lanes = {np.ascontiguousarray(g[3].gdp_loss[0][:, l]).tobytes()
             for g in grab for l in range(b.LANES)}
    assert lanes == rows and len(rows) == len(scen)
    # leftovers: the fused single-run kernel, run_one never called
    monkeypatch.setattr(kn, "run_single", lambda *a: pytest.fail("run_one called"))
    few = b.run_lowered(prep37, scen[:3], 60)
    for s in range(3):
        np.testing.assert_array_equal(few["gdp_loss"][s], r["gdp_loss"][s])


def test_draws_of_their_own_origin_shares_share_one_split(prep37, monkeypatch):
    """Band draws of their own origin shares (and special rows) are one group: the table is
    split for the group alone (its lowering, and its parameters after the split), not once
    per draw; each draw's shares give its factors on the group's split index
    (``supply_chain._split_index``, ``_split_values``), bit for bit a full lowering's, and
    the numbers are the single runs'."""
    scen = []
    for q in range(6):
        p = DynamicParams(import_origins={"27": {"CHN": 0.3 + 0.1 * q}}, origin_stocks=True,
                          dependency_by_product={"27": 0.2 + 0.1 * q})
        scen.append(([sc.ImportCut(product="27", origin="CHN", share=1.0, duration=30)], p))
    calls = []
    real = m.split_origins
    monkeypatch.setattr(m, "split_origins", lambda *a: calls.append(1) or real(*a))
    r = b.run_lowered(prep37, scen, 80)
    assert len(calls) == 2 and r["groups"] == 1
    monkeypatch.setattr(b, "_SPLIT_ROWS", False)
    calls.clear()
    full = b.run_lowered(prep37, scen, 80)
    assert len(calls) == len(scen) + 1  # the group's two, then a full lowering each but the first
    monkeypatch.setattr(m, "split_origins", real)
    for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status"):
        np.testing.assert_array_equal(r[k], full[k])
    assert len({float(v) for v in r["gdp_loss"].sum(axis=1)}) == len(scen)
    for s, (sh, p) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=p, days=80)
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["out_cum"][s], one.output_loss)


def test_uniform_cells_recompute_their_orders_with_the_single_runs_numbers(prep37, one_thread):
    """Scenarios that differ only in their shocks: every cell's coefficient, target and
    bound terms agree in every lane, so the lane kernel reads them as scalars, recomputes
    the cells' orders instead of storing them and skips the bound of the inputs that bound
    nothing (dependency 0 except the critical inputs of one product); with an elasticity
    on another.  Each lane's numbers are its single run's."""
    from simcore.dynamic import _lanes as ln

    p = DynamicParams(dependency=0.0, dependency_by_product={"20": 0.8},
                      elasticity_by_product={"27": 0.5}, inventory_days=12.0)
    scen = [([sc.ImportCut(product="20", origin="ROW", share=0.2 + 0.05 * q,
                           start=float(q % 4), duration=20.0 + 7.0 * q),
              sc.CapacityShock(sector="35", share=0.1 + 0.02 * q, duration=15.0 + q)], p)
             for q in range(b.LANE_STEP + 2)]
    grab = {}
    real = b._ln.run_lanes

    def spy(st, tab, scn, out):
        grab["tab"] = tab
        return real(st, tab, scn, out)

    b._ln.run_lanes = spy
    try:
        r = b.run_lowered(prep37, scen, 200, record_output=True)
    finally:
        b._ln.run_lanes = real
    assert r["kernel_calls"] == 1
    tab = grab["tab"]
    A, TG = tab.A[0], tab.tgt[0]
    nnz = A.shape[0]
    uni, A1, TG1, IND1, THA1 = (np.empty(nnz, dtype=bool), np.empty(nnz), np.empty(nnz),
                                np.empty(nnz), np.empty(nnz))
    cols = np.repeat(np.arange(prep37.n), np.diff(prep37.colptr))
    th = tab.theta[0]
    IND = np.where(th > 0, (1.0 - th) * tab.x0[0][cols], np.inf)
    THA = np.where(th > 0, th / A, 0.0)
    count = ln._uniform_cells.py_func(A, TG, IND, THA, uni, A1, TG1, IND1, THA1)
    assert count == nnz  # every cell uniform
    bounding = np.isfinite(IND1) | (THA1 != 0.0)
    assert 0 < bounding.sum() < nnz  # both paths of the bound taken
    for s, (sh, pp) in enumerate(scen):
        one = sc.simulate(prep37, sh, params=pp, days=200, record=("output",))
        _close(r["gdp_loss"][s], one.gdp_loss)
        _close(r["out_cum"][s], one.output_loss)
        _close(r["output"][s], one.output)
    assert np.all(r["gdp_loss"].sum(axis=1) > 0)
