"""Input criticality classes and input buffers for every (input product, buyer sector) pair.

Pichler et al. (2022) gave each pair of industries one of three classes from industry
analysts' ratings: *critical* (the buyer stops without the input: dependency share
``theta = 1``), *important* (output halves: ``theta = 0.5``) or *non-critical* (never binds:
``theta = 0``).  simcore builds the same classes for a table from documented **rules**
keyed on product families and buyer groups, kept in a data file
(``scenarios/data/criticality.toml``), and input stocks by family the same way
(``scenarios/data/buffers.toml``).  This module reads those files, checks them, and turns
them into :class:`~simcore.dynamic.params.CellMatrix` objects that the supply-chain engine
takes as ``DynamicParams(dependency_cells=..., inventory_cells=...)``.

A rule file has ``[families]`` and ``[buyers]`` (named lists of code prefixes) and an
ordered array ``[[rules]]``; each rule names ``inputs`` and ``buyers`` (a family or group
name, a code prefix, or a list of them), or ``diagonal = true`` for a sector's own output,
optionally ``min_cost_share`` (the pair's input coefficient ``Z_ij / x_j`` must reach it),
and either ``class`` (criticality) or ``days`` and ``range`` (buffers), with ``source`` and
``note``.  Later rules override earlier ones for the pairs they match.

Carved products (rare earths, magnets) match as *buyers* through a parent sector
(``aliases``); as *inputs* they keep the carve-out file's own dependency shares, which a
scenario lays over these classes.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import tables as _t
from . import transform as _tr
from ._checks import known_keys
from ._toml import read_toml
from .dynamic.supply_chain import _cell_arrays, _cols, _dense_base, prepare_model
from .dynamic.params import CellMatrix, DynamicParams
from .errors import LabelError, ScenarioError, TableError

__all__ = ["CLASSES", "load_rules", "class_matrix", "dependency_cells", "inventory_cells",
           "aggregate_cells", "aggregate_params", "map_params",
           "read_weighted_concordance", "rule_table"]

#: The three classes of Pichler et al. (2022), in the order of their dependency shares.
CLASSES = ("critical", "important", "non_critical")
_RULE_KEYS = {"id", "inputs", "buyers", "diagonal", "class", "days", "range", "min_cost_share",
              "source", "note"}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_rules(path: str | Path, kind: str) -> dict[str, Any]:
    """Read and check a criticality (``kind="criticality"``) or buffers (``"buffers"``)
    rule file; errors name the file, the key and what was expected."""
    if kind not in ("criticality", "buffers"):
        raise ValueError(f"kind must be 'criticality' or 'buffers', got {kind!r}")
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: {kind} data file not found")
    spec = read_toml(path, f"{kind} data file")
    for sect in ("families", "buyers"):
        tab = spec.get(sect, {})
        if not isinstance(tab, Mapping):
            raise ScenarioError(f"{path}: [{sect}] must be a table of named prefix lists")
        for name, prefixes in tab.items():
            if not (isinstance(prefixes, list) and prefixes
                    and all(isinstance(p, str) and p for p in prefixes)):
                raise ScenarioError(f"{path}: {sect}.{name} = {prefixes!r}; expected a "
                                    "non-empty list of code prefixes (strings)")
    spec["_families"] = {k: list(v) for k, v in spec.get("families", {}).items()}
    spec["_buyers"] = {k: list(v) for k, v in spec.get("buyers", {}).items()}
    classes = spec.get("classes", {"critical": 1.0, "important": 0.5, "non_critical": 0.0})
    if kind == "criticality":
        if not isinstance(classes, Mapping) or set(classes) != set(CLASSES):
            raise ScenarioError(f"{path}: [classes] must give exactly {', '.join(CLASSES)}")
        for c, v in classes.items():
            if not _number(v) or not 0 <= v <= 1:
                raise ScenarioError(f"{path}: classes.{c} = {v!r}; expected a dependency "
                                    "share in [0, 1]")
        spec["classes"] = {k: float(v) for k, v in classes.items()}
    rules = spec.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ScenarioError(f"{path}: expected an array of [[rules]]")
    for r_i, rule in enumerate(rules):
        where = f"{path}: rules[{r_i}]" + (f" ({rule.get('id')})" if isinstance(rule, Mapping)
                                           and "id" in rule else "")
        if not isinstance(rule, Mapping):
            raise ScenarioError(f"{where}: expected a table")
        known_keys(where, rule, _RULE_KEYS, sort=True)
        if "source" not in rule or not isinstance(rule["source"], str):
            raise ScenarioError(f"{where}: missing 'source' (a citation id, or OWN for an "
                                "assumption)")
        if not rule.get("diagonal") and "inputs" not in rule:
            raise ScenarioError(f"{where}: give 'inputs' (or diagonal = true)")
        if "buyers" not in rule:
            raise ScenarioError(f"{where}: give 'buyers'")
        for key, known in (("inputs", spec["_families"]), ("buyers", spec["_buyers"])):
            if key in rule:
                _prefixes(rule[key], known, f"{where}.{key}")
        if "min_cost_share" in rule and not (_number(rule["min_cost_share"])
                                             and 0 <= rule["min_cost_share"] < 1):
            raise ScenarioError(f"{where}.min_cost_share = {rule['min_cost_share']!r}; "
                                "expected a number in [0, 1)")
        if kind == "criticality":
            if rule.get("class") not in CLASSES:
                raise ScenarioError(f"{where}.class = {rule.get('class')!r}; expected one of "
                                    f"{', '.join(CLASSES)}")
        else:
            d, rg = rule.get("days"), rule.get("range")
            if not _number(d) or d < 1:
                raise ScenarioError(f"{where}.days = {d!r}; expected a number of days >= 1")
            if not (isinstance(rg, list) and len(rg) == 2 and all(_number(x) for x in rg)
                    and 1 <= rg[0] <= d <= rg[1]):
                raise ScenarioError(f"{where}.range = {rg!r}; expected [low, high] with "
                                    f"1 <= low <= days ({d!r}) <= high")
    spec["_path"] = str(path)
    spec["_kind"] = kind
    return spec


def _prefixes(v: Any, known: Mapping[str, list[str]], where: str) -> list[str]:
    """Code prefixes named by a rule: group names expand, other strings are prefixes."""
    items = v if isinstance(v, list) else [v]
    out: list[str] = []
    for it in items:
        if not isinstance(it, str) or not it:
            raise ScenarioError(f"{where} = {v!r}; expected a group name, a code prefix or a "
                                "list of them")
        if it in known:
            out.extend(known[it])
        elif it[0].isdigit() or it.isupper():
            out.append(it)
        else:
            raise ScenarioError(f"{where}: unknown group {it!r}; known: "
                                f"{', '.join(sorted(known))} (or give code prefixes)")
    return out


def _match(codes: Sequence[str], prefixes: Sequence[str]) -> np.ndarray:
    pre = tuple(prefixes)  # str.startswith takes a tuple: one call per code
    return np.array([bool(pre) and c.startswith(pre) for c in codes], dtype=bool)


def _pairs(spec: Mapping[str, Any], codes: Sequence[str], A: np.ndarray,
           aliases: Mapping[str, str]) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """For each rule, the boolean (input, buyer) mask of the pairs it sets."""
    as_buyer = [aliases.get(c, c) for c in codes]
    as_input = as_buyer  # a carved product matches as its parent (its row is then replaced)
    out = []
    n = len(codes)
    for rule in spec["rules"]:
        buy = _match(as_buyer, _prefixes(rule["buyers"], spec["_buyers"], "buyers"))
        if rule.get("diagonal"):
            mask = np.diag(buy)
            if "inputs" in rule:
                inp = _match(as_input, _prefixes(rule["inputs"], spec["_families"], "inputs"))
                mask &= inp[:, None]
        else:
            inp = _match(as_input, _prefixes(rule["inputs"], spec["_families"], "inputs"))
            mask = inp[:, None] & buy[None, :]
        if "min_cost_share" in rule:
            mask = mask & (A >= float(rule["min_cost_share"]))
        assert mask.shape == (n, n)
        out.append((mask, rule))
    return out


_COEF: dict[int, tuple[xr.Dataset, list[str], np.ndarray, str]] = {}


def _coefficients_cached(table: xr.Dataset) -> tuple[list[str], np.ndarray, str]:
    """Codes, input coefficients and their digest, memoised per table object (the table is
    kept referenced so its id stays valid)."""
    hit = _COEF.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1], hit[2], hit[3]
    codes, A = _coefficients(table)
    A = np.ascontiguousarray(A, dtype=float)
    dig = _digest(A)
    _COEF[id(table)] = (table, codes, A, dig)
    while len(_COEF) > 8:
        _COEF.pop(next(iter(_COEF)))
    return codes, A, dig


def _coefficients(table: xr.Dataset) -> tuple[list[str], np.ndarray]:
    f = _t.flat(table)
    x = f["x"]
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(x[None, :] > 0, f["Z"] / np.where(x > 0, x, 1.0)[None, :], 0.0)
    return [str(s) for s in table.sector.values], A


def class_matrix(table: xr.Dataset, spec: Mapping[str, Any],
                 aliases: Mapping[str, str] | None = None) -> xr.DataArray:
    """The class of every (input, buyer) pair of ``table`` under the rules of ``spec``
    (a criticality file read by :func:`load_rules`), with the id of the rule that set it
    as a second variable."""
    codes, A = _coefficients(table)
    n = len(codes)
    cls = np.full((n, n), "", dtype=object)
    rid = np.full((n, n), "", dtype=object)
    for mask, rule in _pairs(spec, codes, A, dict(aliases or {})):
        cls[mask] = rule["class"]
        rid[mask] = rule.get("id", "")
    return xr.DataArray(cls.astype(str), dims=("sector", "sector_to"),
                        coords={"sector": codes, "sector_to": codes},
                        attrs={"source": spec.get("_path", ""),
                               "rule": rid.astype(str).tolist()})


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def _file_key(path: str | Path) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _cached_rules(key: tuple[str, int, int], kind: str) -> dict[str, Any]:
    return load_rules(key[0], kind)


class _Bytes:
    """The coefficient matrix, hashed and compared by its digest (cheap cache keys)."""

    def __init__(self, digest: str, A: np.ndarray) -> None:
        self.digest, self.A = digest, A

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Bytes) and other.digest == self.digest


@lru_cache(maxsize=64)
def _cached_cells(key: tuple[str, int, int], kind: str, codes: tuple[str, ...], a_digest: str,
                  important: float | None, aliases: tuple[tuple[str, str], ...],
                  coef: _Bytes) -> CellMatrix:
    spec = _cached_rules(key, kind)
    A = coef.A
    n = len(codes)
    vals = np.full((n, n), np.nan)
    for mask, rule in _pairs(spec, list(codes), A, dict(aliases)):
        if kind == "criticality":
            v = spec["classes"][rule["class"]]
            if rule["class"] == "important" and important is not None:
                v = float(important)
        else:
            v = float(rule["days"])
        vals[mask] = v
    if np.isnan(vals).any():
        i, j = np.argwhere(np.isnan(vals))[0]
        raise ScenarioError(f"{key[0]}: no rule sets the pair (input {codes[i]!r}, buyer "
                            f"{codes[j]!r}); start the rules with a default that covers "
                            "every pair")
    return CellMatrix(products=codes, buyers=codes, values=vals,
                      digest=_digest(kind, codes, vals), source=key[0])


def _cells(table: xr.Dataset, path: str | Path, kind: str, important: float | None,
           aliases: Mapping[str, str] | None) -> CellMatrix:
    try:
        key = _file_key(path)
    except OSError as exc:
        raise ScenarioError(f"{path}: {kind} data file not readable ({exc})") from None
    codes, A, dig = _coefficients_cached(table)
    return _cached_cells(key, kind, tuple(codes), dig, important,
                         tuple(sorted((aliases or {}).items())), _Bytes(dig, A))


def dependency_cells(table: xr.Dataset, path: str | Path, *, important: float | None = None,
                     aliases: Mapping[str, str] | None = None) -> CellMatrix:
    """Dependency shares of every pair of ``table`` from a criticality file.

    ``important`` replaces the file's share for the "important" class (the sensitivity
    knob ``model.criticality_important``: 1 treats every important pair as critical, 0 as
    non-critical).
    """
    if important is not None and not (_number(important) and 0 <= important <= 1):
        raise ScenarioError(f"criticality_important = {important!r}; expected a dependency "
                            "share in [0, 1]")
    return _cells(table, path, "criticality", None if important is None else float(important),
                  aliases)


def inventory_cells(table: xr.Dataset, path: str | Path, *,
                    aliases: Mapping[str, str] | None = None) -> CellMatrix:
    """Inventory days of every pair of ``table`` from a buffers file."""
    return _cells(table, path, "buffers", None, aliases)


def aggregate_cells(cm: CellMatrix, fine: xr.Dataset, groups: Mapping[str, str],
                    order: Sequence[str] | None = None) -> CellMatrix:
    """Aggregate a cell matrix to a coarser classification, flow-weighted.

    ``groups`` maps each fine code to its coarse code (e.g. 185 -> 37 sectors:
    ``dict(simcore.transform.japan_185_to_37().sectors)``).  The coarse value of ``(I, J)`` is ``sum Z_ij v_ij / sum Z_ij`` over the fine
    pairs ``i in I, j in J`` with a positive flow (a weighted mean dependency share or
    stock); a coarse pair with no flow takes the unweighted mean.  ``order`` gives the
    coarse codes' order (default: first appearance), e.g. the coarse table's sectors.  The same rule is used
    for dependency shares and for inventory days.
    """
    codes = [str(s) for s in fine.sector.values]
    Z = _t.flat(fine)["Z"]
    idx = {c: k for k, c in enumerate(cm.products)}
    coarse = list(order) if order is not None else list(dict.fromkeys(groups[c] for c in codes))
    if set(coarse) != {groups[c] for c in codes}:
        raise ScenarioError("aggregate_cells: 'order' must list every coarse code once")
    g_of = np.array([coarse.index(groups[c]) for c in codes])
    v = np.array([[cm.values[idx[a], idx[b]] for b in codes] for a in codes])
    w = np.where(Z > 0, Z, 0.0)
    G = len(coarse)
    num = np.zeros((G, G))
    den = np.zeros((G, G))
    cnt = np.zeros((G, G))
    tot = np.zeros((G, G))
    np.add.at(num, (g_of[:, None], g_of[None, :]), w * v)
    np.add.at(den, (g_of[:, None], g_of[None, :]), w)
    np.add.at(tot, (g_of[:, None], g_of[None, :]), v)
    np.add.at(cnt, (g_of[:, None], g_of[None, :]), 1.0)
    vals = np.where(den > 0, num / np.where(den > 0, den, 1.0), tot / cnt)
    return CellMatrix(products=tuple(coarse), buyers=tuple(coarse), values=vals,
                      digest=_digest("aggregate", cm.digest, tuple(coarse)),
                      source=f"{cm.source} (flow-weighted to {G} sectors)")


def rule_table(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per rule (id, inputs, buyers, class or days and range, source, note), for
    the docs."""
    rows = []
    for rule in spec["rules"]:
        row = {k: rule.get(k) for k in ("id", "inputs", "buyers", "class", "days", "range",
                                         "min_cost_share", "source", "note")}
        if rule.get("diagonal"):
            row["inputs"] = "own output"
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------
# Classes and buffers on another classification (docs/mrio.md)
# --------------------------------------------------------------------------------------
def aggregate_params(fine_table: xr.Dataset, params: DynamicParams, groups: Mapping[str, str],
                     order: Sequence[str]):
    """Dependency shares and inventory days of every (input, buyer) pair of a single-region
    ``fine_table`` under ``params`` (criticality classes, buffers, the carve-out's
    ``*_by_product`` shares and stocks), aggregated flow-weighted to a coarser
    classification (:func:`aggregate_cells`; ``groups``: fine code ->
    coarse code, ``order``: the coarse codes).  Returns two
    :class:`~simcore.dynamic.params.CellMatrix` (dependency, inventory days) for an MRIO
    in the coarse classification (docs/mrio.md, "Classes and buffers on another
    classification")."""

    prep = prepare_model(fine_table)
    tgt, theta, *_ = _cell_arrays(prep, params, [])
    n = prep.n
    th = _dense_base(prep, params.dependency_cells, params.dependency)
    dd = _dense_base(prep, params.inventory_cells, params.inventory_days)
    th = np.full((n, n), float(params.dependency)) if th is None else th
    dd = np.full((n, n), float(params.inventory_days)) if dd is None else dd
    rows, cols = prep.rowidx, _cols(prep)
    th[rows, cols] = theta
    dd[rows, cols] = tgt / prep.Z0
    codes = tuple(prep.sectors)
    out = []
    for what, v in (("dependency", th), ("inventory days", dd)):
        cm = CellMatrix(products=codes, buyers=codes, values=v,
                        digest=_digest("mrio-fine", what, codes, v),
                        source=f"{what} of {fine_table.attrs.get('dataset', 'the fine table')}")
        out.append(aggregate_cells(cm, fine_table, groups, order))
    return out[0], out[1]


def read_weighted_concordance(concordance: Any, what: str = "concordance"
                              ) -> dict[str, dict[str, float]]:
    """A concordance ``{fine code: {coarse code: weight}}`` from a dict whose values are a
    code, a list of codes (equal weights) or ``{code: weight}``; a pandas Series; a
    :class:`simcore.transform.Concordance`; or a CSV file with the columns ``fine, coarse``
    and an optional third column ``weight`` (a fine code on several lines belongs to
    several coarse codes).  Each fine code's weights are normalised to sum to 1."""

    import pandas as pd


    if isinstance(concordance, (_tr.Concordance, pd.Series)):
        concordance = _tr._read_concordance(concordance)
    out: dict[str, dict[str, float]] = {}
    if isinstance(concordance, (str, Path)):
        path = Path(concordance)
        df = _t._read_csv(path, dtype=str, comment="#").dropna(how="all")
        if df.shape[1] not in (2, 3):
            raise TableError(f"{path}: a concordance CSV needs 2 columns (fine, coarse) or 3 "
                             f"(fine, coarse, weight); got {df.shape[1]}: {list(df.columns)}")
        for i, row in enumerate(df.itertuples(index=False)):
            vals = [str(v).strip() if isinstance(v, str) else v for v in row]
            if any(v is None or (isinstance(v, float) and math.isnan(v)) or v == ""
                   for v in vals[:2]):
                raise LabelError(f"{path}: line {i + 2}: empty code")
            w = 1.0
            if len(vals) == 3 and isinstance(vals[2], str) and vals[2] != "":
                try:
                    w = float(vals[2])
                except ValueError:
                    raise TableError(f"{path}: line {i + 2}: weight {vals[2]!r} is not a "
                                     "number") from None
            d = out.setdefault(vals[0], {})
            d[vals[1]] = d.get(vals[1], 0.0) + w
        what = str(path)
    elif isinstance(concordance, Mapping):
        for k, v in concordance.items():
            if isinstance(v, Mapping):
                out[str(k)] = {str(c): float(w) for c, w in v.items()}
            elif isinstance(v, (list, tuple)):
                out[str(k)] = {str(c): 1.0 for c in v}
            else:
                out[str(k)] = {str(v): 1.0}
    else:
        raise TableError(f"{what}: expected a dict, a pandas Series, a CSV path or a "
                         f"Concordance; got {type(concordance).__name__}")
    for k, d in out.items():
        tot = sum(d.values())
        if not d or any(not (math.isfinite(w) and w >= 0) for w in d.values()) or tot <= 0:
            raise TableError(f"{what}: fine code {k!r}: weights {d}; expected non-negative "
                             "weights with a positive sum")
        out[k] = {c: w / tot for c, w in d.items()}
    return out


def map_params(fine_table: xr.Dataset, params: DynamicParams, concordance: Any,
               target: xr.Dataset | Sequence[str]
               ) -> DynamicParams:
    """Criticality classes and buffers of a single-region table, mapped onto another
    table's classification (EXIOBASE's 200 products, the OECD ICIO's industries, ...).

    ``params`` holds the classes and buffers on ``fine_table``'s codes (dependency shares
    and inventory days: ``dependency_cells``, ``inventory_cells``, the ``*_by_product``
    maps, e.g. :meth:`simcore.scenario.Scenario.params` of a scenario on Japan's table).
    ``concordance`` maps every fine code to the target's codes: one code, a list of codes
    (equal weights) or ``{code: weight}`` (a fine sector split over several target
    sectors), or a CSV file (``fine, coarse[, weight]``); see
    :func:`read_weighted_concordance`.  The value of the target pair ``(I, J)`` is the
    flow-weighted mean over the fine pairs ``(i, j)`` with a flow,
    ``sum w_iI w_jJ Z_ij v_ij / sum w_iI w_jJ Z_ij`` (a many-to-one concordance gives
    :func:`aggregate_params`'s values); a pair with no fine flow takes the unweighted mean
    of its fine pairs, and target codes no fine code maps to take the scalar defaults
    ``dependency`` and ``inventory_days``.

    Returns
    -------
    DynamicParams
        ``dependency_cells`` and ``inventory_cells`` on the target's sector codes (on an
        MRIO they apply in every region), with ``params``' scalar settings (restocking
        time, rationing, overproduction) and defaults.  Elasticities, import origins,
        stockpiles and substitution are product-specific: give them in the target's codes.

    Raises
    ------
    LabelError
        A fine code missing from the concordance (or one the table does not have), or a
        target code the target table does not have; the error names them.
    """

    conc = read_weighted_concordance(concordance)
    codes = [str(c) for c in fine_table.sector.values]
    missing = [c for c in codes if c not in conc]
    if missing:
        raise LabelError(f"map_params: the concordance has no entry for the fine sector(s) "
                         f"{', '.join(map(repr, missing[:5]))}"
                         f"{' ...' if len(missing) > 5 else ''} of the table; map every fine "
                         "code (carved products too, e.g. RE and MAG)")
    extra = [c for c in conc if c not in codes]
    if extra:
        raise LabelError(f"map_params: the concordance maps {extra[0]!r}, which is not a "
                         f"sector of the fine table ({', '.join(codes[:5])}, ...)")
    tcodes = ([str(c) for c in target.sector.values] if isinstance(target, xr.Dataset)
              else [str(c) for c in target])
    unknown = sorted({c for d in conc.values() for c in d} - set(tcodes))
    if unknown:
        raise LabelError(f"map_params: the concordance maps to {unknown[0]!r}, which is not "
                         f"a sector of the target table ({', '.join(tcodes[:5])}, ...)")
    prep = prepare_model(fine_table)
    tgt, theta, *_ = _cell_arrays(prep, params, [])
    n = prep.n
    th = _dense_base(prep, params.dependency_cells, params.dependency)
    dd = _dense_base(prep, params.inventory_cells, params.inventory_days)
    th = np.full((n, n), float(params.dependency)) if th is None else th
    dd = np.full((n, n), float(params.inventory_days)) if dd is None else dd
    rows, cols = prep.rowidx, _cols(prep)
    th[rows, cols] = theta
    dd[rows, cols] = tgt / prep.Z0
    S = np.zeros((n, len(tcodes)))
    tix = {c: k for k, c in enumerate(tcodes)}
    for i, c in enumerate(prep.sectors):
        for cc, w in conc[str(c)].items():
            S[i, tix[cc]] = w
    Z = np.where(_t.flat(fine_table)["Z"] > 0, _t.flat(fine_table)["Z"], 0.0)
    den = S.T @ Z @ S
    cnt = S.T @ np.ones((n, n)) @ S
    out = []
    for what, v, default in (("dependency", th, params.dependency),
                             ("inventory days", dd, params.inventory_days)):
        num = S.T @ (Z * v) @ S
        tot = S.T @ v @ S
        vals = np.where(den > 0, num / np.where(den > 0, den, 1.0),
                        np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1.0), float(default)))
        out.append(CellMatrix(
            products=tuple(tcodes), buyers=tuple(tcodes), values=vals,
            digest=_digest("map_params", what, tuple(tcodes), vals),
            source=f"{what} of {fine_table.attrs.get('dataset', 'the fine table')} mapped "
                   f"onto {len(tcodes)} sectors"))
    return DynamicParams(inventory_tau=params.inventory_tau, rationing=params.rationing,
                         alpha_max=params.alpha_max, alpha_tau=params.alpha_tau,
                         dependency=params.dependency, inventory_days=params.inventory_days,
                         dependency_cells=out[0], inventory_cells=out[1])
