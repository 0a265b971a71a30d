"""The run layer: one way to run shocks on either daily engine, stated once.

Above the engines (:mod:`simcore.dynamic`) and below scenarios, sweeps, calibration and the
CLI, which all run through it:

* :class:`Horizon` -- the horizon of a run and its auto-extension (``days = "auto"``: the
  end of the last shock plus ``tail_days``, doubled until the run is back at baseline or
  ``max_days`` is reached);
* :func:`run_until_recovered` -- that loop, for any run function;
* :data:`ENGINES` and :func:`check_engine` -- the engine a scenario chooses
  (``[model] engine``);
* :func:`ario_inputs` and :func:`run_ario` -- scenario shocks on the ARIO engine (capacity
  losses and final-demand changes; an import cut by origin is refused, naming the shock)
  and its result in the supply-chain engine's vocabulary (:data:`RESULT_VARIABLES`);
* :func:`run_ario_batch` -- many such runs on one table in batches of the ARIO kernel, each
  giving what :func:`run_ario` gives to the bit (sweeps run ARIO points with it).

The rules both engines share at the lowest level (horizon range, record budget, the
recovered rule, onset days) are in :mod:`simcore.dynamic.common`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import xarray as xr

from ._version import __version__
from .dynamic import ario as _ario
from .dynamic.common import check_days, is_recovered, onset_day, shocks_json
from .dynamic.shocks import CapacityShock, DemandShock, ImportCut, intensity
from .errors import ParameterError, ShockError
from .tables import flat
from .transform import prepare_for_dynamics

__all__ = [
    "Horizon",
    "run_until_recovered",
    "ENGINES",
    "check_engine",
    "ario_inputs",
    "run_ario",
    "run_ario_batch",
    "prepare_ario_table",
    "RESULT_VARIABLES",
    "DEFAULT_TAIL_DAYS",
    "DEFAULT_MAX_DAYS",
]

#: Engines a scenario can choose (``[model] engine``; the first is the default); a
#: result's ``attrs["engine"]`` names the one that produced it.
ENGINES = ("supply-chain", "ario")
#: ``days = "auto"``: days simulated after the last shock ends, and the longest horizon.
DEFAULT_TAIL_DAYS = 365.0
DEFAULT_MAX_DAYS = 3650

#: Variables every engine's result has under the run layer (the supply-chain engine's
#: names): daily net GDP-like value-added loss, its cumulative sum and total, the loss as a
#: share of annual GDP, value-added and gross-output losses by sector, baseline daily output,
#: value added above baseline (daily and total) and the loss before netting it.
RESULT_VARIABLES = ("gdp_loss", "cumulative_gdp_loss", "gdp_loss_total", "gdp_loss_share",
                    "value_added_loss", "output_loss", "output_baseline", "gdp_gain",
                    "gdp_gain_total", "gdp_loss_gross_total")

R = TypeVar("R")


# --------------------------------------------------------------------------------------
# Horizon
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Horizon:
    """The horizon of a run: ``days`` whole days, or (``days=None``) ``"auto"``.

    ``"auto"`` starts at the end of the last shock plus ``tail_days`` (at least one day, at
    most ``max_days``) and doubles, capped at ``max_days``, while the run is not back at
    baseline (:func:`simcore.dynamic.common.is_recovered`)."""

    days: int | None = None
    tail_days: float = DEFAULT_TAIL_DAYS
    max_days: int = DEFAULT_MAX_DAYS

    @classmethod
    def of(cls, section: Mapping[str, Any], days: Any = None) -> Horizon:
        """From a scenario's ``[horizon]`` section; ``days`` (if given) replaces its
        ``days``."""
        d = section.get("days", "auto") if days is None else days
        return cls(days=None if d == "auto" else check_days(d),
                   tail_days=float(section.get("tail_days", DEFAULT_TAIL_DAYS)),
                   max_days=int(section.get("max_days", DEFAULT_MAX_DAYS)))

    @property
    def auto(self) -> bool:
        return self.days is None

    def first_for_end(self, end: float) -> int:
        """The first horizon when the last shock ends on day ``end``."""
        if self.days is not None:
            return self.days
        return max(min(int(math.ceil(end + self.tail_days)), self.max_days), 1)

    def first(self, shocks: Sequence[Any]) -> int:
        """The first horizon of a run of ``shocks`` (anything with an ``end``)."""
        return self.first_for_end(max((float(s.end) for s in shocks), default=0.0))

    def extend(self, days: int) -> int | None:
        """The next horizon after a run of ``days`` days not back at baseline; ``None``
        when there is none (fixed horizon, or ``max_days`` reached)."""
        if self.days is not None or days >= self.max_days:
            return None
        return min(2 * days, self.max_days)

    def describe(self) -> str:
        if self.days is not None:
            return f"{self.days} days"
        return (f"auto: end of the last shock + {self.tail_days:g} days, doubled until back "
                f"at baseline (max_days = {self.max_days})")


def run_until_recovered(horizon: Horizon, shocks: Sequence[Any],
                        run_once: Callable[[int], R],
                        recovered: Callable[[R], bool]) -> R:
    """``run_once(days)`` over ``horizon.first(shocks)`` days, then over each
    :meth:`Horizon.extend` while ``recovered(result)`` is false; the last result."""
    days = horizon.first(shocks)
    while True:
        res = run_once(days)
        nxt = None if recovered(res) else horizon.extend(days)
        if nxt is None:
            return res
        days = nxt


# --------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------
def check_engine(engine: Any, where: str = "engine") -> str:
    if engine not in ENGINES:
        raise ParameterError(f"{where} = {engine!r}: expected one of "
                             f"{', '.join(repr(e) for e in ENGINES)}")
    return str(engine)


def _describe(s: Any) -> str:
    if isinstance(s, ImportCut):
        return f"import_cut of product {s.product!r} from {s.origin!r}"
    if isinstance(s, CapacityShock):
        return f"capacity_loss of sector {s.sector!r}"
    return f"demand_change of sector {getattr(s, 'sector', '?')!r}"


def ario_inputs(prep: _ario.ARIOTable, shocks: Sequence[Any], days: int,
                where: Sequence[str] | None = None) -> tuple[np.ndarray | None,
                                                           np.ndarray | None]:
    """Scenario shocks as the ARIO engine's ``delta`` (capacity lost per day and industry)
    and ``fd_mult`` (final-demand multiplier), each ``(days, industries)`` or ``None``.

    Capacity losses and final-demand changes follow the supply-chain engine's schedules
    exactly (:func:`simcore.dynamic.shocks.intensity`; losses on one sector add up, capped
    at the whole capacity; changes add up, floored at zero demand).  The ARIO engine pools
    imports with domestic output and final demand with exports, so an import cut by origin
    and a demand change of only domestic demand or only exports are refused with a
    :class:`~simcore.errors.ShockError` naming the shock (``where[i]`` names shock ``i``).
    """
    T = int(days)
    names = where or [f"shocks[{i}]" for i in range(len(shocks))]
    p = prep.R * prep.n
    if prep.R > 1:
        raise ShockError("scenario shocks on the ARIO engine need a single-region table")
    loss = np.zeros((T, p))
    dem = np.zeros((T, p))
    any_cap = any_dem = False
    for s, nm in zip(shocks, names):
        if isinstance(s, ImportCut):
            raise ShockError(
                f"{nm} ({_describe(s)}): the ARIO engine cannot represent an import cut by "
                "origin (it pools imports with domestic output); use [model] engine = "
                "\"supply-chain\"")
        j = prep.index.get(str(getattr(s, "sector", "")))
        if j is None:
            raise ShockError(f"{nm} ({_describe(s)}): unknown sector {s.sector!r}; expected "
                             f"one of the table's {prep.n} sector codes")
        if isinstance(s, CapacityShock):
            loss[:, j] += s.share * intensity(s, T)
            any_cap = True
        elif isinstance(s, DemandShock):
            if s.target != "all":
                raise ShockError(
                    f"{nm} ({_describe(s)}, target {s.target!r}): the ARIO engine pools "
                    "final demand and exports, so it can change only both (target = "
                    "\"all\"); use [model] engine = \"supply-chain\"")
            dem[:, j] += s.change * intensity(s, T)
            any_dem = True
        else:
            raise ShockError(f"{nm}: {s!r} is not a shock the ARIO engine can run")
    delta = np.minimum(loss, 1.0) if any_cap else None
    fd_mult = np.maximum(1.0 + dem, 0.0) if any_dem else None
    return delta, fd_mult


def prepare_ario_table(table: xr.Dataset, input_threshold: float | None = None
                       ) -> _ario.ARIOTable:
    """A table lowered for the ARIO engine as a scenario runs it: negative cells (MIC
    tables have them) first go through :func:`simcore.transform.prepare_for_dynamics`, as
    the supply-chain engine's :func:`~simcore.dynamic.supply_chain.prepare_model` does
    (``ARIOTable.preprocessing`` says what was done)."""
    note = "none"
    f = flat(table)
    if (f["Z"] < 0).any() or (f["Y"] < 0).any() or (f["E"] < 0).any():
        table, report = prepare_for_dynamics(table)
        note = f"prepare_for_dynamics: {report}"
    prep = _ario.prepare_ario(table, input_threshold=input_threshold)
    prep.preprocessing = note
    return prep


def run_ario(table: Any, shocks: Sequence[Any], params: _ario.ARIOParams, days: int, *,
             record: Sequence[str] = ("output", "final_demand_unmet"),
             gdp_denominator: float | None = None,
             gdp_denominator_source: str | None = None,
             where: Sequence[str] | None = None,
             names: Mapping[str, Sequence[str]] | None = None) -> xr.Dataset:
    """Run scenario ``shocks`` on the ARIO engine over ``days`` days; the result in the run
    layer's vocabulary (:data:`RESULT_VARIABLES`, ``onset_day`` with ``output``), with the
    engine's own records kept under their names (``production``, ``value_added``).

    ``table`` is a simcore table or an :class:`~simcore.dynamic.ario.ARIOTable`
    (:func:`~simcore.dynamic.ario.prepare_ario`, to lower it once).  ``attrs['recovered']``
    is the recovered rule (:func:`simcore.dynamic.common.is_recovered`) on the last day,
    with the net loss, the output gap and the stock gap after the last day
    (``attrs['final_stock_gap_share']``).  ``names`` (coordinate
    name -> one value per sector, e.g. ``name_en``) label the sectors; a table's own
    ``name_en`` and ``name_ja`` are used when ``table`` is a table."""
    T = check_days(days)
    if names is None and isinstance(table, xr.Dataset):
        names = {k: table[k].values for k in ("name_en", "name_ja") if k in table.coords}
    prep = table if isinstance(table, _ario.ARIOTable) else prepare_ario_table(
        table, params.input_threshold)
    delta, fd_mult = ario_inputs(prep, shocks, T, where)
    raw = _ario.simulate_ario(prep, [], params=params, days=T, delta=delta, fd_mult=fd_mult,
                              record=("production", "value_added", "final_demand_unmet"))
    x0 = raw["baseline_production"].values
    va0 = raw["baseline_value_added"].values
    x = raw["production"].values
    va = raw["value_added"].values
    unit = prep.unit
    sm = _ario_summary(x, va, x0, va0, float(raw.attrs["final_stock_gap_share"]))
    gdp_daily = sm["gdp_daily"]
    denom = float(gdp_denominator) if gdp_denominator is not None else gdp_daily * 365.0
    if not (math.isfinite(denom) and denom > 0):
        raise ParameterError(f"gdp_denominator = {gdp_denominator!r}: expected a positive number")
    loss_t, gain_t, out_gap = sm["gdp_loss"], sm["gdp_gain"], sm["output_gap"]
    data: dict[str, Any] = {
        "gdp_loss": (("time",), loss_t, {"units": f"{unit} per day",
                                         "long_name": "GDP-like value-added loss"}),
        "cumulative_gdp_loss": (("time",), np.cumsum(loss_t),
                                {"units": unit, "long_name": "cumulative GDP-like VA loss"}),
        "value_added_loss": (("sector",), sm["value_added_loss"],
                             {"units": unit, "long_name": "cumulative value-added loss"}),
        "output_loss": (("sector",), (x0[None, :] - x).sum(axis=0),
                        {"units": unit, "long_name": "cumulative gross-output loss"}),
        "output_baseline": (("sector",), x0, {"units": f"{unit} per day",
                                              "long_name": "baseline daily output"}),
        "gdp_loss_total": ((), float(loss_t.sum()), {"units": unit}),
        "gdp_loss_share": ((), float(loss_t.sum()) / denom,
                           {"units": "1", "long_name": "loss as a share of annual GDP"}),
        # overproduction (alpha) can lift sectors above baseline: the net loss above nets
        # those gains, these keep them apart (as the supply-chain engine does)
        "gdp_gain": (("time",), gain_t,
                     {"units": f"{unit} per day",
                      "long_name": "value added above baseline, summed over sectors"}),
        "gdp_gain_total": ((), float(gain_t.sum()),
                           {"units": unit, "long_name": "value-added gains (overproduction)"}),
        "gdp_loss_gross_total": ((), float(loss_t.sum() + gain_t.sum()),
                                 {"units": unit,
                                  "long_name": "value-added losses before netting gains"}),
    }
    if "output" in record:
        data["output"] = (("time", "sector"), x, {"units": f"{unit} per day"})
        data["onset_day"] = (("sector",), onset_day(x, x0),
                             {"units": "day", "long_name": "first day output is more than "
                              "0.5 % below baseline (-1: never)"})
        data["value_added_loss_daily"] = (("time", "sector"), va0[None, :] - va,
                                          {"units": f"{unit} per day"})
    if "final_demand_unmet" in record:
        data["final_demand_unmet"] = (("time", "sector"), raw["final_demand_unmet"].values,
                                      {"units": f"{unit} per day", "long_name":
                                       "final demand and exports not delivered"})
    coords: dict[str, Any] = {"sector": raw["sector"].values, "time": np.arange(T)}
    for k, v in (names or {}).items():  # sector names, as the supply-chain engine keeps them
        coords[k] = ("sector", np.asarray(v))
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    last = sm["last"]
    stock_gap = sm["stock_gap"]
    ds.attrs.update({
        "unit": unit,
        "days": T,
        "gdp_denominator": denom,
        "gdp_denominator_source": gdp_denominator_source or "GDP-like value added of the table",
        "recovered": int(sm["recovered"]),
        "recovered_rule": "net loss, output gap and stock gap within RECOVERED_RTOL on the "
                          "last day (simcore.dynamic.common.is_recovered)",
        "final_loss_rate_share_of_daily_gdp": float(last),
        "final_output_gap_share": float(out_gap[-1]),
        "final_stock_gap_share": stock_gap,
        "engine": "ario",
        "model": raw.attrs.get("model", ""),
        "params": raw.attrs.get("params", "{}"),
        "shocks": shocks_json(shocks),
        "preprocessing": getattr(prep, "preprocessing", "none"),
        "simcore_version": __version__,
    })
    return ds


def _ario_summary(x: np.ndarray, va: np.ndarray, x0: np.ndarray, va0: np.ndarray,
                  stock_gap: float) -> dict[str, Any]:
    """What the run layer reads from an ARIO run of ``len(x)`` days (daily production
    ``x`` and value added ``va``, ``(days, sectors)``; baselines ``x0``, ``va0``; the stock
    gap after the last day): the daily net loss and gain, the output gap, the loss by
    sector and the recovered rule on the last day.  One function for :func:`run_ario` and
    :func:`run_ario_batch`, so both give the same numbers to the bit."""
    loss_t = (va0[None, :] - va).sum(axis=1)
    gain_t = np.maximum(va - va0[None, :], 0.0).sum(axis=1)
    out_gap = np.abs(x - x0[None, :]).sum(axis=1) / max(float(x0.sum()), 1e-300)
    gdp_daily = float(va0.sum())
    last = loss_t[-1] / max(gdp_daily, 1e-300)
    return {"gdp_loss": loss_t, "gdp_gain": gain_t, "output_gap": out_gap,
            "gdp_daily": gdp_daily, "last": last, "stock_gap": float(stock_gap),
            "value_added_loss": (va0[None, :] - va).sum(axis=0),
            "recovered": bool(is_recovered(last, out_gap[-1], stock_gap)),
            "gdp_loss_total": float(loss_t.sum()), "gdp_gain_total": float(gain_t.sum())}


#: Memory for the daily arrays of one kernel call of :func:`run_ario_batch` (bytes): the
#: runs are split into batches that fit.
ARIO_BATCH_BYTES = 256 * 1024**2


def run_ario_batch(prep: _ario.ARIOTable, shocks: Sequence[Sequence[Any]],
                   params: Sequence[_ario.ARIOParams], days: int, *,
                   where: Sequence[Sequence[str] | None] | None = None,
                   max_bytes: int | None = None) -> list[dict[str, Any]]:
    """Many runs of scenario shocks on the ARIO engine over ``days`` days on one lowered
    table, in batches of its parallel kernel
    (:func:`~simcore.dynamic.ario.simulate_ario_batch`): for run ``i`` (``shocks[i]``,
    ``params[i]``) what :func:`run_ario` reads from its run (``gdp_loss`` daily,
    ``gdp_loss_total``, ``gdp_gain_total``, ``value_added_loss`` by sector, ``recovered``
    and the gaps), equal to :func:`run_ario`'s to the bit (the kernel runs each scenario
    as :func:`~simcore.dynamic.ario.simulate_ario` does, and :func:`_ario_summary` reads
    both).  Runs that differ in ``input_threshold`` or ``boario_compat`` go to separate
    kernel calls (those shape the shared arrays); ``where[i]`` names run ``i``'s shocks
    in errors."""
    T = check_days(days)
    n_runs = len(shocks)
    if len(params) != n_runs:
        raise ParameterError(f"run_ario_batch: {len(params)} parameter sets for {n_runs} runs")
    p = prep.R * prep.n
    label = {j: k for k, j in prep.index.items()}  # industry column -> a label of it
    budget = int(ARIO_BATCH_BYTES if max_bytes is None else max_bytes)
    # production and value added kept daily, the schedules, and one set of work buffers
    # per run (for its stock gap)
    per_run = 8 * (4 * T * p + 2 * prep.n * p + 16 * p)
    size = max(1, budget // max(per_run, 1))
    groups: dict[tuple, list[int]] = {}
    for i, pr in enumerate(params):
        groups.setdefault((pr.input_threshold, pr.boario_compat), []).append(i)
    out: list[dict[str, Any]] = [{} for _ in range(n_runs)]
    for idx in groups.values():
        for a in range(0, len(idx), size):
            sel = idx[a:a + size]
            lowered = [ario_inputs(prep, shocks[i], T, None if where is None else where[i])
                       for i in sel]
            cols = sorted({int(j) for d, _ in lowered if d is not None
                           for j in np.flatnonzero((d != 0).any(axis=0))})
            delta = np.zeros((len(sel), T, len(cols)))
            any_fd = any(f is not None for _, f in lowered)
            fd = np.ones((len(sel), T, p)) if any_fd else None
            for k, (d, f) in enumerate(lowered):
                if d is not None and cols:
                    delta[k] = d[:, cols]
                if f is not None:
                    fd[k] = f
            raw = _ario.simulate_ario_batch(
                prep, delta, params=[params[i] for i in sel], days=T,
                industries=[label[j] for j in cols],
                record=("production", "value_added"), cumulative=(), aggregate=(),
                fd_mult=fd, stock_gap=True)
            xs = raw["production"].values
            vas = raw["value_added"].values
            x0 = raw["baseline_production"].values
            va0 = raw["baseline_value_added"].values
            gaps = raw["final_stock_gap_share"].values
            for k, i in enumerate(sel):
                out[i] = _ario_summary(xs[k], vas[k], x0, va0, float(gaps[k]))
    return out
