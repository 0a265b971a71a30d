"""The run layer (simcore.run, issue 14): the horizon rule stated once, and a scenario
choosing its engine (``[model] engine = "supply-chain" | "ario"``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simcore as sc
from simcore import run as rl
from simcore import scenario
from simcore.cli import main
from simcore.dynamic.ario import ARIOParams, simulate_ario
from simcore.dynamic.common import RECOVERED_RTOL
from simcore.errors import ScenarioError
from simcore.transform import prepare_for_dynamics

RTOL = 1e-12


# ------------------------------------------------------------------------------ horizon
def test_horizon_first_and_extension():
    h = rl.Horizon(days=None, tail_days=30, max_days=200)
    cut = sc.CapacityShock(sector="1", share=0.5, start=10, duration=20.5)
    assert h.first([cut]) == 61  # ceil(30.5 + 30)
    assert h.first([]) == 30
    assert [h.extend(d) for d in (61, 122, 199, 200)] == [122, 200, 200, None]
    assert rl.Horizon(days=None, tail_days=0).first([]) == 1  # at least one day
    fixed = rl.Horizon(days=90)
    assert fixed.first([cut]) == 90 and fixed.extend(90) is None
    assert rl.Horizon.of({"days": "auto", "tail_days": 5, "max_days": 50}) == rl.Horizon(
        None, 5.0, 50)
    assert rl.Horizon.of({"days": "auto"}, days=12).days == 12


def test_run_until_recovered_doubles_until_recovered_or_max():
    h = rl.Horizon(days=None, tail_days=10, max_days=100)
    seen = []
    out = rl.run_until_recovered(h, [], lambda d: seen.append(d) or d, lambda d: d >= 40)
    assert seen == [10, 20, 40] and out == 40
    seen.clear()
    rl.run_until_recovered(h, [], lambda d: seen.append(d) or d, lambda d: False)
    assert seen == [10, 20, 40, 80, 100]


def test_scenario_auto_horizon_uses_the_run_layer_rule():
    s = scenario.load("kiuchi-2025-3m")
    res = s.run()
    h = rl.Horizon.of(s.data["horizon"])
    days = h.first(s.shocks())
    while days < res.attrs["days"]:
        days = h.extend(days)
    assert days == res.attrs["days"] and res.attrs["engine"] == "supply-chain"
    assert set(rl.RESULT_VARIABLES) <= set(res.variables)  # one vocabulary, both engines


# ------------------------------------------------------------------------------ ARIO
ARIO_DAYS = 120


def _ario_scenario(**model) -> dict:
    return {
        "schema": 1, "name": "ario-test", "title": "ARIO from a scenario file",
        "table": {"dataset": "japan-2015-37"},
        "shocks": [
            {"kind": "capacity_loss", "sector": "35", "share": 0.3, "start": 10,
             "duration": 40},
            {"kind": "demand_change", "sector": "01", "change": -0.2, "start": 5,
             "duration": 20},
        ],
        "model": {"engine": "ario", **model},
        "horizon": {"days": ARIO_DAYS},
    }


def _write(tmp_path, d: dict) -> str:
    lines = ["schema = 1", f'name = "{d["name"]}"', f'title = "{d["title"]}"',
             "[table]", 'dataset = "japan-2015-37"']
    for s in d["shocks"]:
        lines.append("[[shocks]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in s.items()]
    lines.append("[model]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in d["model"].items() if k != "ario"]
    if "ario" in d["model"]:
        lines.append("[model.ario]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in d["model"]["ario"].items()]
    lines += ["[horizon]"] + [f"{k} = {json.dumps(v)}" for k, v in d["horizon"].items()]
    p = tmp_path / "ario.toml"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL,
                               atol=RTOL * float(np.max(np.abs(b))))


def test_ario_from_a_scenario_file_equals_simulate_ario(tmp_path, japan37):
    params = {"alpha_max": 1.1, "psi": 0.9, "inventory_restoration_tau": 30,
              "boario_compat": False}
    path = _write(tmp_path, _ario_scenario(ario=params))
    res = scenario.load(path).run()
    # the same run called directly: the schedules written out by hand
    sectors = [str(s) for s in japan37.sector.values]
    delta = np.zeros((ARIO_DAYS, len(sectors)))
    delta[10:50, sectors.index("35")] = 0.3
    fd = np.ones((ARIO_DAYS, len(sectors)))
    fd[5:25, sectors.index("01")] = 0.8
    # the Japanese table has negative cells: both engines run it through
    # prepare_for_dynamics first
    table, _ = prepare_for_dynamics(japan37)
    ref = simulate_ario(table, [], params=ARIOParams(**params), days=ARIO_DAYS,
                        delta=delta, fd_mult=fd, record=("production", "value_added",
                                                         "final_demand_unmet"))
    va_loss = ref.baseline_value_added.values[None, :] - ref.value_added.values
    _close(res.output.values, ref.production.values)
    _close(res.final_demand_unmet.values, ref.final_demand_unmet.values)
    _close(res.value_added_loss.values, va_loss.sum(axis=0))
    _close(res.gdp_loss.values, va_loss.sum(axis=1))
    _close(float(res.gdp_loss_total), va_loss.sum())
    gain = np.maximum(-va_loss, 0.0).sum(axis=1)  # value added above baseline (alpha > 1)
    np.testing.assert_allclose(res.gdp_gain.values, gain, rtol=RTOL, atol=RTOL * va_loss.max())
    assert float(res.gdp_loss_gross_total) == pytest.approx(va_loss.sum() + gain.sum(), rel=RTOL)
    assert set(rl.RESULT_VARIABLES) <= set(res.variables)
    assert float(res.gdp_loss_total) > 0
    assert res.attrs["engine"] == "ario" and res.attrs["days"] == ARIO_DAYS
    assert json.loads(res.attrs["params"])["psi"] == 0.9
    assert res.attrs["scenario"] == "ario-test"
    assert list(res.name_en.values) == list(japan37.name_en.values)  # sectors named


@pytest.mark.parametrize("ario", [{}, {"boario_compat": False, "alpha_max": 1.1, "psi": 0.9,
                                       "inventory_restoration_tau": 30},
                                  {"boario_compat": False, "alpha_max": 1.0}])
def test_ario_auto_horizon_recovers_and_equals_simulate_ario(tmp_path, japan37, ario):
    """``[horizon] days = "auto"`` with ``model.engine = "ario"``: the run layer's rule
    (end of the last shock + tail_days, doubled until back at baseline by
    simcore.dynamic.common.is_recovered, or max_days), and the result equals
    ``simulate_ario`` over the same number of days."""
    d = _ario_scenario(**({"ario": ario} if ario else {}))
    d["horizon"] = {"days": "auto", "tail_days": 60, "max_days": 3650}
    s = scenario.load(_write(tmp_path, d))
    assert s.data["horizon"] == d["horizon"]
    res = s.run()
    days = int(res.attrs["days"])
    assert res.attrs["recovered"] == 1 and res.attrs["engine"] == "ario"
    # the horizons the rule walks through: the first from the shocks, then doubled; the
    # one before the last was not back at baseline
    h = rl.Horizon.of(d["horizon"])
    walk = [h.first(s.shocks())]
    while walk[-1] < days:
        walk.append(h.extend(walk[-1]))
    assert walk[0] == 110 and walk[-1] == days and len(walk) > 1
    shorter = s.run(**{"horizon.days": walk[-2]})
    assert shorter.attrs["recovered"] == 0
    if ario.get("alpha_max") == 1.0:
        # no overproduction: output is back at baseline long before the stocks are; the
        # stock gap keeps the horizon going (output alone would have stopped at day 110)
        assert shorter.attrs["final_output_gap_share"] < RECOVERED_RTOL
        assert shorter.attrs["final_stock_gap_share"] > RECOVERED_RTOL
    # the same run called directly, over the same number of days
    sectors = [str(c) for c in japan37.sector.values]
    delta = np.zeros((days, len(sectors)))
    delta[10:50, sectors.index("35")] = 0.3
    fd = np.ones((days, len(sectors)))
    fd[5:25, sectors.index("01")] = 0.8
    table, _ = prepare_for_dynamics(japan37)
    ref = simulate_ario(table, [], params=ARIOParams(**ario), days=days, delta=delta,
                        fd_mult=fd, record=("production", "value_added"))
    va_loss = ref.baseline_value_added.values[None, :] - ref.value_added.values
    _close(res.output.values, ref.production.values)
    _close(res.gdp_loss.values, va_loss.sum(axis=1))
    _close(float(res.gdp_loss_total), va_loss.sum())
    _close(res.value_added_loss.values, va_loss.sum(axis=0))
    # the recovered rule, stated once, on the direct run's last day
    x, x0 = ref.production.values[-1], ref.baseline_production.values
    gdp = ref.baseline_value_added.values.sum()
    from simcore.dynamic.common import is_recovered

    assert res.attrs["final_stock_gap_share"] == ref.attrs["final_stock_gap_share"]
    assert bool(is_recovered(va_loss[-1].sum() / gdp, np.abs(x - x0).sum() / x0.sum(),
                             ref.attrs["final_stock_gap_share"]))


def test_ario_stock_gap_is_the_shortfall(japan37):
    """The ARIO stock gap the recovered rule reads is the stocks' shortfall below baseline:
    it is zero at baseline, equals the stock record's shortfall, and goes to round-off
    after a shock, while the surplus ARIO's one-sided order rule never runs down stays."""
    from simcore.dynamic.ario import simulate_ario_batch
    from simcore.run import prepare_ario_table

    prep = prepare_ario_table(japan37)
    p = ARIOParams(boario_compat=False)
    assert simulate_ario(prep, [], params=p, days=5).attrs["final_stock_gap_share"] < 1e-15
    T = 1760
    delta = np.zeros((T, 37))
    delta[10:50, 30] = 0.3
    r = simulate_ario(prep, [], params=p, days=T, delta=delta, record=("stocks",))
    r1 = simulate_ario(prep, [], params=p, days=T + 1, delta=np.vstack([delta, delta[-1:]]),
                       record=("stocks",))
    s0 = (prep.X0[None, :] * prep.aS) * p.inventory_days(prep.sectors)[:, None]
    after = r1.stocks.values[-1]  # the stocks the last day of r leaves
    short = np.maximum(s0 - after, 0).sum() / s0.sum()
    surplus = np.maximum(after - s0, 0).sum() / s0.sum()
    assert r.attrs["final_stock_gap_share"] == pytest.approx(short, rel=1e-12, abs=1e-18)
    assert short < 1e-12 < RECOVERED_RTOL < surplus
    # the batch gives each scenario's own, equal to the single run's
    b = simulate_ario_batch(prep, np.stack([delta, delta * 0.5]), params=p, stock_gap=True)
    single = simulate_ario(prep, [], params=p, days=T, delta=delta * 0.5,
                           record=("production",))
    assert b.final_stock_gap_share.values[0] == r.attrs["final_stock_gap_share"]
    assert b.final_stock_gap_share.values[1] == single.attrs["final_stock_gap_share"]


def test_ario_runs_from_the_cli(tmp_path, capsys):
    path = _write(tmp_path, _ario_scenario())
    assert main(["run", path, "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    res = scenario.load(path).run()
    assert head["gdp_loss_total"] == pytest.approx(float(res.gdp_loss_total), rel=RTOL)
    assert head["horizon_days"] == ARIO_DAYS


def test_ario_refuses_an_import_cut_naming_the_shock():
    d = _ario_scenario()
    d["shocks"].append({"kind": "import_cut", "product": "35", "origin": "CHN", "share": 0.5,
                        "duration": 30})
    d["model"] = {"engine": "ario"}
    with pytest.raises(ScenarioError, match=r"shocks\[2\] \(import_cut of product '35' from "
                                            r"'CHN'\): the ARIO engine cannot represent an "
                                            r"import cut by origin"):
        scenario.load(d).run()


def test_ario_refuses_a_demand_change_of_exports_only():
    d = _ario_scenario()
    d["shocks"][1]["target"] = "exports"
    with pytest.raises(ScenarioError, match=r"shocks\[1\] \(demand_change of sector .01., "
                                            r"target 'exports'\)"):
        scenario.load(d).run()


@pytest.mark.parametrize("change, msg", [
    ({"model.inventory_days": 10.0}, r"model.inventory_days is a parameter of the "
                                     r"supply-chain engine"),
    ({"model.engine": "supply-chain", "model.ario.psi": 0.5},
     r"\[model.ario\] would have no effect"),
    ({"horizon.record": ["output", "stocks"]}, r"horizon.record: 'stocks' is a record of "
                                               r"the supply-chain engine"),
    ({"model.engine": "boario"}, r"model.engine.*one of 'supply-chain', 'ario'"),
    ({"model.ario.psi": 1.5}, r"model.ario.psi"),
])
def test_ario_scenario_errors(change, msg):
    with pytest.raises(ScenarioError, match=msg):
        scenario.load(_ario_scenario()).run(**change)


def test_ario_sweep_equals_scenario_runs(tmp_path):
    base = scenario.load(_ario_scenario())
    res = sc.sweep(base, grid={"shocks.0.share": [0.1, 0.3]}, sectors=True, daily=True)
    assert res.attrs["engine"] == "ario" and res.attrs["executor"] == "local"
    for k, share in enumerate([0.1, 0.3]):
        one = base.run(**{"shocks.0.share": share})
        pt = res.isel({res.gdp_loss_total.dims[0]: k})
        assert float(pt.gdp_loss_total) == pytest.approx(float(one.gdp_loss_total), rel=RTOL)
        _close(pt.value_added_loss.values, one.value_added_loss.values)
        assert int(pt.days) == ARIO_DAYS
        _close(pt.gdp_loss.values, one.gdp_loss.values)


@pytest.mark.parametrize("days", [150, "auto"])
def test_ario_sweep_runs_batches_equal_to_single_runs(days):
    """Sweeps run a chunk's ARIO points as batches of the ARIO kernel (simcore.run.
    run_ario_batch); each point equals its own scenario run to 1e-12 relative (to the bit,
    in fact), with a fixed horizon and with 'auto' (each point over its own horizon)."""
    d = _ario_scenario(ario={"boario_compat": False, "alpha_max": 1.0})
    d["horizon"] = {"days": "auto", "tail_days": 30, "max_days": 2000}
    base = scenario.load(d)
    grid = {"shocks.0.share": [0.0, 0.3, 0.6], "shocks.1.change": [-0.3, 0.0],
            "shocks.0.duration": [10, 40], "model.ario.psi": [0.8, 1.0]}
    res = sc.sweep(base, grid=grid, days=days, sectors=True, daily=True, chunk_size=5)
    assert res.attrs["engine"] == "ario" and res.sizes["model.ario.psi"] == 2
    flat = res.stack(pt=tuple(grid))
    seen_days = set()
    for k in range(flat.sizes["pt"]):
        pt = flat.isel(pt=k)
        ov = {key: pt[key].item() for key in grid}
        one = base.run(**ov, **({"horizon.days": days} if days != "auto" else {}))
        assert int(pt.days) == one.attrs["days"] and int(pt.recovered) == one.attrs["recovered"]
        seen_days.add(int(pt.days))
        assert float(pt.gdp_loss_total) == pytest.approx(float(one.gdp_loss_total), rel=RTOL)
        assert float(pt.gdp_gain_total) == pytest.approx(float(one.gdp_gain_total), rel=RTOL,
                                                         abs=1e-300)
        _close(pt.value_added_loss.values, one.value_added_loss.values)
        n = min(res.attrs["horizon_days"], one.attrs["days"])
        _close(pt.gdp_loss.values[:n], one.gdp_loss.values[:n])
        if n < res.attrs["horizon_days"]:  # done before the daily record's length
            longer = base.run(**ov, **{"horizon.days": res.attrs["horizon_days"]})
            _close(pt.gdp_loss.values, longer.gdp_loss.values)
            seen_days.add("short")
    if days == "auto":
        # the points stop at different horizons (each its own, as a scenario run): back at
        # baseline, or max_days reached
        rec, dd = flat.recovered.values, flat.days.values
        assert len(seen_days) > 2 and rec.any() and all((rec == 1) | (dd == 2000))
        assert "short" in seen_days  # a point back at baseline before horizon_days


def test_ario_sweep_from_the_cli(tmp_path, capsys):
    path = _write(tmp_path, _ario_scenario())
    assert main(["sweep", path, "--set", "shocks.0.share=0.1,0.3",
                 "--out", str(tmp_path / "sw")]) == 0
    import xarray as xr

    with xr.open_dataset(tmp_path / "sw" / "result.nc") as got:
        tot = got.gdp_loss_total.values.ravel()
    want = [float(scenario.load(path).run(**{"shocks.0.share": v}).gdp_loss_total)
            for v in (0.1, 0.3)]
    np.testing.assert_allclose(tot, want, rtol=RTOL)


def test_ario_result_plots(tmp_path):
    pytest.importorskip("matplotlib")
    res = scenario.load(_ario_scenario()).run()
    out = res.simcore.save(str(tmp_path / "ario.png"))
    assert (tmp_path / "ario.png").stat().st_size > 0 and out


def test_run_ario_batch_equals_run_ario():
    """simcore.run.run_ario_batch: each run equals run_ario's to the bit, across batches
    split by memory and by the parameters that shape the kernel's shared arrays."""
    base = scenario.load(_ario_scenario(ario={"boario_compat": False}))
    pts = [{"shocks.0.share": s, "shocks.1.change": c, "model.ario.alpha_max": a}
           for s in (0.0, 0.4) for c in (-0.2, 0.0) for a in (1.0, 1.25)]
    pts.append({"model.ario.boario_compat": True})  # its own kernel call
    scs = [base.copy_with(p) for p in pts]
    shocks, params = [s.shocks() for s in scs], [s.params() for s in scs]
    prep = base.ario_table(params[0])
    got = rl.run_ario_batch(prep, shocks, params, 90, max_bytes=1)  # one run a batch
    got2 = rl.run_ario_batch(prep, shocks, params, 90)
    for g, g2, sh, pa in zip(got, got2, shocks, params):
        one = rl.run_ario(prep, sh, pa, 90)
        for a in (g, g2):
            assert a["gdp_loss_total"] == float(one.gdp_loss_total)
            assert a["gdp_gain_total"] == float(one.gdp_gain_total)
            assert np.array_equal(a["gdp_loss"], one.gdp_loss.values)
            assert np.array_equal(a["value_added_loss"], one.value_added_loss.values)
            assert a["recovered"] == bool(one.attrs["recovered"])
            assert a["stock_gap"] == one.attrs["final_stock_gap_share"]
    bad = [sc.ImportCut(product="35", origin="CHN", share=0.5, duration=5)]
    with pytest.raises(sc.errors.ShockError, match=r"run 1 shock.*import cut by origin"):
        rl.run_ario_batch(prep, [shocks[0], bad], params[:2], 30,
                          where=[None, ["run 1 shock"]])
