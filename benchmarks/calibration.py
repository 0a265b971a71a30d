"""Cost of the Bayesian calibration and of posterior bands, as multiples of one engine run
of the same case.

Run ``python benchmarks/calibration.py`` (``--draws 200``; ``--rebuild`` also times a full
rebuild of the posterior into a temporary file, several minutes; ``--quick`` uses 20
draws; ``--write`` stores the result in ``benchmarks/results/calibration.json``, which
``docs/calibration.md`` shows, with its ``date_utc``).  Prints one JSON object.  What is measured (wall time, compilation excluded by a
warm-up; ``cpu_count`` and the load average are reported: on a shared machine the
multiples are what this machine gave):

* ``engine_run_12m_s``: one ``Scenario.run`` of ``kiuchi-2025-12m`` (its 'auto' horizon);
* ``bands_s``: ``simcore.calibrate.run_bands("kiuchi-2025-12m", draws)`` -- the draws in
  one batched ``run_lowered`` call -- and ``bands_multiple`` = ``bands_s`` over one run;
  the draws differ in China's share of magnet imports (different lowered tables, one
  structure), so they share the lanes of the batch kernel (``kernel_calls``, counted);
* ``calibration_*``: from the shipped posterior's record (``extra``): the engine runs of
  the surrogate designs and held-back checks, the sampling time, and both as multiples of
  one run of each target's case (``kiuchi-2025-3m`` and the onset run of 200 days);
  with ``--rebuild`` the same measured afresh.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
from pathlib import Path


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--write", action="store_true",
                    help="also write benchmarks/results/calibration.json (read by the docs)")
    a = ap.parse_args(argv)
    if a.quick:
        a.draws = 20
    import numpy as np

    from simcore import calibrate
    from simcore.scenario import load

    post = calibrate.load_posterior()
    k12 = load("kiuchi-2025-12m")
    k12.run()  # warm-up: table, compilation
    one12 = _time(k12.run)
    k3 = load("kiuchi-2025-3m")
    k3.run()
    one3 = _time(k3.run)
    prob = post.problem
    onset = prob.targets[1]
    _, ps = prob.sub(onset)
    x = np.array([[float(p.ppf(0.5)) for p in ps]])
    calibrate.engine_values(onset, ps, x)
    one_onset = _time(lambda: calibrate.engine_values(onset, ps, x))
    calibrate.run_bands(k12, 2, posterior=post)  # warm-up of the batch path
    # kernel calls: counted as they happen (the draws share lanes when their lowered
    # tables share a structure, simcore.dynamic.batch.lane_key)
    from simcore.dynamic import batch as _batch

    real = _batch._ln.run_lanes
    calls = [0]

    def counted(*args):
        calls[0] += 1
        return real(*args)

    _batch._ln.run_lanes = counted
    try:
        t0 = time.perf_counter()
        calibrate.run_bands(k12, a.draws, posterior=post)
        bands_s = time.perf_counter() - t0
    finally:
        _batch._ln.run_lanes = real
    ex = post.extra
    n3 = prob.training[prob.targets[0].id]["U"].shape[0] + \
        prob.training[prob.targets[0].id]["Xv"].shape[0]
    n_on = ex["engine_runs"] - n3
    out = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0],
        "engine_run_12m_s": one12, "engine_run_3m_s": one3, "engine_run_onset_s": one_onset,
        "draws": a.draws, "bands_s": bands_s, "bands_multiple": bands_s / one12,
        "kernel_calls": calls[0],
        "calibration_engine_runs": ex["engine_runs"],
        "calibration_engine_s": ex["engine_seconds"],
        "calibration_sampling_s": ex["sampling_seconds"],
        "calibration_engine_run_equivalents": n3 + n_on * one_onset / one3,
        "calibration_multiple_of_3m_run": (ex["engine_seconds"] + ex["sampling_seconds"]) / one3,
        "recorded_with": "the shipped posterior's record (machine of the rebuild)",
    }
    if a.rebuild:
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            calibrate.rebuild(Path(d) / "post.nc", progress=None)
            out["rebuild_s"] = time.perf_counter() - t0
            out["rebuild_multiple_of_3m_run"] = out["rebuild_s"] / one3
    print(json.dumps(out, indent=1))
    if a.write:
        f = Path(__file__).resolve().parent / "results" / "calibration.json"
        f.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
