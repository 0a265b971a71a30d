"""Carve-out specs: a data file that splits products out of a table, applied to a table.

A carve-out spec (``[products.CODE]`` pieces carved from parent products, their users, origin
shares and dependency shares) is data, not code: the shipped one,
``scenarios/data/rare_earths.toml``, makes rare earths (RE) and magnets (MAG) products of
Japan's table; any other product is carved the same way from a file of the same format.

The values, users, origin shares and dependency shares are not in this code: they sit in a
data file (``scenarios/data/rare_earths.toml``), each with its source or labelled as an
assumption with a range.  This module turns that file into

* a carved table (:func:`carve`), using :func:`simcore.transform.carve_out` for a product
  carved from one parent and :func:`simcore.transform.carve_out_merged` for one carved from
  several (in the shipped file: MAG from one, RE from pieces of 2711 and 2029);
* dependency shares ``theta`` by user (:func:`dependency_shares`): criticality x embodied
  share, optionally scaled by one factor (the parameter the Nomura calibration fits);
* China's import shares (:func:`origin_shares`).

The file gives, for each piece carved from a parent, its domestic ``output`` and
``imports`` (million yen, 2015 basis) and the users' ``value_share`` of the piece's supply
(``output + imports``).  A user's row share (the share of its purchases from the parent that
is the new product) is ``value_share x supply / Z[parent, user]``; unlisted buyers share
the residual.
"""

from __future__ import annotations

import math

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from . import tables as _t
from . import transform as _tr
from ._checks import known_keys, shown
from ._toml import parse_toml
from .errors import ScenarioError

__all__ = ["load_spec", "carve", "dependency_shares", "origin_shares", "user_table"]


_PRODUCT_KEYS = ("name_en", "name_ja", "order", "parents")
_PIECE_KEYS = ("output", "output_range", "imports", "imports_range", "column_shares", "users")


def read_spec_bytes(path: str | Path) -> bytes:
    """The raw bytes of a carve-out data file (a :class:`ScenarioError` if unreadable)."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: carve-out data file not found") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the carve-out data file ({exc})") from exc


def load_spec(path: str | Path, raw: bytes | None = None) -> dict[str, Any]:
    """Read and check a carve-out data file.

    ``raw`` is the file's content when the caller has read it already (so that what is
    parsed is exactly what was hashed, see :mod:`simcore.sweeps`)."""
    path = Path(path)
    if raw is None:
        raw = read_spec_bytes(path)
    spec = parse_toml(raw, path, "carve-out data file")
    prods = spec.get("products")
    if not isinstance(prods, Mapping) or not prods:
        raise ScenarioError(f"{path}: key 'products' must be a table of products")

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    def table_at(v: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(v, Mapping):
            raise ScenarioError(f"{path}: {key} = {shown(v)}; expected a table")
        return v

    for code, p in prods.items():
        p = table_at(p, f"products.{code}")
        if "parents" not in p:
            raise ScenarioError(f"{path}: products.{code}: missing key 'parents'")
        known_keys(f"{path}: products.{code}", p, _PRODUCT_KEYS)
        if "order" in p and not number(p["order"]):
            raise ScenarioError(f"{path}: products.{code}.order = {shown(p['order'])}; expected a "
                                "number")
        parents = table_at(p["parents"], f"products.{code}.parents")
        if not parents:
            raise ScenarioError(f"{path}: products.{code}.parents is empty; name at least one "
                                "parent sector")
        for parent, piece in parents.items():
            where = f"products.{code}.parents.{parent}"
            piece = table_at(piece, where)
            known_keys(f"{path}: {where}", piece, _PIECE_KEYS)
            for key in ("output", "imports"):
                v = piece.get(key)
                if not number(v) or v < 0:
                    raise ScenarioError(
                        f"{path}: {where}.{key} = {shown(v)}; expected a non-negative number "
                        "(million yen)")
            for key in ("output_range", "imports_range"):
                r = piece.get(key)
                if r is not None and not (isinstance(r, list) and len(r) == 2
                                          and all(number(x) and x >= 0 for x in r)
                                          and r[0] <= r[1]):
                    raise ScenarioError(f"{path}: {where}.{key} = {shown(r)}; expected [low, high] "
                                        "with 0 <= low <= high")
            for col, v in table_at(piece.get("column_shares", {}),
                                   f"{where}.column_shares").items():
                if not number(v) or not 0 <= v <= 1:
                    raise ScenarioError(f"{path}: {where}.column_shares.{col} = {shown(v)}; "
                                        "expected a number in [0, 1]")
            total = 0.0
            for user, u in table_at(piece.get("users", {}), f"{where}.users").items():
                u = table_at(u, f"{where}.users.{user}")
                for key, lo, hi in (("value_share", 0, 1), ("criticality", 0, 1),
                                    ("embodied", 0, 1)):
                    v = u.get(key)
                    if not number(v) or not lo <= v <= hi:
                        raise ScenarioError(
                            f"{path}: {where}.users.{user}.{key} = {shown(v)}; expected a number "
                            f"in [{lo}, {hi}]")
                total += u["value_share"]
            if total > 1 + 1e-9:
                raise ScenarioError(f"{path}: {where}.users: the value shares sum to "
                                    f"{total:.6g}; expected at most 1 (the rest goes to "
                                    "unlisted buyers)")
    origins = spec.get("origins", {})
    for code, o in table_at(origins, "origins").items():
        o = table_at(o, f"origins.{code}")
        for k, v in o.items():
            if k == "source":
                continue
            if k == "range":
                if not (isinstance(v, list) and len(v) == 2 and all(number(x) for x in v)
                        and 0 <= v[0] <= v[1] <= 1):
                    raise ScenarioError(f"{path}: origins.{code}.range = {shown(v)}; expected "
                                        "[low, high] with 0 <= low <= high <= 1")
            elif not number(v) or not 0 <= v <= 1:
                raise ScenarioError(f"{path}: origins.{code}.{k} = {shown(v)}; expected a share "
                                    "in [0, 1]")
    spec["_path"] = str(path)
    return spec


def _ordered(spec: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return sorted(spec["products"].items(), key=lambda kv: kv[1].get("order", 0))


def _row_shares(st: Any, parent: str, piece: Mapping[str, Any], what: str,
                rename: Mapping[str, str] | None = None) -> dict[str, float]:
    """The share of each listed user's purchases from ``parent`` that is the new product
    (``st``: the table as flat arrays, :class:`simcore.transform._Flat`)."""
    supply = float(piece["output"]) + float(piece["imports"])
    Z = st.f["Z"]  # rows: sellers (sector), columns: buyers (sector_to)
    index = {s: i for i, s in enumerate(st.sec)}
    out: dict[str, float] = {}
    for user, u in piece.get("users", {}).items():
        col = (rename or {}).get(str(user), str(user))
        if col not in index:
            raise ScenarioError(f"{what}: user {user!r} is not a sector of the table")
        base = float(Z[index[parent], index[col]])
        need = float(u["value_share"]) * supply
        if need > base * (1 + 1e-12):
            raise ScenarioError(
                f"{what}: user {user!r} would buy {need:,.0f} of the new product but buys only "
                f"{base:,.0f} from {parent!r} in the table; lower its value_share")
        out[str(user)] = need / base if base > 0 else 0.0
    return out


def carve(table: xr.Dataset, spec: Mapping[str, Any],
          overrides: Mapping[str, Any] | None = None, *, check: bool = True) -> xr.Dataset:
    """Carve every product of ``spec`` out of ``table`` (in the order given by ``order``).

    ``overrides`` may replace a piece's ``output`` or ``imports``, with keys like
    ``"RE.2711.imports"`` (used by sweeps over the unknown 2015-basis values).
    ``check=False`` skips the check of the input, for a caller that has just built and
    validated it (``Scenario.table`` on the dataset it loaded); the result is validated
    either way.
    """
    overrides = dict(overrides or {})
    # the input is checked once here; the products are carved on flat arrays
    # (simcore.transform's carve_out and carve_out_merged, without a table per step) and one
    # table is built and validated at the end, with the history of every step
    if check:
        _t.check_table(table, "carve", balance=False, productive=False)
    _tr._single_region(table, "carve")
    st = _tr._Flat.of(table)
    atol = _tr._tolerance(table)
    steps: list[tuple[str, dict, dict]] = []
    for code, prod in _ordered(spec):
        parents = prod["parents"]
        specs: dict[str, dict[str, Any]] = {}
        index = {s: i for i, s in enumerate(st.sec)}
        for parent, piece in parents.items():
            piece = dict(piece)
            for key in ("output", "imports"):
                ok = f"{code}.{parent}.{key}"
                if ok in overrides:
                    piece[key] = float(overrides.pop(ok))
            what = f"{spec.get('_path', 'carve-out')}: products.{code}.parents.{parent}"
            if str(parent) not in index:
                raise ScenarioError(f"{what}: parent {str(parent)!r} is not a sector of the "
                                    "table")
            x_p = float(st.f["x"][index[str(parent)]])
            m_p = float(st.f["M"][index[str(parent)]].sum())
            if piece["output"] > x_p or piece["imports"] > m_p:
                raise ScenarioError(f"{what}: output {piece['output']} or imports "
                                    f"{piece['imports']} exceed the parent's ({x_p:.0f}, "
                                    f"{m_p:.0f})")
            specs[str(parent)] = {
                "output_share": piece["output"] / x_p,
                "import_share": piece["imports"] / m_p if m_p > 0 else 0.0,
                "row_shares": _row_shares(st, str(parent), piece, what),
                "column_shares": dict(piece.get("column_shares", {})) or None,
            }
        if steps:
            atol = max(atol, st.tolerance())
        if len(specs) == 1:
            (parent, s), = specs.items()
            st, params, changed = _tr._carve_out_flat(
                st, parent, code, name_en=prod.get("name_en"), name_ja=prod.get("name_ja"),
                **s)
            steps.append(("carve_out", params, changed))
        else:
            st, params, changed = _tr._carve_out_merged_flat(
                st, specs, code, name_en=prod.get("name_en"), name_ja=prod.get("name_ja"))
            steps.append(("carve_out_merged", params, changed))
    if overrides:
        raise ScenarioError(f"carve-out overrides: unknown key {next(iter(overrides))!r}; "
                            "expected PRODUCT.PARENT.output or PRODUCT.PARENT.imports")
    if not steps:
        return table
    return _tr._record_steps(st.build(table, atol=atol), steps)


def user_table(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (product, user): value share, criticality, embodied share, theta, note."""
    rows = []
    for code, prod in _ordered(spec):
        for parent, piece in prod["parents"].items():
            for user, u in piece.get("users", {}).items():
                rows.append({"product": code, "parent": str(parent), "user": str(user),
                             "value_share": u["value_share"], "criticality": u["criticality"],
                             "embodied": u["embodied"],
                             "theta": u["criticality"] * u["embodied"],
                             "note": u.get("note", "")})
    return rows


def dependency_shares(spec: Mapping[str, Any], scale: float = 1.0) -> dict[str, dict[str, float]]:
    """Dependency shares ``theta = min(1, scale x criticality x embodied)`` by product and user.

    Unlisted buyers get 0 (``"*"``): for them the product never binds.
    """
    out: dict[str, dict[str, float]] = {}
    for row in user_table(spec):
        d = out.setdefault(row["product"], {"*": 0.0})
        d[row["user"]] = min(1.0, max(d.get(row["user"], 0.0), scale * row["theta"]))
    return out


def origin_shares(spec: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """China's share of each carved product's imports, from the ``[origins]`` table."""
    out = {}
    for code, o in spec.get("origins", {}).items():
        out[code] = {k: float(v) for k, v in o.items() if k not in ("range", "source")}
    return out


def gdp_like(table: xr.Dataset) -> float:
    """GDP-like value added of a table (re-exported for scenario reports)."""
    return _t.gdp(table)
