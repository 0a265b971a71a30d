"""simcore.plot: every function draws real data, with labels and units; the CLI writes a PNG."""

from __future__ import annotations

import json

import doctest
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from simcore.dynamic.common import shocks_json

pytest.importorskip("matplotlib")

import simcore as sc  # noqa: E402
from simcore import plot  # noqa: E402
from simcore.errors import ParameterError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result() -> xr.Dataset:
    t = sc.datasets.load("japan-2015-37")
    shock = sc.CapacityShock(sector="35", share=0.2, start=5, duration=30)
    return sc.simulate(t, shock, days=90)


@pytest.fixture(scope="module")
def sweep_2d() -> xr.Dataset:
    """A tiny hand-built grid sweep: one dim per parameter, a sample dim, daily losses."""
    share = np.array([0.25, 0.5, 1.0])
    days = np.array([30.0, 90.0, 180.0, 365.0])
    rng = np.random.default_rng(0)
    tot = share[None, :, None] * days[:, None, None] * (1 + 0.1 * rng.random((1, 1, 5)))
    time = np.arange(60)
    daily = np.outer(np.linspace(1, 2, 5), np.exp(-time / 20.0)) * 100.0
    return xr.Dataset(
        {
            "gdp_loss_total": (("days", "share", "sample"), tot * 1e3,
                               {"units": "million JPY"}),
            "gdp_loss_share": (("days", "share", "sample"), tot / 5e5, {"units": "1"}),
            "gdp_loss": (("sample", "time"), daily, {"units": "million JPY per day"}),
        },
        coords={"days": ("days", days, {"long_name": "shock duration", "units": "days"}),
                "share": ("share", share, {"long_name": "share of imports cut"}),
                "sample": np.arange(5), "time": time},
        attrs={"unit": "million JPY"},
    )


def _texts(fig) -> str:
    out = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_yticklabels()]
    return "\n".join(out)


def test_trajectory(result: xr.Dataset) -> None:
    fig = plot.trajectory(result)
    ax, ax2 = fig.axes
    assert ax.get_ylabel() == "daily loss (bn yen)"
    assert ax2.get_ylabel() == "cumulative loss (bn yen)"
    assert "days" in ax.get_xlabel() and ax.get_title()
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "daily loss"]
    y = line.get_ydata()
    assert len(y) >= 35 and np.nanmax(y) > 0
    np.testing.assert_allclose(np.nanmax(y), float(result.gdp_loss.max()) / 1e3)
    # the shock period [5, 35) is shaded
    spans = [p for p in ax.patches if p.get_label() == "shock period"]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert (x0, x1) == pytest.approx((5.0, 35.0))
    cum = ax2.get_lines()[0].get_ydata()
    assert cum[-1] == pytest.approx(float(result.gdp_loss[: len(cum)].sum()) / 1e3)


def test_trajectory_bands(result: xr.Dataset, sweep_2d: xr.Dataset) -> None:
    t = sc.datasets.load("japan-2015-37")
    lo = sc.simulate(t, sc.CapacityShock(sector="35", share=0.1, start=5, duration=30), days=90)
    fig = plot.trajectory(result, band=(lo, result), cumulative=False)
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert len(ax.collections) == 1  # the band
    verts = ax.collections[0].get_paths()[0].vertices
    assert verts[:, 1].max() > 0
    # a sweep Dataset with a sample dim: quantile band
    small = result.isel(time=slice(0, 60))
    fig = plot.trajectory(small, band=sweep_2d)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("5–95 %" in s and "5 samples" in s for s in labels)


def test_shock_periods_from_attrs(result: xr.Dataset) -> None:
    assert plot.shock_periods(result) == [(5.0, 35.0, "CapacityShock 35")]
    cut = sc.ImportCut(product="RE", origin="CHN", share=1.0, duration=91.25)
    # attrs['shocks'] is JSON (issue 14), as every engine writes it
    fake = xr.Dataset(attrs={"shocks": shocks_json([cut])})
    assert plot.shock_periods(fake) == [(0.0, 91.25, "ImportCut RE")]
    assert json.loads(result.attrs["shocks"])[0]["kind"] == "CapacityShock"
    assert plot.shock_periods(xr.Dataset(attrs={"shocks": "[ImportCut(start=0)]"})) == []


def test_losses_by_sector(result: xr.Dataset) -> None:
    fig = plot.losses_by_sector(result, top=8)
    ax = fig.axes[0]
    assert len(ax.patches) == 8
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths)  # largest at the top
    top_sector = str(result.value_added_loss.idxmax("sector").values)
    assert max(widths) == pytest.approx(float(result.value_added_loss.max()) / 1e3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1].startswith(top_sector)
    name = str(result.name_en.sel(sector=top_sector).values)
    assert name.split()[0] in labels[-1]  # English names
    assert ax.get_xlabel() == "cumulative value-added loss (bn yen)"


def test_overview_and_save(result: xr.Dataset, tmp_path: Path) -> None:
    fig = plot.overview(result, top=10)
    assert len(fig.axes) == 3  # trajectory, its twin, sectors
    assert "bn yen" in _texts(fig)
    out = plot.save(fig, tmp_path / "sub" / "fig.png")
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert not list(out.parent.glob(".tmp-*"))
    svg = plot.save(fig, tmp_path / "fig.svg")
    assert svg.read_text()[:200].lstrip().startswith("<?xml")


def test_response_surface(sweep_2d: xr.Dataset) -> None:
    fig = plot.response_surface(sweep_2d, x="share", y="days")
    ax, cax = fig.axes
    mesh = ax.collections[0]
    z = np.asarray(mesh.get_array()).reshape(4, 3)
    expected = sweep_2d.gdp_loss_total.median("sample").transpose("days", "share").values / 1e3
    np.testing.assert_allclose(z, expected)
    assert ax.get_xlabel() == "share of imports cut"
    assert ax.get_ylabel() == "shock duration (days)"
    assert "bn yen" in cax.get_ylabel()
    assert "median over sample" in ax.get_title()
    assert len(ax.texts) == 12  # annotated cells


def test_response_surface_stacked_scenario_dim(sweep_2d: xr.Dataset) -> None:
    """Parameters given as coordinates along one scenario dim are unstacked."""
    flat = sweep_2d[["gdp_loss_total"]].median("sample").stack(scenario=("days", "share"))
    flat = flat.reset_index("scenario")
    fig = plot.response_surface(flat, x="share", y="days")
    z = np.asarray(fig.axes[0].collections[0].get_array())
    assert z.size == 12 and np.isfinite(z).all()


def test_response_curve(sweep_2d: xr.Dataset) -> None:
    fig = plot.response_curve(sweep_2d.sel(share=1.0), x="days", var="gdp_loss_share")
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [30, 90, 180, 365])
    assert ax.get_ylabel() == "loss as a share of annual GDP (%)"
    assert len(ax.collections) == 1  # 5-95 % band over samples
    fig = plot.response_curve(sweep_2d, x="days", hue="share")
    assert len(fig.axes[0].get_lines()) == 3
    assert fig.axes[0].get_legend() is not None


def test_tornado_rows() -> None:
    rows = [("stocks 30 days", 300e3, 700e3), ("China share 60 %", 640e3, 680e3),
            ("ramp-up", 570e3, 660e3)]
    fig = plot.tornado(rows, base=660e3, unit="million JPY")
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "stocks 30 days"  # widest swing on top
    assert "bn yen" in ax.get_xlabel()
    with pytest.raises(ParameterError, match="base"):
        plot.tornado(rows)


def test_tornado_salib() -> None:
    ds = xr.Dataset({"S1": ("parameter", [0.5, 0.1, 0.2]),
                     "ST": ("parameter", [0.6, 0.15, 0.3]),
                     "ST_conf": ("parameter", [0.05, 0.02, 0.03])},
                    coords={"parameter": ["inventory_days", "dependency", "headroom"]})
    fig = plot.tornado(ds)
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "inventory_days"
    fig = plot.tornado({"names": ["a", "b"], "ST": [0.2, 0.7], "S1": [0.1, 0.6]})
    assert len(fig.axes[0].patches) == 4


def test_errors(result: xr.Dataset, sweep_2d: xr.Dataset) -> None:
    with pytest.raises(ParameterError, match="nope"):
        plot.response_surface(sweep_2d, x="share", y="nope")
    with pytest.raises(ParameterError, match="time"):
        plot.response_curve(sweep_2d, x="share", var="gdp_loss")
    with pytest.raises(ParameterError, match="gdp_loss"):
        plot.trajectory(result[["value_added_loss"]])


def test_money_scale_and_module_doctest() -> None:
    assert plot.money_scale("million JPY") == (1e-3, "bn yen")
    res = doctest.testmod(plot, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted >= 4


def test_cli_plot(tmp_path: Path) -> None:
    out = tmp_path / "kiuchi.png"
    proc = subprocess.run(
        [sys.executable, "-m", "simcore.cli", "run", "kiuchi-2025-3m", "--plot", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT)),
    )
    assert proc.returncode == 0, proc.stderr
    assert f"figure written to {out}" in proc.stdout
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 10_000


def test_real_sweep_outputs() -> None:
    """The figures read simcore.sweep results as they are: grid dims named by dotted keys,
    zipped points with one coordinate per key, daily losses for bands."""
    sweeps = pytest.importorskip("simcore.sweeps")
    grid = sweeps.sweep("kiuchi-2025-3m", grid={"model.dependency_scale": [0.05, 0.13],
                                                "model.import_origins.RE.CHN": [0.6, 0.9]},
                        daily=True, days=120)
    fig = plot.response_surface(grid, x="model.import_origins.RE.CHN",
                                y="model.dependency_scale")
    z = np.asarray(fig.axes[0].collections[0].get_array()).reshape(2, 2)
    np.testing.assert_allclose(z, grid.gdp_loss_total.values / 1e3)
    res = sc.scenario.run("kiuchi-2025-3m")
    fig = plot.trajectory(res, band=grid)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "5–95 % over 4 scenarios" in labels
    zipped = sweeps.sweep("kiuchi-2025-3m", zipped={"shocks.0.duration": [30.0, 91.25],
                                                    "shocks.1.duration": [30.0, 91.25]},
                          days=200)
    fig = plot.response_curve(zipped, x="shocks.0.duration")
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_xdata(), [30.0, 91.25])


def test_tornado_morris() -> None:
    ds = xr.Dataset({"mu_star": ("parameter", [5e5, 1e5]),
                     "mu_star_conf": ("parameter", [5e4, 2e4]),
                     "sigma": ("parameter", [1e5, 3e4]),
                     "gdp_loss_total": ("sample", [1.0, 2.0], {"units": "million JPY"})},
                    coords={"parameter": ["model.inventory_days", "shocks.0.share"]})
    fig = plot.tornado(ds)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert "bn yen" in ax.get_xlabel()
    assert max(p.get_width() for p in ax.patches) == pytest.approx(500.0)


def test_result_accessor_plots(tmp_path):
    """Plots are available from Python on the result object (``res.simcore``)."""
    import simcore as sc

    res = sc.simulate(sc.datasets.load("japan-2015-37"),
                      sc.CapacityShock(sector="35", share=0.2, duration=30), days=90)
    fig = res.simcore.trajectory()
    assert fig.axes and fig.axes[0].lines
    fig = res.simcore.losses_by_sector(top=5)
    assert len(fig.axes[0].patches) == 5
    out = res.simcore.save(tmp_path / "o.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
