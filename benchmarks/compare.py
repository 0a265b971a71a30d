"""simcore against BoARIO 0.6.3, its own numpy reference and pymrio, in one run.

Usage::

    python benchmarks/compare.py                # full run (several minutes), text table
    python benchmarks/compare.py --quick        # smoke run (tiny cases, ~1 minute)
    python benchmarks/compare.py --json         # print {"cases": [...], ...} as JSON
    python benchmarks/compare.py --write        # full run, then write benchmarks/results/
                                                # latest.json, the plot and docs/performance.md
    python benchmarks/compare.py --from-json benchmarks/results/latest.json --write
                                                # regenerate plot and page from saved JSON

Cases (full run; ``--quick`` shrinks every one of them):

* ``ario/<table>``: one simulated year (365 daily steps) of simcore's ARIO engine
  (``simulate_ario`` on the labelled table: lowering + kernel + result assembly) against
  BoARIO 0.6.3 ``ARIOPsiModel`` (model construction + ``Simulation`` + ``loop``) and
  against simcore's numpy transcription of BoARIO (``_ario_reference``), same table, same
  event (50 % of one industry's capacity from day 5 for 60 days, linear recovery over 30).
  Tables: Japan-37 and Japan-185 after ``prepare_for_dynamics``, pymrio's test MRIO
  (6 x 8), seeded synthetic MRIOs of 1,000 (10 x 100), 3,000 (10 x 300) and 9,800
  (49 x 200) region-sectors.  Where a baseline is run for fewer days its time is scaled
  to a year (``baseline_scaled_from_days``; BoARIO: setup + loop x 365 / days).
* ``batch/japan-185/S``: ``simulate_ario_batch`` of S = 1, 100, 1,000 scenario-years
  against BoARIO run S times in a row (timed for a few runs, scaled).
* ``static/<op>/<table>``: Leontief inverse (``simcore.tables.leontief_inverse`` vs
  ``pymrio.calc_L(calc_A)``), output multipliers (``simcore.static.output_multipliers``, an
  LU solve, vs ``pymrio`` ``calc_all`` + column sums of ``L``) and a Leontief solve
  (``simcore.static.leontief`` vs ``calc_all`` + ``L @ dy``) at 3,000 and 9,800 sectors
  and on Japan-185.
* ``import/...`` (fresh interpreters), ``load/<dataset>`` (embedded tables, uncached),
  ``compile/ario`` (first calls with an empty numba cache).

Every engine runs in its own child process (see ``benchmarks/_cases.py``): wall times are
best of N runs (``perf_counter``), compile time is reported separately, and peak memory is
the peak RSS during the runs minus the RSS after imports, kernels and input table.  A case
whose baseline is not valid (non-finite output, crash, refused event) reports the failure
and no ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _cases  # noqa: E402

RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
PLOT = ROOT / "docs" / "images" / "performance-scaling.png"
PLOT_SC = ROOT / "docs" / "images" / "performance-supply-chain.png"
YEAR = 365


# --------------------------------------------------------------------------------------
# Plan
# --------------------------------------------------------------------------------------
def plan(quick: bool) -> dict[str, Any]:
    """What to run.  Table names are those of ``_cases.load_table``."""
    if quick:
        return {
            "days": 30,
            "ario": [  # (table, baselines {engine: days or None (skip)})
                ("japan-37", {"boario": 30, "reference": 30}),
                ("synthetic-R5x20", {"boario": 30, "reference": 30}),
            ],
            "batch_table": "japan-37", "batch": [(1, 1), (10, 2)],
            "static": [("synthetic-R5x20", ("inverse", "multipliers")),
                       ("japan-37", ("solve",))],
            # kept small: 7 child processes (the CI smoke test runs --quick)
            "sc": [("japan-37", {"boario": 30, "reference": 30, "probe": 30})],
            "sc_batch": [(4, 2, 1)], "sc_lanes": [1, 4],
            "imports": True, "loads": ["japan-2015-37"], "compile": False, "machine": False,
            "repeat": 3, "budget_s": 3, "timeout_s": 120,
        }
    return {
        "days": YEAR,
        "ario": [
            ("japan-37", {"boario": YEAR, "reference": YEAR}),
            ("japan-185", {"boario": YEAR, "reference": YEAR}),
            ("pymrio-test", {"boario": YEAR, "reference": YEAR}),
            ("synthetic-R10x100", {"boario": YEAR, "reference": 60}),
            ("synthetic-R10x300", {"boario": 24, "reference": 12}),
            ("synthetic-R49x200", {"boario": 4, "reference": None}),
        ],
        "batch_table": "japan-185", "batch": [(1, 1), (100, 3), (1000, 3)],
        "static": [("japan-185", ("inverse", "multipliers", "solve")),
                   ("synthetic-R10x300", ("inverse", "multipliers", "solve")),
                   ("synthetic-R49x200", ("inverse", "multipliers"))],
        # supply-chain engine: (table, {baseline: days or None}); batches (S, single runs
        # timed, BoARIO runs timed)
        "sc": [
            ("japan-37", {"boario": YEAR, "reference": YEAR, "probe": YEAR, "ario": YEAR}),
            ("japan-187", {"boario": YEAR, "reference": YEAR, "probe": YEAR, "ario": YEAR}),
            ("single-1000", {"boario": 60, "reference": 3, "probe": YEAR, "ario": YEAR}),
            ("single-3000", {"boario": 8, "reference": 1, "probe": YEAR, "ario": YEAR}),
        ],
        "sc_batch": [(1, 1, 1), (100, 20, 2), (1000, 20, 2)],
        # lane kernel: one block of L scenarios against run_one, one core
        "sc_lanes": [1, 2, 4, 8, 16, 32, 64],
        "imports": True, "loads": ["japan-2015-37", "japan-2015-185", "miller-blair-2.3"],
        "compile": True, "machine": True,
        "repeat": 5, "budget_s": 20, "timeout_s": 3000,
    }


def n_sectors(table: str) -> int:
    if table.startswith("single-"):
        return int(table.split("-")[1])
    return {"japan-37": 37, "japan-185": 185, "japan-187": 187, "pymrio-test": 48}.get(table) or (
        math.prod(int(v) for v in table.split("-R", 1)[1].split("x")))


# --------------------------------------------------------------------------------------
# Children
# --------------------------------------------------------------------------------------
def child(spec: dict, timeout: float, env: dict | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("@@RESULT@@"):
            out = json.loads(line[len("@@RESULT@@"):])
            out["child_wall_s"] = wall
            return out
    tail = (proc.stderr or proc.stdout)[-600:]
    return {"ok": False, "error": f"child exited with {proc.returncode}: {tail}"}


def import_time(mods: list[str]) -> float | None:
    """Seconds to import ``mods`` in a fresh interpreter (nothing else imported first)."""
    code = ("import time; t = time.perf_counter()\n"
            + "".join(f"import {m}\n" for m in mods)
            + "print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(ROOT))
    try:
        return float(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _valid(res: dict, days: int | None = None) -> str | None:
    """None if a run is valid, else why not."""
    if not res.get("ok"):
        return res.get("error", "failed").splitlines()[0][:300]
    if not res.get("finite", False):
        return "non-finite output (NaN/inf) or kernel failure"
    if days is not None:
        ev = _cases.event_for(days)
        if not ev["occurrence"] < days:
            return "event outside the horizon"
    return None


def _case(name: str, p: int, days: int | None, scenarios: int | None, s: dict,
          baseline: str, b: dict | None, *, b_days: int | None = None,
          scale: float = 1.0, note: str = "", skip: str | None = None) -> dict:
    """One JSON case: simcore run ``s`` against baseline run ``b`` (scaled by ``scale``)."""
    c: dict[str, Any] = {
        "name": name, "n_sectors": p, "days": days, "scenarios": scenarios,
        "simcore_s": None, "simcore_compile_s": s.get("compile_s"),
        "simcore_peak_mb": s.get("peak_mb"), "simcore_runs": s.get("n"),
        "simcore_prepared_s": s.get("prepared_best_s"),
        "baseline": baseline, "baseline_s": None, "baseline_peak_mb": None, "ratio": None,
        "status": "ok", "note": note,
    }
    err = _valid(s)
    if err:
        c["status"] = f"simcore failed: {err}"
    else:
        c["simcore_s"] = s["best_s"]
    if skip:
        c["status"] = f"baseline skipped: {skip}"
        return c
    if b is None:
        c["status"] = "no baseline" if not err else c["status"]
        return c
    berr = _valid(b, b_days)
    if berr:
        c["status"] = f"baseline failed: {berr}"
        c["baseline_peak_mb"] = b.get("peak_mb")
        return c
    if b_days is not None and b_days != days and "loop_s" in b:
        bs = b["setup_s"] + b["loop_s"] * (days / b_days)
        c["baseline_measured_s"] = b["best_s"]
    else:
        bs = b["best_s"] * scale
        if scale != 1.0:
            c["baseline_measured_s"] = b["best_s"]
    if b_days is not None and b_days != days:
        c["baseline_scaled_from_days"] = b_days
    c["baseline_s"] = bs
    c["baseline_peak_mb"] = b.get("peak_mb")
    c["baseline_runs"] = b.get("n")
    if c["simcore_s"] is not None and c["simcore_s"] > 0:
        c["ratio"] = bs / c["simcore_s"]
    return c


def _maxrel(a_path: str, b_path: str) -> float | None:
    import numpy as np

    try:
        a, b = np.load(a_path), np.load(b_path)
    except OSError:
        return None
    if a.ndim != b.ndim or a.shape[1:] != b.shape[1:]:
        return None
    T = min(a.shape[0], b.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(a[:T] / b[:T] - 1)
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else None


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------
def run(quick: bool, only: str | None = None) -> dict:
    P = plan(quick)
    R, to = P["repeat"], P["timeout_s"]
    cases: list[dict] = []
    tmp = tempfile.mkdtemp(prefix="simcore-compare-")
    t_start = time.perf_counter()

    def want(name: str) -> bool:
        return only is None or only in name

    # imports and loads -----------------------------------------------------------------
    if P["imports"] and want("import"):
        deps = ["numpy", "pandas", "xarray", "scipy"]
        lines = {}
        for mods in (["simcore"], ["simcore", "simcore.dynamic.ario"], deps, ["numba"],
                     ["pymrio"], ["boario"]):
            best = None
            for _ in range(1 if quick else 5):
                t = import_time(mods)
                if t is not None:
                    best = t if best is None else min(best, t)
            lines["+".join(mods)] = best
        log(f"imports: {lines}")
        base = {"ok": True, "finite": lines["+".join(deps)] is not None,
                "best_s": lines["+".join(deps)], "n": 1 if quick else 3}
        s = {"ok": lines["simcore"] is not None, "finite": True, "best_s": lines["simcore"],
             "n": 1 if quick else 3}
        c = _case("import/simcore", 0, None, None, s, "import numpy+pandas+xarray+scipy", base,
                  note="fresh interpreter each; simcore imports its dependencies lazily")
        c["imports_s"] = lines
        cases.append(c)
    for ds in P["loads"]:
        if not want(f"load/{ds}"):
            continue
        r = child({"runner": "load", "dataset": ds}, to)
        cases.append(_case(f"load/{ds}", r.get("p", 0), None, None, r, "none", None,
                           note="datasets.load with its cache cleared (file read + "
                                "from_arrays)"))
        log(f"load {ds}: {r.get('best_s')}")
    if P["compile"] and want("compile"):
        env = dict(os.environ, NUMBA_CACHE_DIR=tempfile.mkdtemp(prefix="numba-cold-"))
        r = child({"runner": "compile"}, to, env=env)
        c = _case("compile/ario", 2, 5, None, r, "none", None,
                  note="first simulate_ario + first simulate_ario_batch, empty numba cache")
        c["simcore_compile_s"] = r.get("best_s")
        c["details"] = {k: r.get(k) for k in ("simulate_s", "batch_s", "second_call_s")}
        cases.append(c)
        log(f"compile: {r.get('best_s')}")

    # ARIO single runs ------------------------------------------------------------------
    # One core each: simulate_ario is serial, and BoARIO / the reference run numpy with one
    # BLAS thread (on a shared 2-core machine a 2-thread OpenBLAS spins under load and ran
    # BoARIO up to 14x slower).  Static models too (both libraries are BLAS/LAPACK-bound);
    # only simcore's batches use every core.
    env1 = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    days = P["days"]
    ario_runs: dict[str, dict] = {}
    for table, baselines in P["ario"]:
        name = f"ario/{table}"
        if not want(name):
            continue
        p = n_sectors(table)
        sp = os.path.join(tmp, f"{table}-simcore.npy")
        s = child({"runner": "simcore", "table": table, "days": days, "repeat": R,
                   "budget_s": P["budget_s"], "out": sp}, to, env=env1)
        ario_runs[table] = s
        log(f"{name} simcore: {s.get('best_s')} s (compile {s.get('compile_s')}), "
            f"peak {s.get('peak_mb')} MB {'' if s.get('ok') else s.get('error')}")
        for eng, bdays in baselines.items():
            label = {"boario": f"BoARIO {_cases.BOARIO_VERSION} ARIOPsiModel",
                     "reference": "simcore numpy reference (_ario_reference)"}[eng]
            if bdays is None:
                est = _estimate(ario_runs, cases, table, eng)
                cases.append(_case(f"{name}/{eng}", p, days, None, s, label, None, skip=est))
                log(f"{name} {eng}: skipped ({est})")
                continue
            bp = os.path.join(tmp, f"{table}-{eng}.npy")
            b = child({"runner": eng, "table": table, "days": bdays,
                       "repeat": R if bdays == days else 1, "budget_s": P["budget_s"],
                       "out": bp}, to, env=env1)
            c = _case(f"{name}/{eng}", p, days, None, s, label, b, b_days=bdays,
                      scale=days / bdays)
            if bdays == days and c["status"] == "ok":
                c["max_rel_diff_production"] = _maxrel(sp, bp)
            cases.append(c)
            log(f"{name} {eng}: {c['baseline_s']} s ratio {c['ratio']} "
                f"peak {c['baseline_peak_mb']} MB [{c['status']}]")

    # batches ---------------------------------------------------------------------------
    bt = P["batch_table"]
    for S, runs in P["batch"]:
        name = f"batch/{bt}/{S}"
        if not want(name):
            continue
        s = child({"runner": "simcore", "table": bt, "days": days, "scenarios": S,
                   "repeat": 3 if S < 1000 else 2, "budget_s": P["budget_s"]}, to)
        b = child({"runner": "boario", "table": bt, "days": days, "scenarios": S,
                   "runs": runs}, to, env=env1)
        c = _case(name, n_sectors(bt), days, S, s,
                  f"BoARIO {_cases.BOARIO_VERSION}, S runs in a row", b, scale=S / runs,
                  note=(f"BoARIO timed for {runs} of {S} scenarios and scaled; " if runs != S
                        else "") + "simcore uses every core, BoARIO one (one BLAS thread)")
        c["baseline_timed_scenarios"] = runs
        c["simcore_threads"] = s.get("threads")
        cases.append(c)
        log(f"{name}: simcore {c['simcore_s']} BoARIO {c['baseline_s']} ratio {c['ratio']}")

    # supply-chain engine --------------------------------------------------------------
    sc_runs = run_sc_cases(P, want, tmp, cases, env1)

    # static ----------------------------------------------------------------------------
    for table, ops in P["static"]:
        for op in ops:
            name = f"static/{op}/{table}"
            if not want(name):
                continue
            sp = os.path.join(tmp, f"static-{op}-{table}-simcore.npy")
            bp = os.path.join(tmp, f"static-{op}-{table}-pymrio.npy")
            reps = R if n_sectors(table) < 5000 else 1
            s = child({"runner": "static", "engine": "simcore", "op": op, "table": table,
                       "repeat": reps, "budget_s": P["budget_s"], "out": sp}, to, env=env1)
            b = child({"runner": "static", "engine": "pymrio", "op": op, "table": table,
                       "repeat": reps, "budget_s": P["budget_s"], "out": bp}, to, env=env1)
            label = {"inverse": "pymrio calc_L(calc_A)", "multipliers":
                     "pymrio calc_all + L column sums", "solve": "pymrio calc_all + L @ dy"}[op]
            c = _case(name, n_sectors(table), None, None, s, f"pymrio {_pymrio_version()} "
                      + label.split(" ", 1)[1], b)
            if c["status"] == "ok":
                c["max_rel_diff"] = _maxrel(sp, bp)
            cases.append(c)
            log(f"{name}: simcore {c['simcore_s']} pymrio {c['baseline_s']} "
                f"ratio {c['ratio']} [{c['status']}]")

    machine = describe_machine()
    if P["machine"] and (want("roofline") or any(want(f"sc/{t}") for t, _ in P["sc"])):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        m = child({"runner": "machine"}, to, env=env)
        machine["probe"] = m if m.get("ok") else {"error": m.get("error")}
    out = {"cases": cases, "quick": quick, "machine": machine,
           "versions": versions(), "event": _cases.EVENT,
           "elapsed_s": time.perf_counter() - t_start,
           "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out["scaling"] = scaling(cases)
    out["roofline"] = roofline(cases, ario_runs, machine.get("probe"))
    out["sc_bound"] = sc_bound(cases, sc_runs, machine.get("probe"))
    return out


SC_LABELS = {"boario": f"BoARIO {_cases.BOARIO_VERSION} ARIOPsiModel (capacity event)",
             "reference": "simcore numpy oracle (dynamic._reference)",
             "probe": "fused probe (benchmarks/_probe.py)",
             "ario": "simcore ARIO engine (simulate_ario, capacity event)"}


def run_sc_cases(P: dict, want, tmp: str, cases: list, env1: dict) -> dict:
    """The supply-chain engine's cases (``sc/<table>/<baseline>``, ``sc-batch/...``)."""
    days, R, to = P["days"], P["repeat"], P["timeout_s"]
    runs: dict[str, dict] = {}
    env_par = {k: v for k, v in env1.items() if k != "NUMBA_NUM_THREADS"}
    for table, baselines in P.get("sc", []):
        name = f"sc/{table}"
        if not want(name):
            continue
        p = n_sectors(table)
        sp = os.path.join(tmp, f"sc-{table}-simcore.npy")
        # simcore with every core numba has: simulate runs the parallel sweep on large
        # tables (choose_layout); its baselines keep one thread (the case's threads columns)
        s = child({"runner": "sc", "engine": "simcore", "table": table, "days": days,
                   "repeat": R, "budget_s": P["budget_s"], "out": sp}, to, env=env_par)
        runs[table] = s
        log(f"{name} simcore: {s.get('best_s')} s (prepared {s.get('prepared_best_s')}, kernel "
            f"{s.get('kernel_s')}) peak {s.get('peak_mb')} MB "
            f"{'' if s.get('ok') else s.get('error')}")
        for eng, bdays in baselines.items():
            bp = os.path.join(tmp, f"sc-{table}-{eng}.npy")
            if eng == "ario":
                b = child({"runner": "simcore", "table": table, "days": bdays, "repeat": R,
                           "budget_s": P["budget_s"]}, to, env=env1)
            elif eng == "boario":
                b = child({"runner": "boario", "table": table, "days": bdays,
                           "repeat": R if bdays == days else 1, "budget_s": P["budget_s"]},
                          to, env=env1)
            else:
                b = child({"runner": "sc", "engine": eng, "table": table, "days": bdays,
                           "repeat": R if bdays == days else 1, "budget_s": P["budget_s"],
                           "out": bp}, to, env=env1)
            c = _case(f"{name}/{eng}", p, days, None, s, SC_LABELS[eng], b, b_days=bdays,
                      scale=days / bdays,
                      note=("the scenario's own import cuts and parameters; baselines other "
                            "than the oracle run the capacity event" if table == "japan-187"
                            else "capacity event, default DynamicParams"))
            for k in ("prepared_best_s", "kernel_s", "lower_s", "rows_kernel_s",
                      "rows_max_rel_diff_gdp_loss", "fused_kernel_s", "fused_equals_run_one",
                      "parallel_kernel_s", "parallel_max_rel_diff_gdp_loss", "layout"):
                c["simcore_" + k.replace("_best", "")] = s.get(k)
            c["simcore_threads"] = s.get("threads")
            c["simcore_first_s"] = s.get("first_s")  # the first call: prepares the table
            c["baseline_threads"] = 1  # env1: one numba / BLAS thread
            if eng == "probe":
                c["probe"] = {k: b.get(k) for k in ("csc_s", "rows_s", "layout")}
            if eng == "reference" and bdays == days and c["status"] == "ok":
                c["max_rel_diff_production"] = _maxrel(sp, bp)
            cases.append(c)
            log(f"{name} {eng}: {c['baseline_s']} s ratio {c['ratio']} "
                f"peak {c['baseline_peak_mb']} MB [{c['status']}]")
    for S, singles, b_runs in P.get("sc_batch", []):
        name = f"sc-batch/japan-187/{S}"
        if not want(name):
            continue
        s = child({"runner": "sc_batch", "scenarios": S, "days": days,
                   "repeat": 3 if S < 1000 else 2, "budget_s": P["budget_s"]}, to)
        one = child({"runner": "sc_batch", "scenarios": S, "days": days, "singles": True,
                     "runs": singles}, to, env=env1)
        c = _case(f"{name}/single", 187, days, S, s, "simcore simulate, S runs in a row (one "
                  "core)", one, scale=S / singles,
                  note=(f"single runs timed for {singles} of {S} and scaled; " if singles != S
                        else "") + "LHS of the Nomura case (cut share 0.5-1, 30-365 days); "
                  "the batch uses every core")
        c["baseline_timed_scenarios"] = singles
        c["simcore_threads"] = s.get("threads")
        cases.append(c)
        log(f"{name}: batch {c['simcore_s']} singles {c['baseline_s']} ratio {c['ratio']}")
        b = child({"runner": "boario", "table": "japan-187", "days": days, "scenarios": S,
                   "runs": b_runs}, to, env=env1)
        c = _case(f"{name}/boario", 187, days, S, s,
                  f"BoARIO {_cases.BOARIO_VERSION}, S runs in a row", b, scale=S / b_runs,
                  note=f"BoARIO timed for {b_runs} of {S} runs (capacity events) and scaled")
        c["baseline_timed_scenarios"] = b_runs
        c["simcore_threads"] = s.get("threads")
        cases.append(c)
        log(f"{name}: batch {c['simcore_s']} BoARIO {c['baseline_s']} ratio {c['ratio']}")
    Ls = P.get("sc_lanes") or []
    if Ls and want("sc-lanes/japan-187"):
        r = child({"runner": "sc_lanes", "days": days, "lanes": Ls,
                   "repeat": R if days < YEAR else 5}, to, env=env1)
        for L in Ls:
            name = f"sc-lanes/japan-187/{L}"
            per = (r.get("lane_s") or {}).get(str(L))
            s = dict(r, best_s=per) if per is not None else r
            b = dict(r, best_s=r.get("run_one_s"))
            c = _case(name, 187, days, L, s, "bare kernel run_one, one scenario (one core)",
                      b, note=f"one block of {L} lanes (simcore.dynamic._lanes.run_block), "
                      "time per scenario-year, one core; interleaved rounds in one process; "
                      "lane 0 equals run_one bit for bit: "
                      f"{r.get('lane0_equals_run_one')}")
            c["batch_lanes"] = r.get("batch_lanes")  # the lanes a batch block has
            # its bounds, per scenario-year in the same rounds (benchmarks/_probe.py)
            c["probe_lane_s"] = (r.get("probe_lane_s") or {}).get(str(L))
            c["stream_lane_s"] = (r.get("stream_lane_s") or {}).get(str(L))
            cases.append(c)
            log(f"{name}: lanes {c['simcore_s']} run_one {c['baseline_s']} ratio {c['ratio']}")
    return runs


#: Bytes one day must move per stored cell in the two passes (float64 unless noted): pass
#: 1 reads A, target, IND, THA, S and the row index (int64) and writes the order; pass 2
#: reads A, target, S, the order and the row index and writes S.
SC_BYTES_PER_CELL = 8 * 13


def sc_bound(cases: list[dict], runs: dict, probe: dict | None) -> list[dict]:
    """Per supply-chain table: the kernel, the probe, and reading the cells at the measured
    bandwidth (single core, the cache level the working set fits in)."""
    out = []
    for table, r in runs.items():
        if not r.get("ok"):
            continue
        pc = next((c for c in cases if c["name"] == f"sc/{table}/probe"), None)
        nnz = r.get("nnz")
        row = {"name": table, "n_sectors": n_sectors(table), "cells": nnz,
               "simcore_s": r.get("best_s"), "simcore_prepared_s": r.get("prepared_best_s"),
               "simcore_kernel_s": r.get("kernel_s"),
               "simcore_rows_kernel_s": r.get("rows_kernel_s"),
               "simcore_fused_kernel_s": r.get("fused_kernel_s"),
               "simcore_parallel_kernel_s": r.get("parallel_kernel_s"),
               "threads": r.get("threads"), "layout": r.get("layout"),
               "probe_s": pc["baseline_s"] if pc else None}
        if probe and "read_bw_dram_gbs" in probe and nnz:
            ws = 8.0 * 7 * nnz
            level = "l2" if ws <= 1.5 * 2**20 else ("l3" if ws <= 24 * 2**20 else "dram")
            row["level"] = level
            row["bandwidth_gbs"] = probe[f"read_bw_{level}_gbs"]
            row["bandwidth_year_s"] = YEAR * SC_BYTES_PER_CELL * nnz / (
                probe[f"read_bw_{level}_gbs"] * 1e9)
        out.append(row)
    return out


def _estimate(ario_runs: dict, cases: list, table: str, eng: str) -> str:
    """A skipped baseline's cost, extrapolated as p^2 from the largest size measured."""
    p = n_sectors(table)
    prev = [c for c in cases if c["name"].startswith("ario/synthetic") and
            c["name"].endswith("/" + eng) and c["baseline_s"]]
    if not prev:
        return "not run at this size"
    c = max(prev, key=lambda c: c["n_sectors"])
    f = (p / c["n_sectors"]) ** 2
    return (f"not run at this size; estimated {c['baseline_s'] * f:,.0f} s / "
            f"{(c['baseline_peak_mb'] or 0) * f / 1024:,.1f} GB from "
            f"{c['n_sectors']:,} sectors scaled as p^2")


def _pymrio_version() -> str:
    try:
        from importlib.metadata import version

        return version("pymrio")
    except Exception:
        return "?"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("simcore", "numpy", "scipy", "numba", "pandas", "xarray", "pymrio", "boario"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def describe_machine() -> dict:
    out: dict[str, Any] = {"cores": os.cpu_count(), "platform": platform.platform()}
    try:
        txt = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in txt.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "L2 cache", "L3 cache", "Hypervisor vendor",
                             "Thread(s) per core"):
                out[k.strip()] = v.strip()
        out["avx512"] = "avx512f" in txt
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        out["memory_gib"] = round(kb / 2**20, 1)
    except OSError:
        pass
    # which kernels the children run: compiled ahead of time or numba's JIT
    # (simcore.dynamic._aot; the same bits either way)
    p = subprocess.run([sys.executable, "-m", "simcore.dynamic._aot", "status"],
                       capture_output=True, text=True, cwd=str(ROOT))
    out["compiled_kernels"] = (p.stdout.strip() or p.stderr.strip()[-200:])
    return out


# --------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------
def _fit(xs: list[float], ys: list[float]) -> float | None:
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def scaling(cases: list[dict]) -> dict:
    """Log-log slopes: time ~ sectors^k (synthetic MRIOs), time ~ scenarios^k (batches)."""
    out: dict[str, Any] = {}
    syn = [c for c in cases if c["name"].startswith("ario/synthetic")]
    for eng in ("boario", "reference"):
        cs = sorted((c for c in syn if c["name"].endswith("/" + eng)),
                    key=lambda c: c["n_sectors"])
        if eng == "boario":
            out["ario_simcore_vs_sectors"] = _fit([c["n_sectors"] for c in cs],
                                                  [c["simcore_s"] for c in cs])
            out["ario_simcore_peak_mb_vs_sectors"] = _fit(
                [c["n_sectors"] for c in cs], [c["simcore_peak_mb"] for c in cs])
        ok = [c for c in cs if c["baseline_s"]]
        out[f"ario_{eng}_vs_sectors"] = _fit([c["n_sectors"] for c in ok],
                                             [c["baseline_s"] for c in ok])
        out[f"ario_{eng}_peak_mb_vs_sectors"] = _fit([c["n_sectors"] for c in ok],
                                                     [c["baseline_peak_mb"] for c in ok])
    bt = sorted((c for c in cases if c["name"].startswith("batch/")),
                key=lambda c: c["scenarios"])
    out["batch_simcore_vs_scenarios"] = _fit([c["scenarios"] for c in bt],
                                             [c["simcore_s"] for c in bt])
    big = [c for c in bt if c["scenarios"] >= 10]
    out["batch_simcore_vs_scenarios_from_10"] = _fit([c["scenarios"] for c in big],
                                                     [c["simcore_s"] for c in big])
    for op in ("inverse", "multipliers"):
        cs = sorted((c for c in cases if c["name"].startswith(f"static/{op}/synthetic")),
                    key=lambda c: c["n_sectors"])
        out[f"static_{op}_simcore_vs_sectors"] = _fit([c["n_sectors"] for c in cs],
                                                      [c["simcore_s"] for c in cs])
        out[f"static_{op}_pymrio_vs_sectors"] = _fit([c["n_sectors"] for c in cs],
                                                     [c["baseline_s"] for c in cs])
    return out


#: n x p arrays streamed per day by the fused sweep: aS, inva, ZC (read), stock, U
#: (read + write).
NP_PASSES = 7
#: flops per Z cell per day (R > 1): sum_r Zf phi, sum_r Zf q, phi sum_f Zf U.
FLOPS_PER_Z = 6
#: flops per n x p cell per day (distribution, stock update, gap, orders, next h).
FLOPS_PER_NP = 20


def roofline(cases: list[dict], runs: dict, probe: dict | None) -> list[dict]:
    """Best possible time of a simulated year, from the bytes and flops one day must touch.

    One day must stream the table's intermediate flows ``Z`` once (``8 p^2`` bytes, R > 1;
    not read for one region) and :data:`NP_PASSES` ``n x p`` float64 arrays, and do
    about ``6 p^2 + 20 n p`` flops.  Bandwidth is the measured single-core read bandwidth
    of the level the working set fits in (L2, L3 or DRAM); compute is single-core dgemm.
    ``simulate_ario`` is serial, so one core is the right roof for one run.
    """
    if not probe or "read_bw_dram_gbs" not in probe:
        return []
    out = []
    for c in cases:
        if not (c["name"].startswith("ario/") and c["name"].endswith("/boario")):
            continue
        table = c["name"].split("/")[1]
        r = runs.get(table, {})
        if not r.get("ok"):
            continue
        p = c["n_sectors"]
        R = {"japan-37": 1, "japan-185": 1, "pymrio-test": 6}.get(table) or int(
            table.split("-R", 1)[1].split("x")[0])
        n = p // R
        zb = 8.0 * p * p if R > 1 else 0.0
        nb = 8.0 * n * p * NP_PASSES
        byts = zb + nb
        flops = (FLOPS_PER_Z * p * p if R > 1 else 0) + FLOPS_PER_NP * n * p
        ws = zb + 8.0 * n * p * 5
        level = "l2" if ws <= 1.5 * 2**20 else ("l3" if ws <= 24 * 2**20 else "dram")
        bw = probe[f"read_bw_{level}_gbs"] * 1e9
        t_mem, t_cpu = byts / bw, flops / (probe["dgemm_gflops_1core"] * 1e9)
        best_year = YEAR * max(t_mem, t_cpu)
        meas = r.get("prepared_best_s") or r.get("best_s")
        out.append({"name": table, "n_sectors": p, "regions": R, "bytes_per_day": byts,
                    "flops_per_day": flops, "level": level, "bound": "memory"
                    if t_mem >= t_cpu else "compute", "roof_year_s": best_year,
                    "simcore_kernel_year_s": meas,
                    "fraction_of_roof": best_year / meas if meas else None})
    return out


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
def _f(v: Any, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.{nd}g}"
    return str(v)


COLUMNS = ("name", "n_sectors", "days", "scenarios", "simcore_s", "simcore_compile_s",
           "baseline", "baseline_s", "ratio", "simcore_peak_mb", "baseline_peak_mb", "status")


def text_table(res: dict) -> str:
    rows = [COLUMNS] + [tuple(_f(c.get(k)) for k in COLUMNS) for c in res["cases"]]
    w = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(r[i].ljust(w[i]) for i in range(len(r))) for r in rows)


def markdown_table(res: dict) -> str:
    head = ("case", "sectors", "days", "scen.", "simcore s", "compile s", "baseline",
            "baseline s", "ratio", "simcore MB", "baseline MB", "status / note")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in res["cases"]:
        note = c["status"]
        if c.get("baseline_scaled_from_days"):
            note += f"; baseline ran {c['baseline_scaled_from_days']} days, scaled to 365"
        if c.get("note"):
            note += f"; {c['note']}"
        if c.get("max_rel_diff_production") is not None:
            note += f"; max rel. diff. of production {c['max_rel_diff_production']:.1e}"
        if c.get("max_rel_diff") is not None:
            note += f"; max rel. diff. {c['max_rel_diff']:.1e}"
        vals = (c["name"], c["n_sectors"], c["days"], c["scenarios"], c["simcore_s"],
                c.get("simcore_compile_s"), c["baseline"], c["baseline_s"], c["ratio"],
                c["simcore_peak_mb"], c["baseline_peak_mb"], note)
        lines.append("| " + " | ".join(_f(v).replace("|", "/") for v in vals) + " |")
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = res["cases"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    # lines: the synthetic MRIOs (the fit); markers alone: Japan (one region), pymrio test
    ario = [c for c in cases if c["name"].startswith("ario/")]

    def split(cs):
        cs = sorted(cs, key=lambda c: c["n_sectors"])
        return ([c for c in cs if "synthetic" in c["name"]],
                [c for c in cs if "synthetic" not in c["name"]])

    for eng, lab, mk, col in (("boario", "BoARIO 0.6.3", "s", "C1"),
                              ("reference", "numpy reference", "^", "C2")):
        syn, other = split(c for c in ario if c["name"].endswith("/" + eng)
                           and c["baseline_s"])
        ax.plot([c["n_sectors"] for c in syn], [c["baseline_s"] for c in syn], "-", lw=1,
                color=col)
        full = [c for c in syn if not c.get("baseline_scaled_from_days")]
        part = [c for c in syn if c.get("baseline_scaled_from_days")]
        ax.plot([c["n_sectors"] for c in full], [c["baseline_s"] for c in full], mk,
                color=col, label=f"{lab}, synthetic MRIO")
        if part:
            ax.plot([c["n_sectors"] for c in part], [c["baseline_s"] for c in part], mk,
                    mfc="none", color=col, label=f"{lab} (scaled from a short run)")
        ax.plot([c["n_sectors"] for c in other], [c["baseline_s"] for c in other], mk,
                color=col, ms=4, alpha=0.6)
    syn, other = split(c for c in ario if c["name"].endswith("/boario") and c["simcore_s"])
    ax.plot([c["n_sectors"] for c in syn], [c["simcore_s"] for c in syn], "o-", color="C0",
            label="simcore, synthetic MRIO")
    ax.plot([c["n_sectors"] for c in other], [c["simcore_s"] for c in other], "o",
            color="C0", ms=4, alpha=0.6,
            label="small markers: Japan-37/185 (one region), pymrio test")
    rf = sorted((r for r in res.get("roofline") or [] if "synthetic" in r["name"]),
                key=lambda r: r["n_sectors"])
    if rf:
        ax.plot([r["n_sectors"] for r in rf], [r["roof_year_s"] for r in rf], "k:",
                label="roofline bound, synthetic MRIO")
    ax.set(xscale="log", yscale="log", xlabel="region-sectors p",
           ylabel="wall time of one simulated year, s", title="ARIO, one scenario-year")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1]
    bt = sorted((c for c in cases if c["name"].startswith("batch/")),
                key=lambda c: c["scenarios"])
    ax.plot([c["scenarios"] for c in bt], [c["simcore_s"] for c in bt], "o-", color="C0",
            label="simcore simulate_ario_batch")
    ax.plot([c["scenarios"] for c in bt], [c["baseline_s"] for c in bt], "s--", color="C1",
            mfc="none", label="BoARIO, runs in a row (scaled)")
    ax.set(xscale="log", yscale="log", xlabel="scenarios S", ylabel="wall time, s",
           title=f"ARIO batch on {res['cases'] and bt and bt[0]['name'].split('/')[1]}, "
                 "one year each")
    ax.legend(fontsize=7)
    ax = axes[2]
    for op, mk in (("inverse", "o"), ("multipliers", "s"), ("solve", "^")):
        cs = sorted((c for c in cases if c["name"].startswith(f"static/{op}/")
                     and c["simcore_s"]), key=lambda c: c["n_sectors"])
        if not cs:
            continue
        ax.plot([c["n_sectors"] for c in cs], [c["simcore_s"] for c in cs], mk + "-",
                color="C0", label=f"simcore {op}")
        ax.plot([c["n_sectors"] for c in cs], [c["baseline_s"] for c in cs], mk + "--",
                color="C3", mfc="none", label=f"pymrio {op}")
    ax.set(xscale="log", yscale="log", xlabel="sectors p", ylabel="wall time, s",
           title="static models vs pymrio")
    ax.legend(fontsize=7)
    m = res.get("machine", {})
    fig.suptitle(f"{m.get('Model name', '?')}, {m.get('cores')} cores, "
                 f"{m.get('memory_gib')} GiB ({res.get('date_utc', '')})", fontsize=9)
    fig.tight_layout()
    from simcore._atomic import atomic_path

    with atomic_path(path) as tmp:  # a killed run leaves no truncated image
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def plot_sc(res: dict, path: Path) -> None:
    """The supply-chain engine: one year by table size against every baseline; batches."""
    cases = [c for c in res["cases"] if c["name"].startswith("sc")]
    if not cases:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    ax = axes[0]
    one = sorted((c for c in cases if c["name"].startswith("sc/")), key=lambda c: c["n_sectors"])
    sim = {c["n_sectors"]: c for c in one if c["simcore_s"]}
    ax.plot(list(sim), [c["simcore_s"] for c in sim.values()], "o-", color="C0",
            label="simcore simulate (labelled table)")
    ker = [(p, c.get("simcore_kernel_s")) for p, c in sim.items() if c.get("simcore_kernel_s")]
    ax.plot([p for p, _ in ker], [k for _, k in ker], "o--", color="C0", mfc="none",
            label="simcore kernel run_one")
    for eng, mk, col in (("boario", "s", "C1"), ("ario", "D", "C4"), ("reference", "^", "C2"),
                         ("probe", "v", "k")):
        cs = [c for c in one if c["name"].endswith("/" + eng) and c["baseline_s"]]
        ax.plot([c["n_sectors"] for c in cs], [c["baseline_s"] for c in cs], mk + ":",
                color=col, label=SC_LABELS[eng])
    bw = sorted(((r["n_sectors"], r.get("bandwidth_year_s")) for r in res.get("sc_bound") or []
                 if r.get("bandwidth_year_s")))
    if bw:
        ax.plot([p for p, _ in bw], [t for _, t in bw], "k-", lw=0.8,
                label="stored cells at measured bandwidth")
    ax.set(xscale="log", yscale="log", xlabel="sectors", ylabel="one simulated year, s",
           title="supply-chain engine, one scenario-year")
    ax.legend(fontsize=6.5)
    ax = axes[1]
    bt = sorted((c for c in cases if c["name"].startswith("sc-batch/")
                 and c["name"].endswith("/single")), key=lambda c: c["scenarios"])
    bb = sorted((c for c in cases if c["name"].startswith("sc-batch/")
                 and c["name"].endswith("/boario")), key=lambda c: c["scenarios"])
    ax.plot([c["scenarios"] for c in bt], [c["simcore_s"] for c in bt], "o-", color="C0",
            label="simcore simulate_batch")
    ax.plot([c["scenarios"] for c in bt], [c["baseline_s"] for c in bt], "o--", color="C0",
            mfc="none", label="simcore single runs in a row (scaled)")
    ax.plot([c["scenarios"] for c in bb], [c["baseline_s"] for c in bb], "s--", color="C1",
            mfc="none", label="BoARIO runs in a row (scaled)")
    ax.set(xscale="log", yscale="log", xlabel="scenarios", ylabel="wall time, s",
           title="Nomura case LHS on Japan-187, one year each")
    ax.legend(fontsize=7)
    fig.tight_layout()
    from simcore._atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def merge(old: dict, new: dict, only: str) -> dict:
    """``--only X --write``: the saved results with the cases of this run put in (same name
    replaced, new ones added); each merged case carries the date of its run."""
    out = dict(old)
    got = {c["name"]: dict(c, run_utc=new["date_utc"]) for c in new["cases"]}
    cases = [got.pop(c["name"], c) for c in old["cases"]]
    out["cases"] = cases + list(got.values())
    if new.get("sc_bound"):
        # rows of the tables run now replace theirs; the others stay
        got_b = {r["name"]: r for r in new["sc_bound"]}
        out["sc_bound"] = [got_b.pop(r["name"], r) for r in old.get("sc_bound") or []] + \
            list(got_b.values())
    if (new.get("machine") or {}).get("probe"):
        out.setdefault("machine", {})["probe_sc"] = new["machine"]["probe"]
    out.setdefault("partial_runs", []).append(
        {"only": only, "date_utc": new["date_utc"], "elapsed_s": new["elapsed_s"],
         "cases": len(new["cases"])})
    out["scaling"] = scaling(out["cases"])
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny cases (smoke test)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--write", action="store_true",
                    help="write benchmarks/results/latest.json, the plot and "
                         "docs/performance.md")
    ap.add_argument("--from-json", metavar="FILE", help="use saved results, run nothing")
    ap.add_argument("--only", metavar="SUBSTRING", help="run only cases whose name has it")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _cases.child_main(a.child)
        return
    if a.from_json:
        res = json.loads(Path(a.from_json).read_text())
    else:
        res = run(a.quick, a.only)
    if a.write:
        if res.get("quick"):
            log("refusing to write docs from a --quick run")
        else:
            from simcore._atomic import atomic_write_text

            if a.only and not a.from_json:
                res = merge(json.loads((RESULTS / "latest.json").read_text()), res, a.only)
            if not a.from_json:
                atomic_write_text(RESULTS / "latest.json",
                                  json.dumps(res, indent=1, default=float))
            import _report  # after the results are saved: a failure below loses nothing

            plot(res, PLOT)
            plot(res, RESULTS / "scaling.png")
            plot_sc(res, PLOT_SC)
            atomic_write_text(DOC, _report.render(res, markdown_table(res)))
            log(f"wrote {RESULTS / 'latest.json'}, {PLOT}, {DOC}")
    if a.json:
        print(json.dumps(res, default=float))
    else:
        print(text_table(res))
        print("\nscaling exponents:", json.dumps(res["scaling"], default=float))


if __name__ == "__main__":
    main()
