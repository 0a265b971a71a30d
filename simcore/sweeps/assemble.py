"""Assembly of chunk results into the sweep's dataset (in memory or streamed to zarr),
sensitivity indices, and the atomic write of the result."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import _atomic
from ..errors import DataError
from ..tables import yen_per_unit
from .compute import _Options
from .design import Design, _problem, _salib
from .store import _CHUNK_KEYS, _chunk_path, _read_chunk


def _coord(vals: list[Any]) -> np.ndarray:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return np.asarray(vals, dtype=float)
    if all(isinstance(v, (str, bool)) for v in vals):
        return np.asarray([str(v) for v in vals])
    return np.asarray([json.dumps(v, sort_keys=True) for v in vals])


def _loss_vars(base, attrs, gdp_total, ds_dims, gain):
    unit = base.prepared().unit
    denom = attrs["gdp_denominator"]
    out = {"gdp_loss_total": (ds_dims, gdp_total, {"units": unit,
                                                   "long_name": "GDP-like value-added loss "
                                                                "(net of gains)"}),
           "gdp_loss_share": (ds_dims, gdp_total / denom,
                              {"units": "1", "long_name": "loss as a share of annual GDP"}),
           # overproduction (alpha_max > 1) can lift sectors above baseline: the net loss
           # nets those gains against the losses, these keep them apart
           "gdp_gain_total": (ds_dims, gain,
                              {"units": unit,
                               "long_name": "value-added gains (overproduction)"}),
           "gdp_loss_gross_total": (ds_dims, gdp_total + gain,
                                    {"units": unit, "long_name": "value-added losses before "
                                                                 "netting gains"})}
    yen = yen_per_unit(unit)
    if yen is not None:
        out["gdp_loss_total_jpy"] = (ds_dims, gdp_total * yen,
                                     {"units": "JPY", "long_name": "GDP-like value-added loss"})
    return out, unit


def _assemble(base, design: Design, results, nchunks, attrs, opt: _Options) -> xr.Dataset:
    cat = {k: np.concatenate([results[c][k] for c in range(nchunks)])
           for k in results[0] if k in _CHUNK_KEYS}
    shape = design.shape
    dims = design.dims
    data, unit = _loss_vars(base, attrs, cat["gdp_loss_total"].reshape(shape), dims,
                            cat["gdp_gain_total"].reshape(shape))
    data["days"] = (dims, cat["days"].reshape(shape), {"long_name": "horizon, days"})
    data["recovered"] = (dims, cat["recovered"].reshape(shape),
                         {"long_name": "output back at baseline at the end (1) or not (0)"})
    data["status"] = (dims, cat["status"].reshape(shape), {"long_name": "kernel status, 0 = ok"})
    coords: dict[str, Any] = {}
    prep = base.prepared()
    if "value_added_loss" in cat and type(prep).__name__ == "PreparedMRIO":
        # a multi-regional table: by region and sector (docs/mrio.md)
        data["value_added_loss"] = (dims + ("region", "sector"),
                                    cat["value_added_loss"].reshape(
                                        shape + (prep.R, prep.n_products)),
                                    {"units": unit, "long_name": "cumulative value-added loss"})
        coords.update(prep.coords)
    elif "value_added_loss" in cat:
        data["value_added_loss"] = (dims + ("sector",),
                                    cat["value_added_loss"].reshape(shape + (prep.n,)),
                                    {"units": unit, "long_name": "cumulative value-added loss"})
        coords.update(prep.coords)
    if "gdp_loss" in cat:
        data["gdp_loss"] = (dims + ("time",), cat["gdp_loss"].reshape(shape + (opt.T0,)),
                            {"units": f"{unit} per day", "long_name": "daily GDP-like VA loss"})
        coords["time"] = np.arange(opt.T0)
    if design.method == "grid":
        for k, v in design.grid.items():
            coords[k] = (k, _coord(v))
        if design.zipped:
            coords["point"] = np.arange(shape[-1])
            for k, v in design.zipped.items():
                coords[k] = ("point", _coord(v))
    else:
        coords["sample"] = np.arange(shape[0])
        assert design.X is not None
        for q, k in enumerate(design.ranges):
            coords[k] = ("sample", design.X[:, q])
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    if design.method in ("sobol", "morris"):
        ds = ds.merge(_indices(design, cat["gdp_loss_total"]))
    ds.attrs.update(attrs)
    ds.attrs["unit"] = unit
    return ds


def _indices(design: Design, y: np.ndarray) -> xr.Dataset:
    """Sobol or Morris indices of ``gdp_loss_total`` over a ``parameter`` dimension."""
    sobol, morris = _salib("analyze")
    prob = _problem(design.ranges)
    names = list(design.ranges)
    coords = {"parameter": names}
    if not np.all(np.isfinite(y)):
        nan = np.full(len(names), np.nan)
        keys = ("S1", "S1_conf", "ST", "ST_conf") if design.method == "sobol" else (
            "mu", "mu_star", "mu_star_conf", "sigma")
        return xr.Dataset({k: ("parameter", nan) for k in keys}, coords=coords)
    if design.method == "sobol":
        r = sobol.analyze(prob, y, calc_second_order=False, seed=design.seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        assert design.X is not None
        r = morris.analyze(prob, design.X, y, num_levels=design.levels, seed=design.seed)
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    desc = {"S1": "first-order Sobol index", "ST": "total-order Sobol index",
            "mu": "Morris mean elementary effect", "mu_star": "Morris mean |elementary effect|",
            "sigma": "Morris std of elementary effects"}
    return xr.Dataset({k: ("parameter", np.asarray(r[k], dtype=float),
                           {"long_name": desc.get(k, k.replace("_conf", "") + " confidence "
                                                  "half-width (95 %)"),
                            "output": "gdp_loss_total"})
                       for k in keys}, coords=coords)


def _swap_dir(tmp: Path, target: Path) -> None:
    """Move the finished directory ``tmp`` over ``target`` (zarr stores are directories, so
    ``os.replace`` alone cannot overwrite one): the old store is renamed aside first and
    removed only after the new one is in place."""
    old = target.parent / f".old-{target.name}-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old)

def _write_result(root: Path, ds: xr.Dataset, format: str) -> Path:
    clean = ds.copy()
    clean.attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in ds.attrs.items()}
    for v in clean.variables.values():
        if v.dtype == bool:
            v.values = v.values.astype(np.int8)
    if format == "zarr":
        clean = _str_as_object(clean)
    if format == "netcdf":
        target = root / "result.nc"
        with _atomic.atomic_path(target) as tmp:
            clean.to_netcdf(tmp)
        return target
    target = root / "result.zarr"
    tmp = root / f".tmp-result-{os.getpid()}.zarr"
    if tmp.exists():
        shutil.rmtree(tmp)
    clean.to_zarr(tmp, mode="w", consolidated=False)
    _swap_dir(tmp, target)
    return target


def _str_as_object(ds: xr.Dataset) -> xr.Dataset:
    """Fixed-width strings as variable-length ones (zarr v3 specifies only the latter)."""
    conv = {k: v.astype(object) for k, v in ds.variables.items() if v.dtype.kind == "U"}
    return ds.assign_coords({k: v for k, v in conv.items() if k in ds.coords}).assign(
        {k: v for k, v in conv.items() if k not in ds.coords})


def _assemble_streamed(root: Path, base, design: Design, nchunks, chunk_size, n, attrs, fp,
                       manifest):
    """Assemble a design too large for memory into ``result.zarr`` chunk by chunk, along a
    flat ``scenario`` dimension with one coordinate per key; return it lazily opened."""
    target = root / "result.zarr"
    tmp = root / f".tmp-result-{os.getpid()}.zarr"
    if tmp.exists():
        shutil.rmtree(tmp)
    for cid in range(nchunks):
        a = cid * chunk_size
        b = min(n, a + chunk_size)
        arrs = _read_chunk(root, cid, a, b - a, fp, manifest["chunks"][str(cid)]["sha256"])
        if arrs is None:
            raise DataError(f"{_chunk_path(root, cid)}: chunk {cid} changed while the sweep "
                            "was assembled (missing, corrupt or not the recorded one); run "
                            "the same sweep again to recompute it")
        data, unit = _loss_vars(base, attrs, arrs["gdp_loss_total"], ("scenario",),
                                arrs["gdp_gain_total"])
        for k in ("days", "recovered", "status"):
            data[k] = (("scenario",), arrs[k], {})
        if "value_added_loss" in arrs:
            data["value_added_loss"] = (("scenario", "sector"), arrs["value_added_loss"], {})
        if "gdp_loss" in arrs:
            data["gdp_loss"] = (("scenario", "time"), arrs["gdp_loss"], {})
        pts = design.values(a, b)
        coords: dict[str, Any] = {"scenario": np.arange(a, b)}
        for k in design.keys:
            coords[k] = ("scenario", _coord([p[k] for p in pts]))
        ds = _str_as_object(xr.Dataset({k: xr.Variable(d, v, at)
                                        for k, (d, v, at) in data.items()}, coords=coords))
        if cid == 0:
            ds.attrs.update({k: (int(v) if isinstance(v, bool) else v)
                             for k, v in attrs.items()})
            ds.attrs["unit"] = unit
            ds.to_zarr(tmp, mode="w", consolidated=False)
        else:
            ds.to_zarr(tmp, append_dim="scenario", consolidated=False)
    _swap_dir(tmp, target)
    return xr.open_zarr(target, consolidated=False)
