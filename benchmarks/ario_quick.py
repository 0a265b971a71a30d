"""Quick timings of simcore's ARIO engine (simcore.dynamic.ario) against BoARIO 0.6.3.

Run ``python benchmarks/ario_quick.py`` (add ``--no-boario`` to skip BoARIO, ``--quick``
for a smaller batch).  Each measurement states what it measures:

* compile: first ``simulate_ario`` / ``simulate_ario_batch`` call in a fresh process with
  an empty numba cache (compilation included), wall time;
* Japan-185: one simulated year of Japan's 2015 185-sector table (single region,
  ``prepare_for_dynamics``, imports pooled with domestic supply), 50 % capacity loss of one
  sector for 60 days; best of several runs, wall time, for the labelled call and for a
  prepared table (kernel plus result assembly); BoARIO ``ARIOPsiModel`` on the same table
  and event, and the largest relative difference of the two production trajectories;
* MRIO-3000: a synthetic 10-region x 300-sector MRIO (20 % dense, written by one child
  process and loaded by another), one year: wall time, peak traced allocations during the
  run (tracemalloc), and peak RSS of the measuring process after building the table and at
  the end (interpreter, numba, the table and the run included);
* batch: 1,000 scenario-years of Japan-185 (random sector, loss 50-100 %, 30-90 days) in
  one ``simulate_ario_batch`` call: wall and CPU time (CPU / wall shows how many cores were
  actually available).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cases import rss_mb  # noqa: E402  (the one /proc reader of the benchmarks)

HERE = os.path.dirname(os.path.abspath(__file__))


def _japan():
    import simcore as sc
    from simcore.transform import prepare_for_dynamics

    table, _ = prepare_for_dynamics(sc.datasets.load("japan-2015-185"))
    return table


def _best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def child_compile() -> dict:
    t0 = time.perf_counter()
    import simcore as sc
    from simcore.dynamic.ario import ArbitraryCapacityLoss, simulate_ario, simulate_ario_batch

    t = sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]], [[650, 1400]],
                              sectors=["1", "2"])
    t1 = time.perf_counter()
    simulate_ario(t, [ArbitraryCapacityLoss("1", 0.5, 5, 10)], days=30)
    t2 = time.perf_counter()
    simulate_ario_batch(t, [[ArbitraryCapacityLoss("1", 0.5, 5, 10)]], days=30)
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "first_simulate_s": t2 - t1, "first_batch_s": t3 - t2}


def child_make_mrio(path: str, R: int = 10, n: int = 300) -> dict:
    """Write a synthetic, exactly balanced MRIO (20 % dense) to ``path`` (.npz)."""
    p = R * n
    rng = np.random.default_rng(0)
    A = rng.uniform(0, 1, (p, p)) * (rng.uniform(0, 1, (p, p)) < 0.2)
    A *= (rng.uniform(0.3, 0.6, p) / A.sum(0))[None, :]
    y = rng.uniform(10, 100, (p, R))
    x = np.linalg.solve(np.eye(p) - A, y.sum(1))
    Z = A * x[None, :]
    x = Z.sum(1) + y.sum(1)
    np.savez(path, Z=Z, Y=y, x=x, R=R, n=n)
    return {"path": path}


def child_mrio(path: str) -> dict:
    import tracemalloc

    import simcore as sc
    from simcore.dynamic.ario import ArbitraryCapacityLoss, simulate_ario

    small = sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]], [[650, 1400]],
                                  sectors=["1", "2"])
    simulate_ario(small, [ArbitraryCapacityLoss("1", 0.5, 1, 1)], days=2)  # load kernels
    rss_ready = rss_mb()[0]
    with np.load(path) as d:
        Z, y, x, R, n = d["Z"], d["Y"], d["x"], int(d["R"]), int(d["n"])
    table = sc.tables.from_arrays(Z, y, (x - Z.sum(0))[None, :], x=x,
                                  regions=[f"r{i}" for i in range(R)],
                                  sectors=[f"s{j}" for j in range(n)], final_demand=["fd"])
    del Z
    rss_table, peak_table = rss_mb()
    ev = [ArbitraryCapacityLoss([f"r{i}/s{j}" for i in range(R) for j in range(3)], 0.5, 5,
                                60, recovery_tau=30)]
    tracemalloc.start()
    t0 = time.perf_counter()
    res = simulate_ario(table, ev, days=365, record=("production",),
                        aggregate=("value_added",))
    dt = time.perf_counter() - t0
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    loss = 1 - float(res.aggregate_value_added.sum() / res.baseline_value_added.sum() / 365)
    return {"p": R * n, "regions": R, "year_s": dt,
            "rss_ready_MB (interpreter + simcore + kernels)": rss_ready,
            "rss_with_table_MB": rss_table, "peak_rss_building_table_MB": peak_table,
            "traced_peak_during_run_MB": traced / 2**20,
            "peak_rss_end_MB": rss_mb()[1], "gdp_loss_share": loss}


def japan(boario: bool) -> dict:
    from simcore.dynamic.ario import (
        ArbitraryCapacityLoss,
        prepare_ario,
        simulate_ario,
    )

    table = _japan()
    sec = [str(s) for s in table.sector.values]
    target = sec[40]
    ev = [ArbitraryCapacityLoss(target, 0.5, 5, 60, recovery_tau=30)]
    simulate_ario(table, ev, days=365)
    out = {"sector": target}
    out["year_labelled_s"] = _best(lambda: simulate_ario(table, ev, days=365,
                                                         record=("production",)), 15)
    prep = prepare_ario(table)
    out["year_prepared_s"] = _best(lambda: simulate_ario(prep, ev, days=365,
                                                         record=("production",)), 15)
    if not boario:
        return out
    import logging
    import warnings

    import pandas as pd
    import pymrio

    import boario.event
    from boario.extended_models import ARIOPsiModel
    from boario.simulation import Simulation

    logging.getLogger("boario").setLevel(logging.ERROR)
    import simcore as sc

    f = sc.tables.flat(table)
    F = np.concatenate([f["Y"], f["E"]], axis=1)
    x = f["Z"].sum(1) + F.sum(1)            # imports pooled, as simcore does
    idx = pd.MultiIndex.from_product([["JPN"], sec], names=["region", "sector"])
    cols = pd.MultiIndex.from_product([["JPN"], [f"fd{j:02d}" for j in range(F.shape[1])]],
                                      names=["region", "category"])
    io = pymrio.IOSystem(Z=pd.DataFrame(f["Z"], index=idx, columns=idx),
                         Y=pd.DataFrame(F, index=idx, columns=cols),
                         x=pd.DataFrame(x, index=idx, columns=["indout"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io.calc_all()
        model = ARIOPsiModel(io)
        sim = Simulation(model, n_temporal_units_to_sim=365,
                         boario_output_dir=tempfile.mkdtemp(prefix="boario"))
        sim.add_event(boario.event.from_series(
            pd.Series({("JPN", target): 0.5}), event_type="arbitrary", occurrence=5,
            duration=60, recovery_tau=30, recovery_function="linear"))
        t0 = time.perf_counter()
        sim.loop()
        out["boario_year_s"] = time.perf_counter() - t0
    res = simulate_ario(table, ev, days=365, record=("production",))
    order = [s for _, s in sim.production_realised.columns]
    ours = res.production.sel(sector=order).values
    out["max_rel_diff_vs_boario"] = float(np.max(np.abs(ours / sim.production_realised.values
                                                         - 1)))
    return out


def batch(S: int) -> dict:
    from simcore.dynamic.ario import prepare_ario, simulate_ario_batch

    table = _japan()
    prep = prepare_ario(table)
    labels = prep.labels
    days = 365
    rng = np.random.default_rng(0)
    ind = rng.integers(0, len(labels), S)
    cols = sorted(set(ind.tolist()))
    pos = {c: j for j, c in enumerate(cols)}
    delta = np.zeros((S, days, len(cols)))
    for s in range(S):
        delta[s, 5:5 + rng.integers(30, 90), pos[ind[s]]] = rng.uniform(0.5, 1.0)
    inds = [labels[c] for c in cols]
    simulate_ario_batch(prep, delta[:2, :20], industries=inds)
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate_ario_batch(prep, delta, industries=inds)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    import numba

    loss = 1 - res.aggregate_value_added.sum("time") / (res.baseline_value_added.sum() * days)
    return {"scenarios": S, "threads": numba.get_num_threads(), "wall_s": wall, "cpu_s": cpu,
            "median_gdp_loss_share": float(loss.median())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-boario", action="store_true")
    ap.add_argument("--quick", action="store_true", help="100 scenarios instead of 1,000")
    ap.add_argument("--child", choices=["compile", "make-mrio", "mrio"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        out = {"compile": child_compile, "make-mrio": lambda: child_make_mrio(a.path),
               "mrio": lambda: child_mrio(a.path)}[a.child]()
        print(json.dumps(out))
        return
    env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="numba-cache-"))

    def child(kind: str, env=None, path=None) -> dict:
        cmd = [sys.executable, __file__, "--child", kind] + (["--path", path] if path else [])
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    results = {"compile (empty numba cache)": child("compile", env)}
    results["japan-185 one year"] = japan(not a.no_boario)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mrio3000.npz")
        child("make-mrio", path=path)
        results["mrio-3000 one year"] = child("mrio", path=path)
    results["batch japan-185"] = batch(100 if a.quick else 1000)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
