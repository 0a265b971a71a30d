"""Value rules that know how to describe themselves: one rule checks a value read from a
scenario file, checks the same parameter given in Python, and writes its line of the key
reference in ``docs/scenarios.md``.

A rule is called with a value and returns ``None`` (allowed) or what was expected (``"a
number >= 1"``); ``type`` and ``allowed`` describe it for the documentation and for the
engines' error messages.  Parameters declare their rule in their dataclass field's metadata
(:func:`param`), and the scenario schema (:data:`simcore.scenario.SCHEMA`) takes it from
there.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Mapping
from typing import Any, Callable

__all__ = ["Rule", "Num", "Str", "Bool", "ListOf", "MapOf", "NumOrMap", "DaysOrAuto",
           "Table", "Opt", "param", "rule_of", "schema_of", "violations"]


class Rule:
    """A value rule: ``rule(v)`` is ``None`` or what was expected."""

    type: str = "any"

    def __call__(self, v: Any) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def allowed(self) -> str:
        return "any"


def _g(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e6 else f"{x:g}"


class Num(Rule):
    """A finite number (not a boolean) in ``[lo, hi]`` (``lo_open``: above ``lo``);
    ``allow_inf``: ``inf`` is allowed too (when above ``lo`` and ``hi`` is not set)."""

    type = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, unit: str = "", allow_inf: bool = False) -> None:
        self.lo, self.hi, self.lo_open, self.unit = lo, hi, lo_open, unit
        self.allow_inf = allow_inf

    def __call__(self, v: Any) -> str | None:
        lo, hi, lo_open = self.lo, self.hi, self.lo_open
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v) or (
                math.isinf(v) and not self.allow_inf):
            return "a number or inf" if self.allow_inf else "a finite number"
        if lo is not None and (v <= lo if lo_open else v < lo):
            return f"a number {'>' if lo_open else '>='} {lo}" + (
                f" and <= {hi}" if hi is not None else "")
        if hi is not None and v > hi:
            return f"a number <= {hi}" + (f" and >= {lo}" if lo is not None else "")
        return None

    def below(self, v: float) -> bool:
        """Whether ``v`` (a number) is below the range (else, when refused, above it)."""
        return self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo)

    @property
    def allowed(self) -> str:
        return self._allowed() + (", or inf" if self.allow_inf else "")

    def _allowed(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        if self.lo is not None and self.lo == self.hi:
            return f"{_g(self.lo)}{u}"
        if self.lo is not None and self.hi is not None and not self.lo_open:
            return f"{_g(self.lo)}..{_g(self.hi)}{u}"
        if self.lo is not None and self.hi is not None:
            return f"> {_g(self.lo)}, <= {_g(self.hi)}{u}"
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {_g(self.lo)}{u}"
        if self.hi is not None:
            return f"<= {_g(self.hi)}{u}"
        return "any finite number"


class Str(Rule):
    """A string, one of ``choices`` if given."""

    type = "string"

    def __init__(self, choices: tuple[str, ...] | None = None) -> None:
        self.choices = choices

    def __call__(self, v: Any) -> str | None:
        if not isinstance(v, str):
            return "a string"
        if self.choices is not None and v not in self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return None

    @property
    def allowed(self) -> str:
        return "any" if self.choices is None else " or ".join(self.choices)


class Bool(Rule):
    type = "boolean"

    def __call__(self, v: Any) -> str | None:
        return None if isinstance(v, bool) else "true or false"

    @property
    def allowed(self) -> str:
        return "true or false"


class ListOf(Rule):
    """A list of at least ``min_len`` items, each allowed by ``item``."""

    def __init__(self, item: Rule, min_len: int = 0) -> None:
        self.item, self.min_len = item, min_len

    @property
    def type(self) -> str:  # type: ignore[override]
        return f"array of {self.item.type}"

    def __call__(self, v: Any) -> str | None:
        if not isinstance(v, list) or len(v) < self.min_len:
            return f"a list of at least {self.min_len} item(s)"
        for item in v:
            err = self.item(item)
            if err:
                return f"a list whose items are {err}"
        return None

    @property
    def allowed(self) -> str:
        n = f"; at least {self.min_len} items" if self.min_len else ""
        return self.item.allowed + n


class MapOf(Rule):
    """A table whose values are allowed by ``value``."""

    def __init__(self, value: Rule, what: str = "a table") -> None:
        self.value, self.what = value, what

    @property
    def type(self) -> str:  # type: ignore[override]
        t = self.value.type
        return f"table of {t}s" if t == "table" else f"table of {t}"

    def __call__(self, v: Any) -> str | None:
        if not isinstance(v, Mapping):
            return self.what
        for k, item in v.items():
            err = self.value(item)
            if err:
                return f"{self.what} whose values are {err} (bad entry {k!r})"
        return None

    @property
    def allowed(self) -> str:
        return self.value.allowed


class NumOrMap(Rule):
    """A number, or a table of numbers, in the range of ``num`` (``seq``: or a list of
    numbers, one per sector in table order)."""

    def __init__(self, num: Num, seq: bool = False) -> None:
        self.num, self.seq = num, seq

    @property
    def type(self) -> str:  # type: ignore[override]
        return ("number, table or array of numbers" if self.seq
                else "number or table of numbers")

    def items(self, v: Any) -> list[tuple[Any, Any]]:
        """The numbers of ``v``, with their key (``None`` for a single number)."""
        if isinstance(v, Mapping):
            return list(v.items())
        if self.seq and isinstance(v, (list, tuple)):
            return list(enumerate(v))
        return [(None, v)]

    def __call__(self, v: Any) -> str | None:
        if isinstance(v, Mapping):
            return MapOf(self.num)(v)
        if self.seq and isinstance(v, (list, tuple)):
            return ListOf(self.num)(list(v))
        return self.num(v)

    @property
    def allowed(self) -> str:
        return self.num.allowed


class DaysOrAuto(Rule):
    type = 'integer or "auto"'

    def __init__(self, max_days: int) -> None:
        self.max_days = max_days

    def __call__(self, v: Any) -> str | None:
        if v == "auto":
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= self.max_days:
            return f"'auto' or a whole number of days in 1..{self.max_days}"
        return None

    @property
    def allowed(self) -> str:
        return f'"auto" or 1..{self.max_days}'


class Table(Rule):
    """An inline table with the keys of ``schema`` (key -> (rule, description))."""

    type = "table"

    def __init__(self, schema: Mapping[str, tuple[Rule, str]]) -> None:
        self.schema = schema

    def __call__(self, v: Any) -> str | None:
        if not isinstance(v, Mapping):
            return "a table"
        for k, item in v.items():
            if k not in self.schema:
                return f"a table with keys {', '.join(self.schema)} (unknown key {k!r})"
            err = self.schema[k][0](item)
            if err:
                return f"a table where {k} is {err}"
        return None

    @property
    def allowed(self) -> str:
        return "keys " + ", ".join(self.schema)


class Opt(Rule):
    """``None`` (in Python; a scenario file leaves the key out) or a value of ``rule``."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    @property
    def type(self) -> str:  # type: ignore[override]
        return self.rule.type

    def __call__(self, v: Any) -> str | None:
        return None if v is None else self.rule(v)

    @property
    def allowed(self) -> str:
        return self.rule.allowed


def param(default: Any = dataclasses.MISSING, *, rule: Rule, doc: str,
          default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
          scenario: bool = True) -> Any:
    """A dataclass field carrying its value rule and one-line description (the scenario
    schema and the key reference take them from here); ``scenario=False``: a parameter
    of Python calls only, not a key of scenario files."""
    meta = {"rule": rule, "doc": doc, "scenario": scenario}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def rule_of(cls: type, name: str) -> Rule:
    """The rule a dataclass declares for field ``name``."""
    return _rules(cls)[name]


@functools.lru_cache(maxsize=None)
def _rules(cls: type) -> dict[str, Rule]:
    return {f.name: f.metadata["rule"] for f in dataclasses.fields(cls) if "rule" in f.metadata}


def schema_of(cls: type, only: tuple[str, ...] | None = None) -> dict[str, tuple[Rule, str]]:
    """Schema entries ``{key: (rule, description)}`` of the fields of dataclass ``cls``
    that declare a rule (:func:`param`) and are scenario keys, in field order (``only``:
    these fields, in this order)."""
    fs = {f.name: f for f in dataclasses.fields(cls)
          if "rule" in f.metadata and f.metadata.get("scenario", True)}
    names = list(fs) if only is None else list(only)
    return {n: (fs[n].metadata["rule"], fs[n].metadata["doc"]) for n in names}


def violations(obj: Any) -> list[tuple[str, Any, Rule]]:
    """``(field, value, rule)`` for every field of dataclass instance ``obj`` whose value
    its declared rule refuses."""
    out = []
    for f in dataclasses.fields(obj):
        rule = f.metadata.get("rule")
        if rule is not None:
            v = getattr(obj, f.name)
            if rule(v) is not None:
                out.append((f.name, v, rule))
    return out
