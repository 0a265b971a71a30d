"""Days that repeat a cycle of the whole state are copied, not computed
(:mod:`simcore.dynamic._cycles`, issue 17): every record of a run that copies them is the
same bits as ``run_one``'s, which computes every day; the copy stops where the inputs
change; a block of lanes copies only the cycle all its lanes share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore import calibrate, scenario
from simcore._bayes import overrides_for
from simcore.dynamic import _cycles as cy
from simcore.dynamic import _fused as fu
from simcore.dynamic import _kernels as kn
from simcore.dynamic import batch as b
from simcore.dynamic import supply_chain as md
from simcore.dynamic._bundles import CYCLE_MAX, cycle_max

from strategies import productive_tables
from test_rows import _params

ROOT = Path(__file__).resolve().parent.parent


def _records(T, n, K, gap_rows=None):
    return kn.Records(np.zeros(T), np.zeros(n), np.zeros((T, n)), np.zeros((T, n)),
                      np.zeros((T, K)), np.zeros((T, K)), np.zeros(T),
                      np.zeros((T if gap_rows is None else gap_rows, 2)),
                      np.zeros(1, dtype=np.int64), np.zeros(n))


def _both(low, params, T):
    """Every record of the fused kernel (copying cycles) and of ``run_one`` (computing
    every day); the fused kernel's days copied."""
    n, K = low.prep.n, low.sp_idx.shape[0]
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    f, c = _records(T, n, K), _records(T, n, K)
    skipped = np.zeros(1, dtype=np.int64)
    s_f = fu.run_single_fused(*bundles, f, skipped=skipped)
    s_c = kn.run_single(*bundles, kn.work_arrays(low.prep.A.size, n, K), c)
    assert int(s_f) == int(s_c)
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(f, k), getattr(c, k), err_msg=k)
    return f, int(skipped[0])


def _draws(sc_, a, z):
    """Draws ``a`` to ``z`` of the shipped posterior's band draws of ``sc_``, as
    ``(shocks, params)``."""
    post = calibrate.load_posterior()
    names = calibrate.which_params(sc_)
    ps = [post.problem.param(k) for k in names]
    X = post.draws(100, 0)[:, [post.names.index(k) for k in names]]
    out = []
    for row in X[a:z]:
        s2 = sc_.copy_with(overrides_for(ps, row))
        out.append((s2.shocks(), s2.params()))
    return out


@pytest.fixture(scope="module")
def k12():
    return scenario.load(ROOT / "scenarios" / "kiuchi-2025-12m.toml")


def test_the_12_month_plateau_is_copied_with_run_one_s_bits(k12):
    """China's 12-month stop: the state settles into a cycle of two days about 110 days
    in; the fused kernel copies some 250 of its 730 days, and every record (output, unmet
    final demand, imports, stocks of special products, gains, every day's gaps, both
    cumulative losses) is run_one's, bit for bit."""
    prep, params, shocks = k12.prepared(), k12.params(), k12.shocks()
    T = 730
    low = md.lower(prep, shocks, params, T)
    f, skipped = _both(low, params, T)
    assert 200 <= skipped <= 300, skipped
    assert f.gdp_loss.sum() > 0 and np.any(f.rec_spstock != 0) and np.any(f.out_dem != 0)
    # with copying off, nothing is copied and the numbers are the same
    n, K = low.prep.n, low.sp_idx.shape[0]
    off, none = _records(T, n, K), np.zeros(1, dtype=np.int64)
    fu.run_single_fused(md.kernel_table(low, params), md.kernel_special(low),
                        md.kernel_shocks(low), md.kernel_options(params), off, cycles=0,
                        skipped=none)
    assert none[0] == 0
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(off, k), getattr(f, k), err_msg=k)


def test_the_parallel_sweep_copies_the_plateau_with_its_own_bits(k12):
    """The parallel sweep (column blocks, its sums in block pieces: run_one's numbers to
    round-off, not bit for bit) copies the 12-month plateau too; every record is the same
    bits as the parallel sweep computing every day."""
    prep, params, shocks = k12.prepared(), k12.params(), k12.shocks()
    T = 730
    low = md.lower(prep, shocks, params, T)
    n, K = low.prep.n, low.sp_idx.shape[0]
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    got = {}
    for cycles in (CYCLE_MAX, 0):
        r, skipped = _records(T, n, K), np.zeros(1, dtype=np.int64)
        assert fu.run_single_fused_par(*bundles, r, nblocks=5, cycles=cycles,
                                       skipped=skipped) == 0
        got[cycles] = (r, int(skipped[0]))
    assert got[0][1] == 0 and 200 <= got[CYCLE_MAX][1] <= 300, got[CYCLE_MAX][1]
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(got[CYCLE_MAX][0], k), getattr(got[0][0], k),
                                      err_msg=k)
    f, _ = _both(low, params, T)
    np.testing.assert_allclose(got[0][0].gdp_loss, f.gdp_loss, rtol=1e-12, atol=1e-9)


def test_a_change_of_the_inputs_ends_the_copy(k12):
    """A second cut from day 250: the copy of the first plateau stops before it (the days
    from 250 are computed, on their new inputs), and the numbers are run_one's."""
    prep, params = k12.prepared(), k12.params()
    shocks = [sc.ImportCut(product="RE", origin="CHN", share=0.6, start=0.0, duration=400.0),
              sc.ImportCut(product="RE", origin="CHN", share=0.4, start=250.0,
                           duration=150.0),
              sc.ImportCut(product="MAG", origin="CHN", share=1.0, start=0.0, duration=400.0)]
    T = 600
    low = md.lower(prep, shocks, params, T)
    f, skipped = _both(low, params, T)
    assert skipped > 50
    # the second cut shows: day 249 and day 251 lose different amounts
    assert f.gdp_loss[251] != f.gdp_loss[249]


def test_a_block_copies_the_cycle_its_lanes_share(k12, monkeypatch):
    """Twelve band draws of the 12-month stop in one block of lanes (their periods 2 and
    6: the block's is 6): the block copies days, and every number is the same as with
    copying off, and as each draw's run_one."""
    # draw 24's output repeats every 6 days, the others' every 2 (seen on this posterior)
    items = _draws(k12, 16, 28)
    prep = k12.prepared()
    on = b.run_lowered(prep, items, 730, record_output=True)
    assert on["kernel_calls"] == 1 and np.all(on["copied"] > 150), on["copied"]
    monkeypatch.setenv("SIMCORE_CYCLES", "0")
    off = b.run_lowered(prep, items, 730, record_output=True)
    assert np.all(off["copied"] == 0)
    for k in ("gdp_loss", "gdp_gain", "out_cum", "gap", "status", "info", "output"):
        np.testing.assert_array_equal(on[k], off[k], err_msg=k)
    monkeypatch.delenv("SIMCORE_CYCLES")
    for q in (0, 8):
        sh, p = items[q]
        low = md.lower(prep, sh, p, 730)
        f, _ = _both(low, p, 730)
        n = prep.n
        np.testing.assert_array_equal(on["gdp_loss"][q], f.gdp_loss)
        np.testing.assert_array_equal(on["out_cum"][q], f.out_cum[:n])


def test_a_cycle_proven_on_the_last_days_copies_nothing(k12, monkeypatch):
    """Horizons that end while the first cycle is being proven (the proof on the last
    day, the day before, ...): nothing past the horizon is copied, no day is counted twice,
    and the numbers are run_one's (a single run; a proof on the last day once made the
    fused kernel step back and count days twice) and the numbers with copying off (a
    block of lanes, whose last day does not run the next day's orders, so that a proof
    there fails)."""
    prep, params, shocks = k12.prepared(), k12.params(), k12.shocks()
    copied = []
    for T in range(100, 130):
        low = md.lower(prep, shocks, params, T)
        copied.append(_both(low, params, T)[1])
    assert min(copied) == 0 and max(copied) > 0 and all(c >= 0 for c in copied)
    items = _draws(k12, 16, 22)
    seen = set()
    for T in range(110, 170, 2):
        monkeypatch.delenv("SIMCORE_CYCLES", raising=False)
        on = b.run_lowered(prep, items, T)
        monkeypatch.setenv("SIMCORE_CYCLES", "0")
        off = b.run_lowered(prep, items, T)
        assert on["kernel_calls"] == 1 and np.all(on["copied"] >= 0)
        seen.add(int(on["copied"][0]))
        for k in ("gdp_loss", "gdp_gain", "out_cum", "gap"):
            np.testing.assert_array_equal(on[k], off[k], err_msg=f"{k}, T = {T}")
    assert 0 in seen and len(seen) > 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=productive_tables(min_n=2, max_n=8), seed=st.integers(0, 2**16),
       step=st.integers(20, 140), ces=st.booleans(), T=st.integers(30, 170))
def test_random_long_shocks_copy_run_one_s_bits(t, seed, step, ces, T):
    """Random tables under long shocks whose size steps on a random day (a capacity cut
    and an import cut), over a random horizon (which may end anywhere in a cycle or its
    proof): the fused kernel, copying whatever cycles it proves, gives run_one's every
    record; so does a block of lanes of the same scenario at other sizes."""
    rng = np.random.default_rng(seed)
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    sec = prods[int(rng.integers(len(prods)))]
    params = _params(rng, prods, p_cut, seed, ces)

    def shocks(k):
        a = 0.1 + 0.05 * k
        return [sc.CapacityShock(sector=sec, share=a, start=0.0, duration=150.0),
                sc.CapacityShock(sector=sec, share=0.2, start=float(step), duration=10.0),
                sc.ImportCut(product=p_cut, origin="CHN", share=0.5, start=0.0,
                             duration=float(step))]

    prep = md.prepare_model(t)
    low = md.lower(prep, shocks(0), params, T)
    f, _ = _both(low, params, T)
    r = b.run_lowered(prep, [(shocks(k), params) for k in range(8)], T)
    np.testing.assert_array_equal(r["gdp_loss"][0], f.gdp_loss)
    np.testing.assert_array_equal(r["out_cum"][0], f.out_cum[:prep.n])


def test_the_trigger_counts_whole_periods_within_a_run():
    """:func:`cycle_match`: a daily loss of period 2 (here three lanes) triggers once it
    has repeated for two days, not across the start of a run of constant inputs."""
    match = np.zeros(4, dtype=np.int64)
    seq = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.5]] * 4)
    got = [cy.cycle_match.py_func(t, 0, seq, match) for t in range(len(seq))]
    # g_t == g_{t-2} from t = 2; two such days in a row on t = 3
    assert got == [0, 0, 0, 2, 2, 2, 2, 2]
    match[:] = 0
    got = [cy.cycle_match.py_func(t, 5, seq, match) for t in range(len(seq))]
    assert got == [0] * 8  # the run starts on day 5: days 5..7 hold one period only
    match[:] = 0
    const = np.array([4.0] * 3)  # one number a day (a single run)
    assert [cy.cycle_match.py_func(t, 0, const, match[:2])
            for t in range(len(const))] == [0, 1, 1]


def test_the_proof_compares_bits():
    """A zero of the other sign is another state (1 / x differs); equal bits are the
    same state."""
    buf = np.empty(3, dtype=np.int64)
    a = np.array([0.0, 1.5, np.inf])
    assert cy.put_bits.py_func(buf, 0, a) == 3
    assert cy.same_bits.py_func(buf, 0, a.copy())
    assert not cy.same_bits.py_func(buf, 0, np.array([-0.0, 1.5, np.inf]))
    assert not cy.same_bits.py_func(buf, 0, np.array([0.0, np.nextafter(1.5, 2), np.inf]))


def test_the_setting_is_checked(monkeypatch):
    assert cycle_max() == CYCLE_MAX
    monkeypatch.setenv("SIMCORE_CYCLES", "3")
    assert cycle_max() == 3
    monkeypatch.setenv("SIMCORE_CYCLES", "two")
    with pytest.raises(ValueError, match="SIMCORE_CYCLES = 'two': expected a whole number"):
        cycle_max()
    monkeypatch.delenv("SIMCORE_CYCLES")
    from simcore.dynamic._bundles import _cycle_args

    with pytest.raises(ValueError, match=r"cycles = -1: expected a whole number >= 0"):
        _cycle_args(-1, None, 1)
    with pytest.raises(ValueError, match="skipped: expected a contiguous int64 array"):
        _cycle_args(2, np.zeros(1), 1)
