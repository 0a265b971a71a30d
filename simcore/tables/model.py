"""Construction of a table from arrays or pandas objects, and its history of
transformations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._version import __version__
from ..errors import LabelError, TableError
from .checks import DEFAULT_ATOL, DEFAULT_RTOL, validate
from .units import GDP_EXCLUDED_VA_ITEMS, VA_COMPONENTS
from .views import _MR_VARS, _SR_VARS


# --------------------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------------------
def _labels(values: Sequence[Any] | None, n: int, what: str, default_prefix: str) -> list[str]:
    if values is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    out = [str(v) for v in values]
    if len(out) != n:
        raise LabelError(f"{what}: got {len(out)} labels for an axis of length {n}")
    seen: set[str] = set()
    for label in out:
        if label in seen:
            raise LabelError(f"{what}: duplicate label {label!r}; labels must be unique")
        seen.add(label)
    return out


def _float_array(a: Any, name: str) -> np.ndarray:
    """``a`` as a float64 array, or a :class:`TableError` naming the variable."""
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TableError(f"{name}: expected numbers, got a non-numeric value ({exc})") from None


def _as2d(a: Any, name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1 and shape[1] == 1:
        arr = arr[:, None]
    if arr.shape != shape:
        raise TableError(f"{name}: expected shape {shape}, got {arr.shape}")
    return arr


def from_arrays(
    Z: Any,
    Y: Any,
    V: Any,
    *,
    sectors: Sequence[Any] | None = None,
    x: Any = None,
    E: Any = None,
    M: Any = None,
    regions: Sequence[Any] | None = None,
    final_demand: Sequence[Any] | None = None,
    va_items: Sequence[Any] | None = None,
    export_items: Sequence[Any] | None = None,
    import_items: Sequence[Any] | None = None,
    name_en: Sequence[str] | None = None,
    name_ja: Sequence[str] | None = None,
    unit: str = "",
    year: int | None = None,
    source: str = "user-supplied arrays",
    title: str = "",
    provenance: str = "",
    check: bool = True,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    extra_coords: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated IO table from plain arrays.

    Parameters
    ----------
    Z : array_like, shape (p, p)
        Intermediate flows, supplier (row) x buyer (column).  For a multi-regional table
        ``p = R n`` and industries are ordered region-major (all sectors of region 0 first).
    Y : array_like, shape (p, k) or (p, R k)
        Domestic final demand by category; for a multi-regional table the columns are
        ordered region-major (all categories of region 0 first).
    V : array_like, shape (q, p)
        Value added by item.
    sectors : sequence of str, optional
        Sector codes (length ``n``); ``s0, s1, ...`` if omitted.
    x : array_like, shape (p,), optional
        Gross output.  If omitted it is computed from the column balance ``1'Z + 1'V``.
    E, M : array_like, shape (p,) or (p, k), optional
        Exports and competitive imports (imports as positive amounts).  Zero if omitted.
    regions : sequence of str, optional
        Region codes; giving them makes the table multi-regional.
    final_demand, va_items, export_items, import_items : sequence of str, optional
        Item labels.
    name_en, name_ja : sequence of str, optional
        Sector names.
    unit : str, default ""
        Unit of money of every flow, e.g. ``"million JPY"`` or ``"$ million"``.  Empty means
        unspecified: losses are then reported in table units, never converted to yen (only
        the yen units ``"JPY"``, ``"thousand JPY"``, ``"million JPY"`` and ``"billion JPY"``
        are).  There is no currency default, so a table cannot be mislabelled silently.
    year, source, title, provenance : attrs.
    check : bool, default True
        Run :func:`validate` on the result.
    atol, rtol : float
        Balance tolerances passed to :func:`validate`.
    extra_coords : mapping, optional
        Further coordinates along the table's dims, ``{name: (dim, values)}`` (item names,
        for example), added when the table is built (one call instead of a later
        ``assign_coords``, which would merge every coordinate again); ``in_gdp`` here
        replaces the flags derived from :data:`GDP_EXCLUDED_VA_ITEMS`.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    Miller & Blair (2009), Table 2.3:

    >>> import simcore as sc
    >>> t = sc.tables.from_arrays([[150, 500], [200, 100]], [[350], [1700]],
    ...                           [[650, 1400]], sectors=["1", "2"], unit="$")
    >>> t.x.values
    array([1000., 2000.])
    """
    Z = _float_array(Z, "Z")
    if Z.ndim != 2 or Z.shape[0] != Z.shape[1]:
        raise TableError(f"Z: expected a square 2-D array, got shape {Z.shape}")
    p = Z.shape[0]
    R = 1 if regions is None else len(regions)
    if p % R:
        raise TableError(f"Z: {p} industries is not a multiple of {R} regions")
    n = p // R
    sec = _labels(sectors, n, "sectors", "s")
    reg = None if regions is None else _labels(regions, R, "regions", "r")

    Y = _float_array(Y, "Y")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != p or Y.shape[1] % R:
        raise TableError(f"Y: expected shape ({p}, k*{R}), got {Y.shape}")
    k = Y.shape[1] // R
    fd = _labels(final_demand, k, "final_demand", "fd")

    V = _float_array(V, "V")
    if V.ndim == 1:
        V = V[None, :]
    if V.ndim != 2 or V.shape[1] != p:
        raise TableError(f"V: expected shape (q, {p}), got {V.shape}")
    va = _labels(va_items, V.shape[0], "va_items", "va")

    def _items(a: Any, labels: Sequence[Any] | None, what: str, prefix: str):
        if a is None:
            return np.zeros((p, 0)), []
        arr = _float_array(a, what)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != p:
            raise TableError(f"{what}: expected shape ({p}, k), got {arr.shape}")
        return arr, _labels(labels, arr.shape[1], f"{what} items", prefix)

    E, ex = _items(E, export_items, "E", "e")
    M, im = _items(M, import_items, "M", "m")
    xv = Z.sum(axis=0) + V.sum(axis=0) if x is None else _float_array(x, "x")
    if xv.shape != (p,):
        raise TableError(f"x: expected shape ({p},), got {xv.shape}")

    coords: dict[str, Any] = {
        "sector": sec,
        "sector_to": sec,
        "final_demand": fd,
        "va_item": va,
        "export_item": ex,
        "import_item": im,
    }
    if name_en is not None:
        coords["name_en"] = ("sector", [str(s) for s in _check_len(name_en, n, "name_en")])
    if name_ja is not None:
        coords["name_ja"] = ("sector", [str(s) for s in _check_len(name_ja, n, "name_ja")])
    coords["in_gdp"] = ("va_item", [v not in GDP_EXCLUDED_VA_ITEMS for v in va])
    coords["component"] = ("va_item", [VA_COMPONENTS.get(v, "other") for v in va])
    if reg is None:
        data = {
            "Z": (_SR_VARS["Z"], Z),
            "Y": (_SR_VARS["Y"], Y),
            "E": (_SR_VARS["E"], E),
            "M": (_SR_VARS["M"], M),
            "V": (_SR_VARS["V"], V),
            "x": (_SR_VARS["x"], xv),
        }
    else:
        coords["region"] = reg
        coords["region_to"] = reg
        data = {
            "Z": (_MR_VARS["Z"], Z.reshape(R, n, R, n)),
            "Y": (_MR_VARS["Y"], Y.reshape(R, n, R, k)),
            "E": (_MR_VARS["E"], E.reshape(R, n, -1)),
            "M": (_MR_VARS["M"], M.reshape(R, n, -1)),
            "V": (_MR_VARS["V"], V.reshape(-1, R, n)),
            "x": (_MR_VARS["x"], xv.reshape(R, n)),
        }
    for name, value in (extra_coords or {}).items():
        coords[str(name)] = value
    attrs = {
        "unit": unit,
        "year": _year(year),
        "source": source,
        "title": title,
        "provenance": provenance,
        "simcore_version": __version__,
        "history": "[]",
    }
    if not isinstance(unit, str):
        raise TableError(f"unit = {unit!r}: expected a string such as 'million JPY' or "
                         "'$ million' (or '' for unspecified)")
    if (atol, rtol) != (DEFAULT_ATOL, DEFAULT_RTOL):
        # the engines re-check the balance with the tolerances the table was built with
        attrs["balance_atol"] = float(atol)
        attrs["balance_rtol"] = float(rtol)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    _describe(ds)
    if check:
        validate(ds, atol=atol, rtol=rtol)
    return ds


def _year(year: Any) -> int:
    if year is None:
        return -1
    try:
        if isinstance(year, bool) or float(year) != int(year):
            raise ValueError
        return int(year)
    except (TypeError, ValueError, OverflowError):
        raise TableError(f"year = {year!r}: expected a whole number (e.g. 2015)") from None


def _check_len(values: Sequence[Any], n: int, what: str) -> Sequence[Any]:
    if len(values) != n:
        raise LabelError(f"{what}: got {len(values)} names for {n} sectors")
    return values


_DESCRIPTIONS = {
    "Z": "intermediate flows, supplier (row) x buyer (column)",
    "Y": "domestic final demand by category",
    "E": "exports by item",
    "M": "competitive imports by item (positive amounts)",
    "V": "value added by item",
    "x": "gross output",
}


def _describe(ds: xr.Dataset) -> None:
    for k, d in _DESCRIPTIONS.items():
        if k in ds.data_vars:  # the bare variable: no DataArray built per variable
            ds.variables[k].attrs.update({"long_name": d, "units": ds.attrs.get("unit", "")})


def from_pandas(
    Z: pd.DataFrame,
    Y: pd.DataFrame,
    V: pd.DataFrame,
    *,
    x: pd.Series | None = None,
    E: pd.DataFrame | pd.Series | None = None,
    M: pd.DataFrame | pd.Series | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Build a table from labelled pandas objects (single-region, or region-sector MultiIndex).

    ``Z`` is indexed by supplier and has buyers as columns; its index and columns must carry
    the same labels in the same order.  ``Y``, ``E`` and ``M`` share ``Z``'s index; ``V`` has
    value-added items as index and ``Z``'s columns as columns.  A two-level
    ``(region, sector)`` MultiIndex makes the table multi-regional.  Other keyword arguments
    go to :func:`from_arrays`.
    """
    for nm, obj in (("Z", Z), ("Y", Y), ("V", V)):
        if not isinstance(obj, pd.DataFrame):
            raise TableError(f"from_pandas: {nm} must be a pandas DataFrame, got "
                             f"{type(obj).__name__}; use from_arrays for plain arrays")
    if not Z.index.equals(Z.columns):
        diff = [str(a) for a, b in zip(Z.index, Z.columns) if a != b][:3]
        raise LabelError(
            f"Z: row labels and column labels differ (first mismatches: {diff}); "
            "expected the same sectors in the same order"
        )
    for nm, obj in (("Y", Y), ("E", E), ("M", M)):
        if obj is not None and not obj.index.equals(Z.index):
            missing = [str(s) for s in Z.index if s not in obj.index][:3]
            raise LabelError(
                f"{nm}: row labels do not match Z's (missing or misordered: {missing})"
            )
    if not V.columns.equals(Z.columns):
        missing = [str(s) for s in Z.columns if s not in V.columns][:3]
        raise LabelError(f"V: columns do not match Z's columns (missing: {missing})")
    if x is not None and not x.index.equals(Z.index):
        raise LabelError("x: index does not match Z's index")
    if isinstance(Z.index, pd.MultiIndex):
        regions = list(dict.fromkeys(Z.index.get_level_values(0)))
        sectors = list(dict.fromkeys(Z.index.get_level_values(1)))
        kwargs.setdefault("regions", regions)
        if isinstance(Y.columns, pd.MultiIndex):
            kwargs.setdefault("final_demand", list(dict.fromkeys(Y.columns.get_level_values(1))))
        else:
            raise LabelError("Y: a multi-regional table needs (region, category) columns")
    else:
        sectors = list(Z.index)
        kwargs.setdefault("final_demand", list(Y.columns))
    kwargs.setdefault("va_items", list(V.index))
    if E is not None:
        E = E.to_frame() if isinstance(E, pd.Series) else E
        kwargs.setdefault("export_items", list(E.columns))
    if M is not None:
        M = M.to_frame() if isinstance(M, pd.Series) else M
        kwargs.setdefault("import_items", list(M.columns))
    return from_arrays(
        Z.to_numpy(dtype=float),
        Y.to_numpy(dtype=float),
        V.to_numpy(dtype=float),
        sectors=sectors,
        x=None if x is None else x.to_numpy(dtype=float),
        E=None if E is None else E.to_numpy(dtype=float),
        M=None if M is None else M.to_numpy(dtype=float),
        **kwargs,
    )


# --------------------------------------------------------------------------------------
# History helpers (used by transform and datasets)
# --------------------------------------------------------------------------------------
def history(table: xr.Dataset) -> list[dict[str, Any]]:
    """The list of transformations recorded in ``attrs['history']``."""
    return json.loads(table.attrs.get("history", "[]"))


def with_history(table: xr.Dataset, entry: Mapping[str, Any],
                 *more: Mapping[str, Any]) -> xr.Dataset:
    """A shallow copy of ``table`` with ``entry`` (and ``more`` entries, in order) appended
    to its history."""
    out = table.copy()
    out.attrs = dict(table.attrs)
    out.attrs["history"] = json.dumps(history(table) + [dict(e) for e in (entry, *more)],
                                      ensure_ascii=False)
    return out
