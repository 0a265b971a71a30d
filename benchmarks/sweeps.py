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
  ``1 - rate(dask, w) / rate(local, w threads)``;
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

``cpu_count`` and the 1-minute load average are reported: on a shared machine the rates
are lower bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


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
    out: dict = {"cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
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
    out: dict = {"cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
                 "sectors": base.prepared().n, "prepare_s": time.perf_counter() - t0,
                 "scenarios": a.n, "days": 365}
    sc.sweep(base, **_design(8), days=365, progress=False)  # compile / load the cache

    def rate(**kw) -> float:
        chunk = min(a.chunk, max(1, a.n // max(1, kw.get("workers") or 1)))
        t = time.perf_counter()
        sc.sweep(base, **_design(a.n, seed=1), days=365, chunk_size=chunk, progress=False, **kw)
        return a.n / (time.perf_counter() - t)

    for w in (1, 2):
        out[f"local_{w}"] = rate(workers=w)
    out["local_efficiency"] = out["local_2"] / (2 * out["local_1"])
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
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
