"""Rules both daily engines share, stated once: the horizon's range, the record budget, when
a run counts as back at baseline, and when a sector's loss starts.

The supply-chain engine (:mod:`simcore.dynamic.supply_chain`, :mod:`simcore.dynamic.batch`) and the
ARIO engine (:mod:`simcore.dynamic.ario`) check their inputs with these functions; the run
layer (:mod:`simcore.run`) builds the horizon and its auto-extension on them.  Nothing here
knows an engine's arrays.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError

__all__ = [
    "MAX_DAYS",
    "MAX_RECORD_BYTES",
    "RECOVERED_RTOL",
    "ONSET_SHARE",
    "check_days",
    "check_record_bytes",
    "is_recovered",
    "onset_day",
    "plain",
    "shocks_json",
    "params_json",
]

#: Largest horizon accepted (100 years).
MAX_DAYS = 36500
#: Memory budget for recorded arrays of one call (bytes).
MAX_RECORD_BYTES = 4 * 1024**3
#: Recovery tolerance (10 ppm).  A run counts as recovered on a day when (1) the net daily
#: GDP loss is below this share of daily GDP, (2) the summed absolute output gap
#: ``sum_j |x_j - x0_j|`` is below this share of baseline gross output and (3) the summed
#: absolute stock gap ``sum |S - target|`` over every input of every buyer is below this share
#: of the summed targets: stocks still below target are a loss still pending (restocking
#: orders can cause losses after output is back, see docs/methodology.md).  Without
#: restocking (very large inventory_tau) a depleted stock has no restoring force: it never
#: returns to its target, such a run never counts as recovered, and ``days = "auto"`` runs
#: to ``max_days``.
RECOVERED_RTOL = 1e-5
#: A sector's loss "starts" on the first day its output is more than this share below
#: baseline (the chain-delay table: ``result.onset_day``).
ONSET_SHARE = 0.005


def check_days(days: Any) -> int:
    """A horizon in whole days, 1..:data:`MAX_DAYS`; anything else is a
    :class:`~simcore.errors.ParameterError` (a float with no fraction is accepted)."""
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)):
        if isinstance(days, float) and days.is_integer():
            days = int(days)
        else:
            raise ParameterError(f"parameter 'days' = {days!r}: expected a whole number of days")
    if days < 1 or days > MAX_DAYS:
        raise ParameterError(
            f"parameter 'days' = {days!r} is out of range; allowed: 1..{MAX_DAYS} (100 years)")
    return int(days)


def gap_rows_for(gaps: str, T: int) -> int:
    """Rows of a batch's gap record for ``gaps`` (the ``run_lowered`` option of both
    engines' sweep backends): ``"daily"``, every day's (``T``); ``"last"``, the last
    day's (1).  Anything else is a :class:`~simcore.errors.ParameterError`."""
    if gaps == "daily":
        return T
    if gaps == "last":
        return 1
    raise ParameterError(f"run_lowered: gaps = {gaps!r}: expected 'daily' or 'last'")


def check_record_bytes(nbytes: int, what: str, advice: str) -> None:
    """Refuse daily records above :data:`MAX_RECORD_BYTES` before anything is allocated
    (both engines)."""
    if nbytes > MAX_RECORD_BYTES:
        raise ParameterError(f"{what} need {nbytes / 1e9:.1f} GB (limit "
                             f"{MAX_RECORD_BYTES / 1e9:.1f} GB); {advice}")


def is_recovered(loss_share_of_daily_gdp: Any, output_gap_share: Any,
                 stock_gap_share: Any) -> np.ndarray:
    """Whether a day counts as back at baseline: the net GDP loss (a share of daily GDP),
    the output gap and the stock gap (shares as the kernels report them) all within
    :data:`RECOVERED_RTOL` (see there).  Arrays broadcast."""
    return ((np.abs(np.asarray(loss_share_of_daily_gdp)) < RECOVERED_RTOL)
            & (np.asarray(output_gap_share) < RECOVERED_RTOL)
            & (np.asarray(stock_gap_share) < RECOVERED_RTOL))


def onset_day(output: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """First day (``time`` is axis 0) each sector's output is more than :data:`ONSET_SHARE`
    below ``baseline``; -1 where it never is."""
    below = np.asarray(output) < (1.0 - ONSET_SHARE) * np.asarray(baseline)[None, :]
    first = below.argmax(axis=0)  # 0 where never below: told apart by the check
    hit = (below[first, np.arange(below.shape[1])] if below.ndim == 2
           else np.take_along_axis(below, first[None], axis=0)[0])
    return np.where(hit, first, -1)


_SCALARS = frozenset({bool, int, float, str, type(None)})
#: The field names of each dataclass :func:`plain` met (a class's fields are fixed).
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(v: Any) -> Any:
    """``v`` as JSON-able Python: mappings, sequences, numpy scalars and arrays, dataclasses
    (by field); a labelled cell matrix (anything with a ``digest``) by its digest and
    source, not its values."""
    t = type(v)  # fast paths for the exact built-in types (what the chain below gives them)
    if t in _SCALARS:
        return v
    if t is dict:
        return {str(k): plain(x) for k, x in v.items()}
    if t is list or t is tuple:
        return [plain(x) for x in v]
    names = _FIELDS.get(t)
    if names is None and dataclasses.is_dataclass(v) and not isinstance(v, type):
        names = _FIELDS.setdefault(t, tuple(f.name for f in dataclasses.fields(v)))
    if hasattr(v, "digest") and (names is not None or dataclasses.is_dataclass(v)):
        return {"digest": str(v.digest), "source": str(getattr(v, "source", ""))}
    if names is not None:
        return {k: plain(getattr(v, k)) for k in names}
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return plain(v.tolist())
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def shocks_json(shocks: Sequence[Any]) -> str:
    """The shocks of a run as JSON (``attrs["shocks"]``): per shock its ``kind`` (class
    name), its fields and its ``end`` (day the shock is over, recovery included)."""
    return json.dumps([{"kind": type(s).__name__, **plain(s), "end": float(s.end)}
                       for s in shocks])


def params_json(params: Any) -> str:
    """An engine's parameters as JSON (``attrs["params"]``)."""
    return json.dumps(plain(params), sort_keys=True)
