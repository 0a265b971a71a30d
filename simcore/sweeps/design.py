"""Sweep designs: grids, zipped lists and sampled ranges (random, LHS, Sobol, Morris),
checked against the scenario schema before anything runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DesignError, ScenarioError


#: Sampling methods for ``ranges``.
METHODS = ("random", "lhs", "sobol", "morris")
_SWEEPABLE_ROOTS = ("table", "shocks", "model")


# --------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------
def _plain(v: Any) -> Any:
    """A JSON-able copy of a design value (numpy scalars to Python)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass
class Design:
    """A sweep design: which keys take which values in which scenario (flat, C order).

    ``grid`` axes vary slowest-first in the order given, then the zipped ``point`` axis;
    sampled designs have one ``sample`` axis.  ``values(a, b)`` gives the overrides of
    scenarios ``a..b-1`` without materialising the whole design.
    """

    method: str  # "grid" or one of METHODS
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zipped: dict[str, list[Any]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    samples: int | None = None
    seed: int | None = None
    levels: int = 4
    X: np.ndarray | None = None  # sampled points (n, keys)

    @property
    def keys(self) -> list[str]:
        return list(self.grid) + list(self.zipped) + list(self.ranges)

    @property
    def shape(self) -> tuple[int, ...]:
        if self.method == "grid":
            sh = tuple(len(v) for v in self.grid.values())
            if self.zipped:
                sh += (len(next(iter(self.zipped.values()))),)
            return sh
        assert self.X is not None
        return (self.X.shape[0],)

    @property
    def dims(self) -> tuple[str, ...]:
        if self.method == "grid":
            return tuple(self.grid) + (("point",) if self.zipped else ())
        return ("sample",)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def point(self, i: int) -> dict[str, Any]:
        if self.method != "grid":
            assert self.X is not None
            return {k: float(self.X[i, q]) for q, k in enumerate(self.ranges)}
        idx = np.unravel_index(i, self.shape) if self.shape else ()
        out = {k: self.grid[k][int(idx[q])] for q, k in enumerate(self.grid)}
        if self.zipped:
            p = int(idx[-1])
            out.update({k: v[p] for k, v in self.zipped.items()})
        return out

    def values(self, a: int, b: int) -> list[dict[str, Any]]:
        return [self.point(i) for i in range(a, b)]

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "grid": _plain(self.grid),
                "zipped": _plain(self.zipped),
                "ranges": {k: [float(lo), float(hi)] for k, (lo, hi) in self.ranges.items()},
                "samples": self.samples, "seed": self.seed,
                "levels": self.levels if self.method == "morris" else None,
                "size": self.size, "dims": list(self.dims)}


def _problem(ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges),
            "bounds": [[float(lo), float(hi)] for lo, hi in ranges.values()]}


def _salib(what: str):
    try:
        if what == "sample":
            from SALib.sample import morris, sobol
        else:
            from SALib.analyze import morris, sobol
    except ImportError as exc:  # pragma: no cover - SALib is a test dependency
        raise DesignError("methods 'sobol' and 'morris' need SALib: "
                          "pip install 'simcore[salib]'") from exc
    return sobol, morris


def _sample(d: Design) -> np.ndarray:
    lo = np.array([r[0] for r in d.ranges.values()], dtype=float)
    hi = np.array([r[1] for r in d.ranges.values()], dtype=float)
    k = len(lo)
    n = int(d.samples or 0)
    if d.method == "random":
        u = np.random.default_rng(d.seed).random((n, k))
    elif d.method == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=k, seed=np.random.default_rng(d.seed)).random(n)
    elif d.method == "sobol":
        sobol, _ = _salib("sample")
        return np.asarray(sobol.sample(_problem(d.ranges), n, calc_second_order=False,
                                       seed=d.seed), dtype=float)
    else:
        _, morris = _salib("sample")
        return np.asarray(morris.sample(_problem(d.ranges), n, num_levels=d.levels,
                                        seed=d.seed), dtype=float)
    return lo + u * (hi - lo)


def _as_list(key: str, vals: Any, what: str) -> list[Any]:
    if isinstance(vals, (str, bytes, Mapping)) or not hasattr(vals, "__iter__"):
        raise DesignError(f"{what}[{key!r}]: expected a list of values, got {vals!r}")
    out = [_plain(v) for v in vals]
    if not out:
        raise DesignError(f"{what}[{key!r}]: the list of values is empty; give at least one")
    return out


_CARVE = "table.carve_out_overrides."


def _overrides(data: Mapping[str, Any], ov: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides for :func:`simcore.scenario.apply_overrides`.

    ``table.carve_out_overrides.PRODUCT.PARENT.output`` addresses one entry of the
    ``carve_out_overrides`` map, whose keys hold dots themselves; it becomes an override of
    the whole map."""
    out = {k: v for k, v in ov.items() if not k.startswith(_CARVE)}
    carve = {k[len(_CARVE):]: v for k, v in ov.items() if k.startswith(_CARVE)}
    if carve:
        cur = dict(data.get("table", {}).get("carve_out_overrides", {}))
        cur.update(carve)
        out["table.carve_out_overrides"] = cur
    return out


def _with(base: Any, ov: Mapping[str, Any]) -> Any:
    return base.copy_with(_overrides(base.data, ov)) if ov else base


def _check_key(base: Any, key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise DesignError(f"sweep key {key!r}: expected a dotted scenario key such as "
                          "'model.inventory_days' or 'shocks.0.share'")
    root = key.split(".")[0]
    if root not in _SWEEPABLE_ROOTS:
        hint = ("; pass days= to sweep() to set the horizon" if root == "horizon" else "")
        raise DesignError(f"sweep key {key!r}: unknown or not sweepable; sweep keys start with "
                          f"{', '.join(r + '.' for r in _SWEEPABLE_ROOTS)}{hint}")
    return key


def _check_value(base: Any, key: str, value: Any) -> None:
    """Apply one override to the base scenario: unknown keys, wrong types and out-of-range
    values are rejected here, before anything runs."""
    try:
        _with(base, {key: value})
    except ScenarioError as exc:
        msg = str(exc)
        if "unknown key" in msg or "no item" in msg or "must be a table" in msg:
            raise DesignError(f"sweep key {key!r} is unknown to the scenario: {msg}") from None
        raise DesignError(f"sweep value {key} = {value!r} is not allowed: {msg}") from None


#: Largest sample matrix a sampled design may draw (bytes): the design itself is held in
#: memory, even when the results are streamed to disk.
MAX_SAMPLE_BYTES = 2 * 1024**3


def make_design(base: Any, grid: Mapping[str, Any] | None = None,
                zipped: Mapping[str, Any] | None = None,
                ranges: Mapping[str, Any] | None = None, *, method: str | None = None,
                samples: int | None = None, seed: int | None = None,
                levels: int = 4) -> Design:
    """Check a design against the scenario ``base`` and build it (see :func:`sweep`)."""
    for name, v in (("grid", grid), ("zipped", zipped), ("ranges", ranges)):
        if v is not None and not isinstance(v, Mapping):
            raise DesignError(f"{name} = {v!r}: expected a mapping {{scenario key: values}}, "
                              f"e.g. {name}={{'model.inventory_days': [10, 30]}}")
    grid = dict(grid or {})
    zipped = dict(zipped or {})
    ranges = dict(ranges or {})
    if not (grid or zipped or ranges):
        raise DesignError("empty design: give grid=, zipped= or ranges= with at least one key")
    seen: set[str] = set()
    for k in list(grid) + list(zipped) + list(ranges):
        _check_key(base, k)
        if k in seen:
            raise DesignError(f"sweep key {k!r} is given twice")
        seen.add(k)
    if ranges:
        if grid or zipped:
            raise DesignError("ranges (sampled designs) cannot be combined with grid= or "
                              "zipped=; fix the other keys with overrides=")
        method = method or "lhs"
        if method not in METHODS:
            raise DesignError(f"method {method!r}: expected one of {', '.join(METHODS)}")
        if samples is None:
            raise DesignError("ranges (LO..HI) need samples= (--samples on the command line): "
                              "the number of points to draw")
        if isinstance(samples, bool) \
                or not isinstance(samples, (int, np.integer)) or samples < 1:
            raise DesignError(f"samples = {samples!r}: a sampled design needs a whole number of "
                              "samples >= 1")
        if method == "sobol" and samples & (samples - 1):
            raise DesignError(f"samples = {samples!r}: Saltelli's scheme for sobol needs a "
                              "power of 2 as its base size (e.g. 64, 128, 256)")
        if method == "morris" and (not isinstance(levels, int) or levels < 2):
            raise DesignError(f"levels = {levels!r}: Morris needs a whole number of levels >= 2")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        out_r: dict[str, tuple[float, float]] = {}
        for k, r in ranges.items():
            if k.startswith("table."):
                raise DesignError(f"sweep key {k!r}: table keys need a prepared table per "
                                  "value; sweep them on a grid or zipped list, not a range")
            try:
                lo, hi = (float(x) for x in r)
            except (TypeError, ValueError):
                raise DesignError(f"ranges[{k!r}] = {r!r}: expected (low, high)") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise DesignError(f"ranges[{k!r}] = {r!r}: expected finite low < high")
            _check_value(base, k, lo)
            _check_value(base, k, hi)
            out_r[k] = (lo, hi)
        n_dim = len(out_r)
        points = int(samples) * {"sobol": 2 * n_dim + 2, "morris": n_dim + 1}.get(method, 1)
        if points * max(n_dim, 1) * 8 > MAX_SAMPLE_BYTES:
            raise DesignError(
                f"samples = {samples!r}: the {method} design has {points:,} points, whose "
                f"sample matrix alone needs {points * n_dim * 8 / 1e9:,.1f} GB (limit "
                f"{MAX_SAMPLE_BYTES / 1e9:.1f} GB); split it into several sweeps")
        d = Design(method=method, ranges=out_r, samples=int(samples), seed=int(seed),
                   levels=levels)
        d.X = _sample(d)
        return d
    if method not in (None, "grid", "zip"):
        raise DesignError(f"method {method!r} needs ranges=; grid= and zipped= take lists")
    g = {k: _as_list(k, v, "grid") for k, v in grid.items()}
    z = {k: _as_list(k, v, "zipped") for k, v in zipped.items()}
    if len({len(v) for v in z.values()}) > 1:
        raise DesignError("zipped lists must have the same length; got "
                          + ", ".join(f"{k}: {len(v)}" for k, v in z.items()))
    for k, vals in list(g.items()) + list(z.items()):
        for v in vals:
            _check_value(base, k, v)
    return Design(method="grid", grid=g, zipped=z, seed=seed)
