"""The JIT policy for every numba kernel in simcore, in one place.

- ``cache=True``: compiled machine code is written to numba's on-disk cache (next to the
  source, or under ``NUMBA_CACHE_DIR``), so a second process does not recompile.  numba
  reuses a cached kernel while the text of the kernel's own file is unchanged: it does not
  look at the files of the helpers the kernel calls (``run_fused`` in ``_fused.py`` calls
  helpers of ``_kernels.py`` and ``_cycles.py``), so an edited helper would leave the
  kernel's old machine code in use, silently.  :func:`njit` therefore adds a hash of every
  file numba compiles into simcore's kernels (:data:`KERNEL_SOURCES`) to the stamp numba
  checks: an edit of any of them recompiles every cached kernel.
- ``error_model="numpy"``: division by zero gives inf/nan as in numpy instead of raising
  inside the kernel; kernels guard every division explicitly (``0/0 := 0`` for shares) and
  report failures through an integer status that the Python layer turns into a
  :class:`~simcore.errors.KernelError`.  No exception is ever raised from inside numba.
- ``fastmath=False``: results must be reproducible and comparable to the numpy reference to
  ~1e-12; reassociation would break that.
- ``boundscheck=False`` (numba's default).
- ``nogil=True``: kernels release the GIL, so Dask's threaded workers can run them in
  parallel.
- ``parallel=True`` only for the batch kernels, which ``prange`` over a leading scenario axis.

Importing this module does not import numba; :func:`njit` and :func:`njit_parallel` import it
lazily when the kernel module that uses them is imported, which happens on first use of the
dynamic engine (``import simcore`` compiles nothing).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

from .errors import KernelError

#: The files (relative to the package) whose text numba compiles into simcore's kernels:
#: every module that defines one (``tests/test_jit_cache.py`` checks that none is missing)
#: and the module constants they read (status codes here, rationing rules in
#: ``_bundles.py``).
KERNEL_SOURCES: tuple[str, ...] = (
    "_jit.py", "dynamic/_bundles.py", "dynamic/_kernels.py", "dynamic/_cycles.py",
    "dynamic/_fused.py", "dynamic/_lanes.py", "dynamic/_rows.py", "dynamic/_ario_kernels.py",
    "dynamic/_mrio_kernels.py")
_PKG = Path(__file__).resolve().parent
_HASH: dict[Path, str] = {}


def sources_hash(root: str | Path | None = None) -> str:
    """A hash of the text of :data:`KERNEL_SOURCES` under ``root`` (default: this package),
    read once per process."""
    r = Path(root) if root is not None else _PKG
    h = _HASH.get(r)
    if h is None:
        b = hashlib.blake2b(digest_size=16)
        for rel in KERNEL_SOURCES:
            b.update(rel.encode())
            try:
                b.update((r / rel).read_bytes())
            except OSError:
                b.update(b"<missing>")
        h = _HASH[r] = b.hexdigest()
    return h


def _stamp_sources(disp: Any) -> bool:
    """Make ``disp``'s on-disk cache (numba's ``FunctionCache``) check
    :func:`sources_hash` beside its own file's hash; returns whether it could (numba's
    cache keeps the stamp in ``_cache._cache_file._source_stamp``, as of numba 0.68;
    ``tests/test_jit_cache.py`` fails if that changes)."""
    cf = getattr(getattr(disp, "_cache", None), "_cache_file", None)
    if cf is None or not hasattr(cf, "_source_stamp"):
        return False
    cf._source_stamp = (cf._source_stamp, sources_hash())
    return True

JIT_OPTIONS: dict[str, Any] = {
    "cache": True,
    "error_model": "numpy",
    "fastmath": False,
    "nogil": True,
}


def njit(fn: Callable | None = None, **extra: Any):
    """``numba.njit`` with simcore's policy (see the module docstring)."""
    import numba

    opts = {**JIT_OPTIONS, **extra}

    def make(f: Callable) -> Any:
        disp = numba.njit(**opts)(f)
        if opts.get("cache"):
            _stamp_sources(disp)
        return disp

    if fn is None:
        return make
    return make(fn)


def njit_parallel(fn: Callable | None = None, **extra: Any):
    """``numba.njit(parallel=True)`` with simcore's policy, for batch kernels."""
    return njit(fn, parallel=True, **extra)


# Kernel status codes (returned by kernels, raised by the Python layer).
STATUS_OK = 0
STATUS_NEGATIVE_STOCK = 1
STATUS_NON_FINITE = 2
STATUS_NEGATIVE_OUTPUT = 3

STATUS_MESSAGES = {
    STATUS_NEGATIVE_STOCK: "an inventory went negative",
    STATUS_NON_FINITE: "a state variable became NaN or infinite",
    STATUS_NEGATIVE_OUTPUT: "output went negative",
}


def raise_for_status(status: int, *, where: str = "kernel", day: int = -1, detail: str = "") -> None:
    """Raise :class:`~simcore.errors.KernelError` for a non-zero kernel status."""
    if status == STATUS_OK:
        return
    msg = STATUS_MESSAGES.get(int(status), f"unknown status {int(status)}")
    at = f" on day {day}" if day >= 0 else ""
    raise KernelError(f"{where}: {msg}{at}{'; ' + detail if detail else ''}")
