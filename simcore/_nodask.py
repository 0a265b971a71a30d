"""Keep xarray from importing dask when nothing asks for it.

xarray checks ``isinstance(data, dask.array.Array)`` whenever it wraps an array in a
``Variable`` (``xarray.core.variable.as_compatible_data``), and to do so imports dask the
first time, if it is installed: about 0.3 s of a ``simcore run`` that otherwise never
touches dask.  No dask array can exist before ``dask.array`` is imported, so until then the
check can answer "no" without importing it.

:func:`install` puts a stand-in for dask in xarray's cache of duck-array modules
(``xarray.namedarray.pycompat._cached_duck_array_modules``): its ``type`` is a class that
no object is an instance of while ``dask.array`` is not imported, and the real
``dask.array.Array`` once it is (a Dask engine, or user code, imported it); every other
attribute (``module``, ``version``, ``available``) resolves the real module, as xarray
would.  If xarray's internals differ from what this expects, nothing is installed and
xarray behaves as it always does (it imports dask).
"""

from __future__ import annotations

import sys
from typing import Any


class _NoDaskArray:
    """Stands for ``dask.array.Array`` while ``dask.array`` is not imported (no instance of
    it can exist then)."""


class _LazyDask:
    """xarray's ``DuckArrayModule("dask")``, created only when something needs more than
    the ``isinstance`` check."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._real: Any = None

    def _resolve(self) -> Any:
        if self._real is None:
            self._real = self._factory("dask")
        return self._real

    @property
    def type(self) -> tuple[type, ...]:
        if "dask.array" in sys.modules:
            return self._resolve().type
        return (_NoDaskArray,)

    def __getattr__(self, name: str) -> Any:  # module, version, available
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._resolve(), name)


def install() -> bool:
    """Install the stand-in (idempotent); ``True`` if xarray now defers importing dask."""
    if "dask.array" in sys.modules:
        return False
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - other xarray layout
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    factory = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or factory is None:  # pragma: no cover
        return False
    if "dask" not in cache:
        cache["dask"] = _LazyDask(factory)
    elif not isinstance(cache["dask"], _LazyDask):  # pragma: no cover - dask resolved
        return False
    _wrap_collection_check()
    return True


def _wrap_collection_check() -> None:
    """``xarray.namedarray.utils.is_dask_collection`` imports ``dask.base`` to test any
    duck array (a numpy array too); before dask is imported nothing is a dask collection."""
    try:
        from xarray.namedarray import utils
    except ImportError:  # pragma: no cover
        return
    orig = getattr(utils, "is_dask_collection", None)
    if orig is None or getattr(orig, "_simcore_lazy", False):
        return

    def is_dask_collection(x: object) -> bool:
        if "dask" not in sys.modules:
            return False
        return orig(x)

    is_dask_collection._simcore_lazy = True  # type: ignore[attr-defined]
    is_dask_collection.__doc__ = orig.__doc__
    utils.is_dask_collection = is_dask_collection
