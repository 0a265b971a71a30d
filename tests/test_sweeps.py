"""Sweeps (simcore.sweep) and the batch layer (simcore.dynamic.batch), local engine.

Equality tolerance: 1e-12 relative.  The batch kernel runs the same per-scenario kernel
(``run_one``) on the same lowered arrays as :func:`simcore.simulate`, so the numbers agree
to round-off (in practice bit for bit); 1e-12 leaves room for a different summation order.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import simcore as sc
from simcore.dynamic.batch import simulate_batch
from simcore.errors import DesignError
from simcore.scenario import load

RTOL = 1e-12
ROOT = Path(__file__).resolve().parent.parent

# A small scenario on the 37-sector table: a 60 % cut of China's share of product 27's
# imports (chemicals) for 20 days, some stock, 10-day restocking.
SMALL = {
    "schema": 1,
    "name": "small-import-cut",
    "table": {"dataset": "japan-2015-37"},
    "shocks": [{"kind": "import_cut", "product": "27", "origin": "CHN", "share": 0.6,
                "start": 0.0, "duration": 20.0},
               {"kind": "capacity_loss", "sector": "35", "share": 0.1, "start": 5.0,
                "duration": 10.0}],
    "model": {"inventory_days": 3.0, "inventory_tau": 10.0, "dependency": 0.8,
              "import_origins": {"27": {"CHN": 0.5}},
              # listed so that the dotted key 'model.elasticity_by_product.27' exists
              # (apply_overrides would create a list for a new all-digit key)
              "elasticity_by_product": {"27": 0.0}},
    "horizon": {"days": "auto", "tail_days": 30, "max_days": 400},
}


@pytest.fixture(scope="module")
def small():
    return load(SMALL)


@pytest.fixture(scope="module")
def kiuchi():
    """Kiuchi's 3-month scenario cut to 20 days, 30 days of tail (fast, same mechanics)."""
    sc0 = load("kiuchi-2025-3m").copy_with({"shocks.0.duration": 20.0, "shocks.1.duration": 20.0,
                                           "horizon.tail_days": 30})
    sc0.prepared()
    return sc0


def _close(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)


# ------------------------------------------------------------------------------ batch layer
def test_simulate_batch_equals_simulate(small):
    prep = small.prepared()
    variants = [small.copy_with(o) for o in (
        {}, {"shocks.0.share": 1.0}, {"model.inventory_days": 7.0},
        {"model.rationing": "firms_first"}, {"model.alpha_max": 1.2, "model.inventory_tau": 3},
        {"shocks.1.sector": "31"})]
    items = [(v.shocks(), v.params()) for v in variants]
    res = simulate_batch(prep, items, days=50, record=("output",))
    # one lane group per structure: rationing and the shocked sector are structure, the
    # rest (inventory days, shares, alpha_max, inventory_tau) are values that share lanes
    assert res.attrs["lane_groups"] == 3
    for k, (sh, p) in enumerate(items):
        ref = sc.simulate(prep, sh, params=p, days=50, record=("output",))
        _close(res.gdp_loss_total[k], ref.gdp_loss_total)
        _close(res.value_added_loss[k], ref.value_added_loss)
        _close(res.output[k], ref.output)
        assert bool(res.recovered[k]) == bool(ref.attrs["recovered"])


def test_simulate_batch_is_the_batch_engines_own(small):
    # no forwarding stubs (issue 14): simcore.dynamic.simulate_batch is the batch module's
    # function, and neither the supply-chain engine nor the sweeps re-export it
    import simcore.dynamic
    import simcore.dynamic.supply_chain
    import simcore.sweeps

    assert simcore.dynamic.simulate_batch is simulate_batch
    assert not hasattr(simcore.dynamic.supply_chain, "simulate_batch")
    assert not hasattr(simcore.sweeps, "simulate_batch")
    prep = small.prepared()
    res = simcore.dynamic.simulate_batch(prep, [(small.shocks(), small.params())], days=10)
    assert res.sizes["scenario"] == 1 and res.sizes["time"] == 10


# ------------------------------------------------------------------------------ equality
def test_grid_equals_scenario_run(kiuchi):
    grid = {"shocks.0.share": [0.5, 1.0], "model.dependency_scale": [0.13, 0.4],
            "model.inventory_tau": [1e6, 20.0]}
    res = sc.sweep(kiuchi, grid=grid, sectors=True)
    assert res.gdp_loss_total.dims == tuple(grid)
    assert res.attrs["horizon"] == "auto"
    for share, scale, tau in [(0.5, 0.13, 1e6), (1.0, 0.4, 20.0), (1.0, 0.13, 20.0)]:
        ov = {"shocks.0.share": share, "model.dependency_scale": scale,
              "model.inventory_tau": tau}
        ref = kiuchi.run(**ov)
        pt = res.sel(ov)
        _close(pt.gdp_loss_total, ref.gdp_loss_total)
        _close(pt.gdp_loss_share, ref.gdp_loss_share)
        _close(pt.value_added_loss, ref.value_added_loss)
        assert int(pt.days) == ref.attrs["days"]
        assert int(pt.recovered) == ref.attrs["recovered"]
        _close(pt.gdp_loss_total_jpy, float(ref.gdp_loss_total) * 1e6)


def test_shared_array_keys_and_auto_extension_equal_scenario_run(small):
    """Keys that change shared arrays (inventory days, dependency, elasticities,
    rationing) run as separate kernel calls; durations change the horizon, and a scenario
    still short of baseline at its first horizon is extended as Scenario.run does."""
    grid = {"model.inventory_days": [1.0, 6.0], "model.dependency": [0.5, 1.0],
            "shocks.0.duration": [5.0, 80.0]}
    res = sc.sweep(small, grid=grid, zipped={"model.rationing": ["proportional", "firms_first"],
                                            "model.elasticity_by_product.27": [0.0, 0.5]},
                   sectors=True, daily=True)
    assert res.gdp_loss_total.dims == ("model.inventory_days", "model.dependency",
                                       "shocks.0.duration", "point")
    assert res.attrs["horizon_days"] == 110  # ceil(80 + 30)
    assert res.sizes["time"] == 110
    for i in range(2):
        for inv in (1.0, 6.0):
            for dur in (5.0, 80.0):
                ov = {"model.inventory_days": inv, "model.dependency": 1.0,
                      "shocks.0.duration": dur,
                      "model.rationing": ["proportional", "firms_first"][i],
                      "model.elasticity_by_product.27": [0.0, 0.5][i]}
                ref = small.run(**ov)
                pt = res.sel({k: v for k, v in ov.items() if k in grid}).isel(point=i)
                _close(pt.gdp_loss_total, ref.gdp_loss_total)
                _close(pt.value_added_loss, ref.value_added_loss)
                assert int(pt.days) == ref.attrs["days"]
                n = min(110, ref.attrs["days"])
                _close(pt.gdp_loss[:n], ref.gdp_loss[:n])


def test_table_keys_get_their_own_table(kiuchi):
    key = "table.carve_out_overrides.MAG.3399.imports"
    res = sc.sweep(kiuchi, grid={key: [20000.0, 45000.0]}, days=40)
    for v in (20000.0, 45000.0):
        tab = kiuchi.copy_with({"table.carve_out_overrides": {"MAG.3399.imports": v}})
        ref = sc.simulate(tab.prepared(), kiuchi.shocks(),
                          params=kiuchi.params(), days=40)
        _close(res.gdp_loss_total.sel({key: v}), ref.gdp_loss_total)
    assert float(res.gdp_loss_total[0]) != float(res.gdp_loss_total[1])


# ------------------------------------------------------------------------------ designs
def test_sampled_designs_are_seeded(small):
    rng = {"shocks.0.share": (0.2, 0.9), "model.inventory_days": (1.0, 10.0)}
    a = sc.sweep(small, ranges=rng, method="lhs", samples=10, seed=7, days=30)
    b = sc.sweep(small, ranges=rng, method="lhs", samples=10, seed=7, days=30)
    c = sc.sweep(small, ranges=rng, method="random", samples=10, seed=7, days=30)
    assert a.gdp_loss_total.dims == ("sample",)
    np.testing.assert_array_equal(a["shocks.0.share"], b["shocks.0.share"])
    np.testing.assert_array_equal(a.gdp_loss_total, b.gdp_loss_total)
    assert not np.array_equal(a["shocks.0.share"], c["shocks.0.share"])
    for k, (lo, hi) in rng.items():
        x = a[k].values
        assert x.min() >= lo and x.max() <= hi
        # Latin hypercube: one point in each of the 10 strata
        assert sorted(np.floor((x - lo) / (hi - lo) * 10).astype(int)) == list(range(10))
    assert a.attrs["seed"] == 7 and a.attrs["method"] == "lhs"
    d = sc.sweep(small, ranges=rng, samples=3, days=30)
    assert d.attrs["seed"] >= 0  # a seed is drawn and recorded
    e = sc.sweep(small, ranges=rng, samples=3, seed=d.attrs["seed"], days=30)
    np.testing.assert_array_equal(d.gdp_loss_total, e.gdp_loss_total)
    ref = small.run(**{k: float(a[k][3]) for k in rng}, **{"horizon.days": 30})
    _close(a.gdp_loss_total[3], ref.gdp_loss_total)


def test_sobol_and_morris_indices(small):
    rng = {"shocks.0.share": (0.2, 1.0), "model.inventory_days": (1.0, 10.0)}
    s = sc.sweep(small, ranges=rng, method="sobol", samples=8, seed=1, days=30)
    assert s.sizes["sample"] == 8 * (2 + 2)
    assert list(s.parameter.values) == list(rng)
    for v in ("S1", "S1_conf", "ST", "ST_conf"):
        assert s[v].dims == ("parameter",) and np.all(np.isfinite(s[v]))
    m = sc.sweep(small, ranges=rng, method="morris", samples=4, seed=1, days=30)
    assert m.sizes["sample"] == 4 * 3
    assert np.all(m.mu_star >= 0) and float(m.mu_star.sel(parameter="shocks.0.share")) > 0


@pytest.mark.parametrize("kwargs, match", [
    ({"grid": {"model.no_such_key": [1, 2]}}, "unknown"),
    ({"grid": {"shocks.9.share": [0.1]}}, "unknown"),
    ({"grid": {"colour": [1]}}, "not sweepable"),
    ({"grid": {"horizon.days": [10, 20]}}, "days="),
    ({"grid": {"shocks.0.share": []}}, "empty"),
    ({"grid": {"shocks.0.share": 0.5}}, "list"),
    ({"grid": {"shocks.0.share": [0.5, 1.5]}}, "not allowed"),
    ({"ranges": {"model.inventory_days": (0.5, 3.0)}, "samples": 4}, "not allowed"),
    ({"ranges": {"shocks.0.share": (0.5, 0.2)}, "samples": 4}, "low < high"),
    ({"ranges": {"shocks.0.share": (0.1, 0.2)}}, "samples"),
    ({"ranges": {"shocks.0.share": (0.1, 0.2)}, "samples": 4, "method": "halton"}, "method"),
    ({"zipped": {"shocks.0.share": [0.1, 0.2], "model.dependency": [0.5]}}, "same length"),
    ({}, "empty design"),
    ({"grid": {"shocks.0.share": [0.1]}, "executor": "spark"}, "executor 'spark'"),
    ({"grid": {"model.import_origins.27.CHN": [0.5, 0.9]},
      "overrides": {"model.import_origins.27.KOR": 0.4}}, "scenario 1"),
])
def test_bad_designs_are_rejected(small, kwargs, match):
    with pytest.raises(DesignError, match=match):
        sc.sweep(small, days=5, **kwargs)


@pytest.mark.parametrize("old", ["local", "dask", "ario"])
def test_the_executor_is_executor_not_engine(small, old, tmp_path, capsys):
    """``engine`` names the model everywhere; sweep()'s old ``engine=`` (the executor) is
    refused, naming ``executor=``, never taken as an alias (issue 14)."""
    with pytest.raises(TypeError, match=r"sweep\(engine=.*executor=") as ei:
        sc.sweep(small, grid={"shocks.0.share": [0.1]}, days=5, engine=old)
    assert (f"executor={old!r}" in str(ei.value)) == (old != "ario")
    assert "model.engine" in str(ei.value)
    from simcore.cli import main

    out = tmp_path / "s"
    assert main(["sweep", "kiuchi-2025-3m", "--set", "shocks.0.share=0.1,0.2", "--engine",
                 old, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simcore: error: --engine") and "--executor" in err
    assert not out.exists()


def test_grid_too_large_for_memory_unless_streamed(small, tmp_path):
    grid = {"shocks.0.share": list(np.linspace(0.1, 0.9, 6)), "model.inventory_days": [2.0, 4.0]}
    with pytest.raises(DesignError, match="max_memory"):
        sc.sweep(small, grid=grid, days=5, max_memory=100)
    res = sc.sweep(small, grid=grid, days=5, max_memory=100, out=tmp_path / "big",
                   format="zarr", chunk_size=5)
    assert res.gdp_loss_total.dims == ("scenario",) and res.sizes["scenario"] == 12
    full = sc.sweep(small, grid=grid, days=5)
    _close(res.gdp_loss_total.values, full.gdp_loss_total.values.ravel())
    _close(res["model.inventory_days"].values,
           np.broadcast_to(full["model.inventory_days"].values, (6, 2)).ravel())


# ------------------------------------------------------------------------------ storage
def test_storage_metadata_and_resume(small, tmp_path):
    out = tmp_path / "sw"
    grid = {"shocks.0.share": [0.2, 0.4, 0.6, 0.8, 1.0], "model.inventory_days": [2.0, 5.0]}
    a = sc.sweep(small, grid=grid, days=20, chunk_size=3, out=out, sectors=True)
    assert a.attrs["chunks_computed"] == 4 and a.attrs["chunks_resumed"] == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["simcore_version"] == sc.__version__
    assert man["scenario"] == "small-import-cut" and man["scenario_data"]["name"] == SMALL["name"]
    assert man["design"]["grid"]["shocks.0.share"] == grid["shocks.0.share"]
    assert set(man["chunks"]) == {"0", "1", "2", "3"}
    assert all(c["bytes"] > 0 and len(c["sha256"]) == 64 for c in man["chunks"].values())
    disk = xr.open_dataset(out / "result.nc")
    _close(disk.gdp_loss_total, a.gdp_loss_total)
    assert disk.attrs["simcore_version"] == sc.__version__ and disk.attrs["method"] == "grid"
    disk.close()
    # nothing to do the second time
    b = sc.sweep(small, grid=grid, days=20, chunk_size=3, out=out, sectors=True)
    assert b.attrs["chunks_computed"] == 0 and b.attrs["chunks_resumed"] == 4
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    # a corrupt chunk (flipped byte), a truncated one and a missing one are recomputed
    p1, p2, p3 = (out / "chunks" / f"chunk-00000{i}.npz" for i in (1, 2, 3))
    raw = bytearray(p1.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    p1.write_bytes(bytes(raw))
    p2.write_bytes(p2.read_bytes()[:100])
    p3.unlink()
    keep = (out / "chunks" / "chunk-000000.npz").stat().st_mtime_ns
    c = sc.sweep(small, grid=grid, days=20, chunk_size=3, out=out, sectors=True, format="zarr")
    assert c.attrs["chunks_computed"] == 3 and c.attrs["chunks_resumed"] == 1
    assert (out / "chunks" / "chunk-000000.npz").stat().st_mtime_ns == keep
    xr.testing.assert_identical(a.drop_attrs(), c.drop_attrs())
    z = xr.open_zarr(out / "result.zarr", consolidated=False)
    _close(z.value_added_loss.values, a.value_added_loss.values)
    # another design on the same path is refused
    with pytest.raises(DesignError, match="different sweep"):
        sc.sweep(small, grid={"shocks.0.share": [0.3]}, days=20, out=out)


def test_killed_sweep_resumes_without_recomputing(tmp_path):
    """Kill a CLI sweep (SIGKILL) after some chunks are on disk, then resume it.  While it
    runs (frozen by SIGSTOP, so the check is not a race) a second sweep on the same folder
    is refused, naming the holder of the folder's lock; once it is killed, its lock is
    stale and is taken over."""
    spath = tmp_path / "small.toml"
    spath.write_text(_toml(SMALL))
    out = tmp_path / "killed"
    args = ["--set", "shocks.0.share=0.1..1.0", "--set", "model.inventory_days=1.0..8.0",
            "--samples", "48", "--seed", "5", "--chunk-size", "2", "--out", str(out)]
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "simcore.cli", "sweep", str(spath), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks = out / "chunks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if chunks.is_dir() and len(list(chunks.glob("chunk-*.npz"))) >= 2:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)
    try:
        assert proc.poll() is None, "the sweep ended before it could be stopped"
        lock = json.loads((out / "sweep.lock").read_text())
        assert lock["pid"] == proc.pid and lock["host"] == socket.gethostname()
        with pytest.raises(DesignError, match=rf"is in use by another sweep: pid {proc.pid} "
                                              rf"on host {re.escape(socket.gethostname())}, "
                                              rf"started {re.escape(lock['started'])}"):
            sc.sweep(spath, ranges={"shocks.0.share": (0.1, 1.0),
                                    "model.inventory_days": (1.0, 8.0)},
                     samples=48, seed=5, chunk_size=2, out=out)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (out / "sweep.lock").exists()  # left by the killed process: stale
    before = {p.name: p.stat().st_mtime_ns for p in chunks.glob("chunk-*.npz")}
    assert 2 <= len(before) < 24, "the sweep was not interrupted mid-way"
    assert not (out / "result.nc").exists()
    from simcore.cli import _sweep_sets

    grid, ranges, fixed = _sweep_sets(args[1:4:2])
    res = sc.sweep(spath, ranges=ranges, samples=48, seed=5, chunk_size=2, out=out)
    assert res.attrs["chunks_resumed"] == len(before)
    assert res.attrs["chunks_computed"] == 24 - len(before)
    after = {p.name: p.stat().st_mtime_ns for p in chunks.glob("chunk-*.npz")}
    assert all(after[k] == v for k, v in before.items())  # nothing rewritten
    fresh = sc.sweep(spath, ranges=ranges, samples=48, seed=5, chunk_size=7)
    _close(res.gdp_loss_total, fresh.gdp_loss_total)
    assert not (out / "sweep.lock").exists()
    assert np.all(res.status == 0) and np.all(np.isfinite(res.gdp_loss_total))


def _toml(d, prefix=""):
    lines, tables = [], []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {json.dumps(v)}")
    for k, v in tables:
        name = f"{prefix}{k}"
        if isinstance(v, list):
            for item in v:
                lines.append(f"\n[[{name}]]")
                lines.append(_toml(item))
        else:
            flat = {kk: vv for kk, vv in v.items() if not isinstance(vv, dict)}
            sub = {kk: vv for kk, vv in v.items() if isinstance(vv, dict)}
            lines.append(f"\n[{name}]")
            lines.append(_toml(flat))
            if sub:
                lines.append(_toml(sub, prefix=name + "."))
    return "\n".join(x for x in lines if x)


# ------------------------------------------------------------------------------ CLI, progress
def test_cli_sweep(tmp_path, capsys, small):
    from simcore.cli import main

    spath = tmp_path / "small.toml"
    spath.write_text(_toml(SMALL))
    assert load(spath).data == small.data
    out = tmp_path / "cli"
    argv = ["sweep", str(spath), "--set", "shocks.0.share=0.3,0.6", "--set",
            "model.inventory_days=4", "--out", str(out)]
    assert main(argv) == 0
    assert "2 scenarios" in capsys.readouterr().out
    assert main(argv) == 0
    assert "0 chunks computed, 1 resumed" in capsys.readouterr().out
    res = xr.open_dataset(out / "result.nc")
    ref = small.run(**{"shocks.0.share": 0.6, "model.inventory_days": 4})
    _close(res.gdp_loss_total.sel({"shocks.0.share": 0.6}), ref.gdp_loss_total)
    res.close()
    assert main(["sweep", str(spath), "--set", "shocks.0.share=0.3,7", "--out",
                 str(tmp_path / "bad")]) == 2
    assert "not allowed" in capsys.readouterr().err


def test_progress_is_silent_off_a_terminal():
    import io

    from simcore._progress import Progress

    buf = io.StringIO()
    with Progress(10, "x", stream=buf) as p:
        p.update(10)
    assert buf.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    with Progress(4, "sweep", stream=tty, initial=1) as p:
        p.update(3)
    assert "4/4" in tty.getvalue() and tty.getvalue().endswith("\n")


def test_points_that_lower_alike_are_checked_once(small, kiuchi, monkeypatch):
    """The up-front check lowers one point of each kind (same codes, maps and origin
    shares; simcore.sweeps._lowering_key): shares and dependency scales lower alike, other
    origin shares do not (the 'scenario 1' case of test_bad_designs_are_rejected)."""
    import simcore.sweeps as sw

    calls = []
    real = sw.check_lowering
    monkeypatch.setattr(sw, "check_lowering", lambda *a: calls.append(1) or real(*a))
    sc.sweep(kiuchi, ranges={"shocks.0.share": (0.3, 1.0), "model.dependency_scale": (0.3, 1.2)},
             samples=6, seed=0, days=5)
    assert len(calls) == 1
    calls.clear()
    sc.sweep(small, grid={"model.import_origins.27.CHN": [0.5, 0.6, 0.7]}, days=5)
    assert len(calls) == 3


def test_points_resolve_their_data_files_once_per_sweep(kiuchi, monkeypatch):
    """Every point's scenario is built from the base's data (for the check and for its
    chunk); the data files its keys name (here the carve-out) are resolved once per sweep
    and process, not once per point, and the points' results are their runs'."""
    from simcore.scenario import Scenario

    calls = []
    real = Scenario._resolve_data_file
    monkeypatch.setattr(Scenario, "_resolve_data_file",
                        lambda self, *a: calls.append(a) or real(self, *a))
    ranges = {"shocks.0.share": (0.3, 1.0), "model.dependency_scale": (0.3, 1.2)}
    res = sc.sweep(kiuchi, ranges=ranges, samples=8, seed=0, chunk_size=4, workers=1,
                   progress=False)
    assert 0 < len(calls) < 8  # was four a point (two scenario builds, two lookups each)
    from simcore.sweeps import make_design

    design = make_design(kiuchi, None, ranges=ranges, method="lhs", samples=8, seed=0)
    for i in (0, 7):
        ref = kiuchi.run(**design.point(i))
        _close(res.gdp_loss_total.values.ravel()[i], ref.gdp_loss_total)


def test_special_rows_check_compares_every_other_field(japan37):
    """``_same_but_split_values`` (which draws of a group the batch lowers from the group's
    split): equal but for the per-product maps, overriding at least the products the
    group's first member overrides; any other field (a number, the origins' shares, a
    product the first member overrides and this one does not) that differs makes it
    False (the last is the stocks-per-origin case fixed in round 4 of issue 17)."""
    from simcore.dynamic import batch as b
    from simcore.dynamic import supply_chain as md
    from simcore.dynamic.params import DynamicParams

    prep = md.prepare_model(japan37)
    p0 = DynamicParams(dependency_by_product={"27": 0.5}, inventory_days=3.0)
    assert b._same_but_split_values(prep,
        DynamicParams(dependency_by_product={"27": 0.9},
                      inventory_days_by_product={"27": 2.0}, inventory_days=3.0), p0)
    assert not b._same_but_split_values(prep,
        DynamicParams(dependency_by_product={"27": 0.9}, inventory_days=4.0), p0)
    assert not b._same_but_split_values(prep, DynamicParams(inventory_days=3.0), p0)
    assert not b._same_but_split_values(prep,
        DynamicParams(dependency_by_product={"27": 0.9}, inventory_days=3.0,
                      import_origins={"27": {"CHN": 0.5, "ROW": 0.5}}), p0)



def test_a_local_sweep_builds_each_point_once(small, monkeypatch):
    """The up-front check's shocks and parameters are what the chunks run (kept on the
    sweep's lowerer, never sent to another process): each point's scenario is built once,
    and the results are the points' runs."""
    import pickle

    from simcore.sweeps import compute

    built = []
    real = compute._Lowerer.scenario
    monkeypatch.setattr(compute._Lowerer, "scenario",
                        lambda self, ov: built.append(1) or real(self, ov))
    grid = {"shocks.0.share": [0.2, 0.5, 0.8], "model.inventory_days": [5.0, 9.0]}
    res = sc.sweep(small, grid=grid, days=40, chunk_size=4, progress=False)
    assert len(built) == 6
    for ov in ({"shocks.0.share": 0.2, "model.inventory_days": 9.0},
               {"shocks.0.share": 0.8, "model.inventory_days": 5.0}):
        ref = small.copy_with({**ov, "horizon.days": 40}).run()
        _close(res.sel({k: v for k, v in ov.items()}).gdp_loss_total, ref.gdp_loss_total)
    low = compute._Lowerer(small.data, small.path, {})
    low.checked[0] = ({}, [], None)
    assert pickle.loads(pickle.dumps(low)).checked == {}
