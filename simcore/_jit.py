"""The JIT policy for every numba kernel in simcore, in one place.

- ``cache=True``: compiled machine code is written to numba's on-disk cache (next to the
  source, or under ``NUMBA_CACHE_DIR``), so a second process does not recompile.
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

from typing import Any, Callable

from .errors import KernelError

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
    if fn is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(fn)


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
