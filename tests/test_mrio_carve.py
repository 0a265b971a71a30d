"""Carving products out of a multi-regional table (simcore.mrio_carve; docs/mrio.md,
"Carving products out of an MRIO"): balance, totals, the data honoured (use by region,
origin shares, users' value shares, column shares), aggregating back, spec files and their
errors, pymrio's test system, and random MRIOs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore import tables as tb
from simcore import transform as tr
from simcore.errors import LabelError, ScenarioError, TableError
from simcore.mrio_carve import carve_mrio, carve_out_mrio, load_mrio_spec
from simcore.carve_spec import dependency_shares

from test_mrio import random_mrio

USE = {"JPN": 1e5, "CHN": 3e5, "ROW": 2e5}
ORIGINS = {"JPN": {"JPN": 0.5, "CHN": 0.4, "ROW": 0.1}, "*": {"CHN": 0.9, "ROW": 0.1}}


@pytest.fixture(scope="module")
def jcr():
    return sc.datasets.load("jcr-2015-39")


def _merged_back(c, parent, new):
    return tr.aggregate(c, {s: (parent if s == new else s) for s in map(str, c.sector.values)})


def _check_totals(t, c, parent, new):
    tb.check_table(c, "carved")  # balanced and productive
    for v in ("Z", "Y", "V", "x"):
        a, b = float(c[v].sum()), float(t[v].sum())
        assert a == pytest.approx(b, rel=1e-12)
    back = _merged_back(c, parent, new)
    for v in ("Z", "Y", "V", "x", "E", "M"):
        np.testing.assert_allclose(back[v].values, t[v].values, rtol=1e-12,
                                   atol=1e-12 * float(np.abs(t.x).max()))


def test_carve_keeps_the_table_and_honours_the_data(jcr):
    fd = str(jcr.final_demand.values[0])
    users = {"35": 0.3, "33": 0.1, fd: 0.05}
    c = carve_out_mrio(jcr, "33", "GA", use=USE, origins=ORIGINS, users=users,
                       column_shares={"27": 0.001, "wage": 0.02}
                       if "wage" in jcr.va_item.values else {"27": 0.001})
    _check_totals(jcr, c, "33", "GA")
    secs = [str(s) for s in c.sector.values]
    assert secs[secs.index("33") + 1] == "GA"
    regions = [str(r) for r in c.region.values]
    O = np.array([[ORIGINS.get(s, ORIGINS["*"]).get(o, 0.0) for o in regions] for s in regions])
    P = np.array([USE[s] for s in regions])
    # output by region: what the buyer regions buy from it
    np.testing.assert_allclose(c.x.sel(sector="GA").values, O.T @ P, rtol=1e-12)
    Zg = c.Z.sel(sector="GA")  # (origin, region_to, sector_to)
    Yg = c.Y.sel(sector="GA")  # (origin, region_to, final_demand)
    bought = Zg.sum("sector_to") + Yg.sum("final_demand")  # (origin, buyer region)
    # purchases by buyer region, and the origin shares as data
    np.testing.assert_allclose(bought.sum("region").values, P, rtol=1e-12)
    np.testing.assert_allclose((bought / bought.sum("region")).values.T, O, atol=1e-12)
    # listed users' value shares, in every region (the parent as a buyer: its column
    # before the split, so both pieces)
    for s in regions:
        for u, v in users.items():
            cols = ["33", "GA"] if u == "33" else [u]
            got = (float(Zg.sel(region_to=s, sector_to=cols).sum()) if u in secs else
                   float(Yg.sel(region_to=s, final_demand=u).sum()))
            assert got == pytest.approx(v * USE[s], rel=1e-12)
    # the listed column share, from every supplying region
    for r in regions:
        a = c.Z.sel(sector="27", region_to=r, sector_to="GA").values
        b = jcr.Z.sel(sector="27", region_to=r, sector_to="33").values
        np.testing.assert_allclose(a, 0.001 * b, rtol=1e-12)
    # it runs, and an export cut of the new product from China hurts its buyers
    res = sc.simulate(c, sc.ExportCut(product="GA", origin="CHN", share=1.0, duration=30),
                      params=sc.DynamicParams(dependency_by_product={"GA": {"35": 0.5}}),
                      days=60, record=())
    assert (res.gdp_loss_by_region.values > 0).all()


def test_carve_errors_name_what_is_wrong(jcr):
    kw = dict(use=USE, origins=ORIGINS)
    with pytest.raises(LabelError, match="'99'"):
        carve_out_mrio(jcr, "99", "GA", **kw)
    with pytest.raises(LabelError, match="already exists"):
        carve_out_mrio(jcr, "33", "MAG", **kw)
    with pytest.raises(LabelError, match="unknown region 'XXX'"):
        carve_out_mrio(jcr, "33", "GA", use={"XXX": 1.0}, origins=ORIGINS)
    with pytest.raises(TableError, match="'JPN' sum to 0.9"):
        carve_out_mrio(jcr, "33", "GA", use=USE, origins={"*": {"CHN": 0.9}})
    with pytest.raises(TableError, match="origin 'JPN' would sell"):
        carve_out_mrio(jcr, "33", "GA", use={"CHN": 1e5}, origins={"CHN": {"JPN": 1.0}},
                       users={"35": 1.0})
    with pytest.raises(LabelError, match="'nope'"):
        carve_out_mrio(jcr, "33", "GA", users={"nope": 0.1}, **kw)
    with pytest.raises(TableError, match="common share"):
        carve_out_mrio(jcr, "33", "GA", column_shares={"27": 1.0}, **kw)
    with pytest.raises(TableError, match="multi-regional"):
        carve_out_mrio(sc.datasets.load("miller-blair-2.3"), "1", "GA", **kw)


SPEC = """
[products.GA]
name_en = "Gallium"
order = 2
  [products.GA.parents.33]
  use = { JPN = 100000, CHN = 300000, ROW = 200000 }
  column_shares = { "27" = 0.001 }
  [products.GA.parents.33.users]
  "35" = { value_share = 0.3, criticality = 0.8, embodied = 0.5, note = "cars" }
  "33" = { value_share = 0.1, criticality = 0.5, embodied = 0.2 }

[products.GB]
order = 1
  [products.GB.parents.27]
  use = { JPN = 5000 }
  [products.GB.parents.27.users]
  "26" = { value_share = 0.5, criticality = 1.0, embodied = 0.1 }

[origins.GA]
source = "test"
JPN = { JPN = 0.5, CHN = 0.4, ROW = 0.1 }
"*" = { CHN = 0.9, ROW = 0.1 }

[origins.GB]
JPN = { CHN = 1.0 }
"""


def test_spec_file_carves_in_order_and_gives_dependency_shares(jcr, tmp_path):
    f = tmp_path / "carve.toml"
    f.write_text(SPEC)
    spec = load_mrio_spec(f)
    c = carve_mrio(jcr, spec)
    secs = [str(s) for s in c.sector.values]
    assert secs.index("GB") == secs.index("27") + 1 and secs.index("GA") == secs.index("33") + 1
    tb.check_table(c, "carved")
    assert float(c.x.sum()) == pytest.approx(float(jcr.x.sum()), rel=1e-12)
    np.testing.assert_allclose(c.x.sel(sector="GB").values, [0.0, 5000.0, 0.0], atol=1e-9)
    assert dependency_shares(spec) == {"GA": {"*": 0.0, "35": 0.4, "33": 0.1},
                                       "GB": {"*": 0.0, "26": 0.1}}


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.replace("[origins.GB]\nJPN = { CHN = 1.0 }\n", ""), "origins.GB: missing"),
    (lambda s: s.replace("  [products.GB.parents.27]", "  [products.GB.parents.26]\n  use = {}\n"
                         "  [products.GB.parents.27]"), "exactly one parent"),
    (lambda s: s.replace("use = { JPN = 5000 }", "use = { JPN = -1 }"), "use.JPN = -1"),
    (lambda s: s.replace("criticality = 1.0", "criticality = 2.0"), "criticality = 2.0"),
    (lambda s: s.replace("\"*\" = { CHN = 0.9", "\"*\" = { CHN = 0.8"), "products.GA: .*sum to"),
    (lambda s: s.replace("order = 1", "order = 1\ncolour = 3"), "unknown key 'colour'"),
])
def test_spec_errors_name_the_file_and_key(jcr, tmp_path, edit, match):
    f = tmp_path / "carve.toml"
    f.write_text(edit(SPEC))
    with pytest.raises(ScenarioError, match=match) as ei:
        carve_mrio(jcr, load_mrio_spec(f))
    assert "carve.toml" in str(ei.value)


def test_pymrio_test_system():
    pymrio = pytest.importorskip("pymrio")
    t = sc.from_pymrio(pymrio.load_test().calc_all())
    regions = [str(r) for r in t.region.values]
    use = {r: 10.0 * (k + 1) for k, r in enumerate(regions)}
    origins = {"*": {regions[1]: 0.7, regions[3]: 0.3}}
    c = carve_out_mrio(t, "manufactoring", "magnets", use=use, origins=origins,
                       users={"electricity": 0.2})
    _check_totals(t, c, "manufactoring", "magnets")
    assert float(c.x.sel(sector="magnets", region=regions[1])) == pytest.approx(
        0.7 * sum(use.values()), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 5000), n=st.integers(2, 4), R=st.integers(2, 4),
       frac=st.floats(0.0001, 0.05), data=st.data())
def test_random_mrios_stay_balanced_or_refuse(seed, n, R, frac, data):
    t = random_mrio(seed, R=R, n=n, trade=0.4, density=1.0)
    regions = [str(r) for r in t.region.values]
    parent = f"s{data.draw(st.integers(0, n - 1))}"
    x = float(t.x.sel(sector=parent).sum())
    use = {r: data.draw(st.floats(0.0, 1.0)) * frac * x for r in regions}
    # origin shares: the table's own shares of the parent, mixed with random ones
    own = t.Z.sel(sector=parent).sum("sector_to") + t.Y.sel(sector=parent).sum("final_demand")
    lam = data.draw(st.floats(0.0, 0.5))
    origins = {}
    for r in regions:
        w = np.array([data.draw(st.floats(0.0, 1.0)) for _ in regions]) + 1e-3
        o = own.sel(region_to=r).values
        o = (1 - lam) * o / o.sum() + lam * w / w.sum()
        origins[r] = dict(zip(regions, o.tolist()))
    users = {f"s{data.draw(st.integers(0, n - 1))}": data.draw(st.floats(0.0, 0.5))}
    try:
        c = carve_out_mrio(t, parent, "new", use=use, origins=origins, users=users)
    except TableError as exc:  # the data ask more of a cell than the table has
        assert "would sell" in str(exc) or "common share" in str(exc) or "unlisted" in str(exc)
        return
    _check_totals(t, c, parent, "new")
    np.testing.assert_allclose(
        c.x.sel(sector="new").values,
        np.array([[origins[s][o] for o in regions] for s in regions]).T
        @ np.array([use[s] for s in regions]), rtol=1e-9, atol=1e-9 * x)
