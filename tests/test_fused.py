"""The fused single-run kernel (:mod:`simcore.dynamic._fused`, issue 17), the layout
``simulate`` runs on tables the dense rows do not suit: one sweep over the cells a day,
bit for bit ``run_one`` for every record (CES inputs, gains, gaps, the demand-constrained
loss, stocks per origin), within 1e-12 of the numpy oracle, and deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore.dynamic import _fused as fu
from simcore.dynamic._bundles import CYCLE_MAX
from simcore.dynamic import _kernels as kn
from simcore.dynamic import supply_chain as md
from simcore.dynamic.params import DynamicParams
from simcore.dynamic.shocks import CapacityShock
from simcore.errors import BalanceError

from strategies import productive_tables
from test_dynamic import lowered, random_table
from test_rows import RECORDS, _close, _params, _shocks, vs_oracle


def _count_prepare(monkeypatch) -> list:
    """A list that grows by one each time ``simulate`` prepares a table."""
    calls: list = []
    real = md.prepare_model
    monkeypatch.setattr(md, "prepare_model", lambda tb, **kw: calls.append(1) or real(tb, **kw))
    return calls


def _raw(low, params, T, layout):
    """Every record of one kernel run on the lowered table (pool rows included)."""
    n, K = low.prep.n, low.sp_idx.shape[0]
    r = kn.Records(np.zeros(T), np.zeros(n), np.zeros((T, n)), np.zeros((T, n)),
                   np.zeros((T, K)), np.zeros((T, K)), np.zeros(T), np.zeros((T, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    if layout == "fused":
        st_ = fu.run_single_fused(*bundles, r)
    else:
        st_ = kn.run_single(*bundles, kn.work_arrays(low.prep.A.size, n, K), r)
    return int(st_), r


def _check_all(low, params, T, dense):
    """Fused against run_one (every record, the same bits), the oracle (1e-12), and
    itself (a second run: the same bits)."""
    s_f, f = _raw(low, params, T, "fused")
    s_c, c = _raw(low, params, T, "csc")
    assert s_f == s_c == 0
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(f, k), getattr(c, k), err_msg=k)
    vs_oracle(f, params, dense, "fused")
    _, f2 = _raw(low, params, T, "fused")
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(f, k), getattr(f2, k), err_msg=k)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ces", [False, True])
def test_fused_matches_run_one_and_the_oracle(seed, ces):
    rng = np.random.default_rng(200 + seed)
    t = random_table(seed, n=int(rng.integers(3, 11)))
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    shocks = _shocks(rng, prods, p_cut)
    params = _params(rng, prods, p_cut, seed, ces)
    T = 80
    dense = lowered(t, shocks, params, T)[1]
    low = md.lower(md.prepare_model(t), shocks, params, T)
    if ces:
        assert np.any(low.sigma > 0)
    _check_all(low, params, T, dense)
    prep = md.prepare_model(t)
    a = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="fused")
    b = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="csc")
    for k, v in b.data_vars.items():
        np.testing.assert_array_equal(a[k].values, v.values, err_msg=k)
    # simulate gives the fused kernel a one-row gap record (the last day's gaps only)
    for k in ("recovered", "final_output_gap_share", "final_stock_gap_share"):
        assert a.attrs[k] == b.attrs[k], k
    _check_last_day_gap(low, params, T)


def _check_last_day_gap(low, params, T):
    """The fused kernel with a one-row ``rec_gap`` (the last day's gaps only, as
    ``simulate`` runs it): every other output the same bits as with every day's gaps, and
    its row the last day's."""
    s_f, full = _raw(low, params, T, "fused")
    n, K = low.prep.n, low.sp_idx.shape[0]
    r = kn.Records(np.zeros(T), np.zeros(n), np.zeros((T, n)), np.zeros((T, n)),
                   np.zeros((T, K)), np.zeros((T, K)), np.zeros(T), np.zeros((1, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    assert int(fu.run_single_fused(*bundles, r)) == s_f
    for k in kn.Records._fields:
        want = getattr(full, k)[-1:] if k == "rec_gap" else getattr(full, k)
        np.testing.assert_array_equal(getattr(r, k), want, err_msg=k)
    if T > 1:
        assert np.any(full.rec_gap[-1] != 0) or np.all(full.rec_gap == 0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=productive_tables(min_n=2, max_n=9), seed=st.integers(0, 2**16),
       ces=st.booleans())
def test_fused_on_random_tables(t, seed, ces):
    rng = np.random.default_rng(seed)
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    shocks = _shocks(rng, prods, p_cut)
    params = _params(rng, prods, p_cut, seed, ces)
    T = 60
    dense = lowered(t, shocks, params, T)[1]
    low = md.lower(md.prepare_model(t), shocks, params, T)
    _check_all(low, params, T, dense)


def test_fused_on_a_sparse_table_of_japan(japan37):
    """Japan's 37 sectors: auto runs the fused sweep, which is run_one bit for bit."""
    prep = md.prepare_model(japan37)
    assert md.choose_layout(prep.n, prep.A.size) == "fused"
    shock = CapacityShock(sector="35", share=0.3, duration=40, profile="linear_recovery",
                          recovery_days=30)
    a = sc.simulate(prep, shock, days=120, record=RECORDS, layout="fused")
    b = sc.simulate(prep, shock, days=120, record=RECORDS, layout="csc")
    for k, v in b.data_vars.items():
        np.testing.assert_array_equal(a[k].values, v.values, err_msg=k)


def test_fused_stops_on_non_finite_like_run_one(japan37):
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.2, duration=5)], p, 30)
    low.capfac[7:] = np.nan
    s_f, f = _raw(low, p, 30, "fused")
    s_c, c = _raw(low, p, 30, "csc")
    assert s_f == s_c != 0
    assert int(f.info[0]) == int(c.info[0]) == 7
    np.testing.assert_array_equal(f.gdp_loss, c.gdp_loss)


def test_choose_layout_rule():
    for n, nnz in ((37, 900), (37, 100), (189, 15045)):
        assert md.choose_layout(n, nnz) == "fused"
    # large tables: the parallel sweep, on their size alone (never the threads)
    assert md.choose_layout(3000, 3_600_000) == "parallel"
    assert md.choose_layout(1000, 400_000) == "parallel"
    assert md.choose_layout(1000, md.PARALLEL_MIN_CELLS) == "parallel"
    assert md.choose_layout(1000, md.PARALLEL_MIN_CELLS - 1) == "fused"
    cp, ri = fu.indices(np.array([0, 2, 3]), np.array([0, 1, 1]), 2)
    assert cp.dtype == np.uint64 and ri.dtype == np.uint32
    np.testing.assert_array_equal(ri, [0, 1, 1])
    with pytest.raises(ValueError, match="negative"):
        fu.indices(np.array([0, 1]), np.array([-1]), 1)


def test_fused_leaves_its_inputs_alone_and_any_index_type_gives_the_same_bits(japan37):
    """Without special products the kernel reads the lowered targets in place: they are
    not written; signed (int64) and unsigned (uint64/uint32) indices give the same bits."""
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.3, duration=20)], p, 60)
    assert low.sp_idx.size == 0
    tgt0 = low.tgt.copy()
    s_u, u = _raw(low, p, 60, "fused")
    np.testing.assert_array_equal(low.tgt, tgt0)
    n, K = low.prep.n, 0
    r = kn.Records(np.zeros(60), np.zeros(n), np.zeros((60, n)), np.zeros((60, n)),
                   np.zeros((60, K)), np.zeros((60, K)), np.zeros(60), np.zeros((60, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    s_i = fu.run_fused(*md.kernel_table(low, p), *md.kernel_special(low),
                       *md.kernel_shocks(low), *md.kernel_options(p), *r,
                       CYCLE_MAX, np.zeros(1, dtype=np.int64))
    assert int(s_i) == s_u == 0
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(r, k), getattr(u, k), err_msg=k)


# --------------------------------------------------------------------------------------
# The parallel sweep (run_fused_par): column blocks, partial sums combined in block order


def _raw_par(low, params, T, nblocks=fu.PAR_BLOCKS, threads=None):
    import numba

    n, K = low.prep.n, low.sp_idx.shape[0]
    r = kn.Records(np.zeros(T), np.zeros(n), np.zeros((T, n)), np.zeros((T, n)),
                   np.zeros((T, K)), np.zeros((T, K)), np.zeros(T), np.zeros((T, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        st_ = fu.run_single_fused_par(*bundles, r, nblocks=nblocks)
    finally:
        numba.set_num_threads(before)
    return int(st_), r


def _check_par(low, params, T, dense, nblocks):
    """The parallel sweep against run_one (every record, 1e-12: its sums run in block
    pieces, not in one order, so not the same bits), against the oracle (1e-12), and
    against itself: a second run, and one thread against two, the same bits."""
    s_p, p = _raw_par(low, params, T, nblocks, threads=2)
    s_c, c = _raw(low, params, T, "csc")
    assert s_p == s_c == 0
    for k in kn.Records._fields:
        _close(getattr(p, k), getattr(c, k), f"parallel vs run_one: {k}")
    vs_oracle(p, params, dense, "parallel")
    _, p2 = _raw_par(low, params, T, nblocks, threads=2)
    _, p1 = _raw_par(low, params, T, nblocks, threads=1)
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(p, k), getattr(p2, k), err_msg=k)
        np.testing.assert_array_equal(getattr(p, k), getattr(p1, k), err_msg=k)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ces", [False, True])
def test_parallel_matches_run_one_and_the_oracle(seed, ces):
    rng = np.random.default_rng(300 + seed)
    t = random_table(seed, n=int(rng.integers(3, 14)))
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    shocks = _shocks(rng, prods, p_cut)
    params = _params(rng, prods, p_cut, seed, ces)
    T = 80
    dense = lowered(t, shocks, params, T)[1]
    low = md.lower(md.prepare_model(t), shocks, params, T)
    if ces:
        assert np.any(low.sigma > 0)
    # a few blocks of several columns each, and the default (mostly empty blocks here)
    for nb in (3, fu.PAR_BLOCKS):
        _check_par(low, params, T, dense, nb)
    prep = md.prepare_model(t)
    a = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="parallel")
    b = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="csc")
    for k, v in b.data_vars.items():
        _close(a[k].values, v.values, k)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=productive_tables(min_n=2, max_n=9), seed=st.integers(0, 2**16),
       ces=st.booleans(), nb=st.integers(1, 5))
def test_parallel_on_random_tables(t, seed, ces, nb):
    rng = np.random.default_rng(seed)
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    shocks = _shocks(rng, prods, p_cut)
    params = _params(rng, prods, p_cut, seed, ces)
    T = 50
    dense = lowered(t, shocks, params, T)[1]
    low = md.lower(md.prepare_model(t), shocks, params, T)
    _check_par(low, params, T, dense, nb)


def test_parallel_on_japan_one_block_is_run_one(japan37):
    """One block sums in run_one's order: the same bits; 32 blocks within 1e-12, the same
    bits on one thread and two."""
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.3, duration=40,
                                        profile="linear_recovery", recovery_days=30)], p, 120)
    _, c = _raw(low, p, 120, "csc")
    _, one = _raw_par(low, p, 120, nblocks=1)
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(one, k), getattr(c, k), err_msg=k)
    _, a = _raw_par(low, p, 120, threads=1)
    _, b = _raw_par(low, p, 120, threads=2)
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
        _close(getattr(a, k), getattr(c, k), k)


def test_parallel_stops_on_non_finite_like_run_one(japan37):
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.2, duration=5)], p, 30)
    low.capfac[7:] = np.nan
    s_p, f = _raw_par(low, p, 30)
    s_c, c = _raw(low, p, 30, "csc")
    assert s_p == s_c != 0
    assert int(f.info[0]) == int(c.info[0]) == 7


def test_col_blocks():
    cp = np.array([0, 5, 5, 6, 20, 21, 30], dtype=np.int64)
    b = fu.col_blocks(cp, 3)
    assert b.dtype == np.uint64 and b.size == 4 and b[0] == 0 and b[-1] == 6
    assert np.all(np.diff(b.astype(np.int64)) >= 0)
    # every column in exactly one block
    assert sorted(np.concatenate([np.arange(b[q], b[q + 1]) for q in range(3)])) == list(range(6))
    for nb in (1, 7, 32):
        b = fu.col_blocks(cp, nb)
        assert b.size == nb + 1 and b[0] == 0 and b[-1] == 6
    assert fu.col_blocks(np.zeros(1, dtype=np.int64), 4).tolist() == [0] * 5


def test_run_one_on_unsigned_indices_is_the_same_bits(japan37):
    """run_single passes unsigned indices (kn.indices) to run_one: the same bits as the
    signed (int64) indices prepare_model stores."""
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.3, duration=20)], p, 60)
    assert low.prep.colptr.dtype == np.int64
    _, u = _raw(low, p, 60, "csc")
    n, K = low.prep.n, 0
    r = kn.Records(np.zeros(60), np.zeros(n), np.zeros((60, n)), np.zeros((60, n)),
                   np.zeros((60, K)), np.zeros((60, K)), np.zeros(60), np.zeros((60, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    s = kn.run_one(*md.kernel_table(low, p), *md.kernel_special(low), *md.kernel_shocks(low),
                   *md.kernel_options(p), *kn.work_arrays(low.prep.A.size, n, K), *r)
    assert int(s) == 0
    for k in kn.Records._fields:
        np.testing.assert_array_equal(getattr(r, k), getattr(u, k), err_msg=k)


# --------------------------------------------------------------------------------------
# The labelled path: the prepared model kept for the next call on the same content


@pytest.mark.parametrize("hashed", [False, True])
def test_labelled_calls_keep_the_prepared_model_and_see_edits(japan37, monkeypatch, hashed):
    """Kept per content: values compared with a copy, or (``hashed``: a table above
    PREP_CACHE_MAX_BYTES) by a blake2b digest; every edit below is seen either way."""
    if hashed:
        monkeypatch.setattr(md, "PREP_CACHE_MAX_BYTES", 0)
    t = japan37.copy(deep=True)
    shock = CapacityShock(sector="35", share=0.3, duration=20)
    real = md.prepare_model
    calls = _count_prepare(monkeypatch)
    a = sc.simulate(t, shock, days=40)
    b = sc.simulate(t, shock, days=40)
    assert len(calls) == 1  # prepared (and validated) once for the same content
    (snap,) = [e[1] for e in md._prep_cache if e[0]() is t]
    assert snap["hashed"] is hashed
    assert {fp[0] for _, _, fp, _ in snap["vars"].values()} <= (
        {"h", "O"} if hashed else {"b", "O"})
    for k, v in a.data_vars.items():
        np.testing.assert_array_equal(b[k].values, v.values, err_msg=k)
    ref_ = sc.simulate(real(t), shock, days=40)
    for k, v in ref_.data_vars.items():
        np.testing.assert_array_equal(a[k].values, v.values, err_msg=k)
    # an edit in place of a value: prepared again, and the result follows the edit
    delta = abs(float(t["Y"].values[3, 0])) * 0.5 + 1.0  # final demand and imports up
    t["Y"].values[3, 0] += delta  # alike: both balances kept, the import share moves
    t["M"].values[3, 0] += delta
    c = sc.simulate(t, shock, days=40)
    assert len(calls) == 2
    d = sc.simulate(real(t), shock, days=40)
    for k, v in d.data_vars.items():
        np.testing.assert_array_equal(c[k].values, v.values, err_msg=k)
    assert not np.array_equal(c.gdp_loss.values, a.gdp_loss.values)
    # an edit that breaks the balance is refused on the next call, not run from the cache
    t["Z"].values[0, 0] += 1e6
    with pytest.raises(BalanceError, match="balance"):
        sc.simulate(t, shock, days=40)
    # an attribute edit is seen too
    t2 = japan37.copy(deep=True)
    sc.simulate(t2, shock, days=5)
    n0 = len(calls)
    t2.attrs["unit"] = "something else"
    r = sc.simulate(t2, shock, days=5)
    assert len(calls) == n0 + 1 and r.attrs["unit"] == "something else"
    # a coordinate replaced (a new index: its labels compared again), then an edit of one
    # bit of one value (a zero of the other sign), then a variable's attribute
    t3 = japan37.copy(deep=True)
    sc.simulate(t3, shock, days=5)
    n0 = len(calls)
    names = [f"s{i}" for i in range(t3.sizes["sector"])]
    t3.coords["sector"] = names  # in place: the same table object, new indexes
    t3.coords["sector_to"] = names
    r = sc.simulate(t3, CapacityShock(sector="s35", share=0.3, duration=20), days=5)
    assert len(calls) == n0 + 1 and r.sector.values[0] == "s0"
    sc.simulate(t3, CapacityShock(sector="s35", share=0.3, duration=20), days=5)
    assert len(calls) == n0 + 1
    zv = t3["Z"].values
    i, j = np.argwhere(zv == 0.0)[0]
    zv[i, j] = -0.0
    assert np.signbit(t3["Z"].values[i, j])
    sc.simulate(t3, CapacityShock(sector="s35", share=0.3, duration=20), days=5)
    assert len(calls) == n0 + 2
    t3["Z"].attrs["note"] = "edited"
    sc.simulate(t3, CapacityShock(sector="s35", share=0.3, duration=20), days=5)
    assert len(calls) == n0 + 3


def test_a_kept_model_goes_with_its_table(japan37):
    import gc

    t = japan37.copy(deep=True)
    sc.simulate(t, CapacityShock(sector="35", share=0.3, duration=20), days=5)
    ref_ = [e[0] for e in md._prep_cache if e[0]() is t]
    assert len(ref_) == 1
    del t
    gc.collect()
    assert ref_[0]() is None
    assert all(e[0] is not ref_[0] for e in md._prep_cache)


def test_a_result_edited_in_place_leaves_the_kept_model_alone(japan37):
    t = japan37.copy(deep=True)
    shock = CapacityShock(sector="35", share=0.3, duration=20)
    a = sc.simulate(t, shock, days=10)
    base = a.output_baseline.values.copy()
    a.output_baseline.values[:] = -1.0
    if "name_en" in a.coords:
        a["name_en"].values[0] = "edited"
    b = sc.simulate(t, shock, days=10)
    np.testing.assert_array_equal(b.output_baseline.values, base)
    if "name_en" in b.coords:
        assert b["name_en"].values[0] != "edited"


def test_results_sharing_coordinates_are_independent(japan37):
    """Results on one kept model share its coordinates' indexes and template
    (supply_chain._result_template): editing one result's values, coordinates or attrs
    leaves the other results, later results and the model alone; and a result from the
    kept template is identical to one from a freshly prepared model."""
    import xarray as xr

    t = japan37.copy(deep=True)
    shock = [CapacityShock(sector="35", share=0.3, duration=20),
             sc.ImportCut(product="06", origin="ROW", share=0.5, duration=20)]
    fresh = sc.simulate(md.prepare_model(t), shock, days=10)
    a = sc.simulate(t, shock, days=10)
    b = sc.simulate(t, shock, days=10)
    xr.testing.assert_identical(a, fresh)
    xr.testing.assert_identical(b, fresh)
    assert a.xindexes["sector"].index is b.xindexes["sector"].index  # shared, immutable
    for k, v in (("sector", "edited"), ("time", -1), ("component", "edited"),
                 ("product", "edited")):
        try:  # read-only, or a copy of the index's labels: either way nothing leaks
            a[k].values[...] = v
        except ValueError:
            pass
    a["name_en"].values[0] = "edited"
    a["name_ja"].values[:] = "edited"
    a["gdp_loss"].values[:] = -1.0
    a["value_added_loss_by_component"].values[:] = -1.0
    a.variables["sector"].attrs["edited"] = 1
    a.variables["gdp_loss"].attrs["units"] = "edited"
    a.attrs["unit"] = "edited"
    a.coords["sector"] = [f"x{i}" for i in range(a.sizes["sector"])]
    a["output"][0, :] = -2.0
    c = sc.simulate(t, shock, days=10)
    for r in (b, c):
        xr.testing.assert_identical(r, fresh)
        assert r.variables["gdp_loss"].attrs["units"] == fresh.gdp_loss.attrs["units"]
        assert "edited" not in r.variables["sector"].attrs
    assert str(md._prepared_for(t).coords["sector"][0]) == str(fresh.sector.values[0])
    # another horizon and other special products: their own coordinates
    d = sc.simulate(t, shock, days=7)
    assert d.sizes["time"] == 7 and list(d["product"].values) == ["06"]
    e = sc.simulate(t, shock[0], days=10)
    assert e.sizes["product"] == 0 and e.sizes["time"] == 10


def test_lowering_kept_per_parameter_set_gives_the_same_bits():
    """What lowering keeps on the prepared model per parameter set (per-cell arrays, pool
    rows of stocks per origin) gives a fresh lowering's numbers bit for bit; other
    parameters are not served from it; a run writing its lowered arrays leaves it alone."""
    from simcore.scenario import load

    s = load("kiuchi-2025-3m")
    table, shocks, params = s.table(), s.shocks(), s.params()
    prep = md.prepare_model(table)
    assert prep.A.size <= md.MEMO_MAX_CELLS
    a = md.lower(prep, shocks, params, 30)
    a.tgt[:] = -1.0  # a run's copy: the kept arrays must not see it
    b = md.lower(prep, shocks, params, 30)
    fresh = md.lower(md.prepare_model(table), shocks, params, 30)
    for k in ("tgt", "theta", "sigma", "theta_sp", "tgt_sp", "impcap", "capfac"):
        np.testing.assert_array_equal(getattr(b, k), getattr(fresh, k), err_msg=k)
    np.testing.assert_array_equal(b.prep.A, fresh.prep.A)
    np.testing.assert_array_equal(b.prep.colptr, fresh.prep.colptr)
    assert b.prep.sectors == fresh.prep.sectors
    import dataclasses

    first = prep.sectors[0]
    p2 = dataclasses.replace(params, inventory_days_by_product={
        **params.inventory_days_by_product, first: 77.0})
    c = md.lower(prep, shocks, p2, 30)
    c_fresh = md.lower(md.prepare_model(table), shocks, p2, 30)
    np.testing.assert_array_equal(c.tgt, c_fresh.tgt)
    assert not np.array_equal(c.tgt, b.tgt)
    r1 = sc.simulate(prep, shocks, params=params, days=30)
    r2 = sc.simulate(md.prepare_model(table), shocks, params=params, days=30)
    for k, v in r2.data_vars.items():
        np.testing.assert_array_equal(r1[k].values, v.values, err_msg=k)


@pytest.mark.parametrize("name", ["japan-2015-37", "kiuchi"])
def test_prepare_model_on_arrays_equals_the_built_table(name):
    """prepare_model lowers prepare_for_dynamics' arrays without building the table:
    every array of the model equals the one lowered from the built table, to the bit."""
    import dataclasses

    from simcore.transform import prepare_for_dynamics

    if name == "kiuchi":
        from simcore.scenario import load

        t = load("kiuchi-2025-3m").table()
    else:
        t = sc.datasets.load(name)
    assert (t.Z.values < 0).any()
    a = md.prepare_model(t)
    built, report = prepare_for_dynamics(t)
    b = md.prepare_model(built)
    assert a.preprocessing == f"prepare_for_dynamics: {report}"
    for f in dataclasses.fields(md.Prepared):
        if f.name in ("preprocessing", "_memo"):
            continue
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "coords":
            assert va.keys() == vb.keys()
            for k in va:
                x, y = (v[1] if isinstance(v, tuple) else v for v in (va[k], vb[k]))
                np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=k)
        elif isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype, f.name
            np.testing.assert_array_equal(va, vb, err_msg=f.name)
        else:
            assert va == vb, f.name


def test_small_variables_and_empty_attrs_are_compared_too(japan37, monkeypatch):
    """The table check's fast paths (variables without attrs, small arrays compared by
    their bytes inline) still see every edit: an attribute added to a coordinate that had
    none, one label of a small non-index coordinate, a flag of ``in_gdp``."""
    t = japan37.copy(deep=True)
    shock = CapacityShock(sector="35", share=0.3, duration=20)
    real = md.prepare_model
    calls = _count_prepare(monkeypatch)
    a = sc.simulate(t, shock, days=20)
    sc.simulate(t, shock, days=20)
    assert len(calls) == 1
    name = next(k for k, v in t.coords.items() if not v.attrs and k not in t.xindexes)
    t[name].attrs["note"] = "edited"
    sc.simulate(t, shock, days=20)
    assert len(calls) == 2
    lab = t[name].values
    lab[0] = "edited" if lab[0] != "edited" else "other"
    sc.simulate(t, shock, days=20)
    assert len(calls) == 3
    flags = t["in_gdp"].values
    k = int(np.flatnonzero(flags)[0])
    flags[k] = False  # one value-added row out of GDP: the loss follows
    b = sc.simulate(t, shock, days=20)
    assert len(calls) == 4
    assert b.attrs["gdp_denominator"] < a.attrs["gdp_denominator"]
    fresh = sc.simulate(real(t), shock, days=20)
    for key, v in fresh.data_vars.items():
        np.testing.assert_array_equal(b[key].values, v.values, err_msg=key)


@pytest.mark.parametrize("layout", ["fused", "parallel", "rows", "csc"])
def test_lowered_runs_kept_per_model_are_only_read(layout):
    """simulate keeps a lowered run on the prepared model (supply_chain._lowered) by the
    parameters' and shocks' JSON and the horizon: every layout's kernel only reads it (its
    arrays keep their bits over two runs), the kept runs give a fresh model's results bit
    for bit, and other shocks, parameters or horizons are lowered afresh."""
    import dataclasses
    import xarray as xr

    from simcore.scenario import load

    s = load("kiuchi-2025-3m")
    table, shocks, params = s.table(), s.shocks(), s.params()
    prep = md.prepare_model(table)
    a = sc.simulate(prep, shocks, params=params, days=40, layout=layout)
    (key,) = prep._low_memo
    rest, p2, agg = prep._low_memo[key]
    assert p2 is not None and agg is not None  # stocks per origin: pool rows, summed back
    kept = {k: v.copy() for k, v in rest.items() if isinstance(v, np.ndarray)}
    kept.update({f"prep.{f.name}": getattr(p2, f.name).copy()
                 for f in dataclasses.fields(p2) if isinstance(getattr(p2, f.name), np.ndarray)})
    b = sc.simulate(prep, shocks, params=params, days=40, layout=layout)
    assert len(prep._low_memo) == 1
    for k, v in kept.items():
        now = rest[k] if k in rest else getattr(p2, k.split(".", 1)[1])
        assert now.tobytes() == v.tobytes(), k
    fresh = sc.simulate(md.prepare_model(table), shocks, params=params, days=40,
                        layout=layout)
    xr.testing.assert_identical(a, fresh)
    xr.testing.assert_identical(b, fresh)
    # other shocks, other parameters, another horizon: not served from the kept run
    sh2 = [dataclasses.replace(shocks[0], share=shocks[0].share * 0.5), *shocks[1:]]
    p_2 = dataclasses.replace(params, inventory_tau=params.inventory_tau + 5.0)
    for sh, pa, T in ((sh2, params, 40), (shocks, p_2, 40), (shocks, params, 30)):
        got = sc.simulate(prep, sh, params=pa, days=T, layout=layout)
        want = sc.simulate(md.prepare_model(table), sh, params=pa, days=T, layout=layout)
        xr.testing.assert_identical(got, want)
        assert not got.gdp_loss.equals(a.gdp_loss)
    assert len(prep._low_memo) == md.LOWERED_MEMO_SIZE


def test_lowered_runs_are_not_kept_above_the_size_limits(monkeypatch):
    """Above MEMO_MAX_CELLS cells or LOWERED_MEMO_MAX_BYTES a run is lowered every call
    (nothing kept), with the same results."""
    t = sc.datasets.load("japan-2015-37")
    shock = CapacityShock(sector="35", share=0.3, duration=20)
    prep = md.prepare_model(t)
    a = sc.simulate(prep, shock, days=30)
    assert len(prep._low_memo) == 1
    for name in ("MEMO_MAX_CELLS", "LOWERED_MEMO_MAX_BYTES"):
        with monkeypatch.context() as mp:
            mp.setattr(md, name, 0)
            p = md.prepare_model(t)
            b = sc.simulate(p, shock, days=30)
            assert not p._low_memo
            for k, v in a.data_vars.items():
                np.testing.assert_array_equal(b[k].values, v.values, err_msg=k)


def test_records_of_other_sizes_are_refused_before_the_kernel():
    """The kernels index their records and schedules without bounds checks: a gap record of
    ``T`` rows (every day) or one (the last day's, fused and lane kernels) or none, every
    other daily record 0 or ``T`` rows of the right width, schedules of at least ``T``
    days; any other size is refused before a kernel runs, naming the array (the parallel
    kernel takes no one-row gap record)."""
    from simcore.dynamic._bundles import gap_rows

    t = random_table(12, 3)
    low = md.lower(md.prepare_model(t), [CapacityShock(sector=str(t.sector.values[0]),
                                                       share=0.2, duration=5)],
                   DynamicParams(), 10)
    n, K = low.prep.n, low.sp_idx.shape[0]
    bundles = (md.kernel_table(low, DynamicParams()), md.kernel_special(low),
               md.kernel_shocks(low), md.kernel_options(DynamicParams()))

    def records(rows):
        return kn.Records(np.zeros(10), np.zeros(n), np.zeros((0, n)), np.zeros((0, n)),
                          np.zeros((0, K)), np.zeros((0, K)), np.zeros(10),
                          np.zeros((rows, 2)), np.zeros(1, dtype=np.int64), np.zeros(n))

    with pytest.raises(ValueError, match="run_single_fused: rec_gap has 3 rows; expected 10"):
        fu.run_single_fused(*bundles, records(3))
    with pytest.raises(ValueError, match="run_single_fused_par: rec_gap has 1 rows; expected "
                                         "10 \\(every day\\) or 0"):
        fu.run_single_fused_par(*bundles, records(1))
    for rows in (0, 1, 10):
        assert fu.run_single_fused(*bundles, records(rows)) == 0
    gap_rows(10, 10, "x", (0,))
    with pytest.raises(ValueError, match="run_lanes: rec_gap has 2 rows"):
        gap_rows(2, 10, "run_lanes", (0, 1))
    # every other record and schedule the kernels index by day or sector
    r = records(10)
    bad = {"rec_x": r._replace(rec_x=np.zeros((3, n))),
           "rec_fdu": r._replace(rec_fdu=np.zeros((10, n + 1))),
           "rec_imp": r._replace(rec_imp=np.zeros((10, K + 2))),
           "out_cum": r._replace(out_cum=np.zeros(n - 1)),
           "gdp_gain": r._replace(gdp_gain=np.zeros(9)),
           "info": r._replace(info=np.zeros(0, dtype=np.int64))}
    for name, rec in bad.items():
        for run in (fu.run_single_fused, fu.run_single_fused_par):
            with pytest.raises(ValueError, match=f"{run.__name__}: {name} has shape"):
                run(*bundles, rec)
        with pytest.raises(ValueError, match=f"run_single: {name} has shape"):
            kn.run_single(*bundles, kn.work_arrays(low.prep.A.size, n, K), rec)
    short = bundles[2]._replace(capfac=bundles[2].capfac[:5])
    with pytest.raises(ValueError, match=r"run_single_fused: capfac has shape \(5, 1\); "
                                         "expected at least 10 along axis 0"):
        fu.run_single_fused(bundles[0], bundles[1], short, bundles[3], r)
