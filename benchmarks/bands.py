"""Accuracy of the bands' posterior draws on the engine: stratified against random draws.

``simcore reproduce`` gives each reference figure a median and 90 % band over
``simcore.references.BAND_DRAWS`` posterior draws, chosen by
``Posterior.stratified_draws`` (one draw from each of n strata of the samples ordered by
the calibration's interpolated 3-month loss).  How close do n draws come to the band of the
whole posterior?  This script runs ``kiuchi-2025-3m`` and ``kiuchi-2025-12m`` over *every*
sample of the shipped posterior (4,000; one batched engine call per scenario, the same
path as the bands, about 40 s on 2 cores), takes the band over all of them as the truth,
then draws n of those engine results ``--repeats`` times, as ``run_bands`` would draw them
(``Posterior.stratified_indices`` and ``Posterior.draw_indices``: the package's own
choice of draws), and reports how far the band of the draws falls from the truth:

* ``total``: the relative RMSE and bias, in %, of the low end, median and high end of the
  band of the GDP loss (``gdp_loss_total``; the share of GDP is the same figure divided by
  a constant);
* ``sectors``: for the 12 sectors with the largest median value-added loss, the RMSE of
  each end of each sector's band as a share of that sector's true band width: the mean
  over the 12 sectors and the largest (with its sector).

Each draw's engine figures equal its own scenario run's, bit for bit
(tests/test_batch_bands.py), so drawing from the stored results is drawing runs.

Run ``python benchmarks/bands.py`` (``--write`` stores ``benchmarks/results/bands.json``,
which ``docs/calibration.md`` shows; ``--quick``: the first 400 samples as the posterior
and 100 repeats, the smoke run of the tests).  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RECORD = HERE / "results" / "bands.json"
SCENARIOS = ("kiuchi-2025-3m", "kiuchi-2025-12m")
#: (sampling, draws) measured; the shipped count (references.BAND_DRAWS) is added
CASES = (("random", 32), ("random", 100), ("random", 400),
         ("stratified", 16), ("stratified", 32), ("stratified", 64))
TOP_SECTORS = 12


def _population(post, name: str) -> dict:
    """Every sample's engine figures (rows in the order of ``post.samples``)."""
    from simcore import calibrate

    m = post.samples.shape[0]
    t0 = time.perf_counter()
    ds = calibrate.run_bands(name, m, posterior=post, seed=0, sampling="stratified")
    secs = time.perf_counter() - t0
    # n = m: every sample once, in the order of its stratum (its key); put them back
    order = post.stratified_indices(m, 0)
    assert sorted(order.tolist()) == list(range(m))
    tot = np.empty(m)
    va = np.empty((m, ds.sizes["sector"]))
    tot[order] = ds["gdp_loss_total"].values
    va[order] = ds["value_added_loss"].values
    return {"total": tot, "va": va, "sectors": [str(s) for s in ds["sector"].values],
            "seconds": secs}


def _measure(post, pop: dict, sampling: str, n: int, repeats: int, level: float) -> dict:
    from simcore import calibrate

    pick = post.stratified_indices if sampling == "stratified" else post.draw_indices
    tot, va = pop["total"], pop["va"]
    top = np.argsort(-np.median(va, axis=0), kind="stable")[:TOP_SECTORS]
    true_t = np.array(calibrate.band(tot, level))
    true_s = np.array(calibrate.band(va[:, top], level, axis=0))  # (3, TOP)
    width = true_s[2] - true_s[0]
    est_t = np.empty((repeats, 3))
    est_s = np.empty((repeats, 3, top.size))
    for r in range(repeats):
        idx = pick(n, r)
        est_t[r] = calibrate.band(tot[idx], level)
        est_s[r] = calibrate.band(va[idx][:, top], level, axis=0)
    rmse_t = np.sqrt(((est_t - true_t) ** 2).mean(0)) / true_t * 100
    bias_t = (est_t.mean(0) - true_t) / true_t * 100
    rel_s = np.sqrt(((est_s - true_s) ** 2).mean(0)) / width  # (3, TOP)
    worst = rel_s.max(axis=1)
    return {"sampling": sampling, "draws": n,
            "total_rmse_pct": [round(float(x), 3) for x in rmse_t],
            "total_bias_pct": [round(float(x), 3) for x in bias_t],
            "sector_rmse_of_width_mean": [round(float(x), 4) for x in rel_s.mean(axis=1)],
            "sector_rmse_of_width_max": [round(float(x), 4) for x in worst],
            "sector_worst": [pop["sectors"][top[int(j)]] for j in rel_s.argmax(axis=1)]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write", action="store_true",
                    help="also write benchmarks/results/bands.json (read by the docs)")
    a = ap.parse_args(argv)
    from simcore import __version__, calibrate, references

    post = calibrate.load_posterior()
    if a.quick:
        a.repeats = min(a.repeats, 100)
        post = dataclasses.replace(post, samples=post.samples[:400],
                                   log_posterior=post.log_posterior[:400], _key=None)
    cases = sorted(set(CASES) | {("stratified", references.BAND_DRAWS)},
                   key=lambda c: (c[0] != "random", c[1]))
    out: dict = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "simcore_version": __version__, "quick": a.quick, "repeats": a.repeats,
        "level": 0.9, "samples": int(post.samples.shape[0]),
        "band_draws": references.BAND_DRAWS, "strata_target": calibrate.STRATA_TARGET,
        "quantiles": calibrate.BAND_METHOD,
        "posterior_sha256": hashlib.sha256(calibrate.POSTERIOR_FILE.read_bytes()).hexdigest(),
        "cpu_count": os.cpu_count(), "command": "python benchmarks/bands.py --write",
        "scenarios": {},
    }
    for name in SCENARIOS:
        pop = _population(post, name)
        true = calibrate.band(pop["total"], 0.9)
        out["scenarios"][name] = {
            "engine_seconds": round(pop["seconds"], 2),
            "truth_total": [float(x) for x in true],
            "cases": [_measure(post, pop, s, n, a.repeats, 0.9) for s, n in cases]}
    if a.write:
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        tmp = RECORD.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(out, indent=1) + "\n")
        os.replace(tmp, RECORD)
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
