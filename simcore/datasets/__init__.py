"""Embedded datasets: load with :func:`load`, no download needed.

==================  ===============================================================
name                content
==================  ===============================================================
japan-2015-37       MIC 2015 IO table for Japan, 37 sectors, million yen
japan-2015-185      MIC 2015 IO table for Japan, 185 sectors, million yen
miller-blair-2.3    Miller & Blair (2009) Table 2.3, the two-sector textbook example
jcr-2015-39         SYNTHETIC Japan-China-rest-of-world table (3 regions x 39 sectors,
                    37 + rare earths + magnets) built from Japan's 2015 table and the
                    stated assumptions of ``_source/jcr-mrio/assumptions.toml``
                    (docs/mrio.md); a test table for the multi-regional engine, not data
==================  ===============================================================

The files in ``data/`` are built from the source CSVs in ``_source/`` by
``python -m simcore.datasets._build``; a test checks that the build reproduces them.
Source: 総務省 平成27年（2015年）産業連関表 (MIC).  See ``_source/japan-io-2015/PROVENANCE.md``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import xarray as xr

from .. import _nodask

_nodask.install()  # xarray imports dask lazily; only a Dask engine needs it

from ..errors import DataError
from ..tables import from_arrays

__all__ = ["load", "available", "path", "source_dir"]

_DATA = Path(__file__).resolve().parent / "data"
_SOURCE = Path(__file__).resolve().parent / "_source"
_NAMES = ("japan-2015-37", "japan-2015-185", "miller-blair-2.3", "jcr-2015-39")


def available() -> list[str]:
    """Names of the embedded datasets."""
    return list(_NAMES)


def path(name: str) -> Path:
    """Path of an embedded dataset file."""
    if name not in _NAMES:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(_NAMES)}")
    return _DATA / f"{name}.npz"


def source_dir() -> Path:
    """Folder holding the source CSVs the embedded data are built from."""
    return _SOURCE


def read_npz(file: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays and metadata of a dataset file (raises :class:`DataError` if unreadable)."""
    try:
        with np.load(file, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("Z", "Y", "E", "M", "V", "x")}
            meta = json.loads(str(z["meta"]))
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{file}: cannot read embedded dataset ({exc})") from exc
    return arrays, meta


@lru_cache(maxsize=8)
def _load_cached(name: str) -> xr.Dataset:
    arrays, meta = read_npz(path(name))
    names = meta["item_names"]
    # item names given when the table is built (no assign_coords, which merges again)
    coords = {}
    for dim, key in (("final_demand", "final_demand"), ("export_item", "export_items"),
                     ("import_item", "import_items"), ("va_item", "va_items")):
        labels = [str(v) for v in meta[key]]
        coords[f"{dim}_name_en"] = (dim, [names[v]["en"] for v in labels])
        coords[f"{dim}_name_ja"] = (dim, [names[v]["ja"] for v in labels])
    ds = from_arrays(
        arrays["Z"], arrays["Y"], arrays["V"], x=arrays["x"], E=arrays["E"], M=arrays["M"],
        sectors=meta["sectors"], final_demand=meta["final_demand"],
        va_items=meta["va_items"], export_items=meta["export_items"],
        import_items=meta["import_items"], name_en=meta["name_en"], name_ja=meta["name_ja"],
        regions=meta.get("regions"),
        unit=meta["attrs"]["unit"], year=meta["attrs"]["year"], source=meta["attrs"]["source"],
        title=meta["attrs"]["title"], provenance=meta["attrs"]["provenance"],
        atol=0.5, rtol=0.0, extra_coords=coords,
    )
    for k, v in meta["attrs"].items():
        ds.attrs[k] = v
    ds.attrs["dataset"] = name
    return ds


def load(name: str) -> xr.Dataset:
    """Load an embedded IO table as an :class:`xarray.Dataset`.

    Parameters
    ----------
    name : str
        One of :func:`available`: ``"japan-2015-37"``, ``"japan-2015-185"``,
        ``"miller-blair-2.3"``, ``"jcr-2015-39"`` (synthetic, multi-regional).

    Returns
    -------
    xarray.Dataset
        A validated table (see :mod:`simcore.tables`), balanced to the yen.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("japan-2015-37")
    >>> int(t.x.sum())
    1017818388
    >>> t.attrs["unit"]
    'million JPY'
    """
    return _load_cached(name).copy()
