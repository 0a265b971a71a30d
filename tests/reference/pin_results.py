"""Write ``pinned_results.json``: the headline results of every shipped scenario, as
``simcore run NAME`` computes them (``simcore.scenario.load(NAME).run()``).

The pin was taken when issue 14 (one run layer for both engines) started, before any of its
changes, so ``test_pinned_results.py`` shows that refactoring the layers above the engines
leaves every shipped scenario's result unchanged to 1e-12 relative.  Re-pin only for a
deliberate change of the model, and say so in the commit::

    python tests/reference/pin_results.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINNED = HERE / "pinned_results.json"


def headline(res) -> dict:
    """The pinned quantities of one result (a scenario run)."""
    out = {
        "gdp_loss_total": float(res["gdp_loss_total"]),
        "gdp_loss_share": float(res["gdp_loss_share"]),
        "value_added_loss": {str(k): float(v)
                             for k, v in res["value_added_loss"].to_series().items()},
        "recovered": bool(res.attrs["recovered"]),
        "days": int(res.attrs["days"]),
    }
    if "onset_day" in res:
        out["onset_day"] = {str(k): int(v) for k, v in res["onset_day"].to_series().items()}
    return out


def compute() -> dict:
    from simcore import scenario

    return {name: headline(scenario.load(name).run()) for name in scenario.available()}


def main() -> int:
    data = compute()
    PINNED.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINNED} ({len(data)} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
