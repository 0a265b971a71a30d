"""Fixed costs of the command line, as ratios against importing its dependencies.

Measured in one run, interleaved (one round = every command once, in a fixed order), best
of ``--rounds`` rounds, each command a fresh process, wall time from the parent:

* ``deps``: ``python -c "import numpy, xarray, numba"`` (the floor every run pays);
* ``deps-numba``: ``python -c "import numpy, xarray"`` (the floor of a command that never
  imports numba: ``simcore run`` on the compiled kernels);
* ``deps+jit``: the same, then the first call of a trivial numba function loaded from numba's
  on-disk cache: numba initialises its CPU target on the first call of any compiled
  function (its type registries, which import ``scipy.linalg``, and LLVM), a cost that
  every run calling a kernel pays whatever the kernel;
* ``run``: ``simcore run kiuchi-2025-3m`` with numba's cache warm;
* ``reproduce``: ``simcore reproduce`` (every reference figure) with numba's cache warm;
* ``reproduce-cold``: ``simcore reproduce`` with an empty numba cache
  (``NUMBA_CACHE_DIR`` set to a new empty folder each time);
* ``reproduce-nobands``: ``simcore reproduce --draws 0``, warm: the published and model
  figures without the 90 % bands, the work ``simcore reproduce`` did when issue 17 set its
  target (the bands' posterior draws came later);
* ``reproduce-nocycles``: ``simcore reproduce`` with ``SIMCORE_CYCLES=0``, warm: every day
  computed, where the others copy the days that repeat a proven cycle of the whole state
  (:mod:`simcore.dynamic._cycles`; the same numbers): the baseline of that saving;
* ``run-jit``, ``reproduce-jit``, ``reproduce-cold-jit``: the same three on numba's JIT
  kernels (``SIMCORE_AOT=0``), where the others use the kernels compiled ahead of time
  when the installation has them (:mod:`simcore.dynamic._aot`; the record says whether each
  command did: ``kernels[...]["aot"]``).  From an empty cache the JIT commands compile
  every kernel they run; the compiled ones compile nothing;

* ``help``: ``simcore --help`` (the command line answers from the standard library and
  simcore's base layer: no numpy, xarray or numba);

and, once, whether ``simcore run`` imported dask (it should not: ``simcore._nodask``).
Targets (issue 17): run <= 1.3 x deps, reproduce <= 2 x deps, reproduce-cold <= 4 x deps.

What bounds each figure: every timed process of ``run``, ``reproduce`` and
``reproduce-cold`` (and their JIT twins) times simcore's kernels itself (``TIMED``) and
writes what it measured to a file; nothing else changes.  On the JIT kernels, numba's
dispatcher class gets a ``__call__`` that times the calls from Python (compiled code
calling compiled code is not affected) and ``Dispatcher.compile`` is timed, outermost calls
only; on the compiled kernels, ``simcore.dynamic._aot.call`` is timed and loading the
compiled module is the "compile" time.  Per command, the round with the best wall time
gives ``kernel_s`` (running simcore's kernels), ``compile_s`` (numba's initialisation on the
first call, and loading the kernels from numba's cache or compiling them; or loading the
compiled module), ``calls``, the kernels called, whether the compiled kernels ran
(``aot``) and whether numba was imported at all (``numba_imported``).  A command's bound is
``deps + compile_s + kernel_wall_s`` (``deps-numba`` in place of ``deps`` for a command
that never imported numba; ``kernel_wall_s`` the kernels' time on the main thread plus
their time on other threads, the lane blocks, divided by the machine's cores): importing
the dependencies, then what must be done before
and while running the kernels; ``deps+jit`` is the same bound for a trivial JIT kernel.  The
rest above the bound is simcore's Python (its imports, the table, parameters, lowering,
results).

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
import json, os, sys, threading, time
acc = {"kernel_s": 0.0, "calls": 0, "compile_s": 0.0, "compiles": 0, "kernels": {},
       "aot": False, "numba_imported": False, "kernel_main_s": 0.0}
def _note(name, run):
    acc["kernel_s"] += run
    if threading.current_thread() is threading.main_thread():
        acc["kernel_main_s"] += run
    acc["calls"] += 1
    d = acc["kernels"].setdefault(name, {"calls": 0, "s": 0.0})
    d["calls"] += 1
    d["s"] += run
import numpy  # imported by every run anyway; not part of loading the kernels
from simcore.dynamic import _aot
_t = time.perf_counter()
_m = _aot._module()
_t = time.perf_counter() - _t
if _m is None:
    # numba's JIT kernels: time the dispatchers (numba imported here, as the run would)
    from numba._dispatcher import Dispatcher as _C
    from numba.core import dispatcher as _d
    from numba.core.registry import CPUDispatcher
    depth = [0]
    def _call(self, *a, **k):
        if not self.py_func.__module__.startswith("simcore."):
            return _C.__call__(self, *a, **k)
        c0 = acc["compile_s"]
        t = time.perf_counter()
        try:
            return _C.__call__(self, *a, **k)
        finally:
            _note(self.py_func.__module__ + "." + self.py_func.__qualname__,
                  time.perf_counter() - t - (acc["compile_s"] - c0))
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
else:
    # the compiled kernels (simcore.dynamic._aot): loading the module is compile_s, each
    # call through _aot.call is kernel time (the argument check included)
    acc["aot"] = True
    _real = _aot.call
    def _aot_call(name, *a):
        t = time.perf_counter()
        try:
            return _real(name, *a)
        finally:
            _note(_aot.KERNELS[name] + "." + name, time.perf_counter() - t)
    _aot.call = _aot_call
    t = time.perf_counter()
    for _n in _aot.KERNELS:
        _aot.kernel(_n)
    acc["compile_s"] += time.perf_counter() - t + _t
    acc["compiles"] += 1
from simcore.cli import main
try:
    rc = main()
finally:
    acc["numba_imported"] = "numba" in sys.modules
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
        "reproduce-cold": ["reproduce"], "reproduce-nobands": ["reproduce", "--draws", "0"],
        "help": ["--help"]}
#: Commands run again on numba's JIT kernels (``SIMCORE_AOT=0``), beside the compiled ones.
JIT_TWINS = ("run", "reproduce", "reproduce-cold")
#: Commands run with an empty numba cache (a new ``NUMBA_CACHE_DIR`` each time).
COLD = ("reproduce-cold", "reproduce-cold-jit")


def commands(cold: bool) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each command's argv and the environment it adds."""
    out: dict[str, tuple[list[str], dict[str, str]]] = {
        "deps": ([sys.executable, "-c", "import numpy, xarray, numba"], {}),
        "deps+jit": (_jit_probe(), {}),
        "deps-numba": ([sys.executable, "-c", "import numpy, xarray"], {})}
    for k in ("run", "reproduce", "reproduce-cold"):
        if k == "reproduce-cold" and not cold:
            continue
        out[k] = (CLI_TIMED + ARGV[k], {})
        out[k + "-jit"] = (CLI_TIMED + ARGV[k], {"SIMCORE_AOT": "0"})
    out["reproduce-nobands"] = (CLI_TIMED + ARGV["reproduce-nobands"], {})
    out["reproduce-nocycles"] = (CLI_TIMED + ARGV["reproduce"], {"SIMCORE_CYCLES": "0"})
    out["help"] = (CLI + ARGV["help"], {})
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
    for k, (c, extra) in cmds.items():  # warm numba's cache, bytecode, the OS file cache
        if k not in COLD:
            wall(c, child_env(**extra))
    for _ in range(rounds):
        for k, (c, extra) in cmds.items():
            tmp = None
            env = child_env(**extra)
            if k in COLD:
                tmp = tempfile.mkdtemp(prefix="numba-cold-")
                env["NUMBA_CACHE_DIR"] = tmp
            t, rc, kt = wall(c, env)
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            times[k].append(t)
            kern[k].append(kt)
            rcs[k].add(rc)
    best = {k: min(v) for k, v in times.items()}
    ratios = {k: best[k] / best["deps"] for k in cmds if k != "deps"}
    floor = {k: best[k] / best["deps+jit"] for k in cmds
             if k not in ("deps", "deps-numba", "deps+jit", "help")}
    # the kernels of each command's best round, and its bound (module docstring)
    parts: dict[str, dict] = {}
    bound: dict[str, dict] = {}
    for k in ("run", "reproduce", "reproduce-cold", "reproduce-nobands", "reproduce-nocycles",
              "run-jit", "reproduce-jit", "reproduce-cold-jit"):
        if k not in cmds:
            continue
        kt = kern[k][times[k].index(best[k])]
        if not kt:
            continue
        parts[k] = kt
        # a command that never imported numba is bounded by importing numpy and xarray;
        # kernels run on other threads (lane blocks) count once per core they may share
        base = best["deps"] if kt.get("numba_imported", True) else best["deps-numba"]
        main_s = kt.get("kernel_main_s", kt["kernel_s"])
        kt["kernel_wall_s"] = main_s + (kt["kernel_s"] - main_s) / (os.cpu_count() or 1)
        lim = base + kt["compile_s"] + kt["kernel_wall_s"]
        bound[k] = {"bound_s": lim, "ratio_to_bound": best[k] / lim,
                    "bound_ratio_to_deps": lim / best["deps"], "rest_s": best[k] - lim}
    return {"best_s": best, "all_s": times, "exit_codes": {k: sorted(v) for k, v in rcs.items()},
            "ratio_to_deps": ratios, "ratio_to_deps_jit": floor,
            "targets": {k: TARGETS[k] for k in ratios if k in TARGETS},
            "met": {k: ratios[k] <= TARGETS[k] for k in ratios if k in TARGETS},
            "kernels": parts, "bound": bound, "bytecode_cached": True,
            "dask_imported_by_run": dask_imported(), "rounds": rounds,
            "cores": os.cpu_count(), "python": platform.python_version(),
            "band_draws": _band_draws(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _band_draws() -> int:
    """The posterior draws behind each band of ``simcore reproduce`` (per scenario file)."""
    sys.path.insert(0, str(ROOT))
    from simcore.references import BAND_DRAWS

    return BAND_DRAWS


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
              f"compile/load {d['compile_s']:.3f} s + running them {d['kernel_wall_s']:.3f} s "
              f"({d['calls']} calls); measured {b['ratio_to_bound']:.2f} x the bound")
    print(f"dask imported by `simcore run`: {res['dask_imported_by_run']}")


if __name__ == "__main__":
    main()
