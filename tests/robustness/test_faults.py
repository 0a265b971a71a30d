"""Faults: every result file is written atomically, and long runs resume.

* ``simcore._atomic``: a child process writing a large file through :func:`atomic_write` is
  killed (SIGKILL) at several moments; the target is then either absent (or still holds its
  previous content) or complete, never truncated.
* A writer that raises half-way leaves the target untouched and no temporary file.
* ``simcore run --out``: the same for the CLI's NetCDF/CSV/Parquet output, by a write that
  fails half-way in-process and by killing the CLI process at several moments.
* ``tables.to_csv`` goes through the same helper.
* Sweeps (``simcore.sweeps``) resume from their finished chunks and recompute a corrupt one.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import simcore as sc
from simcore import _atomic

REPO = Path(__file__).resolve().parents[2]
CHUNK = 1 << 20  # 1 MiB
NCHUNKS = 48


def _payload(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (CHUNK // 32)


def _expected_digest() -> str:
    h = hashlib.sha256()
    for i in range(NCHUNKS):
        h.update(_payload(i))
    return h.hexdigest()


WRITER = textwrap.dedent("""
    import hashlib, sys, time
    from simcore import _atomic
    CHUNK, N = %d, %d
    target, flag = sys.argv[1], sys.argv[2]
    def payload(i):
        return hashlib.sha256(str(i).encode()).digest() * (CHUNK // 32)
    def writer(p):
        with open(p, "wb") as fh:
            for i in range(N):
                fh.write(payload(i)); fh.flush()
                if i == 0:
                    open(flag, "w").close()   # tell the parent the write has begun
                time.sleep(0.002)
    _atomic.atomic_write(target, writer)
    print("done")
""") % (CHUNK, NCHUNKS)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            raise AssertionError(f"writer never started: {proc.communicate()}")
        time.sleep(0.001)


def _state(target: Path, old: bytes | None) -> str:
    if not target.exists():
        return "absent"
    data = target.read_bytes()
    if old is not None and data == old:
        return "old"
    assert hashlib.sha256(data).hexdigest() == _expected_digest(), (
        f"target holds {len(data)} bytes that are neither the old nor the complete content")
    return "complete"


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06, 0.5])
@pytest.mark.parametrize("preexisting", [False, True])
def test_kill_mid_write_leaves_no_partial_file(tmp_path, delay, preexisting):
    target = tmp_path / "result.bin"
    old = b"previous complete result\n" if preexisting else None
    if old is not None:
        target.write_bytes(old)
    flag = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(flag)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    try:
        _wait_for(flag, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        out, err = proc.communicate(timeout=60)
    state = _state(target, old)
    if proc.returncode == -signal.SIGKILL and b"done" not in out:
        assert state in ("absent", "old")
    else:  # the write finished before the kill landed
        assert state == "complete", err
    # at most the temporary file of the killed write is left, never under the target's name
    strays = [p.name for p in tmp_path.iterdir() if p.name not in ("result.bin", "started")]
    assert all(s.startswith(".tmp-result.bin-") for s in strays)


def test_writer_that_raises_leaves_target_and_no_temp(tmp_path):
    target = tmp_path / "r.txt"
    target.write_text("old")

    def bad(p: Path):
        p.write_text("half of it")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _atomic.atomic_write(target, bad)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_atomic_helpers_roundtrip(tmp_path):
    _atomic.atomic_write_text(tmp_path / "a" / "b.txt", "héllo")
    _atomic.atomic_write_bytes(tmp_path / "c.bin", b"\x00\x01")
    assert (tmp_path / "a" / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "c.bin").read_bytes() == b"\x00\x01"


def test_to_csv_is_atomic(tmp_path, mb23, monkeypatch):
    target = tmp_path / "t.csv"
    sc.tables.to_csv(mb23, target)
    good = target.read_text()

    def boom(p: Path, text: str, encoding: str = "utf-8"):
        def writer(q):
            q.write_text(text[: len(text) // 2], encoding=encoding)
            raise OSError("killed")
        return _atomic.atomic_write(p, writer)

    monkeypatch.setattr(_atomic, "atomic_write_text", boom)
    with pytest.raises(OSError, match="killed"):
        sc.tables.to_csv(mb23, target)
    assert target.read_text() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


# --------------------------------------------------------------------------------------
# CLI --out
# --------------------------------------------------------------------------------------
SCENARIO = ('schema = 1\nname = "t"\n[table]\ndataset = "{ds}"\n'
            '[[shocks]]\nkind = "capacity_loss"\nsector = "{sec}"\nshare = 0.5\n'
            'duration = 10\n[horizon]\ndays = {days}\nrecord = ["output", '
            '"final_demand_unmet"]\n')


@pytest.fixture
def scen(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(SCENARIO.format(ds="miller-blair-2.3", sec="1", days=30))
    return p


@pytest.mark.parametrize("suffix", [".nc", ".csv", ".parquet"])
def test_cli_out_failing_write_keeps_previous_result(scen, suffix, monkeypatch, capsys):
    from simcore import cli

    out = scen.parent / f"r{suffix}"
    assert cli.main(["run", str(scen), "--out", str(out), "--json"]) == 0
    good = out.read_bytes()

    real_replace = os.replace

    def die(src, dst):  # the process "dies" after the temporary file is written
        raise OSError("killed before rename")

    monkeypatch.setattr(os, "replace", die)
    assert cli.main(["run", str(scen), "--out", str(out), "--json",
                     "--set", "shocks.0.share=0.9"]) == 2
    assert "cannot write the result" in capsys.readouterr().err
    monkeypatch.setattr(os, "replace", real_replace)
    assert out.read_bytes() == good
    assert sorted(p.name for p in scen.parent.iterdir()) == sorted(["s.toml", out.name])


def test_cli_killed_mid_run_or_write(tmp_path):
    """Kill ``simcore run --out`` at several moments: ``r.nc`` (~16 MB) is absent or a valid,
    complete file; the last run is not killed and must produce it."""
    p = tmp_path / "s.toml"
    p.write_text(SCENARIO.format(ds="japan-2015-185", sec="0111", days=3650))
    out = tmp_path / "r.nc"
    seen = []
    for delay in (1.5, None):
        if out.exists():
            out.unlink()
        proc = subprocess.Popen([sys.executable, "-m", "simcore.cli", "run", str(p),
                                 "--out", str(out), "--json"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if delay is not None:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
        if delay is None:
            assert proc.returncode == 0, err
        if out.exists():
            with xr.open_dataset(out) as ds:
                assert ds.sizes["time"] == 3650 and ds.sizes["sector"] == 185
                assert np.isfinite(ds.output.values).all()
            seen.append("complete")
        else:
            seen.append("absent")
        strays = [q.name for q in tmp_path.iterdir() if q.name not in ("s.toml", "r.nc")]
        assert all(q.startswith(".tmp-r.nc-") for q in strays), strays
    assert seen[-1] == "complete"


# --------------------------------------------------------------------------------------
# Long runs resume (sweeps)
# --------------------------------------------------------------------------------------
def test_sweep_resumes_and_recomputes_a_corrupt_chunk(tmp_path):
    sweeps = pytest.importorskip("simcore.sweeps")
    base = {"schema": 1, "name": "t", "table": {"dataset": "miller-blair-2.3"},
            "horizon": {"days": 60},
            "shocks": [{"kind": "capacity_loss", "sector": "1", "share": 0.5,
                        "duration": 10}]}
    grid = {"shocks.0.share": [0.1, 0.3, 0.5, 0.7, 0.9], "shocks.0.duration": [5.0, 20.0]}
    out = tmp_path / "sw"
    first = sweeps.sweep(base, grid=grid, out=out, chunk_size=3, progress=False)
    chunks = sorted((out / "chunks").glob("chunk-*.npz"))
    assert len(chunks) >= 3
    # a run killed mid-way: one chunk missing, one truncated
    chunks[0].unlink()
    chunks[1].write_bytes(chunks[1].read_bytes()[:100])
    again = sweeps.sweep(base, grid=grid, out=out, chunk_size=3, progress=False)
    np.testing.assert_array_equal(again.gdp_loss_total.values, first.gdp_loss_total.values)
    assert (out / "manifest.json").is_file()
