"""The pymrio bridge (simcore.pymrio_bridge) and the related checks in simcore.tables.

Reference system: ``pymrio.load_test().calc_all()`` -- 6 regions x 8 sectors, 7 final
demand categories per region, unit "Mill USD".  Its ``factor_inputs`` extension ("Value
Added") does not close the column balance (it is synthetic: residuals up to 98 % of gross
output), so the default conversion takes value added as ``x - 1'Z``; the row balance
``x = Z 1 + Y 1`` holds to rounding because pymrio computes ``x`` that way.
"""

from __future__ import annotations

import doctest
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import simcore as sc
from simcore import tables
from simcore.errors import (
    BalanceError,
    LabelError,
    NonProductiveError,
    SimcoreError,
    TableError,
)

pymrio = pytest.importorskip("pymrio")

from simcore import pymrio_bridge  # noqa: E402
from simcore.pymrio_bridge import MissingDependencyError  # noqa: E402

RTOL = 1e-10


def _load_test():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pymrio.load_test().calc_all()


@pytest.fixture(scope="module")
def io():
    return _load_test()


@pytest.fixture(scope="module")
def table(io):
    return sc.from_pymrio(io)


# --------------------------------------------------------------------------------------
# from_pymrio
# --------------------------------------------------------------------------------------
def test_lazy_package_attributes():
    assert sc.from_pymrio is pymrio_bridge.from_pymrio
    assert sc.to_pymrio is pymrio_bridge.to_pymrio


def test_shapes_and_labels(io, table):
    assert tables.is_multiregional(table)
    assert list(table.region.values) == list(io.get_regions())
    assert list(table.sector.values) == list(io.get_sectors())
    assert list(table.final_demand.values) == list(dict.fromkeys(io.Y.columns.get_level_values(1)))
    assert dict(table.sizes) == {"region": 6, "sector": 8, "region_to": 6, "sector_to": 8,
                                 "final_demand": 7, "export_item": 0, "import_item": 0,
                                 "va_item": 1}
    assert list(table.va_item.values) == [pymrio_bridge.DEFAULT_VA_ITEM]
    assert table.attrs["unit"] == "Mill USD"
    assert tables.industry_labels(table) == [f"{r}/{s}" for r, s in io.Z.index]
    f = tables.flat(table)
    np.testing.assert_array_equal(f["Z"], io.Z.to_numpy())
    np.testing.assert_array_equal(f["Y"], io.Y.to_numpy())
    np.testing.assert_array_equal(f["x"], io.x.to_numpy().ravel())
    assert tables.history(table)[-1]["name"] == "from_pymrio"


def test_balance_holds_at_default_tolerance(table):
    # from_pymrio validated already; do it again explicitly and look at the residuals.
    tables.validate(table, atol=tables.DEFAULT_ATOL, rtol=tables.DEFAULT_RTOL)
    row, col = tables.balance_residuals(table)
    x = tables.flat(table)["x"]
    assert np.max(np.abs(row) / x) < 1e-14
    assert np.max(np.abs(col) / x) < 1e-14


def test_value_added_extension_of_the_test_system_does_not_balance(io):
    with pytest.raises(BalanceError, match="column"):
        sc.from_pymrio(io, va_extension="factor_inputs")
    t = sc.from_pymrio(io, va_extension="factor_inputs", check=False)
    assert list(t.va_item.values) == ["Value Added"]
    np.testing.assert_array_equal(tables.flat(t)["V"], io.factor_inputs.F.to_numpy())


def test_value_added_extension_by_object_and_rows(io):
    t = sc.from_pymrio(io, va_extension=io.factor_inputs, va_rows=["Value Added"],
                       check=False)
    assert list(t.va_item.values) == ["Value Added"]
    with pytest.raises(LabelError, match="not in extension"):
        sc.from_pymrio(io, va_extension="factor_inputs", va_rows=["wages"])
    with pytest.raises(LabelError, match="no extension 'nope'"):
        sc.from_pymrio(io, va_extension="nope")
    with pytest.raises(TableError, match="'kg', not the table's unit"):
        sc.from_pymrio(io, va_extension="emissions")
    with pytest.raises(TableError, match="va_rows needs va_extension"):
        sc.from_pymrio(io, va_rows=["Value Added"])


def test_without_calc_all_and_from_coefficients(io, table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pymrio.load_test()
    assert raw.x is None
    t = sc.from_pymrio(raw)
    np.testing.assert_allclose(t.x.values, table.x.values, rtol=1e-14)
    coef = pymrio.IOSystem(A=io.A, Y=io.Y, unit=io.unit)
    t = sc.from_pymrio(coef)
    np.testing.assert_allclose(t.Z.values, table.Z.values, rtol=1e-12, atol=1e-6)
    with pytest.raises(TableError, match="no final demand"):
        sc.from_pymrio(pymrio.IOSystem(Z=io.Z))
    with pytest.raises(TableError, match="expected a pymrio.IOSystem"):
        sc.from_pymrio(io.Z)


# --------------------------------------------------------------------------------------
# Agreement with pymrio's own Leontief inverse and multipliers
# --------------------------------------------------------------------------------------
def test_leontief_inverse_equals_pymrio(io, table):
    L = tables.leontief_inverse(table).values.reshape(48, 48)
    Lp = io.L.to_numpy()
    assert np.all(Lp > 0)
    rel = np.max(np.abs(L - Lp) / np.abs(Lp))
    assert rel < RTOL, rel


def test_output_multipliers_equal_pymrio(io, table):
    m = sc.static.output_multipliers(table)
    assert m.dims == ("region", "sector")
    mp = io.L.sum(axis=0).to_numpy()
    rel = np.max(np.abs(m.values.ravel() - mp) / mp)
    assert rel < RTOL, rel


def test_extension_multipliers_equal_pymrio(io):
    # pymrio's multipliers of an extension are M = S L, with S = F x^-1; simcore's value
    # added multipliers c' L with c = V x^-1 are the same thing for the VA extension.
    t = sc.from_pymrio(io, va_extension="factor_inputs", check=False)
    m = sc.static.value_added_multipliers(t).values.ravel()
    mp = io.factor_inputs.M.to_numpy().ravel()
    assert np.max(np.abs(m - mp) / np.abs(mp)) < RTOL


def test_default_value_added_multipliers_are_one(table):
    np.testing.assert_allclose(sc.static.value_added_multipliers(table).values, 1.0,
                               rtol=1e-12)


# --------------------------------------------------------------------------------------
# to_pymrio
# --------------------------------------------------------------------------------------
def test_round_trip_preserves_Z_Y_x(io, table):
    back = sc.to_pymrio(table)
    for k in ("Z", "Y", "x"):
        # pymrio's test Y stores one all-zero column as int64; values and labels are exact.
        pd.testing.assert_frame_equal(getattr(back, k), getattr(io, k), check_dtype=False,
                                      rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back.calc_all()
    np.testing.assert_allclose(back.L.to_numpy(), io.L.to_numpy(), rtol=1e-13)
    assert list(back.get_extensions()) == ["factor_inputs"]
    np.testing.assert_array_equal(back.factor_inputs.F.to_numpy(), tables.flat(table)["V"])
    assert set(back.unit["unit"]) == {"Mill USD"}


def test_single_region_table_round_trip(japan37):
    p = sc.to_pymrio(japan37, region="JPN")
    assert list(p.get_regions()) == ["JPN"]
    f = tables.flat(japan37)
    # exports and (negative) imports become final-demand categories: x = Z 1 + Y 1
    ncat = japan37.sizes["final_demand"] + japan37.sizes["export_item"] + \
        japan37.sizes["import_item"]
    assert p.Y.shape == (37, ncat)
    np.testing.assert_allclose(p.Z.to_numpy().sum(1) + p.Y.to_numpy().sum(1), f["x"],
                               rtol=1e-12, atol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.calc_all()
    np.testing.assert_allclose(p.L.sum(axis=0).to_numpy(),
                               sc.static.output_multipliers(japan37).values, rtol=1e-12)
    t = sc.from_pymrio(p, va_extension="factor_inputs", atol=1e-3)
    assert list(t.va_item.values) == list(japan37.va_item.values)
    assert list(t.in_gdp.values) == list(japan37.in_gdp.values)
    assert tables.gdp(t) == pytest.approx(tables.gdp(japan37), rel=1e-12)


def test_to_pymrio_rejects_clashing_item_names():
    t = tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]], [[650, 1400]],
                           E=[[0.0], [0.0]], export_items=["fd0"], unit="$")
    with pytest.raises(LabelError, match="clashes"):
        sc.to_pymrio(t)


# --------------------------------------------------------------------------------------
# Missing pymrio
# --------------------------------------------------------------------------------------
def test_missing_pymrio_raises_clear_error(monkeypatch, table, mb23):
    monkeypatch.setitem(sys.modules, "pymrio", None)  # makes `import pymrio` fail
    for call in (lambda: sc.from_pymrio(object()), lambda: sc.to_pymrio(mb23)):
        with pytest.raises(MissingDependencyError, match=r'pip install "simcore\[pymrio\]"') \
                as info:
            call()
        assert isinstance(info.value, ImportError)
        assert isinstance(info.value, SimcoreError)


# --------------------------------------------------------------------------------------
# Docstring examples
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [pymrio_bridge.from_pymrio, pymrio_bridge.to_pymrio,
                                 tables.import_split])
def test_docstring_examples(obj):
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(obj, obj.__name__, globs={})
    assert tests and tests[0].examples
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in tests:
            runner.run(t)
    assert runner.failures == 0


# --------------------------------------------------------------------------------------
# simcore.tables: productivity check, GDP items, import_split
# --------------------------------------------------------------------------------------
def _no_eigvals(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("np.linalg.eigvals should not be needed")

    monkeypatch.setattr(np.linalg, "eigvals", boom)


def test_japan185_validation_needs_no_eigenvalues(monkeypatch, japan185, japan37):
    f = tables.flat(japan185)
    assert np.abs(tables._A(f["Z"], f["x"])).sum(0).max() >= 1.0 - 1e-12  # the old trigger
    _no_eigvals(monkeypatch)
    tables.validate(japan185)
    tables.validate(japan37)


def test_productive_despite_column_sum_above_one_needs_no_eigenvalues(monkeypatch):
    # A = [[0, 1], [0, 0.5]]: column sum 1.5, spectral radius 0.5.
    _no_eigvals(monkeypatch)
    t = tables.from_arrays([[0, 200], [0, 100]], [[-100], [100]], [[100, -100]],
                           sectors=["a", "b"], unit="$")
    assert tables.technical_coefficients(t).values.sum(0).max() == pytest.approx(1.5)


def test_eigenvalue_fallback_when_the_bound_fails(monkeypatch):
    # A = [[0.5, -0.6], [0.6, 0.5]]: rho(A) = |0.5 +- 0.6i| = 0.78, but rho(|A|) = 1.1.
    calls = []
    real = np.linalg.eigvals
    monkeypatch.setattr(np.linalg, "eigvals", lambda a: calls.append(1) or real(a))
    tables.from_arrays([[50, -60], [60, 50]], [[110], [-10]], [[-10, 110]],
                       sectors=["a", "b"], unit="$")
    assert calls


def test_non_productive_table_raises_naming_the_sector():
    # A = [[0.6, 0.5], [0.5, 0.7]]: spectral radius 1.16; largest column sum at "b".
    with pytest.raises(NonProductiveError, match=r"not productive.*sector 'b'"):
        tables.from_arrays([[60, 50], [50, 70]], [[-10], [-20]], [[-10, -20]],
                           sectors=["a", "b"], unit="$")


def test_radius_bound_is_an_upper_bound():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        B = rng.random((n, n)) * (rng.random((n, n)) < 0.3) * rng.uniform(0.1, 3.0) / max(n, 1)
        rho = float(np.max(np.abs(np.linalg.eigvals(B)))) if n else 0.0
        assert tables._radius_bound(B) >= rho - 1e-12
    assert tables._radius_bound(np.zeros((3, 3))) == 0.0


def test_imports_item_is_not_gdp(japan37):
    assert "imports" in tables.GDP_EXCLUDED_VA_ITEMS
    assert tables.VA_COMPONENTS["imports"] == "imports_of_foreign_industries"
    t, _ = sc.transform.prepare_for_dynamics(japan37)
    s = sc.transform.split_imports(t)
    imp = s.sel(va_item=sc.transform.IMPORTS_VA_ITEM)
    assert not bool(imp.in_gdp)
    assert str(imp.component.values) == "imports_of_foreign_industries"
    assert tables.gdp(s) == pytest.approx(tables.gdp(t), rel=1e-12)


def test_import_split(japan37):
    s = tables.import_split(japan37)
    A = tables.technical_coefficients(japan37).values
    mu = tables.import_shares(japan37).values
    np.testing.assert_allclose(s["A_d"] + s["A_m"], A, rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(s["A_m"], tables.import_coefficients(japan37).values)
    np.testing.assert_allclose(s["f_m"], mu * tables.flat(japan37)["Y"].sum(1))
    # A_d is the matrix behind domestic=True
    m = np.linalg.solve((np.eye(37) - s["A_d"]).T, np.ones(37))
    np.testing.assert_allclose(m, sc.static.output_multipliers(japan37, domestic=True).values,
                               rtol=1e-12)
