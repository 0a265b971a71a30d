"""Hand-written checks of the published figures, with simcore.testing."""

from pathlib import Path

from simcore.testing import assert_reproduces

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "textbook-demand-drop.toml"


def test_textbook_figure_within_the_file_tolerance():
    check = assert_reproduces(SCENARIO, "mb-2.3-demand-drop-gdp-share")
    assert check.role == "predicted"


def test_textbook_figure_within_one_percent():
    # a tolerance of your own instead of the file's
    assert_reproduces(SCENARIO, "mb-2.3-demand-drop-gdp-share", rtol=0.01)


def test_the_loss_falls_on_both_sectors(simcore_result):
    # the same run as the checks above: computed once per test session
    res = simcore_result(SCENARIO)
    va = res.value_added_loss.to_series()
    assert va["2"] > va["1"] > 0
