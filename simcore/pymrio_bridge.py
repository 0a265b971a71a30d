"""Bridge to `pymrio <https://pymrio.readthedocs.io>`_: any table pymrio parses works in simcore.

pymrio reads the large multi-regional databases (EXIOBASE, OECD ICIO, WIOD, Eora, ...)
into an :class:`pymrio.IOSystem`.  :func:`from_pymrio` turns such a system into a simcore
table (region and sector dims, validated); :func:`to_pymrio` goes the other way.  Both are
also available as ``simcore.from_pymrio`` and ``simcore.to_pymrio``.

pymrio is an optional dependency (``pip install "simcore[pymrio]"``); it is imported only
when one of these functions is called, and a missing pymrio raises
:class:`MissingDependencyError`.

Correspondence
--------------
========================  ===========================================================
pymrio                    simcore
========================  ===========================================================
``Z`` (region, sector)    ``Z(region, sector, region_to, sector_to)``
``Y`` (region, category)  ``Y(region, sector, region_to, final_demand)``
``x`` (``indout``)        ``x(region, sector)``
an extension's ``F``      ``V(va_item, region, sector)`` (``va_extension``), else one
                          item ``"va" = x - 1'Z``
``unit``                  ``attrs["unit"]``
========================  ===========================================================

pymrio has no separate export or import accounts: trade with the rest of the world, if
any, is a final-demand category (as ``Export`` in pymrio's test system), and the row
balance is ``x = Z 1 + Y 1``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from . import tables as _t
from .errors import LabelError, NonFiniteError, NonProductiveError, SimcoreError, TableError

if TYPE_CHECKING:  # pragma: no cover
    import pymrio

__all__ = ["from_pymrio", "to_pymrio", "MissingDependencyError", "DEFAULT_VA_ITEM"]

#: Name of the single value-added item computed as ``x - 1'Z`` when no extension is named.
DEFAULT_VA_ITEM = "va"

_INSTALL_HINT = 'pip install "simcore[pymrio]"'


class MissingDependencyError(SimcoreError, ImportError):
    """An optional dependency of simcore is not installed (here: pymrio)."""


def _pymrio() -> Any:
    """Import pymrio lazily, or raise :class:`MissingDependencyError`."""
    try:
        return importlib.import_module("pymrio")
    except ImportError as exc:
        raise MissingDependencyError(
            f"the pymrio bridge needs the optional dependency pymrio, which is not installed "
            f"({exc}); install it with: {_INSTALL_HINT}"
        ) from exc


def _label(v: Any) -> str:
    return "/".join(str(p) for p in v) if isinstance(v, tuple) else str(v)


def _unit_of(df: pd.DataFrame | None, what: str) -> str | None:
    """The single unit in a pymrio unit frame, None if absent; TableError if mixed."""
    if df is None:
        return None
    col = df["unit"] if "unit" in getattr(df, "columns", ()) else df.iloc[:, 0]
    units = list(dict.fromkeys(str(u) for u in col))
    if not units:
        return None
    if len(units) > 1:
        raise TableError(f"{what}: mixed units {units[:4]}; a simcore table has one unit "
                         "(convert first, or pass unit= to assert a common unit)")
    return units[0]


def from_pymrio(
    io: pymrio.IOSystem,
    *,
    unit: str | None = None,
    va_extension: str | Any | None = None,
    va_rows: Sequence[Any] | None = None,
    check: bool = True,
    atol: float = _t.DEFAULT_ATOL,
    rtol: float = _t.DEFAULT_RTOL,
) -> xr.Dataset:
    """Build a simcore table from a :class:`pymrio.IOSystem`.

    Parameters
    ----------
    io : pymrio.IOSystem
        A system with ``Z`` and ``Y`` (``x`` is computed as ``Z 1 + Y 1`` if missing), or
        with ``A``, ``Y`` and optionally ``x`` (then ``Z = A diag(x)``, with
        ``x = (I - A)^-1 Y 1`` if missing).  The system is not modified.
    unit : str, optional
        Unit of the table.  By default the (single) unit of ``io.unit``; passing it asserts
        that ``Z``, ``Y`` and the value-added extension share this unit, and skips the
        check that they carry the same unit label.
    va_extension : str or pymrio.Extension, optional
        Extension holding value added by item, e.g. ``"factor_inputs"`` (EXIOBASE, pymrio's
        test system).  Its ``F`` rows become the value-added items (tuple labels are joined
        with ``/``).  If omitted, value added is the column residual ``x - 1'Z``, one item
        ``"va"`` (:data:`DEFAULT_VA_ITEM`), so the column balance holds by construction.
    va_rows : sequence, optional
        Rows of the extension's ``F`` to keep (labels as in its index); all by default.
    check : bool, default True
        Validate the result (balances within tolerance, productive ``A``), see
        :func:`simcore.tables.validate`.
    atol, rtol : float
        Balance tolerances for the validation.

    Returns
    -------
    xarray.Dataset
        A multi-regional table (``region``/``sector`` dims in pymrio's order, final-demand
        categories from ``Y``'s second column level), with no separate exports or imports.

    Raises
    ------
    MissingDependencyError
        pymrio is not installed.
    TableError, LabelError, BalanceError
        Missing matrices, inconsistent labels or mixed units; an extension that is not in
        the table's unit; value added that does not close the column balance.

    Examples
    --------
    >>> import pymrio, simcore as sc
    >>> io = pymrio.load_test().calc_all()
    >>> t = sc.from_pymrio(io)
    >>> t.sizes["region"], t.sizes["sector"], t.sizes["final_demand"], t.attrs["unit"]
    (6, 8, 7, 'Mill USD')
    >>> m = sc.static.output_multipliers(t).values.ravel()
    >>> bool(abs(m - io.L.sum(axis=0).values).max() < 1e-10)
    True
    """
    pm = _pymrio()
    if not isinstance(io, pm.IOSystem):
        raise TableError(f"from_pymrio: expected a pymrio.IOSystem, got {type(io).__name__}")
    Zdf, Ydf, Adf, xdf = (getattr(io, k, None) for k in ("Z", "Y", "A", "x"))
    if Ydf is None:
        raise TableError("from_pymrio: the IOSystem has no final demand Y")
    base = Zdf if Zdf is not None else Adf
    if base is None:
        raise TableError("from_pymrio: the IOSystem has neither Z nor A; nothing to convert")
    idx = base.index
    if not base.columns.equals(idx):
        raise LabelError("from_pymrio: Z (or A) row and column labels differ")
    if not Ydf.index.equals(idx):
        raise LabelError("from_pymrio: Y's rows do not match Z's (region, sector) index")

    # Region and sector axes: region-major, every region with every sector.
    if isinstance(idx, pd.MultiIndex):
        if idx.nlevels != 2:
            raise LabelError(f"from_pymrio: expected a (region, sector) index, got "
                             f"{idx.nlevels} levels {list(idx.names)}")
        regions = list(dict.fromkeys(idx.get_level_values(0)))
        sectors = list(dict.fromkeys(idx.get_level_values(1)))
        order = pd.MultiIndex.from_product([regions, sectors], names=idx.names)
        if len(order) != len(idx) or not order.isin(idx).all():
            missing = [k for k in order if k not in idx][:3]
            raise LabelError(f"from_pymrio: the index is not every region x every sector "
                             f"(missing {missing}); simcore needs a full region-sector grid")
    else:
        regions, sectors = ["region"], list(idx)
        order = pd.MultiIndex.from_product([regions, sectors], names=["region", "sector"])
        idx = order
        Zdf = None if Zdf is None else Zdf.set_axis(order, axis=0).set_axis(order, axis=1)
        Adf = None if Adf is None else Adf.set_axis(order, axis=0).set_axis(order, axis=1)
        Ydf = Ydf.set_axis(order, axis=0)
        if not isinstance(Ydf.columns, pd.MultiIndex):
            Ydf = Ydf.set_axis(pd.MultiIndex.from_product([regions, list(Ydf.columns)]),
                               axis=1)
        if xdf is not None:
            xdf = xdf.set_axis(order, axis=0)

    # Final demand: (region, category) columns, regions as in Z.
    ycols = Ydf.columns
    if not isinstance(ycols, pd.MultiIndex) or ycols.nlevels != 2:
        raise LabelError("from_pymrio: Y needs (region, category) columns")
    yreg = list(dict.fromkeys(ycols.get_level_values(0)))
    if set(map(str, yreg)) != set(map(str, regions)):
        raise LabelError(f"from_pymrio: Y's regions {yreg[:5]} differ from Z's {regions[:5]}")
    cats = list(dict.fromkeys(ycols.get_level_values(1)))
    ycol_order = pd.MultiIndex.from_product([regions, cats], names=ycols.names)
    Y = Ydf.reindex(index=order, columns=ycol_order, fill_value=0.0).to_numpy(dtype=float)

    if xdf is not None:
        x = xdf.reindex(order).to_numpy(dtype=float).reshape(-1)
    elif Zdf is not None:
        x = Zdf.reindex(index=order, columns=order).to_numpy(dtype=float).sum(1) + Y.sum(1)
    else:
        import scipy.linalg as sla

        A = Adf.reindex(index=order, columns=order).to_numpy(dtype=float)
        if not np.isfinite(A).all():
            i, j = np.argwhere(~np.isfinite(A))[0]
            raise NonFiniteError(f"from_pymrio: A holds NaN or inf (first at row {order[i]}, "
                                 f"column {order[j]}); cannot compute x = (I - A)^-1 Y 1")
        if not np.isfinite(Y).all():
            i = int(np.argwhere(~np.isfinite(Y))[0][0])
            raise NonFiniteError(f"from_pymrio: Y holds NaN or inf (first in row {order[i]}); "
                                 "cannot compute x = (I - A)^-1 Y 1")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", sla.LinAlgWarning)
                x = sla.solve(np.eye(len(order)) - A, Y.sum(1))
        except (np.linalg.LinAlgError, sla.LinAlgWarning, ValueError) as exc:
            raise NonProductiveError(f"from_pymrio: I - A is singular or nearly so ({exc}); "
                                     "x = (I - A)^-1 Y 1 does not exist. Give x (io.x) or Z, "
                                     "or check A (its column sums must stay below 1)") from None
    if Zdf is not None:
        Z = Zdf.reindex(index=order, columns=order).to_numpy(dtype=float)
    else:
        Z = Adf.reindex(index=order, columns=order).to_numpy(dtype=float) * x[None, :]

    tunit = unit if unit is not None else (_unit_of(getattr(io, "unit", None), "io.unit")
                                           or "unknown")

    # Value added.
    ename = None
    if va_extension is None:
        if va_rows is not None:
            raise TableError("from_pymrio: va_rows needs va_extension (the extension to take "
                             "them from)")
        V = (x - Z.sum(0))[None, :]
        va_items = [DEFAULT_VA_ITEM]
        va_note = f"value added = x - column sums of Z (item {DEFAULT_VA_ITEM!r})"
    else:
        ename, ext = _extension(io, va_extension)
        F = getattr(ext, "F", None)
        if F is None:
            raise TableError(f"from_pymrio: extension {ename!r} has no F (factor inputs)")
        if va_rows is not None:
            rows = list(va_rows)
            missing = [r for r in rows if r not in F.index]
            if missing:
                raise LabelError(f"from_pymrio: va_rows {missing[:3]} not in extension "
                                 f"{ename!r}; available rows: {list(F.index)[:10]}")
            F = F.loc[rows]
        if not isinstance(F.columns, pd.MultiIndex):
            if len(regions) != 1:
                raise LabelError(f"from_pymrio: extension {ename!r} needs (region, sector) "
                                 "columns in a multi-regional system")
            F = F.set_axis(pd.MultiIndex.from_arrays(
                [[regions[0]] * F.shape[1], list(F.columns)], names=order.names), axis=1)
        miss = [k for k in order if k not in F.columns][:3]
        if miss:
            raise LabelError(f"from_pymrio: extension {ename!r} lacks industries {miss}")
        V = F.reindex(columns=order).to_numpy(dtype=float)
        va_items = [_label(v) for v in F.index]
        if unit is None:
            eu = getattr(ext, "unit", None)
            if eu is not None and va_rows is not None:
                eu = eu.loc[[r for r in F.index if r in eu.index]]
            eunit = _unit_of(eu, f"extension {ename!r}")
            if eunit is not None and tunit != "unknown" and eunit != tunit:
                raise TableError(
                    f"from_pymrio: extension {ename!r} is in {eunit!r}, not the table's "
                    f"unit {tunit!r}; name a monetary value-added extension (or pass unit= "
                    "to assert they agree)")
        va_note = f"value added from extension {ename!r}"

    meta = getattr(io, "meta", None)
    name = str(getattr(io, "name", None) or getattr(meta, "name", "") or "")
    desc = str(getattr(meta, "description", "") or "") if meta is not None else ""
    bits = [f"{k} {getattr(meta, k)}" for k in ("system", "version")
            if meta is not None and getattr(meta, k, None)]
    table = _t.from_arrays(
        Z, Y, V, x=x, regions=[str(r) for r in regions], sectors=[str(s) for s in sectors],
        final_demand=[_label(c) for c in cats], va_items=va_items, unit=tunit,
        source=f"pymrio IOSystem {name!r}", title=desc or name,
        provenance="; ".join(["converted by simcore.from_pymrio"] + bits + [va_note]),
        check=check, atol=atol, rtol=rtol,
    )
    return _t.with_history(table, {
        "name": "from_pymrio",
        "parameters": {"unit": unit, "va_extension": ename,
                       "va_rows": None if va_rows is None else [_label(r) for r in va_rows]},
        "changed": {"source": name, "va": va_note},
    })


def _extension(io: Any, ext: Any) -> tuple[str, Any]:
    """The extension named ``ext`` (attribute name or its ``name``), and a label for it."""
    if not isinstance(ext, str):
        return str(getattr(ext, "name", "extension")), ext
    names = [str(n) for n in io.get_extensions()]
    if ext in names:
        return ext, getattr(io, ext)
    for e in io.get_extensions(data=True):
        if str(getattr(e, "name", "")) == ext:
            return ext, e
    raise LabelError(f"from_pymrio: no extension {ext!r}; the system has {names}")


@_t.checks_table(balance=False, productive=False)
def to_pymrio(table: xr.Dataset, *, region: str | None = None) -> pymrio.IOSystem:
    """Convert a simcore table to a :class:`pymrio.IOSystem`.

    Parameters
    ----------
    table : xarray.Dataset
        A single-region or multi-regional simcore table.
    region : str, optional
        Region label for a single-region table (pymrio always has a region level);
        default ``attrs["region"]`` if present, else ``"region"``.  Ignored for MRIO tables.

    Returns
    -------
    pymrio.IOSystem
        ``Z``, ``Y``, ``x`` (column ``indout``) and ``unit`` with ``(region, sector)`` and
        ``(region, category)`` labels, and an extension ``factor_inputs`` whose ``F`` holds
        the value-added items.  Coefficients are not computed: call ``calc_all()``.

    Notes
    -----
    pymrio has no export or import accounts, so simcore's exports ``E`` become extra
    final-demand categories (named after the export items) and competitive imports ``M``
    extra categories with **negative** amounts (named after the import items), both in the
    producing region's own column block.  The row balance ``x = Z 1 + Y 1`` then holds as
    pymrio assumes.  ``to_pymrio(from_pymrio(io))`` reproduces ``io``'s ``Z``, ``Y`` and
    ``x``.

    Examples
    --------
    >>> import simcore as sc
    >>> io = sc.to_pymrio(sc.datasets.load("miller-blair-2.3")).calc_all()
    >>> io.L.sum(axis=0).round(3).tolist()
    [1.518, 1.452]
    """
    pm = _pymrio()
    f = _t.flat(table)
    mr = _t.is_multiregional(table)
    regions = ([str(r) for r in table.region.values] if mr
               else [str(region or table.attrs.get("region") or "region")])
    sectors = [str(s) for s in table.sector.values]
    R, n = len(regions), len(sectors)
    p = R * n
    cats = [str(c) for c in table.final_demand.values]
    ex = [str(e) for e in table.export_item.values]
    im = [str(m) for m in table.import_item.values]
    extra = ex + im
    clash = sorted(set(extra) & set(cats)) or sorted({c for c in extra if extra.count(c) > 1})
    if clash:
        raise LabelError(f"to_pymrio: export/import item {clash[0]!r} clashes with a "
                         "final-demand category; rename it first")
    allcats = cats + extra
    k, K = len(cats), len(allcats)
    Y = np.zeros((p, R, K))
    Y[:, :, :k] = f["Y"].reshape(p, R, k)
    EM = np.concatenate([f["E"], -f["M"]], axis=1)  # (p, len(extra))
    for r in range(R):
        Y[r * n:(r + 1) * n, r, k:] = EM[r * n:(r + 1) * n]
    ind = pd.MultiIndex.from_product([regions, sectors], names=["region", "sector"])
    ycols = pd.MultiIndex.from_product([regions, allcats], names=["region", "category"])
    unit = str(table.attrs.get("unit", ""))
    va = pd.Index([str(v) for v in table.va_item.values], name="inputtype")
    fi = {  # pymrio builds the Extension from these keyword arguments
        "name": "factor_inputs",
        "F": pd.DataFrame(f["V"], index=va, columns=ind),
        "unit": pd.DataFrame({"unit": [unit] * len(va)}, index=va),
    }
    year = int(table.attrs.get("year", -1))
    return pm.IOSystem(
        Z=pd.DataFrame(f["Z"], index=ind, columns=ind),
        Y=pd.DataFrame(Y.reshape(p, R * K), index=ind, columns=ycols),
        x=pd.DataFrame({"indout": f["x"]}, index=ind),
        unit=pd.DataFrame({"unit": [unit] * p}, index=ind),
        name=str(table.attrs.get("title") or table.attrs.get("source") or "simcore table"),
        description=str(table.attrs.get("provenance", "")),
        year=year if year >= 0 else None,
        factor_inputs=fi,
    )
