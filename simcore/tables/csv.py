"""Reading and writing tables as CSV files (long and wide layouts)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import _atomic
from ..errors import LabelError, NonFiniteError, TableError
from .model import from_arrays, from_pandas
from .views import is_multiregional


#: Row and column types accepted in the long CSV layout.
LONG_ROW_TYPES = ("sector", "value_added")
LONG_COL_TYPES = ("sector", "final_demand", "export", "import")


def from_csv(
    path: str | Path,
    *,
    layout: str = "long",
    sectors: Sequence[str] | None = None,
    imports_negative: bool = True,
    **kwargs: Any,
) -> xr.Dataset:
    """Read a single-region table from CSV.

    Two layouts are supported.

    ``layout="long"`` (one file): columns ``row_code, row_type, col_code, col_type, value``
    (the value column may also be called ``value_million_jpy``).  ``row_type`` is ``sector``
    or ``value_added``; ``col_type`` is ``sector``, ``final_demand``, ``export`` or
    ``import``.  Missing cells are zero.  Imports are signed as in MIC's tables (negative)
    unless ``imports_negative=False``.

    ``layout="wide"``: ``path`` is a directory (or a file prefix) holding
    ``*intermediate.csv`` (first column ``row_code``, then one column per buyer),
    ``*final_demand.csv`` (``row_code`` then one column per final-demand, export and import
    item; pass ``export_items`` and ``import_items`` to say which are which, defaults
    ``expo, expd`` and ``impo, impd, imta, imtx``) and ``*value_added.csv`` (``va_code``
    then one column per sector).

    Sector order follows ``sectors`` if given, else the order of first appearance.
    Any error names the file and the offending row, column or label.
    """
    path = Path(path)
    if layout == "long":
        return _from_long_csv(path, sectors=sectors, imports_negative=imports_negative, **kwargs)
    if layout == "wide":
        return _from_wide_csv(path, sectors=sectors, imports_negative=imports_negative, **kwargs)
    raise TableError(f"from_csv: unknown layout {layout!r}; expected 'long' or 'wide'")


def _read_csv(path: Path, **kw: Any) -> pd.DataFrame:
    if not path.exists():
        raise TableError(f"{path}: file not found")
    if path.is_dir():
        raise TableError(f"{path}: is a directory; the long layout reads one CSV file "
                         "(use layout='wide' for a folder of wide files)")
    kw.setdefault("keep_default_na", False)  # a sector coded "NA" is a label, not a gap
    try:
        df = pd.read_csv(path, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise TableError(f"{path}: cannot parse as CSV ({exc})") from exc
    if not isinstance(df.index, pd.RangeIndex):
        # every data row has more fields than the header: pandas took the first field(s) as
        # an index and shifted every value to the left; refuse it, naming the line
        _check_csv_fields(path, kw.get("comment"))
    return df


def _check_csv_fields(path: Path, comment: str | None) -> None:
    """Every row has as many fields as the header, or a TableError names the line.

    pandas silently takes the first column as an index when *every* data row has one field
    too many, which shifts every value one column to the left; this check refuses it.
    """
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header: list[str] | None = None
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or (comment and row[0].lstrip().startswith(comment)):
                continue
            if header is None:
                header = row
            elif len(row) != len(header):
                raise TableError(f"{path}: line {lineno} has {len(row)} fields, the header "
                                 f"has {len(header)} ({', '.join(header)}); expected one value "
                                 "per column")
    raise TableError(f"{path}: the rows have more fields than the header; expected one value "
                     "per column")


def _from_long_csv(path: Path, *, sectors, imports_negative: bool, **kwargs: Any) -> xr.Dataset:
    df = _read_csv(path, dtype={"row_code": str, "col_code": str}, comment="#")
    value_col = next((c for c in ("value", "value_million_jpy") if c in df.columns), None)
    if value_col == "value_million_jpy":  # the column name states the unit
        kwargs.setdefault("unit", "million JPY")
    need = {"row_code", "row_type", "col_code", "col_type"}
    if value_col is None or not need <= set(df.columns):
        raise TableError(
            f"{path}: long layout needs columns row_code, row_type, col_code, col_type, value; "
            f"got {list(df.columns)}"
        )
    vals = pd.to_numeric(df[value_col], errors="coerce")
    bad = vals.isna() | ~np.isfinite(vals.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        r = df.iloc[i]
        raise NonFiniteError(
            f"{path}: line {i + 2}: value {df[value_col].iloc[i]!r} for "
            f"({r['row_code']}, {r['col_code']}) is not a finite number"
        )
    df = df.assign(value=vals.astype(float))
    for col, allowed in (("row_type", LONG_ROW_TYPES), ("col_type", LONG_COL_TYPES)):
        badt = ~df[col].isin(allowed)
        if badt.any():
            i = int(np.flatnonzero(badt.to_numpy())[0])
            raise TableError(
                f"{path}: line {i + 2}: {col} {df[col].iloc[i]!r} not allowed; "
                f"expected one of {allowed}"
            )
    dup = df.duplicated(["row_code", "row_type", "col_code", "col_type"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        r = df.iloc[i]
        raise LabelError(
            f"{path}: line {i + 2}: duplicate cell ({r['row_code']}, {r['col_code']})"
        )
    sec_rows = df[df.row_type == "sector"]
    if sectors is None:
        sectors = list(dict.fromkeys(list(sec_rows.row_code) + list(
            df[df.col_type == "sector"].col_code)))
    sectors = [str(s) for s in sectors]
    idx = {s: i for i, s in enumerate(sectors)}
    for col, typ in (("row_code", "sector"), ("col_code", "sector")):
        sub = df[df[col.replace("code", "type")] == typ]
        unknown = sorted(set(sub[col]) - set(idx))
        if unknown:
            raise LabelError(f"{path}: unknown sector {unknown[0]!r} in {col}")
    n = len(sectors)

    def block(rt: str, ct: str, rows: list[str] | None, cols: list[str] | None):
        sub = df[(df.row_type == rt) & (df.col_type == ct)]
        rl = rows if rows is not None else list(dict.fromkeys(sub.row_code))
        cl = cols if cols is not None else list(dict.fromkeys(sub.col_code))
        ri = {s: i for i, s in enumerate(rl)}
        ci = {s: i for i, s in enumerate(cl)}
        out = np.zeros((len(rl), len(cl)))
        out[sub.row_code.map(ri).to_numpy(int), sub.col_code.map(ci).to_numpy(int)] = sub.value
        return out, cl, rl

    Z, _, _ = block("sector", "sector", sectors, sectors)
    Y, fd, _ = block("sector", "final_demand", sectors, kwargs.pop("final_demand", None))
    E, ex, _ = block("sector", "export", sectors, kwargs.pop("export_items", None))
    M, im, _ = block("sector", "import", sectors, kwargs.pop("import_items", None))
    Vt, _, va = block("value_added", "sector", kwargs.pop("va_items", None), sectors)
    if imports_negative:
        M = -M
    kwargs.setdefault("source", str(path))
    return from_arrays(
        Z, Y, Vt, sectors=sectors, E=E, M=M, final_demand=fd, export_items=ex,
        import_items=im, va_items=va, **kwargs,
    )


def _from_wide_csv(path: Path, *, sectors, imports_negative: bool, **kwargs: Any) -> xr.Dataset:
    def find(suffix: str) -> Path:
        if path.is_dir():
            hits = sorted(path.glob(f"*{suffix}.csv"))
            if len(hits) != 1:
                raise TableError(f"{path}: expected exactly one *{suffix}.csv, found {len(hits)}")
            return hits[0]
        return Path(f"{path}{suffix}.csv")

    export_items = list(kwargs.pop("export_items", ["expo", "expd"]))
    import_items = list(kwargs.pop("import_items", ["impo", "impd", "imta", "imtx"]))
    fz, fy, fv = find("intermediate"), find("final_demand"), find("value_added")
    Zdf = _read_csv(fz, dtype={"row_code": str}).set_index("row_code")
    Zdf.columns = [str(c) for c in Zdf.columns]
    Ydf = _read_csv(fy, dtype={"row_code": str}).set_index("row_code")
    Vdf = _read_csv(fv, dtype={"va_code": str}).set_index("va_code")
    Vdf.columns = [str(c) for c in Vdf.columns]
    for f, d in ((fz, Zdf), (fy, Ydf), (fv, Vdf)):
        vals = d.apply(pd.to_numeric, errors="coerce")
        if vals.isna().any().any():
            r, c = np.argwhere(vals.isna().to_numpy())[0]
            raise NonFiniteError(f"{f}: cell ({d.index[r]}, {d.columns[c]}) is not a number")
        if d.index.duplicated().any():
            raise LabelError(f"{f}: duplicate row label {d.index[d.index.duplicated()][0]!r}")
    if sectors is not None:
        order = [str(s) for s in sectors]
        for f, lab in ((fz, Zdf.index), (fz, Zdf.columns), (fy, Ydf.index), (fv, Vdf.columns)):
            missing = [s for s in order if s not in lab]
            if missing:
                raise LabelError(f"{f}: sector {missing[0]!r} missing")
        Zdf, Ydf, Vdf = Zdf.loc[order, order], Ydf.loc[order], Vdf[order]
    ex = [c for c in Ydf.columns if c in export_items]
    im = [c for c in Ydf.columns if c in import_items]
    fd = [c for c in Ydf.columns if c not in ex and c not in im]
    M = Ydf[im].astype(float)
    if imports_negative:
        M = -M
    kwargs.setdefault("source", str(path))
    return from_pandas(Zdf.astype(float), Ydf[fd].astype(float), Vdf.astype(float),
                       E=Ydf[ex].astype(float), M=M, **kwargs)


def to_csv(table: xr.Dataset, path: str | Path, *, imports_negative: bool = True) -> Path:
    """Write a single-region table in the long CSV layout read by :func:`from_csv`.

    Only non-zero cells are written.  The file is written atomically (to a temporary file
    that is then renamed), so a crash never leaves half a file.
    """
    if is_multiregional(table):
        raise TableError("to_csv: the long CSV layout is for single-region tables")
    rows = []

    def emit(arr: np.ndarray, rl, cl, rt: str, ct: str, sign: float = 1.0):
        r, c = np.nonzero(arr)
        for i, j in zip(r, c):
            rows.append((rl[i], rt, cl[j], ct, repr(float(sign * arr[i, j]))))

    s = list(table.sector.values)
    emit(table.Z.values, s, s, "sector", "sector")
    emit(table.Y.values, s, list(table.final_demand.values), "sector", "final_demand")
    emit(table.E.values, s, list(table.export_item.values), "sector", "export")
    emit(table.M.values, s, list(table.import_item.values), "sector", "import",
         -1.0 if imports_negative else 1.0)
    emit(table.V.values, list(table.va_item.values), s, "value_added", "sector")
    text = "row_code,row_type,col_code,col_type,value\n" + "".join(
        ",".join(map(str, r)) + "\n" for r in rows)
    return _atomic.atomic_write_text(Path(path), text)
