"""Fuzzing the scenario parser and the table loaders, with hypothesis, on a fixed budget.

Contract: whatever the input, a loader either succeeds or raises a
:class:`~simcore.errors.SimcoreError` subclass; any other exception is a bug.

* ``simcore.scenario.load`` on mutated scenario dicts (keys deleted, unknown keys added,
  values replaced by values of every JSON/TOML type, NaN and inf included), then the
  lowering of what loads (``shocks()``, ``params()``) and, on the two-sector table, a run;
* ``simcore.scenario.load`` on mutated TOML text (characters inserted, deleted, replaced;
  lines duplicated or dropped);
* ``simcore.tables.from_csv`` on mutated long-layout CSV text, and on random cells.

Budget: ``SIMCORE_FUZZ_EXAMPLES`` examples per test (default 120; CI keeps the default so
the whole ``tests/robustness`` folder stays within its time).  Raise it for a longer
campaign, e.g. ``SIMCORE_FUZZ_EXAMPLES=5000 pytest tests/robustness/test_fuzz.py``.
"""

from __future__ import annotations

import copy
import math
import os
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore.errors import SimcoreError

# Any SimcoreWarning is a success here; the contract is about exceptions.  (The
# inventory_days = inventory_tau = 1 corner no longer warns: stocks under 1.5 days with
# inventory_tau under 2 days are a ParameterError.  The ARIO engine can still warn.)
pytestmark = pytest.mark.filterwarnings("ignore::simcore.errors.SimcoreWarning")

FUZZ = int(os.environ.get("SIMCORE_FUZZ_EXAMPLES", "120"))
fuzz_settings = settings(max_examples=FUZZ, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])

BASE = {
    "schema": 1, "name": "fuzz", "title": "t", "illustrative": True,
    "table": {"dataset": "miller-blair-2.3", "gdp_denominator": 2050.0},
    "shocks": [
        {"kind": "capacity_loss", "sector": "1", "share": 0.5, "start": 0.0,
         "duration": 10.0, "profile": "step"},
        {"kind": "import_cut", "product": "2", "origin": "CHN", "share": 1.0,
         "duration": 5.0, "profile": "ramp", "ramp_days": 2.0},
        {"kind": "demand_change", "sector": "2", "change": -0.2, "duration": 3.0,
         "target": "exports"},
    ],
    "model": {"inventory_days": 10.0, "inventory_tau": 10.0, "dependency": 1.0,
              "rationing": "proportional", "import_origins": {"2": {"CHN": 0.6}},
              "stockpiles": {"2": {"days": 5.0, "release_rate": 0.5}},
              "substitution": {"2": {"headroom": 0.5, "lag_days": 1.0, "tau_days": 5.0}},
              "dependency_by_product": {"1": {"2": 0.5, "*": 1.0}},
              "inventory_days_by_product": {"2": 3.0}},
    "horizon": {"days": 30, "record": ["output", "imports", "stocks"]},
}

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["auto", "step", "ramp", "1", "2", "CHN", "ROW", "japan-2015-37",
                     "import_cut", "capacity_loss", "demand_change", "firms_first", "*",
                     "output", "stocks", "", "NaN"]),
    st.sampled_from([0, 1, -1, 0.5, 1.5, 100, 36500, 36501, 1e300, -0.0]),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _paths(d, prefix=()):
    """Every (path, container) in a nested dict/list."""
    out = [prefix]
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, prefix + (i,))
    return out


def _get(d, path):
    for p in path:
        d = d[p]
    return d


@st.composite
def mutated_scenarios(draw):
    d = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4), label="mutations")):
        paths = [p for p in _paths(d) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths), label="path")
        parent = _get(d, path[:-1])
        op = draw(st.sampled_from(["delete", "replace", "add"]), label="op")
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(_values, label="value")
        else:
            target = _get(d, path)
            if isinstance(target, dict):
                key = draw(st.one_of(st.text(max_size=8), st.sampled_from(
                    ["days", "share", "origin", "sector", "product", "kind", "RE", "1"])))
                target[key] = draw(_values, label="value")
            elif isinstance(target, list):
                target.append(draw(_values, label="value"))
            else:
                parent[path[-1]] = draw(_values, label="value")
    return d


def _exercise(s) -> None:
    """Lower (and, on the small table, run) a scenario that loaded."""
    s.shocks()
    s.params()
    if s.data["table"]["dataset"] == "miller-blair-2.3" and "carve_out" not in s.data["table"]:
        res = s.run()
        assert all(math.isfinite(v) for v in res.gdp_loss.values)


@fuzz_settings
@given(d=mutated_scenarios())
def test_fuzz_scenario_dicts(d):
    try:
        s = sc.scenario.load(d)
        _exercise(s)
    except SimcoreError:
        pass


def test_base_scenario_is_valid():
    res = sc.scenario.load(BASE).run()
    assert float(res.gdp_loss_total) > 0


# --------------------------------------------------------------------------------------
# TOML text
# --------------------------------------------------------------------------------------
TOML = textwrap.dedent('''\
    schema = 1
    name = "fuzz"
    title = "fuzzed"
    [table]
    dataset = "miller-blair-2.3"
    [[shocks]]
    kind = "import_cut"
    product = "2"
    origin = "CHN"
    share = 1.0
    duration = 5.0
    [[shocks]]
    kind = "capacity_loss"
    sector = "1"
    share = 0.25
    duration = 12.5
    profile = "linear_recovery"
    recovery_days = 4
    [model]
    inventory_days = 7.0
    import_origins = { "2" = { CHN = 0.6 } }
    stockpiles = { "2" = { days = 5.0 } }
    [horizon]
    days = "auto"
    tail_days = 30
    max_days = 400
    record = ["output", "stocks"]
    ''')

_chars = st.sampled_from(list('=[]{}"\',.#\n -_0123456789aeEinfNtrue\\\t\x00é'))


@st.composite
def mutated_text(draw, text: str):
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4), label="mutations")):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line"]))
        if op in ("dup_line", "drop_line") and lines:
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dup_line":
                lines.insert(i, lines[i])
            else:
                del lines[i]
            continue
        s = "".join(lines)
        i = draw(st.integers(0, max(len(s) - 1, 0)))
        if op == "insert":
            s = s[:i] + draw(st.text(_chars, min_size=1, max_size=4)) + s[i:]
        elif op == "delete":
            s = s[:i] + s[i + draw(st.integers(1, 6)):]
        else:
            s = s[:i] + draw(_chars) + s[i + 1:]
        lines = s.splitlines(keepends=True)
    return "".join(lines)


@fuzz_settings
@given(text=mutated_text(TOML))
def test_fuzz_scenario_toml(tmp_path, text):
    p = tmp_path / "fuzz.toml"
    p.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        s = sc.scenario.load(p)
        _exercise(s)
    except SimcoreError:
        pass


def test_base_toml_is_valid(tmp_path):
    p = tmp_path / "fuzz.toml"
    p.write_text(TOML)
    assert float(sc.scenario.load(p).run().gdp_loss_total) > 0


# --------------------------------------------------------------------------------------
# CSV text
# --------------------------------------------------------------------------------------
CSV = textwrap.dedent("""\
    row_code,row_type,col_code,col_type,value
    1,sector,1,sector,150.0
    1,sector,2,sector,500.0
    2,sector,1,sector,200.0
    2,sector,2,sector,100.0
    1,sector,f,final_demand,350.0
    2,sector,f,final_demand,1700.0
    1,sector,ex,export,10.0
    1,sector,im,import,-10.0
    va,value_added,1,sector,650.0
    va,value_added,2,sector,1400.0
    """)


@fuzz_settings
@given(text=mutated_text(CSV))
def test_fuzz_csv_text(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    try:
        sc.tables.from_csv(p)
    except SimcoreError:
        pass


_codes = st.sampled_from(["1", "2", "3", "f", "va", "", " ", "1.0", "nan", "NA", "é"])
_types = st.sampled_from(["sector", "value_added", "final_demand", "export", "import", "x",
                          ""])
_cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["", "abc", "1e400", "-0", "1,5", '"3"', "0x10"]))


@fuzz_settings
@given(rows=st.lists(st.tuples(_codes, _types, _codes, _types, _cells), max_size=12))
def test_fuzz_csv_cells(tmp_path, rows):
    p = tmp_path / "t.csv"
    p.write_text("row_code,row_type,col_code,col_type,value\n"
                 + "".join(",".join(r) + "\n" for r in rows))
    try:
        sc.tables.from_csv(p)
    except SimcoreError:
        pass


def test_base_csv_is_valid(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(CSV)
    assert sc.tables.from_csv(p).sizes["sector"] == 2
