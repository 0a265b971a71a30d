"""simcore: supply-shock propagation in input-output tables.

``import simcore`` is cheap: it compiles nothing and imports submodules lazily on first
attribute access (numba kernels compile on first call, with an on-disk cache).

Main entry points
-----------------
- :mod:`simcore.datasets` -- embedded tables: ``simcore.datasets.load("japan-2015-185")``.
- :mod:`simcore.tables` -- the IO table data model, constructors, validation, coefficients.
- :mod:`simcore.transform` -- aggregation, carve-out, rescaling, preprocessing.
- :mod:`simcore.static` -- Leontief, Ghosh, multipliers, extraction, IIM, supply-constrained.
- :mod:`simcore.dynamic` -- the daily propagation engine (``simcore.simulate``).
- :mod:`simcore.scenario` -- scenario files (TOML).
- :mod:`simcore.sweeps` -- batched, resumable, distributed scenario sweeps.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

__all__ = [
    "__version__",
    "datasets",
    "tables",
    "transform",
    "static",
    "dynamic",
    "errors",
    "scenario",
    "pymrio_bridge",
    "simulate",
    "ImportCut",
    "ExportCut",
    "CapacityShock",
    "DemandShock",
    "DynamicParams",
    "sweep",
    "sweeps",
    "from_pymrio",
    "to_pymrio",
]

_SUBMODULES = {
    "datasets", "tables", "transform", "static", "dynamic", "errors", "scenario",
    "pymrio_bridge", "plot", "calibrate", "sweeps",
}
_ATTRS = {
    "simulate": ("simcore.dynamic", "simulate"),
    "ImportCut": ("simcore.dynamic", "ImportCut"),
    "ExportCut": ("simcore.dynamic", "ExportCut"),
    "CapacityShock": ("simcore.dynamic", "CapacityShock"),
    "DemandShock": ("simcore.dynamic", "DemandShock"),
    "DynamicParams": ("simcore.dynamic", "DynamicParams"),
    "sweep": ("simcore.sweeps", "sweep"),
    "from_pymrio": ("simcore.pymrio_bridge", "from_pymrio"),
    "to_pymrio": ("simcore.pymrio_bridge", "to_pymrio"),
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"simcore.{name}")
    if name in _ATTRS:
        mod, attr = _ATTRS[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'simcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | _SUBMODULES)
