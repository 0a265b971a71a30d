"""Tests of the embedded datasets (:mod:`simcore.datasets`) and the CSV readers.

Every figure checked here is from ``simcore/datasets/_source/japan-io-2015/PROVENANCE.md``
(総務省 平成27年（2015年）産業連関表, the MIC 2015 Input-Output Tables for Japan, basic
transactions at producer prices, competitive-import type, million yen):

* §1.4 -- balance identities hold with max |residual| = 0; negative cells (92 intermediate
  cells totalling -363,050 in the 185 table; one, 26 -> 21 = -6, in the 37 table; 8 and 14
  negative domestic final-demand cells besides stock changes); spectral radius of A (37)
  0.559; GVA = final demand - imports.
* §1.5 -- total gross output 1,017,818,388 (also matched by an independent FABIO script).
* §1.6 -- totals of intermediate transactions, value added, final demand and imports.

The tables are integers in million yen stored exactly, so totals are compared exactly.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

import simcore as sc
from simcore import datasets as ds
from simcore.datasets import _build
from simcore import tables as tb
from simcore.errors import DataError

JAPAN = ("japan37", "japan185")

#: PROVENANCE §1.6 (million yen).
GROSS_OUTPUT = 1_017_818_388
INTERMEDIATE = 469_579_674
GVA = 548_238_714
GDP_LIKE = 533_183_214  # GVA excluding 家計外消費支出 (ohcr)
OHCR = 15_055_500
VA_COMPONENTS = {
    "compensation_of_employees": 265_799_218,
    "operating_surplus": 103_905_324,
    "consumption_of_fixed_capital": 131_071_119,
    "outside_household_consumption": OHCR,
}
INDIRECT_TAXES = 35_667_962
SUBSIDIES = -3_260_409
#: 37-sector final-demand codes; the 185 items map onto them (npco -> hhco, govc/gosc -> gvco).
FINAL_DEMAND = {
    "hhco": 305_616_414,
    "gvco": 105_529_331,
    "invg": 28_141_456,
    "invp": 108_791_468,
    "stck": 503_254,
    "ohcc": OHCR,
}
EXPORTS = 86_769_418
IMPORTS = {"impo": 93_036_242, "imta": 1_042_351, "imtx": 8_089_534}
FD_185_TO_37 = {"npco": "hhco", "govc": "gvco", "gosc": "gvco"}
IMPORTS_185_TO_37 = {"impd": "impo"}


@pytest.fixture(params=JAPAN)
def japan(request):
    return request.getfixturevalue(request.param)


# --------------------------------------------------------------------------------------
# Balances and published totals
# --------------------------------------------------------------------------------------
def test_balances_hold_to_the_yen(japan):
    """PROVENANCE §1.4 (a)-(c): max |residual| = 0 (the check allows 0.5 million yen)."""
    row, col = tb.balance_residuals(japan)
    assert np.abs(row).max() <= 0.5 and np.abs(col).max() <= 0.5
    assert np.abs(row).max() == 0.0 and np.abs(col).max() == 0.0
    f = tb.flat(japan)
    # all cells are whole million yen
    for k in ("Z", "Y", "E", "M", "V", "x"):
        assert np.array_equal(f[k], np.round(f[k])), k


def test_totals_match_provenance(japan):
    """PROVENANCE §1.5-1.6 totals, million yen."""
    assert float(japan.x.sum()) == GROSS_OUTPUT
    assert float(japan.Z.sum()) == INTERMEDIATE
    assert float(japan.V.sum()) == GVA
    assert tb.gdp(japan) == GDP_LIKE
    assert float(japan.V.sel(va_item="ohcr").sum()) == OHCR
    comp = japan.V.groupby("component").sum(...)
    for c, v in VA_COMPONENTS.items():
        assert float(comp.sel(component=c)) == v, c
    assert float(japan.V.sel(va_item="idtx").sum()) == INDIRECT_TAXES
    assert float(japan.V.sel(va_item="subs").sum()) == SUBSIDIES
    fd = japan.Y.sum("sector").to_series()
    fd = fd.groupby(lambda k: FD_185_TO_37.get(k, k)).sum()
    assert fd.to_dict() == FINAL_DEMAND
    assert float(japan.E.sum()) == EXPORTS
    m = japan.M.sum("sector").to_series()
    m = m.groupby(lambda k: IMPORTS_185_TO_37.get(k, k)).sum()
    assert m.to_dict() == IMPORTS
    # GVA = final demand - imports: 548,238,714 = 563,637,423 + 86,769,418 - 102,168,127
    assert float(japan.Y.sum()) == 563_637_423
    assert float(japan.M.sum()) == 102_168_127
    assert float(japan.Y.sum() + japan.E.sum() - japan.M.sum()) == GVA


def test_gross_output_equals_source_checks_file(japan):
    n = japan.sizes["sector"]
    src = ds.source_dir() / "japan-io-2015" / f"io2015_{n}_output_and_checks.csv"
    chk = pd.read_csv(src, dtype={"code": str}).set_index("code")
    assert np.array_equal(chk.loc[japan.sector.values, "gross_output"].to_numpy(float),
                          japan.x.values)
    for c in ("resid_inputs_vs_output", "resid_sales_vs_output",
              "resid_row_total_vs_col_total"):
        assert (chk[c] == 0).all()


def test_negative_cells(japan37, japan185):
    """PROVENANCE §1.4: MIC's minus-input treatment of scrap and by-products."""
    z185 = japan185.Z.values
    assert int((z185 < 0).sum()) == 92
    assert float(z185[z185 < 0].sum()) == -363_050
    neg37 = japan37.Z.where(japan37.Z < 0).to_series().dropna()
    assert neg37.to_dict() == {("26", "21"): -6.0}
    # negative domestic final-demand cells: 8 (37) and 14 (185) besides stock changes
    for t, n_other, n_all in ((japan37, 8, 18), (japan185, 14, 77)):
        assert int((t.Y.drop_sel(final_demand="stck") < 0).sum()) == n_other
        assert int((t.Y < 0).sum()) == n_all
    # no negative exports, imports or output
    for t in (japan37, japan185):
        assert float(t.E.min()) >= 0 and float(t.M.min()) >= 0 and float(t.x.min()) > 0


def test_zero_value_added_sectors(japan37, japan185):
    """PROVENANCE §1.4: 68 (office supplies, a dummy sector) has no value added; A's column
    sum is 1.  In the 185 table: 5731, 5732 (self-transport) and 6811."""
    v37 = japan37.V.sum("va_item")
    assert v37.sel(sector="68").item() == 0
    assert int((v37 == 0).sum()) == 1
    a = tb.technical_coefficients(japan37).sel(sector_to="68").sum().item()
    assert a == pytest.approx(1.0, abs=1e-12)
    v185 = japan185.V.sum("va_item")
    assert sorted(v185.sector.values[v185.values == 0].tolist()) == ["5731", "5732", "6811"]


def test_spectral_radius_37():
    """PROVENANCE §1.4: spectral radius of A (37 sectors) is 0.559; (I - A) invertible."""
    t = ds.load("japan-2015-37")
    rho = tb.spectral_radius(tb.technical_coefficients(t).values)
    assert round(rho, 3) == 0.559
    assert np.all(np.isfinite(tb.leontief_inverse(t).values))


def test_miller_blair(mb23):
    """Miller & Blair (2009) Table 2.3 (FACTS §6)."""
    assert mb23.Z.values.tolist() == [[150.0, 500.0], [200.0, 100.0]]
    assert mb23.x.values.tolist() == [1000.0, 2000.0]
    assert mb23.Y.values.tolist() == [[350.0], [1700.0]]
    assert mb23.attrs["unit"] == "$ million"


# --------------------------------------------------------------------------------------
# Labels and provenance
# --------------------------------------------------------------------------------------
def test_labels_names_and_provenance(japan):
    n = japan.sizes["sector"]
    codes = japan.sector.values.tolist()
    src = pd.read_csv(ds.source_dir() / "japan-io-2015" / f"io2015_{n}_sectors.csv",
                      dtype={"code": str}).sort_values("order")
    assert codes == src.code.tolist()  # MIC codes, in MIC's order
    assert all(len(c) == (2 if n == 37 else 4) and c.isdigit() for c in codes)
    assert codes == sorted(codes)
    assert japan.name_en.values.tolist() == src.name_en.tolist()
    assert japan.name_ja.values.tolist() == src.name_ja.tolist()
    assert all(japan.name_en.values) and all(japan.name_ja.values)
    if n == 37:
        assert japan.name_ja.sel(sector="27").item() == "非鉄金属"
        assert japan.name_en.sel(sector="35").item() == "Transportation equipment"
    else:
        assert japan.name_ja.sel(sector="2711").item().startswith("非鉄金属")
    for dim in ("final_demand", "export_item", "import_item", "va_item"):
        assert all(japan[f"{dim}_name_en"].values) and all(japan[f"{dim}_name_ja"].values)
    assert japan.va_item_name_ja.sel(va_item="ohcr").item().startswith("家計外消費支出")
    assert not bool(japan.in_gdp.sel(va_item="ohcr"))
    a = japan.attrs
    assert "総務省" in a["source"] and "平成27年（2015年）産業連関表" in a["source"]
    assert "Ministry of Internal Affairs and Communications" in a["source"]
    assert "MIC" in a["provenance"] and "f1c4129a" in a["provenance"]
    assert "総務省" in a["licence"]
    assert a["unit"] == "million JPY" and a["year"] == 2015
    assert a["import_type"] == "competitive" and a["price_basis"] == "producer prices"
    assert a["dataset"] == f"japan-2015-{n}"
    assert tb.history(japan) == []


def test_available_and_load_returns_copies():
    assert ds.available() == ["japan-2015-37", "japan-2015-185", "miller-blair-2.3",
                              "jcr-2015-39"]
    a, b = ds.load("japan-2015-37"), ds.load("japan-2015-37")
    a.attrs["title"] = "changed"
    assert b.attrs["title"] != "changed"


# --------------------------------------------------------------------------------------
# Build script and file errors
# --------------------------------------------------------------------------------------
def test_build_reproduces_committed_data(tmp_path):
    written = _build.build(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.npz" for n in ds.available())
    for name in ds.available():
        new_arrays, new_meta = ds.read_npz(tmp_path / f"{name}.npz")
        old_arrays, old_meta = ds.read_npz(ds.path(name))
        assert new_meta == old_meta, name
        for k, v in old_arrays.items():
            if name == "jcr-2015-39":  # a linear solve: equal to the yen, not bit for bit
                assert np.allclose(new_arrays[k], v, rtol=1e-12, atol=2e-6), (name, k)
                continue
            assert new_arrays[k].dtype == v.dtype and np.array_equal(new_arrays[k], v), (name, k)


def test_unknown_dataset_raises_data_error():
    with pytest.raises(DataError, match="'japan-2099'"):
        ds.load("japan-2099")


@pytest.fixture
def data_in_tmp(tmp_path, monkeypatch):
    """The dataset folder redirected to a temporary copy (and the load cache cleared)."""
    for name in ds.available():
        shutil.copy(ds.path(name), tmp_path / f"{name}.npz")
    ds._load_cached.cache_clear()
    monkeypatch.setattr(ds, "_DATA", tmp_path)
    yield tmp_path
    ds._load_cached.cache_clear()


def test_corrupt_file_raises_data_error_naming_it(data_in_tmp):
    bad = data_in_tmp / "japan-2015-37.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match="japan-2015-37.npz"):
        ds.load("japan-2015-37")
    with pytest.raises(DataError, match="japan-2015-37.npz"):
        ds.read_npz(bad)


def test_missing_file_and_missing_key_raise_data_error(data_in_tmp):
    (data_in_tmp / "japan-2015-185.npz").unlink()
    with pytest.raises(DataError, match="japan-2015-185.npz"):
        ds.load("japan-2015-185")
    arrays, meta = ds.read_npz(ds._SOURCE.parent / "data" / "miller-blair-2.3.npz")
    p = data_in_tmp / "miller-blair-2.3.npz"
    del arrays["V"]
    np.savez_compressed(p, meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(DataError, match="miller-blair-2.3.npz"):
        ds.load("miller-blair-2.3")


# --------------------------------------------------------------------------------------
# CSV readers and writer
# --------------------------------------------------------------------------------------
def _assert_equal_tables(a, b):
    """Equal by label (item order may differ), every cell exactly."""
    assert a.sector.values.tolist() == b.sector.values.tolist()
    for dim in ("final_demand", "export_item", "import_item", "va_item"):
        assert sorted(a[dim].values.tolist()) == sorted(b[dim].values.tolist()), dim
    for k in ("Z", "Y", "E", "M", "V", "x"):
        bb = b[k].transpose(*a[k].dims)
        assert a[k].dims == bb.dims
        aa, bb = np.asarray(a[k].values), np.asarray(bb.sel({d: a[d] for d in a[k].dims}).values)
        assert np.array_equal(aa, bb), k


def test_long_csv_equals_embedded_37(japan37):
    src = ds.source_dir() / "japan-io-2015" / "io2015_37_long.csv"
    t = tb.from_csv(src, layout="long")
    _assert_equal_tables(t, japan37)
    t2 = tb.from_csv(src, layout="long", final_demand=japan37.final_demand.values.tolist())
    assert t2.final_demand.values.tolist() == japan37.final_demand.values.tolist()


def test_wide_csv_equals_embedded_185(japan185, tmp_path):
    src = ds.source_dir() / "japan-io-2015"
    # as a file prefix (the source folder holds both the 37 and the 185 files)
    t = tb.from_csv(f"{src}/io2015_185_", layout="wide")
    _assert_equal_tables(t, japan185)
    assert t.final_demand.values.tolist() == japan185.final_demand.values.tolist()
    # as a directory
    for part in ("intermediate", "final_demand", "value_added"):
        shutil.copy(src / f"io2015_185_{part}.csv", tmp_path)
    _assert_equal_tables(tb.from_csv(tmp_path, layout="wide"), japan185)
    # the same for the 37 table
    _assert_equal_tables(tb.from_csv(f"{src}/io2015_37_", layout="wide"),
                         ds.load("japan-2015-37"))


def test_to_csv_round_trip(japan185, mb23, tmp_path):
    for t, name in ((japan185, "j185.csv"), (mb23, "mb.csv")):
        p = tb.to_csv(t, tmp_path / name)
        back = tb.from_csv(
            p, layout="long", sectors=t.sector.values.tolist(),
            final_demand=t.final_demand.values.tolist(),
            va_items=t.va_item.values.tolist(), export_items=t.export_item.values.tolist(),
            import_items=t.import_item.values.tolist(),
        )
        _assert_equal_tables(back, t)
    p = tb.to_csv(japan185, tmp_path / "pos.csv", imports_negative=False)
    back = tb.from_csv(p, layout="long", imports_negative=False)
    # without `sectors`, sector order is that of first appearance in the file: a sector that
    # sells no intermediate goods (1141) comes after the others
    assert sorted(back.sector.values.tolist()) == japan185.sector.values.tolist()
    _assert_equal_tables(back.sel(sector=japan185.sector, sector_to=japan185.sector_to),
                         japan185)
    assert not list(tmp_path.glob(".tmp-*"))


def test_to_csv_round_trip_after_transform(japan37, tmp_path):
    p, _ = sc.transform.prepare_for_dynamics(japan37)
    back = tb.from_csv(tb.to_csv(p, tmp_path / "p.csv"), layout="long",
                       final_demand=p.final_demand.values.tolist(),
                       import_items=p.import_item.values.tolist())
    # the all-zero `nadj` final-demand column is not written (only non-zero cells are)
    assert "nadj" in p.final_demand.values and "nadj" in back.va_item.values
    f1, f2 = tb.flat(p), tb.flat(back)
    for k in ("Z", "Y", "E", "M", "V", "x"):
        assert np.array_equal(f1[k], f2[k]), k


@pytest.mark.parametrize("name", sc.datasets.available())
@pytest.mark.parametrize("factor", [1.0, 1.1, 1.23456789, 3e5, 7.77e-3])
def test_gdp_is_the_sum_of_value_added_gdp_to_the_bit(name, factor):
    """``tables.gdp`` sums the bare arrays (no labelled arrays: it is on the path of every
    scenario run) in the order ``value_added_gdp(table).sum()`` does: equal to the bit,
    single-region and multi-regional, also with an item left out of GDP."""
    t = sc.datasets.load(name)
    if factor != 1.0:
        t = sc.transform.rescale(t, factor)
    assert sc.tables.gdp(t) == float(sc.tables.value_added_gdp(t).sum())
    flags = t.in_gdp.values.copy()
    flags[0] = not flags[0]
    t2 = t.assign_coords(in_gdp=("va_item", flags))
    assert sc.tables.gdp(t2) == float(sc.tables.value_added_gdp(t2).sum())
