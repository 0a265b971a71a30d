"""Small argument checks shared by the public functions (one place for each rule)."""

from __future__ import annotations

import math
from typing import Any

from .errors import ParameterError, ScenarioError


def positive_number(value: Any, message: str) -> float:
    """``value`` as a positive finite float, or a :class:`ParameterError` with ``message``.

    Booleans, strings and other non-numbers are refused, not coerced.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not (math.isfinite(v) and v > 0):
        raise ParameterError(message)
    return v


def known_keys(where: str, table: Any, allowed: Any, *, sort: bool = False) -> None:
    """A :class:`ScenarioError` naming ``where`` and the allowed keys for the first key of
    ``table`` (a mapping read from a data file) that ``allowed`` does not hold."""
    for key in table:
        if key not in allowed:
            shown_keys = sorted(allowed) if sort else allowed
            raise ScenarioError(f"{where}: unknown key {key!r}; allowed: {', '.join(shown_keys)}")


def shown(value: Any) -> str:
    """How an error message shows a value read from a file that failed validation.

    Numbers and booleans are shown (they name the culprit and cannot hold a secret); strings,
    tables and arrays are described, never echoed, so an error on a foreign file (a
    configuration holding a token, say) does not print its contents (issue 15).
    """
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"a table of {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) \
                and len(value) <= 4:
            return repr(list(value))  # a short list of numbers, e.g. [low, high]
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"
