"""Tests of :mod:`simcore.transform`.

Reference figures come from the MIC 2015 table's own totals (``simcore/datasets/_source/
japan-io-2015/PROVENANCE.md`` §1.4 and §1.6) and Kiuchi (2025) (Kiuchi's 607.9 trillion yen
denominator).  Tolerances: the Japan tables are integers in million yen, so aggregation of
them is exact (max |diff| = 0); carve-out and netting multiply by shares, so they are checked
to 1e-6 million yen (about 1e-14 relative to the largest cells).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import simcore as sc
from simcore import tables as tb
from simcore import transform as T
from simcore.errors import LabelError, ParameterError, ShockError, TableError

TOL = 1e-6  # million yen


def _totals(t):
    f = tb.flat(t)
    return {k: float(f[k].sum()) for k in ("Z", "Y", "E", "M", "V", "x")}


def _assert_balanced(t, tol=TOL):
    row, col = tb.balance_residuals(t)
    assert np.abs(row).max() <= tol
    assert np.abs(col).max() <= tol


def _assert_same_table(a, b, tol):
    assert a.sector.values.tolist() == b.sector.values.tolist()
    for dim in ("final_demand", "export_item", "import_item", "va_item"):
        assert a[dim].values.tolist() == b[dim].values.tolist()
    fa, fb = tb.flat(a), tb.flat(b)
    for k in ("Z", "Y", "E", "M", "V", "x"):
        assert np.abs(fa[k] - fb[k]).max(initial=0.0) <= tol, k


# --------------------------------------------------------------------------------------
# aggregate
# --------------------------------------------------------------------------------------
def test_japan_185_to_37_reproduces_the_37_table_exactly(japan37, japan185):
    """PROVENANCE §1.4: the 185 table aggregated to 37 equals the 37 file, max |diff| = 0."""
    agg = T.aggregate(japan185, T.japan_185_to_37())
    _assert_same_table(agg, japan37, tol=0.0)
    for c in ("name_en", "name_ja", "in_gdp", "component", "va_item_name_en",
              "final_demand_name_ja", "import_item_name_en"):
        assert agg[c].values.tolist() == japan37[c].values.tolist(), c
    h = tb.history(agg)[-1]
    assert h["name"] == "aggregate"
    assert h["parameters"]["concordance"]["2711"] == "27"
    assert h["changed"]["va_item"]["epin"] == ["wage", "ssce", "othp"]
    assert tb.history(japan185) == []  # input untouched


def test_japan_185_to_37_concordance():
    c = T.japan_185_to_37()
    assert len(c.sectors) == 185 and len(set(c.sectors.values())) == 37
    assert c.sectors["1911"] == "39" and c.sectors["3399"] == "33"
    assert c.va_items == {"wage": "epin", "ssce": "epin", "othp": "epin", "drsc": "depr"}
    assert c.final_demand == {"npco": "hhco", "govc": "gvco", "gosc": "gvco"}
    assert c.export_items == {"expd": "expo"} and c.import_items == {"impd": "impo"}
    assert c.order[:6] == ("01", "06", "11", "15", "16", "20")


def test_aggregate_accepts_dict_series_and_csv(mb23, tmp_path):
    m = {"1": "a", "2": "a"}
    p = tmp_path / "conc.csv"
    p.write_text("old,new\n1,a\n2,a\n")
    outs = [T.aggregate(mb23, m), T.aggregate(mb23, pd.Series(m)), T.aggregate(mb23, p)]
    for o in outs:
        assert o.Z.values.tolist() == [[950.0]]
        assert o.x.values.tolist() == [3000.0]
        assert o.Y.values.tolist() == [[2050.0]]
        assert o.name_en.values.tolist() == ["Sector 1 + Sector 2"]
    assert tb.history(outs[2])[-1]["parameters"]["concordance_file"] == str(p)


def test_aggregate_errors_name_the_culprit(mb23, japan37, tmp_path):
    with pytest.raises(LabelError, match="'2'"):
        T.aggregate(mb23, {"1": "a"})
    with pytest.raises(LabelError, match="'9'"):
        T.aggregate(mb23, {"1": "a", "2": "a", "9": "a"})
    with pytest.raises(LabelError, match="'1'.*more than once"):
        T.aggregate(mb23, pd.Series(["a", "b", "c"], index=["1", "1", "2"]))
    p = tmp_path / "bad.csv"
    p.write_text("a,b,c\n1,x,y\n")
    with pytest.raises(TableError, match="2 columns"):
        T.aggregate(mb23, p)
    ident = {s: s for s in japan37.sector.values.tolist()}
    with pytest.raises(LabelError, match="'wage'"):
        T.aggregate(japan37, ident, va_items={"wage": "epin"})
    with pytest.raises(LabelError, match="GDP status"):
        T.aggregate(japan37, ident, va_items={"ohcr": "epin"})


def test_aggregate_items_only_and_partial_maps(japan37):
    ident = {s: s for s in japan37.sector.values.tolist()}
    t = T.aggregate(japan37, ident, import_items={"imta": "impo", "imtx": "impo"},
                    final_demand={"invg": "gfcf", "invp": "gfcf"})
    assert t.import_item.values.tolist() == ["impo"]
    assert t.final_demand.values.tolist() == ["ohcc", "hhco", "gvco", "gfcf", "stck"]
    assert float(t.M.sum()) == float(japan37.M.sum())
    assert float(t.Y.sel(final_demand="gfcf").sum()) == 28_141_456 + 108_791_468


def test_aggregate_multiregional(japan37):
    p, _ = T.prepare_for_dynamics(japan37)
    s = T.split_imports(p)
    conc = {c: ("goods" if c < "41" else "services") for c in s.sector.values.tolist()}
    a = T.aggregate(s, conc)
    assert a.sizes["sector"] == 2 and a.region.values.tolist() == ["JPN", "ROW"]
    _assert_balanced(a, tol=1e-4)
    assert np.isclose(float(a.Z.sum()), float(s.Z.sum()), rtol=1e-14)
    assert np.isclose(tb.gdp(a), tb.gdp(japan37), rtol=1e-14)


# --------------------------------------------------------------------------------------
# carve_out
# --------------------------------------------------------------------------------------
def _conserved(before, after):
    tb_, ta = _totals(before), _totals(after)
    for k in tb_:
        assert abs(ta[k] - tb_[k]) <= 1e-9 * max(1.0, abs(tb_[k])), k
    assert abs(tb.gdp(after) - tb.gdp(before)) <= 1e-9 * tb.gdp(before)


def _back(carved, parent, new):
    return T.aggregate(carved, {s: (parent if s == new else s)
                                for s in carved.sector.values.tolist()})


def test_carve_out_default_shares_conserve_and_reverse(japan185):
    c = T.carve_out(japan185, "2711", "REM", output_share=0.02,
                    name_en="Rare-earth metals", name_ja="レアアース金属")
    secs = c.sector.values.tolist()
    assert secs[secs.index("2711") + 1] == "REM" and len(secs) == 186
    assert c.name_en.sel(sector="REM").item() == "Rare-earth metals"
    x0 = float(japan185.x.sel(sector="2711"))
    assert np.isclose(float(c.x.sel(sector="REM")), 0.02 * x0, rtol=1e-15)
    _assert_balanced(c)
    _conserved(japan185, c)
    # the new column is the parent's recipe, scaled
    a0 = tb.technical_coefficients(japan185).sel(sector_to="2711")
    a1 = tb.technical_coefficients(c).sel(sector_to="REM")
    a1p = a1.sel(sector="2711") + a1.sel(sector="REM")
    assert np.allclose(a1.drop_sel(sector=["REM", "2711"]),
                       a0.drop_sel(sector="2711"), atol=1e-12)
    assert np.isclose(float(a1p), float(a0.sel(sector="2711")), atol=1e-12)
    _assert_same_table(_back(c, "2711", "REM"), japan185, tol=TOL)
    assert tb.history(c)[-1]["name"] == "carve_out"


def test_carve_out_custom_shares_conserve_and_reverse(japan185):
    c = T.carve_out(
        japan185, "2711", "REM", output_share=0.01, import_share=0.05,
        row_shares={"3399": 0.4, "2029": 0.1, "expo": 0.0, "2711": 0.02},
        column_shares={"0629": 0.005, "opse": 0.0, "2711": 0.01},
    )
    _assert_balanced(c)
    _conserved(japan185, c)
    m0 = float(japan185.M.sel(sector="2711").sum())
    assert np.isclose(float(c.M.sel(sector="REM").sum()), 0.05 * m0, rtol=1e-14)
    z0 = float(japan185.Z.sel(sector="2711", sector_to="3399"))
    assert np.isclose(float(c.Z.sel(sector="REM", sector_to="3399")), 0.4 * z0, rtol=1e-14)
    assert float(c.E.sel(sector="REM").sum()) == 0.0
    assert float(c.V.sel(va_item="opse", sector="REM")) == 0.0
    # intra-industry block: Z_nn = r_p c_p z
    zpp = float(japan185.Z.sel(sector="2711", sector_to="2711"))
    assert np.isclose(float(c.Z.sel(sector="REM", sector_to="REM")), 0.02 * 0.01 * zpp)
    blk = c.Z.sel(sector=["2711", "REM"], sector_to=["2711", "REM"]).sum()
    assert np.isclose(float(blk), zpp, rtol=1e-14)
    _assert_same_table(_back(c, "2711", "REM"), japan185, tol=TOL)


def test_carve_out_star_key_and_imbalance(japan37):
    # everything listed and consistent: uniform shares equal to output_share
    c = T.carve_out(japan37, "27", "re", output_share=0.1, row_shares={"*": 0.1},
                    column_shares={"*": 0.1})
    _assert_balanced(c)
    with pytest.raises(ShockError, match="balance"):
        T.carve_out(japan37, "27", "re", output_share=0.1, row_shares={"*": 0.5})
    with pytest.raises(ShockError, match="common share"):
        T.carve_out(japan37, "27", "re", output_share=0.1, row_shares={"33": 1.0, "32": 1.0,
                                                                       "30": 1.0})


def test_carve_out_star_zero_for_unlisted_buyers(japan37):
    """Only the listed buyers take the new product (``"*": 0``), as simcore.carve_spec does."""
    s, mu = 0.01, 0.02
    x0 = float(japan37.x.sel(sector="27"))
    m0 = float(japan37.M.sel(sector="27").sum())
    sales = japan37.Z.sel(sector="27").to_series().sort_values(ascending=False)
    top = sales.index[:3].tolist()
    share = (s * x0 + mu * m0) / float(sales.iloc[:3].sum())
    c = T.carve_out(japan37, "27", "re", output_share=s, import_share=mu,
                    row_shares={**{b: share for b in top}, "*": 0.0})
    _assert_balanced(c)
    _conserved(japan37, c)
    buyers = c.Z.sel(sector="re").to_series()
    assert sorted(buyers[buyers > 0].index.tolist()) == sorted(
        (["re"] if "27" in top else []) + top)
    assert float(c.Y.sel(sector="re").sum()) == 0.0 and float(c.E.sel(sector="re").sum()) == 0


def test_carve_out_zero_output_share(japan37):
    c = T.carve_out(japan37, "27", "re", output_share=0.0, import_share=0.1)
    assert float(c.x.sel(sector="re")) == 0.0
    assert float(c.Z.sel(sector_to="re").sum()) == 0.0
    m0 = float(japan37.M.sel(sector="27").sum())
    assert np.isclose(float(c.Z.sel(sector="re").sum() + c.Y.sel(sector="re").sum()
                            + c.E.sel(sector="re").sum()), 0.1 * m0)
    _assert_balanced(c)
    with pytest.raises(ShockError, match="empty sector"):
        T.carve_out(japan37, "27", "re", output_share=0.0)


@pytest.mark.parametrize(
    ("kw", "exc", "key"),
    [
        ({"output_share": 1.5}, ShockError, "output_share"),
        ({"output_share": -0.1}, ShockError, "output_share"),
        ({"output_share": float("nan")}, ShockError, "output_share"),
        ({"output_share": 0.1, "import_share": 2}, ShockError, "import_share"),
        ({"output_share": 0.1, "row_shares": {"33": -0.2}}, ShockError, "'33'"),
        ({"output_share": 0.1, "column_shares": {"opse": 1.2}}, ShockError, "'opse'"),
        ({"output_share": 0.1, "row_shares": {"zz": 0.2}}, LabelError, "'zz'"),
        ({"output_share": 0.1, "column_shares": {"hhco": 0.2}}, LabelError, "'hhco'"),
    ],
)
def test_carve_out_rejects_bad_shares(japan37, kw, exc, key):
    with pytest.raises(exc, match=key):
        T.carve_out(japan37, "27", "re", **kw)


def test_carve_out_rejects_bad_labels(japan37, japan185):
    with pytest.raises(LabelError, match="'99'"):
        T.carve_out(japan37, "99", "re", output_share=0.1)
    with pytest.raises(LabelError, match="'26'"):
        T.carve_out(japan37, "27", "26", output_share=0.1)
    s = T.split_imports(T.prepare_for_dynamics(japan37)[0])
    with pytest.raises(TableError, match="single-region"):
        T.carve_out(s, "27", "re", output_share=0.1)


def test_carve_out_merged_rare_earths(japan185):
    """Rare-earth metals (2711) and compounds (2029) gathered into one product (MODELS §4.2)."""
    spec = {"2711": {"output_share": 0.01, "import_share": 0.03},
            "2029": {"output_share": 0.02, "row_shares": {"3399": 0.2}}}
    c = T.carve_out_merged(japan185, spec, "REE", name_en="Rare earths")
    secs = c.sector.values.tolist()
    assert len(secs) == 186 and secs[secs.index("2711") + 1] == "REE"
    assert not any("@" in s for s in secs)
    assert c.name_en.sel(sector="REE").item() == "Rare earths"
    x0 = japan185.x
    want = 0.01 * float(x0.sel(sector="2711")) + 0.02 * float(x0.sel(sector="2029"))
    assert np.isclose(float(c.x.sel(sector="REE")), want, rtol=1e-14)
    m0 = japan185.M.sum("import_item")
    want_m = 0.03 * float(m0.sel(sector="2711")) + 0.02 * float(m0.sel(sector="2029"))
    assert np.isclose(float(c.M.sel(sector="REE").sum()), want_m, rtol=1e-14)
    _assert_balanced(c)
    _conserved(japan185, c)
    h = tb.history(c)
    assert [e["name"] for e in h] == ["carve_out_merged"]
    assert len(h[0]["changed"]["pieces"]) == 2
    # a single-parent merge is an ordinary carve-out
    one = T.carve_out_merged(japan185, {"2711": {"output_share": 0.01}}, "REE")
    ref = T.carve_out(japan185, "2711", "REE", output_share=0.01)
    _assert_same_table(one, ref, tol=TOL)


def test_carve_out_merged_errors(japan37):
    with pytest.raises(ShockError, match="'share'"):
        T.carve_out_merged(japan37, {"27": {"share": 0.1}}, "re")
    with pytest.raises(ShockError, match="output_share"):
        T.carve_out_merged(japan37, {"27": {}}, "re")
    with pytest.raises(LabelError, match="'98'"):
        T.carve_out_merged(japan37, {"98": {"output_share": 0.1}}, "re")
    with pytest.raises(ShockError):
        T.carve_out_merged(japan37, {}, "re")


# --------------------------------------------------------------------------------------
# rescale
# --------------------------------------------------------------------------------------
def test_rescale_to_2024_gdp(japan37, japan185):
    """2015 GDP-like VA 533,183,214 (PROVENANCE §1.6) -> 607.9 tn yen (FACTS §2): x1.1401."""
    for t in (japan37, japan185):
        assert tb.gdp(t) == 533_183_214
        r = T.rescale(t, target_gdp=607.9e6, target_year=2024)
        assert round(r.attrs["rescale_factor"], 4) == 1.1401
        assert r.attrs["rescale_factor"] == pytest.approx(607.9e6 / 533_183_214, rel=1e-15)
        assert tb.gdp(r) == pytest.approx(607.9e6, rel=1e-12)
        assert r.attrs["rescale_target_gdp"] == 607.9e6
        assert r.attrs["rescale_target_year"] == 2024
        assert np.allclose(tb.technical_coefficients(r), tb.technical_coefficients(t),
                           rtol=1e-12, atol=1e-15)
        assert r.Z.attrs["units"] == t.Z.attrs["units"]
        _assert_balanced(r, tol=1e-6)
        assert tb.history(r)[-1]["name"] == "rescale"
    assert "rescale_factor" not in japan37.attrs


def test_rescale_factor_and_errors(mb23):
    r = T.rescale(T.rescale(mb23, 2.0), 3.0)
    assert r.x.values.tolist() == [6000.0, 12000.0]
    assert r.attrs["rescale_factor"] == 6.0
    for kw in ({}, {"factor": 2.0, "target_gdp": 1.0}, {"factor": 0.0},
               {"factor": float("inf")}, {"target_gdp": -5.0}):
        with pytest.raises(ParameterError):
            T.rescale(mb23, **kw)


# --------------------------------------------------------------------------------------
# prepare_for_dynamics
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "cells", "total"), [("japan37", 1, -6.0),
                                                      ("japan185", 92, -363_050.0)])
def test_prepare_for_dynamics(request, name, cells, total):
    """PROVENANCE §1.4: 92 negative Z cells (-363,050) in the 185 table, one (26->21, -6)
    in the 37 table."""
    t = request.getfixturevalue(name)
    p, rep = T.prepare_for_dynamics(t)
    assert rep.cells_moved == cells and rep.total_moved == total
    assert float(p.Z.min()) >= 0 and float(p.Y.min()) >= 0
    assert np.array_equal(p.x.values, t.x.values)
    _assert_balanced(p)
    assert tb.gdp(p) == tb.gdp(t)
    # the moved cells sit in VA item and FD column `nadj`
    assert float(p.V.sel(va_item="nadj").sum()) == total
    assert not bool(p.in_gdp.sel(va_item="nadj"))
    assert float(abs(p.Y.sel(final_demand="nadj")).sum()) == 0.0
    # totals: Z up by |total|; FD - M changes by the moved total (as VA does)
    assert float(p.Z.sum() - t.Z.sum()) == -total
    dfd = float(p.Y.sum() - t.Y.sum())
    dm = float(p.M.sum() - t.M.sum())
    assert dfd == pytest.approx(rep.final_demand_change, abs=1e-6)
    assert dm == pytest.approx(rep.imports_change, abs=1e-6)
    assert dfd - dm == pytest.approx(total, abs=1e-6)
    assert dm == pytest.approx(sum(rep.imports_raised.values()), abs=1e-6)
    assert rep.zero_output_sectors == ()
    json.dumps(rep.as_dict())
    assert "moved" in str(rep)
    assert tb.history(p)[-1]["name"] == "prepare_for_dynamics"
    # applying it again changes nothing
    p2, rep2 = T.prepare_for_dynamics(p)
    assert rep2.cells_moved == 0 and rep2.netted == {} and rep2.imports_raised == {}
    _assert_same_table(p2, p, tol=0.0)


def test_prepare_for_dynamics_37_details(japan37):
    p, rep = T.prepare_for_dynamics(japan37)
    assert rep.moved == (("26", "21", -6.0),)
    assert float(p.Z.sel(sector="26", sector_to="21")) == 0.0
    assert float(p.V.sel(va_item="nadj", sector="21")) == -6.0
    assert rep.negative_final_demand_cells == 18  # 8 plus 10 stock decreases
    # rows 06 and 26 have negative total domestic final demand: imports absorb the rest
    assert rep.imports_raised == {"06": 19_851.0, "26": 470_458.0}
    assert float(p.M.sel(sector="26", import_item="impo")
                 - japan37.M.sel(sector="26", import_item="impo")) == 470_458.0


def test_prepare_for_dynamics_zero_output_and_no_imports():
    t = tb.from_arrays([[0.0, -1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
                       [[9.0, -3.0], [3.0, 1.0], [0.0, 0.0]],
                       [[3.0, 7.0, 0.0]], sectors=["a", "b", "c"])
    p, rep = T.prepare_for_dynamics(t)
    assert rep.zero_output_sectors == ("c",)
    assert rep.cells_moved == 1 and rep.imports_raised == {} and rep.netted == {"a": 4.0}
    assert p.Y.sel(sector="a").values.tolist() == [5.0, 0.0, 0.0]
    assert float(p.Z.min()) >= 0 and float(p.Y.min()) >= 0
    assert np.array_equal(p.x.values, t.x.values)
    _assert_balanced(p)
    # a row with negative total final demand needs an import item; one is created
    t2 = tb.from_arrays([[0.0, 2.0], [0.0, 1.0]], [[-1.0], [5.0]], [[1.0, 3.0]],
                        sectors=["a", "b"])
    p2, rep2 = T.prepare_for_dynamics(t2)
    assert p2.import_item.values.tolist() == ["nadj"]
    assert rep2.imports_raised == {"a": 1.0}
    assert float(p2.M.sel(sector="a").sum()) == 1.0
    _assert_balanced(p2)


def test_prepare_for_dynamics_multiregional():
    # 2 regions x 2 sectors; A/s0 sells -1 to B/s1; B/s1 has a negative final-demand cell
    Z = np.array([[1, 0, 0, -1], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
    Y = np.array([[5, 0, 1, 0], [3, 0, 0, 0], [0, 0, 2, 0], [0, 0, 1, -0.5]])
    t = tb.from_arrays(Z, Y, [[5, 3, 2, 1.5]], regions=["A", "B"], sectors=["s0", "s1"],
                       final_demand=["c", "d"])
    p, rep = T.prepare_for_dynamics(t)
    assert rep.moved == (("A/s0", "B/s1", -1.0),)
    assert rep.netted == {"A/s0": 1.0, "B/s1": 0.5}
    assert float(p.V.sel(va_item="nadj", region="B", sector="s1")) == -1.0
    assert float(p.Z.min()) >= 0 and float(p.Y.min()) >= 0
    assert np.array_equal(p.x.values, t.x.values)
    _assert_balanced(p, tol=1e-12)
    # A/s0's final demand 6 (5 at home, 1 in B) nets the -1 moved to B's nadj column
    assert np.allclose(p.Y.sel(region="A", sector="s0", final_demand="c").values,
                       [5 * 5 / 6, 5 / 6])


# --------------------------------------------------------------------------------------
# split_imports
# --------------------------------------------------------------------------------------
def test_split_imports_japan37(japan37):
    """MODELS §4.1 / Test 9: the split reproduces Z, x and A = A^d + A^m."""
    p, _ = T.prepare_for_dynamics(japan37)
    s = T.split_imports(p)
    assert s.region.values.tolist() == ["JPN", "ROW"]
    tb.validate(s)
    f = tb.flat(s)
    n = 37
    rows = f["Z"].sum(1) + f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1)
    assert np.abs(rows - f["x"]).max() <= TOL
    Zj = s.Z.sel(region_to="JPN", region="JPN") + s.Z.sel(region_to="JPN", region="ROW")
    assert np.abs(Zj.values - p.Z.values).max() <= TOL
    assert float(abs(s.Z.sel(region_to="ROW")).max()) == 0.0
    Yj = s.Y.sel(region_to="JPN").sum("region").drop_sel(final_demand="expo")
    assert np.abs(Yj.values - p.Y.values).max() <= TOL
    assert np.array_equal(f["x"][:n], p.x.values)
    assert np.allclose(f["x"][n:], p.M.sum("import_item").values, rtol=1e-15)
    exp = s.Y.sel(region="JPN", region_to="ROW", final_demand="expo")
    assert np.allclose(exp.values, p.E.sel(export_item="expo").values, rtol=1e-15)
    A = tb.technical_coefficients(p).values
    As = tb.technical_coefficients(s)
    Ad = As.sel(region="JPN", region_to="JPN").values
    Am = As.sel(region="ROW", region_to="JPN").values
    assert np.abs(Ad + Am - A).max() <= 1e-14
    mu = tb.import_shares(p).values
    assert np.allclose(Am, mu[:, None] * A, atol=1e-15)
    assert tb.gdp(s) == pytest.approx(tb.gdp(japan37), abs=1e-6)
    assert not bool(s.in_gdp.sel(va_item=T.IMPORTS_VA_ITEM))
    assert s.attrs["import_type"].startswith("non-competitive")
    assert [h["name"] for h in tb.history(s)] == ["prepare_for_dynamics", "split_imports"]


def test_split_imports_japan185(japan185):
    s = T.split_imports(T.prepare_for_dynamics(japan185)[0])
    assert s.sizes["sector"] == 185 and s.final_demand.values.tolist()[-2:] == ["expo", "expd"]
    _assert_balanced(s, tol=1e-6)
    assert tb.gdp(s) == pytest.approx(533_183_214, abs=1e-6)


def test_split_imports_rejects_negative_cells_and_mrio(japan37):
    with pytest.raises(TableError, match=r"Z\['26', '21'\]"):
        T.split_imports(japan37)
    s = T.split_imports(T.prepare_for_dynamics(japan37)[0])
    with pytest.raises(TableError, match="single-region"):
        T.split_imports(s)


def test_split_imports_reexports():
    # product a: use 4, imports 6 (2 re-exported), exports 5, output 3
    t = tb.from_arrays([[1.0, 0.0], [0.0, 0.0]], [[3.0], [2.0]], [[2.0, 2.0]],
                       sectors=["a", "b"], E=[[5.0], [0.0]], M=[[6.0], [0.0]],
                       x=[3.0, 2.0])
    s = T.split_imports(t)
    assert float(s.x.sel(region="ROW", sector="a")) == 6.0
    assert float(s.Y.sel(region="ROW", region_to="ROW", sector="a").sum()) == 2.0
    assert float(s.Y.sel(region="JPN", region_to="ROW", sector="a").sum()) == 3.0
    _assert_balanced(s, tol=1e-12)
