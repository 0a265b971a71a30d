"""Small argument checks shared by the public functions (one place for each rule)."""

from __future__ import annotations

import math
from typing import Any

from .errors import ParameterError


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
