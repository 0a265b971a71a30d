"""Published figures as tests: ``simcore reproduce PATH``, the pytest plugin
(``--simcore-references``) and :mod:`simcore.testing`.

The plugin runs in temporary projects through pytest's ``pytester`` in a subprocess (as a
researcher's own ``pytest`` would), on fast scenarios: Miller & Blair's two-sector table and a
10-day cut on the 185-sector table for the calibration.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simcore import references
from simcore.cli import main
from simcore.errors import ScenarioError
from simcore.testing import ReferenceMismatch, assert_reproduces, scenario_result

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "reference-project"
TEXTBOOK = EXAMPLE / "scenarios" / "textbook-demand-drop.toml"
CARVE = (ROOT / "scenarios" / "data" / "rare_earths.toml").as_posix()

# A 10-day magnet cut on the 185-sector table, fast to calibrate.  Its figures are test
# inputs, not published figures: the target is reachable by the calibration, the share is
# what the same model gives (loss / GDP of the table), and cal-from.toml's loss is
# deliberately wrong.
CAL = f'''schema = 1
name = "fast-cal"
[table]
dataset = "japan-2015-185"
carve_out = "data/rare_earths.toml"  # the shipped file (relative names fall back to it)
[[shocks]]
kind = "import_cut"
product = "MAG"
origin = "CHN"
share = 1.0
duration = {{duration}}
[model]
inventory_days = 1.0
carved_inventory_days = 1.0
inventory_tau = 1e6
dependency = 0.5
dependency_scale = 0.2
[horizon]
days = 20
record = ["output"]
'''
CAL_TARGET = CAL.format(duration=10.0) + '''
[calibration]
parameter = "dependency_scale"
target_id = "fast-cal-loss"
bounds = [0.0, 5.0]

[[reference]]
id = "fast-cal-loss"
quantity = "gdp_loss_total"
published = 100e9
unit = "JPY"
tolerance = 1e9
source = "test input: a target for the calibration"

[[reference]]
id = "fast-cal-share"
quantity = "gdp_loss_share"
published = 0.0001876
unit = "fraction"
tolerance = 0.000002
source = "test input: 100 bn yen over the table's GDP of about 533 tn yen"
'''
CAL_FROM = CAL.format(duration=15.0).replace('name = "fast-cal"', 'name = "fast-cal-from"') + '''
[calibration]
from = "cal.toml"

[[reference]]
id = "fast-from-loss"
quantity = "gdp_loss_total"
published = 1e9
unit = "JPY"
tolerance = 1e6
source = "test input: deliberately wrong"
'''
NOT_A_SCENARIO = '[tool.something]\nname = "not a scenario"\n'
NO_REFS = TEXTBOOK.read_text().split("[[reference]]")[0].replace(
    'name = "textbook-demand-drop"', 'name = "no-refs"')


def _project(root: Path) -> Path:
    """refs/: a passing figure, a calibrated target and a prediction from it, a failing
    prediction fed by another file's calibration, a file with no references and a TOML file
    that is not a scenario."""
    refs = root / "refs"
    (refs / "calib").mkdir(parents=True)
    (refs / "other").mkdir()
    shutil.copy(TEXTBOOK, refs / "textbook.toml")
    (refs / "calib" / "cal.toml").write_text(CAL_TARGET)
    (refs / "calib" / "cal-from.toml").write_text(CAL_FROM)
    (refs / "other" / "no-refs.toml").write_text(NO_REFS)
    (refs / "other" / "settings.toml").write_text(NOT_A_SCENARIO)
    return refs


EXPECTED = {  # id: passes
    "mb-2.3-demand-drop-gdp-share": True,
    "fast-cal-loss": True,
    "fast-cal-share": True,
    "fast-from-loss": False,
}
_ITEM = re.compile(r"^(\S+\.toml)::(\S+) (PASSED|FAILED)", re.MULTILINE)
# conftest of the temporary project: count the scenario runs of the session, then run
# `simcore reproduce --json` on the same files (a fresh cache) for the comparison
CONFTEST = '''
import contextlib, io
from pathlib import Path

def pytest_terminal_summary(terminalreporter):
    from simcore import references
    from simcore.cli import main
    r = references.default_runner()
    terminalreporter.write_line(f"SIMCORE-RUNS {r.runs} CALIBRATIONS {len(r._calibrations)}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["reproduce", "refs/calib", "refs/other", "refs/textbook.toml", "--json"])
    Path("reproduce.json").write_text(out.getvalue())
    terminalreporter.write_line(f"REPRODUCE-EXIT {rc}")
'''


def _items(text: str) -> dict[str, tuple[str, bool]]:
    return {m[2]: (m[1], m[3] == "PASSED") for m in _ITEM.finditer(text)}


# --------------------------------------------------------------------------------------
# the plugin, in a subprocess (no simcore work in-process in these tests: pytester restores
# sys.modules after each test)
# --------------------------------------------------------------------------------------
def test_plugin_collects_each_reference_and_agrees_with_reproduce(pytester):
    refs = _project(pytester.path)
    (refs / "typo").mkdir()
    (refs / "typo" / "typo.toml").write_text(
        TEXTBOOK.read_text().replace("\npublished =", "\npublised ="))
    pytester.makeconftest(CONFTEST)
    res = pytester.runpytest_subprocess("--simcore-references", "refs", "-v",
                                        "--continue-on-collection-errors",
                                        "-p", "no:cacheprovider")
    text = res.stdout.str()
    res.assert_outcomes(passed=3, failed=1, errors=1)
    items = _items(text)
    assert {k: v[1] for k, v in items.items()} == EXPECTED, text
    assert items["fast-cal-loss"][0] == "refs/calib/cal.toml"
    assert items["mb-2.3-demand-drop-gdp-share"][0] == "refs/textbook.toml"
    # four figures from three scenario runs; two calibration records (cal.toml and the file
    # that takes its value), the fit itself run once
    assert "SIMCORE-RUNS 3 CALIBRATIONS 2" in text
    # the failure reads like a pytest failure and says what was compared
    fail = text[text.index("= FAILURES ="):]
    for part in ("NOT reproduced: fast-from-loss (gdp_loss_total, predicted)",
                 "published:  1e+09 JPY (1.0 bn yen)", "model:", "tolerance:  +/- 1e+06 JPY",
                 "scenario:   fast-cal-from (", "cal-from.toml)",
                 "overrides:  model.dependency_scale = ",
                 "fitted to fast-cal-loss in ", "source:     test input: deliberately wrong"):
        assert part in fail, (part, fail)
    assert "Traceback" not in fail and "runtest" not in fail
    assert "FAILED refs/calib/cal-from.toml::fast-from-loss" in text
    # a typo: a collection error naming the file and the key
    assert "ERROR collecting refs/typo/typo.toml" in text
    assert re.search(r"typo\.toml: missing required key reference\[0\]\.published \(unknown "
                     r"key 'reference\[0\]\.publised' given instead: a typo\?\)", text), text

    # simcore reproduce on the same files: the same rows, the same verdicts
    assert "REPRODUCE-EXIT 1" in text
    rows = json.loads((pytester.path / "reproduce.json").read_text())
    assert {r["id"]: r["ok"] for r in rows} == EXPECTED
    assert [r["id"] for r in rows] == list(items)  # and in the same order
    assert [r["fitted"] for r in rows if r["id"] == "fast-cal-loss"] == [True]
    assert not any(r["fitted"] for r in rows if r["id"] != "fast-cal-loss")


def test_example_project_passes_k_selects_and_a_wrong_figure_fails(pytester):
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    wrong = pytester.path / "wrong" / "textbook-demand-drop.toml"
    wrong.parent.mkdir()
    wrong.write_text(re.sub(r"(?m)^published = \S+", "published = 0.0900",
                            TEXTBOOK.read_text()))
    res = pytester.runpytest_subprocess("-v", "--simcore-references", "wrong",
                                        "-p", "no:cacheprovider")
    res.assert_outcomes(passed=4, failed=1)
    text = res.stdout.str()
    assert sorted((m[1], m[3]) for m in _ITEM.finditer(text)) == [
        ("scenarios/textbook-demand-drop.toml", "PASSED"),
        ("wrong/textbook-demand-drop.toml", "FAILED")]
    assert "NOT reproduced: mb-2.3-demand-drop-gdp-share (gdp_loss_share, predicted)" in text
    assert "published:  0.09 (9.0000 %)" in text
    assert "scenario:   textbook-demand-drop (" in text
    # -k selects figures by file and id
    res = pytester.runpytest_subprocess("-v", "--simcore-references", "wrong", "-k",
                                        "wrong and gdp", "-p", "no:cacheprovider")
    res.assert_outcomes(failed=1, deselected=4)


def test_plugin_is_off_unless_asked_for(pytester):
    _project(pytester.path)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    res = pytester.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    res.assert_outcomes(passed=1)
    assert ".toml" not in res.stdout.str()


def test_loading_the_plugin_imports_nothing_heavy():
    code = ("import sys, simcore.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.startswith(('simcore.', 'numpy', "
            "'xarray', 'numba', 'scipy', 'pandas'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['simcore._version', 'simcore.pytest_plugin']", out


def test_missing_reference_path_is_a_usage_error(pytester):
    res = pytester.runpytest_inprocess("--simcore-references", "nope", "-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "nope: no such scenario file or folder" in res.stderr.str()


def test_folder_without_references_collects_nothing(pytester):
    refs = pytester.path / "refs"
    refs.mkdir()
    (refs / "no-refs.toml").write_text(NO_REFS)
    (refs / "settings.toml").write_text(NOT_A_SCENARIO)
    pytester.makeini("[pytest]\nsimcore_references = refs\n")
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.NO_TESTS_COLLECTED


# --------------------------------------------------------------------------------------
# simcore reproduce and simcore.testing, in-process (Miller & Blair: fast)
# --------------------------------------------------------------------------------------
def test_reproduce_recurses_and_prints_rows(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(TEXTBOOK, tmp_path / "a" / "b" / "deep.toml")
    (tmp_path / "a" / "no-refs.toml").write_text(NO_REFS)
    assert main(["reproduce", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["mb-2.3-demand-drop-gdp-share"]
    assert list(rows[0]) == ["id", "published", "model", "unit", "rel_error", "tolerance",
                             "fitted", "ok", "median", "band", "draws", "scenario",
                             "fitted_parameters"]
    # no rare-earth carve-out: the posterior does not apply, no band
    assert rows[0]["band"] is None and rows[0]["median"] is None and rows[0]["draws"] is None
    assert rows[0]["ok"] is True and rows[0]["fitted"] is False
    assert rows[0]["fitted_parameters"] == []  # nothing is fitted in this file
    assert main(["reproduce", str(tmp_path / "a" / "b" / "deep.toml")]) == 0
    out = capsys.readouterr().out
    assert "deep.toml  (textbook-demand-drop)" in out
    assert re.search(r"mb-2\.3-demand-drop-gdp-share +8\.2927 % +8\.\d{4} % .* predicted +PASS",
                     out), out
    assert "all 1 reference figures reproduced" in out
    # a file and the folder holding it: each figure once
    assert main(["reproduce", str(tmp_path), str(tmp_path / "a" / "b" / "deep.toml"),
                 "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["reproduce", str(tmp_path / "missing")]) == 2
    assert "missing: no such scenario file or folder" in capsys.readouterr().err


def test_reproduce_typo_and_empty_folder_are_errors(tmp_path, capsys):
    (tmp_path / "typo.toml").write_text(TEXTBOOK.read_text().replace("\npublished =",
                                                                      "\npublised ="))
    assert main(["reproduce", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert ("typo.toml: missing required key reference[0].published (unknown key "
            "'reference[0].publised' given instead: a typo?)") in err
    (tmp_path / "typo.toml").unlink()
    (tmp_path / "no-refs.toml").write_text(NO_REFS)
    (tmp_path / "settings.toml").write_text(NOT_A_SCENARIO)
    assert main(["reproduce", str(tmp_path), "--json"]) == 2
    captured = capsys.readouterr()
    # --json mode: the error is one JSON object on stdout (and the message on stderr)
    err = json.loads(captured.out)["error"]
    assert err["kind"] == "user" and err["exit_code"] == 2
    assert "no [[reference]] figures found in 1 scenario file(s)" in err["message"]


def test_assert_reproduces_and_cached_result():
    references.reset()
    check = assert_reproduces(TEXTBOOK, "mb-2.3-demand-drop-gdp-share")
    assert check.ok and check.role == "predicted"
    assert [c.ref.id for c in assert_reproduces(str(TEXTBOOK))] == [check.ref.id]
    # a tolerance of one's own: 1e-6 relative is too tight for the daily engine
    with pytest.raises(ReferenceMismatch, match=r"(?s)NOT reproduced.*tolerance:  \+/- "
                                                r"8\.29268e-08.*\(the file says \+/- 0\.0004"):
        assert_reproduces(TEXTBOOK, rtol=1e-6)
    assert_reproduces(TEXTBOOK, atol=0.001)
    with pytest.raises(ScenarioError, match=r"textbook-demand-drop\.toml: no \[\[reference\]\] "
                                            r"with id 'nope'; ids: mb-2\.3"):
        assert_reproduces(TEXTBOOK, "nope")
    with pytest.raises(ScenarioError, match="rtol = -1"):
        assert_reproduces(TEXTBOOK, rtol=-1)
    # one run for all of the above; the result is the one the checks used
    runner = references.default_runner()
    assert runner.runs == 1
    res = scenario_result(TEXTBOOK)
    assert res is scenario_result(str(TEXTBOOK)) and runner.runs == 1
    assert float(res.gdp_loss_share) == pytest.approx(check.model)
    other = scenario_result(TEXTBOOK, {"shocks.0.change": -0.2})
    assert runner.runs == 2 and float(other.gdp_loss_share) > float(res.gdp_loss_share)


def test_file_without_references_is_an_error_for_assert_reproduces(tmp_path):
    f = tmp_path / "no-refs.toml"
    f.write_text(NO_REFS)
    with pytest.raises(ScenarioError, match=r"no-refs\.toml: no \[\[reference\]\] figures"):
        assert_reproduces(f)


@pytest.mark.parametrize("calibration, msg", [
    ('from = "a.toml"\ntarget_id = "x"', r"calibration\.from .* cannot be combined with "
                                         r"calibration\.target_id"),
    ('parameter = "dependency_scale"\ntarget_id = "nope"',
     r"calibration\.target_id 'nope' is not the id of a \[\[reference\]\] \(ids: "
     r"mb-2\.3-demand-drop-gdp-share\)"),
    ('parameter = "dependency_scale"', r"missing required key calibration\.target_id"),
])
def test_calibration_table_is_checked(tmp_path, calibration, msg):
    f = tmp_path / "bad.toml"
    f.write_text(TEXTBOOK.read_text().replace("[[reference]]",
                                              f"[calibration]\n{calibration}\n\n[[reference]]"))
    with pytest.raises(ScenarioError, match=r"bad\.toml: " + msg):
        references.reproduce([f])


def test_duplicate_reference_id_is_rejected(tmp_path):
    text = TEXTBOOK.read_text()
    f = tmp_path / "dup.toml"
    f.write_text(text + "\n[[reference]]" + text.split("[[reference]]")[1])
    with pytest.raises(ScenarioError, match=r"dup\.toml: reference\[1\]\.id "
                                            r"'mb-2\.3-demand-drop-gdp-share' is given twice"):
        references.reproduce([f])


def test_calibration_from_a_file_without_calibration_or_in_a_circle(tmp_path):
    body = TEXTBOOK.read_text().replace("[[reference]]", "[calibration]\nfrom = \"{}\"\n\n"
                                        "[[reference]]")
    (tmp_path / "a.toml").write_text(body.replace("{}", "b.toml"))
    (tmp_path / "b.toml").write_text(body.replace("{}", "a.toml"))
    with pytest.raises(ScenarioError, match=r"a\.toml: calibration\.from goes round in a circle"):
        references.reproduce([tmp_path / "a.toml"])
    (tmp_path / "b.toml").write_text(TEXTBOOK.read_text())
    with pytest.raises(ScenarioError, match=r"a\.toml: calibration\.from 'b\.toml': .*b\.toml "
                                            r"has no \[calibration\]"):
        references.reproduce([tmp_path / "a.toml"])
    with pytest.raises(ScenarioError, match=r"calibration\.from 'missing\.toml': .*missing"
                                            r"\.toml: scenario file not found"):
        (tmp_path / "c.toml").write_text(body.replace("{}", "missing.toml"))
        references.reproduce([tmp_path / "c.toml"])
