"""Chunk computation: scenarios lowered without file access and run on the supply-chain
engine (batched kernels) or the ARIO engine.  The chunk functions run on Dask workers and
are shipped by reference, so they stay importable at module level."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from typing import Any

import numpy as np

from .. import datasets
from ..dynamic import batch as _b
from ..dynamic import mrio as _mrio
from ..dynamic.supply_chain import recovered_rule
from ..carve_spec import read_spec_bytes
from ..run import Horizon, ario_inputs, run_ario_batch
from ..scenario import Scenario, _cached_spec, apply_overrides
from ..errors import (DesignError, LabelError, ParameterError, ScenarioError, ShockError,
                      TableError)
from .design import Design, _overrides, _plain, _with


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
    #: data files resolved so far (``Scenario.data_file``'s memo, shared by every point as
    #: by a scenario's copies: one path resolution per name, not one per point)
    paths: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: points already built by the up-front check (index -> (overrides, shocks, params)),
    #: taken (once) by the chunk that runs them instead of building the scenario again;
    #: never sent to another process (:meth:`__getstate__`)
    checked: dict[int, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["checked"] = {}
        return state

    def scenario(self, overrides: Mapping[str, Any]):
        sc = Scenario(apply_overrides(self.data, _overrides(self.data, overrides),
                                      str(self.path or "")), self.path,
                      allow_outside_data=self.allow_outside_data)
        sc._cache["paths"] = self.paths
        return _pin(sc, self.specs)

    def lower(self, overrides: Mapping[str, Any], index: int) -> tuple[list[Any], Any]:
        hit = self.checked.pop(index, None)
        if hit is not None and hit[0] == overrides:
            return hit[1], hit[2]
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
        return _compute_ario_chunk(cid, start, overrides, items, lowerer, opt, nsec)
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
                        items: list[tuple[list[Any], Any]], lowerer: _Lowerer,
                        opt: _Options, nsec: int) -> dict[str, Any]:
    """A chunk on the ARIO engine (``[model] engine = "ario"``): the points that share a
    lowered table run together in batches of the ARIO kernel
    (:func:`simcore.run.run_ario_batch`), each giving what
    :meth:`simcore.scenario.Scenario.run` gives for it (to the bit), with the run layer's
    horizon: fixed, or ``'auto'`` point by point (each point's horizon doubled until it is
    back at baseline, as a scenario run does; the points still running at a horizon run
    together)."""
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
    where = [[f"shocks[{i}]" for i in range(len(sh))] for sh, _ in items]
    preps: list[Any] = []
    for q, ov in enumerate(overrides):
        sc = lowerer.scenario(ov)
        try:
            sc.ario_record()
            prep = sc.ario_table(items[q][1])
            ario_inputs(prep, items[q][0], 1, where[q])  # refused shocks, named, up front
        except (ScenarioError, LabelError, ShockError, ParameterError, TableError) as exc:
            msg = str(exc) if isinstance(exc, ScenarioError) else f"{sc.file}: {exc}"
            raise DesignError(f"sweep scenario {start + q} ({_plain(dict(ov))}): "
                              f"{msg}") from None
        preps.append(prep)
    horizon = opt.horizon
    days = {q: (opt.days if opt.days is not None else horizon.first(items[q][0]))
            for q in range(m)}
    short: list[int] = []  # done before the daily record's T0 days: run again for it
    while days:
        groups: dict[tuple[int, int], list[int]] = {}
        for q, d in days.items():
            groups.setdefault((id(preps[q]), d), []).append(q)
        nxt: dict[int, int] = {}
        for (_, d), qs in groups.items():
            res = _ario_batch(preps[qs[0]], items, where, qs, d, start, overrides)
            for q, sm in zip(qs, res):
                more = None if sm["recovered"] else horizon.extend(d)
                if more is not None:
                    nxt[q] = more
                    continue
                out["gdp_loss_total"][q] = sm["gdp_loss_total"]
                out["gdp_gain_total"][q] = sm["gdp_gain_total"]
                out["days"][q] = d
                out["recovered"][q] = int(sm["recovered"])
                if opt.sectors:
                    out["value_added_loss"][q] = sm["value_added_loss"]
                if opt.daily:
                    if d >= opt.T0:
                        out["gdp_loss"][q] = sm["gdp_loss"][:opt.T0]
                    else:
                        short.append(q)
        days = nxt
    if short:  # the daily loss over the record's T0 days (the same run, longer)
        by_prep: dict[int, list[int]] = {}
        for q in short:
            by_prep.setdefault(id(preps[q]), []).append(q)
        for qs in by_prep.values():
            for q, sm in zip(qs, _ario_batch(preps[qs[0]], items, where, qs, opt.T0, start,
                                             overrides)):
                out["gdp_loss"][q] = sm["gdp_loss"]
    return out


def _ario_batch(prep: Any, items, where, qs: list[int], days: int, start: int,
                overrides) -> list[dict[str, Any]]:
    try:
        return run_ario_batch(prep, [items[q][0] for q in qs], [items[q][1] for q in qs],
                              days, where=[where[q] for q in qs])
    except (LabelError, ShockError, ParameterError, TableError) as exc:
        raise DesignError(f"sweep scenarios {start + qs[0]}..{start + qs[-1]} (from "
                          f"{_plain(dict(overrides[qs[0]]))}): {exc}") from None


def _run_group(_b, prep, items, sel, opt: _Options, total, days, rec, status, va, daily, gain):
    m = len(items)
    if opt.days is not None:
        r = _b.run_lowered(prep, items, opt.days, gaps="last")
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
            r = _b.run_lowered(prep, [items[q] for q in qs], d, gaps="last")
            va[sel[np.asarray(qs)]] = prep.c[None, :] * r["out_cum"]
