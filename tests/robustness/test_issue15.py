"""Issue 15: no silently wrong number from the engine, and a clear error instead of every
remaining traceback.  Each test fails on the code before the fix (docs/robustness.md,
"Issue 15: silent wrong numbers and remaining tracebacks")."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import simcore as sc
import simcore.carve_spec  # noqa: F401  (sc.carve_spec below)
from simcore.cli import main
from simcore.dynamic.batch import simulate_batch
from simcore.dynamic.params import DynamicParams
from simcore.scenario import load


@pytest.fixture(scope="module")
def prep37(japan37):
    return sc.dynamic.supply_chain.prepare_model(japan37)


# --------------------------------------------------------------------------------------
# A1: overlapping cuts from one origin never spill into other origins
# --------------------------------------------------------------------------------------
def test_overlapping_cuts_of_one_origin_are_capped_at_its_share(prep37):
    p = DynamicParams(import_origins={"27": {"CHN": 0.5}})
    cut = dict(product="27", origin="CHN", duration=60)
    full = sc.simulate(prep37, sc.ImportCut(share=1.0, **cut), params=p, days=200)
    two = sc.simulate(prep37, [sc.ImportCut(share=0.6, **cut)] * 2, params=p, days=200)
    everything = sc.simulate(prep37, [sc.ImportCut(share=1.0, **cut),
                                      sc.ImportCut(product="27", origin="ROW", share=1.0,
                                                   duration=60)], params=p, days=200)
    # two 60 % cuts of CHN's half add up to at most all of CHN's half, never into ROW's half
    assert float(two.gdp_loss_total) == pytest.approx(float(full.gdp_loss_total), rel=1e-12)
    assert float(everything.gdp_loss_total) > 1.5 * float(full.gdp_loss_total)
    # two 30 % cuts (a sum below 1) still add up: as one 60 % cut
    one60 = sc.simulate(prep37, sc.ImportCut(share=0.6, **cut), params=p, days=200)
    two30 = sc.simulate(prep37, [sc.ImportCut(share=0.3, **cut)] * 2, params=p, days=200)
    assert float(two30.gdp_loss_total) == pytest.approx(float(one60.gdp_loss_total), rel=1e-12)
    # the batch lowering (sweeps) is the same
    b = simulate_batch(prep37, [([sc.ImportCut(share=0.6, **cut)] * 2, p),
                                (sc.ImportCut(share=1.0, **cut), p)], days=200)
    assert b.gdp_loss_total.values[0] == pytest.approx(b.gdp_loss_total.values[1], rel=1e-12)
    assert b.gdp_loss_total.values[0] == pytest.approx(float(full.gdp_loss_total), rel=1e-9)


# --------------------------------------------------------------------------------------
# A2: recovery means output and stocks back at baseline; 'auto' waits for it
# --------------------------------------------------------------------------------------
CUT20 = dict(product="20", origin="ROW", share=1.0, duration=30)


def test_recovered_needs_stocks_back_at_target(prep37):
    p = DynamicParams(inventory_days=60)
    r = sc.simulate(prep37, sc.ImportCut(**CUT20), params=p, days=30)
    # the last day's loss is nil, but stocks are 30 days of imports short: not recovered
    assert abs(r.attrs["final_loss_rate_share_of_daily_gdp"]) < 1e-9
    assert r.attrs["final_stock_gap_share"] > 1e-3
    assert r.attrs["recovered"] == 0
    b = simulate_batch(prep37, [(sc.ImportCut(**CUT20), p)], days=30)
    assert not bool(b.recovered.values[0])


AUTO = """
schema = 1
name = "issue15-false-recovery"

[table]
dataset = "japan-2015-37"

[[shocks]]
kind = "import_cut"
product = "20"
origin = "ROW"
share = 1.0
duration = 30

[model]
inventory_days = 60.0

[horizon]
days = "auto"
tail_days = 0
max_days = 3650
record = []
"""


def test_auto_horizon_does_not_stop_while_a_loss_is_pending(tmp_path, prep37):
    f = tmp_path / "s.toml"
    f.write_text(AUTO)
    res = load(f).run()
    ten_years = sc.simulate(prep37, sc.ImportCut(**CUT20),
                            params=DynamicParams(inventory_days=60), days=3650, record=())
    # before: stopped on day 30 with a loss of 1e-10 of the ten-year loss (64 bn yen)
    assert res.attrs["days"] > 37
    assert float(ten_years.gdp_loss_total) > 1e4
    assert float(res.gdp_loss_total) >= 0.99 * float(ten_years.gdp_loss_total)
    # a sweep with days='auto' follows the same rule
    sw = sc.sweep(str(f), grid={"model.inventory_days": [60.0]}, days="auto",
                  out=tmp_path / "sw")
    assert int(sw.days.values.ravel()[0]) == res.attrs["days"]
    assert float(sw.gdp_loss_total.values.ravel()[0]) == pytest.approx(
        float(res.gdp_loss_total), rel=1e-9)


# --------------------------------------------------------------------------------------
# A3: gains from a pure cut with overproduction are reported apart, never as the headline
# --------------------------------------------------------------------------------------
GAINS = AUTO.replace('inventory_days = 60.0', 'alpha_max = 1.25\nalpha_tau = 1.0').replace(
    'days = "auto"\ntail_days = 0\nmax_days = 3650', "days = 400")


def test_pure_cut_with_overproduction_reports_gross_loss_and_gains_apart(tmp_path, capsys):
    f = tmp_path / "gain.toml"
    f.write_text(GAINS)
    assert main(["run", str(f), "--json"]) == 0
    head = json.loads(capsys.readouterr().out)
    # the net "loss" of a pure import cut is a gain here: overproduction replaced the cut
    assert head["gdp_loss_total"] < 0 and head["net_gain"] is True
    assert head["gdp_gain_total"] > 0
    assert head["gdp_loss_gross_total"] > 0
    assert head["gdp_loss_gross_total"] == pytest.approx(
        head["gdp_loss_total"] + head["gdp_gain_total"], rel=1e-9)
    assert main(["run", str(f)]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "value" in ln]
    # the first money line is the gross loss, never a negative "loss"
    assert lines[0].lstrip().startswith("value-added loss (gross")
    assert "net value-added gain" in out and "-" not in lines[0].split(":")[1].split("(")[0]



def test_batches_and_sweeps_keep_overproduction_gains_apart(tmp_path, prep37):
    """Batches and sweeps reported only the net loss: with alpha_max = 1.25 and
    alpha_tau = 1 a pure import cut showed a net gain as a negative loss, gains not kept
    apart.  Now ``run_lowered``, ``simulate_batch`` and the sweep chunks carry the gains,
    equal to the single runs'; a chunk written before (without them) is recomputed."""
    import warnings

    from simcore import sweeps as sw_mod
    from simcore.dynamic.batch import run_lowered

    over = DynamicParams(alpha_max=1.25, alpha_tau=1.0)
    scen = [(sc.ImportCut(**CUT20), over),
            (sc.ImportCut(**{**CUT20, "share": 0.5}), over),
            (sc.ImportCut(**CUT20), DynamicParams())]
    singles = [sc.simulate(prep37, sh, params=p, days=400, record=()) for sh, p in scen]
    b = simulate_batch(prep37, scen, days=400)
    low = run_lowered(prep37, scen, 400)
    for s, one in enumerate(singles):
        g1 = float(one.gdp_gain_total)
        assert float(b.gdp_gain_total[s]) == pytest.approx(g1, rel=1e-12, abs=0)
        assert low["gdp_gain"][s].sum() == pytest.approx(g1, rel=1e-12, abs=0)
        np.testing.assert_allclose(b.gdp_gain[s].values, one.gdp_gain.values, rtol=1e-12)
        assert float(b.gdp_loss_gross_total[s]) == pytest.approx(
            float(one.gdp_loss_gross_total), rel=1e-12)
    # the case: a net gain (negative net loss) whose gains are now visible
    assert float(b.gdp_loss_total[0]) < 0 < float(b.gdp_gain_total[0])
    assert float(b.gdp_loss_gross_total[0]) >= 0
    assert float(b.gdp_gain_total[2]) == 0.0  # no overproduction, no gains

    f = tmp_path / "gain.toml"
    f.write_text(GAINS)
    out = tmp_path / "sw"
    grid = {"model.alpha_max": [1.25, 1.0]}
    res = sc.sweep(str(f), grid=grid, out=out, chunk_size=1)
    gains = res.gdp_gain_total.values
    assert gains[0] == pytest.approx(float(singles[0].gdp_gain_total), rel=1e-12)
    assert gains[1] == 0.0
    np.testing.assert_allclose(res.gdp_loss_gross_total.values,
                               res.gdp_loss_total.values + gains, rtol=1e-15)
    # a chunk of the same sweep written without the gains (an older simcore): recomputed,
    # with a warning, never assembled with the gains missing
    man_path = out / "manifest.json"
    man = json.loads(man_path.read_text())
    arrs = sw_mod._read_chunk(out, 0, 0, 1, man["fingerprint"])
    assert arrs is not None and "gdp_gain_total" in arrs
    arrs.pop("gdp_gain_total")
    man["chunks"]["0"] = sw_mod._write_chunk(out, 0, arrs, man["fingerprint"], 0)
    man_path.write_text(json.dumps(man))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = sc.sweep(str(f), grid=grid, out=out, chunk_size=1)
    assert any("gdp_gain_total" in str(w.message) for w in caught)
    assert again.attrs["chunks_old_format"] == 1 and again.attrs["chunks_computed"] == 1
    np.testing.assert_array_equal(again.gdp_gain_total.values, gains)


# --------------------------------------------------------------------------------------
# B: clear errors instead of tracebacks, strict JSON, exit codes
# --------------------------------------------------------------------------------------
BASE = """
schema = 1
name = "b15"
title = "probe"

[table]
dataset = "japan-2015-37"

[[shocks]]
kind = "capacity_loss"
sector = "20"
share = 0.1
duration = 10

[horizon]
days = 20
record = []
"""


@pytest.fixture
def base(tmp_path):
    f = tmp_path / "base.toml"
    f.write_text(BASE, encoding="utf-8")
    return f


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_overflowing_days_are_refused(base, capsys):
    auto = base.parent / "auto.toml"
    auto.write_text(BASE.replace("days = 20", 'days = "auto"'), encoding="utf-8")
    code, _, err = _run(capsys, "run", auto, "--set", "shocks.0.start=1e308",
                        "--set", "shocks.0.duration=1e308")
    assert code == 2 and "shocks[0].duration" in err and "Traceback" not in err
    code, _, err = _run(capsys, "run", auto, "--set", "horizon.tail_days=1e308")
    assert code == 2 and "tail_days" in err
    with pytest.raises(sc.errors.ShockError, match=r"start = 1e\+308 is above"):
        sc.ImportCut(product="20", origin="ROW", share=1.0, start=1e308, duration=1e308)


def test_carve_out_that_is_binary_or_a_directory(base, capsys):
    (base.parent / "bin.toml").write_bytes(b"\x00\x01\xff\xfe")
    (base.parent / "dir.toml").mkdir()
    for name in ("bin.toml", "dir.toml"):
        f = base.parent / f"c-{name}"
        f.write_text(BASE.replace('dataset = "japan-2015-37"',
                                  f'dataset = "japan-2015-185"\ncarve_out = "{name}"'))
        code, _, err = _run(capsys, "run", f)
        assert code == 2 and f"{name}: cannot read" in err, err


def test_deep_nesting_in_toml_and_in_set(base, capsys):
    deep = base.parent / "deep.toml"
    deep.write_text('schema = 1\nv = ' + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, _, err = _run(capsys, "run", deep)
    assert code == 2 and "nested too deeply" in err
    code, _, err = _run(capsys, "run", base, "--set", "model.x=" + "[" * 100_000 + "]" * 100_000)
    assert code == 2 and "nested too deeply" in err


def test_sweep_out_that_is_a_file_under_a_file_or_unwritable(base, capsys, monkeypatch):
    from simcore import sweeps

    # the executors look the chunk function up in simcore.sweeps.execute
    monkeypatch.setattr(sweeps.execute, "_compute_chunk",
                        lambda *a, **k: pytest.fail("a sweep ran with an unusable --out"))
    f = base.parent / "afile"
    f.write_text("x")
    for out, msg in [(f, "is a file"), (f / "sub", "is not a directory"),
                     ("/proc/simcore-sweep", "cannot write in")]:
        code, _, err = _run(capsys, "sweep", base, "--set", "model.inventory_days=1,2",
                            "--out", out)
        assert code == 2 and msg in err, err


def test_run_out_unwritable_fails_before_the_run(base, capsys, monkeypatch):
    monkeypatch.setattr(sc.scenario.Scenario, "run",
                        lambda *a, **k: pytest.fail("ran before checking --out"))
    code, _, err = _run(capsys, "run", base, "--out", "/proc/simcore-out.nc")
    assert code == 2 and "cannot write in '/proc'" in err


def test_full_disk_is_a_clear_error(base, tmp_path, capsys, monkeypatch):
    import errno

    import xarray as xr
    from simcore import sweeps

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    code, _, err = _run(capsys, "run", base, "--out", tmp_path / "r.nc")
    assert code == 2 and "No space left on device" in err
    monkeypatch.setattr(sweeps, "_write_chunk", full)
    code, _, err = _run(capsys, "sweep", base, "--set", "model.inventory_days=1,2",
                        "--out", tmp_path / "sw")
    assert code == 2 and "No space left on device" in err


def test_json_is_strict_and_errors_are_json(base, capsys):
    from simcore.cli import dumps_json

    text = dumps_json({"a": float("inf"), "b": [1.0, float("nan")]})
    obj = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert obj["a"] is None and obj["b"] == [1.0, None]
    assert obj["non_finite"] == {"a": "+infinite", "b[1]": "not a number (NaN)"}
    code, out, _ = _run(capsys, "run", base.parent / "missing.toml", "--json")
    assert code == 2
    assert json.loads(out)["error"]["kind"] == "user"
    code, out, _ = _run(capsys, "run", base, "--json")
    assert code == 0 and json.loads(out, parse_constant=lambda c: pytest.fail(c))


def test_internal_error_has_its_own_exit_code(base, capsys, monkeypatch):
    from simcore import cli

    monkeypatch.setattr(cli, "_headline", lambda res: 1 / 0)
    code, out, err = _run(capsys, "run", base, "--json")
    assert code == cli.EXIT_INTERNAL_ERROR == 70
    assert "simcore: internal error: ZeroDivisionError" in err
    assert json.loads(out)["error"]["kind"] == "internal"


def test_escape_sequences_in_titles_are_printed_escaped(base, capsys):
    f = base.parent / "esc.toml"
    f.write_text(BASE.replace('title = "probe"', 'title = "\\u001b[2J\\u001b]0;pwned\\u0007T"'))
    code, out, _ = _run(capsys, "run", f)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out


def test_bom_scheduler_with_local_and_negative_item_numbers(base, capsys):
    f = base.parent / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert load(f).name == "b15"
    code, _, err = _run(capsys, "sweep", base, "--set", "model.inventory_days=1,2",
                        "--scheduler", "tcp://127.0.0.1:9", "--out", base.parent / "s")
    assert code == 2 and "executor='local'" in err
    code, _, err = _run(capsys, "run", base, "--set", "shocks.-1.share=0.2")
    assert code == 2 and "no item '-1' in shocks" in err


def test_rescale_to_a_huge_target_passes_its_own_balance_check(japan37):
    cut = sc.CapacityShock(sector="20", share=0.1, duration=5)
    ref = float(sc.simulate(japan37, cut, days=10, record=()).gdp_loss_share)
    for target in (6e16, 1e20):
        big = sc.transform.rescale(japan37, target_gdp=target)
        res = sc.simulate(big, cut, days=10, record=())
        assert float(res.gdp_loss_share) == pytest.approx(ref, rel=1e-9)


def test_pymrio_a_only_with_nan_or_singular_i_minus_a():
    pymrio = pytest.importorskip("pymrio")
    io = pymrio.load_test().calc_all()
    A = io.A.copy()
    A.iloc[2, 3] = np.nan
    with pytest.raises(sc.errors.NonFiniteError, match=r"A holds NaN or inf \(first at row"):
        sc.from_pymrio(pymrio.IOSystem(A=A, Y=io.Y.copy(), unit=io.unit))
    A = io.A.copy() * 0.0
    A.iloc[0, 0] = 1.0
    with pytest.raises(sc.errors.NonProductiveError, match=r"I - A is singular"):
        sc.from_pymrio(pymrio.IOSystem(A=A, Y=io.Y.copy(), unit=io.unit))


@pytest.mark.parametrize("reply", [None, b"HTTP/1.0 200 OK\r\n\r\nnot dask\n"])
def test_dask_address_that_is_not_a_scheduler_fails_fast(base, monkeypatch, reply):
    """A real TCP server that accepts the connection, then stays silent or answers
    something else: a clear DesignError within the connect timeout (no mocks)."""
    import socket
    import threading
    import time

    pytest.importorskip("distributed")
    from simcore import sweeps

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    conns = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            if reply:
                c.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setattr(sweeps.execute, "DASK_CONNECT_TIMEOUT_S", 1.0)
    t0 = time.perf_counter()
    try:
        with pytest.raises(sc.errors.DesignError, match=r"no Dask scheduler answered there"):
            sc.sweep(str(base), grid={"model.inventory_days": [1.0, 2.0]}, executor="dask",
                     scheduler=f"tcp://127.0.0.1:{srv.getsockname()[1]}")
    finally:
        srv.close()
        for c in conns:
            c.close()
    assert time.perf_counter() - t0 < 30


def test_data_files_stay_inside_the_scenario_folder_or_shipped_data(tmp_path, capsys):
    shipped = sc.scenario.scenario_dir() / "data" / "rare_earths.toml"
    (tmp_path / "re.toml").write_bytes(shipped.read_bytes())
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "link.toml").symlink_to(tmp_path / "re.toml")
    (sub / "own.toml").write_bytes(shipped.read_bytes())

    def scen(carve):
        f = sub / "c.toml"
        f.write_text(BASE.replace('dataset = "japan-2015-37"',
                                  f'dataset = "japan-2015-185"\ncarve_out = "{carve}"')
                     .replace('sector = "20"', 'sector = "2711"'), encoding="utf-8")
        return f

    # inside the scenario's folder, and the shipped scenarios/data: fine
    for carve in ("own.toml", "data/rare_earths.toml"):
        assert load(scen(carve)).carve_spec() is not None
    # climbing out, absolute, or through a link: refused unless opted in
    for carve, msg in [("../re.toml", "without '..'"),
                       (str(tmp_path / "re.toml"), "without '..'"),
                       ("link.toml", "through a link")]:
        with pytest.raises(sc.errors.ScenarioError, match=msg):
            load(scen(carve)).carve_spec()
        assert load(scen(carve), allow_outside_data=True).carve_spec() is not None
        code, _, err = _run(capsys, "run", scen(carve))
        assert code == 2 and "--allow-outside-data" in err
    # the opt-in travels with overrides (sweeps copy the scenario)
    s = load(scen("../re.toml"), allow_outside_data=True).copy_with({"shocks.0.share": 0.2})
    assert s.carve_spec() is not None


@pytest.mark.parametrize("text", [
    '[products]\napi_token = "s3cr3t-TOKEN-123"\n',
    '[products.X]\nparents = "s3cr3t-TOKEN-123"\n',
    '[products.X]\norder = "s3cr3t-TOKEN-123"\nparents = { P = 1 }\n',
    '[products.X]\nparents = { P = { output = ["s3cr3t-TOKEN-123", 1, 2] } }\n',
    '[origins]\nRE = { CHN = "s3cr3t-TOKEN-123" }\n[products.X.parents.P]\noutput = 1\n'
    'imports = 1\nusers = {}\n',
])
def test_errors_never_echo_strings_from_a_data_file(tmp_path, text):
    f = tmp_path / "foreign.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(sc.errors.ScenarioError) as exc:
        sc.carve_spec.load_spec(f)
    assert "s3cr3t" not in str(exc.value)
    assert "foreign.toml" in str(exc.value)
