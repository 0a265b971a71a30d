"""Every figure quoted in the docs and the README equals what the code prints now, or the
committed benchmark record (timings are never rerun).  What is covered, and where:

- Model figures generated when the docs are built (``{simcore-generated}`` tables and
  ``{simcore-value}`` roles of ``docs/_ext/simcore_generated.py``: the reproduction,
  calibration, methodology, robustness and sweeps pages): fresh by construction, and the
  generators raise (failing the build) when a claim the prose makes about them stops
  holding; ``tests/test_docs.py`` checks the headline ones in the built HTML against fresh
  runs and the sweep table against its record.
- Code on the pages: ``pycon`` blocks are doctests and ``python`` blocks run
  (``tests/test_docs.py::test_examples_run``); the tutorial's ``simcore reproduce`` output
  is what the command prints, line by line (here).
- The README's model figures, through the commands it names (``simcore reproduce --json``,
  ``simcore run ... --json``; here) and through the Python API, with the onset of the
  car-line loss (``tests/reference/test_propagation.py``).
- Timing figures: docs/performance.md is the rendering of ``benchmarks/results/latest.json``
  and ``startup.json`` (whole page, with the record's date and machine); the README's sweep
  and ARIO figures are the records'.
- Table figures quoted in prose (GDP, the ``ohcr`` row, negative cells, the spectral
  radius, a multiplier): the embedded data's.
- The audit: a scanner finds every hand-typed figure in the pages' prose (money, onsets,
  "of GDP" shares, ratios, times, ...) and each must be generated, checked by a named test,
  or listed as not a model output of the current code (published, data, definition,
  history) -- ``test_every_quoted_figure_is_generated_checked_or_not_a_model_output``.
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
    assert r["machine"] and r["command"] and r["date_utc"]
    readme = _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    assert f"({r['local_2']:.0f} scenario-years/s on 2 cores (load average " \
           f"{r['load_1min']:.1f} to {r['load_1min_end']:.1f}), {r['date_utc'][:10]}" in readme
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


# --------------------------------------------------------------------------------------
# Every figure quoted in the docs and the README: generated, checked, or not a model output
# --------------------------------------------------------------------------------------
# What this audit covers.  Model figures on the pages come from three places:
#
# - generated when the docs are built (``{simcore-generated}`` tables and
#   ``{simcore-value}`` roles, docs/_ext/simcore_generated.py): they cannot go stale, and
#   tests/test_docs.py checks the headline ones (reproduction page, the methodology and
#   robustness examples, the sweep record) against fresh runs in the built HTML;
# - code blocks: ``pycon`` blocks are doctests and ``python`` blocks run
#   (tests/test_docs.py::test_examples_run), the tutorial's ``simcore reproduce`` output is
#   compared line by line with what the command prints (above);
# - hand-typed prose, which this scanner finds: every money figure (yen, JPY, bn, tn),
#   every ``day N`` onset, every "N days / % / e-N of GDP, output, value added ...", every
#   "Nx" / "N times" ratio, every share with three or more decimals, every time in s or ms
#   and every "N of baseline / of all targets", outside code and outside the generated
#   roles.  Each must be listed below, either as checked (by a named
#   test that compares it with a fresh run or a committed record) or as not a model output
#   of the current code, with the reason.  A new hand-typed figure fails
#   ``test_every_quoted_figure_is_generated_checked_or_not_a_model_output`` until it is
#   generated or classified; a listed figure that is gone fails it too.
#
# docs/performance.md is compared whole with the rendering of its record
# (test_performance_page_is_the_record_rendered); docs/changelog.md is dated release notes,
# whose figures are those of the release each entry describes.
_N = r"[-+−]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"
_RANGE = rf"{_N}(?:\s*(?:–|-|to|/)\s*{_N})?"
FIGURE = re.compile(
    rf"(?<![\w.`/-])(?:{_RANGE}\s*(?:(?:bn|tn|billion|trillion|million|thousand)\s*(?:yen|JPY)"
    rf"|yen|JPY|bn\b|tn\b)"
    rf"|{_RANGE}\s*(?:days?|%|percentage points)\s+(?:of|in)\s+(?:daily\s+|annual\s+|a\s+"
    rf"year's\s+)?(?:GDP|its output|output|value added|the loss|manufacturing)"
    rf"|{_N}\s*(?:x|times)\b(?!\s*\d)"
    rf"|{_N}e-\d+\s+of\s+(?:daily\s+)?(?:GDP|output)"
    rf"|\d+\.\d{{3,}}\s*%"
    rf"|{_N}\s*(?:ms|s)\b(?![-\w])"
    rf"|{_N}\s+(?:\([^)]*\)\s+)?of\s+(?:baseline|all\s+targets)"
    rf"|(?:on|until|by|from|before|after)\s+day\s+\d+)")

PUBLISHED = "a published figure, quoted (Kiuchi 2025; Miller & Blair 2009; Pichler et al.)"
DATA = "a figure of the embedded data or of a cited source, not a model output"
DEFINITION = "part of a definition, a parameter or an example input"
HISTORY = ("a figure of earlier code, quoted as such ('before', 'old', 'when this rule "
           "landed', a tried-and-dropped variant, or a configuration now refused)")
UNIT = "a unit conversion"

NOT_MODEL: dict[tuple[str, str], str] = {
    ("README.md", "660 bn yen"): PUBLISHED,
    ("README.md", "0.11 % of GDP"): PUBLISHED,
    ("README.md", "2.6 tn yen"): PUBLISHED,
    ("README.md", "607.9 tn yen"): DATA,
    ("calibration.md", "660 bn yen"): PUBLISHED,
    ("index.md", "660 billion yen"): PUBLISHED,
    ("index.md", "0.11 % of GDP"): PUBLISHED,
    ("index.md", "2.6 trillion yen"): PUBLISHED,
    ("references.md", "660 billion yen"): PUBLISHED,
    ("references.md", "2.6 trillion yen"): PUBLISHED,
    ("reproduction.md", "660 bn yen"): PUBLISHED,
    ("reproduction.md", "2.6 tn yen"): PUBLISHED,
    ("reproduction.md", "4 times"): PUBLISHED,  # Kiuchi's 1-year / 3-month ratio
    ("reproduction.md", "607.9 tn yen"): DATA,
    ("reproduction.md", "10.7 tn yen"): DATA,  # imports of the broad dual-use scope
    ("reproduction.md", "0.5 % of its output"): DEFINITION,  # the onset threshold
    ("reproduction.md", "3,577 bn"): HISTORY,  # "before the criticality classes ..."
    ("tutorial-reference-tests.md", "8.29 % of a year's GDP"): PUBLISHED,  # textbook
    ("tutorial-reference-tests.md", "660 bn yen"): PUBLISHED,
    ("getting-started.md", "660 bn yen"): PUBLISHED,
    ("getting-started.md", "660,000.0 million JPY"): UNIT,
    ("getting-started.md", "1 bn yen"): UNIT,
    ("getting-started.md", "1,000 million JPY"): UNIT,
    ("data.md", "0.001 billion yen"): DATA,
    ("methodology.md", "on day 91"): DEFINITION,  # a profile's intensity on day 91
    ("methodology.md", "59.0 tn yen"): DATA,
    ("methodology.md", "5–7 thousand yen"): DATA,
    ("methodology.md", "41 bn yen"): DATA,
    ("notation.md", "607.9 trillion yen"): DATA,
    ("robustness.md", "1e-9 of GDP"): DEFINITION,  # a test tolerance
    ("robustness.md", "1e6 times"): DEFINITION,  # the units tried
    ("robustness.md", "1e-12 of output"): DEFINITION,  # a test tolerance
    ("robustness.md", "30 days of GDP"): DEFINITION,  # 30 days of no output, by construction
    ("robustness.md", "99.5 % of the loss"): DEFINITION,  # what "plateau" means there
    ("robustness.md", "500 ms"): DEFINITION,  # when the kill test kills a write
    ("robustness.md", "1.5 s"): DEFINITION,  # when the kill test kills a run
    ("robustness.md", "10 s"): DEFINITION,  # DASK_CONNECT_TIMEOUT_S
    ("robustness.md", "30 s"): HISTORY,  # the old code's connection timeout
    ("robustness.md", "1.2e-4 of output"): HISTORY,  # a dropped property's counterexample
    ("robustness.md", "from day 71"): HISTORY,
    ("robustness.md", "90 % of output"): HISTORY,  # the rule before the first pass
    ("robustness.md", "1.42e-5 of GDP"): HISTORY,  # before the second pass's fix
    ("robustness.md", "2e-4 of daily GDP"): HISTORY,  # thin stocks, now refused
    ("robustness.md", "4e-2 of daily GDP"): HISTORY,
    ("robustness.md", "2e-1 of daily GDP"): HISTORY,
    ("robustness.md", "660 / 660 bn yen"): HISTORY,  # "the old sweep gave"
    ("robustness.md", "24.2 bn yen"): HISTORY,  # "before"
    ("robustness.md", "1e-10 yen"): HISTORY,  # "before"
    ("robustness.md", "660.0 to 660.3 bn yen"): HISTORY,  # "when this rule landed"
    ("robustness.md", "14.6 to 16.2 bn yen"): HISTORY,
}

#: Hand-typed model figures, each compared with a fresh run (or the record) by the test named.
CHECKED: dict[tuple[str, str], str] = {
    ("README.md", "660.0 bn yen"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "0.1086 %"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "2,589 bn yen"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "0.4259 %"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "73 % in manufacturing"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "on day 60"): "tests/reference/test_propagation.py::"
                                "test_readme_figures_match_a_fresh_run",
    ("README.md", "346.3 bn yen"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "3,166.3 bn yen"): "tests/test_docs_figures.py::"
                            "test_readme_figures_are_what_the_cli_prints",
    ("README.md", "31x"): "tests/test_docs_figures.py::test_engine_speed_ratios_are_the_record_s",
    ("README.md", "42x"): "tests/test_docs_figures.py::test_engine_speed_ratios_are_the_record_s",
    # the record's Nomura time, whatever it is (the test checks the README quotes it)
    ("README.md", f"{_sweep_record()['nomura_s']:.0f} s"):
        "tests/test_docs_figures.py::test_readme_sweep_timings_are_the_record_s",
    ("getting-started.md", "15,055,500 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("getting-started.md", "0.73 yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("notation.md", "548,238,714 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("notation.md", "15,055,500 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("notation.md", "533,183,214 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("notation.md", "533.2 trillion yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("data.md", "−6 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
    ("data.md", "−363,050 million yen"):
        "tests/test_docs_figures.py::test_table_figures_in_prose_are_the_data_s",
}


def _prose(page: Path) -> str:
    """The page without code fences, inline code and generated roles (line numbers kept)."""
    s = page.read_text(encoding="utf-8")
    s = re.sub(r"^(`{3,}|~{3,}).*?^\1", lambda m: "\n" * m[0].count("\n"), s,
               flags=re.S | re.M)
    s = re.sub(r"\{simcore-value\}`[^`]*`", "", s)
    return re.sub(r"`[^`\n]*`", "", s)


def _quoted_figures() -> dict[tuple[str, str], list[int]]:
    pages = [p for p in sorted(DOCS.glob("*.md"))
             if p.name not in ("performance.md", "changelog.md")] + [ROOT / "README.md"]
    found: dict[tuple[str, str], list[int]] = {}
    for page in pages:
        for i, line in enumerate(_prose(page).splitlines(), 1):
            for m in FIGURE.finditer(line):
                found.setdefault((page.name, m[0].strip()), []).append(i)
    return found


def test_the_scanner_finds_hand_typed_figures():
    """The audit's scanner itself: it finds the kinds of figure it is meant to find, and
    skips code and generated values."""
    for text in ("costs 64 bn yen over", "gains of 339.2 bn yen", "a GDP of 533,183,214 "
                 "million yen", "first falls on day 60", "loses 7.5 days of its output",
                 "a net gain of 0.54 % of GDP", "8.5e-3 of GDP", "ARIO engine 31x BoARIO",
                 "| 0.1086 % |", "3,577 bn before"):
        assert FIGURE.search(text), text
    for text in ("stocks of 60 days", "a 30 % cut", "inventory_tau = 10", "in 2024"):
        assert not FIGURE.search(text), text
    page = DOCS / "methodology.md"
    assert not [k for k in _quoted_figures() if k[0] == page.name and "339" in k[1]]


def test_every_quoted_figure_is_generated_checked_or_not_a_model_output():
    found = _quoted_figures()
    unclassified = {k: v for k, v in found.items() if k not in NOT_MODEL and k not in CHECKED}
    assert not unclassified, (
        "hand-typed figures in the docs or README that are neither generated at build time "
        "nor checked (page, figure: lines); generate them with {simcore-value} / "
        "{simcore-generated} (docs/_ext/simcore_generated.py), or check them against a fresh "
        "run and list them in CHECKED, or list them in NOT_MODEL with the reason:\n"
        + "\n".join(f"  {k}: {v}" for k, v in sorted(unclassified.items())))
    gone = [k for k in sorted((set(NOT_MODEL) | set(CHECKED)) - set(found))]
    assert not gone, f"listed figures no longer on their page (remove them here): {gone}"
    for (page, fig), test in CHECKED.items():
        path, _, name = test.partition("::")
        src = (ROOT / path).read_text(encoding="utf-8")
        assert f"def {name}(" in src, test
        assert page in src or page.removesuffix(".md") in src, (page, fig, test)


def test_table_figures_in_prose_are_the_data_s():
    """Figures of the embedded tables quoted in prose (getting-started, notation, data)
    equal what the data and simcore.tables give now."""
    import numpy as np

    import simcore as sc

    t37, t185 = sc.datasets.load("japan-2015-37"), sc.datasets.load("japan-2015-185")
    va, gdp = float(t37.V.sum()), float(sc.tables.gdp(t37))
    assert va == float(t185.V.sum()) and gdp == float(sc.tables.gdp(t185))
    notation = _flat((DOCS / "notation.md").read_text(encoding="utf-8"))
    assert f"gross value added is {va:,.0f} million yen. The `ohcr` row is " \
           f"{va - gdp:,.0f} million yen, which leaves a **GDP of {gdp:,.0f} million yen** " \
           f"({gdp / 1e6:,.1f} trillion yen)" in notation
    gs = _flat((DOCS / "getting-started.md").read_text(encoding="utf-8"))
    assert f"The last two numbers differ by {va - gdp:,.0f} million yen" in gs
    n = t37.sizes["sector"]
    c = sc.tables.gdp_coefficients(t37)
    A = sc.tables.technical_coefficients(t37).values
    Am = sc.tables.import_coefficients(t37).values
    i = list(t37.sector.values).index("35")
    mult = float(np.linalg.solve((np.eye(n) - (A - Am)).T, c)[i])
    assert f"about {mult:.2f} yen ends up as Japanese GDP" in gs
    data = _flat((DOCS / "data.md").read_text(encoding="utf-8"))
    neg37 = t37.Z.values[t37.Z.values < 0]
    z = t185.Z.values
    assert len(neg37) == 1 and int(t37.Z.sel(sector="26", sector_to="21")) == int(neg37[0])
    assert (f"(21), −{-neg37[0]:,.0f} million yen. The 185-sector table has "
            f"**{(z < 0).sum()}**, totalling −{-z[z < 0].sum():,.0f} million yen") in data
    A37 = sc.tables.technical_coefficients(t37).values
    rho = float(max(abs(np.linalg.eigvals(A37))))
    assert f"The spectral radius of $A$ for the 37-sector table is {rho:.3f}" in data


def _cli_json(argv: list[str]):
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv + ["--json"])
    assert rc == 0, argv
    return json.loads(buf.getvalue())


def test_readme_figures_are_what_the_cli_prints(monkeypatch):
    """The README's model figures, from the commands it names: ``simcore reproduce`` (the
    table of the four Nomura figures and the fitted scale with its prior), ``simcore run
    kiuchi-2025-3m`` (where the loss lands) and ``simcore run rare-earth-data-driven-3m``
    / ``-12m`` (the data-driven losses), each to the precision the README prints.
    (tests/reference/test_propagation.py checks the same figures through the Python API,
    and the onset of the car-line loss, which no command prints.)"""
    from simcore import references

    monkeypatch.setattr(references, "BAND_DRAWS", 6)  # the bands are not quoted
    readme = _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    rows = {r["id"]: r for r in _cli_json(["reproduce"])}
    l3, s3 = rows["nomura-rare-earth-3m-loss"], rows["nomura-rare-earth-3m-gdp-share"]
    l12, s12 = rows["nomura-rare-earth-12m-loss"], rows["nomura-rare-earth-12m-gdp-share"]
    (fp,) = l3["fitted_parameters"]
    assert (f"| 3-month loss | 660 bn yen | {l3['model'] / 1e9:,.1f} bn yen | yes: "
            f"`{fp['parameter']}` = {fp['value']:.4f} (prior {fp['prior']:g}) |") in readme
    assert f"| 3-month share of GDP | 0.11 % | {100 * s3['model']:.4f} % | no |" in readme
    assert (f"| 1-year loss | 2.6 tn yen | {l12['model'] / 1e9:,.0f} bn yen "
            f"({100 * l12['rel_error']:+.1f} %) | no |".replace("+-", "-")) in readme
    assert f"| 1-year share of GDP | 0.43 % | {100 * s12['model']:.4f} % | no |" in readme
    run = _cli_json(["run", "kiuchi-2025-3m"])
    assert run["unit"] == "million JPY"
    by = {r["sector"]: r["share_of_loss"] for r in run["by_sector"]}
    manuf = sum(v for c, v in by.items() if c in ("RE", "MAG") or 11 <= int(c[:2]) <= 39)
    public = sum(by[c] for c in ("5531", "6111", "6112", "6311", "6411"))
    assert f"{100 * manuf:.0f} % in manufacturing" in readme
    assert f"schools and hospitals carry {100 * public:.1f} %" in readme
    dd3 = _cli_json(["run", "rare-earth-data-driven-3m"])["gdp_loss_total"]
    dd12 = _cli_json(["run", "rare-earth-data-driven-12m"])["gdp_loss_total"]
    assert f"costs {dd3 / 1e3:,.1f} bn yen over 3 months and {dd12 / 1e3:,.1f} bn yen over " \
           "1 year (`simcore run rare-earth-data-driven-3m`)" in readme
