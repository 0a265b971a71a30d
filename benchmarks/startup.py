"""Fixed costs of the command line, as ratios against importing its dependencies.

Measured in one run, interleaved (one round = every command once, in a fixed order), best
of ``--rounds`` rounds, each command a fresh process, wall time from the parent:

* ``deps``: ``python -c "import numpy, xarray, numba"`` (the floor every run pays);
* ``deps+jit``: the same, then the first call of a trivial numba function loaded from numba's
  on-disk cache: numba initialises its CPU target on the first call of any compiled
  function (its type registries, which import ``scipy.linalg``, and LLVM), a cost that
  every run calling a kernel pays whatever the kernel;
* ``run``: ``simcore run kiuchi-2025-3m`` with numba's cache warm;
* ``reproduce``: ``simcore reproduce`` (every reference figure) with numba's cache warm;
* ``reproduce-cold``: ``simcore reproduce`` with an empty numba cache
  (``NUMBA_CACHE_DIR`` set to a new empty folder each time, so every kernel it uses is
  compiled);

* ``help``: ``simcore --help`` (the command line answers from the standard library and
  simcore's base layer: no numpy, xarray or numba);

and, once, whether ``simcore run`` imported dask (it should not: ``simcore._nodask``).
Targets (issue 17): run <= 1.3 x deps, reproduce <= 2 x deps, reproduce-cold <= 4 x deps.

What bounds each figure (``breakdown``, one extra instrumented process per command, after
the timed rounds): the process first pays the ``deps+jit`` floor (imports and numba's
first call), then runs the command with numba's ``Dispatcher.compile`` timed
(``compile_s``: compiling simcore's kernels, or loading them from numba's cache; the
outermost calls only) and, for the warm-cache commands, under :mod:`cProfile`
(``kernel_s``: the time running simcore's numba kernels called from Python, ``calls``
their calls; the profiler inflates Python code, not the kernels, so only these are taken
from it).  The empty-cache ``reproduce`` runs without the profiler (numba's compiler is
Python code) and takes its ``kernel_s`` from the warm one (the same kernels on the same
work).  A command's bound is ``deps+jit + kernel_s + compile_s``: the floor plus the
kernels it must load (or compile) and run; the rest is simcore's Python (imports, tables,
lowering, results).  The bound comes from the instrumented process and the measured time
from the timed rounds: on a shared machine the ratio between them is as noisy as the load.

Every child runs with Python's bytecode cache allowed (``PYTHONDONTWRITEBYTECODE`` removed
from its environment; the first, untimed round writes simcore's ``__pycache__``), as an
installed package has it: otherwise each run would compile simcore's sources again, a cost
no installation pays and which ``import numpy, xarray, numba`` (bytecode installed with
them) does not pay either.

Usage::

    python benchmarks/startup.py                 # text; --json for JSON
    python benchmarks/startup.py --write         # also benchmarks/results/startup.json
    python benchmarks/startup.py --rounds 3 --no-cold
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = {"run": 1.3, "reproduce": 2.0, "reproduce-cold": 4.0}
CLI = [sys.executable, "-c", "import sys; from simcore.cli import main; sys.exit(main())"]


JIT_DIR = Path(tempfile.gettempdir()) / "simcore-startup-jit"


def _jit_probe() -> list[str]:
    """A command importing the dependencies and calling one trivial cached njit function."""
    JIT_DIR.mkdir(exist_ok=True)
    mod = JIT_DIR / "simcore_startup_probe.py"
    src = ("import numba\n\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
    if not mod.exists() or mod.read_text() != src:
        mod.write_text(src)
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(JIT_DIR)!r}); "
            "import numpy, xarray, numba; import simcore_startup_probe as p; p.f(1.0)"]


ARGV = {"run": ["run", "kiuchi-2025-3m"], "reproduce": ["reproduce"],
        "reproduce-cold": ["reproduce"], "help": ["--help"]}


def commands(cold: bool) -> dict[str, list[str]]:
    out = {"deps": [sys.executable, "-c", "import numpy, xarray, numba"],
           "deps+jit": _jit_probe(),
           "run": CLI + ARGV["run"],
           "reproduce": CLI + ARGV["reproduce"]}
    if cold:
        out["reproduce-cold"] = CLI + ARGV["reproduce-cold"]
    out["help"] = CLI + ARGV["help"]
    return out


def child_env(**extra: str) -> dict[str, str]:
    """The children's environment: bytecode caching allowed (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def wall(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env or child_env(),
                       cwd=tempfile.gettempdir())
    return time.perf_counter() - t0, p.returncode


BREAKDOWN = r'''
import contextlib, cProfile, io, json, pstats, sys, time
sys.path.insert(0, {jit_dir!r})
t0 = time.perf_counter()
import numpy, xarray, numba
import simcore_startup_probe as p
p.f(1.0)  # the deps+jit floor: numba's CPU target initialised
floor = time.perf_counter() - t0
from numba.core import dispatcher as _d
comp = [0.0, 0, 0]
orig = _d.Dispatcher.compile
def compile(self, sig):
    comp[1] += 1
    t = time.perf_counter()
    try:
        return orig(self, sig)
    finally:
        comp[1] -= 1
        if comp[1] == 0:
            comp[0] += time.perf_counter() - t
            comp[2] += 1
_d.Dispatcher.compile = compile
t1 = time.perf_counter()
from simcore.cli import main
imp = time.perf_counter() - t1
pr = cProfile.Profile()
if {profile!r}:
    pr.enable()
with contextlib.redirect_stdout(io.StringIO()):
    rc = main({argv!r})
pr.disable()
main_s = time.perf_counter() - t1 - imp
if not {profile!r}:
    print(json.dumps({{"rc": rc, "floor_s": floor, "import_cli_s": imp, "main_s": main_s,
                      "compile_s": comp[0], "compiles": comp[2], "profiled": False}}))
    sys.exit(0)
keys = {{}}
for name, mod in list(sys.modules.items()):
    if name.startswith("simcore.") and mod is not None:
        for v in list(vars(mod).values()):
            if isinstance(v, _d.Dispatcher):
                c = v.py_func.__code__
                keys[(c.co_filename, c.co_firstlineno, c.co_name)] = (
                    v.py_func.__module__ + "." + v.py_func.__qualname__)
st = pstats.Stats(pr).stats
per = {{keys[k]: [st[k][1], st[k][3]] for k in keys if k in st}}
print(json.dumps({{"rc": rc, "floor_s": floor, "import_cli_s": imp, "main_s_profiled": main_s,
                  "profiled": True,
                  "kernel_s": sum(v[1] for v in per.values()),
                  "calls": sum(v[0] for v in per.values()), "compile_s": comp[0],
                  "compiles": comp[2],
                  "kernels": {{k: {{"calls": v[0], "s": v[1]}} for k, v in per.items()}}}}))
'''


def breakdown(key: str) -> dict:
    """One instrumented process of command ``key`` (see the module docstring)."""
    _jit_probe()
    code = BREAKDOWN.format(jit_dir=str(JIT_DIR), argv=ARGV[key],
                            profile=key != "reproduce-cold")
    tmp = None
    env = child_env()
    if key == "reproduce-cold":
        tmp = tempfile.mkdtemp(prefix="numba-cold-")
        env = child_env(NUMBA_CACHE_DIR=tmp)
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, cwd=tempfile.gettempdir())
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        return {"error": p.stderr[-2000:]}
    return json.loads(lines[-1])


def dask_imported() -> bool | None:
    code = ("import sys\nfrom simcore.cli import main\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['run', 'kiuchi-2025-3m'])\n"
            "print('dask' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=child_env())
    lines = p.stdout.strip().splitlines()
    return lines[-1] == "True" if lines else None


def measure(rounds: int, cold: bool) -> dict:
    cmds = commands(cold)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    rcs: dict[str, set[int]] = {k: set() for k in cmds}
    for k, c in cmds.items():  # warm numba's cache and the OS file cache first
        if k != "reproduce-cold":
            wall(c)
    for _ in range(rounds):
        for k, c in cmds.items():
            env = None
            tmp = None
            if k == "reproduce-cold":
                tmp = tempfile.mkdtemp(prefix="numba-cold-")
                env = child_env(NUMBA_CACHE_DIR=tmp)
            t, rc = wall(c, env)
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            times[k].append(t)
            rcs[k].add(rc)
    best = {k: min(v) for k, v in times.items()}
    ratios = {k: best[k] / best["deps"] for k in cmds if k != "deps"}
    floor = {k: best[k] / best["deps+jit"] for k in cmds
             if k not in ("deps", "deps+jit", "help")}
    parts = {k: breakdown(k) for k in ("run", "reproduce", "reproduce-cold") if k in cmds}
    if "kernel_s" in parts.get("reproduce", {}) and "compile_s" in parts.get("reproduce-cold",
                                                                               {}):
        parts["reproduce-cold"]["kernel_s"] = parts["reproduce"]["kernel_s"]
        parts["reproduce-cold"]["kernel_s_from"] = "reproduce"
        for f in ("calls", "kernels"):
            parts["reproduce-cold"][f] = parts["reproduce"][f]
    bound = {}
    for k, b in parts.items():
        if "kernel_s" in b and "compile_s" in b:
            lim = best["deps+jit"] + b["kernel_s"] + b["compile_s"]
            bound[k] = {"bound_s": lim, "ratio_to_bound": best[k] / lim,
                        "bound_ratio_to_deps": lim / best["deps"],
                        "rest_s": best[k] - lim}
    return {"best_s": best, "all_s": times, "exit_codes": {k: sorted(v) for k, v in rcs.items()},
            "ratio_to_deps": ratios, "ratio_to_deps_jit": floor,
            "targets": {k: TARGETS[k] for k in ratios if k in TARGETS},
            "met": {k: ratios[k] <= TARGETS[k] for k in ratios if k in TARGETS},
            "breakdown": parts, "bound": bound, "bytecode_cached": True,
            "dask_imported_by_run": dask_imported(), "rounds": rounds,
            "cores": os.cpu_count(), "python": platform.python_version(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-cold", action="store_true", help="skip the empty-cache reproduce")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write", action="store_true", help="write results/startup.json")
    a = ap.parse_args(argv)
    res = measure(a.rounds, not a.no_cold)
    if a.write:
        sys.path.insert(0, str(ROOT))
        from simcore._atomic import atomic_write_text

        atomic_write_text(HERE / "results" / "startup.json", json.dumps(res, indent=1))
    if a.json:
        print(json.dumps(res))
        return
    for k, t in res["best_s"].items():
        r = res["ratio_to_deps"].get(k)
        tail = "" if r is None else f"  {r:.2f} x deps"
        if k in TARGETS:
            tail += (f" (target <= {TARGETS[k]}: {'met' if res['met'][k] else 'not met'}); "
                     f"{res['ratio_to_deps_jit'][k]:.2f} x deps+jit")
        print(f"{k:16s} {t:7.3f} s{tail}")
    for k, b in res["bound"].items():
        d = res["breakdown"][k]
        print(f"{k:16s} bound {b['bound_s']:.3f} s = deps+jit + kernels {d['kernel_s']:.3f} s "
              f"({d['calls']} calls) + compile/load {d['compile_s']:.3f} s; measured "
              f"{b['ratio_to_bound']:.2f} x the bound")
    print(f"dask imported by `simcore run`: {res['dask_imported_by_run']}")


if __name__ == "__main__":
    main()
