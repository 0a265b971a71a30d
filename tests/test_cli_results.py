"""What a researcher reads from ``simcore run``, ``sweep`` and ``reproduce`` (issue 19).

Every output states one unit (the table's, ``million JPY`` for the shipped scenarios) and
the printed table, the JSON, the CSV and the NetCDF file give the same figures.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from simcore.cli import main

ROOT = Path(__file__).resolve().parent.parent
# a short horizon keeps the test quick; the carve-out and its users are the shipped ones
RUN = ["run", "kiuchi-2025-3m", "--set", "horizon.days=100", "--top", "4",
       "--sectors", "3017,Passenger motor cars"]
MONEY = re.compile(r"(-?[\d,]+\.\d+) million JPY")


def _rows(text: str, title: str) -> dict[str, tuple[int, float]]:
    """``code -> (rank, value)`` of one printed sector block."""
    assert title in text, title
    lines = text.split(title, 1)[1].splitlines()[2:]
    out = {}
    for ln in lines:
        m = re.match(r"\s{4}\s*(\d+)\s+(\S+)\s+(-?[\d,]+\.\d+) million JPY", ln)
        if not m:
            break
        out[m[2]] = (int(m[1]), float(m[3].replace(",", "")))
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("run")  # capsys is function-scoped: capture by hand

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(RUN + ["--json", "--out", str(tmp / "r.nc")]) == 0
    head = json.loads(buf.getvalue())
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(RUN + ["--out", str(tmp / "r.csv")]) == 0
    return head, buf.getvalue(), pd.read_csv(tmp / "r.csv", dtype={"sector": str}), \
        xr.load_dataset(tmp / "r.nc")


def test_json_csv_netcdf_and_table_agree(outputs):
    head, text, csv, nc = outputs
    unit = "million JPY"
    # one unit, stated in each output
    assert head["unit"] == unit and head["units"]["by_sector"] == unit
    assert set(csv["unit"]) == {unit}
    for v in ("value_added_loss", "value_added_loss_supply", "value_added_loss_demand",
              "gdp_loss_total"):
        assert nc[v].attrs["units"] == unit, v
    assert "bn yen" not in text and " yen" not in text
    # every money figure printed carries its unit; the headline equals the JSON
    first = MONEY.search(text)
    assert first and float(first[1].replace(",", "")) == pytest.approx(
        head["gdp_loss_total"], abs=0.051)
    # JSON by_sector: code, name, value and split, sorted by loss
    bys = head["by_sector"]
    assert len(bys) == nc.sizes["sector"] == len(csv)
    vals = [r["value_added_loss"] for r in bys]
    assert vals == sorted(vals, reverse=True)
    assert [r["rank"] for r in bys] == list(range(1, len(bys) + 1))
    for r in bys:
        assert r["name_en"] and r["unit"] == unit
        assert r["value_added_loss_supply"] + r["value_added_loss_demand"] == pytest.approx(
            r["value_added_loss"], rel=1e-9, abs=1e-9)
    # CSV sorted by loss, equal to the JSON and to the NetCDF, sector by sector
    assert list(csv["sector"]) == [r["sector"] for r in bys]
    assert list(csv["value_added_loss"]) == pytest.approx(vals, rel=1e-12)
    ncv = nc.value_added_loss.to_series()
    ncv.index = ncv.index.astype(str)
    for r in bys:
        assert ncv[r["sector"]] == pytest.approx(r["value_added_loss"], rel=1e-12)
        assert str(nc.name_en.sel(sector=r["sector"]).item()) == r["name_en"]
    assert float(nc.gdp_loss_total) == pytest.approx(head["gdp_loss_total"], rel=1e-12)
    # the printed blocks equal the JSON to the printed precision
    top = _rows(text, "most-hit sectors (top 4 of")
    assert list(top) == [r["sector"] for r in head["top_sectors"]] == [r["sector"]
                                                                        for r in bys[:4]]
    asked = _rows(text, "sectors asked for (--sectors)")
    users = _rows(text, "users of the carved-out products")
    for block, rows in ((top, head["top_sectors"]), (asked, head["selected_sectors"]),
                        (users, head["carve_out_users"])):
        assert len(block) == len(rows) > 0
        for r in rows:
            rank, v = block[r["sector"]]
            assert rank == r["rank"] and v == pytest.approx(r["value_added_loss"], abs=0.051)


def test_sectors_and_carve_out_users(outputs):
    head, text, _, _ = outputs
    asked = [r["sector"] for r in head["selected_sectors"]]
    assert asked[0] == "3017" and "3511" in asked  # a code, then a name substring
    # the scenario's carve-out names cars, parts and semiconductor-making equipment as
    # users of magnets: shown although --top 4 does not reach all of them
    users = {r["sector"]: r["user_of"] for r in head["carve_out_users"]}
    assert {"3511", "3531", "3017", "MAG"} <= set(users) and users["3511"] == "MAG"
    assert users["MAG"] == "RE"
    assert any(r["rank"] > 4 for r in head["carve_out_users"])
    assert "users of the carved-out products (MAG, RE)" in text


def test_unknown_sectors_are_named(capsys):
    assert main(["run", "kiuchi-2025-3m", "--sectors", "3511,no-such-sector,9999"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-sector'" in err and "'9999'" in err and "'3511'" not in err
    assert main(["run", "kiuchi-2025-3m", "--top", "-1"]) == 2


def test_version_and_plain_help(capsys):
    import simcore

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"simcore {simcore.__version__}"
    for argv in (["--help"], ["run", "--help"], ["sweep", "--help"],
                 ["reproduce", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "usage: simcore" in out and "``" not in out and ":func:" not in out, argv


from test_cli import MB as _MB_RUN

MB = _MB_RUN.replace('name = "mb-test"', 'name = "mb-sweep"').replace("days = 200", "days = 120")


def test_sweep_prints_points_and_where_the_result_is(tmp_path, capsys):
    f = tmp_path / "mb.toml"
    f.write_text(MB)
    out = tmp_path / "sw"
    shares = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    assert main(["sweep", str(f), "--set", "shocks.0.share=" + ",".join(map(str, shares)),
                 "--show", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "points (first and last 2 of 8; value-added loss in $ million" in text
    assert f"full result (every point, $ million and share of GDP) in {out / 'result.nc'}" \
        in text
    res = xr.load_dataset(out / "result.nc")
    loss = res.gdp_loss_total.to_series()
    lines = text.split("points (", 1)[1].splitlines()[2:7]
    shown = [ln.split() for ln in lines]
    assert [row[0] for row in shown] == ["0.1", "0.2", "...", "0.7", "0.8"]
    for row in shown[:2] + shown[3:]:
        assert float(row[1].replace(",", "")) == pytest.approx(loss[float(row[0])],
                                                               rel=1e-3, abs=1e-3)


def test_progress_uses_tqdm_in_a_notebook(monkeypatch):
    """In a Jupyter kernel (stderr not a terminal) the bar is tqdm.auto's when installed."""
    from simcore import _progress

    made = []

    class FakeBar:
        def __init__(self, **kw):
            self.kw, self.n, self.closed = kw, kw.get("initial", 0), False
            made.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    with _progress.Progress(10, "sweep", unit="scenarios", initial=2) as p:
        p.update(8)
    (bar,) = made
    assert bar.kw["total"] == 10 and bar.n == 10 and bar.closed
    # without tqdm: the hand-written bar, which stays off a terminal as before
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(_progress, "in_notebook", lambda: False)
    with _progress.Progress(3, "x") as p:
        p.update(3)
    assert p._tqdm is None and len(made) == 1


def test_readme_snippet_prints(capsys):
    """The README's Python snippet, run as a script, prints its results."""
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})  # noqa: S102
    out = capsys.readouterr().out
    assert "million JPY" in out and "3531" in out


def test_multiregional_run_reports_regions_and_region_sector_codes(capsys):
    """`simcore run` on the shipped MRIO scenario: the loss by region (equal to the result's
    gdp_loss_by_region and summing to the total), the third-country split of Japan's loss,
    and sectors as REGION/SECTOR codes with names, selectable with --sectors."""
    from simcore import scenario

    res = scenario.run("china-rare-earth-stop-mrio-3m")
    assert main(["run", "china-rare-earth-stop-mrio-3m", "--json", "--top", "3",
                 "--sectors", "JPN/35,CHN/MAG"]) == 0
    head = json.loads(capsys.readouterr().out)
    regions = {g["region"]: g for g in head["by_region"]}
    assert set(regions) == {"JPN", "CHN", "ROW"}
    for r in regions:
        assert regions[r]["gdp_loss"] == pytest.approx(
            float(res.gdp_loss_by_region.sel(region=r)), rel=1e-12)
        assert regions[r]["share_of_region_gdp"] == pytest.approx(
            float(res.gdp_loss_share_by_region.sel(region=r)), rel=1e-12)
    assert sum(g["gdp_loss"] for g in head["by_region"]) == pytest.approx(
        head["gdp_loss_total"], rel=1e-9)
    split = head["third_country_split"]
    assert split["region"] == "JPN"
    assert split["direct"] + split["through_third_countries"] == pytest.approx(
        regions["JPN"]["gdp_loss"], rel=1e-12)
    assert [r["sector"] for r in head["selected_sectors"]] == ["JPN/35", "CHN/MAG"]
    assert head["selected_sectors"][0]["value_added_loss"] == pytest.approx(
        float(res.value_added_loss.sel(region="JPN", sector="35")), rel=1e-12)
    assert head["selected_sectors"][0]["name_en"] == str(res.name_en.sel(sector="35").values)
    assert len(head["by_sector"]) == res.region.size * res.sector.size
    assert all("/" in r["sector"] for r in head["top_sectors"])
    assert main(["run", "china-rare-earth-stop-mrio-3m", "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert "value-added loss by region:" in text
    assert "through third countries" in text


def test_reproduce_draws_sets_the_bands_posterior_draws(capsys):
    """``simcore reproduce --draws N``: the medians and bands over N posterior draws (the
    count printed under the table), ``--draws 0`` the published and model figures alone
    (the same figures, no band), a negative count a user error."""
    assert main(["reproduce", "--draws", "6", "--json"]) == 0
    six = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert main(["reproduce", "--draws", "0", "--json"]) == 0
    none = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(six) == set(none) and len(six) == 4
    for fid, r in six.items():
        assert r["median"] is not None and r["band"][0] <= r["median"] <= r["band"][1], fid
        assert r["draws"] == 6 and none[fid]["draws"] is None, fid
        assert none[fid]["median"] is None and none[fid]["band"] is None, fid
        assert none[fid]["model"] == r["model"] and none[fid]["ok"] == r["ok"], fid
    assert main(["reproduce", "--draws", "6"]) == 0
    assert "medians and 90 % bands over 6 stratified posterior draws" in capsys.readouterr().out
    assert main(["reproduce", "--draws", "0"]) == 0
    out = capsys.readouterr().out
    assert "posterior draws" not in out and "all 4 reference figures reproduced" in out
    assert main(["reproduce", "--draws", "-1"]) == 2
    assert "--draws -1: expected a whole number of posterior draws >= 0" in \
        capsys.readouterr().err
