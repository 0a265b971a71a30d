"""Workers of ``benchmarks/compare.py`` for simcore's supply-chain engine (``simulate``).

Tables (``_cases.load_table`` names): ``japan-37`` (Japan 2015 after
``prepare_for_dynamics``), ``japan-187`` (the table of the shipped scenario
``kiuchi-2025-3m``: Japan-185 with rare earths and magnets carved out, rescaled), and
``single-1000`` / ``single-3000``: seeded single-region tables with 40 % of the
coefficients non-zero (``_cases.synthetic_path(1, n, density=0.4)``).

Runs: on ``japan-187`` the scenario's own shocks and parameters (the shipped run, one
year); elsewhere the capacity event of the ARIO cases (``_cases.EVENT``) with default
``DynamicParams``.  Engines: ``simcore`` (``simulate`` on the labelled table, on the prepared
table, the bare kernels ``run_one``, ``run_fused``, ``run_fused_par`` (every thread numba has) and
``run_rows`` on lowered arrays), ``reference`` (the numpy oracle
``simcore.dynamic._reference``, dense), ``probe`` (``benchmarks/_probe.py``), ``ario``
(simcore's ARIO engine, same table and capacity event).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import _cases
from _cases import _finish, _save, event_for, load_table, reset_peak, rss_mb, target_industry, timed


def kiuchi():
    from simcore.scenario import load

    return load("kiuchi-2025-3m")


def setup(table_name: str, days: int):
    """(labelled table, shocks, params) of a supply-chain case."""
    import simcore as sc

    if table_name == "japan-187":
        s = kiuchi()
        return s.table(), s.shocks(), s.params()
    table = load_table(table_name)
    tgt, _ = target_industry(table)
    e = event_for(days)
    shock = sc.CapacityShock(sector=tgt, share=e["share"], start=e["occurrence"],
                             duration=e["duration"], profile="linear_recovery",
                             recovery_days=e["recovery_tau"])
    return table, [shock], sc.DynamicParams()


def _warm():
    """Load every single-run kernel a case may call (the compiled ones, and numba with its
    JIT kernels: the parallel sweep, ``run_one``, the dense rows), so that neither the
    times nor the memory measured after this count numba's start (about 50 MiB of
    resident memory: its modules and LLVM), which a run on the compiled kernels alone
    never pays."""
    import simcore as sc

    t = _cases._tiny()
    for layout in ("auto", "parallel", "csc", "rows"):
        sc.simulate(t, sc.CapacityShock(sector="1", share=0.5, duration=2), days=5,
                    layout=layout)


def kernel_args(low, params, T: int):
    """``run_one``'s arguments for a lowered run (work arrays and outputs allocated here),
    from the bundles ``simcore.dynamic._kernels.run_single`` takes."""
    from simcore.dynamic import _kernels as kn
    from simcore.dynamic import supply_chain as m

    p2 = low.prep
    n2, nnz, K = p2.n, p2.A.shape[0], low.sp_idx.shape[0]
    rec = kn.Records(np.zeros(T), np.zeros(n2), np.zeros((0, n2)), np.zeros((0, n2)),
                     np.zeros((0, K)), np.zeros((0, K)), np.zeros(0), np.zeros((0, 2)),
                     np.zeros(1, dtype=np.int64), np.zeros(0))
    return (*m.kernel_table(low, params), *m.kernel_special(low), *m.kernel_shocks(low),
            *m.kernel_options(params), *kn.work_arrays(nnz, n2, K), *rec)


def dense(low, T: int) -> dict:
    """The oracle's dense inputs from a lowered run (as tests/test_dynamic.py builds them)."""
    prep = low.prep
    n = prep.n
    cols = np.repeat(np.arange(n), np.diff(prep.colptr))
    Ad, tg, th = (np.zeros((n, n)) for _ in range(3))
    Ad[prep.rowidx, cols] = prep.A
    tg[prep.rowidx, cols] = low.tgt
    th[prep.rowidx, cols] = low.theta
    for k, i in enumerate(low.sp_idx):
        th[i] = np.where(Ad[i] > 0, low.theta_sp[k], 0.0)
        tg[i] = np.where(Ad[i] > 0, low.tgt_sp[k], 0.0)
    cf, df, ef = np.ones((T, n)), np.ones((T, n)), np.ones((T, n))
    cf[:, low.cap_idx] = low.capfac
    df[:, low.dem_idx] = low.demfac
    ef[:, low.dem_idx] = low.exfac
    spec = {int(i): (low.impcap[:, k], low.stock0[k], low.relmax[k])
            for k, i in enumerate(low.sp_idx)}
    return dict(A=Ad, tgt=tg, theta=th, sigma=low.sigma, x0=prep.x0, f0=prep.f0, e0=prep.e0,
                mu=prep.mu, c=prep.c, special=spec, capfac=cf, demfac=df, exfac=ef)


def merged(low):
    """Per-cell inventory targets and dependency shares with the special rows' overrides
    merged in (as ``run_one`` merges them at the start of a run)."""
    p2 = low.prep
    tg, th = low.tgt.copy(), low.theta.copy()
    cols = np.repeat(np.arange(p2.n), np.diff(p2.colptr))
    pos = low.sp_pos[p2.rowidx]
    m = pos >= 0
    tg[m] = low.tgt_sp[pos[m], cols[m]]
    th[m] = low.theta_sp[pos[m], cols[m]]
    return tg, th


def run_sc(spec: dict) -> dict:
    t0 = time.perf_counter()
    import simcore as sc
    from simcore.dynamic import _kernels as kn
    from simcore.dynamic.supply_chain import lower, prepare_model

    t_imp = time.perf_counter() - t0
    eng = spec["engine"]
    days = spec["days"]
    t0 = time.perf_counter()
    _warm()
    if eng == "probe":
        import _probe  # noqa: F401
    compile_s = time.perf_counter() - t0
    table, shocks, params = setup(spec["table"], days)
    prep = prepare_model(table)
    low = lower(prep, shocks, params, days)
    have = reset_peak()
    base = rss_mb()[0]
    res: dict[str, Any] = {"import_s": t_imp, "compile_s": compile_s, "nnz": int(low.prep.A.size),
                           "p": prep.n}
    R, B = spec.get("repeat", 5), spec.get("budget_s", 20)
    if eng == "simcore":
        first, best, n, out = timed(lambda: sc.simulate(table, shocks, params=params, days=days,
                                                       record=("output",)), R, B)
        x = out.output.values
        _save(spec.get("out"), x)
        _, best_prep, _, _ = timed(lambda: sc.simulate(prep, shocks, params=params, days=days,
                                                       record=("output",)), R, B)
        _, best_low, _, _ = timed(lambda: lower(prep, shocks, params, days), R, B)

        def kern():
            a = kernel_args(low, params, days)
            # unsigned indices, as simulate passes them (kn.run_single: the same bits)
            st = kn.run_one(*kn.indices(a[0], a[1], low.prep.n), *a[2:])
            return st, a[-10]  # gdp_loss

        _, best_k, _, (st, gl) = timed(kern, max(R, 9), B)
        res.update(first_s=first, best_s=best, n=n, prepared_best_s=best_prep,
                   lower_s=best_low, kernel_s=best_k, status_code=int(st),
                   finite=bool(np.isfinite(x).all()) and int(st) == 0)
        # the fused column sweep (simcore.dynamic._fused), simulate's kernel past 128 sectors
        from simcore.dynamic import _fused

        def fused():
            a = kernel_args(low, params, days)
            rec = kn.Records(*a[-10:])
            st = _fused.run_single_fused(kn.Table(*a[:12]), kn.Special(*a[12:19]),
                                         kn.Shocks(*a[19:24]), kn.Options(*a[24:27]), rec)
            return st, rec.gdp_loss

        fused()
        _, best_f, _, (st_f, gl_f) = timed(fused, max(R, 9), B)
        res["fused_kernel_s"] = best_f
        res["fused_equals_run_one"] = bool(int(st_f) == int(st) and np.array_equal(gl_f, gl))
        # the parallel sweep (column blocks on every thread numba has), simulate's kernel
        # from simcore.dynamic.supply_chain.PARALLEL_MIN_CELLS cells
        import numba

        from simcore.dynamic.supply_chain import choose_layout

        def par():
            a = kernel_args(low, params, days)
            rec = kn.Records(*a[-10:])
            st = _fused.run_single_fused_par(kn.Table(*a[:12]), kn.Special(*a[12:19]),
                                             kn.Shocks(*a[19:24]), kn.Options(*a[24:27]),
                                             rec)
            return st, rec.gdp_loss

        par()
        _, best_p, _, (st_p, gl_p) = timed(par, max(R, 9), B)
        res["parallel_kernel_s"] = best_p
        res["parallel_max_rel_diff_gdp_loss"] = float(
            np.max(np.abs(gl_p - gl)) / max(np.max(np.abs(gl)), 1e-300))
        res["threads"] = numba.get_num_threads()
        res["layout"] = choose_layout(low.prep.n, low.prep.A.size)
        if low.prep.n <= 1500:
            # the dense-row single-run kernel (simcore.dynamic._rows) on the same run
            from simcore.dynamic.supply_chain import run_lowered_rows

            run_lowered_rows(low, params, 2)  # compile / load the cache
            _, best_r, _, rr = timed(lambda: run_lowered_rows(low, params, days),
                                     max(R, 9), B)
            res["rows_kernel_s"] = best_r
            res["rows_max_rel_diff_gdp_loss"] = float(
                np.max(np.abs(rr["gdp_loss"] - gl)) / max(np.max(np.abs(gl)), 1e-300))
    elif eng == "reference":
        from simcore.dynamic._reference import run_reference

        ts = time.perf_counter()
        dn = dense(low, days)
        setup_s = time.perf_counter() - ts

        def go():
            return run_reference(**dn, tau=params.inventory_tau,
                                 firms_first=params.rationing == "firms_first",
                                 alpha_max=params.alpha_max, alpha_tau=params.alpha_tau)

        first, best, n, out = timed(go, R, B)
        _save(spec.get("out"), out["x"][:, :prep.n])  # without pool rows, as simulate
        res.update(first_s=first, best_s=setup_s + best, setup_s=setup_s, loop_s=best, n=n,
                   finite=bool(np.isfinite(out["x"]).all()))
    elif eng == "probe":
        import _probe

        p2 = low.prep  # with pool rows under stocks per origin
        tg, th = merged(low)
        IND, THA = _probe.csc_inputs(p2, tg, th)
        nnz = p2.A.size
        # unsigned indices: numba then tests none for a negative wrap-around (as the fused
        # kernel, simcore.dynamic._fused.indices)
        args_c = (p2.colptr.astype(np.uint64), p2.rowidx.astype(np.uint32), p2.A, tg, IND, THA,
                  p2.x0, p2.f0, 1.0 / params.inventory_tau)
        ts = time.perf_counter()
        _probe.probe_csc(*args_c, 2, tg.copy(), np.empty(nnz))
        cdense = p2.n <= 1500
        if cdense:
            Ad, Td, Id, Hd = _probe.dense_inputs(p2, tg, th)
            _probe.probe_rows(Ad, Td, Id, Hd, p2.x0, p2.f0, 1.0 / params.inventory_tau, 2,
                              Td.copy(), np.empty_like(Ad))
        res["compile_s"] = compile_s + time.perf_counter() - ts
        _, best_c, n, xc = timed(lambda: _probe.probe_csc(*args_c, days, tg.copy(),
                                                          np.empty(nnz)), max(R, 9), B)
        res["csc_s"] = best_c
        fin = bool(np.isfinite(xc).all())
        best = best_c
        if cdense:
            _, best_r, _, xr_ = timed(lambda: _probe.probe_rows(
                Ad, Td, Id, Hd, p2.x0, p2.f0, 1.0 / params.inventory_tau, days, Td.copy(),
                np.empty_like(Ad)), max(R, 9), B)
            res["rows_s"] = best_r
            fin &= bool(np.isfinite(xr_).all())
            best = min(best, best_r)
        res.update(first_s=best, best_s=best, n=n, finite=fin,
                   layout="rows" if best != best_c else "csc")
    else:
        raise ValueError(eng)
    return _finish(res, base, have)


def lhs_scenarios(S: int, params, seed: int = 0):
    """``S`` variants of the Nomura case (Latin hypercube over the cut's share and length)."""
    from simcore.dynamic.shocks import ImportCut

    rng = np.random.default_rng(seed)
    u = (np.stack([rng.permutation(S) for _ in range(2)], 1) + rng.random((S, 2))) / S
    share = 0.5 + 0.5 * u[:, 0]
    dur = 30 + 335 * u[:, 1]
    return [([ImportCut(product=p, origin="CHN", share=float(share[s]), start=0.0,
                        duration=float(dur[s])) for p in ("RE", "MAG")], params)
            for s in range(S)]


def run_sc_batch(spec: dict) -> dict:
    """``simulate_batch`` of S Nomura variants (every core), or S single ``simulate`` runs
    in a row (``singles``: timed for ``runs`` of them)."""
    import numba

    import simcore as sc
    from simcore.dynamic.batch import simulate_batch

    t0 = time.perf_counter()
    _warm()
    simulate_batch(_cases._tiny(), [(sc.CapacityShock(sector="1", share=0.5, duration=2),
                                     None)] * 2, days=5)
    compile_s = time.perf_counter() - t0
    s = kiuchi()
    prep, params = s.prepared(), s.params()
    S, days = spec["scenarios"], spec["days"]
    scen = lhs_scenarios(S, params)
    have = reset_peak()
    base = rss_mb()[0]
    res: dict[str, Any] = {"compile_s": compile_s, "p": prep.n}
    if spec.get("singles"):
        runs = spec.get("runs", S)
        t0 = time.perf_counter()
        fin = True
        for sh, p in scen[:runs]:
            r = sc.simulate(prep, sh, params=p, days=days, record=())
            fin &= bool(np.isfinite(r.gdp_loss.values).all())
        tot = time.perf_counter() - t0
        res.update(first_s=tot, best_s=tot, n=1, runs=runs, finite=fin)
    else:
        first, best, n, out = timed(lambda: simulate_batch(prep, scen, days=days),
                                    spec.get("repeat", 3), spec.get("budget_s", 30))
        res.update(first_s=first, best_s=best, n=n, threads=numba.get_num_threads(),
                   finite=bool(np.isfinite(out.gdp_loss.values).all()))
    return _finish(res, base, have)


def run_sc_lanes(spec: dict) -> dict:
    """One core: the bare kernel ``run_one`` on the first Nomura variant against one block
    of the lane kernel (``simcore.dynamic._lanes.run_block``) of ``L`` variants, for each
    ``L`` in ``spec['lanes']``; interleaved rounds, best of ``repeat``.  Per scenario-year:
    a block's time over ``L``."""
    from simcore.dynamic import _kernels as kn
    from simcore.dynamic import _lanes as ln
    from simcore.dynamic import batch as bt
    from simcore.dynamic.supply_chain import lower

    s = kiuchi()
    prep, params = s.prepared(), s.params()
    days = spec["days"]
    Ls = [int(v) for v in spec["lanes"]]
    scen = lhs_scenarios(max(Ls), params)
    low = lower(prep, scen[0][0], params, days)
    ka = kernel_args(low, params, days)
    blocks = {}
    real = ln.run_lanes
    batch_lanes = bt.LANES
    for L in Ls:
        grab = {}
        bt.LANES = L
        bt._ln.run_lanes = lambda *a: grab.setdefault("a", a)  # noqa: B023 - capture only
        try:
            bt.run_lowered(prep, scen[:L], days)
        finally:
            bt._ln.run_lanes = real
            bt.LANES = batch_lanes
        st, tab, scn, out = grab["a"]
        blocks[L] = (st.colptr, st.rowidx, st.sigma, st.sp_pos, st.sp_idx, st.cap_idx,
                     st.dem_idx, int(st.ration[0]), *[x[0] for x in tab],
                     *[x[0] for x in scn], *[x[0] for x in out[:-1]], 0,
                     out.skipped[:1])  # every day computed, as the probes compute them
    # the bounds of a block (benchmarks/_probe.py): the lanes' two passes compiled with
    # fast-math on the block's first lane's cells (shared by every lane), and streaming
    # every lane's stocks once a day
    import _probe

    pr = {}
    for L in Ls:
        b = blocks[L]
        A0, tg0, th0 = (np.ascontiguousarray(b[k][:, 0]) for k in (8, 9, 10))
        x0, f0 = np.ascontiguousarray(b[11]), np.ascontiguousarray(b[12])
        IND, THA = _probe.bound_terms(b[0], A0, th0, x0[:, 0])
        S0 = np.repeat(tg0[:, None], L, axis=1)
        pr[L] = ((b[0], b[1], A0, tg0, IND, THA, x0, f0, float(b[16][0]), days), S0)
    t0 = time.perf_counter()
    kn.run_one(*ka)
    for L in Ls:
        ln.run_block(*blocks[L])
        _probe.probe_lanes(*pr[L][0][:-1], 2, pr[L][1].copy(), np.empty_like(pr[L][1]))
        _probe.stream_lanes(pr[L][1].copy(), 2)
    compile_s = time.perf_counter() - t0
    have = reset_peak()
    base = rss_mb()[0]
    best_one, best = float("inf"), {L: float("inf") for L in Ls}
    best_p, best_s = dict(best), dict(best)
    fin_p = True
    R = spec.get("repeat", 5)
    for _ in range(R):
        t0 = time.perf_counter()
        st1 = kn.run_one(*ka)
        best_one = min(best_one, time.perf_counter() - t0)
        for L in Ls:
            t0 = time.perf_counter()
            ln.run_block(*blocks[L])
            best[L] = min(best[L], (time.perf_counter() - t0) / L)
            S, O = pr[L][1].copy(), np.empty_like(pr[L][1])
            t0 = time.perf_counter()
            xp = _probe.probe_lanes(*pr[L][0], S, O)
            best_p[L] = min(best_p[L], (time.perf_counter() - t0) / L)
            t0 = time.perf_counter()
            _probe.stream_lanes(S, days)
            best_s[L] = min(best_s[L], (time.perf_counter() - t0) / L)
            fin_p = fin_p and bool(np.isfinite(xp).all())
    fin = (int(st1) == 0 and all(bool(np.isfinite(blocks[L][-8]).all()) for L in Ls)
           and fin_p)
    # the lanes reproduce run_one bit for bit (lane 0 is the same scenario)
    same = bool(np.array_equal(blocks[Ls[0]][-8][:, 0], ka[-10]))
    res = {"compile_s": compile_s, "p": prep.n, "run_one_s": best_one,
           "lane_s": {str(L): best[L] for L in Ls}, "rounds": R, "finite": fin,
           "probe_lane_s": {str(L): best_p[L] for L in Ls},
           "stream_lane_s": {str(L): best_s[L] for L in Ls},
           "lane0_equals_run_one": same, "batch_lanes": batch_lanes, "first_s": best_one,
           "best_s": best_one, "n": R}
    return _finish(res, base, have)
