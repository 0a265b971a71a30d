"""The supply-chain engine on multi-regional tables against BoARIO, in one run (not in CI).

```bash
python benchmarks/mrio.py                                   # 49 x 200 and 15 x 200, one year
python benchmarks/mrio.py --tables synthetic-R15x200 --boario-days 8
python benchmarks/mrio.py --write                           # also results/mrio-latest.json
```

For each table (``_cases.load_table`` names: the seeded synthetic MRIOs of
``benchmarks/_cases.py``, 20 % of the coefficients non-zero) the same capacity event as the
ARIO cases (``_cases.EVENT``: 50 % of one industry's capacity from day 5 for 60 days,
linear recovery over 30) runs

* in simcore's supply-chain engine (``simcore.simulate`` on the labelled multi-regional
  table, default ``DynamicParams``, ``record=()``) for a year, in a child process, after a
  warm-up that loads or compiles the kernel; the time includes lowering the table;
* in BoARIO 0.6.3 (``ARIOPsiModel``, ``_cases.run_boario``) for ``--boario-days`` days,
  scaled to a year as ``setup + loop x 365 / days`` (BoARIO takes about half an hour for a
  year of the 49 x 200 table: benchmarks/results/latest.json).

Peak memory is the peak RSS of the run above the child's RSS after imports, kernels and
the loaded table (``_cases._finish``).  The machine is shared: only the ratio of the two
engines measured in the same run means anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _cases  # noqa: E402
from _cases import event_for, load_table, reset_peak, rss_mb, target_industry  # noqa: E402

RESULTS = HERE / "results" / "mrio-latest.json"


def run_mrio(spec: dict) -> dict:
    t0 = time.perf_counter()
    import numpy as np

    import simcore as sc
    t_imp = time.perf_counter() - t0
    t0 = time.perf_counter()
    tiny = sc.tables.from_arrays(np.array([[1.0, 1.0], [1.0, 1.0]]), [[5.0, 0.0], [0.0, 5.0]],
                                 [[5.0, 5.0]], sectors=["a"], regions=["r1", "r2"])
    sc.simulate(tiny, sc.CapacityShock(sector="r1/a", share=0.5, duration=2), days=5)
    compile_s = time.perf_counter() - t0
    table = load_table(spec["table"])
    days = spec["days"]
    have = reset_peak()
    base = rss_mb()[0]
    tgt, _ = target_industry(table)
    tgt = "/".join(tgt) if isinstance(tgt, tuple) else tgt
    e = event_for(days)
    shock = sc.CapacityShock(sector=tgt, share=e["share"], start=e["occurrence"],
                             duration=e["duration"], profile="linear_recovery",
                             recovery_days=e["recovery_tau"])
    t0 = time.perf_counter()
    prep = sc.dynamic.mrio.prepare_mrio(table)
    prepare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sc.simulate(prep, shock, days=days, record=())
    run_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "import_s": t_imp, "compile_s": compile_s, "prepare_s": prepare_s, "run_s": run_s,
        "best_s": prepare_s + run_s, "cells": int(prep.cA.size), "legs": int(prep.lsup.size),
        "p": prep.n, "gdp_loss_total": float(res.gdp_loss_total),
        "finite": bool(np.isfinite(res.gdp_loss.values).all()),
    }
    return _cases._finish(out, base, have)


_cases.RUNNERS["mrio"] = run_mrio


def child(spec: dict, timeout: float) -> dict:
    import subprocess

    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@"):])
    return {"ok": False, "error": (proc.stderr or proc.stdout)[-800:]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", default="synthetic-R49x200,synthetic-R15x200")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--boario-days", type=int, default=4)
    ap.add_argument("--no-boario", action="store_true", help="simcore only")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.name}")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _cases.child_main(a.child)
        return
    cases = []
    for table in a.tables.split(","):
        print(f"{table}: simcore, {a.days} days ...", file=sys.stderr, flush=True)
        s = child({"runner": "mrio", "table": table, "days": a.days}, 3600)
        case: dict[str, Any] = {"table": table, "days": a.days, "simcore": s}
        if not a.no_boario:
            print(f"{table}: BoARIO, {a.boario_days} days ...", file=sys.stderr, flush=True)
            b = child({"runner": "boario", "table": table, "days": a.boario_days,
                       "repeat": 1}, 7200)
            b["days"] = a.boario_days
            case["boario"] = b
            if b.get("ok") and s.get("ok"):
                scaled = b["setup_s"] + b["loop_s"] * a.days / a.boario_days
                case["boario_scaled_s"] = scaled
                case["speedup"] = scaled / s["best_s"]
        cases.append(case)
        line = {k: v for k, v in case.items() if k not in ("simcore", "boario")}
        line.update({k: s.get(k) for k in ("best_s", "run_s", "prepare_s", "peak_mb", "cells",
                                           "legs", "ok", "error")})
        if "boario" in case:
            line["boario_peak_mb"] = case["boario"].get("peak_mb")
        print(json.dumps(line, default=float), flush=True)
    if a.write:
        RESULTS.write_text(json.dumps({"cases": cases}, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
