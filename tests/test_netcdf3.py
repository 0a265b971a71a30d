"""simcore._netcdf3: the numpy reader of NetCDF classic files that loads the posterior.

Checked against xarray's reading (the ``scipy`` engine) of the shipped posterior and of
files of every classic type, in both classic formats; bad files raise errors that name the
file and what is wrong.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import xarray as xr

from simcore import calibrate
from simcore._netcdf3 import read
from simcore.errors import DataError


def _same(ds: xr.Dataset, path) -> None:
    vs, attrs = read(path)
    assert set(vs) == set(ds.variables)
    for name, var in ds.variables.items():
        dims, arr, _ = vs[name]
        assert dims == var.dims, name
        want = var.values
        if want.dtype.kind in "OU":
            assert [str(x) for x in arr.ravel()] == [str(x) for x in want.ravel()], name
        else:
            assert arr.dtype == want.dtype, name
            np.testing.assert_array_equal(arr, want, err_msg=name)
    assert set(attrs) == set(ds.attrs)
    for k, v in ds.attrs.items():
        if isinstance(v, str):
            assert attrs[k] == v, k
        else:
            np.testing.assert_array_equal(attrs[k], v, err_msg=k)


def test_shipped_posterior_reads_as_xarray_reads_it():
    p = calibrate.POSTERIOR_FILE
    _same(xr.load_dataset(p, engine="scipy"), p)
    post = calibrate.load_posterior()
    ds = xr.load_dataset(p, engine="scipy")
    np.testing.assert_array_equal(post.samples, ds["samples"].values)
    assert post.diagnostics == json.loads(ds.attrs["diagnostics"])


@pytest.mark.parametrize("fmt", ["NETCDF3_CLASSIC", "NETCDF3_64BIT"])
def test_every_classic_type_and_attribute(tmp_path, fmt):
    rng = np.random.default_rng(0)
    ds = xr.Dataset(
        {"f8": (("a", "b"), rng.normal(size=(3, 4))),
         "f4": (("b",), rng.normal(size=4).astype("f4")),
         "i4": (("a",), np.array([-5, 0, 2**31 - 1], dtype="i4")),
         "i2": (("b",), np.array([-3, 1, 2, 32767], dtype="i2")),
         "i1": (("a",), np.array([-128, 0, 127], dtype="i1")),
         "names": (("a",), np.array(["cars", "auto parts", "électronique"], dtype=object)),
         "scalar": ((), 2.5)},
        attrs={"title": "a test: ünïcode", "json": json.dumps({"x": [1, 2]}),
               "number": 3.25, "ints": np.array([1, 2, 3], dtype="i4")})
    ds["f8"].attrs["units"] = "million JPY"
    p = tmp_path / "t.nc"
    ds.to_netcdf(p, engine="scipy", format=fmt)
    _same(xr.load_dataset(p, engine="scipy"), p)
    vs, _ = read(p)
    assert vs["f8"][2]["units"] == "million JPY"


def test_bad_files_name_the_file_and_the_problem(tmp_path):
    p = tmp_path / "posterior.nc"
    p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(DataError, match=r"posterior\.nc: not a readable NetCDF classic .*magic"):
        read(p)
    good = tmp_path / "good.nc"
    xr.Dataset({"x": (("a",), np.arange(1000.0))}).to_netcdf(good, engine="scipy")
    raw = good.read_bytes()
    cut = tmp_path / "cut.nc"
    cut.write_bytes(raw[:40])
    with pytest.raises(DataError, match=r"cut\.nc: .*header ends early"):
        read(cut)
    short = tmp_path / "short.nc"
    short.write_bytes(raw[:-800])
    with pytest.raises(DataError, match=r"short\.nc: .*variable 'x' runs past the end"):
        read(short)
    with pytest.raises(DataError, match=r"missing\.nc: cannot read"):
        read(tmp_path / "missing.nc")


def test_record_variables_are_refused_by_name(tmp_path):
    from scipy.io import netcdf_file

    p = tmp_path / "rec.nc"
    with netcdf_file(p, "w") as f:
        f.createDimension("time", None)
        v = f.createVariable("loss", "d", ("time",))
        v[:] = np.arange(3.0)
    with pytest.raises(DataError, match=r"rec\.nc: .*'loss' is a record variable"):
        read(p)


def test_posterior_missing_a_variable_or_attribute(tmp_path):
    ds = xr.load_dataset(calibrate.POSTERIOR_FILE, engine="scipy")
    p = tmp_path / "post.nc"
    ds.drop_vars("log_posterior").to_netcdf(p, engine="scipy")
    with pytest.raises(DataError, match=r"post\.nc: no variable 'log_posterior'"):
        calibrate.load_posterior(p)
    ds = xr.load_dataset(calibrate.POSTERIOR_FILE, engine="scipy")
    ds.attrs["sampler"] = "{not json"
    ds.to_netcdf(p, engine="scipy")
    with pytest.raises(DataError, match=r"post\.nc: attribute 'sampler' .*not JSON"):
        calibrate.load_posterior(p)


@given(data=st.data())
@settings(deadline=None, max_examples=200)
def test_damaged_files_raise_data_errors_only(tmp_path_factory, data):
    """Any file made by overwriting, cutting or extending a valid one either reads or raises
    a DataError naming it: never another exception, never a hang."""
    raw = bytearray(_SMALL)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw) + 8))
    raw = bytes(raw[:cut]) + bytes(max(0, cut - len(raw)))
    p = tmp_path_factory.mktemp("fuzz") / "damaged.nc"
    p.write_bytes(raw)
    try:
        read(p)
    except DataError as exc:
        assert "damaged.nc" in str(exc)


def _small() -> bytes:
    ds = xr.Dataset({"x": (("a", "b"), np.arange(6.0).reshape(2, 3)),
                     "names": (("a",), np.array(["one", "two"], dtype=object))},
                    attrs={"title": "t", "n": np.int32(3)})
    return ds.to_netcdf(None, engine="scipy")


_SMALL = _small()
