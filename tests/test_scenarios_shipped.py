"""The shipped scenarios load, validate and run; the vary-* variants move the way the
economics says; the strict schema rejects bad files."""

from __future__ import annotations

import copy
import math

import pytest

from simcore import scenario
from simcore.errors import ScenarioError

VARY = [n for n in scenario.available() if n.startswith("vary-")]


_LOSSES: dict[str, float] = {}
_BASE: dict[str, scenario.Scenario] = {}


def _loss(name: str) -> float:
    """Loss of a shipped scenario, computed once; variants on Kiuchi's table share its
    prepared table (as :meth:`Scenario.copy_with` does) to keep the file fast."""
    if name not in _LOSSES:
        base = _BASE.setdefault("k", scenario.load("kiuchi-2025-3m"))
        sc = scenario.load(name)
        if sc.data["table"] == base.data["table"]:
            base.prepared()
            sc._cache.update({k: base._cache[k] for k in ("table", "prepared")})
        _LOSSES[name] = float(sc.run().gdp_loss_total)
    return _LOSSES[name]


def test_shipped_list_includes_the_variants() -> None:
    names = scenario.available()
    for n in ("kiuchi-2025-3m", "kiuchi-2025-12m", "vary-china-share-60", "vary-stocks-0",
              "vary-stocks-30", "vary-stocks-60", "vary-stocks-90", "vary-ramp-up",
              "vary-duration-1m", "vary-duration-6m", "vary-duration-24m",
              "vary-dual-use-broad"):
        assert n in names


@pytest.mark.parametrize("name", scenario.available())
def test_every_shipped_scenario_loads_and_validates(name: str) -> None:
    sc = scenario.load(name)
    assert sc.name == name
    sc.validate()
    sc.params()
    sc.shocks()


@pytest.mark.parametrize("name", VARY)
def test_variant_runs_with_finite_nonnegative_loss(name: str) -> None:
    sc = scenario.load(name)
    assert "calibration" not in sc.data and "reference" not in sc.data
    loss = _loss(name)
    assert math.isfinite(loss) and loss >= 0


def test_dual_use_is_labelled_illustrative() -> None:
    sc = scenario.load("vary-dual-use-broad")
    assert sc.data["illustrative"] is True
    assert "illustrative" in sc.data["title"].lower()


def test_longer_stop_costs_more() -> None:
    losses = [_loss(n) for n in ("vary-duration-1m", "kiuchi-2025-3m", "vary-duration-6m")]
    assert losses[0] < losses[1] < losses[2]


def test_smaller_china_share_costs_less() -> None:
    assert _loss("vary-china-share-60") < _loss("kiuchi-2025-3m")


def test_stocks_buffer_the_stop() -> None:
    # more rare-earth and magnet stocks never cost more (60 and 90 days give the same loss)
    s0, s30, s60, s90 = (_loss(f"vary-stocks-{d}") for d in (0, 30, 60, 90))
    assert s30 < s0
    assert s60 < s30
    assert s90 <= s60 * (1 + 1e-9)


def test_ramp_up_lowers_the_loss() -> None:
    assert _loss("vary-ramp-up") < _loss("kiuchi-2025-3m")


# ------------------------------------------------------------------ strict schema
@pytest.fixture(scope="module")
def base() -> dict:
    return copy.deepcopy(scenario.load("kiuchi-2025-3m").data)


def test_unknown_key_names_file_and_key(base: dict) -> None:
    d = copy.deepcopy(base)
    d["model"]["inventroy_days"] = 5.0
    with pytest.raises(ScenarioError, match=r"model\.inventroy_days") as exc:
        scenario.load(d)
    assert "<scenario kiuchi-2025-3m>" in str(exc.value)


def test_unknown_key_in_a_file_names_the_path(base: dict, tmp_path) -> None:
    text = (scenario.scenario_dir() / "vary-stocks-30.toml").read_text()
    p = tmp_path / "bad.toml"
    p.write_text(text.replace("[horizon]", "[horizon]\nbogus_key = 1"))
    with pytest.raises(ScenarioError, match=r"bad\.toml.*horizon\.bogus_key"):
        scenario.load(p)


def test_wrong_type_is_rejected(base: dict) -> None:
    d = copy.deepcopy(base)
    d["model"]["inventory_days"] = "thirty"
    with pytest.raises(ScenarioError, match=r"model\.inventory_days"):
        scenario.load(d)


def test_share_above_one_is_rejected(base: dict) -> None:
    d = copy.deepcopy(base)
    d["shocks"][0]["share"] = 1.5
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.share"):
        scenario.load(d)


def test_negative_duration_is_rejected(base: dict) -> None:
    d = copy.deepcopy(base)
    d["shocks"][1]["duration"] = -10.0
    with pytest.raises(ScenarioError, match=r"shocks\[1\]\.duration"):
        scenario.load(d)


def test_unknown_product_in_a_shock_is_rejected(base: dict) -> None:
    d = copy.deepcopy(base)
    d["shocks"][0]["product"] = "XXXX"
    with pytest.raises(ScenarioError, match="XXXX"):
        scenario.run(d)
