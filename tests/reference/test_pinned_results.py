"""Every shipped scenario's headline results equal the values pinned when issue 14 started
(``pinned_results.json``, written by ``pin_results.py``) to 1e-12 relative: total and
by-sector value-added loss, loss share, onset days, the recovered flag and the horizon.

Refactoring the layers above the engines (run layer, scenarios, CLI, sweeps) must not move
a result; a deliberate model change re-pins with ``python tests/reference/pin_results.py``.
"""

from __future__ import annotations

import json
import math

import pytest

from simcore import scenario

from pin_results import PINNED, headline  # tests/reference is on sys.path (rootdir conftest)

RTOL = 1e-12
PIN = json.loads(PINNED.read_text())


def test_every_shipped_scenario_is_pinned():
    assert sorted(PIN) == scenario.available()


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(b), scale)


@pytest.mark.parametrize("name", sorted(PIN))
def test_shipped_scenario_result_is_unchanged(name):
    got = headline(scenario.load(name).run())
    want = PIN[name]
    assert got["days"] == want["days"]
    assert got["recovered"] == want["recovered"]
    total = want["gdp_loss_total"]
    assert _close(got["gdp_loss_total"], total, 0.0), (got["gdp_loss_total"], total)
    assert _close(got["gdp_loss_share"], want["gdp_loss_share"], 0.0)
    assert set(got["value_added_loss"]) == set(want["value_added_loss"])
    # a sector's loss is compared relative to itself, and (for sectors with a loss near
    # zero, where the relative error of round-off is large) to the total
    bad = {k: (got["value_added_loss"][k], v) for k, v in want["value_added_loss"].items()
           if not _close(got["value_added_loss"][k], v, abs(total))}
    assert not bad, bad
    assert got.get("onset_day") == want.get("onset_day")
    assert math.isfinite(total) and total != 0
