"""Parameters of simcore's supply-chain engine: keyword-only, frozen, with cited defaults.

Each default is either taken from the literature (cited) or a labelled assumption; every
one can be overridden per call, per scenario file and per sweep.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .._schema import Bool, MapOf, Num, NumOrMap, Str, param, violations
from ..errors import ParameterError

__all__ = ["DynamicParams", "Stockpile", "Substitution", "CellMatrix", "RATIONING_RULES"]

RATIONING_RULES = ("proportional", "firms_first")

#: Refused together (docs/robustness.md, "Stable ranges"): stocks of under THIN_STOCK_DAYS
#: days of use refilled with inventory_tau under FAST_TAU days.  Measured edge on the
#: Japanese tables: traps below baseline up to n = 1.05 and tau = 1.5; n >= 1.1 or tau >= 2
#: recovered everywhere, with and without overproduction.
THIN_STOCK_DAYS = 1.5
FAST_TAU = 2.0


def _check(cond: bool, name: str, value: Any, allowed: str) -> None:
    if not cond:
        raise ParameterError(f"parameter {name!r} = {value!r} is out of range; allowed: {allowed}")


def _finite(v: Any) -> bool:
    if isinstance(v, bool):  # True/False are not numbers of days or shares
        return False
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True, kw_only=True)
class Stockpile:
    """A stock of an imported product released when imports fall short.

    Parameters
    ----------
    days : float
        Size of the stock in days of the product's baseline imports (all origins).  Japan's
        national rare-metal stockpile target is 60 days of consumption (JOGMEC; docs/data.md,
        "Rare-earth source data");
        what is actually held for rare earths is undisclosed.
    release_rate : float, default 1.0
        Largest release per day as a share of baseline daily imports.
    """

    days: float = param(rule=Num(0), doc="stock in days of the product's baseline imports")
    release_rate: float = param(1.0, rule=Num(0),
                                doc="largest daily release, share of baseline daily imports")

    def __post_init__(self) -> None:
        # each field's rule (simcore._schema), which [model.stockpiles.PRODUCT] takes too
        for name, v, rule in violations(self):
            _check(False, f"stockpile.{name}", v, rule.allowed)


@dataclass(frozen=True, kw_only=True)
class Substitution:
    """Ramp-up of supply from origins that are not cut (docs/methodology.md, "Shocks and their
    daily profiles").

    Extra imports on day ``t`` are ``headroom * lost(t) * (1 - exp(-(t - t0 - lag) / tau))``
    for ``t >= t0 + lag``, where ``lost(t)`` is the import volume cut that day and ``t0`` the
    start of the first cut of the product.  No verifiable source gives default values for
    rare earths (docs/methodology.md, "Shocks and their daily profiles"): they are scenario inputs
    to sweep.

    Parameters
    ----------
    headroom : float
        Largest share of the lost volume that other origins can replace, in [0, 1].
    lag_days : float, default 0
        Days before any extra supply arrives.
    tau_days : float, default 30
        Time constant of the ramp, days (> 0).
    """

    headroom: float = param(rule=Num(0, 1),
                            doc="largest share of the lost imports other origins can replace")
    lag_days: float = param(0.0, rule=Num(0), doc="days before extra supply starts")
    tau_days: float = param(30.0, rule=Num(0, lo_open=True), doc="time constant of the ramp, days")

    def __post_init__(self) -> None:
        # each field's rule (simcore._schema), which [model.substitution.PRODUCT] takes too
        for name, v, rule in violations(self):
            _check(False, f"substitution.{name}", v, rule.allowed)


@dataclass(frozen=True, eq=False)
class CellMatrix:
    """A value for every (input product, buyer sector) pair, labelled by codes.

    Built by :mod:`simcore.criticality` from the criticality classes and the input buffers
    of a data file; used as the base of :attr:`DynamicParams.dependency_cells` (dependency
    shares) and :attr:`DynamicParams.inventory_cells` (inventory days).  Pairs whose product
    or buyer is not in ``products``/``buyers`` (a carved product, say) take the scalar
    default.  Equality and hashing go by ``digest`` (a hash of codes and values), so
    scenarios built from the same file share one kernel call in a batch.
    """

    products: tuple[str, ...]
    buyers: tuple[str, ...]
    values: Any  # (len(products), len(buyers)) float array
    digest: str
    source: str = ""

    def __post_init__(self) -> None:
        import numpy as np

        v = np.asarray(self.values, dtype=float)
        if v.shape != (len(self.products), len(self.buyers)) or not np.isfinite(v).all():
            raise ParameterError(f"CellMatrix from {self.source or 'memory'}: expected finite "
                                 f"values of shape ({len(self.products)}, {len(self.buyers)}), "
                                 f"got shape {v.shape}")
        v.setflags(write=False)
        object.__setattr__(self, "values", v)

    @functools.cached_property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value (``(inf, -inf)`` when empty), computed once: the
        values are read-only, and every parameter set built on the matrix checks them."""
        v = self.values
        return (float(v.min()), float(v.max())) if v.size else (math.inf, -math.inf)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CellMatrix) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return (f"CellMatrix({len(self.products)}x{len(self.buyers)}, "
                f"source={self.source!r}, digest={self.digest[:12]!r})")


def _as_obj(cls, v: Any, name: str):
    if isinstance(v, cls):
        return v
    if isinstance(v, Mapping):
        try:
            return cls(**v)
        except TypeError as exc:
            raise ParameterError(f"parameter {name!r}: {exc}") from exc
    raise ParameterError(f"parameter {name!r}: expected a {cls.__name__} or a mapping, got {v!r}")


#: Value rules shared by a scalar parameter and its per-product overrides (simcore._schema);
#: the scenario schema and docs/scenarios.md take them from the fields that declare them.
_STOCK_DAYS = Num(1, unit="day")
_THETA = Num(0, 1)
_SIGMA = Num(0)
_ORIGIN_SHARE = Num(0, 1)


def _ok(rule: Num, v: Any) -> bool:
    """A number (or numeric text, as Python callers may give) allowed by ``rule``."""
    return _finite(v) and rule(float(v)) is None


@dataclass(frozen=True, kw_only=True)
class DynamicParams:
    """Parameters of :func:`simcore.simulate`.

    Parameters
    ----------
    inventory_days : float, default 30
        Target inventory of every input, in days of the buyer's baseline use (Pichler et al.
        2022, Eq. 4, target ``n Z0``).  **Assumption**: 30 days sits between Pichler et al.'s
        ONS-based sector values and BoARIO's generic 90 days.  Must be >= 1: a stock below one
        day of use cannot sustain baseline output (docs/methodology.md, "Input criticality and
        buffers").  One day means no buffer
        beyond the day's delivery.
    inventory_days_by_product : mapping, optional
        Overrides by input product code, e.g. ``{"RE": 1}``; a nested mapping
        ``{product: {sector: days}}`` sets buyer-specific targets (key ``"*"`` for the row).
    inventory_tau : float, default 10
        Inventory adjustment time, days.  10 days or more is safe (docs/methodology.md,
        "Pitfalls"; 1 day is the
        classic source of oscillation; MacroStat uses 5).  Must be >= 1.  Values under 2
        days are refused together with stocks (``inventory_days`` or any per-product
        override) under 1.5 days: that corner is at the edge of the order rule's stability
        and can trap the economy below baseline for decades (docs/robustness.md, "Stable
        ranges").
    dependency : float, default 1.0
        Default dependency share ``theta`` of every input: the share of a buyer's output that
        stops when the input is missing.  1 is Leontief-binding (Pichler's "critical"), 0.5
        "important", 0 non-critical (never binds).
    dependency_by_product : mapping, optional
        Overrides by input product: a float for the whole row, or ``{sector: theta}`` with an
        optional ``"*"`` default for the row's other buyers.
    elasticity_by_product : mapping, optional
        Elasticity of substitution ``sigma`` of an input within the dependent share of its
        users (0 = Leontief, the default).  The dependent share's output follows the exact CES
        ratio of docs/methodology.md, "One day, in the kernel's order".
    rationing : {"proportional", "firms_first"}
        Rationing of a short supplier: proportional to all demand (Pichler et al. Eqs. 15–17;
        the default) or intermediate users first, final demand and exports last.
    alpha_max, alpha_tau : float
        Optional ARIO-style overproduction (Hallegatte 2008): capacity rises towards
        ``alpha_max x0`` with time constant ``alpha_tau`` days while demand exceeds output.
        ``alpha_max = 1`` (default) switches it off.
    import_origins : mapping
        Origin shares of imports by product, ``{product: {origin: share}}``; the remainder
        goes to the origin ``"ROW"``.  Needed for any product whose imports are cut.
    stockpiles : mapping
        ``{product: Stockpile(days=..., release_rate=...)}`` (or a plain mapping).
    substitution : mapping
        ``{product: Substitution(headroom=..., lag_days=..., tau_days=...)}``.
    dependency_cells, inventory_cells : CellMatrix, optional
        Dependency shares and inventory days for every (input, buyer) pair, from the
        criticality classes and buffers of a data file (:mod:`simcore.criticality`); the
        ``*_by_product`` overrides apply on top of them, pair by pair.
    origin_stocks : bool, default False
        Hold the stock of an origin-split product (one with ``import_origins``) in one pool
        per named origin plus one pool for domestic supply and the rest of the world, each
        supporting its own share of the buyer's dependent output ("parallel lines":
        Chinese-grade magnets cannot be replaced at short notice by other magnets).  When
        one origin is cut, its pool drains at the full rate of its use and the buyer loses
        ``theta x`` that origin's share of its supply once the pool is empty; with one pooled
        stock, the same loss would come only after the whole stock had drained at the cut
        share's rate.  See docs/methodology.md, "Stocks per origin".
    """

    inventory_days: float = param(30.0, rule=_STOCK_DAYS, doc="target stock of every input, days of use")
    inventory_days_by_product: Mapping[str, Any] = param(
        rule=MapOf(NumOrMap(_STOCK_DAYS)), doc="product -> days (or {sector: days})",
        default_factory=dict)
    inventory_tau: float = param(10.0, rule=Num(1, unit="day"), doc="inventory adjustment time, days")
    dependency: float = param(1.0, rule=_THETA, doc="default dependency share of every input")
    dependency_by_product: Mapping[str, Any] = param(
        rule=MapOf(NumOrMap(_THETA)), doc="product -> theta (or {sector: theta})",
        default_factory=dict)
    elasticity_by_product: Mapping[str, float] = param(
        rule=MapOf(_SIGMA), doc="product -> elasticity of substitution", default_factory=dict)
    rationing: str = param("proportional", rule=Str(RATIONING_RULES), doc="rationing rule")
    alpha_max: float = param(1.0, rule=Num(1), doc="overproduction ceiling (1 = off)")
    alpha_tau: float = param(365.0, rule=Num(1, unit="day"), doc="overproduction time constant, days")
    import_origins: Mapping[str, Mapping[str, float]] = param(
        rule=MapOf(MapOf(_ORIGIN_SHARE)), doc="product -> {origin: share}",
        default_factory=dict)
    stockpiles: Mapping[str, Any] = field(default_factory=dict)
    substitution: Mapping[str, Any] = field(default_factory=dict)
    dependency_cells: CellMatrix | None = None
    inventory_cells: CellMatrix | None = None
    origin_stocks: bool = param(False, rule=Bool(), doc="hold stocks of origin-split products per origin")

    def __post_init__(self) -> None:
        for name in ("dependency_cells", "inventory_cells"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, CellMatrix):
                raise ParameterError(f"parameter {name!r}: expected a CellMatrix or None, "
                                     f"got {type(v).__name__}")
        if not isinstance(self.origin_stocks, bool):
            raise ParameterError(f"parameter 'origin_stocks' = {self.origin_stocks!r}: "
                                 "expected true or false")
        if self.dependency_cells is not None:
            lo, hi = self.dependency_cells.bounds
            if lo < _THETA.lo or hi > _THETA.hi:
                raise ParameterError(f"parameter 'dependency_cells' "
                                     f"({self.dependency_cells.source}): values outside "
                                     f"{_THETA.allowed}")
        if (self.inventory_cells is not None
                and self.inventory_cells.bounds[0] < _STOCK_DAYS.lo):
            raise ParameterError(f"parameter 'inventory_cells' ({self.inventory_cells.source}): "
                                 f"inventory days below {_STOCK_DAYS.lo:g}")
        for name in ("inventory_days_by_product", "dependency_by_product",
                     "elasticity_by_product", "import_origins", "stockpiles", "substitution"):
            v = getattr(self, name)
            if not isinstance(v, Mapping):
                raise ParameterError(f"parameter {name!r} = {v!r}: expected a mapping "
                                     "{product: ...}")
        # the scalar parameters: each field's rule (simcore._schema), which the scenario
        # schema and docs/scenarios.md take from here too
        # (the per-product overrides: their items, with the same rules, below)
        for f in fields(self):
            rule = f.metadata.get("rule")
            if rule is not None and not isinstance(rule, (Bool, MapOf)):
                v = getattr(self, f.name)
                _check(rule(v) is None, f.name, v, rule.allowed)
        for prod, v in self.inventory_days_by_product.items():
            for key, days in (v.items() if isinstance(v, Mapping) else [("*", v)]):
                _check(_ok(_STOCK_DAYS, days),
                       f"inventory_days_by_product[{prod!r}][{key!r}]", days,
                       _STOCK_DAYS.allowed)
        for prod, v in self.dependency_by_product.items():
            for key, th in (v.items() if isinstance(v, Mapping) else [("*", v)]):
                _check(_ok(_THETA, th),
                       f"dependency_by_product[{prod!r}][{key!r}]", th, _THETA.allowed)
        for prod, sig in self.elasticity_by_product.items():
            _check(_ok(_SIGMA, sig), f"elasticity_by_product[{prod!r}]", sig, _SIGMA.allowed)
        for prod, shares in self.import_origins.items():
            if not isinstance(shares, Mapping):
                raise ParameterError(
                    f"parameter 'import_origins[{prod!r}]': expected {{origin: share}}, "
                    f"got {shares!r}")
            for o, sh in shares.items():
                _check(_ok(_ORIGIN_SHARE, sh),
                       f"import_origins[{prod!r}][{o!r}]", sh, _ORIGIN_SHARE.allowed)
            total = sum(float(s) for s in shares.values())
            _check(total <= 1 + 1e-9, f"import_origins[{prod!r}]", shares,
                   "shares summing to at most 1 (the rest is 'ROW')")
        if self.inventory_tau < FAST_TAU:
            days = [("inventory_days", self.inventory_days)] + [
                (f"inventory_days_by_product[{prod!r}]" + (f"[{k!r}]" if nested else ""), d)
                for prod, v in self.inventory_days_by_product.items()
                for nested in [isinstance(v, Mapping)]
                for k, d in (v.items() if nested else [("*", v)])]
            if self.inventory_cells is not None:
                days.append(("inventory_cells", self.inventory_cells.bounds[0]))
            for name, d in days:
                if float(d) < THIN_STOCK_DAYS:
                    raise ParameterError(
                        f"parameter {name!r} = {d!r} with inventory_tau = "
                        f"{self.inventory_tau!r}: stocks of under {THIN_STOCK_DAYS:g} days "
                        f"refilled in under {FAST_TAU:g} days put the order rule at the edge "
                        "of stability, and after a shock the economy can stay below "
                        "baseline for decades (Japan-185, 1-day stocks, tau = 1: 4 % of "
                        "daily GDP still lost every day 30 years after a 30-day cut). "
                        f"Expected inventory_tau >= {FAST_TAU:g} or inventory days >= "
                        f"{THIN_STOCK_DAYS:g}; see docs/robustness.md, 'Stable ranges'")
        object.__setattr__(self, "stockpiles", {
            k: _as_obj(Stockpile, v, f"stockpiles[{k!r}]") for k, v in self.stockpiles.items()})
        object.__setattr__(self, "substitution", {
            k: _as_obj(Substitution, v, f"substitution[{k!r}]")
            for k, v in self.substitution.items()})

    def replace(self, **changes: Any) -> DynamicParams:
        """A copy with some fields changed (validated)."""
        names = {f.name for f in fields(self)}
        for k in changes:
            if k not in names:
                raise ParameterError(f"unknown parameter {k!r}; known: {', '.join(sorted(names))}")
        return replace(self, **changes)

    def origin_shares(self, product: str) -> dict[str, float]:
        """Origin shares of ``product``'s imports, the remainder under ``"ROW"``."""
        shares = {str(k): float(v) for k, v in self.import_origins.get(product, {}).items()}
        rest = 1.0 - sum(shares.values())
        if "ROW" in shares:
            shares["ROW"] += max(rest, 0.0)
        elif rest > 1e-12:
            shares["ROW"] = rest
        return shares
