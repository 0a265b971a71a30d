"""Carving products out of a multi-regional table (region x sector), with the origin-region
shares as data (docs/mrio.md, "Carving products out of an MRIO").

The single-region carve-out (:func:`simcore.transform.carve_out`, driven by
``scenarios/data/rare_earths.toml`` through :mod:`simcore.carve_spec`) splits a product out
of a parent sector of one table.  On an MRIO the same product is made in several regions and
sold across borders, so the data say, for the new product:

* ``use``: each buyer region's purchases of it (firms and final demand, table units);
* ``users``: the value share of a region's purchases that each buyer sector or final-demand
  category takes (the same shares in every region; the unlisted buyers of the region that
  buy the parent from every origin the region buys the new product from share the rest in
  proportion to what they buy of the parent), with the single-region spec's
  ``criticality`` and ``embodied`` for the dependency shares;
* ``origins``: for each buyer region, the share of its purchases that comes from each
  origin region (its own region included) -- the origin shares, as data;
* ``column_shares``: the share of the parent's inputs (a supplier sector code, from every
  supplying region, or a value-added item) that the new sector buys, as in the
  single-region carve-out; unlisted inputs share the common share that balances the column.

Every origin region's new row is cut out of its parent row (so a region cannot sell more of
the new product to a buyer than it sold of the parent), every region's new column out of its
parent column; the table stays balanced, and its totals (output, intermediate use, value
added, final demand) are unchanged: aggregating the new product back into the parent gives
back the table.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import tables as _t
from . import transform as _tr
from ._checks import known_keys, shown
from ._toml import parse_toml
from .carve_spec import read_spec_bytes
from .errors import LabelError, ScenarioError, ShockError, TableError

__all__ = ["carve_out_mrio", "load_mrio_spec", "carve_mrio", "origin_table"]

_TOL = 1e-9


def carve_out_mrio(
    table: xr.Dataset,
    parent: str,
    new: str,
    *,
    use: Mapping[str, float],
    origins: Mapping[str, Mapping[str, float]],
    users: Mapping[str, float] | None = None,
    column_shares: Mapping[str, float] | None = None,
    name_en: str | None = None,
    name_ja: str | None = None,
) -> xr.Dataset:
    """Carve product ``new`` out of sector ``parent`` in every region of an MRIO.

    Parameters
    ----------
    table : xarray.Dataset
        A multi-regional table.
    parent, new : str
        Sector code to carve from, and the new sector's code (inserted after ``parent`` in
        every region).
    use : mapping
        Buyer region -> its purchases of ``new`` in table units (firms and final demand, all
        origins).  Unlisted regions buy none.
    origins : mapping
        Buyer region -> ``{origin region: share}`` of its purchases; ``"*"`` gives the
        shares of every unlisted buyer region.  Each buyer region with a ``use`` needs
        shares that sum to 1.
    users : mapping, optional
        Buyer sector code or final-demand category -> value share of a region's purchases
        (the same in every region).  Unlisted buyers share the rest in proportion to their
        purchases of ``parent`` from all origins (those that buy none of ``parent`` from an
        origin of the region's new product get none).  Every buyer of region ``s`` buys
        from each origin in ``origins[s]``'s shares.
    column_shares : mapping, optional
        Supplier sector code or value-added item -> share of the parent's purchase that the
        new sector buys (as :func:`simcore.transform.carve_out`); unlisted entries take the
        common share that balances the new column.

    Returns
    -------
    xarray.Dataset
        The carved table; ``new``'s output in region ``r`` is what the buyer regions buy
        from ``r``: ``sum_s origins[s][r] use[s]``.

    Raises
    ------
    LabelError
        Unknown parent, region, buyer or input; an existing ``new``.
    TableError
        Shares that do not sum to 1, a value share above 1, a buyer that would buy more of
        the new product from an origin than it bought of the parent, or a column that
        cannot balance.

    Examples
    --------
    >>> import simcore as sc
    >>> from simcore.mrio_carve import carve_out_mrio
    >>> t = sc.datasets.load("jcr-2015-39")
    >>> c = carve_out_mrio(
    ...     t, "27", "GA", use={"JPN": 1000.0, "CHN": 3000.0},
    ...     origins={"*": {"CHN": 0.9, "ROW": 0.1}})
    >>> float(c.x.sel(region="CHN", sector="GA").round(6))
    3600.0
    """
    what = f"carve_out_mrio({parent!r} -> {new!r})"
    if not _t.is_multiregional(table):
        raise TableError(f"{what}: expects a multi-regional table (with a 'region' dimension); "
                         "carve a single-region table with simcore.transform.carve_out")
    regions = _tr._labels(table, "region")
    sec = _tr._labels(table, "sector")
    fd = _tr._labels(table, "final_demand")
    va = _tr._labels(table, "va_item")
    parent, new = str(parent), str(new)
    if parent not in sec:
        raise LabelError(f"{what}: parent sector {parent!r} is not a sector of the table "
                         f"({', '.join(sec[:6])}, ...)")
    if new in sec:
        raise LabelError(f"{what}: new sector {new!r} already exists in the table")
    R, n, k = len(regions), len(sec), len(fd)
    p = R * n
    f = _t.flat(table)
    Z, Y, E, M, V, x = (f[key].copy() for key in ("Z", "Y", "E", "M", "V", "x"))
    ip = sec.index(parent)
    par = np.arange(R) * n + ip  # the parent's node in each region

    # purchases of the new product by buyer region, and the origin shares
    P = np.zeros(R)
    for reg, v in dict(use).items():
        r = _region(regions, reg, f"{what}: use")
        if isinstance(v, bool) or not (isinstance(v, numbers.Real) and math.isfinite(v)
                                       and v >= 0):
            raise TableError(f"{what}: use[{reg!r}] = {v!r}; expected a non-negative number "
                             f"({table.attrs.get('unit', 'table units')})")
        P[r] = float(v)
    O = origin_table(origins, regions, f"{what}: origins", needed=P > 0)  # (buyer, origin)

    # buyers of each region: its sector columns and its final-demand categories
    bkeys = sec + fd
    if len(set(bkeys)) != len(bkeys):
        raise LabelError(f"{what}: a label is both a sector and a final-demand category; "
                         "rename one")
    v_listed = np.zeros(n + k)
    listed = np.zeros(n + k, dtype=bool)
    for b, v in dict(users or {}).items():
        if str(b) not in bkeys:
            raise LabelError(f"{what}: users: {b!r} is not a buyer sector or final-demand "
                             f"category of the table ({', '.join(bkeys[:6])}, ...)")
        v = float(v)
        if not 0.0 <= v <= 1.0:
            raise TableError(f"{what}: users[{b!r}] value share = {v!r}; expected [0, 1]")
        v_listed[bkeys.index(str(b))] = v
        listed[bkeys.index(str(b))] = True
    if v_listed.sum() > 1 + _TOL:
        raise TableError(f"{what}: users: the value shares sum to {v_listed.sum():.6g}; "
                         "expected at most 1 (the rest goes to unlisted buyers)")
    # parent purchases of every buyer (s, b), over all origins: (R, n + k)
    # (negative cells, e.g. inventory changes in final demand, buy none of the new product)
    Zp = np.maximum(Z[par, :], 0.0).reshape(R, R, n)  # (origin, buyer region, buyer sector)
    Yp = np.maximum(Y[par, :], 0.0).reshape(R, R, k)
    Bp = np.concatenate([Zp.sum(0), Yp.sum(0)], axis=1)  # (buyer region, buyer)
    have = np.concatenate([Zp, Yp], axis=2)  # (origin, buyer region, buyer)
    N = np.zeros((R, n + k))  # the new product bought by (s, b), over all origins
    for s in range(R):
        if P[s] == 0:
            continue
        N[s, listed] = v_listed[listed] * P[s]
        rest = (1.0 - v_listed.sum()) * P[s]
        # unlisted buyers that buy the parent from every origin region s buys from
        ok = ~listed & np.all((O[s, :, None] == 0) | (have[:, s, :] > 0), axis=0)
        pool = Bp[s, ok].sum()
        if rest > _TOL * P[s]:
            if pool <= 0:
                raise TableError(f"{what}: region {regions[s]!r}: the listed users take "
                                 f"{v_listed.sum():.6g} of its purchases and no unlisted buyer "
                                 f"buys {parent!r} to take the rest")
            N[s, ok] = Bp[s, ok] * (rest / pool)
    # flows from each origin: O[s, r] of what (s, b) buys
    F = O.T[:, :, None] * N[None, :, :]  # (origin, buyer region, buyer)
    over = F > have * (1 + _TOL) + 1e-12 * max(P.max(), 1.0)
    if over.any():
        r, s, b = np.argwhere(over)[0]
        raise TableError(
            f"{what}: origin {regions[r]!r} would sell {F[r, s, b]:,.6g} of {new!r} to "
            f"{regions[s]}/{bkeys[b]} but sells it only {have[r, s, b]:,.6g} of {parent!r}; "
            "lower that buyer region's use or value share, or its share from that origin")
    F = np.minimum(F, have)
    rho = np.divide(F, have, out=np.zeros_like(F), where=have > 0)  # row shares
    Xn = F.sum((1, 2))  # output of the new product by region
    if (Xn > x[par] * (1 + _TOL)).any():
        r = int(np.argmax(Xn - x[par]))
        raise TableError(f"{what}: region {regions[r]!r} would make {Xn[r]:,.6g} of {new!r}, "
                         f"more than its {parent!r} output {x[par][r]:,.6g}")
    # rows: every origin's parent row split into parent and new
    rZ = rho[:, :, :n].reshape(R, p)
    rY = rho[:, :, n:].reshape(R, R * k)
    Znew_row = rZ * Z[par, :]
    Ynew_row = rY * Y[par, :]
    Z[par, :] -= Znew_row
    Y[par, :] -= Ynew_row
    # rows now: p old rows (parents reduced) + R new rows; columns: split each parent column
    Zr = np.vstack([Z, Znew_row])  # (p + R, p)
    ckeys = sec + [new] + va  # supplier sector (every region) or VA item
    cZ = np.zeros((R, p + R))
    cV = np.zeros((R, len(va)))
    common: dict[str, float | None] = {}
    cs = {str(kk): vv for kk, vv in dict(column_shares or {}).items()}
    if parent in cs and new not in cs:
        cs[new] = cs[parent]  # the parent's own row, both pieces (as carve_out's 2x2 block)
    for r in range(R):
        if Xn[r] <= 0:
            continue
        col = Zr[:, par[r]]
        # amounts by key: supplier sector summed over regions (rows of the parent pieces
        # under their own key), and VA items
        sec_of_row = np.concatenate([np.tile(np.arange(n), R), np.full(R, n)])
        amt = np.concatenate([np.bincount(sec_of_row, weights=col, minlength=n + 1),
                              V[:, par[r]]])
        try:
            c, cm = _tr._split_shares(ckeys, amt, cs, float(Xn[r]), None,
                                      f"{what}: column_shares (region {regions[r]!r})")
        except ShockError as exc:
            raise TableError(str(exc)) from None
        common[regions[r]] = cm
        cZ[r] = c[sec_of_row]
        cV[r] = c[n + 1:]
    # assemble the (p + R) x (p + R) table, new node of region r after its parent
    Z2 = np.zeros((p + R, p + R))
    Z2[:, :p] = Zr
    for r in range(R):
        Z2[:, p + r] = cZ[r] * Zr[:, par[r]]
        Z2[:, par[r]] = (1 - cZ[r]) * Zr[:, par[r]]
    Y2 = np.vstack([Y, Ynew_row])
    E2 = np.vstack([E, np.zeros((R, E.shape[1]))])
    M2 = np.vstack([M, np.zeros((R, M.shape[1]))])
    V2 = np.hstack([V, (cV.T * V[:, par])])
    V2[:, par] = (1 - cV.T) * V[:, par]
    x2 = np.append(x, Xn)
    x2[par] = x[par] - Xn
    sec2 = sec[: ip + 1] + [new] + sec[ip + 1:]
    order = []
    for r in range(R):
        base = list(range(r * n, (r + 1) * n))
        order += base[: ip + 1] + [p + r] + base[ip + 1:]
    pn = _tr._sector_names(table)[parent]
    names = {new: (name_en if name_en is not None else f"{new} (carved out of {pn[0]})",
                   name_ja if name_ja is not None else f"{new}（{pn[1]}から分離）")}
    out = _tr._build(
        table, Z=Z2[np.ix_(order, order)], Y=Y2[order], E=E2[order], M=M2[order],
        V=V2[:, order], x=x2[order], sectors=sec2, regions=regions, final_demand=fd,
        export_items=_tr._labels(table, "export_item"),
        import_items=_tr._labels(table, "import_item"), va_items=va, sector_names=names,
    )
    params = {"parent": parent, "new": new, "use": dict(use), "origins": {
        str(kk): dict(vv) for kk, vv in origins.items()}, "users": dict(users or {}),
        "column_shares": dict(column_shares or {})}
    changed = {"new_sector": new, "parent": parent,
               "output_by_region": {regions[r]: float(Xn[r]) for r in range(R)},
               "column_share_unlisted": common}
    return _tr._record(out, "carve_out_mrio", params, changed)


def _region(regions: list[str], code: Any, what: str) -> int:
    if str(code) not in regions:
        raise LabelError(f"{what}: unknown region {code!r}; expected one of the table's "
                         f"regions {', '.join(regions)}")
    return regions.index(str(code))


def origin_table(origins: Mapping[str, Mapping[str, float]], regions: list[str], what: str,
                 needed: np.ndarray | None = None) -> np.ndarray:
    """The origin shares as a matrix ``O[buyer region, origin region]`` (rows sum to 1 where
    ``needed``); ``"*"`` gives the shares of every unlisted buyer region."""
    R = len(regions)
    if not isinstance(origins, Mapping):
        raise TableError(f"{what}: expected {{buyer region: {{origin region: share}}}}, got "
                         f"{shown(origins)}")
    O = np.zeros((R, R))
    given = np.zeros(R, dtype=bool)
    items = sorted(origins.items(), key=lambda kv: str(kv[0]) != "*")  # "*" first
    for buyer, shares in items:
        rows = ([s for s in range(R)] if str(buyer) == "*"
                else [_region(regions, buyer, what)])
        if not isinstance(shares, Mapping):
            raise TableError(f"{what}[{buyer!r}] = {shown(shares)}; expected "
                             "{origin region: share}")
        row = np.zeros(R)
        for o, v in shares.items():
            if str(o) in ("source", "range", "note"):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                    math.isfinite(v) and 0 <= v <= 1):
                raise TableError(f"{what}[{buyer!r}][{o!r}] = {shown(v)}; expected a share in "
                                 "[0, 1]")
            row[_region(regions, o, f"{what}[{buyer!r}]")] = float(v)
        for s in rows:
            O[s] = row
            given[s] = True
    if needed is not None:
        for s in np.nonzero(needed)[0]:
            tot = O[s].sum()
            if not given[s] or abs(tot - 1.0) > 1e-6:
                raise TableError(
                    f"{what}: the origin shares of buyer region {regions[s]!r} sum to "
                    f"{tot:.6g}; expected 1 (every origin, its own region included; "
                    "give them under its code or '*')")
            O[s] /= tot
    return O


# --------------------------------------------------------------------------------------
# Spec files
# --------------------------------------------------------------------------------------
_PRODUCT_KEYS = ("name_en", "name_ja", "order", "parents")
_PIECE_KEYS = ("use", "column_shares", "users", "note")
_USER_KEYS = ("value_share", "criticality", "embodied", "note")


def load_mrio_spec(path: str | Path, raw: bytes | None = None) -> dict[str, Any]:
    """Read and check an MRIO carve-out data file.

    The format follows the single-region carve-out's (``scenarios/data/rare_earths.toml``,
    :func:`simcore.carve_spec.load_spec`): ``[products.CODE]`` with ``name_en``,
    ``name_ja``, ``order`` and one parent ``[products.CODE.parents.PARENT]`` in the MRIO's
    classification, whose ``use`` is a table ``{buyer region: purchases}`` (in place of the
    single-region ``output`` and ``imports``), with ``column_shares`` and ``users``
    (``value_share``, ``criticality``, ``embodied``, ``note``) as there; and
    ``[origins.CODE]`` with ``{buyer region: {origin region: share}}`` (``"*"`` for every
    other buyer region; ``source`` as a note).  Errors name the file and the key.
    """
    path = Path(path)
    raw = read_spec_bytes(path) if raw is None else raw
    spec = parse_toml(raw, path, "MRIO carve-out data file")

    def table_at(v: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(v, Mapping):
            raise ScenarioError(f"{path}: {key} = {shown(v)}; expected a table")
        return v

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    prods = spec.get("products")
    if not isinstance(prods, Mapping) or not prods:
        raise ScenarioError(f"{path}: key 'products' must be a table of products")
    for code, prod in prods.items():
        prod = table_at(prod, f"products.{code}")
        known_keys(f"{path}: products.{code}", prod, _PRODUCT_KEYS)
        parents = table_at(prod.get("parents"), f"products.{code}.parents")
        if len(parents) != 1:
            raise ScenarioError(
                f"{path}: products.{code}.parents: expected exactly one parent sector of the "
                f"MRIO, got {len(parents)} ({', '.join(map(str, parents)) or 'none'}); map the "
                "single-region parents to the MRIO sector that holds them")
        for parent, piece in parents.items():
            where = f"products.{code}.parents.{parent}"
            piece = table_at(piece, where)
            known_keys(f"{path}: {where}", piece, _PIECE_KEYS)
            for reg, v in table_at(piece.get("use"), f"{where}.use").items():
                if not number(v) or v < 0:
                    raise ScenarioError(f"{path}: {where}.use.{reg} = {shown(v)}; expected a "
                                        "non-negative number (table units)")
            table_at(piece.get("column_shares", {}), f"{where}.column_shares")
            total = 0.0
            for user, u in table_at(piece.get("users", {}), f"{where}.users").items():
                u = table_at(u, f"{where}.users.{user}")
                known_keys(f"{path}: {where}.users.{user}", u, _USER_KEYS)
                for key in ("value_share", "criticality", "embodied"):
                    v = u.get(key)
                    if not number(v) or not 0 <= v <= 1:
                        raise ScenarioError(f"{path}: {where}.users.{user}.{key} = {shown(v)}; "
                                            "expected a number in [0, 1]")
                total += u["value_share"]
            if total > 1 + _TOL:
                raise ScenarioError(f"{path}: {where}.users: the value shares sum to "
                                    f"{total:.6g}; expected at most 1")
    origins = table_at(spec.get("origins", {}), "origins")
    for code in prods:
        if code not in origins:
            raise ScenarioError(f"{path}: origins.{code}: missing; give the origin shares of "
                                "every buyer region ({buyer region: {origin: share}}, '*' for "
                                "the rest)")
    for code, o in origins.items():
        if code not in prods:
            raise ScenarioError(f"{path}: origins.{code}: not a product of the file")
        for buyer, shares in table_at(o, f"origins.{code}").items():
            if buyer == "source":
                continue
            table_at(shares, f"origins.{code}.{buyer}")
    spec["_path"] = str(path)
    return spec


def carve_mrio(table: xr.Dataset, spec: Mapping[str, Any]) -> xr.Dataset:
    """Carve every product of an MRIO carve-out spec (:func:`load_mrio_spec`) out of
    ``table``, in the products' ``order``.  Errors name the file and the product."""
    src = spec.get("_path", "MRIO carve-out")
    out = table
    for code, prod in sorted(spec["products"].items(), key=lambda kv: kv[1].get("order", 0)):
        (parent, piece), = prod["parents"].items()
        origins = {b: {o: v for o, v in s.items() if o not in ("source", "range", "note")}
                   for b, s in spec["origins"][code].items() if b != "source"}
        try:
            out = carve_out_mrio(
                out, str(parent), str(code), use=dict(piece["use"]), origins=origins,
                users={str(u): float(d["value_share"]) for u, d in
                       piece.get("users", {}).items()},
                column_shares=dict(piece.get("column_shares", {})) or None,
                name_en=prod.get("name_en"), name_ja=prod.get("name_ja"))
        except (LabelError, TableError, ShockError) as exc:
            raise ScenarioError(f"{src}: products.{code}: {exc}") from exc
    return out
