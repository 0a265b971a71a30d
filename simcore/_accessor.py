"""``result.simcore``: plotting methods on simcore's result Datasets.

Registered when a result-producing module (:mod:`simcore.dynamic.supply_chain`,
:mod:`simcore.sweeps`) is imported; the methods import matplotlib only when called.

>>> import simcore as sc
>>> res = sc.simulate(sc.datasets.load("japan-2015-37"),
...                   sc.CapacityShock(sector="35", share=0.2, duration=30), days=90)
>>> fig = res.simcore.overview()   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import xarray as xr

__all__ = ["SimcoreAccessor"]


@xr.register_dataset_accessor("simcore")
class SimcoreAccessor:
    """Plot a simcore result: ``res.simcore.trajectory()``, ``.losses_by_sector()``,
    ``.overview()``, ``.save(path)``; for sweeps ``.response_surface(x, y)``,
    ``.response_curve(x)`` and ``.tornado()`` (Sobol or Morris indices)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def _plot(self, name: str, *args: Any, **kwargs: Any):
        from . import plot

        return getattr(plot, name)(self._ds, *args, **kwargs)

    def trajectory(self, **kwargs: Any):
        """:func:`simcore.plot.trajectory` of this result."""
        return self._plot("trajectory", **kwargs)

    def losses_by_sector(self, top: int = 15, **kwargs: Any):
        """:func:`simcore.plot.losses_by_sector` of this result."""
        return self._plot("losses_by_sector", top, **kwargs)

    def overview(self, top: int = 15, **kwargs: Any):
        """:func:`simcore.plot.overview` (trajectory and losses by sector)."""
        return self._plot("overview", top, **kwargs)

    def response_surface(self, x: str, y: str, var: str = "gdp_loss_total", **kwargs: Any):
        """:func:`simcore.plot.response_surface` of a sweep result."""
        return self._plot("response_surface", x, y, var, **kwargs)

    def response_curve(self, x: str, var: str = "gdp_loss_total", **kwargs: Any):
        """:func:`simcore.plot.response_curve` of a sweep result."""
        return self._plot("response_curve", x, var, **kwargs)

    def tornado(self, **kwargs: Any):
        """:func:`simcore.plot.tornado` of a sweep's Sobol or Morris indices."""
        from . import plot

        return plot.tornado(self._ds, **kwargs)

    def save(self, path: str, top: int = 15, **kwargs: Any):
        """Save :meth:`overview` to ``path`` (atomically); returns the path."""
        from . import plot

        return plot.save(self.overview(top), path, **kwargs)
