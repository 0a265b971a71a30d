"""The layout of a table's variables (single-region and multi-regional) and the flat
array views every computation works on."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr


_SR_VARS = {
    "Z": ("sector", "sector_to"),
    "Y": ("sector", "final_demand"),
    "E": ("sector", "export_item"),
    "M": ("sector", "import_item"),
    "V": ("va_item", "sector"),
    "x": ("sector",),
}
_MR_VARS = {
    "Z": ("region", "sector", "region_to", "sector_to"),
    "Y": ("region", "sector", "region_to", "final_demand"),
    "E": ("region", "sector", "export_item"),
    "M": ("region", "sector", "import_item"),
    "V": ("va_item", "region", "sector"),
    "x": ("region", "sector"),
}


# --------------------------------------------------------------------------------------
# Flat views
# --------------------------------------------------------------------------------------
def is_multiregional(table: xr.Dataset) -> bool:
    """Whether the table has a ``region`` dimension."""
    return "region" in table.dims


def industry_labels(table: xr.Dataset) -> list[str]:
    """Labels of the flat industry axis: sector codes, or ``REGION/SECTOR`` for MRIO tables."""
    sec = table.variables["sector"].values  # the bare variable: no DataArray built
    if is_multiregional(table):
        return [f"{r}/{s}" for r in table.variables["region"].values for s in sec]
    return [str(s) for s in sec]


def flat(table: xr.Dataset) -> dict[str, np.ndarray]:
    """Plain float64 arrays on the flat industry axis (region-major for MRIO tables).

    Returns a dict with ``Z (p, p)``, ``Y (p, k)`` (for MRIO, ``k = R x categories``,
    region-major), ``E (p, ke)``, ``M (p, km)``, ``V (q, p)`` and ``x (p,)``.
    """
    # the bare variables (not DataArrays: building their coordinates cost ~1 ms each)
    var = table.variables

    def arr(k: str, dims: tuple[str, ...]) -> np.ndarray:
        v = var[k]
        return (v if v.dims == tuple(dims) else v.transpose(*dims)).values

    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        p = R * n
        return {
            "Z": arr("Z", _MR_VARS["Z"]).reshape(p, p),
            "Y": arr("Y", _MR_VARS["Y"]).reshape(p, -1),
            "E": arr("E", _MR_VARS["E"]).reshape(p, -1),
            "M": arr("M", _MR_VARS["M"]).reshape(p, -1),
            "V": arr("V", _MR_VARS["V"]).reshape(-1, p),
            "x": arr("x", _MR_VARS["x"]).reshape(p),
        }
    return {k: arr(k, d) for k, d in _SR_VARS.items()}


def _wrap_vector(table: xr.Dataset, v: np.ndarray, name: str, **attrs: Any) -> xr.DataArray:
    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        da = xr.DataArray(v.reshape(R, n), dims=("region", "sector"),
                          coords={"region": table.region, "sector": table.sector}, name=name)
    else:
        da = xr.DataArray(v, dims=("sector",), coords={"sector": table.sector}, name=name)
    da.attrs.update(attrs)
    return da


def _wrap_matrix(table: xr.Dataset, m: np.ndarray, name: str, **attrs: Any) -> xr.DataArray:
    if is_multiregional(table):
        R, n = table.sizes["region"], table.sizes["sector"]
        da = xr.DataArray(
            m.reshape(R, n, R, n), dims=_MR_VARS["Z"],
            coords={"region": table.region, "sector": table.sector,
                    "region_to": table.region_to, "sector_to": table.sector_to}, name=name)
    else:
        da = xr.DataArray(m, dims=_SR_VARS["Z"],
                          coords={"sector": table.sector, "sector_to": table.sector_to},
                          name=name)
    da.attrs.update(attrs)
    return da
