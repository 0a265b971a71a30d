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
each group as one parallel kernel call.  On the ARIO engine (``[model] engine = "ario"``)
the points that share a lowered table run together in batches of the ARIO kernel
(:func:`simcore.run.run_ario_batch`), each equal to its own scenario run to the bit.

Horizon
-------
``days=None`` (default) uses the scenario's ``horizon.days``.  A whole number is a fixed
horizon for every scenario.  ``'auto'`` follows :meth:`simcore.scenario.Scenario.run`
exactly, scenario by scenario: the horizon is ``ceil(end of the scenario's last shock +
tail_days)`` (capped at ``max_days``), doubled until output and stocks are back at
baseline (the rule of ``recovered``, :func:`simcore.dynamic.supply_chain.recovered_rule`) or
``max_days`` is reached.  Chunks run at the design's common horizon ``ceil(max shock end
over the design) + tail_days`` (the ``horizon_days`` attribute, also the length of the
optional daily record); each scenario's totals are summed over its own horizon (the daily
loss of a longer run is identical up to any day: the model is causal), and scenarios not
back at baseline are run again over the doubled horizon.  ``days`` (per scenario) and
``recovered`` report the outcome.  So a sweep point equals ``simcore run`` of the same
scenario to round-off.  On the ARIO engine (whose stock gap is known only after a run's last
day) each point runs over its own horizon, the points at the same horizon together, and
those not back at baseline again over the doubled one, as a scenario run does.

Storage and resuming
--------------------
With ``out=PATH`` (a directory) each chunk of scenarios is written atomically to
``PATH/chunks/chunk-NNNNNN.npz`` as soon as it is done, with a SHA-256 checksum inside over
its arrays and its identity (the sweep's fingerprint, the chunk's index, first scenario and
size); ``PATH/manifest.json`` records the scenario, the design, the seed, the options, the
simcore version, the executor, the SHA-256 of every input file (embedded dataset, carve-out
files), the fingerprint of all these, and the checksums and sizes of finished chunks.
Calling :func:`sweep` again with the same arguments and ``PATH`` (or ``simcore sweep``
again) skips every valid chunk and recomputes only missing, partial, corrupt or foreign
ones (unreadable; checksum not its own, not the manifest's, or of another sweep or chunk).
A chunk written before chunks carried the gains (``gdp_gain_total``) is recomputed with a
warning (``attrs['chunks_old_format']`` counts them), never assembled without them.
Another fingerprint (other arguments, an edited input file, another version or executor) is
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

Modules
-------
:mod:`simcore.sweeps.design` (designs and sampling), :mod:`simcore.sweeps.compute` (chunks
run on the engines; what Dask workers import), :mod:`simcore.sweeps.store` (chunk files,
checksums, manifest, lock, resume), :mod:`simcore.sweeps.execute` (local and Dask
executors), :mod:`simcore.sweeps.assemble` (the result); :func:`sweep` here ties them
together.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .._progress import Progress
from .._version import __version__
from ..dynamic import mrio as _mrio
from ..dynamic.supply_chain import check_lowering
from ..run import Horizon, ario_inputs
from ..scenario import Scenario, load
from ..errors import DesignError, LabelError, ParameterError, ScenarioError, ShockError
from .assemble import _assemble, _assemble_streamed, _write_result
from .compute import _Lowerer, _Options, _inputs, _pin, _prepare, _table_key
from .design import METHODS, Design, _check_key, _plain, make_design
from .execute import EXECUTORS, UPFRONT_CHECK_MAX, _dask_executor, _local_executor
from .store import (
    _CHUNK_KEYS,
    _MANIFEST_VERSION,
    _FolderLock,
    _Store,
    _check_out_dir,
    _chunk_meta,
    _chunk_path,
    _digest,
    _fingerprint,
    _read_chunk,
    _write_chunk,
)

__all__ = ["sweep", "Design", "METHODS", "EXECUTORS"]

#: Default of sweep()'s removed ``engine`` keyword (given at all: a TypeError).
_REMOVED: Any = object()
#: Default memory budget for an in-memory result (bytes).
MAX_MEMORY = 2 * 1024**3


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
    executor: str = "local",
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    out: str | os.PathLike | None = None,
    format: str = "netcdf",
    progress: bool | None = None,
    max_memory: int = MAX_MEMORY,
    engine: Any = _REMOVED,
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
    executor : {"local", "dask"}
        What runs the chunks (not the model: that is the scenario's ``[model] engine``).
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
    engine
        Removed: the executor is ``executor=``, and ``engine`` names the model everywhere
        else (``[model] engine``, ``result.attrs["engine"]``).  Passing it raises
        :class:`TypeError` saying which to use.

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
        seed, the model engine (``engine``), the executor (``executor``) and the simcore
        version.  The numbers do not depend on the executor.

    Raises
    ------
    DesignError
        An unknown key, an empty list, an out-of-range value, an empty or malformed
        design, a design too large for memory that is not streamed, an unreadable input
        file, ``out`` holding a different sweep (other arguments, input files, simcore
        version or executor: the message says which), or ``out`` in use by another sweep.
    DataError
        ``out`` holds a manifest that is unreadable, empty, truncated, edited or lacks
        the fingerprint.
    """
    t_start = time.perf_counter()
    if engine is not _REMOVED:
        raise TypeError(
            f"sweep(engine={engine!r}): sweep() has no keyword 'engine'; what runs the chunks "
            "is chosen with executor= ('local' or 'dask'"
            + (f": pass executor={engine!r}" if engine in EXECUTORS else "")
            + "), the model engine by the scenario's [model] engine ('supply-chain' or "
            "'ario': overrides={'model.engine': ...})")
    if executor not in EXECUTORS:
        raise DesignError(f"executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if format not in ("netcdf", "zarr"):
        raise DesignError(f"format {format!r}: expected 'netcdf' or 'zarr'")
    if executor == "local" and (scheduler is not None or client is not None):
        raise DesignError(f"{'scheduler' if scheduler is not None else 'client'} given with "
                          "executor='local', which does not use Dask; pass executor='dask' "
                          "(CLI: --executor dask) or drop it")
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

    # tables: one prepared table per distinct value of the table keys
    preps: dict[int, Any] = {}
    tscen: dict[int, Any] = {}
    tindex = _table_index(design)

    # the horizon of the first run of every chunk (and of the daily record)
    opt = _first_options(base, design, specs, n, hdays, tail, max_days, sectors, daily)

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
                          "executor='local', LocalCluster workers for executor='dask')")
    # every scenario's shocks and parameters are checked before anything is written or run
    # (about 0.16 ms a scenario), so a bad point is refused up front, not mid-sweep; designs
    # beyond UPFRONT_CHECK_MAX scenarios (streamed ones) are checked chunk by chunk as they run
    lowerer = _Lowerer(base.data, base.path, specs, base.allow_outside_data)
    if n <= UPFRONT_CHECK_MAX:
        _check_points(base, design, specs, n, lowerer)

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
        "simcore_version": __version__, "executor": executor, "n_scenarios": n,
        "n_chunks": nchunks}, default=str))
    fp = _fingerprint(ident)
    root = Path(out) if out is not None else None
    store = _Store(root, ident, fp, nchunks) if root is not None else None
    manifest: dict[str, Any] = store.open() if store is not None else {}
    try:
        ds = _run_and_assemble(
            base, design, opt, store, manifest, fp, n, nchunks, chunk_size, streamed, tindex,
            preps, tscen, specs, executor, client, scheduler, workers, progress, format, meta,
            tail, max_days, t_start, lowerer)
    except BaseException:
        if store is not None:
            store.abort()
        raise
    if store is not None:
        store.close()
    return ds


def _table_index(design: Design) -> dict[str, int]:
    """One index per distinct value of the design's table keys (each is prepared once)."""
    tkeys = [k for k in design.keys if k.startswith("table.")]
    tindex: dict[str, int] = {}
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
    return tindex


def _first_options(base, design: Design, specs, n: int, hdays, tail, max_days, sectors,
                   daily) -> _Options:
    """The options of every chunk's first run: its horizon (``'auto'``: the end of the
    design's last shock plus ``tail``) and what it records."""
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
    return opt


#: Shock fields whose values a single-region lowering never checks (each shock validates
#: them when it is built, and scenario.shocks() builds every point's).
_VALUE_FIELDS = ("share", "start", "duration")
#: Parameter maps whose values DynamicParams validates itself (lowering reads their keys).
_VALUE_MAPS = ("dependency_by_product", "inventory_days_by_product")


def _lowering_key(shocks: Sequence[Any], params: Any) -> str | None:
    """What :func:`~simcore.dynamic.supply_chain.check_lowering` of a point can depend on,
    beyond values the shocks and :class:`~simcore.dynamic.params.DynamicParams` validate
    when they are built: every shock field but its share, start and duration; every
    parameter but the values (not the keys) of the per-product maps, and the cell
    matrices by digest.  Points with equal keys lower alike, so :func:`_check_points`
    lowers one of them (a sweep over shares and dependency scales checks once).  ``None``
    (check the point) for anything that is not a dataclass."""
    import dataclasses

    parts = []
    for sh in shocks:
        if not dataclasses.is_dataclass(sh):
            return None
        parts.append((type(sh).__name__, [(f.name, getattr(sh, f.name))
                                          for f in dataclasses.fields(sh)
                                          if f.name not in _VALUE_FIELDS]))
    if not dataclasses.is_dataclass(params):
        return None
    pp = []
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        if f.name in _VALUE_MAPS:
            v = sorted((str(k), sorted(map(str, x)) if isinstance(x, Mapping) else None)
                       for k, x in v.items())
        elif f.name in ("dependency_cells", "inventory_cells"):
            v = None if v is None else v.digest
        pp.append((f.name, v))
    return repr((parts, pp))


#: The first this many points built by the up-front check are kept for the chunks that run
#: them (:attr:`simcore.sweeps.compute._Lowerer.checked`), so that a local sweep builds each
#: of those points' scenario once, not twice; the bound keeps the memory small.
KEEP_CHECKED = 20_000


def _check_points(base, design: Design, specs, n: int, check: _Lowerer | None = None) -> None:
    """Lower every point of the design and check its shocks and parameters against the base
    table (unless the design changes the table); a :class:`DesignError` names the point.
    The first :data:`KEEP_CHECKED` points' shocks and parameters stay in ``check`` (the
    sweep's lowerer) for the chunks."""
    if check is None:
        check = _Lowerer(base.data, base.path, specs, base.allow_outside_data)
    # codes are checked against the base table unless the design changes the table
    prep0 = base.prepared() if not any(k.startswith("table.") for k in design.keys) \
        else None
    ario = base.engine == "ario"
    checked: set[str] = set()
    for i in range(n):
        point = design.point(i)
        shocks, params = check.lower(point, i)
        if i < KEEP_CHECKED:
            check.checked[i] = (point, shocks, params)
        if prep0 is not None:
            key = None if ario or isinstance(prep0, _mrio.PreparedMRIO) else \
                _lowering_key(shocks, params)
            if key is not None and key in checked:
                continue  # lowered before: the same codes, maps and origin shares
            try:
                if ario:
                    ario_inputs(base.ario_table(params), shocks, 1)
                else:
                    (_mrio.check_lowering_mrio if isinstance(prep0, _mrio.PreparedMRIO)
                     else check_lowering)(prep0, shocks, params)
            except (LabelError, ShockError, ParameterError) as exc:
                raise DesignError(
                    f"sweep scenario {i} ({_plain(dict(point))}): {exc}") from None
            if key is not None:
                checked.add(key)


def _run_and_assemble(base, design, opt, store, manifest, fp, n, nchunks, chunk_size,
                      streamed, tindex, preps, tscen, specs, executor, client, scheduler, workers,
                      progress, format, meta, tail, max_days, t_start, lowerer):
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
            if executor == "local":
                _local_executor(tasks, preps, lowerer, opt, on_done, workers)
            else:
                _dask_executor(list(tasks), preps, lowerer, opt, on_done, client=client,
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
        # the chunks (executor= of sweep(): "local" or "dask")
        "engine": base.engine,
        "executor": executor,
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
