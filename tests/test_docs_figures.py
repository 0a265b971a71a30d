"""Figures quoted in the docs and the README that are not generated at docs-build time
equal what the code prints now (model figures, through the docs' own CLI examples) or what
the committed benchmark record says (timings, which are not rerun).

Model figures of the reproduction and methodology pages are generated at build time
(``docs/_ext/simcore_generated.py``, checked in ``tests/test_docs.py``); the README's are
checked in ``tests/reference/test_propagation.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from simcore.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RECORDS = ROOT / "benchmarks" / "results"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _text_blocks(md: Path) -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", md.read_text(encoding="utf-8"), re.S | re.M)


def test_tutorial_cli_output_is_what_simcore_prints(capsys, monkeypatch):
    """The tutorial's ``simcore reproduce scenarios/`` output, row by row, and its failure
    report's model figure, equal a fresh run of the example project."""
    page = DOCS / "tutorial-reference-tests.md"
    (shown,) = [b for b in _text_blocks(page) if "all 1 reference figures" in b]
    monkeypatch.chdir(DOCS / "examples" / "reference-project")
    assert main(["reproduce", "scenarios/"]) == 0
    printed = capsys.readouterr().out
    assert [_flat(ln).strip() for ln in printed.strip().splitlines()] == \
        [_flat(ln).strip() for ln in shown.strip().splitlines()]
    assert main(["reproduce", "scenarios/", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    report = _flat(page.read_text(encoding="utf-8"))
    assert f"model: {row['model']:.6g} ({100 * row['model']:.4f} %)" in report


def _sweep_record() -> dict:
    return json.loads((RECORDS / "sweeps-latest.json").read_text())


def test_readme_sweep_timings_are_the_record_s():
    """The README quotes the committed sweep benchmark record (docs/sweeps.md renders the
    same record at build time, checked in tests/test_docs.py)."""
    r = _sweep_record()
    assert r["machine"] and r["command_1"] and r["command_2"]
    readme = _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    assert f"({r['local_2']:.0f} scenario-years/s on 2 idle cores" in readme
    assert f"{r['nomura_scenarios']:,}-scenario Latin hypercube of the Nomura case in " \
           f"{r['nomura_s']:.0f} s" in readme


def test_performance_page_is_the_record_rendered():
    """docs/performance.md is exactly what ``benchmarks/compare.py --from-json
    benchmarks/results/latest.json --write`` renders from the committed records
    (latest.json, and startup.json for the command-line section): every timing, ratio and
    memory figure on it is the record's, with the record's date and machine."""
    import importlib

    bench = str(ROOT / "benchmarks")
    sys.path.insert(0, bench)
    try:
        compare = importlib.import_module("compare")
        report = importlib.import_module("_report")
    finally:
        sys.path.remove(bench)
    rec = json.loads((RECORDS / "latest.json").read_text())
    startup = json.loads((RECORDS / "startup.json").read_text())
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert page == report.render(rec, compare.markdown_table(rec)), (
        "docs/performance.md is not the rendering of benchmarks/results/latest.json: run "
        "python benchmarks/compare.py --from-json benchmarks/results/latest.json --write")
    assert f"Run: {rec['date_utc']}" in page and startup["date_utc"] in page
    m = rec["machine"]
    assert f"{m['cores']} cores" in page and str(m["Model name"]).split()[0] in page


def test_engine_speed_ratios_are_the_record_s():
    """The README's ARIO-against-BoARIO ratios are those of the committed benchmark record
    (dated, with its machine)."""
    rec = json.loads((RECORDS / "latest.json").read_text())
    assert rec["date_utc"] and rec["machine"]
    ratio = {c["name"]: c["ratio"] for c in rec["cases"]}
    readme = _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    m = re.search(r"ARIO engine (\d+)x BoARIO on Japan-185, (\d+)x at 3,000 region-sectors",
                  readme)
    assert m, "the README no longer quotes the ARIO speed ratios: update this test"
    assert int(m[1]) == pytest.approx(ratio["ario/japan-185/boario"], abs=0.5)
    assert int(m[2]) == pytest.approx(ratio["ario/synthetic-R10x300/boario"], abs=0.5)
