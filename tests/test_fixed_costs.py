"""Fixed costs of a run: nothing imports dask unless a Dask engine asks for it, and xarray
still recognises dask arrays once dask is imported (``simcore._nodask``).  No timings here:
they are measured in ``benchmarks/startup.py``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


def test_load_and_simulate_do_not_import_dask():
    p = _run("""
        import sys
        import simcore as sc
        t = sc.datasets.load("japan-2015-37")
        r = sc.simulate(t, sc.CapacityShock(sector="35", share=0.1, duration=5), days=10)
        r.output.sum().item(), repr(r)
        assert "dask" not in sys.modules, sorted(m for m in sys.modules if "dask" in m)[:5]
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]


def test_dask_arrays_still_recognised_after_a_late_import():
    pytest.importorskip("dask.array")
    p = _run("""
        import simcore as sc
        sc.datasets.load("japan-2015-37")          # installs the stand-in
        import dask.array as da
        import xarray as xr
        v = xr.DataArray(da.ones((4, 3), chunks=2), dims=("a", "b"))
        assert v.chunks == ((2, 2), (2, 1)), v.chunks
        assert type(v.data).__module__.startswith("dask"), type(v.data)
        assert float((v * 2).sum().compute()) == 24.0
        ds = xr.Dataset({"x": v}).chunk({"a": 1})
        assert ds.x.chunks[0] == (1, 1, 1, 1)
        print("ok")
    """)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]


@pytest.mark.parametrize("argv, code", [(["--help"], 0), (["--version"], 0),
                                        (["run"], 2), (["bogus"], 2),
                                        (["run", "kiuchi-2025-3m", "--top"], 2)])
def test_help_version_and_argument_errors_import_nothing_heavy(argv, code):
    """``simcore --help``, ``--version`` and argument errors answer from the standard
    library and simcore's base layer: the subcommands import numpy, xarray, numba and the
    rest of simcore when they run (``simcore/cli.py``; timings in benchmarks/startup.py)."""
    p = _run(f"""
        import sys
        from simcore.cli import main
        try:
            rc = main({argv!r})
        except SystemExit as exc:
            rc = exc.code
        heavy = sorted(m for m in ("numpy", "xarray", "numba", "pandas", "scipy",
                                   "simcore.scenario", "simcore.tables") if m in sys.modules)
        print("rc", rc, "heavy", heavy, file=sys.stderr)
    """)
    assert f"rc {code} heavy []" in p.stderr, p.stderr[-2000:]
    if argv == ["--version"]:
        assert p.stdout.startswith("simcore ")


_CARVE = """\
[products.RM]
name_en = "A rare metal (test data)"
order = 1

  [products.RM.parents.27]
  output = 20000
  imports = 30000
  [products.RM.parents.27.users]
  "35" = { value_share = 0.5, criticality = 0.8, embodied = 0.5 }

[origins]
RM = { CHN = 0.6 }
"""

_SCEN = """\
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
duration = 10.0

[horizon]
days = 15
"""


def test_copies_of_a_scenario_resolve_a_data_file_once_and_see_its_edits(tmp_path,
                                                                          monkeypatch):
    """A scenario and its copies (band draws, sweep points) resolve each data file name
    once (``Scenario.data_file``); the file's contents are still read on every use, so an
    edit between two copies is seen."""
    from simcore import scenario

    (tmp_path / "carve.toml").write_text(_CARVE, encoding="utf-8")
    (tmp_path / "s.toml").write_text(_SCEN, encoding="utf-8")
    sc = scenario.load(tmp_path / "s.toml")
    calls = []
    real = scenario.Scenario._resolve_data_file
    monkeypatch.setattr(scenario.Scenario, "_resolve_data_file",
                        lambda self, *a: calls.append(a) or real(self, *a))
    spec = sc.carve_spec()
    copies = [sc.copy_with({"model.dependency_scale": 0.5 + 0.1 * k}) for k in range(3)]
    assert all(c.carve_spec() is spec for c in copies)
    assert len(calls) == 1 and copies[0].data_file("carve.toml", "table.carve_out") == \
        (tmp_path / "carve.toml").resolve()
    (tmp_path / "carve.toml").write_text(_CARVE.replace("criticality = 0.8",
                                                        "criticality = 0.3"), encoding="utf-8")
    edited = copies[1].carve_spec()
    assert edited is not spec
    assert edited["products"]["RM"]["parents"]["27"]["users"]["35"]["criticality"] == 0.3
    assert len(calls) == 1


def test_startup_benchmark_times_the_kernels_of_a_run():
    """benchmarks/startup.py's timed command line (no timings asserted): a run reports the
    kernels it called, their calls, their run time and numba's start with their loading, and
    the run's output is the command line's."""
    import importlib
    from pathlib import Path

    bench = str(Path(__file__).resolve().parent.parent / "benchmarks")
    sys.path.insert(0, bench)
    try:
        startup = importlib.import_module("startup")
    finally:
        sys.path.remove(bench)
    t, rc, k = startup.wall(startup.CLI_TIMED + ["run", "kiuchi-2025-3m", "--json"])
    assert rc == 0 and t > 0
    assert k["calls"] >= 1 and k["compiles"] >= 1
    assert k["kernel_s"] > 0 and k["compile_s"] > 0
    assert all(name.startswith("simcore.dynamic.") and v["calls"] >= 1
               for name, v in k["kernels"].items()) and k["kernels"]
    assert sum(v["calls"] for v in k["kernels"].values()) == k["calls"]
    t, rc, k = startup.wall(startup.CLI + ["--help"])
    assert rc == 0 and k is None
