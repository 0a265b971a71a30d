"""Smoke test of ``benchmarks/compare.py --quick --json`` (no timing assertions).

Runs the quick benchmark in a subprocess and checks the JSON schema of its output: every
case has the documented fields, and is either valid (a ratio) or says why not (a status),
never a ratio for a failed baseline.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pymrio")
pytest.importorskip("boario")

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "compare.py"
FIELDS = ("name", "n_sectors", "days", "scenarios", "simcore_s", "baseline", "baseline_s",
          "ratio", "simcore_peak_mb", "baseline_peak_mb")


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@pytest.fixture(scope="module")
def quick() -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json"],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_schema(quick):
    cases = quick["cases"]
    assert isinstance(cases, list) and cases
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    for c in cases:
        for f in FIELDS:
            assert f in c, (c["name"], f)
        assert isinstance(c["name"], str) and isinstance(c["baseline"], str)
        assert isinstance(c["n_sectors"], int)
        for f in ("days", "scenarios"):
            assert c[f] is None or (isinstance(c[f], int) and c[f] > 0)
        for f in ("simcore_s", "baseline_s", "ratio", "simcore_peak_mb", "baseline_peak_mb"):
            assert c[f] is None or _num(c[f]), (c["name"], f, c[f])
        assert isinstance(c["status"], str) and c["status"]


def test_valid_or_reported(quick):
    for c in quick["cases"]:
        if c["status"] == "ok":
            assert _num(c["simcore_s"]) and c["simcore_s"] > 0, c
            assert _num(c["baseline_s"]) and c["baseline_s"] > 0, c
            assert _num(c["ratio"]), c
            assert math.isclose(c["ratio"], c["baseline_s"] / c["simcore_s"], rel_tol=1e-9)
        else:
            # a failure or a missing baseline is reported, never given a ratio
            assert c["ratio"] is None, c


def test_cases_present(quick):
    names = {c["name"] for c in quick["cases"]}
    kinds = {n.split("/")[0] for n in names}
    assert {"ario", "batch", "static", "import", "load"} <= kinds
    assert any(c["baseline"].startswith("BoARIO") for c in quick["cases"])
    assert any("reference" in c["baseline"] for c in quick["cases"])
    assert any(c["baseline"].startswith("pymrio") for c in quick["cases"])
    # the simcore side of every quick ARIO case runs
    for c in quick["cases"]:
        if c["name"].startswith(("ario/", "batch/")):
            assert c["status"] == "ok" or c["status"].startswith("baseline"), c


def test_lane_cases_carry_their_bounds(quick):
    """Each ``sc-lanes`` block is timed with its two bounds in the same rounds (the lane
    probe and streaming the lanes' stocks, benchmarks/_probe.py), per scenario-year."""
    lanes = [c for c in quick["cases"] if c["name"].startswith("sc-lanes/")]
    assert lanes
    for c in lanes:
        assert c["status"] == "ok", c
        for f in ("probe_lane_s", "stream_lane_s"):
            assert _num(c[f]) and c[f] > 0, (c["name"], f, c.get(f))
