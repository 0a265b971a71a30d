"""Workers of ``benchmarks/compare.py``: tables, engines and measurements.

Every measurement runs in its own child process (``compare.py --child SPEC``), which

1. imports what the engine needs and, for simcore's ARIO engine, runs it once on a
   two-sector table (numba loads or compiles its kernels: reported as ``compile_s``);
2. loads the case's input (a simcore table, or a pymrio ``IOSystem`` built from the same
   arrays) -- the memory baseline is taken *here*, after imports, kernels and input;
3. resets the kernel's peak-RSS counter (``/proc/self/clear_refs`` = 5, Linux) and runs the
   case: first run, then best of up to ``repeat`` runs within a time budget;
4. reports ``peak_mb`` = peak RSS during step 3 (``VmHWM``) minus the RSS at the end of
   step 2, i.e. the extra resident memory the engine needed (work arrays, outputs, BoARIO's
   ``p x p`` matrices), in MiB.

Wall times are ``time.perf_counter`` differences, best of N (the machine is shared).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

BOARIO_VERSION = "0.6.3"  # pinned: the ARIO engine reproduces this release
CACHE = Path(os.environ.get("SIMCORE_BENCH_CACHE",
                            Path(tempfile.gettempdir()) / "simcore-bench-cache"))

#: The capacity-loss event of every single-run case (BoARIO ``EventArbitraryProd``): 50 %
#: of one industry's capacity, from day 5 for 60 days, linear recovery over 30 days.
EVENT = dict(share=0.5, occurrence=5, duration=60, recovery_tau=30)


def event_for(days: int) -> dict:
    """:data:`EVENT`, shortened to fit a horizon of ``days`` (BoARIO refuses events whose
    occurrence + duration is past the horizon): occurrence ``min(5, days // 4)``, duration
    ``min(60, days // 2)``.  A year gets :data:`EVENT` itself."""
    return dict(EVENT, occurrence=min(EVENT["occurrence"], days // 4),
                duration=min(EVENT["duration"], days // 2))


# --------------------------------------------------------------------------------------
# Process measurements
# --------------------------------------------------------------------------------------
def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process, MiB (``/proc/self/status``)."""
    cur = peak = float("nan")
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def timed(fn, repeat: int, budget_s: float) -> tuple[float, float, int, Any]:
    """(first, best, n, last result): run once, then again while under budget."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    best, n, spent = first, 1, first
    while n < repeat and spent + best < budget_s:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best, n, spent = min(best, dt), n + 1, spent + dt
    return first, best, n, out


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def synthetic_path(R: int, n: int, seed: int = 0, density: float = 0.2) -> Path:
    """A seeded, exactly balanced MRIO (``R`` regions x ``n`` sectors), cached as .npz.

    Technical coefficients: uniform, ``density`` of the cells non-zero, column sums drawn in
    [0.3, 0.6]; final demand: one category per region, uniform in [10, 100]; gross output
    solves ``x = A x + y`` so that ``Z = A diag(x)``, ``Y`` and ``V = x - Z'1 > 0`` balance.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"mrio-R{R}-n{n}-s{seed}-d{density}.npz"
    if path.exists():
        return path
    p = R * n
    rng = np.random.default_rng(seed)
    A = rng.random((p, p))
    A *= rng.random((p, p)) < density
    A *= (rng.uniform(0.3, 0.6, p) / A.sum(0))[None, :]
    y = rng.uniform(10, 100, (p, R))
    x = np.linalg.solve(np.eye(p) - A, y.sum(1))
    A *= x[None, :]                        # Z, in place
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, Z=A, Y=y, x=x, R=R, n=n)
    os.replace(tmp, path)
    return path


def synthetic_table(R: int, n: int, seed: int = 0):
    import simcore as sc

    with np.load(synthetic_path(R, n, seed)) as d:
        Z, y, x = d["Z"], d["Y"], d["x"]
    return sc.tables.from_arrays(Z, y, (x - Z.sum(0))[None, :], x=x,
                                 regions=[f"r{i:02d}" for i in range(R)],
                                 sectors=[f"s{j:03d}" for j in range(n)], final_demand=["fd"],
                                 unit="M")


PYMRIO_REGION_AGG = ["reg1", "reg1", "reg2", "reg2", "reg3", "reg3"]
PYMRIO_SECTOR_AGG = ["food", "mining", "manufactoring", "other", "construction", "other",
                     "other", "other"]


def pymrio_test_table():
    """pymrio's test MRIO (6 regions x 8 sectors), as a simcore table."""
    import pymrio

    import simcore as sc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pymrio.load_test()
        m.calc_all()
    regions = list(dict.fromkeys(r for r, _ in m.Z.index))
    sectors = list(dict.fromkeys(s for _, s in m.Z.index))
    cats = list(dict.fromkeys(c for _, c in m.Y.columns))
    Z, Y, x = m.Z.to_numpy(), m.Y.to_numpy(), m.x.to_numpy().ravel()
    return sc.tables.from_arrays(Z, Y, (x - Z.sum(0))[None, :], x=x, regions=regions,
                                 sectors=sectors, final_demand=cats, unit="M EUR")


def japan_table(n: int):
    """Japan 2015 (37 or 185 sectors) after ``prepare_for_dynamics`` (no negative cells)."""
    import simcore as sc
    from simcore.transform import prepare_for_dynamics

    table, _ = prepare_for_dynamics(sc.datasets.load(f"japan-2015-{n}"))
    return table


def single_region_table(n: int, density: float = 0.4):
    """A seeded single-region table of ``n`` sectors, ``density`` of the coefficients non-zero
    (for the supply-chain engine, which runs single-region tables)."""
    import simcore as sc

    with np.load(synthetic_path(1, n, density=density)) as d:
        Z, y, x = d["Z"], d["Y"], d["x"]
    return sc.tables.from_arrays(Z, y, (x - Z.sum(0))[None, :], x=x,
                                 sectors=[f"s{j:04d}" for j in range(n)], final_demand=["fd"],
                                 unit="M")


def load_table(name: str):
    """``japan-37``, ``japan-185``, ``japan-187`` (the table of scenario ``kiuchi-2025-3m``,
    after ``prepare_for_dynamics``), ``pymrio-test``, ``synthetic-R{R}x{n}`` or
    ``single-{n}`` (single region, 40 % dense)."""
    if name == "japan-187":
        from simcore.scenario import load
        from simcore.transform import prepare_for_dynamics

        return prepare_for_dynamics(load("kiuchi-2025-3m").table())[0]
    if name.startswith("single-"):
        return single_region_table(int(name.split("-")[1]))
    if name.startswith("japan-"):
        return japan_table(int(name.split("-")[1]))
    if name == "pymrio-test":
        return pymrio_test_table()
    if name.startswith("synthetic-"):
        R, n = name.split("-", 1)[1][1:].split("x")
        return synthetic_table(int(R), int(n))
    raise ValueError(name)


def target_industry(table):
    """The industry hit by the event: sector 40 of Japan-185, else a fixed early one."""
    import simcore as sc

    labels = sc.tables.industry_labels(table)
    mr = sc.tables.is_multiregional(table)
    n = table.sizes["sector"]
    k = min(40, n - 1) if not mr else min(3, n - 1)
    lab = labels[k]
    return (tuple(lab.split("/", 1)) if mr else lab), k


def to_pymrio(table, *, pooled_imports: bool = True):
    """The pymrio ``IOSystem`` of a simcore table (for BoARIO and pymrio).

    ``pooled_imports=True`` (BoARIO): the same arrays as simcore's ARIO lowering: final
    demand is ``Y`` and exports ``E``; with imports (Japan) supply is pooled
    (``x = Z 1 + Y 1 + E 1``), otherwise the table's ``x``.  ``False`` (static models):
    always the table's ``x``, as simcore's static models use.  ``A = Z / x`` is set
    directly (BoARIO needs only ``Z``, ``Y``, ``x`` and ``A``).
    """
    import pandas as pd
    import pymrio

    import simcore as sc

    f = sc.tables.flat(table)
    F = np.concatenate([f["Y"], f["E"]], axis=1)
    pooled = pooled_imports and bool(f["M"].size and np.any(f["M"] != 0))
    x = f["Z"].sum(1) + F.sum(1) if pooled else np.asarray(f["x"], dtype=float)
    if sc.tables.is_multiregional(table):
        regions = [str(r) for r in table.region.values]
        sectors = [str(s) for s in table.sector.values]
        idx = pd.MultiIndex.from_product([regions, sectors], names=["region", "sector"])
        ncat = F.shape[1] // len(regions)
        cats = [f"fd{j:02d}" for j in range(ncat)]
        cols = pd.MultiIndex.from_product([regions, cats], names=["region", "category"])
    else:
        sectors = [str(s) for s in table.sector.values]
        idx = pd.MultiIndex.from_product([["JPN"], sectors], names=["region", "sector"])
        cols = pd.MultiIndex.from_product([["JPN"], [f"fd{j:02d}" for j in range(F.shape[1])]],
                                          names=["region", "category"])
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(x[None, :] != 0, f["Z"] / x[None, :], 0.0)
    io = pymrio.IOSystem(Z=pd.DataFrame(f["Z"], index=idx, columns=idx),
                         Y=pd.DataFrame(F, index=idx, columns=cols),
                         x=pd.DataFrame(x, index=idx, columns=["indout"]),
                         A=pd.DataFrame(A, index=idx, columns=idx))
    return io


def _tiny():
    import simcore as sc

    return sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]], [[650, 1400]],
                                 sectors=["1", "2"])


# --------------------------------------------------------------------------------------
# Engines (each returns a dict; runs in a child process)
# --------------------------------------------------------------------------------------
def _save(out_path: str | None, prod: np.ndarray | None) -> None:
    if out_path and prod is not None:
        np.save(out_path, np.asarray(prod, dtype=np.float64))


def _finish(res: dict, base_rss: float, have_reset: bool) -> dict:
    cur, peak = rss_mb()
    res["peak_mb"] = (peak - base_rss) if have_reset else float("nan")
    res["base_rss_mb"] = base_rss
    res["peak_method"] = "VmHWM after clear_refs minus RSS after imports+input"
    return res


def run_simcore_ario(spec: dict) -> dict:
    t0 = time.perf_counter()
    import simcore as sc  # noqa: F401
    from simcore.dynamic.ario import (
        ArbitraryCapacityLoss,
        prepare_ario,
        simulate_ario,
        simulate_ario_batch,
    )
    t_imp = time.perf_counter() - t0
    t0 = time.perf_counter()
    tiny = _tiny()
    simulate_ario(tiny, [ArbitraryCapacityLoss("1", 0.5, 1, 2)], days=5)
    if spec.get("scenarios"):
        simulate_ario_batch(tiny, [[ArbitraryCapacityLoss("1", 0.5, 1, 2)]] * 2, days=5)
    compile_s = time.perf_counter() - t0
    table = load_table(spec["table"])
    days = spec["days"]
    have = reset_peak()
    base = rss_mb()[0]
    res: dict[str, Any] = {"import_s": t_imp, "compile_s": compile_s}
    if not spec.get("scenarios"):
        tgt, _ = target_industry(table)
        e = event_for(days)
        ev = [ArbitraryCapacityLoss(tgt, e["share"], e["occurrence"], e["duration"],
                                    recovery_tau=e["recovery_tau"])]
        first, best, n, out = timed(
            lambda: simulate_ario(table, ev, days=days, record=("production",)),
            spec.get("repeat", 5), spec.get("budget_s", 20))
        prod = out.production.values.reshape(days, -1)
        _save(spec.get("out"), prod)
        t0 = time.perf_counter()
        prep = prepare_ario(table)
        res["prepare_s"] = time.perf_counter() - t0
        _, best_prep, _, _ = timed(
            lambda: simulate_ario(prep, ev, days=days, record=("production",)),
            spec.get("repeat", 5), spec.get("budget_s", 20))
        res.update(first_s=first, best_s=best, n=n, prepared_best_s=best_prep,
                   p=int(prod.shape[1]), finite=bool(np.isfinite(prod).all()))
    else:
        S = spec["scenarios"]
        prep = prepare_ario(table)
        delta, inds = batch_delta(prep, S, days)
        first, best, n, out = timed(
            lambda: simulate_ario_batch(prep, delta, industries=inds),
            spec.get("repeat", 3), spec.get("budget_s", 30))
        import numba

        res.update(first_s=first, best_s=best, n=n, p=len(prep.labels),
                   threads=numba.get_num_threads(),
                   finite=bool(np.isfinite(out.aggregate_value_added.values).all()))
    return _finish(res, base, have)


def batch_delta(prep, S: int, days: int, seed: int = 0):
    """``S`` seeded scenarios: one random industry loses 50-100 % for 30-90 days from day 5."""
    labels = prep.labels
    rng = np.random.default_rng(seed)
    ind = rng.integers(0, len(labels), S)
    cols = sorted(set(ind.tolist()))
    pos = {c: j for j, c in enumerate(cols)}
    delta = np.zeros((S, days, len(cols)))
    for s in range(S):
        delta[s, 5:5 + int(rng.integers(30, 90)), pos[int(ind[s])]] = rng.uniform(0.5, 1.0)
    return delta, [labels[c] for c in cols]


def run_reference(spec: dict) -> dict:
    """simcore's plain-numpy transcription of BoARIO (``_ario_reference``)."""
    t0 = time.perf_counter()
    import simcore as sc  # noqa: F401
    from simcore.dynamic._ario_reference import simulate_reference
    from simcore.dynamic.ario import ARIOParams, ArbitraryCapacityLoss, _prepare, capacity_loss
    t_imp = time.perf_counter() - t0
    table = load_table(spec["table"])
    days = spec["days"]
    have = reset_peak()
    base = rss_mb()[0]
    tgt, _ = target_industry(table)
    e = event_for(days)
    ev = [ArbitraryCapacityLoss(tgt, e["share"], e["occurrence"], e["duration"],
                                recovery_tau=e["recovery_tau"])]
    params = ARIOParams()

    def go():
        prep = _prepare(table, None, keep_flows=True)
        dl, _ = capacity_loss(prep, ev, days=days, boario_compat=True, dense=True)
        return simulate_reference(
            prep.arrays["Z"], prep.arrays["F"], prep.arrays["x"], n_regions=prep.R, delta=dl,
            inv_duration=params.inventory_days(prep.sectors),
            restoration_tau=params.restoration_tau(prep.sectors), mask=prep.mask)

    first, best, n, out = timed(go, spec.get("repeat", 3), spec.get("budget_s", 20))
    prod = out["production"]
    _save(spec.get("out"), prod)
    status = int(out.get("status", 0))
    return _finish({"import_s": t_imp, "first_s": first, "best_s": best, "n": n,
                    "finite": bool(np.isfinite(prod).all()) and status == 0,
                    "status_code": status, "p": int(prod.shape[1])}, base, have)


def run_boario(spec: dict) -> dict:
    """BoARIO ``ARIOPsiModel`` (defaults), same table and event; ``runs`` scenarios in a row.

    ``best_s`` is model construction + ``Simulation`` + ``loop`` for ``days`` steps (one
    scenario); ``setup_s`` and ``loop_s`` split it, so that a short run can be scaled to
    a year as ``setup_s + loop_s * 365 / days``.
    """
    t0 = time.perf_counter()
    import pandas as pd

    import boario
    import boario.event
    from boario.extended_models import ARIOPsiModel
    from boario.simulation import Simulation
    t_imp = time.perf_counter() - t0
    if boario.__version__ != BOARIO_VERSION:
        raise RuntimeError(f"BoARIO {boario.__version__} installed; the benchmark pins "
                           f"{BOARIO_VERSION}")
    logging.getLogger("boario").setLevel(logging.ERROR)
    import simcore as sc

    table = load_table(spec["table"])
    days = spec["days"]
    io = to_pymrio(table)
    mr = sc.tables.is_multiregional(table)
    tgt, k = target_industry(table)
    key = tgt if mr else ("JPN", tgt)
    batch = None
    if spec.get("scenarios"):
        from simcore.dynamic.ario import prepare_ario

        prep = prepare_ario(table)
        delta, inds = batch_delta(prep, spec["scenarios"], days)
        batch = (delta, inds)
    outdir = tempfile.mkdtemp(prefix="boario-bench-")
    have = reset_peak()
    base = rss_mb()[0]
    holder: dict[str, Any] = {}

    def one(s: int = 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ts = time.perf_counter()
            model = ARIOPsiModel(io)
            sim = Simulation(model, n_temporal_units_to_sim=days, boario_output_dir=outdir)
            if batch is None:
                e = event_for(days)
                ev = boario.event.from_series(
                    pd.Series({key: e["share"]}), event_type="arbitrary",
                    occurrence=e["occurrence"], duration=e["duration"],
                    recovery_tau=e["recovery_tau"], recovery_function="linear")
            else:
                # the batch scenario s as one arbitrary event (its loss, start and length)
                delta, inds = batch
                col = int(np.flatnonzero(delta[s].max(0))[0])
                on = np.flatnonzero(delta[s][:, col])
                lab = inds[col]
                key_s = tuple(lab.split("/", 1)) if mr else ("JPN", lab)
                ev = boario.event.from_series(
                    pd.Series({key_s: float(delta[s][on[0], col])}),
                    event_type="arbitrary", occurrence=int(on[0]), duration=int(on.size),
                    recovery_tau=1, recovery_function="linear")
            sim.add_event(ev)
            holder["setup_s"] = time.perf_counter() - ts
            tl = time.perf_counter()
            sim.loop()
            holder["loop_s"] = time.perf_counter() - tl
        if sim.has_crashed:
            raise RuntimeError("BoARIO simulation crashed (sim.has_crashed)")
        return sim

    runs = spec.get("runs", 1)
    if batch is None:
        first, best, n, sim = timed(one, spec.get("repeat", 3), spec.get("budget_s", 20))
        prod = sim.production_realised.to_numpy()
        # back to simcore's industry order
        cols = list(sim.production_realised.columns)
        pos = {c: j for j, c in enumerate(cols)}
        labels = sc.tables.industry_labels(table)
        order = [pos[tuple(lab.split("/", 1)) if mr else ("JPN", lab)] for lab in labels]
        prod = prod[:, order]
        _save(spec.get("out"), prod)
        res = {"first_s": first, "best_s": best, "n": n, "setup_s": holder["setup_s"],
               "loop_s": holder["loop_s"], "finite": bool(np.isfinite(prod).all()),
               "p": int(prod.shape[1])}
    else:
        t0 = time.perf_counter()
        fin = True
        for s in range(runs):
            sim = one(s)
            fin &= bool(np.isfinite(sim.production_realised.to_numpy()).all())
        tot = time.perf_counter() - t0
        res = {"first_s": tot, "best_s": tot, "n": 1, "runs": runs, "finite": fin,
               "p": len(sc.tables.industry_labels(table))}
    res["import_s"] = t_imp
    res["version"] = boario.__version__
    return _finish(res, base, have)


def run_static(spec: dict) -> dict:
    """simcore's static models, or pymrio's, on one table (``op``)."""
    engine, op = spec["engine"], spec["op"]
    t0 = time.perf_counter()
    import simcore as sc

    if engine == "pymrio":
        import pymrio
    t_imp = time.perf_counter() - t0
    table = load_table(spec["table"])
    if engine == "pymrio":
        io = to_pymrio(table, pooled_imports=False)
        io.A = None
        Zdf, xdf, Ydf = io.Z, io.x, io.Y
    f = sc.tables.flat(table)
    dy = 0.1 * (f["Y"].sum(1) + f["E"].sum(1))
    have = reset_peak()
    base = rss_mb()[0]

    if engine == "simcore":
        fn = {"inverse": lambda: sc.tables.leontief_inverse(table).values,
              "multipliers": lambda: sc.static.output_multipliers(table).values,
              "solve": lambda: sc.static.leontief(table, dy).values}[op]
    else:
        def inverse():
            return pymrio.calc_L(pymrio.calc_A(Zdf, xdf)).to_numpy()

        def calc_all():
            m = pymrio.IOSystem(Z=Zdf, Y=Ydf, x=xdf)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.calc_all()
            return m

        fn = {"inverse": inverse,
              "multipliers": lambda: calc_all().L.to_numpy().sum(0),
              "solve": lambda: calc_all().L.to_numpy() @ dy}[op]
    first, best, n, out = timed(fn, spec.get("repeat", 3), spec.get("budget_s", 20))
    # flat industry axis: simcore returns (region, sector[, region, sector]) for an MRIO
    p = len(sc.tables.industry_labels(table))
    out = np.asarray(out)
    flat = out.reshape(p, p).sum(0) if out.size == p * p else out.reshape(p)
    if spec.get("out"):
        np.save(spec["out"], flat)
    return _finish({"import_s": t_imp, "first_s": first, "best_s": best, "n": n,
                    "finite": bool(np.isfinite(out).all()), "p": p}, base, have)


def run_load(spec: dict) -> dict:
    import simcore as sc
    from simcore.datasets import _load_cached

    def go():
        _load_cached.cache_clear()
        return sc.datasets.load(spec["dataset"])

    first, best, n, _ = timed(go, spec.get("repeat", 10), spec.get("budget_s", 5))
    return {"first_s": first, "best_s": best, "n": n, "finite": True,
            "p": int(go().sizes["sector"])}


def run_import(spec: dict) -> dict:
    t0 = time.perf_counter()
    for m in spec["modules"]:
        __import__(m)
    return {"best_s": time.perf_counter() - t0, "finite": True}


def run_compile(spec: dict) -> dict:
    """First ARIO calls in a process whose numba cache is empty (set by the parent)."""
    import simcore as sc  # noqa: F401
    from simcore.dynamic.ario import ArbitraryCapacityLoss, simulate_ario, simulate_ario_batch

    tiny = _tiny()
    t0 = time.perf_counter()
    simulate_ario(tiny, [ArbitraryCapacityLoss("1", 0.5, 1, 2)], days=5)
    t1 = time.perf_counter()
    simulate_ario_batch(tiny, [[ArbitraryCapacityLoss("1", 0.5, 1, 2)]] * 2, days=5)
    t2 = time.perf_counter()
    t3 = time.perf_counter()
    simulate_ario(tiny, [ArbitraryCapacityLoss("1", 0.5, 1, 2)], days=5)
    t4 = time.perf_counter()
    return {"best_s": (t1 - t0) + (t2 - t1), "simulate_s": t1 - t0, "batch_s": t2 - t1,
            "second_call_s": t4 - t3, "finite": True}


def run_machine(spec: dict) -> dict:
    """Single-core read bandwidth by working-set size, and single-core dgemm rate."""
    import numba

    @numba.njit(cache=False, fastmath=True)
    def rsum(a):
        s0 = s1 = s2 = s3 = 0.0
        m = a.shape[0] - a.shape[0] % 4
        for i in range(0, m, 4):
            s0 += a[i]
            s1 += a[i + 1]
            s2 += a[i + 2]
            s3 += a[i + 3]
        return s0 + s1 + s2 + s3

    out = {}
    for label, nbytes, reps in (("l2", 1 << 20, 400), ("l3", 16 << 20, 40),
                                ("dram", 1 << 30, 3)):
        a = np.ones(nbytes // 8)
        rsum(a)
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps):
                rsum(a)
            best = min(best, (time.perf_counter() - t0) / reps)
        out[f"read_bw_{label}_gbs"] = nbytes / best / 1e9
        del a
    m = 1500
    A = np.random.default_rng(0).random((m, m))
    A @ A
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        A @ A
        best = min(best, time.perf_counter() - t0)
    out["dgemm_gflops_1core"] = 2 * m ** 3 / best / 1e9
    return out


def _sc(name):
    def go(spec):
        import _sc_cases

        return getattr(_sc_cases, name)(spec)
    return go


RUNNERS = {"sc": _sc("run_sc"), "sc_batch": _sc("run_sc_batch"),
           "sc_lanes": _sc("run_sc_lanes"), "simcore": run_simcore_ario, "reference": run_reference, "boario": run_boario,
           "static": run_static, "load": run_load, "import": run_import,
           "compile": run_compile, "machine": run_machine}


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    try:
        out = RUNNERS[spec["runner"]](spec)
        out["ok"] = True
    except Exception as exc:  # reported to the parent, never raised
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()[-2000:]}
    sys.stdout.write("\n@@RESULT@@" + json.dumps(out, default=float) + "\n")
