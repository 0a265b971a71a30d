"""The daily propagation engines.

- :func:`simulate` -- simcore's supply-chain engine (partially binding Leontief with
  inventories, after Pichler et al. 2022, extended with origin-specific import cuts,
  stockpiles, substitution ramps and CES substitution); see ``docs/methodology``.
- :mod:`simcore.dynamic.ario` -- an ARIO engine that reproduces BoARIO's ``ARIOPsiModel``.

Submodules are imported lazily, so ``import simcore.dynamic`` compiles nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "simulate",
    "simulate_batch",
    "ImportCut",
    "ExportCut",
    "CapacityShock",
    "DemandShock",
    "DynamicParams",
    "simulate_ario",
    "simulate_ario_batch",
    "ARIOParams",
    "ArbitraryCapacityLoss",
    "ario",
]

_ATTRS = {
    "simulate": "simcore.dynamic.mrio",  # dispatches: one region -> supply_chain, MRIO -> mrio
    "simulate_batch": "simcore.dynamic.batch",
    "prepare_model": "simcore.dynamic.supply_chain",
    "ImportCut": "simcore.dynamic.shocks",
    "ExportCut": "simcore.dynamic.shocks",
    "simulate_mrio": "simcore.dynamic.mrio",
    "prepare_mrio": "simcore.dynamic.mrio",
    "third_country_split": "simcore.dynamic.mrio",
    "CapacityShock": "simcore.dynamic.shocks",
    "DemandShock": "simcore.dynamic.shocks",
    "DynamicParams": "simcore.dynamic.params",
    "simulate_ario": "simcore.dynamic.ario",
    "simulate_ario_batch": "simcore.dynamic.ario",
    "prepare_ario": "simcore.dynamic.ario",
    "ARIOParams": "simcore.dynamic.ario",
    "ArbitraryCapacityLoss": "simcore.dynamic.ario",
    "capacity_loss": "simcore.dynamic.ario",
}


def __getattr__(name: str) -> Any:
    if name in ("ario", "supply_chain", "shocks", "params", "batch", "common", "mrio"):
        return importlib.import_module(f"simcore.dynamic.{name}")
    if name in _ATTRS:
        return getattr(importlib.import_module(_ATTRS[name]), name)
    raise AttributeError(f"module 'simcore.dynamic' has no attribute {name!r}")
