"""Every input surface x every class of bad input -> a simcore exception naming the culprit.

Surfaces: table constructors (``from_arrays``, ``from_pandas``, ``validate``), CSV import
(long and wide layouts), pymrio import, scenario files (TOML and dicts), the engine's
Python API (``simulate``, shocks, parameters), the CLI, and sweep designs.

Classes (issue 8): missing or extra keys and wrong types; NaN or inf; negative shares and
shares over 100 %; unknown sector, product or origin; duplicate labels; unbalanced or
non-productive tables; empty and one-sector tables; horizons of 0 days and 100 years; huge
designs.  Each test asserts the exception class (a :class:`~simcore.errors.SimcoreError`
subclass) and a regex on the message that names the culprit.  ``docs/robustness.md`` has the
inventory as a table.

Real-table quirks (sectors with zero output, zero intermediate use, zero value added;
negative cells from scrap and stock changes) are at the end: each runs through the engine.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcore as sc
import simcore.carve_spec  # noqa: F401  (sc.carve_spec below)
from simcore import tables as tb
from simcore.dynamic.params import DynamicParams
from simcore.errors import (
    BalanceError,
    DesignError,
    KernelError,
    LabelError,
    NegativeOutputError,
    NonFiniteError,
    NonProductiveError,
    ParameterError,
    ScenarioError,
    ShockError,
    SimcoreError,
    TableError,
)

# Miller & Blair Table 2.3
Z = [[150.0, 500.0], [200.0, 100.0]]
Y = [[350.0], [1700.0]]
V = [[650.0, 1400.0]]


def mb(**kw):
    return tb.from_arrays(Z, Y, V, sectors=["a", "b"], unit="$", **kw)


# ======================================================================================
# 1. Table constructors
# ======================================================================================
class TestTableConstructors:
    @pytest.mark.parametrize("bad, var, where", [
        ("Z", "Z", r"\('a', 'a'\)"),
        ("Y", "Y", r"sector 'a'"),
        ("V", "V", r"\(.*va0.*, 'a'\)"),
        ("x", "x", r"sector 'a'"),
    ])
    @pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
    def test_nan_inf(self, bad, var, where, value):
        arrs = {"Z": np.array(Z), "Y": np.array(Y), "V": np.array(V),
                "x": np.array([1000.0, 2000.0])}
        arrs[bad] = arrs[bad].copy()
        arrs[bad].flat[0] = value
        with pytest.raises(NonFiniteError, match=rf"{var} holds a non-finite value at {where}"):
            tb.from_arrays(arrs["Z"], arrs["Y"], arrs["V"], x=arrs["x"], sectors=["a", "b"])

    def test_nan_in_imports_and_exports(self):
        with pytest.raises(NonFiniteError, match=r"M holds a non-finite value at sector 'b'"):
            mb(M=[0.0, np.nan])
        with pytest.raises(NonFiniteError, match=r"E holds a non-finite value at sector 'a'"):
            mb(E=[np.inf, 0.0])

    @pytest.mark.parametrize("kw, cls, msg", [
        (dict(sectors=["a", "a"]), LabelError, r"sectors: duplicate label 'a'"),
        (dict(sectors=[1, "1"]), LabelError, r"duplicate label '1'"),
        (dict(sectors=["a"]), LabelError, r"sectors: got 1 labels for an axis of length 2"),
        (dict(final_demand=["hh", "hh"]), LabelError, r"final_demand: got 2 labels"),
        (dict(name_en=["only one"]), LabelError, r"name_en: got 1 names for 2 sectors"),
    ])
    def test_labels(self, kw, cls, msg):
        kw.setdefault("sectors", ["a", "b"])
        with pytest.raises(cls, match=msg):
            tb.from_arrays(Z, Y, V, **kw)

    def test_duplicate_va_items(self):
        with pytest.raises(LabelError, match=r"va_items: duplicate label 'w'"):
            tb.from_arrays(Z, Y, [[300.0, 700.0], [350.0, 700.0]], va_items=["w", "w"])

    def test_duplicate_regions(self):
        with pytest.raises(LabelError, match=r"regions: duplicate label 'r'"):
            tb.from_arrays(np.zeros((4, 4)), np.ones((4, 2)), np.ones((1, 4)),
                           regions=["r", "r"])

    @pytest.mark.parametrize("args, msg", [
        ((np.zeros((2, 3)), Y, V), r"Z: expected a square 2-D array, got shape \(2, 3\)"),
        ((np.zeros((2, 2, 2)), Y, V), r"Z: expected a square 2-D array"),
        ((None, Y, V), r"Z: expected a square 2-D array, got shape \(\)"),
        ((Z, [[1.0, 2.0, 3.0]], V), r"Y: expected shape \(2, k\*1\), got \(1, 3\)"),
        ((Z, Y, [[1.0, 2.0, 3.0]]), r"V: expected shape \(q, 2\), got \(1, 3\)"),
    ])
    def test_wrong_shapes(self, args, msg):
        with pytest.raises(TableError, match=msg):
            tb.from_arrays(*args)

    def test_wrong_shape_x_E_M(self):
        with pytest.raises(TableError, match=r"x: expected shape \(2,\), got \(3,\)"):
            mb(x=[1.0, 2.0, 3.0])
        with pytest.raises(TableError, match=r"E: expected shape \(2, k\), got \(3, 1\)"):
            mb(E=np.zeros((3, 1)))
        with pytest.raises(TableError, match=r"2 industries is not a multiple of 3 regions"):
            tb.from_arrays(Z, Y, V, regions=["r1", "r2", "r3"])

    def test_non_numeric_cells(self):
        with pytest.raises(TableError, match=r"Z"):
            tb.from_arrays([["a", 500.0], [200.0, 100.0]], Y, V)

    def test_year_wrong_type(self):
        with pytest.raises(TableError, match=r"year"):
            mb(year="abc")

    def test_unbalanced(self):
        with pytest.raises(BalanceError, match=r"row .* balance violated; worst sector 'b' "
                                               r"has residual -100"):
            mb(x=[1000.0, 2100.0])
        with pytest.raises(BalanceError, match=r"worst sector 'a'"):
            tb.from_arrays(Z, [[360.0], [1700.0]], V, x=[1000.0, 2000.0], sectors=["a", "b"])

    def test_non_productive(self):
        # balanced, but A = 0.6 everywhere: spectral radius 1.2
        z = [[600.0, 600.0], [600.0, 600.0]]
        with pytest.raises(NonProductiveError, match=r"spectral radius 1\.2 >= 1 .* at sector"):
            tb.from_arrays(z, [[-200.0], [-200.0]], [[-200.0, -200.0]], x=[1000.0, 1000.0],
                           sectors=["a", "b"])

    def test_negative_output(self):
        with pytest.raises(NegativeOutputError, match=r"sector 'a' has negative gross output -5"):
            tb.from_arrays([[0.0, 0.0], [0.0, 0.0]], [[-5.0], [5.0]], [[-5.0, 5.0]],
                           sectors=["a", "b"])

    def test_empty_table(self):
        with pytest.raises(TableError, match=r"empty table \(no sectors\)"):
            tb.from_arrays(np.zeros((0, 0)), np.zeros((0, 1)), np.zeros((1, 0)))

    def test_one_sector_table_runs(self):
        t = tb.from_arrays([[10.0]], [[90.0]], [[90.0]], sectors=["only"])
        res = sc.simulate(t, sc.CapacityShock(sector="only", share=0.5, duration=10), days=30)
        assert float(res.gdp_loss_total) > 0
        assert np.isfinite(res.gdp_loss.values).all()

    def test_validate_missing_variable(self):
        with pytest.raises(TableError, match=r"missing variable 'E'"):
            tb.validate(mb().drop_vars("E"))

    def test_validate_duplicate_after_edit(self):
        t = mb().assign_coords(sector=["a", "a"], sector_to=["a", "a"])
        with pytest.raises(LabelError, match=r"duplicate sector label 'a'"):
            tb.validate(t)

    def test_validate_wrong_type(self):
        with pytest.raises(TableError):
            tb.validate({"Z": 1})

    # ---------------------------------------------------------------- from_pandas
    def _frames(self, idx=("a", "b")):
        Zd = pd.DataFrame(Z, index=list(idx), columns=list(idx))
        Yd = pd.DataFrame(Y, index=list(idx), columns=["hh"])
        Vd = pd.DataFrame(V, index=["va"], columns=list(idx))
        return Zd, Yd, Vd

    def test_pandas_label_mismatches(self):
        Zd, Yd, Vd = self._frames()
        with pytest.raises(LabelError, match=r"Y: row labels do not match Z's .*'b'"):
            tb.from_pandas(Zd, Yd.rename(index={"b": "c"}), Vd)
        with pytest.raises(LabelError, match=r"V: columns do not match Z's columns .*'b'"):
            tb.from_pandas(Zd, Yd, Vd.rename(columns={"b": "c"}))
        with pytest.raises(LabelError, match=r"Z: row labels and column labels differ"):
            tb.from_pandas(Zd.rename(columns={"b": "c"}), Yd, Vd)

    def test_pandas_duplicates(self):
        Zd, Yd, Vd = self._frames(("a", "a"))
        with pytest.raises(LabelError, match=r"duplicate label 'a'"):
            tb.from_pandas(Zd, Yd, Vd)

    def test_pandas_wrong_type(self):
        with pytest.raises(TableError):
            tb.from_pandas(np.array(Z), np.array(Y), np.array(V))


# ======================================================================================
# 2. CSV import
# ======================================================================================
LONG = textwrap.dedent("""\
    row_code,row_type,col_code,col_type,value
    1,sector,1,sector,150.0
    1,sector,2,sector,500.0
    2,sector,1,sector,200.0
    2,sector,2,sector,100.0
    1,sector,f,final_demand,350.0
    2,sector,f,final_demand,1700.0
    va,value_added,1,sector,650.0
    va,value_added,2,sector,1400.0
    """)


class TestCSV:
    def load(self, tmp_path, text, **kw):
        p = tmp_path / "t.csv"
        p.write_text(text)
        return tb.from_csv(p, **kw)

    def test_roundtrip_ok(self, tmp_path):
        t = self.load(tmp_path, LONG)
        np.testing.assert_allclose(t.x.values, [1000.0, 2000.0])

    @pytest.mark.parametrize("text, cls, msg", [
        ("", TableError, r"t\.csv: cannot parse as CSV"),
        (LONG.replace("col_type,", "", 1), TableError,
         r"t\.csv: line 2 has 5 fields, the header has 4 \(row_code, row_type, col_code, value\)"),
        (LONG.replace("col_type", "kind", 1), TableError,
         r"t\.csv: long layout needs columns row_code, row_type, col_code, col_type, value"),
        # every data row with one field too many: pandas would shift every value left
        (LONG.replace("\n", ",9\n").replace(",value,9", ",value", 1), TableError,
         r"t\.csv: line 2 has 6 fields, the header has 5"),
        (LONG.replace("150.0", "nan"), NonFiniteError, r"line 2: .* \(1, 1\) is not a finite"),
        (LONG.replace("500.0", "inf"), NonFiniteError, r"line 3: .* \(1, 2\) is not a finite"),
        (LONG.replace("150.0", "abc"), NonFiniteError, r"line 2: value 'abc' for \(1, 1\)"),
        (LONG.replace("150.0", ""), NonFiniteError, r"line 2: .*not a finite number"),
        (LONG.replace("value_added", "va", 1), TableError, r"line 8: row_type 'va' not allowed"),
        (LONG.replace("final_demand", "fd", 1), TableError, r"line 6: col_type 'fd' not allowed"),
        (LONG + "1,sector,1,sector,1.0\n", LabelError, r"line 10: duplicate cell \(1, 1\)"),
        (LONG.replace("1,sector,f,final_demand,350.0", "1,sector,f,final_demand,360.0"),
         BalanceError, r"worst sector '1' has residual 10"),
        ('row_code,row_type,col_code,col_type,value\n"1,sector,1,sector,1\n', TableError,
         r"cannot parse as CSV"),
        ("row_code,row_type,col_code,col_type,value\n", TableError, r"empty table"),
    ])
    def test_long_bad(self, tmp_path, text, cls, msg):
        with pytest.raises(cls, match=msg):
            self.load(tmp_path, text)

    def test_unknown_sector(self, tmp_path):
        with pytest.raises(LabelError, match=r"unknown sector '2' in row_code"):
            self.load(tmp_path, LONG, sectors=["1"])

    def test_layout_and_missing_file(self, tmp_path):
        with pytest.raises(TableError, match=r"unknown layout 'foo'"):
            self.load(tmp_path, LONG, layout="foo")
        with pytest.raises(TableError, match=r"nope\.csv: file not found"):
            tb.from_csv(tmp_path / "nope.csv")

    def test_bad_encoding(self, tmp_path):
        p = tmp_path / "t.csv"
        p.write_bytes(b"\xff\xfe\x00abc")
        with pytest.raises(TableError, match=r"t\.csv: cannot parse as CSV"):
            tb.from_csv(p)

    def test_directory_path(self, tmp_path):
        with pytest.raises(TableError):
            tb.from_csv(tmp_path)

    def test_sector_code_NA(self, tmp_path):
        t = self.load(tmp_path, LONG.replace("2,", "NA,").replace(",2,", ",NA,"))
        assert "NA" in [str(s) for s in t.sector.values]

    def test_negative_cells_accepted(self, tmp_path):
        # scrap / stock changes: negative intermediate and final-demand cells are valid
        text = LONG.replace("2,sector,2,sector,100.0", "2,sector,2,sector,-10.0").replace(
            "2,sector,f,final_demand,1700.0", "2,sector,f,final_demand,1810.0").replace(
            "va,value_added,2,sector,1400.0", "va,value_added,2,sector,1510.0")
        t = self.load(tmp_path, text)
        assert float(t.Z.sel(sector="2", sector_to="2")) == -10.0

    def test_wide_layout_errors(self, tmp_path):
        d = tmp_path / "w"
        d.mkdir()
        (d / "x_intermediate.csv").write_text("row_code,1,2\n1,150,500\n2,200,abc\n")
        (d / "x_final_demand.csv").write_text("row_code,hh\n1,350\n2,1700\n")
        (d / "x_value_added.csv").write_text("va_code,1,2\nva,650,1400\n")
        with pytest.raises(NonFiniteError, match=r"intermediate\.csv: cell \(2, 2\) is not a"):
            tb.from_csv(d, layout="wide")
        (d / "x_intermediate.csv").write_text("row_code,1,2\n1,150,500\n1,200,100\n")
        with pytest.raises(LabelError, match=r"intermediate\.csv: duplicate row label '1'"):
            tb.from_csv(d, layout="wide")
        (d / "x_intermediate.csv").write_text("row_code,1,2\n1,150,500\n2,200,100\n")
        with pytest.raises(LabelError, match=r"sector '3' missing"):
            tb.from_csv(d, layout="wide", sectors=["1", "2", "3"])
        (d / "y_value_added.csv").write_text("va_code,1,2\nva,650,1400\n")
        with pytest.raises(TableError, match=r"expected exactly one \*value_added\.csv, found 2"):
            tb.from_csv(d, layout="wide")


# ======================================================================================
# 3. pymrio import
# ======================================================================================
@pytest.fixture(scope="module")
def io():
    pymrio = pytest.importorskip("pymrio")
    return pymrio.load_test().calc_all()


class TestPymrio:

    def test_not_an_iosystem(self):
        pytest.importorskip("pymrio")
        with pytest.raises(TableError, match=r"expected a pymrio\.IOSystem, got dict"):
            sc.from_pymrio({"Z": 1})

    def test_nan_in_Z(self, io):
        io2 = io.copy()
        io2.Z.iloc[0, 0] = np.nan
        with pytest.raises(NonFiniteError, match=r"Z holds a non-finite value"):
            sc.from_pymrio(io2)

    def test_unknown_extension_and_rows(self, io):
        with pytest.raises(LabelError, match=r"no extension 'nope'"):
            sc.from_pymrio(io, va_extension="nope")
        with pytest.raises(LabelError, match=r"va_rows .*'nope'.* not in extension"):
            sc.from_pymrio(io, va_extension="factor_inputs", va_rows=["nope"])

    def test_unbalanced(self, io):
        io2 = io.copy()
        io2.Z.iloc[0, 1] *= 2.0
        with pytest.raises(BalanceError, match=r"worst sector"):
            sc.from_pymrio(io2, va_extension="factor_inputs")


# ======================================================================================
# 4. Scenario files (dicts and TOML)
# ======================================================================================
BASE = {"schema": 1, "name": "t", "table": {"dataset": "miller-blair-2.3"},
        "horizon": {"days": 30},
        "shocks": [{"kind": "capacity_loss", "sector": "1", "share": 0.5, "duration": 10}]}


def _mut(path: str, value=...):
    import copy
    d = copy.deepcopy(BASE)
    parts = path.split(".")
    cur = d
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur.setdefault(p, {})
    if value is ...:
        del cur[parts[-1]]
    else:
        cur[parts[-1]] = value
    return d


class TestScenario:
    @pytest.mark.parametrize("path, value, msg", [
        # missing or extra keys, wrong types
        ("schema", ..., r"missing required key 'schema'"),
        # regressions for two fuzz-found bugs: a scenario without horizon.days loaded and
        # failed with KeyError when run; one without a name raised KeyError in the message
        ("horizon.days", ..., r"missing required key 'horizon\.days'"),
        ("name", ..., r"<scenario \?>: missing required key 'name'"),
        ("table.dataset", ..., r"missing required key 'table\.dataset'"),
        ("shocks.0.kind", ..., r"missing required key shocks\[0\]\.kind"),
        ("shocks.0.sector", ..., r"shocks\[0\] of kind 'capacity_loss' needs key 'sector'"),
        ("foo", 1, r"unknown key 'foo'; allowed here: "),
        ("model.inventroy_days", 30, r"unknown key 'model\.inventroy_days'"),
        ("shocks.0.secter", "1", r"unknown key 'shocks\[0\]\.secter'"),
        ("schema", "1", r"key 'schema' = '1' is not allowed; expected a finite number"),
        ("schema", 2, r"key 'schema' = 2 is not allowed"),
        ("table", 1, r"key 'table' must be a table"),
        ("shocks", {"kind": "x"}, r"key 'shocks' must be an array of tables"),
        ("shocks", [1], r"shocks\[0\] must be a table"),
        ("shocks.0.share", "0.5", r"'shocks\[0\]\.share' = '0\.5' is not allowed; expected a "
                                  r"finite number"),
        ("shocks.0.share", True, r"'shocks\[0\]\.share' = True is not allowed"),
        ("horizon.record", "output", r"'horizon\.record' = 'output' is not allowed"),
        ("horizon.record", ["foo"], r"'horizon\.record' = \['foo'\] is not allowed"),
        ("model.stockpiles", {"1": {"dayz": 3}}, r"unknown key 'dayz'"),
        ("model.stockpiles", {"1": 3}, r"'model\.stockpiles' .*\(bad entry '1'\)"),
        ("calibration", {"bounds": [0, 1, 2]}, r"calibration\.bounds must be \[low, high\]"),
        ("calibration", {"bounds": [5, 1]}, r"calibration\.bounds must be \[low, high\]"),
        ("reference", [{"id": "x"}], r"missing required key reference\[0\]\.quantity"),
        ("shocks.0.kind", "flood", r"'shocks\[0\]\.kind' = 'flood' is not allowed"),
        ("table.dataset", "japan-2099", r"'table\.dataset' = 'japan-2099' is not allowed"),
        # NaN or inf
        ("shocks.0.share", float("nan"), r"'shocks\[0\]\.share' = nan .* finite number"),
        ("shocks.0.duration", float("inf"), r"'shocks\[0\]\.duration' = inf"),
        ("table.gdp_denominator", float("inf"), r"'table\.gdp_denominator' = inf"),
        ("model.inventory_days", float("nan"), r"'model\.inventory_days' = nan"),
        # negative shares, shares over 100 %
        ("shocks.0.share", -0.1, r"'shocks\[0\]\.share' = -0\.1 .* >= 0 and <= 1"),
        ("shocks.0.share", 1.5, r"'shocks\[0\]\.share' = 1\.5 .* <= 1"),
        ("shocks.0.share", 100, r"'shocks\[0\]\.share' = 100 is not allowed; .*a fraction, "
                                r"not a percentage"),
        ("model.dependency", 1.01, r"'model\.dependency' = 1\.01"),
        ("model.import_origins", {"1": {"CHN": -0.1}}, r"'model\.import_origins' .* 'CHN'"),
        ("model.import_origins", {"1": {"CHN": 1.2}}, r"'model\.import_origins' .* 'CHN'"),
        ("model.substitution", {"1": {"headroom": 2}}, r"headroom is a number <= 1"),
        # horizons of 0 days and beyond 100 years
        ("horizon.days", 0, r"'horizon\.days' = 0 .* 1\.\.36500"),
        ("horizon.days", 36501, r"'horizon\.days' = 36501 .* 1\.\.36500"),
        ("horizon.days", 30.5, r"'horizon\.days' = 30\.5"),
        ("horizon.max_days", 36501, r"'horizon\.max_days' = 36501"),
        ("model.inventory_tau", 0.5, r"'model\.inventory_tau' = 0\.5 .* >= 1"),
    ])
    def test_schema(self, path, value, msg):
        with pytest.raises(ScenarioError, match=msg):
            sc.scenario.load(_mut(path, value))

    @pytest.mark.parametrize("overrides, msg", [
        # unknown sector, product or origin
        ({"shocks.0.sector": "ZZ"}, r"CapacityShock\(sector='ZZ'\): unknown sector or product"),
        ({"shocks": [{"kind": "import_cut", "product": "ZZ", "origin": "CHN", "share": 1.0,
                      "duration": 10}]}, r"ImportCut\(product='ZZ'\): unknown sector"),
        ({"shocks": [{"kind": "import_cut", "product": "1", "origin": "XXX", "share": 1.0,
                      "duration": 10}]},
         r"origin='XXX'\): origin has no share of the product's imports"),
        ({"model.dependency_by_product": {"ZZ": 0.5}},
         r"dependency_by_product\['ZZ'\]: unknown sector or product 'ZZ'"),
        ({"model.dependency_by_product": {"1": {"ZZ": 0.5}}},
         r"dependency_by_product\['1'\]: unknown sector or product 'ZZ'"),
        ({"model.inventory_days_by_product": {"ZZ": 3}},
         r"inventory_days_by_product\['ZZ'\]: unknown"),
        ({"model.stockpiles": {"ZZ": {"days": 3}}}, r"product 'ZZ': unknown sector"),
        ({"model.import_origins": {"1": {"CHN": 0.7, "USA": 0.6}}},
         r"import_origins\['1'\]\" = .* summing to at most 1"),
        ({"model.stockpiles": {"1": {"release_rate": 1}}}, r"missing 1 required .* 'days'"),
        # overrides that do not fit the scenario's shape
        ({"horizon.days.x": 3}, r"override 'horizon\.days\.x': horizon\.days is a value"),
        ({"shocks.5.share": 1}, r"override 'shocks\.5\.share': no item '5' in shocks"),
    ])
    def test_run_time(self, overrides, msg):
        s = sc.scenario.load(BASE)
        with pytest.raises(ScenarioError, match=msg):
            s.run(**overrides)

    @pytest.mark.parametrize("arg, msg", [
        (5, r"expected a shipped name, a path or a dict, got int 5"),
        (None, r"got NoneType None"),
        ([1], r"got list \[1\]"),
        ("no-such-scenario", r"unknown scenario 'no-such-scenario'; shipped: "),
    ])
    def test_load_wrong_argument(self, arg, msg):
        with pytest.raises(ScenarioError, match=msg):
            sc.scenario.load(arg)

    def test_toml_files(self, tmp_path):
        p = tmp_path / "s.toml"
        p.write_text("schema = 1\nname = ")
        with pytest.raises(ScenarioError, match=r"s\.toml: not valid TOML"):
            sc.scenario.load(p)
        p.write_bytes(b"\xff\xfe")
        with pytest.raises(ScenarioError, match=r"s\.toml: cannot read"):
            sc.scenario.load(p)
        with pytest.raises(ScenarioError, match=r"missing\.toml: scenario file not found"):
            sc.scenario.load(tmp_path / "missing.toml")
        with pytest.raises(ScenarioError, match=r"cannot read .*Is a directory"):
            sc.scenario.load(tmp_path)
        # duplicate keys and tables are refused by the TOML parser, naming the file and line
        p.write_text('schema = 1\nname = "x"\nname = "y"\n[table]\n'
                     'dataset = "miller-blair-2.3"\n[horizon]\ndays = 10\n')
        with pytest.raises(ScenarioError, match=r"s\.toml: not valid TOML \(.*at line 3"):
            sc.scenario.load(p)
        p.write_text('schema = 1\nname = "x"\n[table]\ndataset = "miller-blair-2.3"\n'
                     '[horizon]\ndays = 10\n[table]\ndataset = "japan-37"\n')
        with pytest.raises(ScenarioError, match=r"s\.toml: not valid TOML \(.*at line 7"):
            sc.scenario.load(p)
        p.write_text('schema = 1\nname = "x"\n[table]\ndataset = "miller-blair-2.3"\n'
                     '[horizon]\ndays = 10\n[model]\ninventory_days = "thirty"\n')
        with pytest.raises(ScenarioError, match=r"s\.toml: key 'model\.inventory_days' = "
                                                 r"'thirty' is not allowed"):
            sc.scenario.load(p)

    def test_carve_out_file_missing(self):
        s = sc.scenario.load(_mut("table.carve_out", "no-such-file.toml"))
        with pytest.raises(ScenarioError, match=r"no-such-file\.toml: carve-out data file "
                                                r"not found"):
            s.run()

    def test_100_year_horizon_runs(self):
        res = sc.scenario.load(_mut("horizon.days", 36500)).run()
        assert res.sizes["time"] == 36500
        assert np.isfinite(res.gdp_loss.values).all()
        assert res.attrs["recovered"] == 1


# ======================================================================================
# 5. Engine API: simulate, shocks, parameters
# ======================================================================================
class TestEngineAPI:
    @pytest.mark.parametrize("days, msg", [
        (0, r"'days' = 0 is out of range; allowed: 1\.\.36500"),
        (-1, r"'days' = -1 is out of range"),
        (36501, r"'days' = 36501 is out of range"),
        (1.5, r"'days' = 1\.5: expected a whole number"),
        ("30", r"'days' = '30': expected a whole number"),
        (float("nan"), r"'days' = nan"),
    ])
    def test_horizon(self, mb23, days, msg):
        with pytest.raises(ParameterError, match=msg):
            sc.simulate(mb23, [], days=days)

    def test_100_years(self, mb23):
        res = sc.simulate(mb23, sc.CapacityShock(sector="1", share=1.0, duration=365),
                          days=36500, record=("output",))
        assert np.isfinite(res.output.values).all() and float(res.output.min()) >= 0
        assert res.attrs["recovered"] == 1

    def test_record_memory_refused(self, japan185):
        # 4 daily records x 185 sectors x 36500 days is ~0.2 GB: fine; the guard is on bytes
        from simcore.dynamic import common as md  # the record budget of both engines
        prep = sc.dynamic.prepare_model(japan185)
        old = md.MAX_RECORD_BYTES
        md.MAX_RECORD_BYTES = 10**6
        try:
            with pytest.raises(ParameterError, match=r"record: 3 daily records of 185 sectors "
                                                     r"over 36500 days need"):
                sc.simulate(prep, [], days=36500)
        finally:
            md.MAX_RECORD_BYTES = old

    @pytest.mark.parametrize("kw, msg", [
        (dict(share=1.5), r"share = 1\.5 is above 1\.0"),
        (dict(share=-0.1), r"share = -0\.1 is below 0\.0"),
        (dict(share=50), r"share = 50 is above 1\.0; .*a fraction, not a percentage"),
        (dict(share=float("nan")), r"share must be finite, got nan"),
        (dict(share="x"), r"share must be a number, got 'x'"),
        (dict(share=None), r"share must be a number, got None"),
        (dict(share=0.5, duration=-1), r"duration = -1 is below 0\.0"),
        (dict(share=0.5, start=float("inf")), r"start must be finite"),
        (dict(share=0.5, profile="foo"), r"unknown profile 'foo'"),
        (dict(share=0.5, profile=[0.5, 2.0]), r"a custom profile must be a 1-D list"),
        (dict(share=0.5, profile=["a"]), r"a custom profile must be a 1-D list .*\['a'\]"),
        (dict(share=0.5, profile=[[0.5]]), r"a custom profile must be a 1-D list"),
        (dict(share=0.5, ramp_days=float("nan")), r"ramp_days must be finite"),
    ])
    def test_shock_values(self, kw, msg):
        with pytest.raises(ShockError, match=r"CapacityShock\(sector='1'\): " + msg):
            sc.CapacityShock(sector="1", **kw)

    def test_shock_codes(self):
        with pytest.raises(ShockError, match=r"sector must be a code \(a string\), got None"):
            sc.CapacityShock(sector=None, share=0.5)
        with pytest.raises(ShockError, match=r"product must be a code .* got \['RE'\]"):
            sc.ImportCut(product=["RE"], origin="CHN", share=0.5)
        with pytest.raises(ShockError, match=r"change = -2 is below -1"):
            sc.DemandShock(sector="1", change=-2)
        with pytest.raises(ShockError, match=r"target 'foo' not allowed"):
            sc.DemandShock(sector="1", change=-0.5, target="foo")
        assert sc.CapacityShock(sector=35, share=0.5).sector == "35"

    def test_unknown_codes(self, mb23):
        with pytest.raises(LabelError, match=r"CapacityShock\(sector='9'\): unknown sector or "
                                             r"product '9'; expected one of the table's 2"):
            sc.simulate(mb23, sc.CapacityShock(sector="9", share=0.5, duration=5), days=10)
        with pytest.raises(LabelError, match=r"ImportCut\(product='9'\): unknown"):
            sc.simulate(mb23, sc.ImportCut(product="9", origin="CHN", share=0.5, duration=5),
                        days=10)
        with pytest.raises(LabelError, match=r"DemandShock\(sector='9'\): unknown"):
            sc.simulate(mb23, sc.DemandShock(sector="9", change=-0.5, duration=5), days=10)

    def test_unknown_origin(self, japan37):
        with pytest.raises(ShockError, match=r"origin='CHN'\): origin has no share"):
            sc.simulate(japan37, sc.ImportCut(product="20", origin="CHN", share=1, duration=5),
                        days=10)

    @pytest.mark.parametrize("kw, msg", [
        (dict(inventory_days=0.5), r"'inventory_days' = 0\.5 is out of range; allowed: >= 1"),
        (dict(inventory_days="x"), r"'inventory_days' = 'x'"),
        (dict(inventory_days=True), r"'inventory_days' = True"),
        (dict(inventory_tau=float("inf")), r"'inventory_tau' = inf"),
        (dict(inventory_tau=0.0), r"'inventory_tau' = 0\.0"),
        (dict(dependency=1.5), r"'dependency' = 1\.5 .* 0\.\.1"),
        (dict(dependency=-0.1), r"'dependency' = -0\.1"),
        (dict(rationing="fair"), r"'rationing' = 'fair'"),
        (dict(alpha_max=0.5), r"'alpha_max' = 0\.5"),
        (dict(inventory_days_by_product=5), r"'inventory_days_by_product' = 5: expected a "
                                            r"mapping"),
        (dict(dependency_by_product=[1]), r"'dependency_by_product' = \[1\]"),
        (dict(elasticity_by_product=3), r"'elasticity_by_product' = 3"),
        (dict(import_origins=[1]), r"'import_origins' = \[1\]"),
        (dict(stockpiles=5), r"'stockpiles' = 5"),
        (dict(dependency_by_product={"1": {"2": 2}}), r"dependency_by_product\['1'\]\['2'\]"),
        (dict(elasticity_by_product={"1": -1}), r"elasticity_by_product\['1'\]"),
        (dict(import_origins={"1": 5}), r"import_origins\['1'\]': expected \{origin: share\}"),
        (dict(import_origins={"1": {"a": "x"}}), r"import_origins\['1'\]\['a'\]"),
        (dict(import_origins={"1": {"a": 0.6, "b": 0.6}}), r"summing to at most 1"),
        (dict(stockpiles={"1": {"days": -1}}), r"'stockpile\.days' = -1"),
        (dict(stockpiles={"1": {"days": 3, "foo": 1}}), r"stockpiles\['1'\].*'foo'"),
        (dict(substitution={"1": {"headroom": 0.5, "tau_days": 0}}), r"tau_days' = 0"),
    ])
    def test_params(self, kw, msg):
        with pytest.raises(ParameterError, match=msg):
            DynamicParams(**kw)

    def test_params_unknown_key(self):
        with pytest.raises(ParameterError, match=r"unknown parameter 'inventory_dayz'"):
            DynamicParams().replace(inventory_dayz=3)

    def test_simulate_wrong_types(self, mb23):
        with pytest.raises(ParameterError, match=r"params: expected a DynamicParams, got dict"):
            sc.simulate(mb23, [], params={"inventory_days": 3}, days=10)
        with pytest.raises(ShockError, match=r"expected ImportCut, CapacityShock or "
                                             r"DemandShock, got 1"):
            sc.simulate(mb23, [1], days=10)
        with pytest.raises(ParameterError, match=r"record: unknown record 'foo'"):
            sc.simulate(mb23, [], days=10, record=("foo",))
        with pytest.raises(ParameterError, match=r"gdp_denominator = 0: expected a positive"):
            sc.simulate(mb23, [], days=10, gdp_denominator=0)
        # a multi-regional table runs on the MRIO path (docs/mrio.md); the single-region
        # lowering still refuses it, and an export cut needs one
        mr = sc.tables.from_arrays(np.zeros((4, 4)), np.ones((4, 2)), np.full((1, 4), 2.0),
                                   regions=["r", "s"])
        with pytest.raises(TableError, match=r"multi-regional"):
            sc.dynamic.prepare_model(mr)
        assert float(sc.simulate(mr, [], days=5).gdp_loss_total) == 0.0
        with pytest.raises(ShockError, match=r"multi-regional table"):
            sc.simulate(mb23, sc.ExportCut(product="1", origin="r", share=1.0), days=5)

    def test_simulate_shocks_none(self, mb23):
        with pytest.raises(ShockError):
            sc.simulate(mb23, None, days=10)

    def test_simulate_table_wrong_type(self):
        with pytest.raises(TableError):
            sc.simulate({"Z": 1}, [], days=10)

    def test_simulate_gdp_denominator_string(self, mb23):
        with pytest.raises(ParameterError):
            sc.simulate(mb23, [], days=10, gdp_denominator="x")

    def test_no_exception_from_inside_numba(self, mb23):
        """Kernel failures come back as a status and a KernelError, never a numba traceback."""
        from simcore._jit import raise_for_status
        with pytest.raises(KernelError, match=r"simulate: an inventory went negative on day 7"):
            raise_for_status(1, where="simulate", day=7)
        # a run through the kernel with extreme but valid inputs raises nothing at all
        sc.simulate(mb23, sc.DemandShock(sector="1", change=1e6, duration=5), days=20)


# ======================================================================================
# 6. CLI arguments
# ======================================================================================
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "simcore.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    p = d / "s.toml"
    p.write_text('schema = 1\nname = "t"\n[table]\ndataset = "miller-blair-2.3"\n'
                 '[[shocks]]\nkind = "capacity_loss"\nsector = "1"\nshare = 0.5\n'
                 'duration = 10\n[horizon]\ndays = 30\n')
    (d / "afile").write_text("x")
    (d / "adir.csv").mkdir()
    return p


class TestCLI:

    @pytest.mark.parametrize("extra, msg", [
        (["--out", "{d}/r.txt"], r"--out '.*r\.txt': unknown suffix '\.txt'"),
        (["--out", "{d}/adir.csv"], r"--out '.*adir\.csv': is a directory"),
        (["--out", "{d}/afile/r.csv"], r"afile' is not a directory"),
        (["--set", "horizon.days=0"], r"key 'horizon\.days' = 0 is not allowed"),
        (["--set", "horizon.days=36501"], r"key 'horizon\.days' = 36501 is not allowed"),
        (["--set", "horizon.days"], r"--set 'horizon\.days': expected KEY=VALUE"),
        (["--set", "shocks.0.share=NaN"], r"'shocks\[0\]\.share' = nan"),
        (["--set", "shocks.0.share=1e999"], r"'shocks\[0\]\.share' = inf"),
        (["--set", "shocks.0.share=1.5"], r"'shocks\[0\]\.share' = 1\.5"),
        (["--set", "shocks.0.share=-1"], r"'shocks\[0\]\.share' = -1"),
        (["--set", "shocks.0.sector=ZZ"], r"CapacityShock\(sector='ZZ'\): unknown sector"),
        (["--set", "horizon.days.x=3"], r"horizon\.days is a value"),
        (["--set", "model.foo=3"], r"unknown key 'model\.foo'"),
        (["--set", "=3"], r"unknown key ''"),
    ])
    def test_bad_arguments(self, scen, extra, msg, capsys):
        """In-process (a subprocess per case costs ~2 s of imports): ``main`` returns 2 and
        prints one ``simcore: error:`` line; any other exception would escape here."""
        from simcore import cli
        args = [a.replace("{d}", str(scen.parent)) for a in extra]
        assert cli.main(["run", str(scen), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("simcore: error: ") and err.count("\n") == 1, err
        assert re.search(msg, err), err

    def test_end_to_end_exit_status(self, scen):
        """Through a real process: exit status 2, one error line, no traceback."""
        p = _cli("run", str(scen), "--set", "shocks.0.share=1.5")
        assert p.returncode == 2 and "Traceback" not in p.stderr
        assert p.stderr.strip().splitlines() == [p.stderr.strip()]
        assert "'shocks[0].share' = 1.5 is not allowed" in p.stderr

    @pytest.mark.parametrize("args, msg", [
        (["run", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
        (["run", "{d}/missing.toml"], "scenario file not found"),
        (["run"], "required: scenario"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["run", "{d}/s.toml", "--bogus"], "unrecognized arguments: --bogus"),
    ])
    def test_missing_scenarios_and_arguments(self, scen, args, msg, capsys):
        from simcore import cli
        args = [a.replace("{d}", str(scen.parent)) for a in args]
        try:
            rc = cli.main(args)
        except SystemExit as exc:  # argparse's own usage errors
            rc = exc.code
        assert rc == 2
        assert msg in capsys.readouterr().err

    def test_bad_out_refused_before_running(self, scen, monkeypatch):
        """A bad --out is refused before the (possibly long) run, so no result is lost."""
        from simcore import cli, scenario
        calls = []
        monkeypatch.setattr(scenario.Scenario, "run", lambda self, **kw: calls.append(1))
        assert cli.main(["run", str(scen), "--out", str(scen.parent / "r.txt")]) == 2
        assert calls == []


# ======================================================================================
# 7. Sweep designs
# ======================================================================================
class TestSweepDesigns:
    @pytest.fixture(autouse=True)
    def _need_sweeps(self):
        pytest.importorskip("simcore.sweeps")

    @pytest.mark.parametrize("kw, msg", [
        (dict(grid={"model.foo": [1]}), r"sweep key 'model\.foo' is unknown"),
        (dict(grid={"shocks.0.share": [1.5]}), r"sweep value shocks\.0\.share = 1\.5"),
        (dict(grid={"shocks.0.share": [-0.1]}), r"sweep value shocks\.0\.share = -0\.1"),
        (dict(grid={"shocks.0.share": [float("nan")]}), r"shocks\.0\.share = nan"),
        (dict(grid={"shocks.0.share": []}), r"the list of values is empty"),
        (dict(grid={"shocks.0.share": 0.5}), r"expected a list of values, got 0\.5"),
        (dict(grid={}), r"empty design"),
        (dict(zipped={"shocks.0.share": [0.1, 0.2], "shocks.0.duration": [1.0]}),
         r"zipped lists must have the same length"),
        (dict(ranges={"shocks.0.share": (1, 0)}, method="random", samples=3),
         r"ranges\['shocks\.0\.share'\] = \(1, 0\): expected finite low < high"),
        (dict(ranges={"shocks.0.share": (0.0, 2.0)}, method="random", samples=3),
         r"sweep value shocks\.0\.share = 2\.0 is not allowed"),
        (dict(grid={"shocks.0.share": [0.1]}, zipped={"shocks.0.share": [0.2]}),
         r"sweep key 'shocks\.0\.share' is given twice"),
        (dict(grid={"shocks.0.share": [0.1]}, days=0), r"days: .*'days' = 0"),
        (dict(grid={"shocks.0.share": [0.1]}, days=36501), r"days: .*'days' = 36501"),
    ])
    def test_bad_designs(self, kw, msg):
        with pytest.raises(DesignError, match=msg):
            sc.sweep(BASE, **kw)

    def test_unknown_sector_in_design(self):
        with pytest.raises(SimcoreError, match=r"unknown sector or product 'ZZ'"):
            sc.sweep(BASE, grid={"shocks.0.sector": ["ZZ"]})

    def test_huge_grid_refused_without_allocating(self):
        vals = [float(v) for v in np.linspace(0, 1, 1000)]
        grid = {"shocks.0.share": vals,
                "shocks.0.duration": [float(i) for i in range(1000)],
                "model.inventory_days": [float(i) for i in range(1, 1001)]}
        with pytest.raises(DesignError, match=r"1,000,000,000 scenarios; .* more than "
                                              r"max_memory"):
            sc.sweep(BASE, grid=grid)

    def test_huge_sampled_design_refused(self):
        # run in a child with a 3 GB address-space limit, so a regression cannot take the
        # machine's memory
        code = textwrap.dedent("""
            import resource, sys
            resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
            import simcore as sc
            from simcore.errors import DesignError
            base = %r
            try:
                sc.sweep(base, ranges={"shocks.0.share": (0.0, 1.0)}, method="random",
                         samples=10**10)
            except DesignError as exc:
                print("DesignError:", exc); sys.exit(0)
            except MemoryError:
                print("MemoryError"); sys.exit(3)
            sys.exit(4)
        """) % (BASE,)
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr

    def test_grid_wrong_type(self):
        with pytest.raises(DesignError):
            sc.sweep(BASE, grid=[1])


# ======================================================================================
# 8. Real-table quirks
# ======================================================================================
class TestQuirks:
    def _run(self, t, shock, days=60):
        res = sc.simulate(t, shock, days=days, record=("output", "final_demand_unmet"))
        assert np.isfinite(res.gdp_loss.values).all()
        assert float(res.output.min()) >= 0.0
        assert float(res.gdp_loss_total) >= -1e-9
        return res

    def test_zero_output_sector(self):
        Zm = np.array([[10.0, 20, 0], [5, 10, 0], [0, 0, 0]])
        x = np.array([100.0, 100, 0])
        t = tb.from_arrays(Zm, [[70.0], [85], [0]], (x - Zm.sum(0))[None, :], x=x,
                           sectors=["a", "b", "c"])
        for s in (sc.CapacityShock(sector="c", share=1.0, duration=10),
                  sc.ImportCut(product="c", origin="ROW", share=1.0, duration=10),
                  sc.CapacityShock(sector="a", share=0.5, duration=10)):
            res = self._run(t, s)
            assert float(res.value_added_loss.sel(sector="c")) == 0.0

    def test_zero_intermediate_use(self):
        """BoARIO crashes when a shocked industry has zero intermediate inputs."""
        Zm = np.array([[0.0, 20], [0, 10]])
        x = np.array([100.0, 100])
        t = tb.from_arrays(Zm, [[80.0], [90]], (x - Zm.sum(0))[None, :], x=x,
                           sectors=["a", "b"])
        res = self._run(t, sc.CapacityShock(sector="a", share=0.5, duration=10))
        # a pure capacity loss: half of a's output for ten days, plus the knock-on in b
        va_a = float(t.V.sel(sector="a").sum()) / 365
        assert float(res.value_added_loss.sel(sector="a")) == pytest.approx(5 * va_a, rel=1e-9)

    def test_zero_value_added(self):
        Zm = np.array([[50.0, 20], [50, 10]])
        x = np.array([100.0, 100])
        t = tb.from_arrays(Zm, [[30.0], [40]], (x - Zm.sum(0))[None, :], x=x,
                           sectors=["a", "b"])
        res = self._run(t, sc.CapacityShock(sector="a", share=0.5, duration=10))
        assert float(res.value_added_loss.sel(sector="a")) == 0.0
        assert float(res.value_added_loss.sel(sector="b")) > 0.0

    def test_negative_cells_scrap_and_stock_changes(self):
        Zm = np.array([[10.0, -5], [5, 10]])  # scrap: a negative intermediate cell
        Ym = np.array([[95.0, -5], [85, -10]])  # negative changes in inventories
        x = np.array([95.0, 90])
        t = tb.from_arrays(Zm, Ym, (x - Zm.sum(0))[None, :], x=x, sectors=["a", "b"],
                           final_demand=["hh", "stock_change"])
        res = self._run(t, sc.CapacityShock(sector="a", share=0.5, duration=10))
        assert res.attrs["preprocessing"].startswith("prepare_for_dynamics")
        assert float(self._run(t, []).gdp_loss_total) == pytest.approx(0.0, abs=1e-12)
        with pytest.raises(TableError, match=r"negative cells \(first at row 0, column 1\)"):
            sc.dynamic.prepare_model(t, preprocess=False)

    def test_negative_cells_in_japan_table(self, japan37):
        f = tb.flat(japan37)
        assert (f["Z"] < 0).any() or (f["Y"] < 0).any()
        res = sc.simulate(japan37, [], days=30)
        assert abs(float(res.gdp_loss_total)) <= 1e-9 * sc.tables.gdp(japan37)


def test_no_silent_currency_default(tmp_path):
    """A table built without a unit is not labelled yen (it was: from_arrays defaulted to
    "million JPY", so a dollar table's losses came out "in yen"); the long CSV's
    ``value_million_jpy`` column states its unit; an explicit unit wins."""
    from simcore.cli import _headline

    t = sc.tables.from_arrays([[150.0, 500.0], [200.0, 100.0]], [[350.0], [1700.0]],
                              [[650.0, 1400.0]], sectors=["1", "2"])
    assert t.attrs["unit"] == ""
    res = sc.simulate(t, sc.CapacityShock(sector="1", share=0.5, duration=10), days=60)
    head = _headline(res)
    assert head["gdp_loss_total"] > 0 and head["gdp_loss_total_jpy"] is None
    rows = ["row_code,row_type,col_code,col_type,{}",
            "1,sector,1,sector,150", "1,sector,2,sector,500", "2,sector,1,sector,200",
            "2,sector,2,sector,100", "1,sector,fd,final_demand,350",
            "2,sector,fd,final_demand,1700", "va,value_added,1,sector,650",
            "va,value_added,2,sector,1400"]
    for col, unit, kw in [("value", "", {}), ("value_million_jpy", "million JPY", {}),
                          ("value_million_jpy", "$ million", {"unit": "$ million"})]:
        f = tmp_path / f"{col}{len(kw)}.csv"
        f.write_text("\n".join([rows[0].format(col)] + rows[1:]) + "\n")
        assert sc.tables.from_csv(f, **kw).attrs["unit"] == unit


@pytest.mark.parametrize("args, msg", [
    (["--set", "shocks.0.share=0.1.."], "a range is LO..HI with two numbers"),
    (["--set", "shocks.0.share=a..b"], "a range is LO..HI with two numbers"),
    (["--set", "nope.key=1,2"], "sweep key 'nope.key': unknown"),
    (["--set", "=3"], "expected a dotted scenario key"),
    (["--set", "shocks.0.share="], "the list of values is empty"),
    (["--set", "shocks.0.share=0.1..0.5"], r"need samples= \(--samples"),
    (["--set", "shocks.0.share=0.5..0.1", "--samples", "4"], "expected finite low < high"),
    (["--set", "shocks.0.share=0.1..0.5", "--samples", "0"], "samples >= 1"),
    (["--set", "shocks.0.share=0.1..0.5", "--method", "sobol", "--samples", "3"],
     "needs a power of 2"),
    (["--set", "shocks.0.share=0.1,7"], "is not allowed"),
    (["--set", "shocks.0.share=0.1,0.2", "--workers", "0"], "workers = 0"),
    (["--set", "shocks.0.share=0.1,0.2", "--chunk-size", "0"], "chunk_size = 0"),
    (["--set", "model.inventory_tau=1,1.5", "--set", "model.carved_inventory_days=1"],
     r"sweep scenario 0 .*edge of stability"),
    (["--set", "shocks.0.share=0.1,0.2", "--executor", "dask", "--scheduler", "nonsense"],
     "cannot connect to a Dask scheduler"),
])
def test_sweep_cli_bad_arguments(tmp_path, capsys, args, msg):
    """`simcore sweep`: every bad argument is one `simcore: error:` line and status 2, before
    anything runs (no result directory is left behind), including a scenario of the design
    whose parameters are refused."""
    from simcore import cli
    out = tmp_path / "sweep"
    assert cli.main(["sweep", "kiuchi-2025-3m", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simcore: error: ") and err.count("\n") == 1, err
    assert re.search(msg, err), err
    # (a scheduler that cannot be reached is found after the folder is locked and its
    # manifest written; a failed start removes both, so nothing is left either)
    assert not out.exists()


def test_sweep_unreachable_scheduler(tmp_path):
    """A Dask scheduler that does not answer: a DesignError naming the address, not an
    OSError traceback (connect timeout shortened to 1 s for the test)."""
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(sc.errors.DesignError, match="tcp://127.0.0.1:9"):
            sc.sweep("kiuchi-2025-3m", grid={"shocks.0.share": [0.1]}, executor="dask",
                     scheduler="tcp://127.0.0.1:9", out=tmp_path / "s")
    assert not (tmp_path / "s").exists()  # a failed start leaves nothing behind


# --------------------------------------------------------------------------------------
# Surfaces added after the audit of this page: --plot, repeated --set, tables edited after
# they were built, the ARIO engine's horizon and events, non-tables given to static,
# transform and to_pymrio.
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, msg", [
    (["--plot", "{d}/fig.xyz"], r"--plot '.*fig\.xyz': unknown suffix '\.xyz'"),
    (["--plot", "{d}/afile/fig.png"], r"--plot .*afile' is not a directory"),
    (["--plot", "{d}/adir.csv"], r"--plot .*: unknown suffix|is a directory"),
    (["--set", "horizon.days=10", "--set", "horizon.days=20"],
     r"--set 'horizon\.days' is given twice"),
])
def test_run_cli_checked_before_running(scen, monkeypatch, capsys, extra, msg):
    """Refused before the run (so no result is computed and lost): one error line, status 2."""
    from simcore import cli, scenario
    calls = []
    monkeypatch.setattr(scenario.Scenario, "run", lambda self, **kw: calls.append(1))
    args = [a.replace("{d}", str(scen.parent)) for a in extra]
    assert cli.main(["run", str(scen), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simcore: error: ") and err.count("\n") == 1, err
    assert re.search(msg, err), err
    assert calls == []


def test_sweep_cli_key_given_twice(tmp_path, capsys):
    from simcore import cli
    assert cli.main(["sweep", "kiuchi-2025-3m", "--set", "shocks.0.share=0.1,0.2", "--set",
                     "shocks.0.share=0.3", "--out", str(tmp_path / "s")]) == 2
    assert "--set 'shocks.0.share' is given twice" in capsys.readouterr().err


def _mb():
    return sc.datasets.load("miller-blair-2.3")


@pytest.mark.parametrize("edit, err, msg", [
    (lambda t: t["Z"].loc[{"sector": "1", "sector_to": "1"}].__setitem__((), np.nan),
     sc.errors.NonFiniteError, r"Z holds a non-finite value at \('1', '1'\)"),
    (lambda t: t["x"].__setitem__(0, float(t["x"][0]) * 1.5),
     sc.errors.BalanceError, r"row \(sales .* balance violated; worst sector '1'"),
])
@pytest.mark.parametrize("engine", ["simulate", "simulate_ario"])
def test_engines_refuse_a_table_edited_after_it_was_built(edit, err, msg, engine):
    """A table edited in place after construction (a NaN written into Z, output changed) used
    to run and report a loss with no shock (6.90 and 5.17 on the audit's examples); both
    engines now validate the table they are given."""
    from simcore.dynamic.ario import simulate_ario
    t = _mb().copy(deep=True)
    edit(t)
    run = (lambda: sc.simulate(t, [], days=10)) if engine == "simulate" else (
        lambda: simulate_ario(t, [], days=10))
    with pytest.raises(err, match=f"{engine}: table: {msg}"):
        run()


def test_engines_refuse_relabelled_duplicate_sectors():
    from simcore.dynamic.ario import simulate_ario
    t = _mb().assign_coords(sector=["a", "a"], sector_to=["a", "a"])
    for run in (lambda: sc.simulate(t, [], days=5), lambda: simulate_ario(t, [], days=5)):
        with pytest.raises(sc.errors.LabelError, match="duplicate sector label 'a'"):
            run()


def test_ario_horizon_events_and_record_budget():
    from simcore.dynamic.ario import simulate_ario, simulate_ario_batch
    t = _mb()
    with pytest.raises(sc.errors.ParameterError, match=r"'days' = 1000000000 .* 1\.\.36500"):
        simulate_ario(t, [], days=10**9)
    with pytest.raises(sc.errors.ShockError, match="events = None"):
        simulate_ario(t, None, days=5)
    with pytest.raises(sc.errors.ShockError, match="events = 'x'"):
        simulate_ario(t, "x", days=5)
    # 4,000 scenarios of 100 years of two daily records are refused before allocating
    with pytest.raises(sc.errors.ParameterError, match=r"simulate_ario_batch: the daily "
                                                       r"records need 5\.8 GB"):
        simulate_ario_batch(t, [[]] * 4000, days=36_500, record=("production", "value_added"))


@pytest.mark.parametrize("fn", [
    lambda x: sc.static.leontief(x, {"1": 1.0}),
    lambda x: sc.static.output_multipliers(x),
    lambda x: sc.static.weakest_link(x, import_ratio={"1": 0.5}),
    lambda x: sc.transform.rescale(x, factor=2.0),
    lambda x: sc.transform.prepare_for_dynamics(x),
    lambda x: sc.transform.split_imports(x),
    lambda x: sc.to_pymrio(x),
])
def test_table_functions_refuse_non_tables_and_edited_tables(fn):
    with pytest.raises(sc.errors.TableError, match=r"expected an IO table .* got dict"):
        fn({"Z": 1})
    t = _mb().copy(deep=True)
    t["V"][0, 0] = np.inf
    with pytest.raises(sc.errors.NonFiniteError, match="V holds a non-finite value"):
        fn(t)


@pytest.mark.parametrize("kw", [{"factor": "x"}, {"factor": True}, {"target_gdp": "big"},
                                {"factor": float("nan")}])
def test_rescale_bad_numbers(kw):
    with pytest.raises(sc.errors.ParameterError, match="rescale: (factor|target_gdp) is"):
        sc.transform.rescale(_mb(), **kw)


# --------------------------------------------------------------------------------------
# Carve-out data files (``table.carve_out`` of a scenario; carve_spec.load_spec)
# --------------------------------------------------------------------------------------
_CARVE = Path(sc.__file__).resolve().parents[1] / "scenarios" / "data" / "rare_earths.toml"
_CARVE_CASES = [
    ("output = 80000 ", "output = nan ", r"products\.MAG\.parents\.3399\.output = nan"),
    ("output = 80000 ", "output = true ", r"products\.MAG\.parents\.3399\.output = True"),
    ("output = 80000 ", "output = -5 ", r"\.output = -5; expected a non-negative number"),
    ("output_range = [50000, 120000]", "output_range = [120000, 50000]",
     r"output_range = \[120000, 50000\]; expected \[low, high\]"),
    ('column_shares = { "2711" = 0.30 }', 'column_shares = { "2711" = 1.5 }',
     r"column_shares\.2711 = 1\.5; expected a number in \[0, 1\]"),
    ('"3531" = { value_share = 0.30,', '"3531" = { value_share = 0.99,',
     r"users: the value shares sum to 1\.\d+; expected at most 1"),
    ('"3531" = { value_share = 0.30,', '"3531" = { value_share = "a lot",',
     r"users\.3531\.value_share = a string of 5 characters"),
    ("order = 1 ", "order = \"first\" ", r"products\.MAG\.order = a string of 5 characters; expected a number"),
    ('name_en = "Permanent magnets', 'colour = "red"\nname_en = "Permanent magnets',
     r"products\.MAG: unknown key 'colour'"),
]


@pytest.mark.parametrize("old, new, msg", _CARVE_CASES)
def test_carve_out_file_bad_values(tmp_path, old, new, msg):
    text = _CARVE.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "carve.toml"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"carve\.toml: (products\.MAG\.parents\.3399)?"
                                            rf"\.?{msg}"):
        sc.carve_spec.load_spec(f)


@pytest.mark.parametrize("text, msg", [
    ("products = 5\n", r"key 'products' must be a table of products"),
    ("[products]\nX = 5\n", r"products\.X = 5; expected a table"),
    ("[products.X]\nname_en = 'x'\n", r"products\.X: missing key 'parents'"),
    ("[products.X]\nparents = 3\n", r"products\.X\.parents = 3; expected a table"),
    ("[products.X.parents]\n", r"products\.X\.parents is empty"),
    ("[products.X.parents.P]\noutput = 1\nimports = 1\nusers = 2\n",
     r"products\.X\.parents\.P\.users = 2; expected a table"),
    ("[products.X.parents.P]\noutput = 1\nimports = 1\n[products.X.parents.P.users]\nU = 1\n",
     r"products\.X\.parents\.P\.users\.U = 1; expected a table"),
    ("[products.X\n", r"not valid TOML"),
])
def test_carve_out_file_bad_structure(tmp_path, text, msg):
    f = tmp_path / "carve.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"carve\.toml: {msg}"):
        sc.carve_spec.load_spec(f)


def test_carve_out_parent_not_in_table(tmp_path):
    """A parent sector the table does not have: named at run time, with the file."""
    text = _CARVE.read_text(encoding="utf-8").replace("products.MAG.parents.3399",
                                                      "products.MAG.parents.9999")
    (tmp_path / "carve.toml").write_text(text, encoding="utf-8")
    scen = (Path(sc.__file__).resolve().parents[1] / "scenarios"
            / "rare-earth-data-driven-3m.toml").read_text(encoding="utf-8")
    (tmp_path / "s.toml").write_text(scen.replace('carve_out = "data/rare_earths.toml"',
                                                  'carve_out = "carve.toml"'), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"carve\.toml: products\.MAG\.parents\.9999: "
                                            r"parent '9999' is not a sector of the table"):
        sc.scenario.load(tmp_path / "s.toml").run()


# --------------------------------------------------------------------------------------
# Second review: tolerances the table was built with, opting out, plot formats, codes in
# sweep designs, [origins] of carve-out files, units and dtypes.
# --------------------------------------------------------------------------------------
def test_engines_use_the_tolerance_the_table_was_built_with():
    from simcore.dynamic.ario import prepare_ario, simulate_ario
    Z, Y, V = [[150.0, 500.0], [200.0, 100.0]], [[350.0], [1700.3]], [[650.0, 1400.0]]
    loose = sc.tables.from_arrays(Z, Y, V, sectors=["1", "2"], x=[1000, 2000], atol=0.5)
    assert loose.attrs["balance_atol"] == 0.5
    sc.simulate(loose, [], days=5)
    simulate_ario(loose, [], days=5)
    off = sc.tables.from_arrays(Z, [[350.0], [1700.0]], V, sectors=["1", "2"],
                                x=[1000, 2100], check=False)
    for run in (lambda: sc.simulate(off, [], days=5), lambda: simulate_ario(off, [], days=5)):
        with pytest.raises(sc.errors.BalanceError, match=r"out of balance anyway, pass "
                                                         r"simcore\.dynamic\..*check=False"):
            run()
    # the explicit opt-out runs (and, out of balance, drifts without a shock)
    res = sc.simulate(sc.dynamic.prepare_model(off, check=False), [], days=5)
    assert float(res.gdp_loss_total) != 0.0
    simulate_ario(prepare_ario(off, check=False), [], days=5)
    # labels and finite values are checked even then
    bad = off.copy(deep=True)
    bad["Z"][0, 0] = np.nan
    with pytest.raises(sc.errors.NonFiniteError):
        sc.dynamic.prepare_model(bad, check=False)


def test_plot_accepts_every_matplotlib_format(scen, tmp_path):
    from simcore import cli
    for name in ("fig.webp", "fig.svgz", "fig"):
        assert cli.main(["run", str(scen), "--plot", str(tmp_path / name)]) == 0
        assert (tmp_path / name).stat().st_size > 1000


def test_sweep_refuses_unknown_codes_before_running(tmp_path, capsys):
    from simcore import cli
    out = tmp_path / "s"
    assert cli.main(["sweep", "kiuchi-2025-3m", "--set", 'shocks.0.product=["RE","NOPE"]',
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "sweep scenario 1 ({'shocks.0.product': 'NOPE'})" in err
    assert "unknown sector or product 'NOPE'" in err
    assert not out.exists()


@pytest.mark.parametrize("old, new, msg", [
    ("RE = { CHN = 0.719,", "RE = { CHN = 1.719,", r"origins\.RE\.CHN = 1\.719; expected a share"),
    ("RE = { CHN = 0.719,", 'RE = { CHN = "most",', r"origins\.RE\.CHN = a string of 4 characters"),
    ("range = [0.60, 0.80]", "range = [0.80, 0.60]", r"origins\.RE\.range = \[0\.8, 0\.6\]"),
])
def test_carve_out_file_bad_origins(tmp_path, old, new, msg):
    text = _CARVE.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "carve.toml"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError, match=rf"carve\.toml: {msg}"):
        sc.carve_spec.load_spec(f)
    f.write_text("origins = 5\n" + text.replace("[origins]", "[old_origins]", 1),
                 encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"carve\.toml: origins = 5; expected a table"):
        sc.carve_spec.load_spec(f)


def test_units_must_be_strings_and_tables_numbers():
    with pytest.raises(TableError, match=r"unit = 5: expected a string"):
        sc.tables.from_arrays([[1.0]], [[1.0]], [[1.0]], unit=5)
    assert sc.tables.yen_per_unit(5) is None and sc.tables.yen_per_unit(None) is None
    t = _mb()
    with pytest.raises(TableError, match=r"leontief: table: variable 'Z' has dtype object"):
        sc.static.leontief(t.assign(Z=t.Z.astype(object)), {"1": 1.0})
    with pytest.raises(TableError, match=r"simulate: table: coordinate 'in_gdp'"):
        sc.simulate(t.drop_vars("in_gdp"), [], days=5)
