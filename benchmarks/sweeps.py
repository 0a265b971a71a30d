"""Sweep throughput on Japan-185: scenario-years per second, local and Dask, and the time of
a 10,000-scenario Latin-hypercube sweep of the Nomura (Kiuchi 2025, 3-month) case.

Run ``python benchmarks/sweeps.py`` (``--n 1000`` scenarios per throughput run,
``--nomura 10000`` for the big sweep, ``--quick`` for 200 and 1,000).  Prints one JSON
object.  What is measured:

* the case: ``kiuchi-2025-3m`` (Japan's 2015 185-sector table with rare earths and magnets
  carved out: 187 sectors), a Latin hypercube over the China share of the rare-earth and
  magnet cuts and the dependency scale, a fixed horizon of 365 days (so one scenario is one
  scenario-year);
* ``local_1`` / ``local_2``: the local engine with 1 and 2 numba threads (wall time of
  ``simcore.sweep``, lowering and assembly included, compilation excluded by a warm-up);
* ``dask_1`` / ``dask_2``: a LocalCluster of 1 and 2 single-threaded worker processes
  (started before the clock; the table scatter, the tasks and the transfers are timed),
  ``chunk_size`` 1,000 (``--chunk``) or less so each worker gets a chunk;
* scaling efficiency ``rate(2) / (2 rate(1))`` for both executors, and the Dask overhead
  ``1 - rate(dask, w) / rate(local, w threads)``; for the local executor also the process's
  CPU time per scenario-year (``local_1_cpu_ms``, ``local_2_cpu_ms``) and their ratio
  ``local_cpu_efficiency``, which the machine's other load does not change (on a loaded
  machine the second thread may find no free core: then ``local_efficiency`` says so,
  not simcore);
* ``nomura``: ``--nomura`` scenarios of the same design with the scenario's own horizon
  ('auto': 91.25 + 365 days, doubled where output is not back at baseline), local engine,
  all cores, streamed to a temporary directory.

``--ario`` measures instead the ARIO engine's sweeps (``--ario-n`` points, default 64):
a scenario of Japan's 185-sector table on the ARIO engine (a capacity loss of one sector
and a final-demand drop of another, 365 days), a Latin hypercube over both sizes and the
inventory threshold ``psi``, run by ``simcore.sweep`` (the points in batches of the ARIO
kernel, ``simcore.run.run_ario_batch``) and, in the same process, point by point as
``Scenario.run`` (how sweeps ran ARIO points before); both warmed up first.  Reported:
``ario_batch_s``, ``ario_point_s`` (each the best of ``--repeat`` alternated runs), their
ratio ``ario_speedup`` (point by point / batch), numba's thread count and the largest
relative difference of the totals (0 expected: the same numbers).

* ``kernel_1``: the bound of the local rates: the first four blocks of
  :data:`simcore.dynamic.batch.LANES` points of the same design (``--n`` points, the same
  seed) in the lane kernel alone (``simcore.dynamic._lanes.run_block``, one core), as
  scenario-years per second; ``local_2 / (2 kernel_1)`` (``local_2_of_kernel_bound``) is
  how close the sweep on two threads comes to two cores of kernel, the rest being
  lowering, the up-front check, result assembly and the machine's other load.

``--write`` stores the record in ``benchmarks/results/sweeps-latest.json`` (with
``date_utc``, the command and the machine), which docs/sweeps.md and the performance page
show.  ``cpu_count`` and the 1-minute load average are reported: on a shared machine the
rates are lower bounds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def _design(n: int, seed: int = 0) -> dict:
    return dict(ranges={"shocks.0.share": (0.3, 1.0), "shocks.1.share": (0.3, 1.0),
                        "model.dependency_scale": (0.3, 1.2)},
                method="lhs", samples=n, seed=seed)


ARIO_SCENARIO = {
    "schema": 1, "name": "ario-bench", "table": {"dataset": "japan-2015-185"},
    "shocks": [{"kind": "capacity_loss", "sector": "2711", "share": 0.3, "start": 10,
                "duration": 60},
               {"kind": "demand_change", "sector": "1111", "change": -0.2, "start": 0,
                "duration": 30}],
    "model": {"engine": "ario", "ario": {"boario_compat": False}},
    "horizon": {"days": 365},
}


def _ario_design(n: int, seed: int = 0) -> dict:
    return dict(ranges={"shocks.0.share": (0.1, 0.6), "shocks.1.change": (-0.4, 0.0),
                        "model.ario.psi": (0.6, 1.0)}, method="lhs", samples=n, seed=seed)


def ario(n: int, repeat: int = 3) -> dict:
    """Batch vs point by point on the ARIO engine (see the module docstring)."""
    import numpy as np

    import simcore as sc
    from simcore.scenario import load
    from simcore.sweeps import make_design

    base = load(ARIO_SCENARIO)
    out: dict = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
                     "%Y-%m-%d %H:%M UTC"),
                 "cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
                 "ario_scenarios": n, "days": 365}
    t0 = time.perf_counter()
    base.ario_table(base.params())
    out["ario_prepare_s"] = time.perf_counter() - t0
    sc.sweep(base, **_ario_design(4), progress=False)  # compile, warm the caches
    design = make_design(base, None, None, **_ario_design(n, seed=1))
    points = [design.point(i) for i in range(design.size)]
    base.run(**points[0])
    tb, tp = [], []
    for _ in range(repeat):  # alternated, best of each (a shared machine is noisy)
        t = time.perf_counter()
        res = sc.sweep(base, **_ario_design(n, seed=1), progress=False)
        tb.append(time.perf_counter() - t)
        t = time.perf_counter()
        one = [float(base.run(**pt).gdp_loss_total) for pt in points]
        tp.append(time.perf_counter() - t)
    out["ario_repeat"] = repeat
    out["ario_batch_s"], out["ario_point_s"] = min(tb), min(tp)
    out["ario_speedup"] = out["ario_point_s"] / out["ario_batch_s"]
    import numba

    out["numba_threads"] = numba.get_num_threads()
    got = res.gdp_loss_total.values.ravel()
    out["ario_max_rel_diff"] = float(np.max(np.abs(got - one) / np.abs(one)))
    print(json.dumps(out, indent=1))
    return out


def _cpu_s() -> float:
    """User and system CPU seconds of this process so far (every thread)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _machine() -> str:
    """CPU model, cores and memory, as the record's ``machine``."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")))
        mem = f", {kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{os.cpu_count()} cores ({model}){mem}"


def _kernel_rate(sc, base, n: int, seed: int = 1, blocks: int = 4) -> tuple[float, int]:
    """Scenario-years per second of the lane kernel alone on one core: the first ``blocks``
    lane blocks (``LANES`` points each) of the very design the rates run (``n`` points,
    ``seed``), each run once after a warm-up.  The bound is taken on the same points as the rates
    (a block's time could depend on them; measured on 2026-12-02, the 31 full blocks of the
    1,000-point design ran within 6.3 to 7.0 ms per lane-year and the one block of a
    32-point design at 6.6: it does not, measurably, for this design)."""
    from simcore.dynamic import _lanes as ln
    from simcore.dynamic._bundles import cycle_max
    from simcore.dynamic import batch as bt

    grab: list = []
    real = bt._ln.run_lanes
    bt._ln.run_lanes = lambda *a, **k: grab.append(a)
    try:
        sc.sweep(base, **_design(n, seed=seed), days=365, chunk_size=n, progress=False,
                 workers=1)
    finally:
        bt._ln.run_lanes = real
    calls = [(st.colptr, st.rowidx, st.sigma, st.sp_pos, st.sp_idx, st.cap_idx, st.dem_idx,
              int(st.ration[0]), *[x[0] for x in tab], *[x[0] for x in scn],
              *[x[0] for x in out[:-1]], cycle_max(), out.skipped[:1])
             for st, tab, scn, out in grab
             if tab.A.shape[2] == bt.LANES][:blocks]
    ln.run_block(*calls[0])  # warm-up
    t = time.perf_counter()
    for args in calls:
        ln.run_block(*args)
    return len(calls) * bt.LANES / (time.perf_counter() - t), bt.LANES


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--nomura", type=int, default=10000)
    ap.add_argument("--chunk", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--ario", action="store_true", help="the ARIO engine's sweeps only")
    ap.add_argument("--ario-n", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3, help="--ario: best of this many runs")
    ap.add_argument("--write", action="store_true",
                    help="also write benchmarks/results/sweeps-latest.json (read by the docs)")
    a = ap.parse_args(argv)
    if a.ario:
        return ario(a.ario_n, a.repeat)
    if a.quick:
        a.n, a.nomura = 200, 1000
    import simcore as sc
    from simcore.scenario import load

    base = load("kiuchi-2025-3m")
    t0 = time.perf_counter()
    base.prepared()
    out: dict = {"date_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
                     "%Y-%m-%d %H:%M UTC"),
                 "command": "python benchmarks/sweeps.py " + " ".join(
                     argv if argv is not None else sys.argv[1:]),
                 "machine": _machine(),
                 "cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
                 "sectors": base.prepared().n, "prepare_s": time.perf_counter() - t0,
                 "scenarios": a.n, "days": 365}
    sc.sweep(base, **_design(8), days=365, progress=False)  # compile / load the cache

    def rate(key=None, **kw) -> float:
        chunk = min(a.chunk, max(1, a.n // max(1, kw.get("workers") or 1)))
        c = _cpu_s()
        t = time.perf_counter()
        sc.sweep(base, **_design(a.n, seed=1), days=365, chunk_size=chunk, progress=False, **kw)
        wall = time.perf_counter() - t
        if key:  # this process's CPU time (all its threads) per scenario-year
            out[f"{key}_cpu_ms"] = 1e3 * (_cpu_s() - c) / a.n
        return a.n / wall

    out["kernel_1"], out["lanes"] = _kernel_rate(sc, base, a.n)
    for w in (1, 2):
        out[f"local_{w}"] = rate(f"local_{w}", workers=w)
    out["local_efficiency"] = out["local_2"] / (2 * out["local_1"])
    # independent of the machine's other load: the CPU time a scenario-year takes on two
    # threads against one (1: no parallel overhead)
    out["local_cpu_efficiency"] = out["local_1_cpu_ms"] / out["local_2_cpu_ms"]
    out["local_2_of_kernel_bound"] = out["local_2"] / (2 * out["kernel_1"])
    if not a.no_dask:
        from distributed import Client, LocalCluster

        for w in (1, 2):
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                              dashboard_address=None) as lc, Client(lc) as client:
                sc.sweep(base, **_design(2 * w), days=365, executor="dask", client=client,
                         chunk_size=1, progress=False)  # workers import and load the cache
                out[f"dask_{w}"] = rate(executor="dask", client=client, workers=w)
            out[f"dask_overhead_{w}"] = 1 - out[f"dask_{w}"] / out[f"local_{w}"]
        out["dask_efficiency"] = out["dask_2"] / (2 * out["dask_1"])
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res = sc.sweep(base, **_design(a.nomura, seed=2), out=os.path.join(d, "nomura"),
                       chunk_size=min(1000, a.nomura), progress=None)
        out["nomura_scenarios"] = a.nomura
        out["nomura_s"] = time.perf_counter() - t
        out["nomura_mean_days"] = float(res.days.mean())
        out["nomura_loss_bn_yen_p5_p50_p95"] = [
            float(v) / 1e9 for v in res.gdp_loss_total_jpy.quantile([0.05, 0.5, 0.95])]
    out["load_1min_end"] = os.getloadavg()[0]
    out["unit"] = "scenario-years per second (365-day scenarios); nomura_s in seconds"
    print(json.dumps(out, indent=1))
    if a.write:
        f = Path(__file__).resolve().parent / "results" / "sweeps-latest.json"
        f.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
