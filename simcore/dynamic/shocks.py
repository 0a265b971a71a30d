"""Shock specifications and their time profiles.

Shocks are small frozen, keyword-only specs, lowered to dense daily intensity arrays in
``[0, 1]`` before the kernel runs.  Time is in days from the start of the simulation; a shock
covers ``[start, start + duration)``, and a day partly covered gets the covered fraction
(so 3 months = 91.25 days ends with a quarter-day on day 91).

Profiles are named pure functions in :data:`PROFILES`:

``step``
    full intensity over the whole duration.
``ramp``
    rises linearly to full intensity over ``ramp_days``, then full.
``linear_recovery``
    full intensity until ``start + duration``, then falls linearly to 0 over
    ``recovery_days`` (the cut is lifted gradually).
a sequence of floats
    a custom daily profile starting at ``start`` (values in [0, 1]; ``duration`` is ignored).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from .._schema import ListOf, Num, Str, param, rule_of
from ..errors import ShockError

__all__ = ["ImportCut", "ExportCut", "CapacityShock", "DemandShock", "PROFILES", "intensity",
           "Shock", "SHOCK_KINDS", "DEMAND_TARGETS"]

Profile = Union[str, Sequence[float]]

#: Largest start, duration, ramp or recovery time accepted, in days (about 2.7 million
#: years): larger values overflow once added up (``start + duration`` to infinity) and
#: crashed the horizon arithmetic (issue 15).
MAX_SHOCK_DAYS = 1e9


def _overlap(T: int, a: float, b: float) -> np.ndarray:
    """Fraction of each day [t, t+1) covered by [a, b)."""
    t = np.arange(T, dtype=float)
    return np.clip(np.minimum(t + 1.0, b) - np.maximum(t, a), 0.0, 1.0)


def _step(T: int, s: "_Timed") -> np.ndarray:
    return _overlap(T, s.start, s.start + s.duration)


def _ramp(T: int, s: "_Timed") -> np.ndarray:
    base = _step(T, s)
    if s.ramp_days <= 0:
        return base
    mid = np.arange(T, dtype=float) + 0.5
    return base * np.clip((mid - s.start) / s.ramp_days, 0.0, 1.0)


def _linear_recovery(T: int, s: "_Timed") -> np.ndarray:
    base = _step(T, s)
    if s.recovery_days <= 0:
        return base
    end = s.start + s.duration
    mid = np.arange(T, dtype=float) + 0.5
    tail = np.clip(1.0 - (mid - end) / s.recovery_days, 0.0, 1.0) * (mid >= end)
    return np.maximum(base, tail * (mid >= s.start))


PROFILES: dict[str, Callable[[int, Any], np.ndarray]] = {
    "step": _step,
    "ramp": _ramp,
    "linear_recovery": _linear_recovery,
}


def _num(obj: Any, name: str, what: str) -> None:
    """Check field ``name`` of shock ``obj`` against the rule its field declares (which the
    scenario schema's ``[[shocks]]`` takes too), and store it as a float."""
    v = getattr(obj, name)
    rule: Num = rule_of(type(obj), name)  # type: ignore[assignment]
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ShockError(f"{what}: {name} must be a number, got {v!r}") from None
    if not math.isfinite(f):
        raise ShockError(f"{what}: {name} must be finite, got {v!r}")
    if rule(f) is not None:
        lo, hi = rule.lo, rule.hi
        if rule.below(f):
            raise ShockError(f"{what}: {name} = {v!r} is below {float(lo)}; expected "
                             f"{name} {'>' if rule.lo_open else '>='} {float(lo)}")
        hint = (" (a fraction, not a percentage: 0.5 means 50 %)"
                if hi == 1.0 and f <= 100 else "")
        raise ShockError(f"{what}: {name} = {v!r} is above {float(hi)}; expected "
                         f"{name} <= {float(hi)}{hint}")
    object.__setattr__(obj, name, f)


def _code(name: str, v: Any, what: str) -> str:
    """A sector, product or origin code: a string (or a whole number, taken as its text)."""
    if isinstance(v, bool) or not isinstance(v, (str, int, np.integer)):
        raise ShockError(f"{what}: {name} must be a code (a string), got {v!r}")
    return str(v)


#: The value rules of the shocks' fields (simcore._schema): each field declares its rule,
#: which the shock checks and the scenario schema's ``[[shocks]]`` takes from here.
_DAYS = Num(0, MAX_SHOCK_DAYS, unit="day")
_SHARE = Num(0, 1)
_CODE = Str()  # a sector, product or region code


@dataclass(frozen=True, kw_only=True)
class _Timed:
    start: float = param(0.0, rule=_DAYS, doc="first day")
    duration: float = param(0.0, rule=_DAYS,
                            doc="days (fractions allowed: 91.25 = 3 months)")
    profile: Profile = param("step", rule=Str(tuple(PROFILES)),
                             doc="time profile (in Python also a list of daily intensities)")
    ramp_days: float = param(0.0, rule=_DAYS, doc="days to full intensity (profile 'ramp')")
    recovery_days: float = param(0.0, rule=_DAYS,
                                 doc="days of linear recovery after the end (profile "
                                     "'linear_recovery')")

    def _validate_time(self, what: str) -> None:
        for name in ("start", "duration", "ramp_days", "recovery_days"):
            _num(self, name, what)
        if isinstance(self.profile, str):
            if rule_of(_Timed, "profile")(self.profile) is not None:
                raise ShockError(f"{what}: unknown profile {self.profile!r}; expected one of "
                                 f"{', '.join(PROFILES)} or a list of daily intensities")
        else:
            try:
                arr = np.asarray(self.profile, dtype=float)
            except (TypeError, ValueError):
                raise ShockError(f"{what}: a custom profile must be a 1-D list of values in "
                                 f"[0, 1], got {self.profile!r}") from None
            if arr.ndim != 1 or not np.all(np.isfinite(arr)) or arr.min(initial=0) < 0 \
                    or arr.max(initial=0) > 1:
                raise ShockError(f"{what}: a custom profile must be a 1-D list of values in "
                                 "[0, 1]")
            object.__setattr__(self, "profile", tuple(float(v) for v in arr))

    @property
    def end(self) -> float:
        """Day at which the shock (including any recovery tail or custom profile) is over."""
        if not isinstance(self.profile, str):
            return self.start + len(self.profile)
        return self.start + self.duration + (
            self.recovery_days if self.profile == "linear_recovery" else 0.0)


def intensity(shock: _Timed, T: int) -> np.ndarray:
    """Daily intensity of ``shock`` over ``T`` days, in [0, 1]."""
    if isinstance(shock.profile, str):
        return PROFILES[shock.profile](T, shock)
    out = np.zeros(T)
    s0 = int(math.floor(shock.start))
    prof = np.asarray(shock.profile)
    lo, hi = max(s0, 0), min(s0 + len(prof), T)
    if hi > lo:
        out[lo:hi] = prof[lo - s0: hi - s0]
    return out


@dataclass(frozen=True, kw_only=True)
class ImportCut(_Timed):
    """A cut of imports of ``product`` from ``origin`` by ``share`` (0..1).

    The table need not split imports by origin: the origin's share of the product's imports
    comes from :attr:`DynamicParams.import_origins` (e.g. China 71.9 % of rare earths).

    Examples
    --------
    >>> from simcore import ImportCut
    >>> ImportCut(product="RE", origin="CHN", share=1.0, start=0, duration=91.25).end
    91.25
    """

    product: str = param(rule=_CODE, doc="product code cut")
    origin: str = param(rule=_CODE, doc="origin of the imports cut, e.g. 'CHN'")
    share: float = param(rule=_SHARE, doc="share cut")

    def __post_init__(self) -> None:
        what = f"ImportCut(product={self.product!r}, origin={self.origin!r})"
        object.__setattr__(self, "product", _code("product", self.product, what))
        object.__setattr__(self, "origin", _code("origin", self.origin, what))
        _num(self, "share", what)
        self._validate_time(what)


@dataclass(frozen=True, kw_only=True)
class CapacityShock(_Timed):
    """A loss of ``share`` (0..1) of the production capacity of ``sector``."""

    sector: str = param(rule=_CODE, doc="sector hit")
    share: float = param(rule=_SHARE, doc="share cut")

    def __post_init__(self) -> None:
        what = f"CapacityShock(sector={self.sector!r})"
        object.__setattr__(self, "sector", _code("sector", self.sector, what))
        _num(self, "share", what)
        self._validate_time(what)


DEMAND_TARGETS = ("all", "domestic", "exports")


@dataclass(frozen=True, kw_only=True)
class DemandShock(_Timed):
    """A relative change ``change`` (>= -1) of the final demand for ``sector``'s product.

    ``target`` selects domestic final demand, exports, or both (``"all"``).
    """

    sector: str = param(rule=_CODE, doc="sector hit")
    change: float = param(rule=Num(-1), doc="relative change of final demand")
    target: str = param("all", rule=Str(DEMAND_TARGETS), doc="final demand hit")

    def __post_init__(self) -> None:
        what = f"DemandShock(sector={self.sector!r})"
        object.__setattr__(self, "sector", _code("sector", self.sector, what))
        _num(self, "change", what)
        if rule_of(DemandShock, "target")(self.target) is not None:
            raise ShockError(f"{what}: target {self.target!r} not allowed; expected one of "
                             f"{', '.join(DEMAND_TARGETS)}")
        self._validate_time(what)


@dataclass(frozen=True, kw_only=True)
class ExportCut(_Timed):
    """A cut by ``share`` (0..1) of the deliveries of ``product`` from region ``origin`` to
    every buyer (firms and final demand) in ``destinations`` (a multi-regional table only).

    ``destinations = None`` (the default) means every other region of the table.  Each
    destination's deliveries are capped at ``1 - share x intensity`` of their baseline
    flow (docs/mrio.md, "Shocks").

    Examples
    --------
    >>> from simcore import ExportCut
    >>> ExportCut(product="MAG", origin="CHN", share=1.0, duration=91.25).destinations is None
    True
    """

    product: str = param(rule=_CODE, doc="product code cut")
    origin: str = param(rule=_CODE, doc="origin region of the deliveries cut")
    share: float = param(rule=_SHARE, doc="share cut")
    destinations: tuple[str, ...] | None = param(
        None, rule=ListOf(Str(), 1), doc="destination regions (omit: all)")

    def __post_init__(self) -> None:
        what = f"ExportCut(product={self.product!r}, origin={self.origin!r})"
        object.__setattr__(self, "product", _code("product", self.product, what))
        object.__setattr__(self, "origin", _code("origin", self.origin, what))
        _num(self, "share", what)
        dest = self.destinations
        if dest is not None:
            if isinstance(dest, (str, bytes)) or not hasattr(dest, "__iter__"):
                raise ShockError(f"{what}: destinations must be a list of region codes "
                                 f"(or omitted for all), got {dest!r}")
            dest = tuple(_code("destination", d, what) for d in dest)
            if len(dest) < rule_of(ExportCut, "destinations").min_len:  # type: ignore[attr-defined]
                raise ShockError(f"{what}: destinations is empty; omit it for all regions")
            if self.origin in dest:
                raise ShockError(f"{what}: the origin {self.origin!r} cannot be a destination "
                                 "of its own exports")
            object.__setattr__(self, "destinations", dest)
        self._validate_time(what)


Shock = Union[ImportCut, ExportCut, CapacityShock, DemandShock]

#: The shocks by their ``kind`` in a scenario file's ``[[shocks]]``; the schema takes each
#: key's rule and description from these classes' fields.
SHOCK_KINDS: dict[str, type] = {"import_cut": ImportCut, "export_cut": ExportCut,
                                "capacity_loss": CapacityShock, "demand_change": DemandShock}
