"""One unit convention, as docs/getting-started.md ("One unit") states it.

- The command line and every file state money in the table's unit (``million JPY`` for the
  shipped scenarios) beside each number: ``simcore run`` (tests/test_cli_results.py) and
  ``simcore reproduce``, whose published figures (quoted in yen by their sources) are
  converted to the table's unit for printing.  ``simcore reproduce --json`` keeps each
  figure in its reference's own unit (the row's ``unit`` key, ``JPY``), and the two agree.
- Figures (``simcore.plot``) and the docs' tables show money in bn yen for yen tables, the
  unit named on every axis and in every column header.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simcore.cli import main, money_text

ROOT = Path(__file__).resolve().parent.parent

SCENARIO = """
schema = 1
name = "units-probe"

[table]
dataset = "japan-2015-37"

[[shocks]]
kind = "capacity_loss"
sector = "35"
share = 0.2
duration = 20

[horizon]
days = 60
record = []

[[reference]]
id = "loss-yen"
quantity = "gdp_loss_total"
published = {published}
unit = "JPY"
tolerance = {tolerance}
source = "a probe"

[[reference]]
id = "share"
quantity = "gdp_loss_share"
published = 0.0001
unit = "fraction"
tolerance = 1.0
source = "a probe"
"""

def _printed(text: str) -> dict[str, dict[str, str]]:
    """``id -> {column: cell}`` of the printed rows of one file (the header names the
    columns)."""
    lines = text.splitlines()
    (h,) = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("id  ")]
    return _block(lines, h)


def _printed_all(text: str) -> dict[str, dict[str, str]]:
    lines = text.splitlines()
    out: dict[str, dict[str, str]] = {}
    for h in [i for i, ln in enumerate(lines) if ln.lstrip().startswith("id  ")]:
        out.update(_block(lines, h))
    return out


def _block(lines: list[str], h: int) -> dict[str, dict[str, str]]:
    cols = re.split(r"\s{2,}", lines[h].strip())
    assert cols == ["id", "published", "model", "rel.err", "tolerance", "median",
                    "90 % band", "role", "ok"], cols
    out = {}
    for ln in lines[h + 1:]:
        if not ln.startswith("  "):
            break
        cells = re.split(r"\s{2,}", ln.strip())
        assert len(cells) == len(cols), ln
        out[cells[0]] = dict(zip(cols, cells))
    return out


@pytest.mark.parametrize("published, tolerance", [(2.5e10, 1e13), (2.5e10, 1.0)])
def test_reproduce_text_and_json_agree_in_one_stated_unit(tmp_path, capsys, published,
                                                          tolerance):
    f = tmp_path / "probe.toml"
    f.write_text(SCENARIO.format(published=published, tolerance=tolerance))
    rc_text = main(["reproduce", str(f)])
    text = capsys.readouterr().out
    rc_json = main(["reproduce", str(f), "--json"])
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rc_text == rc_json == (0 if tolerance > 1 else 1)
    printed = _printed(text)
    assert set(printed) == set(rows) == {"loss-yen", "share"}
    # money: JSON in the reference's unit (yen), printed in the table's (million JPY)
    r, p = rows["loss-yen"], printed["loss-yen"]
    assert r["unit"] == "JPY"
    for k in ("published", "model"):
        assert p[k] == money_text(r[k] / 1e6, "million JPY"), k
        assert p[k].endswith(" million JPY")
    assert p["tolerance"] == "+/- " + money_text(r["tolerance"] / 1e6, "million JPY")
    assert float(p["model"].split()[0].replace(",", "")) == pytest.approx(r["model"] / 1e6,
                                                                          abs=0.05)
    assert p["rel.err"] == f"{100 * r['rel_error']:+.2f} %"
    assert (p["ok"] == "PASS") is r["ok"]
    assert p["median"] == p["90 % band"] == "-" and r["median"] is None
    # shares: printed in % with the sign, JSON as a fraction
    r, p = rows["share"], printed["share"]
    assert r["unit"] == "fraction"
    for k in ("published", "model"):
        assert p[k] == f"{100 * r[k]:.4f} %", k
    assert p["tolerance"] == f"+/- {100 * r['tolerance']:.4f} %"
    assert "bn" not in text and " yen" not in text  # no second unit in the printed table


def test_reproduce_docs_state_the_convention():
    """The pages that show reproduce's output say which unit it prints and which --json
    gives."""
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    flat = re.sub(r"\s+", " ", page)
    assert "`simcore reproduce` prints money in the table's unit" in flat
    assert "`--json` gives each figure in its reference's own unit" in flat


def test_plot_axes_name_their_unit():
    """Figures show yen tables in bn yen and say so on the axis; other tables keep their
    own unit, named."""
    pytest.importorskip("matplotlib")
    import simcore as sc
    from simcore import plot

    t = sc.datasets.load("japan-2015-37")
    res = sc.simulate(t, sc.CapacityShock(sector="35", share=0.2, duration=10), days=30)
    fig = plot.overview(res)
    labels = [a.get_xlabel() + " " + a.get_ylabel() for a in fig.axes]
    assert any("daily loss (bn yen)" in lab for lab in labels), labels
    assert any("cumulative value-added loss (bn yen)" in lab for lab in labels), labels
    mb = sc.simulate(sc.datasets.load("miller-blair-2.3"),
                     sc.CapacityShock(sector="1", share=0.2, duration=10), days=30)
    assert plot.trajectory(mb).axes[0].get_ylabel() == "daily loss ($ million)"


def test_shipped_reproduce_text_and_json_agree_with_bands(capsys, monkeypatch):
    """The shipped Nomura figures: published and model, tolerance, median and band printed
    in million JPY (or %) equal the --json figures in yen (or as fractions)."""
    from simcore import references

    monkeypatch.setattr(references, "BAND_DRAWS", 6)  # the columns, not the band's precision
    assert main(["reproduce"]) == 0
    printed = _printed_all(capsys.readouterr().out)
    assert main(["reproduce", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(printed) == set(rows) and len(rows) == 4
    for fid, r in rows.items():
        p = printed[fid]
        if r["unit"] == "JPY":
            def f(v):
                return money_text(v / 1e6, "million JPY")
            lo, hi = (f(v).removesuffix(" million JPY") for v in r["band"])
            assert p["90 % band"] == f"{lo} .. {hi} million JPY"
        else:
            assert r["unit"] == "fraction"

            def f(v):
                return f"{100 * v:.4f} %"
            assert p["90 % band"] == f"{100 * r['band'][0]:.4f} .. {f(r['band'][1])}"
        assert (p["published"], p["model"], p["median"], p["tolerance"]) == \
            (f(r["published"]), f(r["model"]), f(r["median"]), "+/- " + f(r["tolerance"]))
        assert p["role"] == ("target" if r["fitted"] else "predicted")
