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

What bounds each figure: every timed process of ``run``, ``reproduce`` and
``reproduce-cold`` times simcore's numba kernels itself (``TIMED``: numba's dispatcher
class gets a ``__call__`` that times the calls from Python, compiled code calling compiled
code is not affected, and ``Dispatcher.compile`` is timed, outermost calls only) and
writes what it measured to a file; nothing else changes.  Per command, the round with the
best wall time gives ``kernel_s`` (running simcore's kernels), ``compile_s`` (numba's
initialisation on the first call, and loading the kernels from numba's cache or compiling
them), ``calls`` and the kernels called.  A command's bound is ``deps + compile_s +
kernel_s``: importing the dependencies, then what numba must do before and while running
the kernels; ``deps+jit`` is the same bound for a trivial kernel.  The rest above the
bound is simcore's Python (its imports, the table, parameters, lowering, results).

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
#: The command line with simcore's kernels timed (see the module docstring); what it
#: measured goes, as JSON, to the file named by SIMCORE_STARTUP_TIMES.
TIMED = r'''
import json, os, sys, time
from numba._dispatcher import Dispatcher as _C
from numba.core import dispatcher as _d
from numba.core.registry import CPUDispatcher
acc = {"kernel_s": 0.0, "calls": 0, "compile_s": 0.0, "compiles": 0, "kernels": {}}
depth = [0]
def _call(self, *a, **k):
    if not self.py_func.__module__.startswith("simcore."):
        return _C.__call__(self, *a, **k)
    c0 = acc["compile_s"]
    t = time.perf_counter()
    try:
        return _C.__call__(self, *a, **k)
    finally:
        run = time.perf_counter() - t - (acc["compile_s"] - c0)
        acc["kernel_s"] += run
        acc["calls"] += 1
        name = self.py_func.__module__ + "." + self.py_func.__qualname__
        d = acc["kernels"].setdefault(name, {"calls": 0, "s": 0.0})
        d["calls"] += 1
        d["s"] += run
CPUDispatcher.__call__ = _call
_compile = _d.Dispatcher.compile
def _timed_compile(self, sig):
    depth[0] += 1
    t = time.perf_counter()
    try:
        return _compile(self, sig)
    finally:
        depth[0] -= 1
        if depth[0] == 0:
            acc["compile_s"] += time.perf_counter() - t
            acc["compiles"] += 1
_d.Dispatcher.compile = _timed_compile
from simcore.cli import main
try:
    rc = main()
finally:
    with open(os.environ["SIMCORE_STARTUP_TIMES"], "w") as fh:
        json.dump(acc, fh)
sys.exit(rc)
'''
CLI_TIMED = [sys.executable, "-c", TIMED]


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
           "run": CLI_TIMED + ARGV["run"],
           "reproduce": CLI_TIMED + ARGV["reproduce"]}
    if cold:
        out["reproduce-cold"] = CLI_TIMED + ARGV["reproduce-cold"]
    out["help"] = CLI + ARGV["help"]
    return out


def child_env(**extra: str) -> dict[str, str]:
    """The children's environment: bytecode caching allowed (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def wall(cmd: list[str], env: dict | None = None) -> tuple[float, int, dict | None]:
    """Wall time, exit code and, for a timed command, what it measured of its kernels."""
    env = dict(env or child_env())
    fd, times = tempfile.mkstemp(prefix="simcore-startup-", suffix=".json")
    os.close(fd)
    env["SIMCORE_STARTUP_TIMES"] = times
    try:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           cwd=tempfile.gettempdir())
        t = time.perf_counter() - t0
        txt = Path(times).read_text()
        return t, p.returncode, json.loads(txt) if txt.strip() else None
    finally:
        os.unlink(times)


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
    kern: dict[str, list[dict | None]] = {k: [] for k in cmds}
    rcs: dict[str, set[int]] = {k: set() for k in cmds}
    for k, c in cmds.items():  # warm numba's cache, simcore's bytecode, the OS file cache
        if k != "reproduce-cold":
            wall(c)
    for _ in range(rounds):
        for k, c in cmds.items():
            env = None
            tmp = None
            if k == "reproduce-cold":
                tmp = tempfile.mkdtemp(prefix="numba-cold-")
                env = child_env(NUMBA_CACHE_DIR=tmp)
            t, rc, kt = wall(c, env)
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            times[k].append(t)
            kern[k].append(kt)
            rcs[k].add(rc)
    best = {k: min(v) for k, v in times.items()}
    ratios = {k: best[k] / best["deps"] for k in cmds if k != "deps"}
    floor = {k: best[k] / best["deps+jit"] for k in cmds
             if k not in ("deps", "deps+jit", "help")}
    # the kernels of each command's best round, and its bound (module docstring)
    parts: dict[str, dict] = {}
    bound: dict[str, dict] = {}
    for k in ("run", "reproduce", "reproduce-cold"):
        if k not in cmds:
            continue
        kt = kern[k][times[k].index(best[k])]
        if not kt:
            continue
        parts[k] = kt
        lim = best["deps"] + kt["compile_s"] + kt["kernel_s"]
        bound[k] = {"bound_s": lim, "ratio_to_bound": best[k] / lim,
                    "bound_ratio_to_deps": lim / best["deps"], "rest_s": best[k] - lim}
    return {"best_s": best, "all_s": times, "exit_codes": {k: sorted(v) for k, v in rcs.items()},
            "ratio_to_deps": ratios, "ratio_to_deps_jit": floor,
            "targets": {k: TARGETS[k] for k in ratios if k in TARGETS},
            "met": {k: ratios[k] <= TARGETS[k] for k in ratios if k in TARGETS},
            "kernels": parts, "bound": bound, "bytecode_cached": True,
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
        d = res["kernels"][k]
        print(f"{k:16s} bound {b['bound_s']:.3f} s = deps + numba's start and the kernels' "
              f"compile/load {d['compile_s']:.3f} s + running them {d['kernel_s']:.3f} s "
              f"({d['calls']} calls); measured {b['ratio_to_bound']:.2f} x the bound")
    print(f"dask imported by `simcore run`: {res['dask_imported_by_run']}")


if __name__ == "__main__":
    main()
