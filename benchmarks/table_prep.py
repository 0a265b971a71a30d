"""Table preparation against the rest of ``simcore run kiuchi-2025-3m`` (issue 14).

Each measurement is a fresh process with numba's on-disk cache warm (one unmeasured run of
each source tree first) that runs ``simcore run kiuchi-2025-3m --json`` through
``simcore.cli.main`` and records:

* ``total_s``: the wall time of ``main`` (import time excluded);
* ``table_s``: the time inside the scenario's table preparation, the outermost calls of
  ``Scenario.table`` and ``Scenario.prepared`` (dataset, carve-out, rescaling, lowering for
  the engine), nested calls counted once;
* ``rest_s = total_s - table_s`` and ``table_share = table_s / total_s``;
* how often the run built a labelled table (``tables.from_arrays``), validated one
  (``tables.validate``) and flattened one (``tables.flat``), counted wherever a module of
  simcore holds the function (calls inside ``simcore.tables`` included).

and, in the same process after that first run, the same run again with every process cache
of tables dropped (``warm_*``: the numba kernels and imports already loaded, so table
preparation is set against the engine alone).

``--before REV`` measures the git revision ``REV`` too (extracted with ``git archive`` into
a temporary folder and imported from there), interleaved round by round with the working
tree, so the two are compared under the same load.  Timings on a shared machine are noisy:
compare ratios of one run only.

Usage::

    python benchmarks/table_prep.py                          # text
    python benchmarks/table_prep.py --before 179e7d2 --write # results/table_prep.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Issue 14: "table preparation at most a third of its time now": the warm table preparation
#: at most a third of its time at the revision the issue was measured on (``--before``).
TARGET_RATIO = 1 / 3

PROBE = r'''
import collections, contextlib, io, json, sys, time
import simcore, simcore.tables as T
counts = collections.Counter()
import simcore.scenario as S, simcore.cli  # every module of the run imported
def counted(name):
    # the function wherever a module holds it (``from .checks import validate`` too)
    f = getattr(T, name)
    def g(*a, **k):
        counts[name] += 1
        return f(*a, **k)
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("simcore"):
            for attr, v in list(vars(mod).items()):
                if v is f:
                    setattr(mod, attr, g)
for name in ("from_arrays", "validate", "flat"):
    counted(name)
spent = [0.0]
depth = [0]
def timed(fn):
    def g(*a, **k):
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spent[0] += time.perf_counter() - t0
    return g
S.Scenario.table = timed(S.Scenario.table)
S.Scenario.prepared = timed(S.Scenario.prepared)
from simcore.cli import main
def one():
    spent[0] = 0.0
    counts.clear()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["run", "kiuchi-2025-3m", "--json"])
    return rc, time.perf_counter() - t0, spent[0], dict(counts)
rc, total, table, c = one()
for cache in ("_TABLES", "_PREPARED"):
    getattr(S, cache, {}).clear()
S._cached_spec.cache_clear()
import simcore.datasets as D
D._load_cached.cache_clear()
rc2, wtotal, wtable, wc = one()
print(json.dumps({"file": simcore.__file__, "rc": [rc, rc2], "total_s": total,
                  "table_s": table, "counts": c, "warm_total_s": wtotal,
                  "warm_table_s": wtable, "warm_counts": wc}))
'''


def probe(tree: Path) -> dict:
    # bytecode caching allowed, as in an installed package (benchmarks/startup.py)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                       cwd=tempfile.gettempdir())
    if p.returncode != 0:
        raise RuntimeError(f"probe failed for {tree}:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if not out["file"].startswith(str(tree)):
        raise RuntimeError(f"the probe imported {out['file']}, not the tree {tree}")
    return out


def extract(rev: str, dest: Path) -> Path:
    """The package of revision ``rev`` (``git archive``) under ``dest``."""
    arch = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "simcore", "scenarios"],
                          capture_output=True, check=True).stdout
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arch, check=True)
    return dest


def summary(rows: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in rows)
           for k in ("total_s", "table_s", "warm_total_s", "warm_table_s")}
    return {
        "median_s": med,
        "table_share": med["table_s"] / med["total_s"],
        "rest_s": med["total_s"] - med["table_s"],
        "warm_table_share": med["warm_table_s"] / med["warm_total_s"],
        "warm_rest_s": med["warm_total_s"] - med["warm_table_s"],
        "counts": rows[0]["counts"],
        "warm_counts": rows[0]["warm_counts"],
        "runs": rows,
    }


def measure(rounds: int, before: str | None) -> dict:
    trees = {"now": ROOT}
    tmp = None
    if before:
        tmp = Path(tempfile.mkdtemp(prefix="simcore-before-"))
        trees["before"] = extract(before, tmp)
    try:
        for t in trees.values():  # numba's cache for each tree, the OS file cache
            probe(t)
        rows: dict[str, list[dict]] = {k: [] for k in trees}
        for _ in range(rounds):
            for k, t in trees.items():
                rows[k].append(probe(t))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    res = {k: summary(v) for k, v in rows.items()}
    out = {"case": "simcore run kiuchi-2025-3m --json", "rounds": rounds,
           "before_rev": before, "results": res,
           "cores": os.cpu_count(), "python": platform.python_version(),
           "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if before:
        out["table_s_ratio_now_to_before"] = (res["now"]["median_s"]["table_s"]
                                              / res["before"]["median_s"]["table_s"])
        out["warm_table_s_ratio_now_to_before"] = (res["now"]["median_s"]["warm_table_s"]
                                                   / res["before"]["median_s"]["warm_table_s"])
        # issue 14: the warm table preparation at most a third of its time at --before
        out["target_warm_table_s_ratio"] = TARGET_RATIO
        out["met"] = out["warm_table_s_ratio_now_to_before"] <= TARGET_RATIO
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--before", metavar="REV", help="also measure this git revision")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", action="store_true", help="write results/table_prep.json")
    a = ap.parse_args(argv)
    res = measure(a.rounds, a.before)
    if a.write:
        (HERE / "results" / "table_prep.json").write_text(json.dumps(res, indent=1) + "\n")
    if a.json:
        print(json.dumps(res))
        return 0
    for k, r in res["results"].items():
        m = r["median_s"]
        print(f"{k:7s} fresh process: table {m['table_s']:.3f} s of {m['total_s']:.3f} s "
              f"({100 * r['table_share']:.0f} %); warm process: table {m['warm_table_s']:.3f} s "
              f"of {m['warm_total_s']:.3f} s ({100 * r['warm_table_share']:.0f} %); "
              f"from_arrays/validate/flat: {r['counts'].get('from_arrays', 0)}/"
              f"{r['counts'].get('validate', 0)}/{r['counts'].get('flat', 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
