"""The dense-row single-run kernel (:mod:`simcore.dynamic._rows`, issue 17), the layout
``simulate`` runs on dense tables: bit for bit ``run_one`` (the stock gap within 1e-12)
and within 1e-12 of the numpy oracle for everything ``run_one`` supports (CES inputs,
every record, gains, gaps, the demand-constrained loss, stocks per origin), deterministic
from run to run."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore.dynamic import _kernels as kn
from simcore.dynamic import _reference as ref
from simcore.dynamic import _rows as rw
from simcore.dynamic import supply_chain as md
from simcore.dynamic.params import DynamicParams
from simcore.dynamic.shocks import CapacityShock, DemandShock, ImportCut
from simcore.errors import ParameterError

from strategies import productive_tables
from test_dynamic import lowered, random_table

RECORDS = ("output", "final_demand_unmet", "imports", "stocks")


def _raw(low, params, T, layout):
    """Every record of one kernel run on the lowered table (pool rows included)."""
    n, K = low.prep.n, low.sp_idx.shape[0]
    r = kn.Records(np.zeros(T), np.zeros(n), np.zeros((T, n)), np.zeros((T, n)),
                   np.zeros((T, K)), np.zeros((T, K)), np.zeros(T), np.zeros((T, 2)),
                   np.zeros(1, dtype=np.int64), np.zeros(n))
    bundles = (md.kernel_table(low, params), md.kernel_special(low), md.kernel_shocks(low),
               md.kernel_options(params))
    if layout == "rows":
        st_ = rw.run_single_rows(low, *bundles, r)
    else:
        st_ = kn.run_single(*bundles, kn.work_arrays(low.prep.A.size, n, K), r)
    return int(st_), r


def _close(a, b, what, rtol=1e-12, floor=1e-300):
    """``a`` within ``rtol`` of ``b``, relative to the larger magnitude of the two, or to
    ``floor`` where that is larger: a quantity that is a small difference of large flows
    (a day's gain of value added above baseline, 1e-7 of output) carries the round-off of
    those flows, so the oracle comparisons scale by baseline output."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    if a.size == 0:
        return
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()), floor)
    d = float(np.abs(a - b).max())
    assert d <= rtol * scale, f"{what}: max |diff| {d:.3g} > {rtol} x {scale:.3g}"


#: Each kernel record and the numpy oracle's name of it (:mod:`simcore.dynamic._reference`).
ORACLE_RECORDS = (("rec_x", "x"), ("gdp_loss", "gdp_loss"), ("rec_fdu", "fd_unmet"),
                  ("rec_imp", "imports"), ("rec_spstock", "stocks"), ("gdp_gain", "gain"),
                  ("rec_gap", "gap"), ("out_dem", "dem"))


def vs_oracle(rec, params, dense, what):
    """Every record of a kernel run within 1e-12 of the numpy oracle on the same dense
    inputs: the amounts in money (output, unmet demand, imports, stocks, losses, gains)
    relative to baseline output at least (their round-off), the gaps (shares) relative to
    their own size."""
    oracle = ref.run_reference(**dense, firms_first=params.rationing == "firms_first",
                               alpha_max=params.alpha_max, alpha_tau=params.alpha_tau)
    x0 = float(np.max(dense["x0"]))
    for f, o in ORACLE_RECORDS:
        _close(getattr(rec, f), oracle[o], f"{what} vs oracle: {f}",
               floor=1e-300 if f == "rec_gap" else x0)


def _check_all(low, params, T, dense):
    """Rows against run_one (every record) and against the oracle; rows twice: same bits."""
    s_r, r = _raw(low, params, T, "rows")
    s_c, c = _raw(low, params, T, "csc")
    assert s_r == s_c == 0
    for f in kn.Records._fields:
        if f == "rec_gap":  # the stock gap is summed by rows: round-off apart
            np.testing.assert_array_equal(r.rec_gap[:, 0], c.rec_gap[:, 0])
            _close(r.rec_gap[:, 1], c.rec_gap[:, 1], "rows vs run_one: stock gap")
        else:  # the same sums in the same order: the same bits
            np.testing.assert_array_equal(getattr(r, f), getattr(c, f), err_msg=f)
    vs_oracle(r, params, dense, "rows")
    _, r2 = _raw(low, params, T, "rows")
    for f in kn.Records._fields:
        np.testing.assert_array_equal(getattr(r, f), getattr(r2, f), err_msg=f)
    return r


def _params(rng, prods, p_cut, seed, ces):
    return DynamicParams(
        inventory_days=float(rng.uniform(1.5, 20)), inventory_tau=float(rng.uniform(1, 15)),
        dependency=float(rng.uniform(0.3, 1)),
        dependency_by_product={p_cut: {"*": 0.2, prods[-1]: 1.0}},
        elasticity_by_product={p_cut: float(rng.uniform(0.2, 2.0))} if ces else {},
        import_origins={p_cut: {"CHN": float(rng.uniform(0.3, 1))}},
        stockpiles={p_cut: {"days": 3.0, "release_rate": 0.5}} if seed % 3 == 0 else {},
        rationing="firms_first" if seed % 2 else "proportional",
        alpha_max=1.2 if seed % 4 == 1 else 1.0, origin_stocks=seed % 2 == 0)


def _shocks(rng, prods, p_cut):
    return [
        ImportCut(product=p_cut, origin="CHN", share=float(rng.uniform(0.3, 1)),
                  start=float(rng.uniform(0, 5)), duration=float(rng.uniform(5, 40))),
        CapacityShock(sector=prods[-1], share=float(rng.uniform(0, 0.5)), start=3,
                      duration=20, profile="linear_recovery", recovery_days=10),
        DemandShock(sector=prods[0], change=-0.2, start=2, duration=15, target="all"),
    ]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ces", [False, True])
def test_rows_match_the_oracle_and_run_one(seed, ces):
    rng = np.random.default_rng(100 + seed)
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
    # simulate, both layouts: every variable of the labelled result
    prep = md.prepare_model(t)
    a = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="rows")
    b = sc.simulate(prep, shocks, params=params, days=T, record=RECORDS, layout="csc")
    for k, v in b.data_vars.items():
        _close(a[k].values, v.values, f"simulate {k}")
    assert a.attrs["recovered"] == b.attrs["recovered"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=productive_tables(min_n=2, max_n=9), seed=st.integers(0, 2**16),
       ces=st.booleans())
def test_rows_on_random_tables(t, seed, ces):
    rng = np.random.default_rng(seed)
    prods = [str(s) for s in t.sector.values]
    p_cut = prods[int(rng.integers(len(prods)))]
    shocks = _shocks(rng, prods, p_cut)
    params = _params(rng, prods, p_cut, seed, ces)
    T = 60
    dense = lowered(t, shocks, params, T)[1]
    low = md.lower(md.prepare_model(t), shocks, params, T)
    _check_all(low, params, T, dense)


def test_rows_stop_on_non_finite_like_run_one(japan37):
    """A non-finite day stops both layouts on the same day with the same status."""
    prep = md.prepare_model(japan37)
    p = DynamicParams()
    low = md.lower(prep, [CapacityShock(sector="35", share=0.2, duration=5)], p, 30)
    low.capfac[7:] = np.nan
    s_r, r = _raw(low, p, 30, "rows")
    s_c, c = _raw(low, p, 30, "csc")
    assert s_r == s_c != 0
    assert int(r.info[0]) == int(c.info[0]) == 7


SHIPPED = sorted(p.stem for p in pathlib.Path(__file__).resolve().parents[1]
                 .joinpath("scenarios").glob("*.toml") if "mrio" not in p.stem)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_same_on_both_layouts(name, monkeypatch):
    from simcore.scenario import load

    s = load(name)
    auto = s.run()
    prep = s.prepared()
    low = md.lower(prep, s.shocks(), s.params(), 2)
    # the shipped tables (Japan, 37 or 187 sectors) run on the fused sweep; on dense rows
    # they give the same numbers (the stock gap to round-off)
    n2, nnz = low.prep.n, low.prep.A.size
    assert md.choose_layout(n2, nnz) == "fused"
    monkeypatch.setattr(md, "choose_layout", lambda n, nnz: "rows")
    rows = load(name).run()
    assert auto.attrs["days"] == rows.attrs["days"]
    for k, v in rows.data_vars.items():
        if np.asarray(v.values).dtype.kind == "f":
            _close(auto[k].values, v.values, f"{name}: {k}")


def test_layout_rule_and_argument(japan37):
    # auto: the fused sweep on every single-region table, dense or not, in parallel
    # (column blocks) on large ones
    for n, nnz in ((37, 37 * 37 // 2), (37, 100), (187, 14793)):
        assert md.choose_layout(n, nnz) == "fused"
    assert md.choose_layout(3000, 3_600_000) == "parallel"
    with pytest.raises(ParameterError, match="layout = 'dense'"):
        sc.simulate(japan37, [], days=3, layout="dense")
