"""Kernels compiled ahead of time, when the installation has them; numba's JIT otherwise.

A process that calls a numba kernel pays numba's start-up on the first call, even when
the machine code comes from numba's on-disk cache: numba imports its type registries and
its lowering (``scipy.linalg`` among them) and starts LLVM, about 0.25-0.35 s on the
machine of ``docs/performance.md``, most of a warm ``simcore run``; and from an empty
cache it compiles each kernel first (seconds).  So the kernels a single run and a batch of
band draws call (:data:`KERNELS`) are also compiled when simcore is installed, with numba's
ahead-of-time compiler (``numba.pycc``), into the extension module
``simcore._aot_kernels``: the same Python source, compiled by the same numba for this
machine's processor, called without importing numba at all.

When is the compiled module used?  Only when all of these hold, else the JIT kernel runs,
with the same bits (``tests/test_aot.py``):

* the module imports (built for this Python and an ABI-compatible numpy);
* its stamp (:func:`stamp`, compiled into the module) equals the stamp of the sources
  now: a hash of the kernel sources (:data:`SOURCES`), the signatures, this processor's
  instruction-set features as numpy reports them, and the machine type.  An edited kernel
  (an editable install), or a module built on another processor, is not used;
* the arguments have the compiled types (:data:`SIGNATURES`; ``run_fused`` on 32-bit row
  indices);
* ``SIMCORE_AOT`` is not ``0`` in the environment (``SIMCORE_AOT=0`` runs numba's JIT
  kernels, e.g. to compare).

The build runs at install time (the package's build hook, ``simcore/_build_hook.py``) and
by hand: ``python -m simcore.dynamic._aot build`` (into the package folder) or
``python -m simcore.dynamic._aot status``.  A failed build leaves the JIT kernels: an
installation never depends on it.  The compiled wrapper releases the GIL like the JIT
kernels (``nogil``), so the lane blocks of a batch still run in parallel threads.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable

__all__ = ["KERNELS", "SIGNATURES", "SOURCES", "MODULE", "stamp", "kernel", "status", "build",
           "reset"]

#: Name of the compiled extension module.
MODULE = "simcore._aot_kernels"

#: Kernel name -> the module that defines it (numba ``@njit``); the compiled module exports
#: each under the same name.
KERNELS: dict[str, str] = {
    "run_fused": "simcore.dynamic._fused",
    "run_block": "simcore.dynamic._lanes",
}

_1 = "{}[::1]"
_2 = "{}[:, ::1]"
_3 = "{}[:, :, ::1]"


def _sig(ret: str, args: list[str]) -> str:
    return f"{ret}({', '.join(args)})"


#: The compiled signature of each kernel (numba's string form: ``f8[:, ::1]`` a C-ordered
#: 2-D float64 array).  They are the types the engine passes: unsigned CSC indices
#: (``simcore.dynamic._kernels.indices``), float64 values, int64 positions.
SIGNATURES: dict[str, str] = {
    "run_fused": _sig("i8", [
        "u8[::1]", "u4[::1]"]                                   # colptr, rowidx
        + ["f8[::1]"] * 9 + ["f8"]                              # A .. c, inv_tau
        + ["i8[::1]", "i8[::1]", "f8[:, ::1]", "f8[::1]", "f8[::1]", "f8[:, ::1]",
           "f8[:, ::1]"]                                        # special
        + ["i8[::1]", "f8[:, ::1]", "i8[::1]", "f8[:, ::1]", "f8[:, ::1]"]  # shocks
        + ["i8", "f8", "f8"]                                    # options
        + ["f8[::1]", "f8[::1]", "f8[:, ::1]", "f8[:, ::1]", "f8[:, ::1]", "f8[:, ::1]",
           "f8[::1]", "f8[:, ::1]", "i8[::1]", "f8[::1]"]       # records
        + ["i8", "i8[::1]"]),                                   # cycle_max, skipped
    "run_block": _sig("none", [
        "u8[::1]", "u4[::1]", "f8[::1]", "i8[::1]", "i8[::1]", "i8[::1]", "i8[::1]", "i8"]
        + ["f8[:, ::1]"] * 8                                    # A .. c
        + ["f8[::1]"] * 3 + ["f8[:, :, ::1]", "f8[:, ::1]", "f8[:, ::1]"]
        + ["f8[:, :, ::1]"] * 3                                 # capfac, demfac, exfac
        + ["f8[:, ::1]"] * 4 + ["f8[:, :, ::1]"] * 2 + ["i8[::1]", "i8[::1]"]
        + ["i8", "i8[::1]"]),                                   # cycle_max, skipped
}

#: The files whose text the compiled kernels are made of (relative to the package).
SOURCES: tuple[str, ...] = ("_jit.py", "errors.py", "dynamic/_bundles.py", "dynamic/_kernels.py",
                            "dynamic/_cycles.py", "dynamic/_fused.py", "dynamic/_lanes.py",
                            "dynamic/_aot.py")

_PKG = Path(__file__).resolve().parent.parent
_resolved: dict[str, Callable[..., Any]] = {}  # kernel name -> what kernel() gives
_checks: dict[str, Callable[[tuple], bool]] = {}  # kernel name -> its argument check
_state: dict[str, Any] = {}


def _cpu_features() -> list[str]:
    """This processor's instruction-set features as numpy detects them at run time."""
    try:
        from numpy._core import _multiarray_umath as mu  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import _multiarray_umath as mu
    return sorted(k for k, v in getattr(mu, "__cpu_features__", {}).items() if v)


def stamp() -> int:
    """A 63-bit stamp of the kernels' sources, their signatures, this processor's features
    and the machine type; the compiled module holds the stamp it was built with."""
    h = hashlib.blake2b(digest_size=8)
    for rel in SOURCES:
        h.update(rel.encode())
        h.update((_PKG / rel).read_bytes())
    for name in sorted(SIGNATURES):
        h.update(f"{name}={SIGNATURES[name]}".encode())
    h.update(platform.machine().encode())
    h.update(",".join(_cpu_features()).encode())
    h.update(f"{sys.version_info[0]}.{sys.version_info[1]}".encode())
    return int.from_bytes(h.digest(), "little") >> 1


def _module() -> Any | None:
    """The compiled module if it may be used here, else ``None`` (the reason in
    :func:`status`)."""
    if "module" in _state:
        return _state["module"]
    mod, why = None, ""
    if os.environ.get("SIMCORE_AOT", "1") == "0":
        why = "disabled (SIMCORE_AOT=0)"
    else:
        try:
            m = importlib.import_module(MODULE)
        except ImportError as e:
            why = f"not built ({e})"
        else:
            try:
                built = int(m.aot_stamp())
            except Exception as e:  # pragma: no cover - a foreign module of that name
                why = f"no stamp in {getattr(m, '__file__', MODULE)} ({e})"
            else:
                if built != stamp():
                    why = (f"stale: {getattr(m, '__file__', MODULE)} was built from other "
                           "kernel sources or for another processor")
                else:
                    mod = m
    _state["module"], _state["why"] = mod, why
    return mod


def kernel(name: str) -> Callable[..., Any]:
    """The kernel ``name`` (:data:`KERNELS`): the compiled one when it may be used, else
    numba's JIT dispatcher from its module (imported then)."""
    f = _resolved.get(name)
    if f is None:
        if name not in KERNELS:
            raise KeyError(f"simcore.dynamic._aot.kernel: unknown kernel {name!r}; "
                           f"expected one of {sorted(KERNELS)}")
        m = _module()
        f = getattr(m, name) if m is not None else jit(name)
        _resolved[name] = f
    return f


def jit(name: str) -> Callable[..., Any]:
    """Numba's JIT dispatcher of kernel ``name`` (imports numba and the kernel module)."""
    return getattr(importlib.import_module(KERNELS[name]), name)


_DTYPES = {"f8": "float64", "i8": "int64", "u8": "uint64", "u4": "uint32"}


def _checker(sig: str) -> Callable[[tuple], bool]:
    """A test that ``args`` have exactly the types of signature ``sig``.  The compiled
    wrapper does not check an array's dtype, rank or layout (numba's JIT dispatcher does,
    before it calls its wrapper), so an argument of another type must never reach it."""
    import numpy as np

    inner = sig[sig.index("(") + 1:-1]
    specs: list[tuple[Any, int]] = []
    depth, cur = 0, ""
    for ch in inner + ",":
        if ch == "," and depth == 0:
            t = cur.strip()
            cur = ""
            if "[" in t:
                specs.append((np.dtype(_DTYPES[t[:t.index("[")]]), t.count(",") + 1))
            else:
                specs.append((t, 0))
            continue
        depth += (ch == "[") - (ch == "]")
        cur += ch
    nd_ = np.ndarray
    ints = (int, np.integer)
    floats = (float, int, np.floating, np.integer)

    def ok(args: tuple) -> bool:
        if len(args) != len(specs):
            return False
        for a, (dt, nd) in zip(args, specs):
            if nd:
                if (type(a) is not nd_ or a.dtype != dt or a.ndim != nd
                        or not a.flags.c_contiguous):
                    return False
            elif dt == "i8":
                if not isinstance(a, ints) or isinstance(a, bool):
                    return False
            elif not isinstance(a, floats) or isinstance(a, bool):
                return False
        return True

    return ok


def call(name: str, *args: Any) -> Any:
    """Call kernel ``name`` on ``args``: the compiled kernel when it may be used and
    ``args`` have its compiled types (:data:`SIGNATURES`), else the JIT kernel (same
    bits)."""
    f = kernel(name)
    if _module() is not None:
        ok = _checks.get(name)
        if ok is None:
            ok = _checks[name] = _checker(SIGNATURES[name])
        if not ok(args):
            f = jit(name)
    return f(*args)


def status() -> dict[str, Any]:
    """Whether the compiled kernels are used, and if not why."""
    m = _module()
    return {"used": m is not None, "module": getattr(m, "__file__", None),
            "why": _state.get("why", ""), "kernels": sorted(KERNELS)}


def reset() -> None:
    """Forget what :func:`kernel` resolved (tests; after a build in the same process)."""
    _resolved.clear()
    _checks.clear()
    _state.clear()
    sys.modules.pop(MODULE, None)


def build(out_dir: str | os.PathLike | None = None, verbose: bool = False) -> Path:
    """Compile :data:`KERNELS` with ``numba.pycc`` into ``out_dir`` (default: the package
    folder) as :data:`MODULE`; return the file written.  Needs numba with ``numba.pycc``
    and a C compiler.  The file is written under a temporary name and renamed into place,
    so a failed build leaves nothing half-written."""
    import tempfile

    import numba.pycc.compiler as pycc_compiler
    from numba.pycc import CC

    out = Path(out_dir) if out_dir is not None else _PKG
    out.mkdir(parents=True, exist_ok=True)
    value = stamp()

    def aot_stamp():
        return value

    class _NogilFlags(pycc_compiler.Flags):
        # the compiled wrappers release the GIL as the JIT kernels do (simcore._jit: nogil)
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, **k)
            self.release_gil = True

    with tempfile.TemporaryDirectory(dir=out) as tmp:
        cc = CC(MODULE.rsplit(".", 1)[1])
        cc.output_dir = tmp
        cc.verbose = verbose
        cc.target_cpu = "host"
        for name in KERNELS:
            cc.export(name, SIGNATURES[name])(jit(name).py_func)
        cc.export("aot_stamp", "i8()")(aot_stamp)
        saved = pycc_compiler.Flags
        pycc_compiler.Flags = _NogilFlags
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = saved
        made = list(Path(tmp).glob(MODULE.rsplit(".", 1)[1] + ".*"))
        if len(made) != 1:  # pragma: no cover - pycc wrote something unexpected
            raise RuntimeError(f"simcore AOT build: expected one module in {tmp}, found "
                               f"{[p.name for p in made]}")
        target = out / made[0].name
        os.replace(made[0], target)
    reset()
    return target


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m simcore.dynamic._aot",
                                 description="simcore's ahead-of-time compiled kernels")
    ap.add_argument("action", choices=["build", "status"])
    ap.add_argument("--out", default=None, help="folder (default: the package's)")
    a = ap.parse_args(argv)
    if a.action == "build":
        print(build(a.out, verbose=False))
        return 0
    s = status()
    print(("used: " + str(s["module"])) if s["used"] else ("not used: " + s["why"]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
