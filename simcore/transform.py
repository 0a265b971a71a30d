"""Transformations of IO tables: aggregation, carve-out, rescaling, preprocessing, import split.

Every function takes a table (see :mod:`simcore.tables`) and returns a **new, validated**
table; the input is never modified.  Each records itself in ``attrs['history']`` (a JSON
list, read it with :func:`simcore.tables.history`) as ``{"name", "parameters", "changed"}``.

==============================  =====================================================
function                        what it does
==============================  =====================================================
:func:`aggregate`               merge sectors (and optionally items) by a concordance
:func:`japan_185_to_37`         MIC's concordance from the 185- to the 37-sector table
:func:`carve_out`               split a new product/sector out of an existing one
:func:`carve_out_merged`        one new product gathered from several parents
:func:`rescale`                 scale every monetary value (e.g. to a target year's GDP)
:func:`prepare_for_dynamics`    remove negative ``Z`` and ``Y`` cells, balances kept
:func:`split_imports`           competitive table -> two-region non-competitive table
==============================  =====================================================

Labels outside, arrays inside: each function lowers the table to flat float64 arrays with
:func:`simcore.tables.flat`, works on them, and rebuilds a labelled table (sector and item
names, ``in_gdp`` flags and attrs are carried over).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from . import tables as _t
from ._checks import positive_number
from .datasets import source_dir
from .errors import LabelError, ParameterError, ShockError, TableError

__all__ = [
    "Concordance",
    "PrepareReport",
    "aggregate",
    "japan_185_to_37",
    "carve_out",
    "carve_out_merged",
    "rescale",
    "prepare_for_dynamics",
    "split_imports",
    "IMPORTS_VA_ITEM",
]

#: Value-added item holding the whole cost of the foreign (import) industries created by
#: :func:`split_imports`.  It is flagged ``in_gdp = False`` on the tables that function
#: builds, so GDP-like value added stays domestic.
IMPORTS_VA_ITEM = "imports"

_ITEM_DIMS = ("final_demand", "export_item", "import_item", "va_item")


# --------------------------------------------------------------------------------------
# Shared helpers: lowering and rebuilding
# --------------------------------------------------------------------------------------
def _values(table: xr.Dataset, name: str) -> list[str]:
    # the bare variable, not a DataArray (building its coordinates costs ~1 ms a call)
    return list(map(str, table.variables[name].values.tolist()))


def _labels(table: xr.Dataset, dim: str) -> list[str]:
    return _values(table, dim)


def _sector_names(table: xr.Dataset) -> dict[str, tuple[str, str]]:
    sec = _labels(table, "sector")
    en = _values(table, "name_en") if "name_en" in table.coords else sec
    ja = _values(table, "name_ja") if "name_ja" in table.coords else sec
    return {s: (e, j) for s, e, j in zip(sec, en, ja)}


def _item_names(table: xr.Dataset, dim: str) -> dict[str, tuple[str, str]] | None:
    ken, kja = f"{dim}_name_en", f"{dim}_name_ja"
    if ken not in table.coords:
        return None
    lab = _labels(table, dim)
    en = _values(table, ken)
    ja = _values(table, kja) if kja in table.coords else en
    return {s: (e, j) for s, e, j in zip(lab, en, ja)}


def _in_gdp(table: xr.Dataset) -> dict[str, bool]:
    return {str(k): bool(v) for k, v in zip(table.variables["va_item"].values,
                                            table.variables["in_gdp"].values)}


def _tolerance(table: xr.Dataset) -> float:
    """Absolute balance tolerance for a transform's output: the default, or the input's own
    worst residual summed over sectors if the input is less tightly balanced than that."""
    row, col = _t.balance_residuals(table)
    return max(_t.DEFAULT_ATOL, 2.0 * float(np.abs(row).sum() + np.abs(col).sum()))


def _build(
    template: xr.Dataset,
    *,
    Z: np.ndarray,
    Y: np.ndarray,
    E: np.ndarray,
    M: np.ndarray,
    V: np.ndarray,
    x: np.ndarray,
    sectors: list[str],
    final_demand: list[str],
    export_items: list[str],
    import_items: list[str],
    va_items: list[str],
    regions: list[str] | None = None,
    sector_names: Mapping[str, tuple[str, str]] | None = None,
    item_names: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
    in_gdp: Mapping[str, bool] | None = None,
    atol: float | None = None,
    check: bool = True,
) -> xr.Dataset:
    """Rebuild a labelled, validated table from flat arrays, carrying the template's metadata.

    Sector names come from ``sector_names`` (label -> (en, ja)), else the template's names,
    else the label.  Item-name coordinates are written for every item dim the template has
    them for (or ``item_names`` gives).  ``in_gdp`` is taken from ``in_gdp``, else from the
    template for items it knows, else from :data:`simcore.tables.GDP_EXCLUDED_VA_ITEMS`.
    """
    tnames = _sector_names(template)
    snames = dict(sector_names or {})
    en = [snames.get(s, tnames.get(s, (s, s)))[0] for s in sectors]
    ja = [snames.get(s, tnames.get(s, (s, s)))[1] for s in sectors]
    labels = {"final_demand": final_demand, "export_item": export_items,
              "import_item": import_items, "va_item": va_items}
    item_names = item_names or {}
    coords: dict[str, Any] = {}  # given when the table is built (no merge afterwards)
    for dim in _ITEM_DIMS:
        old = _item_names(template, dim)
        given = item_names.get(dim)
        if old is None and given is None:
            continue
        names = {**(old or {}), **(given or {})}
        pairs = [names.get(v, (v, v)) for v in labels[dim]]
        coords[f"{dim}_name_en"] = (dim, [p[0] for p in pairs])
        coords[f"{dim}_name_ja"] = (dim, [p[1] for p in pairs])
    flags = {**_in_gdp(template), **dict(in_gdp or {})}
    gdp_flags = [flags.get(v, v not in _t.GDP_EXCLUDED_VA_ITEMS) for v in va_items]
    coords["in_gdp"] = ("va_item", gdp_flags)
    ds = _t.from_arrays(
        Z, Y, V, x=x, E=E, M=M, sectors=sectors, regions=regions, final_demand=final_demand,
        va_items=va_items, export_items=export_items, import_items=import_items,
        name_en=en, name_ja=ja, unit=template.attrs.get("unit", ""), check=False,
        extra_coords=coords,
    )
    attrs = dict(template.attrs)
    attrs["simcore_version"] = ds.attrs["simcore_version"]
    ds.attrs = attrs
    if check:
        _t.validate(ds, atol=_tolerance(template) if atol is None else atol)
    return ds


def _jsonable(value: Any) -> Any:
    if type(value) in (float, str, bool, int) or value is None:  # the common leaves first
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, (str, bool)):
        return value
    return str(value)


def _entry(name: str, parameters: Mapping[str, Any], changed: Any) -> dict[str, Any]:
    return {"name": name, "parameters": _jsonable(parameters), "changed": _jsonable(changed)}


def _record(table: xr.Dataset, name: str, parameters: Mapping[str, Any],
            changed: Any) -> xr.Dataset:
    return _t.with_history(table, _entry(name, parameters, changed))


def _record_steps(table: xr.Dataset,
                  steps: Sequence[tuple[str, Mapping[str, Any], Any]]) -> xr.Dataset:
    """:func:`_record` of several steps ``(name, parameters, changed)``, in order, in one
    copy of the table."""
    if not steps:
        return table
    return _t.with_history(table, *(_entry(*s) for s in steps))


def _single_region(table: xr.Dataset, what: str) -> None:
    if _t.is_multiregional(table):
        raise TableError(f"{what}: expects a single-region table; got a multi-regional one "
                         f"(regions {_labels(table, 'region')})")


# --------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Concordance:
    """A sector concordance with optional item mappings and names for the new labels.

    Pass it as ``concordance`` to :func:`aggregate`; the item mappings are used unless
    :func:`aggregate` is given its own.

    Attributes
    ----------
    sectors : mapping of str to str
        Old sector code -> new sector code (every old sector must appear).
    va_items, final_demand, export_items, import_items : mapping of str to str, optional
        Old item -> new item; items not listed keep their label.
    sector_names : mapping of str to (str, str), optional
        New sector code -> (English name, Japanese name).
    item_names : mapping of str to (str, str), optional
        New item label -> (English name, Japanese name), any item dimension.
    order : sequence of str, optional
        Order of the new sectors (default: order of first appearance along the old axis).
    """

    sectors: Mapping[str, str]
    va_items: Mapping[str, str] | None = None
    final_demand: Mapping[str, str] | None = None
    export_items: Mapping[str, str] | None = None
    import_items: Mapping[str, str] | None = None
    sector_names: Mapping[str, tuple[str, str]] | None = None
    item_names: Mapping[str, tuple[str, str]] | None = None
    order: tuple[str, ...] | None = None


def _read_concordance(concordance: Any) -> dict[str, str]:
    if isinstance(concordance, Concordance):
        return {str(k): str(v) for k, v in concordance.sectors.items()}
    if isinstance(concordance, pd.Series):
        keys = [str(k) for k in concordance.index]
        dup = pd.Index(keys).duplicated()
        if dup.any():
            k = keys[int(np.flatnonzero(dup)[0])]
            raise LabelError(f"concordance: sector {k!r} appears more than once")
        return dict(zip(keys, (str(v) for v in concordance.to_numpy())))
    if isinstance(concordance, Mapping):
        return {str(k): str(v) for k, v in concordance.items()}
    if isinstance(concordance, (str, Path)):
        p = Path(concordance)
        df = _t._read_csv(p, dtype=str, comment="#")
        if df.shape[1] != 2:
            raise TableError(f"{p}: a concordance CSV needs exactly 2 columns (old, new); "
                             f"got {df.shape[1]}: {list(df.columns)}")
        df = df.dropna(how="all")
        if df.isna().any().any():
            i = int(np.flatnonzero(df.isna().any(axis=1).to_numpy())[0])
            raise LabelError(f"{p}: line {i + 2}: empty code")
        old, new = df.iloc[:, 0].str.strip(), df.iloc[:, 1].str.strip()
        dup = old.duplicated()
        if dup.any():
            raise LabelError(f"{p}: sector {old[dup].iloc[0]!r} appears more than once")
        return dict(zip(old, new))
    raise TableError(f"concordance: expected a dict, a pandas Series, a CSV path or a "
                     f"Concordance; got {type(concordance).__name__}")


def _grouping(old: list[str], mapping: Mapping[str, str] | None, what: str,
              complete: bool, order: Any = None,
              ) -> tuple[list[str], np.ndarray, dict[str, list[str]]]:
    """New labels (``order``, else first-appearance order), the 0/1 matrix S (old x new) and
    the members of each new label."""
    mapping = {} if mapping is None else {str(k): str(v) for k, v in mapping.items()}
    unknown = [k for k in mapping if k not in set(old)]
    if unknown:
        raise LabelError(f"{what}: unknown label {unknown[0]!r} in the concordance (not in the "
                         f"table; {len(unknown)} unknown in all)")
    if complete:
        missing = [s for s in old if s not in mapping]
        if missing:
            raise LabelError(f"{what}: sector {missing[0]!r} is missing from the concordance "
                             f"({len(missing)} missing in all); every sector must be mapped")
    target = [mapping.get(s, s) for s in old]
    new = list(dict.fromkeys(target))
    if order is not None:
        order = [str(o) for o in order]
        if sorted(order) != sorted(new):
            extra = sorted(set(order) ^ set(new))
            raise LabelError(f"{what}: the order of new labels does not match the concordance "
                             f"(first difference: {extra[0]!r})" if extra else
                             f"{what}: duplicate label in the order of new labels")
        new = order
    col = {s: i for i, s in enumerate(new)}
    S = np.zeros((len(old), len(new)))
    S[np.arange(len(old)), [col[t] for t in target]] = 1.0
    members: dict[str, list[str]] = {s: [] for s in new}
    for o, t in zip(old, target):
        members[t].append(o)
    return new, S, members


def _merged_names(members: dict[str, list[str]], names: Mapping[str, tuple[str, str]] | None,
                  given: Mapping[str, tuple[str, str]] | None) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    names = names or {}
    for new, olds in members.items():
        if given and new in given:
            en, ja = given[new]
            out[new] = (str(en), str(ja))
        elif len(olds) == 1 and olds[0] in names:
            out[new] = names[olds[0]]
        elif new in olds and new in names:
            out[new] = names[new]
        else:
            out[new] = (" + ".join(names.get(o, (o, o))[0] for o in olds),
                        "・".join(names.get(o, (o, o))[1] for o in olds))
    return out


def _owner(S: np.ndarray) -> np.ndarray | None:
    """For a 0/1 old-to-new matrix in which every old label has exactly one new one: the
    new index of each old label; otherwise None."""
    if S.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    if ((S != 0) & (S != 1)).any() or (S.sum(axis=1) != 1).any():
        return None
    return S.argmax(axis=1)


def _regroup(A: np.ndarray, Sr: np.ndarray, Sc: np.ndarray) -> np.ndarray:
    """``Sr' A Sc``: rows and columns of ``A`` summed into their groups.  For 0/1 groupings
    the sums are taken by index (``np.add.at``, in label order), the same sums as the
    matrix products without their dense O(n^3) cost."""
    ir, ic = _owner(Sr), _owner(Sc)
    if ir is None or ic is None:
        return Sr.T @ A @ Sc
    rows = np.zeros((Sr.shape[1], A.shape[1]))
    np.add.at(rows, ir, A)
    out = np.zeros((Sr.shape[1], Sc.shape[1]))
    np.add.at(out.T, ic, rows.T)
    return out


def _aggregate(table: xr.Dataset, sectors: Mapping[str, str], *,
               va_items=None, final_demand=None, export_items=None, import_items=None,
               sector_names=None, item_names=None, order=None,
               atol=None) -> tuple[xr.Dataset, dict]:
    f = _t.flat(table)
    R = table.sizes["region"] if _t.is_multiregional(table) else 1
    sec, S, smem = _grouping(_labels(table, "sector"), sectors, "sectors", complete=True,
                             order=order)
    groups = {}
    for dim, mp in (("final_demand", final_demand), ("export_item", export_items),
                    ("import_item", import_items), ("va_item", va_items)):
        groups[dim] = _grouping(_labels(table, dim), mp, dim, complete=False)
    flags = _in_gdp(table)
    va_flags = {}
    for new, olds in groups["va_item"][2].items():
        st = {flags[o] for o in olds}
        if len(st) > 1:
            raise LabelError(
                f"va_item: cannot merge {olds} into {new!r}: they differ in GDP status "
                f"(in_gdp); GDP-excluded items are {list(_t.GDP_EXCLUDED_VA_ITEMS)}")
        va_flags[new] = st.pop()
    Sf = np.kron(np.eye(R), S)
    Sfd = np.kron(np.eye(R), groups["final_demand"][1])
    Z = _regroup(f["Z"], Sf, Sf)
    Y = _regroup(f["Y"], Sf, Sfd)
    E = _regroup(f["E"], Sf, groups["export_item"][1])
    M = _regroup(f["M"], Sf, groups["import_item"][1])
    V = _regroup(f["V"], groups["va_item"][1], Sf)
    x = _regroup(f["x"][:, None], Sf, np.ones((1, 1)))[:, 0]
    inames: dict[str, dict[str, tuple[str, str]]] = {}
    for dim in _ITEM_DIMS:
        old_names = _item_names(table, dim)
        if old_names is not None or item_names:
            inames[dim] = _merged_names(groups[dim][2], old_names, item_names)
    out = _build(
        table, Z=Z, Y=Y, E=E, M=M, V=V, x=x, sectors=sec,
        regions=_labels(table, "region") if R > 1 else None,
        final_demand=groups["final_demand"][0], export_items=groups["export_item"][0],
        import_items=groups["import_item"][0], va_items=groups["va_item"][0],
        sector_names=_merged_names(smem, _sector_names(table), sector_names),
        item_names=inames, in_gdp=va_flags, atol=atol,
    )
    changed = {"sectors": f"{len(smem)} <- {table.sizes['sector']}"}
    for dim in _ITEM_DIMS:
        if len(groups[dim][0]) != table.sizes[dim] or any(
                [k] != v for k, v in groups[dim][2].items()):
            changed[dim] = {k: v for k, v in groups[dim][2].items() if v != [k]}
    return out, changed


@_t.checks_table(balance=False, productive=False)
def aggregate(
    table: xr.Dataset,
    concordance: Mapping[str, str] | pd.Series | str | Path | Concordance,
    *,
    va_items: Mapping[str, str] | None = None,
    final_demand: Mapping[str, str] | None = None,
    export_items: Mapping[str, str] | None = None,
    import_items: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """Aggregate sectors (and optionally items) by a concordance.

    ``Z' = S' Z S``, ``Y' = S' Y``, ``E' = S' E``, ``M' = S' M``, ``V' = V S``,
    ``x' = S' x`` with ``S`` the 0/1 old-to-new matrix; items are aggregated the same way
    along their own axis.  Sums of integers are exact in float64, so aggregating an exact
    table gives an exact table.

    Parameters
    ----------
    table : xarray.Dataset
        A single-region or multi-regional table (for the latter, sectors are aggregated
        within each region).
    concordance : dict, pandas.Series, str or Path, or Concordance
        Old sector code -> new sector code.  A dict, a Series (index old, values new), a
        2-column CSV file with a header row (old, new), or a :class:`Concordance` (whose
        item mappings and names are then used too).  Every sector of the table must be
        mapped, and every key must be a sector of the table.
    va_items, final_demand, export_items, import_items : dict, optional
        Old item -> new item.  Items not listed keep their label.  Value-added items that
        differ in GDP status (``in_gdp``) cannot be merged.

    Returns
    -------
    xarray.Dataset
        The aggregated, validated table.  New sectors appear in the concordance's ``order``
        if it is a :class:`Concordance` that has one, else in order of first appearance
        along the old sector axis.  A new sector keeps the name of its only member, or of the
        member with the same code; otherwise the members' names are joined with ``" + "``.

    Raises
    ------
    LabelError
        A sector of the table missing from the concordance, an unknown sector or item in a
        mapping (the error names it), or VA items of different GDP status merged.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> one = sc.transform.aggregate(t, {"1": "all", "2": "all"})
    >>> one.Z.values, one.x.values
    (array([[950.]]), array([3000.]))
    >>> sc.tables.history(one)[-1]["name"]
    'aggregate'
    """
    conc = concordance if isinstance(concordance, Concordance) else None
    sectors = _read_concordance(concordance)
    maps = {
        "va_items": va_items if va_items is not None else (conc.va_items if conc else None),
        "final_demand": final_demand if final_demand is not None
        else (conc.final_demand if conc else None),
        "export_items": export_items if export_items is not None
        else (conc.export_items if conc else None),
        "import_items": import_items if import_items is not None
        else (conc.import_items if conc else None),
    }
    out, changed = _aggregate(
        table, sectors, **maps,
        sector_names=conc.sector_names if conc else None,
        item_names=conc.item_names if conc else None,
        order=conc.order if conc else None,
    )
    if out.attrs.get("title"):
        out.attrs["title"] = f"{out.attrs['title']} (aggregated to {out.sizes['sector']} sectors)"
    params = {"concordance": sectors, **{k: v for k, v in maps.items() if v is not None}}
    if isinstance(concordance, (str, Path)):
        params["concordance_file"] = str(concordance)
    return _record(out, "aggregate", params, changed)


#: Item mapping from the MIC 185-sector (統合小分類) items to the 37-sector (統合大分類) ones.
JAPAN_185_TO_37_ITEMS: dict[str, dict[str, str]] = {
    "va_items": {"wage": "epin", "ssce": "epin", "othp": "epin", "drsc": "depr"},
    "final_demand": {"npco": "hhco", "govc": "gvco", "gosc": "gvco"},
    "export_items": {"expd": "expo"},
    "import_items": {"impd": "impo"},
}


def japan_185_to_37() -> Concordance:
    """MIC's concordance from Japan's 185-sector to its 37-sector 2015 table.

    Sector codes come from ``simcore/datasets/_source/japan-io-2015/
    io2015_concordance_basic_185_37.csv`` (the MIC integrated classifications, 統合小分類 ->
    統合大分類; the mapping is unique, and the row and column axes agree).  Items are mapped
    as in MIC's 37-sector table: value added ``wage, ssce, othp -> epin`` (compensation of
    employees) and ``depr, drsc -> depr``; final demand ``hhco, npco -> hhco`` and
    ``govc, gosc -> gvco``; exports ``expo, expd -> expo``; imports ``impo, impd -> impo``.
    Sector and item names, and the sector order, are those of the 37-sector table (MIC's
    order puts 39 after 35, whereas 185-sector 1911 would put it after 16).

    Returns
    -------
    Concordance

    Examples
    --------
    >>> import simcore as sc
    >>> c = sc.transform.japan_185_to_37()
    >>> c.sectors["2711"], c.sectors["3511"], len(set(c.sectors.values()))
    ('27', '35', 37)
    >>> t = sc.transform.aggregate(sc.datasets.load("japan-2015-185"), c)
    >>> t.sizes["sector"], t.va_item.values.tolist()
    (37, ['ohcr', 'epin', 'opse', 'depr', 'idtx', 'subs'])
    """
    d = source_dir() / "japan-io-2015"
    src = d / "io2015_concordance_basic_185_37.csv"
    df = _t._read_csv(src, dtype=str)
    pairs = df[["code_185", "code_37"]].drop_duplicates()
    dup = pairs.code_185.duplicated()
    if dup.any():
        raise LabelError(f"{src}: 185-sector code {pairs.code_185[dup].iloc[0]!r} maps to more "
                         "than one 37-sector code")
    sectors = dict(zip(pairs.code_185, pairs.code_37))
    sec = pd.read_csv(d / "io2015_37_sectors.csv", dtype={"code": str})
    items = pd.read_csv(d / "io2015_37_codes_va_fd.csv", dtype=str)
    return Concordance(
        sectors=sectors,
        sector_names={c: (e, j) for c, e, j in zip(sec.code, sec.name_en, sec.name_ja)},
        item_names={c: (e, j) for c, e, j in zip(items.code, items.name_en, items.name_ja)},
        order=tuple(sec.sort_values("order").code),
        **JAPAN_185_TO_37_ITEMS,
    )


# --------------------------------------------------------------------------------------
# Carve-out
# --------------------------------------------------------------------------------------
def _share(value: Any, key: str, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ShockError(f"{what}: share for {key!r} is {value!r}; expected a number in [0, 1]")
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise ShockError(f"{what}: share for {key!r} is {v!r}; expected a number in [0, 1]")
    return v


def _split_shares(
    keys: list[str], amounts: np.ndarray, shares: Mapping[str, Any] | None, target: float,
    default: float | None, what: str,
) -> tuple[np.ndarray, float | None]:
    """Shares for each entry so that ``sum(shares * amounts) == target``, and the common
    share given to the unlisted entries (None if every entry was listed).

    Listed keys get their share; unlisted ones (unless ``"*"`` is listed, which sets them
    all) share one common residual share.  ``default`` is used when nothing is listed.
    """
    out = np.empty(len(keys))
    if shares is None:
        if default is not None:
            out[:] = default
            return out, default
        shares = {}
    shares = {str(k): v for k, v in shares.items()}
    idx = {k: i for i, k in enumerate(keys)}
    unknown = [k for k in shares if k != "*" and k not in idx]
    if unknown:
        raise LabelError(f"{what}: unknown key {unknown[0]!r}; expected one of {keys[:8]}"
                         f"{' ...' if len(keys) > 8 else ''} or '*'")
    listed = np.zeros(len(keys), dtype=bool)
    for k, v in shares.items():
        if k != "*":
            out[idx[k]] = _share(v, k, what)
            listed[idx[k]] = True
    scale = max(1.0, float(np.abs(amounts).sum()))
    if "*" in shares:
        out[~listed] = _share(shares["*"], "*", what)
        got = float(out @ amounts)
        if abs(got - target) > 1e-9 * scale:
            raise ShockError(
                f"{what}: the listed shares give {got:.9g} but {target:.9g} is needed for the "
                "new sector to balance; leave some entries unlisted (they take the residual "
                "share) or change the shares")
        if got != 0.0 and got != target:
            # absorb round-off (at most 1e-9 relative) so the new row/column balances exactly
            out = np.clip(out * (target / got), 0.0, 1.0)
        return out, None
    rest = float(amounts[~listed].sum())
    need = target - float(out[listed] @ amounts[listed])
    if rest == 0.0:
        if abs(need) > 1e-9 * scale:
            raise ShockError(f"{what}: the listed shares give {target - need:.9g} but "
                             f"{target:.9g} is needed and no unlisted entry can take the rest")
        out[~listed] = 0.0
        return out, 0.0
    rho = need / rest
    if -1e-12 <= rho < 0.0:
        rho = 0.0
    if 1.0 < rho <= 1.0 + 1e-12:
        rho = 1.0
    if not 0.0 <= rho <= 1.0:
        raise ShockError(
            f"{what}: the unlisted entries would need a common share of {rho:.6g} (outside "
            "[0, 1]) for the new sector to balance; adjust the listed shares")
    out[~listed] = rho
    return out, rho


@dataclass
class _Flat:
    """A single-region table as flat arrays, labels and sector names: what a chain of
    carve-outs works on between two labelled tables (built once, at the end)."""

    f: dict[str, np.ndarray]
    sec: list[str]
    fd: list[str]
    ex: list[str]
    im: list[str]
    va: list[str]
    names: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, table: xr.Dataset) -> _Flat:
        return cls(f=_t.flat(table), sec=_labels(table, "sector"),
                   fd=_labels(table, "final_demand"), ex=_labels(table, "export_item"),
                   im=_labels(table, "import_item"), va=_labels(table, "va_item"),
                   names=_sector_names(table))

    def tolerance(self) -> float:
        """:func:`_tolerance` of the table these arrays describe."""
        f = self.f
        row = f["Z"].sum(1) + f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1) - f["x"]
        col = f["Z"].sum(0) + f["V"].sum(0) - f["x"]
        return max(_t.DEFAULT_ATOL, 2.0 * float(np.abs(row).sum() + np.abs(col).sum()))

    def build(self, template: xr.Dataset, *, check: bool = True,
              atol: float | None = None) -> xr.Dataset:
        f = self.f
        return _build(template, Z=f["Z"], Y=f["Y"], E=f["E"], M=f["M"], V=f["V"], x=f["x"],
                      sectors=self.sec, final_demand=self.fd, export_items=self.ex,
                      import_items=self.im, va_items=self.va, sector_names=self.names,
                      check=check, atol=atol)


def _carve(table: xr.Dataset, parent: str, new: str, *, what: str = "carve_out",
           check: bool = True, **kw: Any) -> tuple[xr.Dataset, dict]:
    _single_region(table, what)
    flat, changed = _carve_flat(_Flat.of(table), parent, new, what=what, **kw)
    return flat.build(table, check=check), changed


def _carve_flat(st: _Flat, parent: str, new: str, *, output_share: float,
                row_shares=None, import_share=None, column_shares=None, name_en=None,
                name_ja=None, what: str = "carve_out") -> tuple[_Flat, dict]:
    sec = st.sec
    parent, new = str(parent), str(new)
    if parent not in sec:
        raise LabelError(f"{what}: parent sector {parent!r} not in the table")
    if new in sec:
        raise LabelError(f"{what}: new sector {new!r} already exists in the table")
    s = _share(output_share, "output_share", what)
    mu = s if import_share is None else _share(import_share, "import_share", what)
    f = st.f
    n, ip = len(sec), sec.index(parent)
    Z, Y, E, M, V, x = (f[k] for k in ("Z", "Y", "E", "M", "V", "x"))
    xn = s * x[ip]
    mn = mu * M[ip].sum()
    if xn == 0.0 and mn == 0.0:
        raise ShockError(f"{what}: carving {new!r} out of {parent!r} with output_share="
                         f"{s!r} and no imported supply (import_share={mu!r}) would create an "
                         "empty sector; use a positive share")
    fd, ex = st.fd, st.ex
    va = st.va
    # column: inputs (rows of Z) and value added of the parent, target x_new
    ckeys = sec + va
    camt = np.concatenate([Z[:, ip], V[:, ip]])
    c, c_common = _split_shares(ckeys, camt, column_shares, xn, s, f"{what}: column_shares")
    cZ, cV = c[:n], c[n:]
    # row: sales to buyers, final demand and exports of the parent, target x_new + m_new
    rkeys = sec + fd + ex
    if len(set(rkeys)) != len(rkeys):
        dup = pd.Index(rkeys)[pd.Index(rkeys).duplicated()][0]
        raise LabelError(f"{what}: label {dup!r} is both a sector and an item; rename one")
    ramt = np.concatenate([Z[ip, :], Y[ip, :], E[ip, :]])
    r, r_common = _split_shares(rkeys, ramt, row_shares, xn + mn,
                      s if mu == s else None, f"{what}: row_shares")
    rZ, rY, rE = r[:n], r[n:n + len(fd)], r[n + len(fd):]
    # assemble: new sector inserted right after the parent
    order = list(range(ip + 1)) + [n] + list(range(ip + 1, n))
    Z2 = np.zeros((n + 1, n + 1))
    Z2[:n, :n] = Z
    Z2[ip, :n] = (1.0 - rZ) * Z[ip, :]
    Z2[n, :n] = rZ * Z[ip, :]
    Z2[:n, n] = cZ * Z[:, ip]
    Z2[:n, ip] = (1.0 - cZ) * Z[:, ip]
    z, rp, cp = Z[ip, ip], rZ[ip], cZ[ip]
    Z2[ip, ip] = (1.0 - rp) * (1.0 - cp) * z
    Z2[ip, n] = (1.0 - rp) * cp * z
    Z2[n, ip] = rp * (1.0 - cp) * z
    Z2[n, n] = rp * cp * z
    Y2 = np.vstack([Y, rY * Y[ip]])
    Y2[ip] = (1.0 - rY) * Y[ip]
    E2 = np.vstack([E, rE * E[ip]])
    E2[ip] = (1.0 - rE) * E[ip]
    M2 = np.vstack([M, mu * M[ip]])
    M2[ip] = (1.0 - mu) * M[ip]
    V2 = np.hstack([V, (cV * V[:, ip])[:, None]])
    V2[:, ip] = (1.0 - cV) * V[:, ip]
    x2 = np.append(x, xn)
    x2[ip] = x[ip] - xn
    pn = st.names[parent]
    names = dict(st.names)
    names[new] = (name_en if name_en is not None else f"{new} (carved out of {pn[0]})",
                  name_ja if name_ja is not None else f"{new}（{pn[1]}から分離）")
    out = _Flat(f={"Z": Z2[np.ix_(order, order)], "Y": Y2[order], "E": E2[order],
                   "M": M2[order], "V": V2[:, order], "x": x2[order]},
                sec=[(sec + [new])[i] for i in order], fd=fd, ex=ex, im=st.im, va=va,
                names=names)
    changed = {
        "new_sector": new, "parent": parent, "output": float(xn), "imports": float(mn),
        "parent_output_before": float(x[ip]), "parent_output_after": float(x[ip] - xn),
        "import_share": mu, "row_share_unlisted": r_common, "column_share_unlisted": c_common,
    }
    return out, changed


@_t.checks_table(balance=False, productive=False)
def carve_out(
    table: xr.Dataset,
    parent: str,
    new: str,
    *,
    output_share: float,
    row_shares: Mapping[str, float] | None = None,
    import_share: float | None = None,
    column_shares: Mapping[str, float] | None = None,
    name_en: str | None = None,
    name_ja: str | None = None,
) -> xr.Dataset:
    """Carve a new product/sector out of an existing one by documented shares.

    Rare earths are not a product of Japan's IO table: the metals hide in non-ferrous metal
    smelting (2711), the compounds in other inorganic chemicals (2029) and the magnets in
    other electrical machinery (3399) (docs/data.md, "Rare-earth source data").  This function adds
    a
    row and column ``new`` right after ``parent`` and takes them out of the parent so that
    every total of the table is unchanged.

    Semantics (``p`` = parent, ``n`` = new, ``s`` = ``output_share``):

    * **Output.** ``x_n = s x_p`` and ``x_p' = (1 - s) x_p``.
    * **Column** (input structure and value added).  The new sector buys share ``c_i`` of
      each of the parent's inputs ``Z_ip`` and value-added items ``V_kp``; the parent keeps
      ``1 - c_i``.  By default ``c_i = s`` for all (the parent's recipe, scaled).  Entries
      listed in ``column_shares`` (keys: supplier sector codes and VA items) get their own
      share; the unlisted ones share one common share set so that the new column sums to
      ``x_n`` (an error if it falls outside [0, 1]).  Listing ``"*"`` sets every unlisted
      entry; the listed shares must then balance exactly.
    * **Imports.** The new product's imports are share ``import_share`` (default ``s``) of
      each of the parent row's import items; the parent keeps the rest.
    * **Row** (sales).  The new product supplies ``x_n + m_n``.  Buyer ``j`` (a sector code,
      a final-demand category or an export item) gets share ``r_j`` of its purchases from
      the parent as the new product.  By default ``r_j`` is one common share (``s`` when
      ``import_share`` is ``s``); entries listed in ``row_shares`` keep their share and the
      unlisted buyers share the residual share that balances the row; ``"*"`` works as for
      columns.
    * **The parent's own use** ``Z_pp`` becomes a 2x2 block.  Key ``parent`` in
      ``row_shares`` (``r_p``) is the share of the parent's intra-industry purchases that is
      the new product; key ``parent`` in ``column_shares`` (``c_p``) the share of them that
      the new sector buys.  The block is split independently:
      ``Z_nn = r_p c_p z``, ``Z_np = r_p (1-c_p) z``, ``Z_pn = (1-r_p) c_p z``,
      ``Z_pp' = (1-r_p)(1-c_p) z``, which keeps both the row and the column splits.
    * **Zero shares.**  ``output_share = 0`` is allowed and gives a sector with zero output
      whose row carries only imported supply (a product Japan does not make); with no
      imports either, the sector would be empty and a :class:`ShockError` is raised.

    The result is balanced by construction; total output, total ``Z``, total value added,
    total final demand, exports and imports equal the parent table's (to float round-off),
    and aggregating ``new`` back into ``parent`` with :func:`aggregate` gives back the
    original table.

    Parameters
    ----------
    table : xarray.Dataset
        A single-region table.
    parent : str
        Sector code to carve from.
    new : str
        Code of the new sector (must not exist yet).
    output_share : float
        Share of the parent's gross output that is the new product, in [0, 1].
    row_shares : dict, optional
        Buyer -> share of that buyer's purchases from the parent that is the new product.
    import_share : float, optional
        Share of the parent's imports that is the new product (default ``output_share``).
    column_shares : dict, optional
        Input (sector code or VA item) -> share of the parent's purchase used by the new
        sector.
    name_en, name_ja : str, optional
        Names of the new sector.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    ShockError
        A share outside [0, 1] (the error names the key), shares that cannot balance the new
        row or column, or an empty new sector.
    LabelError
        Unknown parent, an existing ``new`` or an unknown key in a share mapping.

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> c = sc.transform.carve_out(t, "1", "1b", output_share=0.25)
    >>> c.sector.values.tolist(), c.x.values.tolist()
    (['1', '1b', '2'], [750.0, 250.0, 2000.0])
    >>> back = sc.transform.aggregate(c, {"1": "1", "1b": "1", "2": "2"})
    >>> bool(abs(back.Z - t.Z).max() < 1e-9)
    True
    """
    _single_region(table, "carve_out")
    st, params, changed = _carve_out_flat(
        _Flat.of(table), parent, new, output_share=output_share, row_shares=row_shares,
        import_share=import_share, column_shares=column_shares, name_en=name_en,
        name_ja=name_ja)
    return _record(st.build(table), "carve_out", params, changed)


def _carve_out_flat(st: _Flat, parent: str, new: str, *, output_share: float,
                    row_shares: Mapping[str, float] | None = None,
                    import_share: float | None = None,
                    column_shares: Mapping[str, float] | None = None,
                    name_en: str | None = None, name_ja: str | None = None
                    ) -> tuple[_Flat, dict, dict]:
    """:func:`carve_out` on flat arrays: the new arrays, the history parameters and what
    changed."""
    out, changed = _carve_flat(st, parent, new, output_share=output_share,
                               row_shares=row_shares, import_share=import_share,
                               column_shares=column_shares, name_en=name_en, name_ja=name_ja)
    params = {"parent": parent, "new": new, "output_share": output_share,
              "row_shares": row_shares, "import_share": import_share,
              "column_shares": column_shares, "name_en": name_en, "name_ja": name_ja}
    return out, params, changed


_SPEC_KEYS = ("output_share", "row_shares", "import_share", "column_shares")


@_t.checks_table(balance=False, productive=False)
def carve_out_merged(
    table: xr.Dataset,
    parents: Mapping[str, Mapping[str, Any]],
    new: str,
    *,
    name_en: str | None = None,
    name_ja: str | None = None,
) -> xr.Dataset:
    """Carve one new product out of several parents and merge the pieces.

    Rare-earth metals (in 2711) and compounds (in 2029) can be gathered into one product
    this way.  Each parent is carved in turn with :func:`carve_out` semantics (its spec is a
    dict with ``output_share`` and optionally ``row_shares``, ``import_share`` and
    ``column_shares``), then the pieces are summed into one sector ``new`` placed after the
    first parent.  In the spec of a later parent, the key ``new`` in ``row_shares`` or
    ``column_shares`` addresses the pieces already carved (it is ignored for the first).

    Parameters
    ----------
    table : xarray.Dataset
    parents : dict
        Parent sector code -> carve-out spec.
    new : str
        Code of the new sector.
    name_en, name_ja : str, optional

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> import simcore as sc
    >>> t = sc.datasets.load("miller-blair-2.3")
    >>> c = sc.transform.carve_out_merged(
    ...     t, {"1": {"output_share": 0.1}, "2": {"output_share": 0.05}}, "re")
    >>> c.sector.values.tolist(), c.x.values.tolist()
    (['1', 're', '2'], [900.0, 200.0, 1900.0])
    """
    if not parents:
        raise ShockError("carve_out_merged: no parents given")
    _single_region(table, "carve_out_merged")
    merged, params, changed = _carve_out_merged_flat(_Flat.of(table), parents, new,
                                                     name_en=name_en, name_ja=name_ja)
    out = merged.build(table, atol=_tolerance(table))
    return _record(out, "carve_out_merged", params, changed)


def _carve_out_merged_flat(cur: _Flat, parents: Mapping[str, Mapping[str, Any]], new: str, *,
                           name_en: str | None = None, name_ja: str | None = None
                           ) -> tuple[_Flat, dict, dict]:
    """:func:`carve_out_merged` on flat arrays: the merged arrays, the history parameters
    and what changed (the pieces are checked once, when a table is built from them)."""
    if not parents:
        raise ShockError("carve_out_merged: no parents given")
    new = str(new)
    pieces: list[str] = []
    details = []
    sec0 = list(cur.sec)
    for parent, spec in parents.items():
        parent = str(parent)
        if not isinstance(spec, Mapping):
            raise ShockError(f"carve_out_merged: spec for parent {parent!r} must be a dict "
                             f"with keys {_SPEC_KEYS}")
        bad = [k for k in spec if k not in _SPEC_KEYS]
        if bad:
            raise ShockError(f"carve_out_merged: unknown key {bad[0]!r} in the spec for "
                             f"{parent!r}; expected {_SPEC_KEYS}")
        if "output_share" not in spec:
            raise ShockError(f"carve_out_merged: spec for {parent!r} lacks 'output_share'")
        if parent not in sec0:
            raise LabelError(f"carve_out_merged: parent sector {parent!r} not in the table")
        kw = dict(spec)
        for key in ("row_shares", "column_shares"):
            if kw.get(key) is not None:
                m = {str(k): v for k, v in kw[key].items()}
                if new in m:
                    v = m.pop(new)
                    m.update({p: v for p in pieces})
                kw[key] = m
        piece = f"{new}@{parent}"
        if piece in cur.sec:
            raise LabelError(f"carve_out_merged: parent {parent!r} listed twice")
        # the pieces are checked once, after merging
        cur, ch = _carve_flat(cur, parent, piece, what="carve_out_merged", **kw)
        pieces.append(piece)
        details.append(ch)
    if new in cur.sec:
        raise LabelError(f"carve_out_merged: new sector {new!r} already exists in the table")
    names = {new: (name_en if name_en is not None else new,
                   name_ja if name_ja is not None else new)}
    mapping = {s: (new if s in pieces else s) for s in cur.sec}
    order = [(new if s == pieces[0] else s) for s in cur.sec if s not in pieces[1:]]
    # merge the pieces (the sector aggregation of _aggregate; items are unchanged)
    sec, S, smem = _grouping(cur.sec, mapping, "sectors", complete=True, order=order)
    f = cur.f
    one = {k: np.eye(f[k].shape[1]) for k in ("Y", "E", "M")}
    merged = _Flat(
        f={"Z": _regroup(f["Z"], S, S), "Y": _regroup(f["Y"], S, one["Y"]),
           "E": _regroup(f["E"], S, one["E"]), "M": _regroup(f["M"], S, one["M"]),
           "V": _regroup(f["V"], np.eye(f["V"].shape[0]), S),
           "x": _regroup(f["x"][:, None], S, np.ones((1, 1)))[:, 0]},
        sec=sec, fd=cur.fd, ex=cur.ex, im=cur.im, va=cur.va,
        names=_merged_names(smem, cur.names, names))
    params = {"parents": dict(parents), "new": new, "name_en": name_en, "name_ja": name_ja}
    changed = {"new_sector": new, "output": float(merged.f["x"][merged.sec.index(new)]),
               "pieces": details}
    return merged, params, changed


# --------------------------------------------------------------------------------------
# Rescaling
# --------------------------------------------------------------------------------------
@_t.checks_table(balance=False, productive=False)
def rescale(
    table: xr.Dataset,
    factor: float | None = None,
    *,
    target_gdp: float | None = None,
    target_year: int | None = None,
) -> xr.Dataset:
    """Scale every monetary value (``Z, Y, E, M, V, x``) by one factor.

    Give either ``factor`` or ``target_gdp``, the GDP-like value added wanted after scaling
    (computed with :func:`simcore.tables.gdp`, which excludes the items in
    :data:`simcore.tables.GDP_EXCLUDED_VA_ITEMS`, e.g. Japan's ``ohcr``).  Coefficients
    (``A``, ``B``, value-added shares) are unchanged.

    The result records ``attrs['rescale_factor']`` (the cumulative factor applied to the
    original values, if the table was rescaled before), ``attrs['rescale_target_gdp']``
    (GDP-like value added after scaling) and, if given, ``attrs['rescale_target_year']``.

    Parameters
    ----------
    table : xarray.Dataset
    factor : float, optional
        Positive, finite scale factor.
    target_gdp : float, optional
        Target GDP-like value added, in table units.
    target_year : int, optional
        Year the target refers to (recorded only).

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    Japan's 2015 GDP-like value added (533,183,214 million yen, PROVENANCE §1.6) scaled to
    the 2024 nominal GDP of 607.9 trillion yen that Kiuchi (NRI, 2025) divides by
    (Kiuchi 2025; docs/reproduction.md):

    >>> import simcore as sc
    >>> t = sc.transform.rescale(sc.datasets.load("japan-2015-37"), target_gdp=607.9e6)
    >>> round(t.attrs["rescale_factor"], 4), round(sc.tables.gdp(t))
    (1.1401, 607900000)
    """
    if (factor is None) == (target_gdp is None):
        raise ParameterError("rescale: give exactly one of factor and target_gdp")
    base = _t.gdp(table)
    if target_gdp is not None:
        tg = positive_number(target_gdp, f"rescale: target_gdp is {target_gdp!r}; expected "
                                         "a positive finite number")
        if not base > 0:
            raise TableError(f"rescale: the table's GDP-like value added is {base!r}; cannot "
                             "scale it to a target")
        k = tg / base
    else:
        k = positive_number(factor, f"rescale: factor is {factor!r}; expected a positive "
                                    "finite number")
    money = ("Z", "Y", "E", "M", "V", "x")
    # one copy with every money variable replaced (dims and attrs kept): assigning them one
    # by one would merge the whole dataset six times
    out = table.copy(data={var: table.variables[var].values * k if var in money
                           else table.variables[var].values for var in table.data_vars})
    for var in money:
        out.variables[var].attrs = dict(table.variables[var].attrs)
    out.attrs = dict(table.attrs)
    out.attrs["rescale_factor"] = float(table.attrs.get("rescale_factor", 1.0)) * k
    out.attrs["rescale_target_gdp"] = float(target_gdp) if target_gdp is not None else _t.gdp(out)
    if target_year is not None:
        out.attrs["rescale_target_year"] = int(target_year)
    if "balance_atol" in out.attrs:
        # the tolerance the table was built with is in money: it scales with the table, and
        # never falls below the round-off of sums at the new scale (issue 15: rescale_gdp =
        # 6e16 failed the engines' balance check by a residual of 2 against 1e16)
        xmax = float(np.abs(out["x"].values).max()) if out["x"].size else 0.0
        out.attrs["balance_atol"] = max(float(out.attrs["balance_atol"]) * k, 1e-12 * xmax)
    _t.validate(out, atol=_tolerance(table) * k)
    params = {"factor": factor, "target_gdp": target_gdp, "target_year": target_year}
    changed = {"factor": k, "gdp_before": base, "gdp_after": out.attrs["rescale_target_gdp"]}
    return _record(out, "rescale", params, changed)


# --------------------------------------------------------------------------------------
# Preprocessing for dynamic models
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrepareReport:
    """What :func:`prepare_for_dynamics` changed.

    Attributes
    ----------
    account : str
        Label of the adjustment VA item and final-demand column.
    cells_moved : int
        Number of negative intermediate cells set to 0.
    total_moved : float
        Their sum (negative), in table units.
    moved : tuple of (str, str, float)
        Each moved cell as (supplier, buyer, value).
    negative_final_demand_cells : int
        Negative domestic final-demand cells in the input (the adjustment column excluded).
    netted : dict of str to float
        Row -> amount of negative final demand (including the adjustment column) netted
        against that row's positive final demand (a positive number).
    imports_raised : dict of str to float
        Row -> amount added to that row's imports, where its positive final demand could
        not absorb the negatives.
    final_demand_change : float
        Change in total domestic final demand (after minus before).
    imports_change : float
        Change in total imports (after minus before).
    zero_output_sectors : tuple of str
        Sectors with zero gross output (left as they are; dynamic models must exclude them,
        docs/methodology.md, "Conventions": 0/0 := 0).
    """

    account: str
    cells_moved: int
    total_moved: float
    moved: tuple[tuple[str, str, float], ...]
    negative_final_demand_cells: int
    netted: dict[str, float] = field(default_factory=dict)
    imports_raised: dict[str, float] = field(default_factory=dict)
    final_demand_change: float = 0.0
    imports_change: float = 0.0
    zero_output_sectors: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The report as a plain, JSON-serialisable dict."""
        return _jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    def __str__(self) -> str:
        return (
            f"prepare_for_dynamics: moved {self.cells_moved} negative intermediate cell(s) "
            f"totalling {self.total_moved:,.6g} to account {self.account!r}; netted negative "
            f"final demand in {len(self.netted)} row(s) ({sum(self.netted.values()):,.6g}); "
            f"raised imports in {len(self.imports_raised)} row(s) "
            f"({sum(self.imports_raised.values()):,.6g}); final demand changed by "
            f"{self.final_demand_change:,.6g}; {len(self.zero_output_sectors)} zero-output "
            "sector(s)"
        )


def dynamics_arrays(table: xr.Dataset, *, account: str = "nadj"
                    ) -> tuple[dict[str, Any], PrepareReport]:
    """:func:`prepare_for_dynamics` on the flat arrays, without building the table: its
    ``Z``, ``Y``, ``E``, ``M``, ``V`` and ``x`` (:func:`simcore.tables.flat`'s layout), the
    item labels ``final_demand``, ``import_item`` and ``va_item`` (``account`` appended
    where it was missing; the ``account`` value-added item is not in GDP), and the report.
    :func:`simcore.dynamic.supply_chain.prepare_model` lowers these directly; the table is
    not checked here (its caller has)."""
    account = str(account)
    f = _t.flat(table)
    Z, Y, E, M, V, x = (f[k].copy() for k in ("Z", "Y", "E", "M", "V", "x"))
    mr = _t.is_multiregional(table)
    R = table.sizes["region"] if mr else 1
    n = table.sizes["sector"]
    labels = _t.industry_labels(table)
    fd, va, im = (_labels(table, d) for d in ("final_demand", "va_item", "import_item"))
    k = len(fd)
    Y0, M0 = Y.sum(), M.sum()
    # 1. negative intermediate cells -> VA item and FD column `account`
    if account not in va:
        va = va + [account]
        V = np.vstack([V, np.zeros((1, V.shape[1]))])
    if account not in fd:
        fd = fd + [account]
        Y = np.concatenate([Y.reshape(-1, R, k), np.zeros((Y.shape[0], R, 1))],
                           axis=2).reshape(Y.shape[0], -1)
        k += 1
    ia, ja = va.index(account), fd.index(account)
    neg_fd_before = int(np.sum(np.delete(Y.reshape(-1, R, k), ja, axis=2) < 0))
    rows, cols = np.nonzero(Z < 0)
    moved = tuple((labels[i], labels[j], float(Z[i, j])) for i, j in zip(rows, cols))
    vals = Z[rows, cols]
    np.add.at(V[ia], cols, vals)
    np.add.at(Y, (rows, (cols // n) * k + ja), vals)
    Z[rows, cols] = 0.0
    # 2.-3. net negative final demand per row; remainder raises imports
    netted: dict[str, float] = {}
    raised: dict[str, float] = {}
    if not im and np.any(Y.sum(1) < 0):
        im = [account]
        M = np.zeros((M.shape[0], 1))
    for i in np.flatnonzero((Y < 0).any(axis=1)):
        neg = Y[i] < 0
        N, P = float(Y[i][neg].sum()), float(Y[i][~neg].sum())
        Y[i][neg] = 0.0
        if P >= -N:
            if P > 0:
                Y[i][~neg] *= (P + N) / P
            netted[labels[i]] = -N
        else:
            Y[i][~neg] = 0.0
            netted[labels[i]] = P
            raised[labels[i]] = -(P + N)
            M[i, 0] += -(P + N)
    zero = tuple(labels[i] for i in np.flatnonzero(x == 0))
    report = PrepareReport(
        account=account, cells_moved=len(moved), total_moved=float(vals.sum()), moved=moved,
        negative_final_demand_cells=neg_fd_before, netted=netted, imports_raised=raised,
        final_demand_change=float(Y.sum() - Y0), imports_change=float(M.sum() - M0),
        zero_output_sectors=zero,
    )
    return ({"Z": Z, "Y": Y, "E": E, "M": M, "V": V, "x": x, "final_demand": fd,
             "import_item": im, "va_item": va}, report)


@_t.checks_table(balance=False, productive=False)
def prepare_for_dynamics(
    table: xr.Dataset, *, account: str = "nadj",
) -> tuple[xr.Dataset, PrepareReport]:
    """Remove negative intermediate and final-demand cells so dynamic models can run.

    MIC's tables hold legitimate negative cells (docs/data.md, "Negative cells, and why they are
    legitimate"): the
    185-sector table has 92 negative intermediate cells totalling −363,050 million yen
    (scrap and by-products under the Stone "minus-input" method), the 37-sector table one
    (26 -> 21, −6), and some final-demand cells are negative (decreases in stocks, and 8
    (37) / 14 (185) others).  Dynamic models (simcore's, BoARIO's) need ``Z >= 0`` and
    ``Y >= 0``.  The method, which keeps gross output ``x`` unchanged and both balances
    exact:

    1. Each negative ``Z_ij`` is set to 0 and moved to a value-added item ``account`` (value
       ``Z_ij`` in column ``j``; the item is excluded from GDP, see
       :data:`simcore.tables.GDP_EXCLUDED_VA_ITEMS`, so GDP-like value added is unchanged)
       and to a final-demand column ``account`` (value ``Z_ij`` in row ``i``; for a
       multi-regional table, in the buyer's region).
    2. Per row, all negative final-demand cells (including ``account``) are netted against
       that row's positive final-demand cells, which are scaled down proportionally.
    3. Any remainder the row's positive final demand cannot absorb is added to that row's
       imports (first import item; an import item ``account`` is created if the table has
       none), which keeps the row balance and the GDP identity (final demand minus imports).

    The ``account`` final-demand column is kept (all zeros after netting) as a marker.
    Sectors with zero gross output are left as they are and listed in the report.  Negative
    exports or imports, if any, are not touched.  Applying the function twice changes
    nothing the second time.

    Parameters
    ----------
    table : xarray.Dataset
    account : str, default "nadj"
        Label of the adjustment value-added item and final-demand column.

    Returns
    -------
    table : xarray.Dataset
    report : PrepareReport

    Examples
    --------
    >>> import simcore as sc
    >>> t, rep = sc.transform.prepare_for_dynamics(sc.datasets.load("japan-2015-37"))
    >>> rep.cells_moved, rep.total_moved, rep.moved
    (1, -6.0, (('26', '21', -6.0),))
    >>> bool((t.Z >= 0).all() and (t.Y >= 0).all())
    True
    """
    account = str(account)
    a, report = dynamics_arrays(table, account=account)
    mr = _t.is_multiregional(table)
    out = _build(
        table, Z=a["Z"], Y=a["Y"], E=a["E"], M=a["M"], V=a["V"], x=a["x"],
        sectors=_labels(table, "sector"),
        regions=_labels(table, "region") if mr else None, final_demand=a["final_demand"],
        export_items=_labels(table, "export_item"), import_items=a["import_item"],
        va_items=a["va_item"],
        item_names={
            "va_item": {account: ("Negative-input adjustment", "負の投入の調整")},
            "final_demand": {account: ("Negative-input adjustment", "負の投入の調整")},
            "import_item": {account: ("Negative-input adjustment", "負の投入の調整")},
        },
        in_gdp={account: False},
    )
    # the report without the list of moved cells (not made JSON-ready only to be dropped)
    changed = _jsonable({k: getattr(report, k) for k in report.__dataclass_fields__
                         if k != "moved"})
    out = _record(out, "prepare_for_dynamics", {"account": account}, changed)
    return out, report


# --------------------------------------------------------------------------------------
# Import split
# --------------------------------------------------------------------------------------
def _first_negative(table: xr.Dataset, f: dict[str, np.ndarray]) -> str | None:
    sec = _labels(table, "sector")
    for var, cols in (("Z", sec), ("Y", _labels(table, "final_demand")),
                      ("E", _labels(table, "export_item")),
                      ("M", _labels(table, "import_item"))):
        a = f[var]
        if a.size and np.any(a < 0):
            i, j = np.argwhere(a < 0)[0]
            return f"{var}[{sec[i]!r}, {cols[j]!r}] = {a[i, j]:.6g}"
    return None


@_t.checks_table(balance=False, productive=False)
def split_imports(
    table: xr.Dataset, *, domestic: str = "JPN", foreign: str = "ROW",
) -> xr.Dataset:
    """Split a competitive-import table into a two-region non-competitive table.

    Import proportionality (docs/methodology.md, "Conventions"): every user of product ``i``
    imports the same
    share ``mu_i = m_i / (sum_j z_ij + f^d_i)`` of its purchases
    (:func:`simcore.tables.import_shares`), so ``z^d = (1 - mu) z``, ``z^m = mu z`` and
    ``f^m = mu f^d``.  The result has regions ``[domestic, foreign]``:

    * ``Z[domestic, i, domestic, j] = (1 - mu_i) z_ij`` and
      ``Z[foreign, i, domestic, j] = mu_i z_ij``;
    * domestic final demand splits the same way, into ``Y[., i, domestic, f]``;
    * the foreign industries produce the imports, ``x[foreign, i] = m_i`` (all import items,
      duties and import commodity taxes included), with no intermediate inputs: their whole
      cost is the value-added item ``"imports"`` (:data:`IMPORTS_VA_ITEM`), flagged
      ``in_gdp = False`` so :func:`simcore.tables.gdp` stays the domestic GDP;
    * domestic exports go to the foreign region's final demand, in new final-demand
      categories named after the export items;
    * re-exports are assumed zero; if a product's imports exceed its domestic use
      (``mu_i > 1``), the excess is routed from the foreign industry to foreign final demand
      and the domestic exports are reduced by it, so both balances still hold.

    The table has no ``E`` or ``M`` items left.  It is balanced by construction and
    ``Z[domestic] + Z[foreign -> domestic]`` equals the original ``Z``.

    Parameters
    ----------
    table : xarray.Dataset
        A single-region table without negative ``Z``, ``Y``, ``E`` or ``M`` cells (apply
        :func:`prepare_for_dynamics` first).
    domestic, foreign : str
        Region labels.

    Returns
    -------
    xarray.Dataset
        A multi-regional table.

    Raises
    ------
    TableError
        The table is multi-regional or has a negative cell (the error names it).

    Examples
    --------
    >>> import simcore as sc
    >>> t, _ = sc.transform.prepare_for_dynamics(sc.datasets.load("japan-2015-37"))
    >>> s = sc.transform.split_imports(t)
    >>> s.region.values.tolist(), round(sc.tables.gdp(s)) == round(sc.tables.gdp(t))
    (['JPN', 'ROW'], True)
    """
    _single_region(table, "split_imports")
    domestic, foreign = str(domestic), str(foreign)
    if domestic == foreign:
        raise LabelError(f"split_imports: domestic and foreign regions are both {domestic!r}")
    f = _t.flat(table)
    bad = _first_negative(table, f)
    if bad is not None:
        raise TableError(f"split_imports: negative cell {bad}; import proportionality needs "
                         "non-negative cells; apply simcore.transform.prepare_for_dynamics "
                         "first")
    va = _labels(table, "va_item")
    if IMPORTS_VA_ITEM in va:
        raise LabelError(f"split_imports: the table already has a VA item "
                         f"{IMPORTS_VA_ITEM!r}")
    Z, Y, E, M, V, x = (f[k] for k in ("Z", "Y", "E", "M", "V", "x"))
    n, k = Z.shape[0], Y.shape[1]
    ex = _labels(table, "export_item")
    fd = _labels(table, "final_demand")
    clash = [e for e in ex if e in fd]
    if clash:
        raise LabelError(f"split_imports: export item {clash[0]!r} is also a final-demand "
                         "category")
    mu = _t.import_shares(table).values
    m = M.sum(1)
    use = Z.sum(1) + Y.sum(1)
    excess = np.where(m > use, m - np.maximum(use, 0.0), 0.0)
    if not ex and np.any(excess > 0):
        i = int(np.argmax(excess))
        raise TableError(f"split_imports: sector {_labels(table, 'sector')[i]!r} imports more "
                         "than its domestic use but the table has no exports to re-export")
    esum = E.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        eshare = np.where(esum[:, None] > 0, E / esum[:, None], 0.0)
    if ex:
        eshare[esum == 0, 0] = 1.0
    reexp = excess[:, None] * eshare
    ke = len(ex)
    kk = k + ke
    Zf = np.zeros((2 * n, 2 * n))
    Zf[:n, :n] = (1.0 - mu)[:, None] * Z
    Zf[n:, :n] = mu[:, None] * Z
    Yf = np.zeros((2 * n, 2 * kk))
    Yf[:n, :k] = (1.0 - mu)[:, None] * Y
    Yf[n:, :k] = mu[:, None] * Y
    Yf[:n, kk + k:] = E - reexp
    Yf[n:, kk + k:] = reexp
    Vf = np.zeros((len(va) + 1, 2 * n))
    Vf[:-1, :n] = V
    Vf[-1, n:] = m
    xf = np.concatenate([x, m])
    inames = {}
    en = _item_names(table, "export_item")
    if en is not None:
        inames["final_demand"] = {e: en[e] for e in ex}
    inames["va_item"] = {IMPORTS_VA_ITEM: ("Imports (cost of foreign supply)", "輸入")}
    out = _build(
        table, Z=Zf, Y=Yf, E=np.zeros((2 * n, 0)), M=np.zeros((2 * n, 0)), V=Vf, x=xf,
        sectors=_labels(table, "sector"), regions=[domestic, foreign],
        final_demand=fd + ex, export_items=[], import_items=[],
        va_items=va + [IMPORTS_VA_ITEM], item_names=inames, in_gdp={IMPORTS_VA_ITEM: False},
        atol=_tolerance(table) * 2,
    )
    out.attrs["import_type"] = "non-competitive (import proportionality)"
    changed = {
        "regions": [domestic, foreign], "imports_total": float(m.sum()),
        "mu_max": float(mu.max(initial=0.0)), "reexports": float(excess.sum()),
        "final_demand_added": ex, "va_item_added": IMPORTS_VA_ITEM,
    }
    return _record(out, "split_imports", {"domestic": domestic, "foreign": foreign}, changed)
