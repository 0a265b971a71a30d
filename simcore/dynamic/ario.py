"""An ARIO engine that reproduces BoARIO 0.6.3's ``ARIOPsiModel``, fast.

The adaptive regional input-output model (Hallegatte 2008, 2014) with Guan et al.'s (2020)
``alt`` order rule, exactly as coded in BoARIO v0.6.3 (``boario/model_base.py``,
``extended_models.py``, ``simulation.py``; docs/methodology.md, "The ARIO engine"): daily
steps with capacity ``X0 (1 - Delta) alpha``, demand-limited optimum, inventory constraint with threshold
``psi``, proportional rationing of every demand, one stock per product fed by every
supplier region, orders = use + inventory gap / tau, overproduction ``alpha`` adapting
towards ``alpha_max`` under scarcity.  Trajectories match BoARIO's to ~1e-15 relative
(``tests/test_ario_parity.py``) while running about 30 times faster on Japan's 185-sector
table and 50 times faster on a 3,000-industry MRIO, with far less memory
(``benchmarks/ario_quick.py``; numba kernels in :mod:`simcore.dynamic._ario_kernels`, one
fused sweep per day, batches of scenarios in parallel).

Labels outside, bare arrays inside: :func:`simulate_ario` and :func:`simulate_ario_batch`
take a simcore table (single-region or multi-regional) and return an
:class:`xarray.Dataset`; events are lowered to dense capacity-loss arrays here before the
kernel runs.

Conventions and choices
-----------------------
* **Final demand** is every rationed column: ``Y`` (all categories, all regions) plus
  exports ``E``.  It is constant (BoARIO) unless ``fd_mult`` is given; unmet demand is lost.
* **Competitive imports** (a single-region table such as Japan's, or an MRIO with ``M``):
  the model has no import suppliers, so imports are *pooled with domestic output*: each
  industry's baseline supply is ``Z 1 + Y 1 + E 1`` (= ``x + m``) and its technical
  coefficients are computed on that supply.  A capacity loss of an industry therefore also
  cuts imports of its product, and imported inputs are never scarce on their own.  To model
  a cut of imports from one origin, first turn the table into an MRIO with the import
  origin as a region (``simcore.transform.split_imports``).  Tables without imports use
  their own ``x``.
* **Value added** (``value_added``) is simcore's convention (docs/methodology.md,
  "Reporting losses"): fixed GDP-like value-added coefficients times output, ``c = v / x0`` with ``v`` from
  :func:`simcore.tables.gdp_coefficients` (on the pooled supply when imports are pooled).
  BoARIO's own record (``boario_value_added``) is different: written before production, it
  is yesterday's output minus the intermediate orders received
  (``x(t-1) - sum_f O(t-1)``), which at baseline equals each industry's final-demand
  sales, not its value added.  It is provided for parity only.
* **Days** are steps; tables are annual and divided by 365 (multiplied by ``1/365``, as
  BoARIO does).  ``monetary_factor`` is carried as metadata (no currency damages here).

Quirks reproduced when ``boario_compat=True`` (listed below)
------------------------------------------------------------------
Q1 arbitrary capacity losses act one day late and their recovery two days late (see
:class:`ArbitraryCapacityLoss`); Q2 the overproduction update adds both
``(alpha_max - alpha) zeta / tau`` and, only when the scarcity ``zeta`` is exactly 0,
``(alpha_base - alpha) / tau``: since ``zeta`` mixes today's demand with yesterday's
production it can be negative, and then ``alpha`` falls through the first term (the
documentation says "reset when zeta <= 0"); Q5 the stock update is skipped when
deliveries are ``allclose`` to use and the inventory gap is zeroed when stocks are
``allclose`` to their goal.  With ``boario_compat=False`` these three follow the
documented model instead: events act on the day they are dated, ``alpha`` moves towards
``alpha_max`` when ``zeta > 0`` and towards ``alpha_base`` otherwise, and every update is
applied.  In both modes (BoARIO's code, not its documentation): ``alpha`` is not updated
on days 0 and 1 and is floored at 1; Q3 capacity is ``X0 (1 - Delta) alpha`` (based on
baseline output); Q4 the inventory constraint uses today's demand-limited optimum; Q6 the
input mask compares annual flows with daily output unless ``input_threshold`` is set; Q7
``alt`` weights suppliers by their capacity ratio, not their production ratio; several
capacity losses on one industry combine by their maximum.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field, fields
from typing import Any

import numpy as np
import xarray as xr

from .. import tables as _tables
from .._jit import raise_for_status
from .._schema import Bool, ListOf, Num, NumOrMap, Opt, Str, param
from ..errors import LabelError, ParameterError, ShockError, SimcoreWarning, TableError
from .common import check_days, check_record_bytes

__all__ = [
    "ARIOParams",
    "ARIOTable",
    "prepare_ario",
    "ArbitraryCapacityLoss",
    "RECOVERY_FUNCTIONS",
    "RECORDS",
    "linear_recovery",
    "convexe_recovery",
    "convexe_recovery_scaled",
    "concave_recovery",
    "capacity_loss",
    "simulate_ario",
    "simulate_ario_batch",
]

#: BoARIO's ``iotable_year_to_temporal_unit_factor``: annual tables, daily steps.
STEPS_PER_YEAR = 365
#: BoARIO's ``TECHNOLOGY_THRESHOLD`` (``model_base.py``), applied to daily output (Q6).
BOARIO_TECHNOLOGY_THRESHOLD = 1e-5
#: Below this daily flow (table units) the absolute tolerance of BoARIO's ``np.allclose``
#: skips (``atol / rtol`` = 1e-8 / 1e-5, :data:`simcore.dynamic._ario_kernels.ATOL` and
#: ``RTOL``) dominates the relative one, so ``boario_compat`` results depend on the unit
#: of money.
ALLCLOSE_UNIT_SCALE = 1e-3


def _warn_if_unit_dependent(prep: ARIOTable, compat: bool, where: str) -> None:
    """Warn when BoARIO's absolute ``allclose`` tolerance makes the result unit-dependent."""
    med = prep.median_daily_flow  # computed once by prepare_ario, not per run
    if compat and med < ALLCLOSE_UNIT_SCALE:
        warnings.warn(
            f"{where}: boario_compat=True reproduces BoARIO's np.allclose skips (quirk Q5), "
            f"whose absolute tolerance 1e-8 is in table units; the median daily "
            f"intermediate flow of this table is {med:.3g} {prep.unit}, below "
            f"{ALLCLOSE_UNIT_SCALE:g}, where that tolerance is no longer relative, so the "
            "result depends on the unit of money (as in BoARIO). Express the table in a "
            "smaller unit (larger numbers) or pass ARIOParams(boario_compat=False)",
            SimcoreWarning, stacklevel=3)

#: Records the kernel can write, with their meaning (``simulate_ario(record=...)``).
RECORDS: dict[str, str] = {
    "production": "realised production x^a (BoARIO production_realised)",
    "capacity": "production capacity X0 (1 - Delta) alpha (BoARIO production_capacity)",
    "final_demand_unmet": "final demand not delivered (lost) (BoARIO final_demand_unmet)",
    "demand": "total demand addressed to the industry: orders received + final demand",
    "overproduction": "overproduction factor alpha (BoARIO overproduction)",
    "orders_received": "intermediate orders received, placed the day before "
                       "(BoARIO intermediate_demand, summed over buyers)",
    "value_added": "GDP-like value added, c * x^a with fixed coefficients c = v / x0",
}
_CODES = {name: code for code, name in enumerate(RECORDS)}
_BOARIO_VA_DOC = ("BoARIO's 'value added' record: yesterday's output minus intermediate orders "
                  "received (x(t-1) - sum_f O(t-1)); not value added (docs/methodology.md, "
                  "Reporting losses)")
#: Records computed in Python from kernel records.
_DERIVED = {"boario_value_added": ("production", "orders_received"), "stocks": ()}


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------
def _check(cond: bool, name: str, value: Any, allowed: str) -> None:
    if not cond:
        raise ParameterError(f"ARIOParams: parameter {name!r} = {value!r} is out of range; "
                             f"allowed: {allowed}")


#: Inventory targets, days: above one day (BoARIO silently resets targets <= 1 day to 2;
#: simcore refuses them), or ``inf`` (never binding).
_INV_DAYS = Num(1, lo_open=True, unit="day", allow_inf=True)


def _isnum(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return not isinstance(v, bool)


@dataclass(frozen=True, kw_only=True)
class ARIOParams:
    """Parameters of the ARIO engine; defaults are BoARIO 0.6.3's ``ARIOPsiModel`` defaults.

    Parameters
    ----------
    order_type : {"alt", "noalt"}, default "alt"
        Supplier weights of orders: ``alt`` re-weights supplier regions by their capacity
        ratio (Guan et al. 2020; BoARIO default; quirk Q7), ``noalt`` keeps baseline shares.
    alpha_base : float, default 1.0
        Base overproduction factor (BoARIO ``alpha_base``); >= 1.
    alpha_max : float, default 1.25
        Maximum overproduction factor (BoARIO ``alpha_max``, "as in Hallegatte 2013/2014");
        >= ``alpha_base``.  It applies to every industry (quirk Q8).
    alpha_tau : float, default 365
        Characteristic time of overproduction, days (BoARIO ``alpha_tau``); > 0.
    main_inv_dur : float, default 90
        Inventory target in days of use for every product (BoARIO ``main_inv_dur``); > 1
        (BoARIO silently resets targets <= 1 day to 2; simcore refuses them), or ``inf``.
    inventory_duration : mapping or sequence, optional
        Per-product override of ``main_inv_dur`` (BoARIO ``inventory_dict``): a mapping from
        sector code to days, or one value per sector in table order; ``inf`` allowed.
    infinite_inventories_sect : sequence of str, default ()
        Products that never constrain production (BoARIO ``infinite_inventories_sect``).
    psi : float, default 0.80
        Inventory threshold: production falls only when a stock is below ``psi`` times its
        target (BoARIO ``psi_param``); in (0, 1].
    inventory_restoration_tau : float, mapping or sequence, default 60
        Inventory restoration time, days, for every product, or per product (mapping from
        sector code covering every sector, as BoARIO requires, or a sequence in table
        order); >= 1.  Values below 10 can make the dynamics oscillate (docs/robustness.md, "Stable
        ranges of the time constants").
    monetary_factor : float, default 1e6
        Monetary unit of the table (BoARIO ``monetary_factor``); metadata only here.
    input_threshold : float, optional
        Input-relevance mask (quirk Q6).  ``None`` (default) applies BoARIO's rule exactly:
        product ``k`` is an input of industry ``f`` when the *annual* purchases of ``k`` by
        ``f`` exceed ``1e-5`` times ``f``'s *daily* output, i.e. a coefficient above
        ``1e-5 / 365`` (about 2.7e-8).  A float ``t`` uses ``aS[k, f] > t`` instead; BoARIO's
        intended ``1e-5`` can silently drop tiny but critical inputs such as rare earths.
    boario_compat : bool, default True
        Reproduce BoARIO's code where it departs from its documented model: the one-day
        event lag (Q1), the overproduction rule (Q2) and the ``allclose`` skips of the stock
        update and of the inventory gap (Q5).  ``False`` gives the documented model.  The
        ``allclose`` tolerance is absolute (1e-8 table units), so with ``True`` results
        depend on the unit of money when daily flows are below about 1e-3 units; simcore
        warns then (:class:`~simcore.errors.SimcoreWarning`).
    """

    # each field declares its value rule (simcore._schema), which __post_init__ checks and
    # the scenario schema's [model.ario] (docs/scenarios.md) takes from here
    order_type: str = param("alt", rule=Str(("alt", "noalt")), doc="supplier weights of orders")
    alpha_base: float = param(1.0, rule=Num(1), doc="base overproduction factor")
    alpha_max: float = param(1.25, rule=Num(1),
                             doc="largest overproduction factor, at least alpha_base")
    alpha_tau: float = param(365.0, rule=Num(0, lo_open=True, unit="day"),
                             doc="overproduction time constant, days")
    main_inv_dur: float = param(90.0, rule=_INV_DAYS,
                                doc="inventory target of every product, days (BoARIO resets "
                                    "shorter targets to 2 days; simcore refuses them)")
    inventory_duration: Mapping[str, float] | Sequence[float] | None = param(
        None, rule=Opt(NumOrMap(_INV_DAYS, seq=True)),
        doc="product -> inventory target, days (or one value per sector in table order)")
    infinite_inventories_sect: Sequence[str] = param(
        (), rule=ListOf(Str()), doc="products that never constrain production")
    psi: float = param(0.80, rule=Num(0, 1, lo_open=True), doc="inventory threshold")
    inventory_restoration_tau: float | Mapping[str, float] | Sequence[float] = param(
        60.0, rule=NumOrMap(Num(1, unit="day"), seq=True),
        doc="inventory restoration time, days (a table must cover every sector)")
    monetary_factor: float = param(1e6, rule=Num(0, lo_open=True),
                                   doc="monetary unit of the table (metadata only)",
                                   scenario=False)
    input_threshold: float | None = param(
        None, rule=Opt(Num(0)), doc="input-relevance threshold on coefficients (default: "
                                    "BoARIO's rule)")
    boario_compat: bool = param(True, rule=Bool(),
                                doc="reproduce BoARIO's code where it departs from its "
                                    "documented model")

    def __post_init__(self) -> None:
        if isinstance(self.infinite_inventories_sect, str):
            object.__setattr__(self, "infinite_inventories_sect",
                               (self.infinite_inventories_sect,))
        object.__setattr__(self, "infinite_inventories_sect",
                           tuple(str(s) for s in self.infinite_inventories_sect))
        for f in fields(self):
            rule = f.metadata.get("rule")
            if rule is None:
                continue
            v = getattr(self, f.name)
            # Python callers may give sequences as tuples or arrays: checked as lists
            v = v.tolist() if isinstance(v, np.ndarray) else v
            v = list(v) if isinstance(v, tuple) else v
            if rule(v) is None:
                continue
            inner = rule.rule if isinstance(rule, Opt) else rule
            if isinstance(inner, NumOrMap):  # name the first value refused
                v = next((x for _, x in inner.items(v) if inner.num(x) is not None), v)
            _check(False, f.name, v, inner.allowed)
        _check(self.alpha_max >= self.alpha_base, "alpha_max", self.alpha_max,
               f">= alpha_base ({self.alpha_base})")

    # -- lowering ------------------------------------------------------------------
    def _per_product(self, name: str, value: Any, sectors: list[str], default: float,
                     require_all: bool) -> np.ndarray:
        n = len(sectors)
        if value is None:
            return np.full(n, float(default))
        if isinstance(value, Mapping):
            unknown = sorted(set(map(str, value)) - set(sectors))
            if unknown:
                raise LabelError(f"ARIOParams.{name}: unknown sector {unknown[0]!r}")
            missing = [s for s in sectors if s not in {str(k) for k in value}]
            if require_all and missing:
                raise ParameterError(
                    f"ARIOParams.{name}: a mapping must cover every sector (as BoARIO "
                    f"requires); missing {missing[:3]}")
            vals = {str(k): float(v) for k, v in value.items()}
            return np.array([vals.get(s, float(default)) for s in sectors])
        if _isnum(value):
            return np.full(n, float(value))
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (n,):
            raise ParameterError(f"ARIOParams.{name}: expected one value per sector "
                                 f"({n}), got shape {arr.shape}")
        return arr

    def inventory_days(self, sectors: Sequence[str]) -> np.ndarray:
        """Inventory target ``s_k`` per product (days; ``inf`` = never binding)."""
        sectors = [str(s) for s in sectors]
        s = self._per_product("inventory_duration", self.inventory_duration, sectors,
                              self.main_inv_dur, False)
        unknown = sorted(set(self.infinite_inventories_sect) - set(sectors))
        if unknown:
            raise LabelError(f"ARIOParams.infinite_inventories_sect: unknown sector "
                             f"{unknown[0]!r}")
        for j, sec in enumerate(sectors):
            if sec in self.infinite_inventories_sect:
                s[j] = np.inf
        return s

    def restoration_tau(self, sectors: Sequence[str]) -> np.ndarray:
        """Inventory restoration time per product (days)."""
        return self._per_product("inventory_restoration_tau", self.inventory_restoration_tau,
                                 [str(s) for s in sectors], 60.0, True)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, Mapping):
                d[k] = {str(a): float(b) for a, b in v.items()}
            elif isinstance(v, (tuple, list, np.ndarray)):
                d[k] = [x if isinstance(x, str) else float(x) for x in v]
        return d


# --------------------------------------------------------------------------------------
# Recovery functions (boario/utils/recovery_functions.py, v0.6.3)
# --------------------------------------------------------------------------------------
def linear_recovery(elapsed: Any, init: np.ndarray, tau: float) -> np.ndarray:
    """``init (1 - elapsed / tau)``: fully recovered after ``tau`` days (BoARIO ``linear``)."""
    return init * (1 - (elapsed / tau))


def convexe_recovery(elapsed: Any, init: np.ndarray, tau: float) -> np.ndarray:
    """``init (1 - 1/tau)^elapsed`` (BoARIO ``"convexe noscale"``)."""
    return init * (1 - (1 / tau)) ** elapsed


def convexe_recovery_scaled(elapsed: Any, init: np.ndarray, tau: float,
                            scaling_factor: float = 4) -> np.ndarray:
    """``init (1 - 1/tau)^(4 elapsed)``: mostly recovered after ``tau`` (BoARIO ``"convexe"``)."""
    return init * (1 - (1 / tau)) ** (scaling_factor * elapsed)


def concave_recovery(elapsed: Any, init: np.ndarray, tau: float,
                     steep_factor: float = 0.000001,
                     half_recovery_time: float | None = None) -> np.ndarray:
    """S-shaped ``init tau / (tau + k elapsed^gamma)`` (BoARIO ``"concave"``).

    ``k = 1e-6`` and ``gamma = (ln tau - ln k) / (ln tau - ln tau_h)`` with ``tau_h = 2``
    (or ``tau / half_recovery_time``).
    """
    tau_h = 2 if half_recovery_time is None else tau / half_recovery_time
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = (np.log(tau) - np.log(steep_factor)) / (np.log(tau) - np.log(tau_h))
        return (init * tau) / (tau + steep_factor * (np.float64(elapsed) ** exponent))


#: Named recovery profiles, as BoARIO's ``recovery_function`` strings.
RECOVERY_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "linear": linear_recovery,
    "convexe": convexe_recovery_scaled,
    "convexe noscale": convexe_recovery,
    "concave": concave_recovery,
}


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArbitraryCapacityLoss:
    """An exogenous loss of production capacity (BoARIO ``EventArbitraryProd``).

    Parameters
    ----------
    industries : str, tuple or sequence
        Affected industries: sector codes for a single-region table; ``"REGION/SECTOR"``
        strings or ``(region, sector)`` tuples for a multi-regional table.
    share : float or sequence of float
        Share of capacity lost, in [0, 1], for all or for each industry.
    occurrence : int
        Day of the event (>= 0; BoARIO requires >= 1).
    duration : int
        Days before recovery starts (>= 0).
    recovery : str, default "linear"
        A key of :data:`RECOVERY_FUNCTIONS`.
    recovery_tau : float, default 1
        Characteristic recovery time, days (> 0; BoARIO's default is 1).

    Notes
    -----
    Lowering (:func:`capacity_loss`), with ``Delta0 = share``, ``t0 = occurrence``,
    ``d = duration`` and ``f`` the recovery function:

    * ``boario_compat=True`` reproduces BoARIO 0.6.3, where the capacity loss is read one
      step after it is set (quirk Q1): ``Delta(t) = Delta0`` for
      ``t0 + 1 <= t <= t0 + d + 1``, then ``round(f(t - t0 - d - 2), 6)`` (so
      ``Delta0 (1 - (t - t0 - d - 2) / tau)`` for ``linear``), and 0 from the day all the
      event's industries round to 0 (the event is "finished").
    * ``boario_compat=False``: ``Delta(t) = Delta0`` for ``t0 <= t < t0 + d``, then
      ``max(f(t - t0 - d), 0)``.

    Several events are combined by the maximum per industry, as BoARIO does.
    BoARIO flags this event type's recovery as unreliable (issue #95); what is reproduced
    here is what its code does.
    """

    industries: Any
    share: float | Sequence[float]
    occurrence: int
    duration: int
    _: KW_ONLY
    recovery: str = "linear"
    recovery_tau: float = 1

    def __post_init__(self) -> None:
        inds = self.industries
        if isinstance(inds, (str, tuple)):
            inds = [inds]
        inds = tuple(tuple(str(x) for x in i) if isinstance(i, tuple) else str(i)
                     for i in inds)
        if not inds:
            raise ShockError("ArbitraryCapacityLoss: 'industries' is empty")
        object.__setattr__(self, "industries", inds)
        share = np.atleast_1d(np.asarray(self.share, dtype=np.float64))
        if share.size not in (1, len(inds)):
            raise ShockError(f"ArbitraryCapacityLoss: 'share' has {share.size} values for "
                             f"{len(inds)} industries")
        if not np.all(np.isfinite(share)) or np.any(share < 0) or np.any(share > 1):
            raise ShockError(f"ArbitraryCapacityLoss: 'share' = {self.share!r} is out of "
                             "range; allowed: 0 <= share <= 1")
        for name in ("occurrence", "duration"):
            v = getattr(self, name)
            if isinstance(v, bool) or not float(v).is_integer() or v < 0:
                raise ShockError(f"ArbitraryCapacityLoss: {name!r} = {v!r} is out of "
                                 "range; allowed: an integer >= 0 (days)")
            object.__setattr__(self, name, int(v))
        if self.recovery not in RECOVERY_FUNCTIONS:
            raise ShockError(f"ArbitraryCapacityLoss: unknown recovery {self.recovery!r}; "
                             f"expected one of {sorted(RECOVERY_FUNCTIONS)}")
        if not (_isnum(self.recovery_tau) and math.isfinite(self.recovery_tau)
                and self.recovery_tau > 0):
            raise ShockError(f"ArbitraryCapacityLoss: 'recovery_tau' = {self.recovery_tau!r}"
                             " is out of range; allowed: > 0 days")

    def shares(self) -> np.ndarray:
        s = np.atleast_1d(np.asarray(self.share, dtype=np.float64))
        return np.broadcast_to(s, (len(self.industries),)).copy()

    def profile(self, days: int, *, boario_compat: bool = True) -> np.ndarray:
        """Capacity lost on each day for each of the event's industries, ``(days, m)``."""
        d0 = self.shares()
        out = np.zeros((days, d0.size))
        fun = RECOVERY_FUNCTIONS[self.recovery]
        t0, dur, tau = self.occurrence, self.duration, self.recovery_tau
        if not boario_compat:
            for t in range(min(days, t0 + dur)):
                if t >= t0:
                    out[t] = d0
            for t in range(t0 + dur, days):
                v = np.asarray(fun(t - t0 - dur, d0, tau), dtype=np.float64)
                out[t] = np.where(v > 0, v, 0.0)
            return out
        # Replays Simulation._check_happening_events / update_prod_cap_delta_arb /
        # EventTracker.recover: the model reads at step t the value set at step t - 1.
        value = d0.copy()
        status = "pending"
        for step in range(days - 1):
            if status == "pending" and step - 1 <= t0 <= step:
                status = "happening"
            if status == "happening" and step >= t0 + dur:
                status = "recovering"
            if status in ("happening", "recovering"):
                out[step + 1] = value
            if status == "recovering":
                value = np.round(np.asarray(fun(step - (t0 + dur), d0, tau),
                                            dtype=np.float64), 6)
                if not value.any():
                    status = "finished"
        return out


def _industry_index(table: xr.Dataset) -> tuple[dict[Any, int], list[str]]:
    labels = _tables.industry_labels(table)
    index: dict[Any, int] = {lab: i for i, lab in enumerate(labels)}
    if _tables.is_multiregional(table):
        for i, lab in enumerate(labels):
            r, s = lab.split("/", 1)
            index[(r, s)] = i
    return index, labels


def _resolve(index: Mapping[Any, int], ind: Any, what: str) -> int:
    if ind not in index:
        hint = "'REGION/SECTOR' or (region, sector)" if isinstance(next(iter(index)), str) \
            and "/" in next(iter(index)) else "a sector code"
        raise LabelError(f"{what}: unknown industry {ind!r}; expected {hint} of the table")
    return index[ind]


def capacity_loss(
    table: xr.Dataset | ARIOTable,
    events: Sequence[ArbitraryCapacityLoss] | ArbitraryCapacityLoss,
    *,
    days: int,
    boario_compat: bool = True,
    dense: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower events to the capacity-loss array the kernel reads.

    Returns ``(delta, idx)``: ``delta[t, j]`` is the share of capacity lost on day ``t`` by
    industry ``idx[j]`` of the flat (region-major) industry axis; several events are
    combined by the maximum.  With ``dense=True`` ``idx`` is every industry.  ``table`` may
    be a simcore table or an :class:`ARIOTable`.
    """
    if isinstance(events, ArbitraryCapacityLoss):
        events = [events]
    if events is None or isinstance(events, (str, bytes, Mapping)) \
            or not hasattr(events, "__iter__"):
        raise ShockError(f"ARIO events = {events!r}: expected an ArbitraryCapacityLoss or a "
                         "sequence of them; pass [] for no event")
    if isinstance(table, ARIOTable):
        index, labels = table.index, table.labels
    else:
        index, labels = _industry_index(table)
    cols: dict[int, np.ndarray] = {}
    for ev in events:
        if not isinstance(ev, ArbitraryCapacityLoss):
            raise ShockError(f"ARIO events must be ArbitraryCapacityLoss, got {type(ev).__name__}")
        prof = ev.profile(days, boario_compat=boario_compat)
        for j, ind in enumerate(ev.industries):
            i = _resolve(index, ind, "ArbitraryCapacityLoss")
            cols[i] = np.maximum(cols[i], prof[:, j]) if i in cols else prof[:, j]
    if dense:
        delta = np.zeros((days, len(labels)))
        for i, c in cols.items():
            delta[:, i] = c
        return delta, np.arange(len(labels), dtype=np.int64)
    idx = np.array(sorted(cols), dtype=np.int64)
    delta = np.zeros((days, idx.size))
    for j, i in enumerate(idx):
        delta[:, j] = cols[int(i)]
    return delta, idx


# --------------------------------------------------------------------------------------
# Lowering the table
# --------------------------------------------------------------------------------------
@dataclass(eq=False)
class ARIOTable:
    """A table lowered once to the arrays the ARIO kernels read (see :func:`prepare_ario`).

    Pass it to :func:`simulate_ario`, :func:`simulate_ario_batch` or :func:`capacity_loss`
    instead of the table to skip the lowering when running many simulations.  Arrays are
    on the flat, region-major industry axis, daily (annual / 365) unless said otherwise:
    ``X0`` baseline output, ``Ysum`` final demand (every rationed column), ``aS``
    coefficients by product (``n x p``), ``inva`` their inverses (``inf`` for inputs outside
    the mask), ``mask`` the input mask, ``Zf`` the table's annual intermediate flows
    (``p x p``, a view of the table's ``Z``, not a copy; unused for one region), ``ZC``
    annual purchases by product (``n x p``), ``dint0`` baseline orders received and ``vw``
    GDP-like value added per unit of output.  Treat it as read-only.
    """

    R: int
    n: int
    regions: list[str] | None
    sectors: list[str]
    labels: list[str]
    index: dict[Any, int]
    input_threshold: float | None
    X0: np.ndarray
    Ysum: np.ndarray
    aS: np.ndarray
    inva: np.ndarray
    Zf: np.ndarray
    ZC: np.ndarray
    dint0: np.ndarray
    vw: np.ndarray
    mask: np.ndarray
    pooled_imports: bool
    unit: str
    #: median positive daily purchase (table units), for the unit warning of the parity mode
    median_daily_flow: float = math.nan
    #: what was done to the table before lowering (see :func:`simcore.run.prepare_ario_table`)
    preprocessing: str = "none"
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        where = f"{self.R} regions x {self.n} sectors" if self.regions else f"{self.n} sectors"
        return (f"ARIOTable({where}, unit={self.unit!r}, pooled_imports={self.pooled_imports}, "
                f"input_threshold={self.input_threshold!r})")


def prepare_ario(table: xr.Dataset, *, input_threshold: float | None = None,
                 check: bool = True) -> ARIOTable:
    """Lower a simcore table once for repeated ARIO runs.

    ``input_threshold`` is :attr:`ARIOParams.input_threshold`; runs that use the result
    must use the same value.  The table is validated first (with the balance tolerances it
    was built with); ``check=False`` skips the balance and productivity checks, for a table
    knowingly out of balance (labels and finite values are always checked).
    """
    if input_threshold is not None:
        ARIOParams(input_threshold=input_threshold)  # validates
    return _prepare(table, input_threshold, check=check)


def _as_prepared(table: xr.Dataset | ARIOTable, input_threshold: float | None,
                 where: str) -> ARIOTable:
    if isinstance(table, ARIOTable):
        if table.input_threshold != input_threshold:
            raise ParameterError(
                f"{where}: parameter 'input_threshold' = {input_threshold!r} differs from the "
                f"value the ARIOTable was prepared with ({table.input_threshold!r})")
        return table
    return _prepare(table, input_threshold)


def _prepare(table: xr.Dataset, input_threshold: float | None, *,
             keep_flows: bool = False, check: bool = True) -> ARIOTable:
    if not isinstance(table, xr.Dataset) or "Z" not in table:
        raise TableError("simulate_ario: expected a simcore table (xarray.Dataset with Z, Y, "
                         "V, x)")
    _tables.check_table(table, "simulate_ario", balance=check, productive=check,
                        hint="; to run a table knowingly out of balance anyway, pass "
                             "simcore.dynamic.ario.prepare_ario(table, check=False)")
    fl = _tables.flat(table)
    Z, Y, E, M, x = fl["Z"], fl["Y"], fl["E"], fl["M"], fl["x"]
    labels = _tables.industry_labels(table)
    for name, a in (("Z", Z), ("Y", Y), ("E", E)):
        if a.size and a.min() < 0:
            i = np.unravel_index(int(np.argmin(a)), a.shape)
            raise TableError(
                f"simulate_ario: {name} has a negative cell {a[i]:.6g} (industry "
                f"{labels[i[0]]!r}); the ARIO engine needs non-negative Z, Y and E "
                "(see simcore.transform.prepare_for_dynamics)")
    mr = _tables.is_multiregional(table)
    R = table.sizes["region"] if mr else 1
    n = table.sizes["sector"]
    p = R * n
    F = np.concatenate([Y, E], axis=1)
    pooled = bool(M.size and np.any(M != 0))
    xm = Z.sum(1) + F.sum(1) if pooled else np.asarray(x, dtype=np.float64)
    if np.any(xm < 0):
        raise TableError("simulate_ario: negative gross output")
    steply = 1.0 / STEPS_PER_YEAR
    X0 = xm * steply
    with np.errstate(divide="ignore"):
        recix = 1.0 / xm
    recix[recix == np.inf] = 0.0
    Z3 = Z.reshape(R, n, p)
    Z_C = Z3.sum(0)
    aS = np.zeros((n, p))
    for r in range(R):
        aS += Z3[r] * recix[None, :]
    if input_threshold is None:
        mask = Z_C > X0[None, :] * BOARIO_TECHNOLOGY_THRESHOLD
    else:
        mask = aS > float(input_threshold)
    with np.errstate(divide="ignore"):
        inva = np.where(mask & (aS > 0), 1.0 / np.where(aS > 0, aS, 1.0), np.inf)
    # the kernels read the table's own flows (no p x p copy) for several regions
    Zf = np.ascontiguousarray(Z, dtype=np.float64) if R > 1 else np.zeros((1, 1))
    vgdp = _tables.gdp_coefficients(table) * x
    with np.errstate(divide="ignore", invalid="ignore"):
        vw = np.where(xm != 0, vgdp / xm, 0.0)
    index, labels = _industry_index(table)
    prep = ARIOTable(
        R=R, n=n, regions=[str(r) for r in table.region.values] if mr else None,
        sectors=[str(s) for s in table.sector.values], labels=labels, index=index,
        input_threshold=None if input_threshold is None else float(input_threshold), X0=X0,
        Ysum=F.sum(1) * steply, aS=aS, inva=np.ascontiguousarray(inva),
        Zf=Zf, ZC=Z_C, dint0=Z.sum(1) * steply,
        vw=vw, mask=mask, pooled_imports=pooled, unit=str(table.attrs.get("unit", "")),
        median_daily_flow=(float(np.median(Z_C[Z_C > 0])) / STEPS_PER_YEAR
                           if (Z_C > 0).any() else math.nan),
    )
    if keep_flows:
        prep.arrays = {"Z": Z, "F": F, "x": xm}
    return prep


def _check_record_bytes(nbytes: int, where: str) -> None:
    """Refuse daily records that would not fit (simcore's record budget), before allocating."""
    check_record_bytes(nbytes, f"{where}: the daily records",
                       "record fewer series (cumulative= or aggregate= instead of record=), "
                       "fewer days or fewer scenarios per batch")


def _check_days(days: Any) -> int:
    """The horizon rule of :func:`simcore.simulate` (1..36500 whole days)."""
    try:
        return check_days(days)
    except ParameterError as exc:
        raise ParameterError(f"simulate_ario: {exc}") from None


def _records(record: Sequence[str], cumulative: Sequence[str], aggregate: Sequence[str]):
    def norm(names: Any, what: str, allow_derived: bool) -> list[str]:
        names = [names] if isinstance(names, str) else list(names)
        ok = set(RECORDS) | (set(_DERIVED) if allow_derived else set())
        for nm in names:
            if nm not in ok:
                raise ParameterError(f"simulate_ario: unknown {what} record {nm!r}; "
                                     f"expected one of {sorted(ok)}")
        return list(dict.fromkeys(names))
    return (norm(record, "daily", True), norm(cumulative, "cumulative", False),
            norm(aggregate, "aggregate", False))


def _slots(names: Sequence[str]) -> np.ndarray:
    slot = np.full(len(RECORDS), -1, dtype=np.int64)
    for j, nm in enumerate(names):
        slot[_CODES[nm]] = j
    return slot


def _fd_arrays(prep: ARIOTable, fd_mult: Any, days: int,
               S: int | None) -> tuple[np.ndarray, np.ndarray]:
    p = prep.R * prep.n
    if fd_mult is None:
        shape = (0, 0) if S is None else (S, 0, 0)
        return np.zeros(shape), np.zeros(0, dtype=np.int64)
    arr = np.asarray(fd_mult, dtype=np.float64)
    want = (days, p) if S is None else (S, days, p)
    if arr.shape != want:
        raise ParameterError(f"simulate_ario: 'fd_mult' must have shape {want} "
                             f"((scenario,) time, industry), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError("simulate_ario: 'fd_mult' must be finite and >= 0")
    return np.ascontiguousarray(arr), np.arange(p, dtype=np.int64)


def _scenario_params(params: ARIOParams, prep: ARIOTable):
    s = params.inventory_days(prep.sectors)
    tau = params.restoration_tau(prep.sectors)
    return dict(alt=params.order_type == "alt", alpha_base=float(params.alpha_base),
                alpha_max=float(params.alpha_max), alpha_rate=1.0 / float(params.alpha_tau),
                psi=float(params.psi), s=s, rtau=1.0 / tau)


def _stock_gap(prep: ARIOTable, s: np.ndarray, stock: np.ndarray) -> float:
    """The stock gap as the run layer's recovered rule reads it
    (:func:`simcore.dynamic.common.is_recovered`): the stocks' shortfall below their
    baseline, ``sum max(S0 - S, 0) / sum S0`` over the products with a finite inventory
    target, ``S0 = X0 aS s`` (the kernel's starting stocks, and the targets once output is
    back at baseline).  Only the shortfall: ARIO's order rule restocks a deficit
    (``max(goal - S, 0) / tau``) and never runs down a surplus, so a surplus a shock leaves
    stays for good in the model and is no distance still to recover
    (``tests/test_run_layer.py::test_ario_stock_gap_is_the_shortfall``)."""
    fin = np.isfinite(s)
    if not fin.any():
        return 0.0
    s0 = (prep.X0[None, :] * prep.aS[fin]) * s[fin, None]
    tot = float(s0.sum())
    return float(np.maximum(s0 - stock[fin], 0.0).sum() / tot) if tot > 0 else 0.0


# --------------------------------------------------------------------------------------
# Result assembly
# --------------------------------------------------------------------------------------
def _industry_dims(prep: ARIOTable) -> tuple[tuple[str, ...], dict[str, Any]]:
    if prep.R > 1 or prep.regions is not None:
        return ("region", "sector"), {"region": prep.regions, "sector": prep.sectors}
    return ("sector",), {"sector": prep.sectors}


def _to_dataset(prep: ARIOTable, params_list: list[ARIOParams], days: int, batch: bool,
                daily: dict[str, np.ndarray], totals: dict[str, np.ndarray],
                sums: dict[str, np.ndarray], stocks: np.ndarray | None) -> xr.Dataset:
    ind_dims, coords = _industry_dims(prep)
    ind_shape = tuple(len(coords[d]) for d in ind_dims)
    lead = ("scenario",) if batch else ()
    coords = dict(coords)
    coords["time"] = np.arange(days)
    if batch:
        coords["scenario"] = np.arange(len(params_list))
    ds = xr.Dataset(coords=coords)
    unit = f"{prep.unit} per day" if prep.unit else "per day"
    for nm, arr in daily.items():
        shp = arr.shape[:-1] + ind_shape
        ds[nm] = (lead + ("time",) + ind_dims, arr.reshape(shp))
        ds[nm].attrs.update(long_name=RECORDS.get(nm, _BOARIO_VA_DOC),
                            units="1" if nm == "overproduction" else unit)
    for nm, arr in totals.items():
        shp = arr.shape[:-1] + ind_shape
        v = f"cumulative_{nm}"
        ds[v] = (lead + ind_dims, arr.reshape(shp))
        ds[v].attrs.update(long_name=f"{RECORDS[nm]}, summed over days",
                           units="day" if nm == "overproduction" else prep.unit)
    for nm, arr in sums.items():
        v = f"aggregate_{nm}"
        ds[v] = (lead + ("time",), arr)
        ds[v].attrs.update(long_name=f"{RECORDS[nm]}, summed over industries", units=unit)
    if stocks is not None:
        sdims = lead + ("time", "product") + ind_dims
        ds["stocks"] = (sdims, stocks.reshape(stocks.shape[:-1] + ind_shape))
        ds = ds.assign_coords(product=prep.sectors)
        ds["stocks"].attrs.update(long_name="input stocks by product, before production "
                                            "(BoARIO inputs_stock)", units=prep.unit)
    ds["baseline_production"] = (ind_dims, prep.X0.reshape(ind_shape))
    ds["baseline_production"].attrs.update(long_name="baseline daily output X0", units=unit)
    ds["baseline_value_added"] = (ind_dims, (prep.vw * prep.X0).reshape(ind_shape))
    ds["baseline_value_added"].attrs.update(long_name="baseline daily GDP-like value added",
                                            units=unit)
    ds["time"].attrs.update(units="day", long_name="simulation day (step)")
    ds.attrs.update(
        engine="ario",
        model="ARIO (BoARIO 0.6.3 ARIOPsiModel semantics), simcore.dynamic.ario",
        unit=prep.unit,
        pooled_imports=int(prep.pooled_imports),
        params=json.dumps([p.to_dict() for p in params_list] if batch
                          else params_list[0].to_dict()),
    )
    return ds


# --------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------
def _kernels():
    """The ARIO kernels (imported on first use: numba is imported only when a kernel runs)."""
    from . import _ario_kernels

    return _ario_kernels


def simulate_ario(
    table: xr.Dataset | ARIOTable,
    events: Sequence[ArbitraryCapacityLoss] | ArbitraryCapacityLoss = (),
    *,
    params: ARIOParams = ARIOParams(),
    days: int = 365,
    record: Sequence[str] = ("production", "capacity", "final_demand_unmet", "value_added"),
    cumulative: Sequence[str] = (),
    aggregate: Sequence[str] = (),
    delta: Any = None,
    fd_mult: Any = None,
) -> xr.Dataset:
    """Simulate the ARIO-Psi model (BoARIO 0.6.3 semantics) on a simcore table.

    Parameters
    ----------
    table : xarray.Dataset or ARIOTable
        A simcore table, single-region or multi-regional, with non-negative ``Z``, ``Y``
        and ``E`` (see the module notes on imports), or the same lowered once with
        :func:`prepare_ario`.
    events : ArbitraryCapacityLoss or sequence of them
        Capacity losses, lowered with :func:`capacity_loss` (``boario_compat`` from
        ``params``).
    params : ARIOParams
        Model parameters (BoARIO defaults).
    days : int, default 365
        Number of daily steps (BoARIO ``n_temporal_units_to_sim``).
    record : sequence of str
        Daily records, dims ``(time, [region,] sector)``: keys of :data:`RECORDS`, plus
        ``"boario_value_added"`` (BoARIO's lagged VA record) and ``"stocks"``
        (``(time, product, [region,] sector)``, before production).
    cumulative : sequence of str
        Records summed over days, as ``cumulative_<name>``.
    aggregate : sequence of str
        Records summed over industries each day, as ``aggregate_<name>`` (``"value_added"``
        gives daily GDP).
    delta : array_like, shape (days, p), optional
        Capacity lost per day and industry (flat region-major axis), combined with the
        events by the maximum.  Taken as given: no lag is added.
    fd_mult : array_like, shape (days, p), optional
        Multiplier of final demand per day and industry (simcore extension; 1 = baseline).

    Returns
    -------
    xarray.Dataset
        The records plus ``baseline_production`` and ``baseline_value_added`` (daily, in
        table units), with the parameters in ``attrs['params']`` and the stocks' shortfall
        after the last day in ``attrs['final_stock_gap_share']`` (``sum max(S0 - S, 0) /
        sum S0`` over products with a finite target, ``S0`` the baseline stocks; what
        :func:`simcore.dynamic.common.is_recovered` reads as the stock gap).

    Raises
    ------
    KernelError
        If the kernel reports a failure (negative stock, non-finite state, negative capacity).

    Examples
    --------
    >>> import simcore as sc
    >>> from simcore.dynamic.ario import simulate_ario, ArbitraryCapacityLoss
    >>> t = sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]],
    ...                           [[650, 1400]], sectors=["1", "2"], unit="$")
    >>> ev = ArbitraryCapacityLoss("1", 0.5, occurrence=5, duration=10, recovery_tau=30)
    >>> res = simulate_ario(t, [ev], days=100)
    >>> bool(res.production.sel(sector="1").min() < res.baseline_production.sel(sector="1"))
    True
    """
    if not isinstance(params, ARIOParams):
        raise ParameterError("simulate_ario: 'params' must be an ARIOParams")
    T = _check_days(days)
    names, totals_n, sums_n = _records(record, cumulative, aggregate)
    prep = _as_prepared(table, params.input_threshold, "simulate_ario")
    _warn_if_unit_dependent(prep, params.boario_compat, "simulate_ario")
    p = prep.R * prep.n
    dl, didx = capacity_loss(prep, events, days=T, boario_compat=params.boario_compat)
    if delta is not None:
        extra = np.asarray(delta, dtype=np.float64)
        if extra.shape != (T, p):
            raise ShockError(f"simulate_ario: 'delta' must have shape {(T, p)}, got "
                             f"{extra.shape}")
        if not np.all(np.isfinite(extra)) or extra.min() < 0 or extra.max() > 1:
            raise ShockError("simulate_ario: 'delta' must be within [0, 1]")
        full = extra.copy()
        full[:, didx] = np.maximum(full[:, didx], dl)
        dl, didx = full, np.arange(p, dtype=np.int64)
    fdm, fidx = _fd_arrays(prep, fd_mult, T, None)
    sp = _scenario_params(params, prep)

    kernel_daily = [nm for nm in names if nm in RECORDS]
    if "boario_value_added" in names:
        for nm in _DERIVED["boario_value_added"]:
            if nm not in kernel_daily:
                kernel_daily.append(nm)
    n = prep.n
    want_stock = "stocks" in names
    _check_record_bytes(8 * T * p * (len(kernel_daily) + (n if want_stock else 0)),
                        "simulate_ario")
    out_daily = np.zeros((len(kernel_daily), T, p))
    out_total = np.zeros((len(totals_n), p))
    out_sum = np.zeros((len(sums_n), T))
    out_stock = np.zeros((T if want_stock else 0, n, p))
    info = np.zeros(2, dtype=np.int64)
    K = _kernels()
    stock = np.empty((n, p))  # the stocks after the last day, on exit
    st = K._ario_run(
        prep.R, n, prep.X0, prep.Ysum, prep.aS, prep.inva, prep.Zf, prep.ZC,
        1.0 / STEPS_PER_YEAR, prep.dint0, prep.vw, sp["alt"], params.boario_compat,
        sp["alpha_base"], sp["alpha_max"], sp["alpha_rate"], sp["psi"], sp["s"], sp["rtau"],
        np.ascontiguousarray(dl), didx, fdm, fidx,
        stock, np.empty((n, p)), np.empty((K.NVEC, p)), np.empty(n),
        np.zeros(K.NFLAGS, dtype=np.int64),
        _slots(kernel_daily), out_daily, _slots(totals_n), out_total, _slots(sums_n), out_sum,
        out_stock, info,
    )
    raise_for_status(int(st), where="simulate_ario", day=int(info[1]))
    daily = {nm: out_daily[j] for j, nm in enumerate(kernel_daily)}
    if "boario_value_added" in names:
        prod = daily["production"]
        prev = np.vstack([prep.X0[None, :], prod[:-1]])
        daily["boario_value_added"] = prev - daily["orders_received"]
    daily = {nm: daily[nm] for nm in names if nm != "stocks"}
    ds = _to_dataset(prep, [params], T, False, daily,
                     {nm: out_total[j] for j, nm in enumerate(totals_n)},
                     {nm: out_sum[j] for j, nm in enumerate(sums_n)},
                     out_stock if want_stock else None)
    ds.attrs["final_stock_gap_share"] = _stock_gap(prep, sp["s"], stock)
    return ds


def simulate_ario_batch(
    table: xr.Dataset | ARIOTable,
    scenarios: Any,
    *,
    params: ARIOParams | Sequence[ARIOParams] = ARIOParams(),
    days: int | None = None,
    industries: Sequence[Any] | None = None,
    record: Sequence[str] = (),
    cumulative: Sequence[str] = ("production", "value_added", "final_demand_unmet"),
    aggregate: Sequence[str] = ("value_added",),
    fd_mult: Any = None,
    workers: int | None = None,
    stock_gap: bool = False,
) -> xr.Dataset:
    """Simulate many scenarios on one table in parallel (one kernel call, ``prange``).

    Parameters
    ----------
    table : xarray.Dataset or ARIOTable
        As in :func:`simulate_ario`; shared by every scenario.
    scenarios : array_like or sequence of event lists
        Either capacity losses ``(S, T, m)`` on the industries ``industries`` (all ``p``
        industries if ``industries`` is None) -- a ``(T, m)`` array is shared by every
        parameter set -- or a sequence of ``S`` event lists, lowered with
        :func:`capacity_loss` (``days`` required).
    params : ARIOParams or sequence of ARIOParams
        One parameter set for all scenarios, or one per scenario.  ``input_threshold`` and
        ``boario_compat`` must be the same for all (they shape the shared arrays).
    days : int, optional
        Horizon; defaults to ``T`` of an array ``scenarios``.
    industries : sequence, optional
        Labels (as in :class:`ArbitraryCapacityLoss`) of the ``m`` columns of ``scenarios``.
    record, cumulative, aggregate : sequence of str
        As in :func:`simulate_ario`; daily records cost ``S x T x p`` floats each, so
        batches default to cumulative records and the daily aggregate value added (GDP).
    fd_mult : array_like, shape (S, T, p), optional
        Final-demand multipliers per scenario.
    workers : int, optional
        Parallel workers (default: numba's thread count, at most ``S``).
    stock_gap : bool, default False
        Also give each scenario's stock gap after the last day (``final_stock_gap_share``,
        dims ``(scenario,)``; as ``attrs['final_stock_gap_share']`` of
        :func:`simulate_ario`).  Keeps one set of work buffers per scenario (about
        ``2 S n p`` floats) instead of one per worker.

    Returns
    -------
    xarray.Dataset
        As :func:`simulate_ario`, with a leading ``scenario`` dimension.
    """
    plist = list(params) if isinstance(params, Sequence) and not isinstance(
        params, ARIOParams) else [params]
    if not plist or not all(isinstance(p_, ARIOParams) for p_ in plist):
        raise ParameterError("simulate_ario_batch: 'params' must be an ARIOParams or a "
                             "non-empty sequence of them")
    for name in ("input_threshold", "boario_compat"):
        vals = {getattr(p_, name) for p_ in plist}
        if len(vals) > 1:
            raise ParameterError(f"simulate_ario_batch: parameter {name!r} must be the same "
                                 f"for every scenario (got {sorted(map(str, vals))})")
    compat = plist[0].boario_compat
    names, totals_n, sums_n = _records(record, cumulative, aggregate)
    if "boario_value_added" in names or "stocks" in names:
        raise ParameterError("simulate_ario_batch: 'boario_value_added' and 'stocks' are "
                             "only available from simulate_ario")
    prep = _as_prepared(table, plist[0].input_threshold, "simulate_ario_batch")
    _warn_if_unit_dependent(prep, compat, "simulate_ario_batch")
    p, n = prep.R * prep.n, prep.n
    index = prep.index

    if _is_event_lists(scenarios):
        if days is None:
            raise ParameterError("simulate_ario_batch: 'days' is required with event lists")
        T = _check_days(days)
        lowered = [capacity_loss(prep, evs if not isinstance(evs, ArbitraryCapacityLoss)
                                 else [evs], days=T, boario_compat=compat)
                   for evs in scenarios]
        cols = sorted({int(i) for _, idx in lowered for i in idx})
        didx = np.array(cols, dtype=np.int64)
        pos = {c: j for j, c in enumerate(cols)}
        delta = np.zeros((len(lowered), T, len(cols)))
        for s_, (dl, idx) in enumerate(lowered):
            for j, i in enumerate(idx):
                delta[s_, :, pos[int(i)]] = dl[:, j]
    else:
        delta = np.asarray(scenarios, dtype=np.float64)
        if delta.ndim == 2:
            delta = np.broadcast_to(delta, (len(plist),) + delta.shape)
        if delta.ndim != 3:
            raise ShockError(f"simulate_ario_batch: capacity losses must be (S, T, m), got "
                             f"shape {delta.shape}")
        if industries is None:
            didx = np.arange(p, dtype=np.int64)
        else:
            inds = [industries] if isinstance(industries, (str, tuple)) else list(industries)
            didx = np.array([_resolve(index, i, "simulate_ario_batch") for i in inds],
                            dtype=np.int64)
            if len(set(didx.tolist())) != didx.size:
                raise ShockError("simulate_ario_batch: duplicate industries")
        if delta.shape[2] != didx.size:
            raise ShockError(f"simulate_ario_batch: capacity losses have {delta.shape[2]} "
                             f"columns for {didx.size} industries")
        if delta.size and (not np.all(np.isfinite(delta)) or delta.min() < 0
                           or delta.max() > 1):
            raise ShockError("simulate_ario_batch: capacity losses must be within [0, 1]")
        T = delta.shape[1] if days is None else _check_days(days)
        if delta.shape[1] != T:
            raise ShockError(f"simulate_ario_batch: capacity losses cover {delta.shape[1]} "
                             f"days, expected {T}")
    S = delta.shape[0]
    if len(plist) == 1:
        plist = plist * S
    if len(plist) != S:
        raise ParameterError(f"simulate_ario_batch: {len(plist)} parameter sets for {S} "
                             "scenarios")
    fdm, fidx = _fd_arrays(prep, fd_mult, T, S)
    sps = [_scenario_params(p_, prep) for p_ in plist]
    alt = np.array([sp["alt"] for sp in sps], dtype=np.int64)
    ab = np.array([sp["alpha_base"] for sp in sps])
    am = np.array([sp["alpha_max"] for sp in sps])
    ar = np.array([sp["alpha_rate"] for sp in sps])
    psi = np.array([sp["psi"] for sp in sps])
    s = np.ascontiguousarray(np.stack([sp["s"] for sp in sps]))
    rtau = np.ascontiguousarray(np.stack([sp["rtau"] for sp in sps]))
    K = _kernels()
    import numba

    W = numba.get_num_threads() if workers is None else int(workers)
    if W < 1:
        raise ParameterError(f"simulate_ario_batch: parameter 'workers' = {workers!r} is "
                             "out of range; allowed: >= 1")
    W = max(1, min(W, S))
    _check_record_bytes(8 * S * T * (len(names) * p + len(sums_n)), "simulate_ario_batch")
    out_daily = np.zeros((S, len(names), T, p))
    out_total = np.zeros((S, len(totals_n), p))
    out_sum = np.zeros((S, len(sums_n), T))
    out_stock = np.zeros((S, 0, n, p))
    info = np.zeros((S, 2), dtype=np.int64)
    # with stock_gap, one buffer set per scenario: worker j runs scenario j alone, and its
    # stock buffer holds that scenario's stocks after the last day on exit
    if stock_gap:
        _check_record_bytes(8 * S * (2 * n * p + K.NVEC * p + n), "simulate_ario_batch "
                            "(stock_gap)")
        W = S
    w_stock = np.empty((W, n, p))
    K._ario_batch(
        prep.R, n, prep.X0, prep.Ysum, prep.aS, prep.inva, prep.Zf, prep.ZC,
        1.0 / STEPS_PER_YEAR, prep.dint0, prep.vw, alt, compat, ab, am, ar, psi, s, rtau,
        np.ascontiguousarray(delta), didx, np.ascontiguousarray(fdm), fidx,
        w_stock, np.empty((W, n, p)), np.empty((W, K.NVEC, p)),
        np.empty((W, n)), np.zeros((W, K.NFLAGS), dtype=np.int64),
        _slots(names), out_daily, _slots(totals_n), out_total, _slots(sums_n), out_sum,
        out_stock, info,
    )
    bad = np.flatnonzero(info[:, 0])
    if bad.size:
        j = int(bad[0])
        raise_for_status(int(info[j, 0]), where=f"simulate_ario_batch scenario {j}",
                         day=int(info[j, 1]),
                         detail=f"{bad.size} of {S} scenarios failed")
    ds = _to_dataset(prep, plist, T, True,
                     {nm: out_daily[:, j] for j, nm in enumerate(names)},
                     {nm: out_total[:, j] for j, nm in enumerate(totals_n)},
                     {nm: out_sum[:, j] for j, nm in enumerate(sums_n)}, None)
    if stock_gap:
        ds["final_stock_gap_share"] = ("scenario", np.array(
            [_stock_gap(prep, s[j], w_stock[j]) for j in range(S)]))
        ds["final_stock_gap_share"].attrs.update(
            long_name="stock gap after the last day, share of the baseline stocks", units="1")
    return ds


def _is_event_lists(scenarios: Any) -> bool:
    if not isinstance(scenarios, (list, tuple)) or not scenarios:
        return False
    first = scenarios[0]
    if isinstance(first, ArbitraryCapacityLoss):
        return True
    return isinstance(first, (list, tuple)) and (
        not first or isinstance(first[0], ArbitraryCapacityLoss))
