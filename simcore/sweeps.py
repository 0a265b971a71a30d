"""Scenario sweeps: thousands of variants of a scenario in one call, on every core or on a
Dask cluster, streamed to disk and resumable.

>>> import simcore as sc
>>> res = sc.sweep("kiuchi-2025-3m", grid={"shocks.0.share": [0.5, 1.0]})   # doctest: +SKIP

Designs
-------
``grid={key: [v1, v2, ...], ...}``
    the full factorial; the result has one dimension per key, named by the key.
``zipped={key: [...], ...}``
    lists of equal length varied together (point ``i`` takes the ``i``-th value of every
    list); the result has a dimension ``point`` with one coordinate per key.  It can be
    combined with ``grid`` (the points are then crossed with the grid).
``ranges={key: (lo, hi), ...}`` with ``method`` and ``samples``
    ``"random"`` (uniform) or ``"lhs"`` (Latin hypercube): ``samples`` points drawn with
    ``seed``; ``"sobol"`` (Saltelli's scheme, ``samples * (keys + 2)`` points) and
    ``"morris"`` (``samples`` trajectories, ``samples * (keys + 1)`` points) through SALib
    (``pip install simcore[salib]``), whose sensitivity indices of ``gdp_loss_total`` are
    returned as variables over a ``parameter`` dimension (Sobol: ``S1``, ``S1_conf``,
    ``ST``, ``ST_conf``; Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``).
    The result has a dimension ``sample`` with one coordinate per key.

Keys are the dotted scenario keys of :func:`simcore.scenario.apply_overrides`
(``"model.inventory_days"``, ``"shocks.0.share"``, ``"model.import_origins.RE.CHN"``,
``"table.carve_out_overrides.MAG.3399.output"``).  Every value is checked against the
scenario schema before anything runs.

How scenarios are batched
-------------------------
Keys under ``table`` change the table: each distinct table is prepared once and shared by
its scenarios (so they can be swept on grids and zipped lists only).  Other keys are
lowered per scenario and run by :func:`simcore.dynamic.batch.run_lowered`, which groups
scenarios that share the kernel's common arrays (see :mod:`simcore.dynamic.batch`) and runs
each group as one parallel kernel call.

Horizon
-------
``days=None`` (default) uses the scenario's ``horizon.days``.  A whole number is a fixed
horizon for every scenario.  ``'auto'`` follows :meth:`simcore.scenario.Scenario.run`
exactly, scenario by scenario: the horizon is ``ceil(end of the scenario's last shock +
tail_days)`` (capped at ``max_days``), doubled until output and stocks are back at
baseline (the rule of ``recovered``, :func:`simcore.dynamic.model.recovered_rule`) or
``max_days`` is reached.  Chunks run at the design's common horizon ``ceil(max shock end
over the design) + tail_days`` (the ``horizon_days`` attribute, also the length of the
optional daily record); each scenario's totals are summed over its own horizon (the daily
loss of a longer run is identical up to any day: the model is causal), and scenarios not
back at baseline are run again over the doubled horizon.  ``days`` (per scenario) and
``recovered`` report the outcome.  So a sweep point equals ``simcore run`` of the same
scenario to round-off.

Storage and resuming
--------------------
With ``out=PATH`` (a directory) each chunk of scenarios is written atomically to
``PATH/chunks/chunk-NNNNNN.npz`` as soon as it is done, with a SHA-256 checksum inside over
its arrays and its identity (the sweep's fingerprint, the chunk's index, first scenario and
size); ``PATH/manifest.json`` records the scenario, the design, the seed, the options, the
simcore version, the engine, the SHA-256 of every input file (embedded dataset, carve-out
files), the fingerprint of all these, and the checksums and sizes of finished chunks.
Calling :func:`sweep` again with the same arguments and ``PATH`` (or ``simcore sweep``
again) skips every valid chunk and recomputes only missing, partial, corrupt or foreign
ones (unreadable; checksum not its own, not the manifest's, or of another sweep or chunk).
A chunk written before chunks carried the gains (``gdp_gain_total``) is recomputed with a
warning (``attrs['chunks_old_format']`` counts them), never assembled without them.
Another fingerprint (other arguments, an edited input file, another version or engine) is
refused with a :class:`~simcore.errors.DesignError` saying what differs; a manifest that is
empty, truncated, edited or lacks the fingerprint with a
:class:`~simcore.errors.DataError` naming it.  ``PATH/sweep.lock`` (created with
``O_CREAT | O_EXCL``, holding pid, host and start time) keeps a second sweep out of the
folder while one runs; a dead holder's lock on this host is taken over.  A sweep that fails
before its first chunk is written removes what it created.  The assembled result is
written atomically to ``PATH/result.nc``
(``format="netcdf"``) or ``PATH/result.zarr`` (``format="zarr"``).  A design whose
result would not fit in ``max_memory`` bytes is refused unless it is streamed: with
``out`` and ``format="zarr"`` it is assembled chunk by chunk along a flat ``scenario``
dimension (with one coordinate per key) and returned lazily opened from disk.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import _io, datasets
from ._progress import Progress
from ._version import __version__
from .dynamic import batch as _b
from .dynamic import mrio as _mrio
from .dynamic.model import check_lowering, recovered_rule
from .rare_earths import read_spec_bytes
from .run import Horizon, ario_inputs, prepare_ario_table
from .scenario import Scenario, _cached_spec, apply_overrides, load
from .errors import (
    DataError,
    DesignError,
    LabelError,
    ParameterError,
    ScenarioError,
    ShockError,
    SimcoreError,
)
from .tables import yen_per_unit

__all__ = ["sweep", "Design", "METHODS", "ENGINES"]

#: Sampling methods for ``ranges``.
METHODS = ("random", "lhs", "sobol", "morris")
#: Engines.
ENGINES = ("local", "dask")
#: Default memory budget for an in-memory result (bytes).
MAX_MEMORY = 2 * 1024**3
_MANIFEST_VERSION = 2
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


# --------------------------------------------------------------------------------------
# Lowering scenarios on a worker
# --------------------------------------------------------------------------------------
@dataclass
class _Lowerer:
    """Everything needed to turn overrides into ``(shocks, params)`` without file access.

    ``specs`` maps every value ``table.carve_out`` takes in the design (``""`` for none) to
    the carve-out data parsed from the very bytes the sweep's fingerprint hashed, so each
    scenario takes its dependency and origin shares from its own file."""

    data: dict[str, Any]
    path: Any
    specs: dict[str, Any]
    allow_outside_data: bool = False

    def scenario(self, overrides: Mapping[str, Any]):
        sc = Scenario(apply_overrides(self.data, _overrides(self.data, overrides),
                                      str(self.path or "")), self.path,
                      allow_outside_data=self.allow_outside_data)
        return _pin(sc, self.specs)

    def lower(self, overrides: Mapping[str, Any], index: int) -> tuple[list[Any], Any]:
        sc = self.scenario(overrides)
        try:
            return sc.shocks(), sc.params()
        except (ScenarioError, ShockError, ParameterError) as exc:
            raise DesignError(
                f"sweep scenario {index} ({_plain(dict(overrides))}): {exc}") from None


@dataclass
class _Options:
    days: int | None  # fixed horizon, or None for 'auto'
    T0: int  # horizon of the first run of every chunk
    tail: float
    max_days: int
    sectors: bool
    daily: bool
    threads: int | None = None

    @property
    def horizon(self) -> Horizon:
        """The run layer's horizon rule (:class:`simcore.run.Horizon`) with these options."""
        return Horizon(days=self.days, tail_days=self.tail, max_days=self.max_days)


def _pin(sc: Any, specs: Mapping[str, Any]) -> Any:
    """``sc`` with its carve-out data taken from ``specs`` (read once, hashed) instead of
    from the file, which could have changed since."""
    key = sc.data["table"].get("carve_out") or ""

    def spec():
        try:
            return specs[key]
        except KeyError:
            raise DesignError(f"table.carve_out = {key!r}: this carve-out data file was not "
                              "read when the sweep started") from None

    sc.carve_spec = spec  # type: ignore[method-assign]
    return sc


def _prepare(base: Any, ov: Mapping[str, Any], specs: Mapping[str, Any]) -> Any:
    """The prepared table of ``base`` with the table overrides ``ov``, built from ``specs``."""
    return _pin(_with(base, ov), specs).prepared()


#: Scenario keys that name a data file (besides ``table.dataset``, an embedded file).
_FILE_KEYS = ("table.carve_out", "model.criticality", "model.buffers")


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _inputs(base: Any, design: Design) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """Every data file the sweep reads, with the SHA-256 of its content, and the carve-out
    data parsed from exactly those bytes (by value of ``table.carve_out``).

    The files are the embedded dataset (``table.dataset``), the carve-out data file
    (``table.carve_out``) and the criticality and buffers files (``model.criticality``,
    ``model.buffers``) of the base scenario and of every value the design gives them."""
    def values(key: str) -> list[Any]:
        head, last = key.split(".")
        vals = [base.data.get(head, {}).get(last)]  # a scenario may have no [model]
        vals += list(design.grid.get(key, [])) + list(design.zipped.get(key, []))
        return [v for i, v in enumerate(vals) if v and v not in vals[:i]]

    inputs: dict[str, dict[str, str]] = {}
    for name in values("table.dataset"):
        p = datasets.path(name)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise DesignError(f"table.dataset = {name!r}: cannot read {p} ({exc})") from None
        inputs[f"table.dataset={name}"] = {"path": str(p), "sha256": _sha256(raw)}
    specs: dict[str, Any] = {"": None}
    for value in values("table.carve_out"):
        p = base.carve_path(value)
        try:
            raw = read_spec_bytes(p)
            specs[value] = _cached_spec(str(p), raw)
        except ScenarioError as exc:
            raise DesignError(f"table.carve_out = {value!r}: {exc}") from None
        inputs[f"table.carve_out={value}"] = {"path": str(p), "sha256": _sha256(raw)}
    for key in ("model.criticality", "model.buffers"):
        for value in values(key):
            try:
                p = base._data_path(value, key)
                raw = p.read_bytes()
            except (ScenarioError, OSError) as exc:
                raise DesignError(f"{key} = {value!r}: {exc}") from None
            inputs[f"{key}={value}"] = {"path": str(p), "sha256": _sha256(raw)}
    return inputs, specs


def _table_key(ov: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in ov.items() if k.startswith("table.")}, sort_keys=True,
                      default=str)


def _compute_chunk(cid: int, start: int, overrides: list[dict[str, Any]], tids: list[int],
                   preps: Mapping[int, Any], lowerer: _Lowerer, opt: _Options) -> dict[str, Any]:
    """Run one chunk of scenarios; bare arrays in scenario order (runs on any worker)."""
    if opt.threads:
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(max(1, min(int(opt.threads), numba.config.NUMBA_NUM_THREADS)))
        try:
            return _compute_chunk(cid, start, overrides, tids, preps, lowerer,
                                  _replace(opt, threads=None))
        finally:
            numba.set_num_threads(before)
    m = len(overrides)
    items = [lowerer.lower(ov, start + q) for q, ov in enumerate(overrides)]
    nsec = next(iter(preps.values())).n
    if lowerer.data.get("model", {}).get("engine") == "ario":
        return _compute_ario_chunk(cid, start, overrides, lowerer, opt, nsec)
    total = np.full(m, np.nan)
    gain = np.full(m, np.nan)
    days = np.zeros(m, dtype=np.int64)
    rec = np.zeros(m, dtype=np.int8)
    status = np.zeros(m, dtype=np.int64)
    va = np.full((m, nsec), np.nan) if opt.sectors else None
    daily = np.full((m, opt.T0), np.nan) if opt.daily else None
    for tid in sorted(set(tids)):
        prep = preps[tid]
        sel = [q for q in range(m) if tids[q] == tid]
        eng = _b
        if isinstance(prep, _mrio.PreparedMRIO):  # a multi-regional table (docs/mrio.md)
            eng = _mrio.SweepBackend
        _run_group(eng, prep, [items[q] for q in sel], np.asarray(sel), opt, total, days, rec,
                   status, va, daily, gain)
    out = {"cid": cid, "start": start, "gdp_loss_total": total, "gdp_gain_total": gain,
           "days": days,
           "recovered": rec, "status": status}
    if va is not None:
        out["value_added_loss"] = va
    if daily is not None:
        out["gdp_loss"] = daily
    return out


def _compute_ario_chunk(cid: int, start: int, overrides: list[dict[str, Any]],
                        lowerer: _Lowerer, opt: _Options, nsec: int) -> dict[str, Any]:
    """A chunk on the ARIO engine (``[model] engine = "ario"``): each scenario run as
    :meth:`simcore.scenario.Scenario.run` runs it (fixed horizon), same chunk arrays."""
    m = len(overrides)
    out: dict[str, Any] = {"cid": cid, "start": start, "gdp_loss_total": np.full(m, np.nan),
                           "gdp_gain_total": np.full(m, np.nan),
                           "days": np.zeros(m, dtype=np.int64),
                           "recovered": np.zeros(m, dtype=np.int8),
                           "status": np.zeros(m, dtype=np.int64)}
    if opt.sectors:
        out["value_added_loss"] = np.full((m, nsec), np.nan)
    if opt.daily:
        out["gdp_loss"] = np.full((m, opt.T0), np.nan)
    for q, ov in enumerate(overrides):
        sc = lowerer.scenario(ov)
        if opt.days is not None:  # the sweep's days= replaces the scenario's horizon
            sc.data["horizon"]["days"] = opt.days
        try:
            res = sc.run()
        except ScenarioError as exc:
            raise DesignError(f"sweep scenario {start + q} ({_plain(dict(ov))}): {exc}") from None
        out["gdp_loss_total"][q] = float(res["gdp_loss_total"])
        out["gdp_gain_total"][q] = float(res["gdp_gain_total"])
        out["days"][q] = int(res.attrs["days"])
        out["recovered"][q] = int(res.attrs["recovered"])
        if opt.sectors:
            out["value_added_loss"][q] = res["value_added_loss"].values
        if opt.daily:
            out["gdp_loss"][q] = res["gdp_loss"].values[:opt.T0]
    return out


def _run_group(_b, prep, items, sel, opt: _Options, total, days, rec, status, va, daily, gain):
    m = len(items)
    if opt.days is not None:
        r = _b.run_lowered(prep, items, opt.days)
        total[sel] = r["gdp_loss"].sum(axis=1)
        gain[sel] = r["gdp_gain"].sum(axis=1)
        days[sel] = opt.days
        rec[sel] = recovered_rule(prep, r["gdp_loss"][:, -1], r["gap"][:, -1])
        status[sel] = r["status"]
        if va is not None:
            va[sel] = prep.c[None, :] * r["out_cum"]
        if daily is not None:
            daily[sel] = r["gdp_loss"]
        bad = sel[r["status"] != 0]
        total[bad] = np.nan
        gain[bad] = np.nan
        return
    # 'auto': the run layer's rule (simcore.run.Horizon), scenario by scenario (see the
    # module docstring)
    horizon = opt.horizon
    nxt = np.empty(m, dtype=np.int64)
    for q, (sh, _) in enumerate(items):
        nxt[q] = horizon.first(sh)
    final = np.full(m, -1, dtype=np.int64)
    exact_va = np.zeros(m, dtype=bool)
    pending = np.arange(m)
    T_run = max(opt.T0, int(nxt.max()) if m else 1)
    first = True
    while pending.size:
        r = _b.run_lowered(prep, [items[q] for q in pending], T_run)
        gl = r["gdp_loss"]
        still = []
        for k, q in enumerate(pending):
            s = sel[q]
            if first and daily is not None:
                daily[s] = gl[k, :opt.T0]
            if r["status"][k] != 0:
                status[s] = r["status"][k]
                final[q] = T_run
                days[s] = T_run
                continue
            d = int(nxt[q])
            while d <= T_run:
                ok = bool(recovered_rule(prep, gl[k, d - 1], r["gap"][k, d - 1]))
                d_next = horizon.extend(d)
                if ok or d_next is None:
                    final[q] = d
                    days[s] = d
                    rec[s] = ok
                    total[s] = gl[k, :d].sum()
                    gain[s] = r["gdp_gain"][k, :d].sum()
                    if d == T_run:
                        exact_va[q] = True
                        if va is not None:
                            va[s] = prep.c * r["out_cum"][k]
                    break
                d = d_next
            else:
                nxt[q] = d
                still.append(q)
        pending = np.asarray(still, dtype=np.int64)
        if pending.size:
            T_run = int(nxt[pending].max())
        first = False
    if va is not None:
        need = [q for q in range(m) if not exact_va[q] and status[sel[q]] == 0]
        by_d: dict[int, list[int]] = {}
        for q in need:
            by_d.setdefault(int(final[q]), []).append(q)
        for d, qs in by_d.items():
            r = _b.run_lowered(prep, [items[q] for q in qs], d)
            va[sel[np.asarray(qs)]] = prep.c[None, :] * r["out_cum"]


# --------------------------------------------------------------------------------------
# Chunk files
# --------------------------------------------------------------------------------------
_CHUNK_KEYS = ("gdp_loss_total", "gdp_gain_total", "days", "recovered", "status",
               "value_added_loss", "gdp_loss")
#: Keys every chunk holds.  ``gdp_gain_total`` (value added above baseline, kept apart from
#: the net loss) arrived after format 2's first chunks: a chunk without it is one written by
#: an older simcore and is recomputed on resume (counted in ``attrs['chunks_old_format']``),
#: never assembled with its gains missing.
_CHUNK_REQUIRED = ("gdp_loss_total", "gdp_gain_total", "days", "recovered", "status")


def _digest(arrays: Mapping[str, np.ndarray], meta: bytes = b"") -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    h.update(meta)
    return h.hexdigest()


def _chunk_path(root: Path, cid: int) -> Path:
    return root / "chunks" / f"chunk-{cid:06d}.npz"


def _chunk_meta(fp: str, cid: int, start: int, size: int) -> bytes:
    return json.dumps({"fingerprint": fp, "chunk": cid, "start": start, "size": size},
                      sort_keys=True).encode()


def _write_chunk(root: Path, cid: int, arrays: Mapping[str, np.ndarray], fp: str,
                 start: int) -> dict[str, Any]:
    """Write chunk ``cid`` atomically.  Its checksum covers the arrays and the chunk's
    identity (the sweep's fingerprint, its index, first scenario and size), so a chunk of
    another sweep, or another chunk's file copied over it, never passes for it."""
    arrs = {k: np.asarray(v) for k, v in arrays.items() if k in _CHUNK_KEYS}
    meta = _chunk_meta(fp, cid, start, len(arrs["gdp_loss_total"]))
    sha = _digest(arrs, meta)
    buf = io.BytesIO()
    np.savez(buf, **arrs, __meta__=np.frombuffer(meta, dtype=np.uint8),
             __sha256__=np.frombuffer(sha.encode(), dtype=np.uint8))
    data = buf.getvalue()
    _io.atomic_write_bytes(_chunk_path(root, cid), data)
    return {"sha256": sha, "bytes": len(data)}


def _read_chunk(root: Path, cid: int, start: int, m: int, fp: str,
                expect: str | None = None,
                old: list[int] | None = None) -> dict[str, np.ndarray] | None:
    """The chunk's arrays, or ``None`` (recompute) unless the file is readable, its checksum
    matches its content, it belongs to this sweep (fingerprint ``fp``) as chunk ``cid`` of
    ``m`` scenarios from ``start``, and, when the manifest records a checksum for it
    (``expect``), that checksum is its own.  A chunk the manifest does not record yet (one
    finished after the manifest's last save) is accepted on its own checksum and identity.
    A chunk that is valid but lacks a key every chunk now holds (``gdp_gain_total``: written
    by an older simcore) is recomputed too; its index is appended to ``old``."""
    p = _chunk_path(root, cid)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            arrs = {k: z[k] for k in z.files}
        sha = bytes(arrs.pop("__sha256__")).decode()
        meta = bytes(arrs.pop("__meta__"))
    except Exception:  # noqa: BLE001 - any failure to read means "recompute"
        return None
    if _digest(arrs, meta) != sha or (expect is not None and expect != sha):
        return None
    if meta != _chunk_meta(fp, cid, start, m):
        return None
    if set(arrs) - set(_CHUNK_KEYS):
        return None
    if any(a.ndim < 1 or a.shape[0] != m for a in arrs.values()):
        return None
    if not set(_CHUNK_REQUIRED) <= set(arrs):
        if old is not None and set(_CHUNK_REQUIRED) - set(arrs) == {"gdp_gain_total"}:
            old.append(cid)
        return None
    return arrs


# --------------------------------------------------------------------------------------
# The sweep folder: lock, manifest, clean-up of a failed start
# --------------------------------------------------------------------------------------
_LOCK = "sweep.lock"


def _proc_start(pid: int) -> str | None:
    """Start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - e.g. an invalid pid
        return False
    try:  # a zombie (killed, not yet reaped) holds nothing
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return True


class _FolderLock:
    """One writer per sweep folder: ``PATH/sweep.lock``, created with ``O_CREAT | O_EXCL``
    and holding the holder's pid, host and start time.  A lock whose holder is a dead
    process on this host (or a pid reused by another process) is stale and taken over."""

    #: Seconds to wait for a lock file that exists but cannot be read (being written).
    unreadable_wait = 2.0

    def __init__(self, root: Path):
        import socket
        import uuid

        self.root = root
        self.path = root / _LOCK
        self.mine = {"pid": os.getpid(), "host": socket.gethostname(),
                     "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                     "proc_start": _proc_start(os.getpid()), "token": uuid.uuid4().hex}
        self.held = False

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return d if isinstance(d, dict) and isinstance(d.get("pid"), int) else None

    def _stale(self, h: Mapping[str, Any]) -> bool:
        if h.get("host") != self.mine["host"]:
            return False  # another machine's process cannot be checked from here
        pid = int(h["pid"])
        if not _pid_alive(pid):
            return True
        now = _proc_start(pid)
        return h.get("proc_start") is not None and now is not None and now != h["proc_start"]

    def acquire(self) -> None:
        unreadable_since = None
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(json.dumps(self.mine))
                    fh.flush()
                    os.fsync(fh.fileno())
                self.held = True
                return
            holder = self._read(self.path)
            if holder is None:
                if not self.path.exists():
                    continue  # released meanwhile
                # created but not yet written by its holder, or garbage: wait a little
                unreadable_since = unreadable_since or time.monotonic()
                if time.monotonic() - unreadable_since > self.unreadable_wait:
                    raise DesignError(
                        f"out={str(self.root)!r}: the lock file {self.path} is unreadable, so "
                        "it is unknown whether another sweep is writing to this folder; if "
                        f"none is, delete {self.path} and run again")
                time.sleep(0.05)
                continue
            if not self._stale(holder):
                raise DesignError(
                    f"out={str(self.root)!r} is in use by another sweep: pid {holder['pid']} "
                    f"on host {holder.get('host', '?')}, started {holder.get('started', '?')} "
                    f"(lock file {self.path}); wait for it to finish or use another path. If "
                    f"that process is gone, delete {self.path}")
            self._take_over(holder)

    def _take_over(self, holder: Mapping[str, Any]) -> None:
        """Move the stale lock aside; if what was moved is not the stale lock read (another
        process took it over meanwhile), put it back."""
        aside = self.root / f"{_LOCK}.stale-{os.getpid()}-{self.mine['token'][:8]}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = self._read(aside)
        if moved is not None and moved.get("token") != holder.get("token"):
            try:
                os.link(aside, self.path)
            except FileExistsError:  # pragma: no cover - a three-way race
                pass
        aside.unlink(missing_ok=True)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        h = self._read(self.path)
        if h is not None and h.get("token") == self.mine["token"]:
            self.path.unlink(missing_ok=True)


#: Manifest keys that identify a sweep (all but the fingerprint and the chunk records).
_IDENT_KEYS = ("format_version", "scenario", "scenario_file", "scenario_data", "design",
               "options", "inputs", "simcore_version", "engine", "n_scenarios", "n_chunks")


def _fingerprint(ident: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps({k: ident[k] for k in _IDENT_KEYS}, sort_keys=True,
                                     default=str).encode()).hexdigest()


def _differences(root: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What differs between the sweep recorded in ``root`` and the one asked for."""
    out: list[str] = []
    if old["scenario_data"] != new["scenario_data"] or old["scenario"] != new["scenario"]:
        out.append(f"another scenario ({old['scenario']!r} there, {new['scenario']!r} now, "
                   "or the same name with other content)")
    elif old["scenario_file"] != new["scenario_file"]:
        out.append(f"the scenario file was {old['scenario_file']}, now {new['scenario_file']}")
    if old["design"] != new["design"]:
        out.append("another design (keys, values, method, samples or seed)")
    if old["options"] != new["options"]:
        keys = sorted(k for k in set(old["options"]) | set(new["options"])
                      if old["options"].get(k) != new["options"].get(k))
        out.append("other options (" + ", ".join(
            f"{k}: {old['options'].get(k)!r} there, {new['options'].get(k)!r} now"
            for k in keys) + ")")
    oi, ni = old["inputs"], new["inputs"]
    for label in sorted(set(oi) | set(ni)):
        a, b = oi.get(label), ni.get(label)
        if a == b:
            continue
        key, _, val = label.partition("=")
        if a is None or b is None:
            out.append(f"{key} = {val!r} is {'new' if a is None else 'no longer read'}")
        elif a["path"] != b["path"]:
            out.append(f"{key} = {val!r} was the file {a['path']}, now {b['path']}")
        else:
            out.append(f"the input file {b['path']} ({key}) has changed since the sweep began "
                       f"(sha256 {a['sha256'][:12]}... recorded, {b['sha256'][:12]}... now)")
    if old["simcore_version"] != new["simcore_version"]:
        out.append(f"it was made by simcore {old['simcore_version']}, this is simcore "
                   f"{new['simcore_version']}")
    if old["engine"] != new["engine"]:
        out.append(f"it ran on engine {old['engine']!r}, this call uses {new['engine']!r}")
    if not out:  # pragma: no cover - every identifying key is compared above
        out.append("its fingerprint differs")
    return (f"out={str(root)!r} holds a different sweep: " + "; ".join(out) + ". Resume with "
            "the same scenario, design, options, input files, simcore version and engine, or "
            "use a new path")


def _check_manifest(mpath: Path, man: Any) -> dict[str, Any]:
    """The manifest, checked: a clear :class:`DataError` naming what is wrong, never a
    silent fresh start over old chunks."""
    def bad(what: str) -> DataError:
        return DataError(f"{mpath}: {what}; the folder's chunks cannot be trusted without it. "
                         "Move the folder away (or delete it) and run again, or use a new path")

    if not isinstance(man, dict):
        return_type = type(man).__name__
        raise bad(f"the sweep manifest holds a JSON {return_type}, expected an object")
    if man.get("format_version") != _MANIFEST_VERSION:
        raise bad(f"manifest format {man.get('format_version')!r}; this simcore "
                  f"({__version__}) reads format {_MANIFEST_VERSION} (the folder was written "
                  "by another version of simcore, or the manifest was edited)")
    fp = man.get("fingerprint")
    if not (isinstance(fp, str) and len(fp) == 64
            and all(c in "0123456789abcdef" for c in fp)):
        raise bad(f"the manifest lacks the sweep's fingerprint (key 'fingerprint' = {fp!r}, "
                  "expected 64 hex digits)")
    missing = [k for k in _IDENT_KEYS if k not in man]
    if missing:
        raise bad(f"the manifest lacks key(s) {', '.join(map(repr, missing))}")
    try:
        ok = _fingerprint(man) == fp
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise bad("the manifest's content does not match its fingerprint (it was edited)")
    chunks = man.get("chunks")
    if not isinstance(chunks, dict):
        raise bad(f"key 'chunks' = {chunks!r}, expected an object {{chunk index: record}}")
    nchunks = man["n_chunks"] if isinstance(man["n_chunks"], int) else 0
    for k, v in chunks.items():
        if not (k.isdigit() and int(k) < nchunks and str(int(k)) == k):
            raise bad(f"chunks[{k!r}]: not a chunk of this sweep (0..{nchunks - 1})")
        if not (isinstance(v, dict) and isinstance(v.get("sha256"), str)
                and len(v["sha256"]) == 64 and isinstance(v.get("bytes"), int)):
            raise bad(f"chunks[{k!r}] = {v!r}, expected {{'sha256': 64 hex digits, 'bytes': "
                      "size}")
    return man


class _Store:
    """The sweep folder ``root``: locked for one writer; the manifest checked or created;
    on a failed start (no chunk finished), everything this call created removed."""

    def __init__(self, root: Path, ident: dict[str, Any], fp: str, nchunks: int):
        self.root = root
        self.ident = ident
        self.fp = fp
        self.nchunks = nchunks
        self.mpath = root / "manifest.json"
        self.created_root = False
        self.fresh = False
        self.written = 0  # chunks written by this call
        self.lock: _FolderLock | None = None
        self.manifest: dict[str, Any] = {}

    def open(self) -> dict[str, Any]:
        root = self.root
        if root.exists() and not root.is_dir():
            raise DesignError(f"out={str(root)!r} is a file; give a directory")
        if not root.exists():
            try:
                root.mkdir(parents=True)
                self.created_root = True
            except FileExistsError:
                pass
            except OSError as exc:
                raise DesignError(f"out={str(root)!r}: cannot create the directory "
                                  f"({exc})") from None
        self.lock = _FolderLock(root)
        try:
            self.lock.acquire()
            self._load()
        except BaseException:
            self.abort()
            raise
        return self.manifest

    def _load(self) -> None:
        root, mpath = self.root, self.mpath
        if mpath.exists() or mpath.is_symlink():
            try:
                text = mpath.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DataError(f"{mpath}: cannot read the sweep manifest ({exc})") from None
            try:
                man = json.loads(text)
            except json.JSONDecodeError as exc:
                what = "empty" if not text.strip() else f"not valid JSON ({exc})"
                raise DataError(
                    f"{mpath}: the sweep manifest is {what}: it was truncated or edited, and "
                    "the folder's chunks cannot be trusted without it. Move the folder away "
                    "(or delete it) and run again, or use a new path") from None
            man = _check_manifest(mpath, man)
            if man["fingerprint"] != self.fp:
                raise DesignError(_differences(root, man, self.ident))
            self.manifest = man
            return
        others = sorted(p.name for p in root.iterdir() if p.name != _LOCK)
        if others:
            raise DesignError(
                f"out={str(root)!r} exists and is not a sweep directory (no manifest.json; it "
                f"holds {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}); use a new "
                "or empty path")
        self.fresh = True
        self.manifest = {**self.ident, "fingerprint": self.fp, "chunks": {}}
        self.save()

    def save(self) -> None:
        _io.atomic_write_text(self.mpath, json.dumps(self.manifest, indent=1, sort_keys=True))

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def abort(self) -> None:
        """After an error: keep finished chunks (resumable); after a failed start of a new
        sweep, remove what this call created."""
        try:
            if self.fresh and self.written == 0:
                self.mpath.unlink(missing_ok=True)
                chunks = self.root / "chunks"
                if chunks.is_dir() and not any(chunks.iterdir()):
                    chunks.rmdir()
            elif self.written:
                self.save()
        finally:
            self.close()
            if self.created_root:
                try:
                    self.root.rmdir()  # only if nothing is left in it
                except OSError:
                    pass


# --------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------
#: Designs up to this many scenarios are checked point by point before a sweep starts.
UPFRONT_CHECK_MAX = 200_000


def _local_engine(tasks, preps, lowerer, opt, on_done, threads):
    opt.threads = threads
    for t in tasks:
        on_done(_compute_chunk(*t[:2], t[2], t[3], preps, lowerer, opt))


#: Seconds to wait for a Dask scheduler to answer (issue 15: an address that accepts the
#: connection but is not a Dask scheduler hung the client for over two minutes).
DASK_CONNECT_TIMEOUT_S = 10.0


def _connect_timeout() -> float:
    """:data:`DASK_CONNECT_TIMEOUT_S`, or Dask's ``distributed.comm.timeouts.connect`` if
    that is shorter."""
    try:
        import dask
        from dask.utils import parse_timedelta

        cfg = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
        return min(float(DASK_CONNECT_TIMEOUT_S), float(cfg))
    except Exception:  # noqa: BLE001 - a missing or odd setting: the default
        return float(DASK_CONNECT_TIMEOUT_S)


def _probe_scheduler(address: str, timeout: float) -> None:
    """Ask ``address`` for its identity within ``timeout`` seconds; raise TimeoutError or
    OSError unless a Dask scheduler answers (``Client`` itself can wait for minutes on a
    server that accepts the connection and stays silent)."""
    import asyncio

    from distributed.comm import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> Any:
        return await asyncio.wait_for(ask(), timeout)

    from concurrent.futures import ThreadPoolExecutor

    try:
        # in a thread of its own, so that it also works under a running event loop (Jupyter)
        with ThreadPoolExecutor(1) as ex:
            reply = ex.submit(asyncio.run, bounded()).result()
    except asyncio.TimeoutError:
        raise TimeoutError(f"no answer within {timeout:g} s") from None
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise OSError(f"the server there is not a Dask scheduler (it answered "
                      f"{type(reply).__name__})")


def _dask_engine(tasks, preps, lowerer, opt, on_done, *, client, scheduler, workers, fp):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a test dependency
        raise DesignError("engine='dask' needs dask.distributed: "
                          "pip install 'simcore[dask]'") from exc
    own_cluster = own_client = None
    try:
        if client is None:
            if scheduler is not None:
                try:
                    _probe_scheduler(scheduler, _connect_timeout())
                    client = own_client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError, ValueError, TypeError, MemoryError) as exc:
                    # MemoryError: a server that is not Dask answers bytes that Dask's
                    # protocol reads as a frame length of exabytes
                    raise DesignError(
                        f"scheduler {scheduler!r}: cannot connect to a Dask scheduler there: "
                        f"no Dask scheduler answered there within "
                        f"{_connect_timeout():g} s ({type(exc).__name__}: {exc}); check "
                        "the address (tcp://HOST:PORT of a running dask scheduler)") from None
            else:
                n = int(workers or os.cpu_count() or 1)
                own_cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
                client = own_client = Client(own_cluster)
        nthreads = client.nthreads()
        opt.threads = max(1, min(nthreads.values())) if nthreads else 1
        # the prepared tables and the scenario go to every worker once, not once per task
        pf = {tid: client.scatter(p, broadcast=True, hash=False) for tid, p in preps.items()}
        lf = client.scatter(lowerer, broadcast=True, hash=False)
        futs = [client.submit(_compute_chunk, cid, start, ovs, tids, pf, lf, opt, pure=False,
                              key=f"simcore-sweep-{fp[:12]}-{cid}")
                for cid, start, ovs, tids in tasks]
        try:
            for fut in as_completed(futs):
                on_done(fut.result())
                fut.release()
        except BaseException:
            client.cancel(futs)
            raise
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def _check_out_dir(root: Path) -> None:
    """Refuse, before any work, an ``out`` that is a file, sits under a file, or lies in a
    folder where nothing can be written (issue 15)."""
    if root.exists() and not root.is_dir():
        raise DesignError(f"out={str(root)!r} is a file; a sweep writes a directory: give a "
                          "new or empty path")
    try:
        _io.writable_dir(root, f"out={str(root)!r}")
    except SimcoreError as exc:
        raise DesignError(str(exc)) from None


def _coord(vals: list[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return np.asarray(vals, dtype=float)
    if all(isinstance(v, (str, bool)) for v in vals):
        return np.asarray([str(v) for v in vals])
    return np.asarray([json.dumps(v, sort_keys=True) for v in vals])


def sweep(
    scenario: Any,
    grid: Mapping[str, Sequence[Any]] | None = None,
    *,
    zipped: Mapping[str, Sequence[Any]] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    method: str | None = None,
    samples: int | None = None,
    seed: int | None = None,
    levels: int = 4,
    overrides: Mapping[str, Any] | None = None,
    days: int | str | None = None,
    sectors: bool = False,
    daily: bool = False,
    engine: str = "local",
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike | None = None,
    format: str = "netcdf",
    progress: bool | None = None,
    max_memory: int = MAX_MEMORY,
) -> xr.Dataset:
    """Run a design of variants of a scenario in one call.

    Parameters
    ----------
    scenario : str, path, dict or Scenario
        A shipped scenario name, a scenario file, a scenario dict or a loaded
        :class:`~simcore.scenario.Scenario`.
    grid : mapping of key -> list, optional
        Full-factorial axes (one result dimension per key, in the order given).
    zipped : mapping of key -> list, optional
        Lists of equal length varied together (a ``point`` dimension).
    ranges : mapping of key -> (low, high), optional
        Ranges to sample with ``method`` (``"lhs"`` by default, ``"random"``, ``"sobol"``,
        ``"morris"``), ``samples`` and ``seed`` (drawn and recorded when not given).
        ``samples`` is the number of points for ``random``/``lhs``, the base size ``N`` of
        Saltelli's scheme for ``sobol`` (``N (k + 2)`` points, ``N`` a power of 2) and the
        number of trajectories for ``morris`` (``N (k + 1)`` points, ``levels`` levels).
    overrides : mapping, optional
        Fixed dotted-key overrides applied to the scenario before the design.
    days : int, 'auto' or None
        Horizon: None for the scenario's ``horizon.days``; see the module docstring.
    sectors : bool, default False
        Also keep the cumulative value-added loss by sector (``value_added_loss``).
    daily : bool, default False
        Also keep the daily GDP loss (``gdp_loss``, over ``attrs['horizon_days']`` days).
    engine : {"local", "dask"}
        ``local``: the parallel numba batch kernel on every core of this machine.
        ``dask``: chunks as tasks on a dask.distributed cluster: ``client`` (a
        ``distributed.Client``), ``scheduler`` (an address) or, if neither, a
        ``LocalCluster`` of ``workers`` single-threaded processes started and closed here.
    workers : int, optional
        ``local``: numba threads (default: all cores); ``dask``: LocalCluster workers.
    chunk_size : int, optional
        Scenarios per chunk (a task, a file and the unit of resuming); default
        ``min(1000, max(16, ceil(n / (4 * cores))))``.
    out : path, optional
        Directory to stream chunks to and to resume from (see the module docstring).
    format : {"netcdf", "zarr"}
        Format of the assembled result in ``out``.
    progress : bool, optional
        Progress bar on stderr; default only when stderr is a terminal.
    max_memory : int
        Largest in-memory result in bytes (default 2 GiB); larger designs must be streamed.

    Returns
    -------
    xarray.Dataset
        One dimension per grid key (plus ``point``) or a ``sample`` dimension, with
        ``gdp_loss_total`` (table units), ``gdp_loss_total_jpy`` (when the table's unit is
        yen-based), ``gdp_loss_share`` (net: value added above baseline from
        overproduction counts against the loss), ``gdp_gain_total`` and
        ``gdp_loss_gross_total`` (the gains kept apart: gross = net + gains, as
        :func:`simcore.simulate`), ``days``, ``recovered``, ``status`` (0 = ok), and
        optionally ``value_added_loss`` (``sector``) and ``gdp_loss`` (``time``); Sobol and
        Morris indices over ``parameter``.  ``attrs`` record the scenario, the design, the
        seed, the engine and the simcore version.  The numbers do not depend on the engine.

    Raises
    ------
    DesignError
        An unknown key, an empty list, an out-of-range value, an empty or malformed
        design, a design too large for memory that is not streamed, an unreadable input
        file, ``out`` holding a different sweep (other arguments, input files, simcore
        version or engine: the message says which), or ``out`` in use by another sweep.
    DataError
        ``out`` holds a manifest that is unreadable, empty, truncated, edited or lacks
        the fingerprint.
    """
    t_start = time.perf_counter()
    if engine not in ENGINES:
        raise DesignError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if format not in ("netcdf", "zarr"):
        raise DesignError(f"format {format!r}: expected 'netcdf' or 'zarr'")
    if engine == "local" and (scheduler is not None or client is not None):
        raise DesignError(f"{'scheduler' if scheduler is not None else 'client'} given with "
                          "engine='local', which does not use Dask; pass engine='dask' (CLI: "
                          "--engine dask) or drop it")
    if out is not None:
        _check_out_dir(Path(out))
    base = scenario if isinstance(scenario, Scenario) else load(scenario)
    if overrides:
        for k in overrides:
            _check_key(base, k)
        try:
            base = base.copy_with(dict(overrides))
        except ScenarioError as exc:
            raise DesignError(f"overrides: {exc}") from None
    design = make_design(base, grid, zipped, ranges, method=method, samples=samples, seed=seed,
                         levels=levels)
    # every data file is read and hashed once, here; the sweep computes from those bytes
    inputs, specs = _inputs(base, design)
    base = _pin(Scenario(base.data, base.path, base._cache), specs)  # cache shared
    n = design.size
    h = base.data["horizon"]
    try:
        horizon = Horizon.of(h, days)
    except ParameterError as exc:
        raise DesignError(f"days: {exc}") from None
    hdays = "auto" if horizon.auto else horizon.days
    tail = horizon.tail_days
    max_days = horizon.max_days
    if horizon.auto and base.engine == "ario":
        raise DesignError(f"{base.file}: horizon.days = 'auto' needs the stock gap, which the "
                          "ARIO engine does not report; pass days= (CLI: --days) or give "
                          "horizon.days as a whole number of days")

    # tables: one prepared table per distinct value of the table keys
    tkeys = [k for k in design.keys if k.startswith("table.")]
    preps: dict[int, Any] = {}
    tindex: dict[str, int] = {}
    tscen: dict[int, Any] = {}
    if tkeys:
        axes = [design.grid.get(k) for k in tkeys]
        if any(k in design.zipped for k in tkeys):
            combos = [{k: design.zipped[k][p] if k in design.zipped else None for k in tkeys}
                      for p in range(design.shape[-1])]
            gk = [k for k in tkeys if k in design.grid]
            combos = [dict(c, **dict(zip(gk, vs)))
                      for c in combos for vs in itertools.product(*[design.grid[k] for k in gk])]
        else:
            combos = [dict(zip(tkeys, vs)) for vs in itertools.product(*axes)]
        for c in combos:
            tindex.setdefault(_table_key(c), len(tindex))
    else:
        tindex[_table_key({})] = 0

    # the horizon of the first run of every chunk (and of the daily record)
    if hdays == "auto":
        ends = 0.0
        skeys = [k for k in design.keys if k.startswith("shocks")]
        if design.method == "grid":
            sub = Design(method="grid", grid={k: v for k, v in design.grid.items() if k in skeys},
                         zipped={k: v for k, v in design.zipped.items() if k in skeys})
            pts = [sub.point(i) for i in range(sub.size)] if skeys else [{}]
        else:
            pts = [{k: v for k, v in design.point(i).items() if k in skeys}
                   for i in range(n)] if skeys else [{}]
        low0 = _Lowerer(base.data, base.path, specs, base.allow_outside_data)
        for ov in pts:
            try:
                ends = max(ends, max((s.end for s in low0.scenario(ov).shocks()), default=0.0))
            except ScenarioError as exc:
                raise DesignError(f"sweep scenario with {ov}: {exc}") from None
        T0 = Horizon(None, tail, max_days).first_for_end(ends)
        opt = _Options(days=None, T0=T0, tail=tail, max_days=max_days, sectors=sectors,
                       daily=daily)
    else:
        opt = _Options(days=int(hdays), T0=int(hdays), tail=tail, max_days=max_days,
                       sectors=sectors, daily=daily)

    # memory: the assembled result must fit unless it is streamed
    nsec = len(base.prepared().sectors) if sectors else 0
    per = 8 * (6 + nsec + (opt.T0 if daily else 0) + len(design.keys))
    need = n * per
    streamed = need > max_memory
    if streamed and (out is None or format != "zarr"):
        raise DesignError(
            f"the design has {n:,} scenarios; its result needs about {need / 1e9:.2f} GB, more "
            f"than max_memory = {max_memory / 1e9:.2f} GB: stream it to disk with out=PATH and "
            "format='zarr', or drop sectors/daily, or use a smaller design")

    if workers is not None and (isinstance(workers, bool)
                                or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise DesignError(f"workers = {workers!r}: expected a whole number >= 1 (threads for "
                          "engine='local', LocalCluster workers for engine='dask')")
    # every scenario's shocks and parameters are checked before anything is written or run
    # (about 0.16 ms a scenario), so a bad point is refused up front, not mid-sweep; designs
    # beyond UPFRONT_CHECK_MAX scenarios (streamed ones) are checked chunk by chunk as they run
    if n <= UPFRONT_CHECK_MAX:
        check = _Lowerer(base.data, base.path, specs, base.allow_outside_data)
        # codes are checked against the base table unless the design changes the table
        prep0 = base.prepared() if not any(k.startswith("table.") for k in design.keys) \
            else None
        ario = base.engine == "ario"
        for i in range(n):
            point = design.point(i)
            shocks, params = check.lower(point, i)
            if prep0 is not None:
                try:
                    if ario:
                        ario_inputs(prepare_ario_table(base.table(), params.input_threshold),
                                    shocks, 1)
                    else:
                        (_mrio.check_lowering_mrio if isinstance(prep0, _mrio.PreparedMRIO)
                         else check_lowering)(prep0, shocks, params)
                except (LabelError, ShockError, ParameterError) as exc:
                    raise DesignError(
                        f"sweep scenario {i} ({_plain(dict(point))}): {exc}") from None

    cores = os.cpu_count() or 1
    nwork = int(workers or cores)
    if chunk_size is None:
        chunk_size = min(1000, max(16, math.ceil(n / (4 * max(nwork, 1)))))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise DesignError(f"chunk_size = {chunk_size!r}: expected a whole number >= 1")
    chunk_size = int(chunk_size)
    nchunks = math.ceil(n / chunk_size)

    meta = {
        "scenario": base.name,
        "scenario_file": base.file,
        "scenario_data": json.loads(json.dumps(base.data, default=str)),
        "design": design.to_json(),
        "options": {"days": opt.days if opt.days is not None else "auto", "T0": opt.T0,
                    "tail_days": tail, "max_days": max_days, "sectors": sectors,
                    "daily": daily, "chunk_size": chunk_size},
    }
    # what the numbers depend on: the fingerprint a sweep folder is bound to
    ident = json.loads(json.dumps({
        "format_version": _MANIFEST_VERSION, **meta, "inputs": inputs,
        "simcore_version": __version__, "engine": engine, "n_scenarios": n,
        "n_chunks": nchunks}, default=str))
    fp = _fingerprint(ident)
    root = Path(out) if out is not None else None
    store = _Store(root, ident, fp, nchunks) if root is not None else None
    manifest: dict[str, Any] = store.open() if store is not None else {}
    try:
        ds = _run_and_assemble(
            base, design, opt, store, manifest, fp, n, nchunks, chunk_size, streamed, tindex,
            preps, tscen, specs, engine, client, scheduler, workers, progress, format, meta,
            tail, max_days, t_start)
    except BaseException:
        if store is not None:
            store.abort()
        raise
    if store is not None:
        store.close()
    return ds


def _run_and_assemble(base, design, opt, store, manifest, fp, n, nchunks, chunk_size,
                      streamed, tindex, preps, tscen, specs, engine, client, scheduler, workers,
                      progress, format, meta, tail, max_days, t_start):
    """The body of :func:`sweep` once the folder (if any) is locked and its manifest read."""
    root = store.root if store is not None else None
    # chunks already done
    results: dict[int, dict[str, np.ndarray]] = {}
    todo: list[int] = []
    old: list[int] = []
    for cid in range(nchunks):
        a = cid * chunk_size
        m = min(chunk_size, n - a)
        arrs = None
        if root is not None:
            expect = manifest["chunks"].get(str(cid), {}).get("sha256")
            arrs = _read_chunk(root, cid, a, m, fp, expect, old)
        if arrs is None:
            todo.append(cid)
            if root is not None:
                manifest["chunks"].pop(str(cid), None)
        else:
            if root is not None and str(cid) not in manifest["chunks"]:
                # finished after the manifest's last save: record it now
                manifest["chunks"][str(cid)] = {"sha256": _digest(arrs, _chunk_meta(
                    fp, cid, a, m)), "bytes": _chunk_path(root, cid).stat().st_size}
            if not streamed:
                results[cid] = arrs

    if old:
        import warnings

        warnings.warn(
            f"{root}: {len(old)} chunk(s) (first: {_chunk_path(root, old[0]).name}) were "
            "written by an older simcore without the overproduction gains (gdp_gain_total); "
            "they are recomputed, not assembled with the gains missing", stacklevel=3)
    recomputed: list[int] = []
    if todo:
        # prepared tables for the table groups with work to do (built here, once)
        for tk, tid in tindex.items():
            ov = json.loads(tk)
            preps[tid] = _prepare(base, ov, specs)
            tscen[tid] = ov
        lowerer = _Lowerer(base.data, base.path, specs, base.allow_outside_data)

        def task(cid: int):
            a = cid * chunk_size
            b = min(n, a + chunk_size)
            ovs = design.values(a, b)
            tids = [tindex[_table_key(ov)] for ov in ovs]
            return cid, a, ovs, tids

        todo_n = sum(min(chunk_size, n - c * chunk_size) for c in todo)
        bar = Progress(n, "sweep", unit="scenarios", initial=n - todo_n, enabled=progress)
        last_manifest = [time.perf_counter()]

        def on_done(res: dict[str, Any]) -> None:
            cid = int(res["cid"])
            arrs = {k: v for k, v in res.items() if k in _CHUNK_KEYS}
            if store is not None:
                info = _write_chunk(store.root, cid, arrs, fp, int(res["start"]))
                store.written += 1
                manifest["chunks"][str(cid)] = info
                now = time.perf_counter()
                if now - last_manifest[0] > 5.0:
                    store.save()
                    last_manifest[0] = now
            if not streamed:
                results[cid] = arrs
            recomputed.append(cid)
            bar.update(len(arrs["gdp_loss_total"]))

        try:
            tasks = (task(c) for c in todo)
            if engine == "local":
                _local_engine(tasks, preps, lowerer, opt, on_done, workers)
            else:
                _dask_engine(list(tasks), preps, lowerer, opt, on_done, client=client,
                             scheduler=scheduler, workers=workers, fp=fp)
        finally:
            bar.close()
    if store is not None:
        store.save()

    attrs = {
        "scenario": base.name,
        "scenario_file": base.file,
        "scenario_toml_json": json.dumps(meta["scenario_data"], sort_keys=True),
        "design": json.dumps(design.to_json(), sort_keys=True),
        "method": design.method,
        "seed": -1 if design.seed is None else int(design.seed),
        # the model that ran (as in every result: "supply-chain" or "ario") and what ran
        # the chunks (engine= of sweep(): "local" or "dask")
        "engine": base.engine,
        "executor": engine,
        "horizon": "auto" if opt.days is None else "fixed",
        "horizon_days": opt.T0,
        "horizon_rule": ("per scenario as Scenario.run: ceil(last shock end + tail_days), "
                         f"doubled until recovered (tail_days={tail:g}, max_days={max_days})"
                         if opt.days is None else f"fixed {opt.days} days"),
        "n_scenarios": n,
        "chunk_size": chunk_size,
        "chunks_computed": len(recomputed),
        "chunks_resumed": nchunks - len(recomputed),
        "chunks_old_format": len(old),
        "elapsed_s": time.perf_counter() - t_start,
        "simcore_version": __version__,
        "gdp_denominator": float(base.data["table"].get("gdp_denominator",
                                                        base.prepared().gdp_annual)),
    }
    if streamed:
        assert root is not None
        return _assemble_streamed(root, base, design, nchunks, chunk_size, n, attrs, fp,
                                  manifest)
    ds = _assemble(base, design, results, nchunks, attrs, opt)
    if root is not None:
        _write_result(root, ds, format)
    return ds


def _loss_vars(base, attrs, gdp_total, ds_dims, gain):
    unit = base.prepared().unit
    denom = attrs["gdp_denominator"]
    out = {"gdp_loss_total": (ds_dims, gdp_total, {"units": unit,
                                                   "long_name": "GDP-like value-added loss "
                                                                "(net of gains)"}),
           "gdp_loss_share": (ds_dims, gdp_total / denom,
                              {"units": "1", "long_name": "loss as a share of annual GDP"}),
           # overproduction (alpha_max > 1) can lift sectors above baseline: the net loss
           # nets those gains against the losses, these keep them apart
           "gdp_gain_total": (ds_dims, gain,
                              {"units": unit,
                               "long_name": "value-added gains (overproduction)"}),
           "gdp_loss_gross_total": (ds_dims, gdp_total + gain,
                                    {"units": unit, "long_name": "value-added losses before "
                                                                 "netting gains"})}
    yen = yen_per_unit(unit)
    if yen is not None:
        out["gdp_loss_total_jpy"] = (ds_dims, gdp_total * yen,
                                     {"units": "JPY", "long_name": "GDP-like value-added loss"})
    return out, unit


def _assemble(base, design: Design, results, nchunks, attrs, opt: _Options) -> xr.Dataset:
    cat = {k: np.concatenate([results[c][k] for c in range(nchunks)])
           for k in results[0] if k in _CHUNK_KEYS}
    shape = design.shape
    dims = design.dims
    data, unit = _loss_vars(base, attrs, cat["gdp_loss_total"].reshape(shape), dims,
                            cat["gdp_gain_total"].reshape(shape))
    data["days"] = (dims, cat["days"].reshape(shape), {"long_name": "horizon, days"})
    data["recovered"] = (dims, cat["recovered"].reshape(shape),
                         {"long_name": "output back at baseline at the end (1) or not (0)"})
    data["status"] = (dims, cat["status"].reshape(shape), {"long_name": "kernel status, 0 = ok"})
    coords: dict[str, Any] = {}
    prep = base.prepared()
    if "value_added_loss" in cat and type(prep).__name__ == "PreparedMRIO":
        # a multi-regional table: by region and sector (docs/mrio.md)
        data["value_added_loss"] = (dims + ("region", "sector"),
                                    cat["value_added_loss"].reshape(
                                        shape + (prep.R, prep.n_products)),
                                    {"units": unit, "long_name": "cumulative value-added loss"})
        coords.update(prep.coords)
    elif "value_added_loss" in cat:
        data["value_added_loss"] = (dims + ("sector",),
                                    cat["value_added_loss"].reshape(shape + (prep.n,)),
                                    {"units": unit, "long_name": "cumulative value-added loss"})
        coords.update(prep.coords)
    if "gdp_loss" in cat:
        data["gdp_loss"] = (dims + ("time",), cat["gdp_loss"].reshape(shape + (opt.T0,)),
                            {"units": f"{unit} per day", "long_name": "daily GDP-like VA loss"})
        coords["time"] = np.arange(opt.T0)
    if design.method == "grid":
        for k, v in design.grid.items():
            coords[k] = (k, _coord(v))
        if design.zipped:
            coords["point"] = np.arange(shape[-1])
            for k, v in design.zipped.items():
                coords[k] = ("point", _coord(v))
    else:
        coords["sample"] = np.arange(shape[0])
        assert design.X is not None
        for q, k in enumerate(design.ranges):
            coords[k] = ("sample", design.X[:, q])
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    if design.method in ("sobol", "morris"):
        ds = ds.merge(_indices(design, cat["gdp_loss_total"]))
    ds.attrs.update(attrs)
    ds.attrs["unit"] = unit
    return ds


def _indices(design: Design, y: np.ndarray) -> xr.Dataset:
    """Sobol or Morris indices of ``gdp_loss_total`` over a ``parameter`` dimension."""
    sobol, morris = _salib("analyze")
    prob = _problem(design.ranges)
    names = list(design.ranges)
    coords = {"parameter": names}
    if not np.all(np.isfinite(y)):
        nan = np.full(len(names), np.nan)
        keys = ("S1", "S1_conf", "ST", "ST_conf") if design.method == "sobol" else (
            "mu", "mu_star", "mu_star_conf", "sigma")
        return xr.Dataset({k: ("parameter", nan) for k in keys}, coords=coords)
    if design.method == "sobol":
        r = sobol.analyze(prob, y, calc_second_order=False, seed=design.seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        assert design.X is not None
        r = morris.analyze(prob, design.X, y, num_levels=design.levels, seed=design.seed)
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    desc = {"S1": "first-order Sobol index", "ST": "total-order Sobol index",
            "mu": "Morris mean elementary effect", "mu_star": "Morris mean |elementary effect|",
            "sigma": "Morris std of elementary effects"}
    return xr.Dataset({k: ("parameter", np.asarray(r[k], dtype=float),
                           {"long_name": desc.get(k, k.replace("_conf", "") + " confidence "
                                                  "half-width (95 %)"),
                            "output": "gdp_loss_total"})
                       for k in keys}, coords=coords)



def _swap_dir(tmp: Path, target: Path) -> None:
    """Move the finished directory ``tmp`` over ``target`` (zarr stores are directories, so
    ``os.replace`` alone cannot overwrite one): the old store is renamed aside first and
    removed only after the new one is in place."""
    old = target.parent / f".old-{target.name}-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)

def _write_result(root: Path, ds: xr.Dataset, format: str) -> Path:
    clean = ds.copy()
    clean.attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in ds.attrs.items()}
    for v in clean.variables.values():
        if v.dtype == bool:
            v.values = v.values.astype(np.int8)
    if format == "zarr":
        clean = _str_as_object(clean)
    if format == "netcdf":
        target = root / "result.nc"
        with _io.atomic_path(target) as tmp:
            clean.to_netcdf(tmp)
        return target
    target = root / "result.zarr"
    tmp = root / f".tmp-result-{os.getpid()}.zarr"
    if tmp.exists():
        shutil.rmtree(tmp)
    clean.to_zarr(tmp, mode="w", consolidated=False)
    _swap_dir(tmp, target)
    return target


def _str_as_object(ds: xr.Dataset) -> xr.Dataset:
    """Fixed-width strings as variable-length ones (zarr v3 specifies only the latter)."""
    conv = {k: v.astype(object) for k, v in ds.variables.items() if v.dtype.kind == "U"}
    return ds.assign_coords({k: v for k, v in conv.items() if k in ds.coords}).assign(
        {k: v for k, v in conv.items() if k not in ds.coords})


def _assemble_streamed(root: Path, base, design: Design, nchunks, chunk_size, n, attrs, fp,
                       manifest):
    """Assemble a design too large for memory into ``result.zarr`` chunk by chunk, along a
    flat ``scenario`` dimension with one coordinate per key; return it lazily opened."""
    target = root / "result.zarr"
    tmp = root / f".tmp-result-{os.getpid()}.zarr"
    if tmp.exists():
        shutil.rmtree(tmp)
    for cid in range(nchunks):
        a = cid * chunk_size
        b = min(n, a + chunk_size)
        arrs = _read_chunk(root, cid, a, b - a, fp, manifest["chunks"][str(cid)]["sha256"])
        if arrs is None:
            raise DataError(f"{_chunk_path(root, cid)}: chunk {cid} changed while the sweep "
                            "was assembled (missing, corrupt or not the recorded one); run "
                            "the same sweep again to recompute it")
        data, unit = _loss_vars(base, attrs, arrs["gdp_loss_total"], ("scenario",),
                                arrs["gdp_gain_total"])
        for k in ("days", "recovered", "status"):
            data[k] = (("scenario",), arrs[k], {})
        if "value_added_loss" in arrs:
            data["value_added_loss"] = (("scenario", "sector"), arrs["value_added_loss"], {})
        if "gdp_loss" in arrs:
            data["gdp_loss"] = (("scenario", "time"), arrs["gdp_loss"], {})
        pts = design.values(a, b)
        coords: dict[str, Any] = {"scenario": np.arange(a, b)}
        for k in design.keys:
            coords[k] = ("scenario", _coord([p[k] for p in pts]))
        ds = _str_as_object(xr.Dataset({k: xr.Variable(d, v, at)
                                        for k, (d, v, at) in data.items()}, coords=coords))
        if cid == 0:
            ds.attrs.update({k: (int(v) if isinstance(v, bool) else v)
                             for k, v in attrs.items()})
            ds.attrs["unit"] = unit
            ds.to_zarr(tmp, mode="w", consolidated=False)
        else:
            ds.to_zarr(tmp, append_dim="scenario", consolidated=False)
    _swap_dir(tmp, target)
    return xr.open_zarr(target, consolidated=False)
