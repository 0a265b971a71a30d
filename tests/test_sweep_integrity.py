"""Sweeps never mix results (issue 13): a resumed sweep gives exactly the fresh result or a
clear refusal naming what is wrong.

* Resume accepts only the recorded chunks: a chunk is bound to the sweep's fingerprint and
  to its index (and to the checksum the manifest records for it); a manifest that cannot be
  parsed, is empty, was edited or lacks the fingerprint is refused.
* The fingerprint covers the content of every input file (embedded dataset, carve-out
  file), the simcore version and the executor.
* Sweeping ``table.carve_out`` takes each point's shares from its own file.
* One writer per folder: ``sweep.lock`` (O_CREAT | O_EXCL) names its holder; a dead
  holder's lock is taken over (and, with a real killed CLI sweep, in
  ``test_sweeps.py::test_killed_sweep_resumes_without_recomputing``).
* A failed start (unreachable Dask scheduler, unreadable input) leaves nothing behind.

The scenario is a small one on the 37-sector table with a carve-out file of its own, so the
files a sweep reads can be edited freely in a temporary folder.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore import sweeps
from simcore.errors import DataError, DesignError, SimcoreError
from simcore.scenario import load

RTOL = 1e-12
ROOT = Path(__file__).resolve().parent.parent

CARVE = """\
[products.RM]
name_en = "A rare metal (test data)"
order = 1

  [products.RM.parents.27]
  output = 20000
  imports = 30000
  [products.RM.parents.27.users]
  "35" = { value_share = 0.5, criticality = 0.8, embodied = 0.5 }
  "33" = { value_share = 0.2, criticality = 0.6, embodied = 0.4 }

[origins]
RM = { CHN = 0.6 }
"""
# the same table (same values, same users' value shares), other dependency shares
CARVE2 = CARVE.replace("criticality = 0.8", "criticality = 0.2")

SCEN = """\
schema = 1
name = "rm-cut"

[table]
dataset = "japan-2015-37"
carve_out = "carve.toml"

[[shocks]]
kind = "import_cut"
product = "RM"
origin = "CHN"
share = 1.0
start = 0.0
duration = 10.0

[model]
inventory_days = 2.0
inventory_tau = 10.0
dependency = 0.5

[horizon]
days = 15
"""


def _files(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "carve.toml").write_text(CARVE, encoding="utf-8")
    (d / "carve2.toml").write_text(CARVE2, encoding="utf-8")
    (d / "s.toml").write_text(SCEN, encoding="utf-8")
    return d / "s.toml"


@pytest.fixture
def scen(tmp_path):
    return _files(tmp_path / "in")


SAMPLED = dict(ranges={"shocks.0.share": (0.1, 1.0), "model.inventory_days": (1.0, 6.0)},
               samples=8, seed=2, chunk_size=2)


def _same(res: xr.Dataset, ref: xr.Dataset) -> None:
    np.testing.assert_allclose(res.gdp_loss_total.values, ref.gdp_loss_total.values,
                               rtol=RTOL, atol=0)
    for v in ("days", "recovered", "status"):
        np.testing.assert_array_equal(res[v].values, ref[v].values)
    for k in ref.coords:
        np.testing.assert_array_equal(res[k].values, ref[k].values)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# ------------------------------------------------------------------------------ item 1
@pytest.mark.parametrize("damage, msg", [
    (lambda t: t[:100], r"manifest\.json: the sweep manifest is not valid JSON"),
    (lambda t: "", r"manifest\.json: the sweep manifest is empty"),
    (lambda t: "[]", r"manifest\.json: the sweep manifest holds a JSON list"),
    (lambda t: "{}", r"manifest\.json: manifest format None"),
    (lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "fingerprint"}),
     r"manifest\.json: the manifest lacks the sweep's fingerprint"),
    (lambda t: t.replace('"seed": 2', '"seed": 3'),
     r"manifest\.json: the manifest's content does not match its fingerprint"),
])
def test_broken_manifest_is_refused_not_ignored(scen, tmp_path, capsys, damage, msg):
    """The issue's repro: truncate the manifest, then resume with another design and seed.
    The old reader took the broken manifest for ``{}``, skipped the fingerprint and returned
    the first design's losses under the second design's coordinates, with exit status 0."""
    from simcore.cli import main

    out = tmp_path / "X"
    first = ["sweep", str(scen), "--set", "shocks.0.share=0.1..1.0", "--samples", "8",
             "--seed", "2", "--chunk-size", "2", "--out", str(out)]
    assert main(first) == 0
    capsys.readouterr()
    mpath = out / "manifest.json"
    mpath.write_text(damage(mpath.read_text(encoding="utf-8")), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (out / "chunks").iterdir()}
    second = ["sweep", str(scen), "--set", "shocks.0.share=0.1..0.5", "--samples", "8",
              "--seed", "3", "--chunk-size", "2", "--out", str(out)]
    assert main(second) == 2
    err = capsys.readouterr().err
    assert err.startswith("simcore: error: ") and str(mpath) in err, err
    assert re.search(msg, err), err
    # the same refusal from the API, for the same arguments as the first run too
    with pytest.raises(DataError, match=msg):
        sc.sweep(scen, ranges={"shocks.0.share": (0.1, 1.0)}, samples=8, seed=2,
                 chunk_size=2, out=out)
    assert {p.name: p.read_bytes() for p in (out / "chunks").iterdir()} == before
    assert not (out / "sweep.lock").exists()


@pytest.mark.parametrize("recorded", [True, False])
def test_chunk_copied_over_another_is_not_accepted(scen, tmp_path, recorded):
    """A chunk file copied over another is recomputed, whether or not the manifest records
    a checksum for the overwritten chunk (a chunk finished after the manifest's last save
    is accepted on the identity written inside it: sweep fingerprint and chunk index)."""
    out = tmp_path / "sw"
    fresh = sc.sweep(scen, **SAMPLED)
    first = sc.sweep(scen, out=out, **SAMPLED)
    _same(first, fresh)
    chunks = out / "chunks"
    shutil.copyfile(chunks / "chunk-000000.npz", chunks / "chunk-000002.npz")
    if not recorded:
        man = json.loads((out / "manifest.json").read_text())
        del man["chunks"]["2"]
        (out / "manifest.json").write_text(json.dumps(man))
    again = sc.sweep(scen, out=out, **SAMPLED)
    assert (again.attrs["chunks_computed"], again.attrs["chunks_resumed"]) == (1, 3)
    _same(again, fresh)
    # swapping two chunks: both recomputed
    a, b = chunks / "chunk-000001.npz", chunks / "chunk-000003.npz"
    ra, rb = a.read_bytes(), b.read_bytes()
    a.write_bytes(rb)
    b.write_bytes(ra)
    again = sc.sweep(scen, out=out, **SAMPLED)
    assert again.attrs["chunks_computed"] == 2
    _same(again, fresh)
    _same(xr.load_dataset(out / "result.nc"), fresh)


# ------------------------------------------------------------------------------ item 2
def test_fingerprint_covers_input_files(scen, tmp_path, monkeypatch):
    out = tmp_path / "sw"
    sc.sweep(scen, out=out, **SAMPLED)
    man = json.loads((out / "manifest.json").read_text())
    carve = str((scen.parent / "carve.toml").resolve())
    assert man["inputs"]["table.carve_out=carve.toml"]["path"] == carve
    assert man["inputs"]["table.dataset=japan-2015-37"]["sha256"] == __import__(
        "hashlib").sha256(sc.datasets.path("japan-2015-37").read_bytes()).hexdigest()
    assert man["executor"] == "local" and man["simcore_version"] == sc.__version__
    # the carve-out file edited between runs: refused, naming the file
    (scen.parent / "carve.toml").write_text(CARVE.replace("embodied = 0.4", "embodied = 0.9"))
    with pytest.raises(DesignError, match=rf"holds a different sweep: the input file "
                                          rf"{re.escape(carve)} \(table.carve_out\) has "
                                          r"changed"):
        sc.sweep(scen, out=out, **SAMPLED)
    (scen.parent / "carve.toml").write_text(CARVE)
    assert sc.sweep(scen, out=out, **SAMPLED).attrs["chunks_resumed"] == 4
    # the embedded dataset file (a copy, so it can be edited): another content, here the same
    # numbers stored uncompressed, is refused
    data = tmp_path / "data"
    data.mkdir()
    orig = sc.datasets.path("japan-2015-37")
    shutil.copyfile(orig, data / orig.name)
    monkeypatch.setattr(sc.datasets, "_DATA", data)
    out2 = tmp_path / "sw2"
    sc.sweep(scen, out=out2, **SAMPLED)
    with np.load(orig) as z:
        np.savez(data / orig.name, **{k: z[k] for k in z.files})
    with pytest.raises(DesignError, match=rf"the input file {re.escape(str(data / orig.name))}"
                                          r" \(table\.dataset\) has changed"):
        sc.sweep(scen, out=out2, **SAMPLED)
    # and a dataset file that moved is named with both paths
    with pytest.raises(DesignError, match=r"table\.dataset = 'japan-2015-37' was the file "):
        sc.sweep(scen, out=out, **SAMPLED)


def test_fingerprint_covers_version_and_executor(scen, tmp_path, monkeypatch):
    out = tmp_path / "sw"
    sc.sweep(scen, out=out, **SAMPLED)
    with monkeypatch.context() as m:
        m.setattr(sweeps, "__version__", "99.0")
        with pytest.raises(DesignError, match=rf"made by simcore {sc.__version__}, this is "
                                              r"simcore 99\.0"):
            sc.sweep(scen, out=out, **SAMPLED)
    # refused before any scheduler is contacted (there is none at this address)
    with pytest.raises(DesignError, match=r"it ran on executor 'local', this call uses 'dask'"):
        sc.sweep(scen, out=out, executor="dask", scheduler="tcp://127.0.0.1:9", **SAMPLED)
    assert sc.sweep(scen, out=out, **SAMPLED).attrs["chunks_resumed"] == 4


# ------------------------------------------------------------------------------ item 3
def test_swept_carve_out_file_is_used_by_each_point(scen):
    """Each point of a ``table.carve_out`` axis takes its dependency shares from its own
    file (the old sweep took them from the base scenario's file for every point)."""
    base = load(scen)
    res = sc.sweep(base, grid={"table.carve_out": ["carve.toml", "carve2.toml"],
                               "shocks.0.share": [0.5, 1.0]})
    for f in ("carve.toml", "carve2.toml"):
        for share in (0.5, 1.0):
            ref = base.copy_with({"table.carve_out": f}).run(**{"shocks.0.share": share})
            np.testing.assert_allclose(
                float(res.gdp_loss_total.sel({"table.carve_out": f, "shocks.0.share": share})),
                float(ref.gdp_loss_total), rtol=RTOL, atol=0)
    a, b = res.gdp_loss_total.sel({"shocks.0.share": 1.0}).values
    assert a > 1.5 * b  # criticality 0.8 against 0.2 for the main user


def test_kiuchi_carve_out_axis_equals_run(tmp_path):
    """The issue's case on the shipped Nomura scenario: 660 bn yen with the shipped file and
    the run's own figure with a second file (the old sweep gave 660 for both)."""
    src = sc.scenario.scenario_dir() / "data" / "rare_earths.toml"
    other = tmp_path / "rare_earths_hi.toml"
    text = src.read_text(encoding="utf-8")
    assert "embodied = 0.5, note" in text
    other.write_text(text.replace("embodied = 0.5, note", "embodied = 0.8, note"))
    # a file outside the scenario's folder needs the explicit opt-in
    k = load("kiuchi-2025-3m", allow_outside_data=True).copy_with({"horizon.days": 120})
    res = sc.sweep(k, grid={"table.carve_out": ["data/rare_earths.toml", str(other)]})
    for f in ("data/rare_earths.toml", str(other)):
        ref = k.copy_with({"table.carve_out": f}).run()
        np.testing.assert_allclose(float(res.gdp_loss_total.sel({"table.carve_out": f})),
                                   float(ref.gdp_loss_total), rtol=RTOL, atol=0)
    lo, hi = res.gdp_loss_total_jpy.values / 1e9
    assert 600 < lo < 720 and hi > 1.2 * lo


# ------------------------------------------------------------------------------ item 4
def _race(root: str, barrier, results) -> None:
    lock = sweeps._FolderLock(Path(root))
    barrier.wait()
    try:
        lock.acquire()
        results.put(("held", os.getpid()))
    except DesignError as exc:
        results.put(("refused", str(exc)))
    barrier.wait()  # everyone has tried before the holder lets go
    lock.release()


def test_folder_lock_one_holder_among_racing_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 6
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(tmp_path), barrier, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in range(n)]
    for p in procs:
        p.join(60)
    held = [r for r in got if r[0] == "held"]
    assert len(held) == 1, got
    for kind, msg in got:
        if kind == "refused":
            assert f"pid {held[0][1]} on host {socket.gethostname()}" in msg
    assert not (tmp_path / "sweep.lock").exists()


def test_folder_lock_stale_and_foreign_holders(tmp_path, monkeypatch):
    path = tmp_path / "sweep.lock"
    host = socket.gethostname()
    # a dead process on this host: taken over
    path.write_text(json.dumps({"pid": _dead_pid(), "host": host, "started": "then",
                                "token": "x"}))
    lock = sweeps._FolderLock(tmp_path)
    lock.acquire()
    assert json.loads(path.read_text())["token"] == lock.mine["token"]
    lock.release()
    assert not path.exists() and list(tmp_path.iterdir()) == []
    # a live pid that is another process than the one that took the lock: stale
    path.write_text(json.dumps({"pid": os.getpid(), "host": host, "started": "then",
                                "proc_start": "1", "token": "y"}))
    lock = sweeps._FolderLock(tmp_path)
    lock.acquire()
    lock.release()
    # a live holder, or a holder on another host (which cannot be checked): refused
    for holder in ({"pid": os.getpid(), "host": host, "started": "now", "token": "z"},
                   {"pid": 1, "host": "elsewhere.example", "started": "today", "token": "w"}):
        path.write_text(json.dumps(holder))
        with pytest.raises(DesignError, match=rf"in use by another sweep: pid {holder['pid']} "
                                              rf"on host {holder['host']}, started "
                                              rf"{holder['started']} \(lock file "
                                              rf"{re.escape(str(path))}\)"):
            sweeps._FolderLock(tmp_path).acquire()
        assert json.loads(path.read_text()) == holder  # left alone
    # an unreadable lock file: refused after a short wait, naming the file
    monkeypatch.setattr(sweeps._FolderLock, "unreadable_wait", 0.2)
    path.write_text("")
    with pytest.raises(DesignError, match=rf"the lock file {re.escape(str(path))} is "
                                          r"unreadable"):
        sweeps._FolderLock(tmp_path).acquire()


# ------------------------------------------------------------------------------ failed starts
def test_unreachable_scheduler_leaves_nothing(scen, tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    out = tmp_path / "new" / "s"
    empty = tmp_path / "empty"
    empty.mkdir()
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        for o in (out, empty):
            with pytest.raises(DesignError, match="cannot connect to a Dask scheduler"):
                sc.sweep(scen, executor="dask", scheduler="tcp://127.0.0.1:9", out=o, **SAMPLED)
    assert not out.exists() and list(empty.iterdir()) == []


def test_unreadable_swept_input_is_refused_before_anything_is_written(scen, tmp_path):
    out = tmp_path / "s"
    with pytest.raises(DesignError, match=r"table\.carve_out = 'nope\.toml': .*nope\.toml: "
                                          r"carve-out data file not found"):
        sc.sweep(scen, grid={"table.carve_out": ["carve.toml", "nope.toml"]}, out=out)
    assert not out.exists()


# ------------------------------------------------------------------------------ property
_KINDS_OK = ("none", "truncate_chunk", "flip_chunk_byte", "delete_chunk", "swap_chunks",
             "copy_chunk_over", "drop_chunk_record", "edit_chunk_record", "stale_lock",
             "stray_tmp")
_KINDS_REFUSED = ("truncate_manifest", "empty_manifest", "delete_manifest",
                  "edit_manifest_design", "edit_manifest_fingerprint", "edit_input")


@st.composite
def _designs(draw):
    chunk_size = draw(st.integers(1, 3))
    if draw(st.booleans()):
        shares = draw(st.lists(st.sampled_from([0.2, 0.4, 0.6, 0.8, 1.0]), min_size=1,
                               max_size=3, unique=True))
        grid = {"shocks.0.share": shares}
        if draw(st.booleans()):
            grid["table.carve_out"] = draw(st.sampled_from(
                [["carve.toml"], ["carve2.toml", "carve.toml"]]))
        if len(shares) * len(grid.get("table.carve_out", [1])) < 2:
            grid["model.inventory_days"] = [1.5, 3.0]
        return {"grid": grid, "chunk_size": chunk_size}
    return {"ranges": {"shocks.0.share": (0.1, 1.0),
                       "model.inventory_days": (1.0, draw(st.sampled_from([4.0, 8.0])))},
            "samples": draw(st.integers(2, 6)), "seed": draw(st.integers(0, 3)),
            "method": draw(st.sampled_from(["lhs", "random"])), "chunk_size": chunk_size}


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "sweep.lock"}


def _damage(out: Path, scen: Path, kind: str, data) -> int:
    """Damage the folder (or an input file); return how many chunks must be recomputed."""
    chunks = sorted((out / "chunks").glob("chunk-*.npz"))
    mpath = out / "manifest.json"
    man = json.loads(mpath.read_text())
    pick = lambda: data.draw(st.sampled_from(chunks))  # noqa: E731
    if kind == "none":
        return 0
    if kind in ("swap_chunks", "copy_chunk_over") and len(chunks) < 2:
        kind = "delete_chunk"
    if kind == "truncate_chunk":
        c = pick()
        raw = c.read_bytes()
        c.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
        return 1
    if kind == "flip_chunk_byte":
        c = pick()
        raw = bytearray(c.read_bytes())
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= 0xFF
        c.write_bytes(bytes(raw))
        return -1  # 0 or 1: a byte the zip reader never looks at changes nothing
    if kind == "delete_chunk":
        pick().unlink()
        return 1
    if kind in ("swap_chunks", "copy_chunk_over"):
        a, b = data.draw(st.lists(st.sampled_from(chunks), min_size=2, max_size=2,
                                  unique=True))
        ra, rb = a.read_bytes(), b.read_bytes()
        b.write_bytes(ra)
        if kind == "swap_chunks":
            a.write_bytes(rb)
            return 2
        return 1
    if kind == "drop_chunk_record":
        del man["chunks"][data.draw(st.sampled_from(sorted(man["chunks"])))]
        mpath.write_text(json.dumps(man))
        return 0
    if kind == "edit_chunk_record":
        k = data.draw(st.sampled_from(sorted(man["chunks"])))
        man["chunks"][k]["sha256"] = "0" * 64
        mpath.write_text(json.dumps(man))
        return 1
    if kind == "stale_lock":
        (out / "sweep.lock").write_text(json.dumps({
            "pid": _dead_pid(), "host": socket.gethostname(), "started": "earlier",
            "token": "t"}))
        return 0
    if kind == "stray_tmp":
        (out / "chunks" / ".tmp-chunk-000000.npz-abcd").write_bytes(b"half")
        return 0
    if kind == "truncate_manifest":
        raw = mpath.read_bytes()
        mpath.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
    elif kind == "empty_manifest":
        mpath.write_text(data.draw(st.sampled_from(["", "[]", "{}", "null", "0"])))
    elif kind == "delete_manifest":
        mpath.unlink()
    elif kind == "edit_manifest_design":
        key = data.draw(st.sampled_from(["design", "options", "scenario_data", "inputs"]))
        man[key] = {"edited": True}
        mpath.write_text(json.dumps(man))
    elif kind == "edit_manifest_fingerprint":
        man["fingerprint"] = "ab" * 32
        mpath.write_text(json.dumps(man))
    elif kind == "edit_input":
        f = scen.parent / "carve.toml"
        f.write_text(f.read_text().replace("embodied = 0.5", "embodied = 0.7"))
    return -2  # refused


# a third of the profile's examples (20 in CI, 333 in the thorough profile): each example
# runs four sweeps and writes a dozen files
@settings(max_examples=max(10, settings.default.max_examples // 3),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(design=_designs(), other=_designs(), kind=st.sampled_from(_KINDS_OK + _KINDS_REFUSED),
       same=st.booleans(), data=st.data())
def test_damaged_folder_resumes_to_the_fresh_result_or_is_refused(design, other, kind, same,
                                                                   data):
    """Random small designs, random damage to the output folder (or to an input file),
    then a resume with the same design or another one: exactly the fresh result (1e-12)
    with the damaged chunks recomputed, or a SimcoreError naming the folder, never a mix."""
    with tempfile.TemporaryDirectory() as d:
        path = _files(Path(d) / "in")
        scen = load(path)  # one table cache for the example (built again if carve.toml changes)
        out = Path(d) / "out"
        fresh = sc.sweep(scen, **design)
        first = sc.sweep(scen, out=out, **design)
        _same(first, fresh)
        expect = _damage(out, path, kind, data)
        again = design if same else other
        if not same and again == design:
            again = {**design, "chunk_size": design["chunk_size"] + 1}
        before = _snapshot(out)
        if expect == -2 or not same:
            with pytest.raises(SimcoreError) as info:
                sc.sweep(scen, out=out, **again)
            assert str(out) in str(info.value), str(info.value)
            assert _snapshot(out) == before  # a refusal writes nothing
            assert kind == "stale_lock" or not (out / "sweep.lock").exists()
            return
        res = sc.sweep(scen, out=out, **again)
        _same(res, fresh)
        _same(xr.load_dataset(out / "result.nc"), fresh)
        if expect >= 0:
            assert res.attrs["chunks_computed"] == expect
        else:
            assert res.attrs["chunks_computed"] <= 1
        assert not (out / "sweep.lock").exists()
        # and the repaired folder resumes without recomputing anything
        assert sc.sweep(scen, out=out, **again).attrs["chunks_computed"] == 0


def test_fingerprint_covers_criticality_and_buffer_files(tmp_path):
    """The criticality and buffers files a scenario names are inputs too: editing one
    between runs is refused, naming it."""
    src = sc.scenario.scenario_dir() / "data"
    d = tmp_path / "in"
    d.mkdir()
    for f in ("criticality.toml", "buffers.toml"):
        shutil.copyfile(src / f, d / f)
    (d / "s.toml").write_text(
        'schema = 1\nname = "crit"\n[table]\ndataset = "japan-2015-37"\n'
        '[[shocks]]\nkind = "capacity_loss"\nsector = "35"\nshare = 0.5\nduration = 10\n'
        '[model]\ncriticality = "criticality.toml"\nbuffers = "buffers.toml"\n'
        'inventory_tau = 10.0\n[horizon]\ndays = 30\n')
    design = dict(ranges={"shocks.0.share": (0.1, 1.0)}, samples=4, seed=1, chunk_size=2)
    out = tmp_path / "sw"
    first = sc.sweep(d / "s.toml", out=out, **design)
    man = json.loads((out / "manifest.json").read_text())
    assert {"model.criticality=criticality.toml", "model.buffers=buffers.toml"} <= set(
        man["inputs"])
    for f, old, new in (("criticality.toml", "important = 0.5", "important = 0.6"),
                        ("buffers.toml", "days = 20.0", "days = 25.0")):
        text = (d / f).read_text()
        (d / f).write_text(text.replace(old, new, 1))
        with pytest.raises(DesignError, match=rf"{re.escape(str((d / f).resolve()))} "
                                              rf"\(model\.\w+\) has changed"):
            sc.sweep(d / "s.toml", out=out, **design)
        (d / f).write_text(text)
    again = sc.sweep(d / "s.toml", out=out, **design)
    assert again.attrs["chunks_resumed"] == 2
    _same(again, first)
