"""The `simcore run` headline reports money in yen only when the table's unit is yen."""

from __future__ import annotations

import json

from simcore.cli import main

MB = """schema = 1
name = "mb-test"
[table]
dataset = "miller-blair-2.3"
[[shocks]]
kind = "capacity_loss"
sector = "1"
share = 0.5
duration = 30
[horizon]
days = 200
"""


def test_non_yen_table_is_not_labelled_yen(tmp_path, capsys):
    f = tmp_path / "mb.toml"
    f.write_text(MB)
    assert main(["run", str(f), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    assert head["unit"] == "$ million"
    assert head["gdp_loss_total_jpy"] is None and head["gdp_denominator_jpy"] is None
    assert head["gdp_loss_total"] > 0
    assert abs(sum(r["value_added_loss"] for r in head["by_sector"])
               - head["gdp_loss_total"]) < 1e-9
    assert main(["run", str(f)]) == 0
    text = capsys.readouterr().out
    assert "$ million" in text and "yen" not in text


def test_yen_table_converts_million_yen(capsys):
    assert main(["run", "kiuchi-2025-3m", "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    assert head["unit"] == "million JPY"
    assert head["gdp_loss_total_jpy"] == head["gdp_loss_total"] * 1e6


def test_overproduction_gains_reported(tmp_path, capsys):
    """Value added above baseline (overproduction) is reported apart from the net loss."""
    f = tmp_path / "mb.toml"
    f.write_text(MB.replace("[horizon]", "[model]\nalpha_max = 1.25\nalpha_tau = 30\n"
                            "[horizon]"))
    assert main(["run", str(f), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    assert head["gdp_gain_total"] > 0 and head["gdp_gain_total_jpy"] is None
    assert main(["run", str(f)]) == 0
    assert "above baseline (overproduction), netted" in capsys.readouterr().out
    f.write_text(MB)
    assert main(["run", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["gdp_gain_total"] == 0.0
