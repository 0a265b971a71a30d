"""Scenario files: a strict TOML schema, loading, and running through the dynamic engine.

A scenario file states the table (and its carve-outs and rescaling), the shocks, the model
parameters, the horizon, the records, and optionally the published figures it reproduces and
a calibration.  Every key is documented in ``docs/scenarios.md``; unknown keys, wrong types
and out-of-range values are rejected with a :class:`~simcore.errors.ScenarioError` naming the
file, the key and what is allowed.

Shipped scenarios live in ``scenarios/`` at the top of the repository and are installed with
the package (``simcore/_scenarios`` in the wheel), so ``simcore run NAME`` works after a plain
``pip install``.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import xarray as xr

from . import _nodask
from . import tables as _tables

_nodask.install()  # xarray imports dask lazily; only a Dask engine needs it

from ._schema import (Bool, DaysOrAuto, ListOf, MapOf, Num, Opt, Str, Table,
                      rule_of, schema_of)
from ._toml import parse_toml, read_toml  # noqa: F401  (public here too)
from . import criticality as _cr
from . import datasets, transform
from .dynamic.supply_chain import prepare_model
from .dynamic.params import DynamicParams, Stockpile, Substitution
from .dynamic.shocks import (SHOCK_KINDS, CapacityShock, DemandShock, ExportCut, ImportCut,
                             _Timed)
from .dynamic.mrio import FINE_DATASET, add_third_country_split, prepare_mrio, simulate
from .dynamic.ario import ARIOParams
from .dynamic.common import MAX_DAYS
from .errors import LabelError, ParameterError, ScenarioError, ShockError, TableError
from .run import ENGINES, Horizon, prepare_ario_table, run_ario, run_until_recovered
from .carve_spec import (carve, dependency_shares, load_spec, origin_shares,
                          read_spec_bytes)

__all__ = [
    "Scenario",
    "load",
    "available",
    "scenario_dir",
    "run",
    "SCHEMA",
    "apply_overrides",
    "scenario_files",
    "looks_like_scenario",
    "key_reference",
]

_HERE = Path(__file__).resolve().parent


def scenario_dir() -> Path:
    """Folder of the shipped scenarios (the repository's ``scenarios/`` or the wheel copy)."""
    for cand in (_HERE / "_scenarios", _HERE.parent / "scenarios"):
        if cand.is_dir():
            return cand
    raise ScenarioError("the shipped scenarios folder was not found (broken installation?)")


def available() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in scenario_dir().glob("*.toml"))


#: Folders never searched for scenario files.
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "_build", "site-packages"})
#: Top-level keys of which a TOML file found in a folder needs one to count as a scenario
#: (so ``pyproject.toml`` or a carve-out data file next to the scenarios is skipped).
SCENARIO_KEYS = ("reference", "shocks", "table", "horizon")


def looks_like_scenario(path: Path) -> bool:
    """Whether a ``.toml`` file found in a folder is a scenario file (has one of the
    top-level keys ``reference``, ``shocks``, ``table``, ``horizon``, or both ``schema``
    and ``name``).  A file that is not valid TOML
    raises :class:`~simcore.errors.ScenarioError` naming it."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from exc
    # data files (carve-out, criticality, buffers) have a schema but none of these keys
    return any(k in data for k in SCENARIO_KEYS) or ("schema" in data and "name" in data)


def _walk(folder: Path) -> Iterable[Path]:
    for p in sorted(folder.iterdir()):
        if p.is_dir():
            if not p.name.startswith(".") and p.name not in SKIP_DIRS:
                yield from _walk(p)
        elif p.suffix == ".toml" and looks_like_scenario(p):
            yield p


def scenario_files(paths: Iterable[str | Path] | None = None) -> list[Path]:
    """Scenario files named by ``paths``: files as given, folders searched recursively for
    ``.toml`` files that look like scenarios (see :func:`looks_like_scenario`); hidden
    folders are skipped.  No paths: the shipped scenarios.  Each file appears once, in the
    order given (a folder's files sorted by path)."""
    paths = list(paths) if paths is not None else []
    if not paths:
        paths = [scenario_dir()]
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found = list(_walk(p))
        elif p.is_file():
            found = [p]
        else:
            raise ScenarioError(f"{p}: no such scenario file or folder")
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


# --------------------------------------------------------------------------------------
# Schema: key -> (type(s), check, description).  Nested tables are dicts of the same form.
# --------------------------------------------------------------------------------------
# the value rules (simcore._schema): each checks a value and describes itself for the key
# reference in docs/scenarios.md (key_reference)
_num = Num
_str = Str
_bool = Bool()
_list_of = ListOf
_map_of = MapOf
_days_or_auto = DaysOrAuto(MAX_DAYS)


def _shock_schema() -> dict[str, Any]:
    """``[[shocks]]``: ``kind``, then every field of the shock classes (simcore.dynamic.shocks)
    with the rule and description it declares, and the kinds it applies to; the fields every
    shock shares (start, duration, profile, ...) last."""
    timed = schema_of(_Timed)
    per_kind = {kind: schema_of(cls) for kind, cls in SHOCK_KINDS.items()}
    out: dict[str, Any] = {"kind": (_str(tuple(SHOCK_KINDS)), _KIND_DOC)}
    for kind, entries in per_kind.items():
        for k, (rule, doc) in entries.items():
            if k in timed or k in out:
                continue
            kinds = [kd for kd, e in per_kind.items() if k in e]
            if len({id(per_kind[kd][k][0]) for kd in kinds}) > 1:
                raise TypeError(f"shock field {k!r} declares different rules by kind; one key "
                                "of [[shocks]] needs one rule")
            out[k] = (rule, f"{doc} ({', '.join(kinds)})")
    out.update(timed)
    return out


_KIND_DOC = ("import_cut (product from origin), export_cut (product from an origin region of "
             "a multi-regional table), capacity_loss (sector) or demand_change")
_SHOCK = _shock_schema()

#: ``[model.stockpiles.PRODUCT]``, ``[model.substitution.PRODUCT]``: the rules of
#: :class:`~simcore.dynamic.params.Stockpile` and :class:`~simcore.dynamic.params.Substitution`.
_STOCKPILE = schema_of(Stockpile)
_SUBST = schema_of(Substitution)

#: ``[model.ario]``: parameters of the ARIO engine (:class:`simcore.dynamic.ario.ARIOParams`,
#: BoARIO's defaults), used with ``[model] engine = "ario"``; each key's rule is the one
#: its field declares.
_ARIO = schema_of(ARIOParams)

SCHEMA: dict[str, Any] = {
    "schema": (_num(1, 1), "schema version (1)"),
    "name": (_str(), "scenario name"),
    "title": (_str(), "one-line title"),
    "description": (_str(), "what the scenario represents"),
    "illustrative": (_bool, "true if the scenario is illustrative, not a forecast"),
    "table": {
        "dataset": (_str(("japan-2015-37", "japan-2015-185", "miller-blair-2.3",
                          "jcr-2015-39")),
                    "embedded dataset (`jcr-2015-39` is the synthetic multi-regional table of "
                    "{doc}`mrio`)"),
        "carve_out": (_str(), "carve-out data file, relative to the scenario file"),
        "rescale_gdp": (_num(0, lo_open=True),
                        "rescale the table so GDP-like value added equals this (table units)"),
        "rescale_year": (_num(1900, 2100), "year the rescaled table represents"),
        "gdp_denominator": (_num(0, lo_open=True), "annual GDP for loss shares (table units)"),
        "gdp_denominator_source": (_str(), "where the denominator comes from"),
        "carve_out_overrides": (_map_of(_num(0)), "PRODUCT.PARENT.output|imports -> value"),
    },
    "shocks": [_SHOCK],
    "model": {
        **schema_of(DynamicParams, ("inventory_days", "inventory_tau", "dependency",
                                    "inventory_days_by_product")),
        "carved_inventory_days": (rule_of(DynamicParams, "inventory_days"),
                                  "target stock of the carve-out's products, days"),
        **schema_of(DynamicParams, ("dependency_by_product",)),
        "dependency_scale": (_num(0), "scale on the carve-out's data-driven dependency shares"),
        **schema_of(DynamicParams, ("elasticity_by_product", "rationing",
                                    "alpha_max", "alpha_tau", "import_origins")),
        "stockpiles": (_map_of(Table(_STOCKPILE)), "product -> stockpile"),
        "substitution": (_map_of(Table(_SUBST)), "product -> ramp"),
        "calibrated": (_list_of(_str()), "model keys whose value was calibrated"),
        "criticality": (_str(), "criticality-class data file (input x buyer), relative to "
                                "the scenario file"),
        "criticality_important": (_num(0, 1), "dependency share of the 'important' class "
                                              "(sensitivity knob; default from the file)"),
        "buffers": (_str(), "input-buffer data file (days by input family), relative to the "
                            "scenario file"),
        **schema_of(DynamicParams, ("origin_stocks",)),
        "engine": (_str(ENGINES), "the engine that runs the scenario: 'supply-chain' "
                                  "(default) or 'ario'"),
        "ario": _ARIO,
    },
    "horizon": {
        "days": (_days_or_auto, "'auto' (until output and stocks are back at baseline) or days"),
        "tail_days": (_num(0, 36500), "days simulated after the last shock ends ('auto')"),
        "max_days": (_num(1, 36500), "longest horizon 'auto' may extend to"),
        "record": (_list_of(_str(("output", "final_demand_unmet", "imports", "stocks"))),
                   "daily records to keep"),
    },
    "mrio": {
        "third_country_region": (_str(), "region whose loss is split into a direct part and "
                                         "a part through third countries (docs/mrio.md)"),
    },
    "calibration": {
        "parameter": (_str(("dependency_scale",)), "the one parameter fitted"),
        "target_id": (_str(), "id of the reference figure fitted"),
        "bounds": (_list_of(_num(0), 2), "[low, high] bounds of the parameter"),
        "from": (_str(), "another scenario (file relative to this one, or a shipped name) "
                         "whose fitted parameter this one uses"),
    },
    "reference": [{
        "id": (_str(), "figure id"),
        "quantity": (_str(("gdp_loss_total", "gdp_loss_share")), "model quantity compared"),
        "published": (_num(0), "published value (JPY or fraction)"),
        "unit": (_str(("JPY", "fraction")), "unit of 'published' and 'tolerance'"),
        "tolerance": (_num(0), "absolute tolerance in 'unit'"),
        "source": (_str(), "citation"),
        "calibration_error": (_num(0, lo_open=True),
                              "error (log scale) of the figure as a target of the Bayesian "
                              "calibration (simcore.calibrate); absent: not a target"),
        "calibration_note": (_str(), "how the figure is used as a target (shown in the docs)"),
    }],
}

_REQUIRED = {"": ("schema", "name", "table", "horizon"), "table": ("dataset",),
             "horizon": ("days",),
             "shocks": ("kind", "duration"), "reference": ("id", "quantity", "published",
                                                           "unit", "tolerance", "source")}


# --------------------------------------------------------------------------------------
# The key reference of docs/scenarios.md, generated from SCHEMA
# --------------------------------------------------------------------------------------
def _sections() -> list[tuple[str, str, Mapping[str, Any]]]:
    """Sections of the key reference: (heading, key prefix, schema)."""
    m = SCHEMA["model"]
    return [
        ("Top level", "", SCHEMA),
        ("`[table]`", "table.", SCHEMA["table"]),
        ("`[model]`", "model.", m),
        ("`[model.ario]` (with `model.engine = \"ario\"`)", "model.ario.", m["ario"]),
        ("`[horizon]`", "horizon.", SCHEMA["horizon"]),
        ("`[mrio]` (multi-regional tables, {doc}`mrio`)", "mrio.", SCHEMA["mrio"]),
        ("`[calibration]`", "calibration.", SCHEMA["calibration"]),
        ("`[[shocks]]`", "shocks[].", SCHEMA["shocks"][0]),
        ("`[[reference]]`", "reference[].", SCHEMA["reference"][0]),
        ("`[model.stockpiles.PRODUCT]`", "model.stockpiles.PRODUCT.", _STOCKPILE),
        ("`[model.substitution.PRODUCT]`", "model.substitution.PRODUCT.", _SUBST),
    ]


def _doc_allowed(rule: Any) -> str:
    if isinstance(rule, Opt):
        return _doc_allowed(rule.rule)
    if isinstance(rule, ListOf):
        return _doc_allowed(rule.item) + (f"; at least {rule.min_len} items"
                                          if rule.min_len else "")
    if isinstance(rule, MapOf):
        return "see below" if isinstance(rule.value, Table) else _doc_allowed(rule.value)
    if isinstance(rule, Str) and rule.choices:
        return ", ".join(f'`"{c}"`' for c in rule.choices)
    if isinstance(rule, Bool):
        return "`true`, `false`"
    if isinstance(rule, DaysOrAuto):
        return f'`"auto"` or 1..{rule.max_days}'
    return rule.allowed


def key_reference() -> str:
    """The key reference of ``docs/scenarios.md`` (Markdown): every key of
    :data:`SCHEMA` with its type, allowed values, whether it is required and its meaning,
    all taken from the schema (and through it from the parameter definitions)."""
    out: list[str] = []
    for head, prefix, schema in _sections():
        where = prefix.rstrip(".").replace("[]", "")
        req = _REQUIRED.get(where if prefix else "", ())
        out += [f"### {head}", "", "| Key | Type | Allowed | Required | Meaning |",
                "|---|---|---|---|---|"]
        for k, entry in schema.items():
            if isinstance(entry, dict):
                typ, allowed, meaning = "table", "", "section, see below"
            elif isinstance(entry, list):
                typ, allowed, meaning = f"array of tables (`[[{k}]]`)", "", "see below"
            else:
                rule, meaning = entry
                typ = rule.type
                allowed = _doc_allowed(rule)
            cells = [f"`{prefix}{k}`", typ, allowed, "yes" if k in req else "no", meaning]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def _validate(d: Mapping[str, Any], schema: Mapping[str, Any], where: str, file: str) -> None:
    req = _REQUIRED.get(where.split("[")[0] if where else "", ())
    for k in req:
        if k not in d:
            raise ScenarioError(f"{file}: missing required key {_join(where, k)!r}"
                                f"{_typo_hint(d, schema, where)}")
    for k, v in d.items():
        key = _join(where, k)
        if k not in schema:
            raise ScenarioError(f"{file}: unknown key {key!r}; allowed here: "
                                f"{', '.join(sorted(schema))}")
        sub = schema[k]
        if isinstance(sub, dict):
            if not isinstance(v, Mapping):
                raise ScenarioError(f"{file}: key {key!r} must be a table")
            _validate(v, sub, key, file)
        elif isinstance(sub, list):
            if not isinstance(v, list):
                raise ScenarioError(f"{file}: key {key!r} must be an array of tables "
                                    f"([[{key}]])")
            for i, item in enumerate(v):
                if not isinstance(item, Mapping):
                    raise ScenarioError(f"{file}: {key}[{i}] must be a table")
                for r in _REQUIRED.get(k, ()):
                    if r not in item:
                        raise ScenarioError(f"{file}: missing required key {key}[{i}].{r}"
                                            f"{_typo_hint(item, sub[0], f'{key}[{i}]')}")
                _validate(item, sub[0], f"{key}[{i}]", file)
        else:
            err = sub[0](v)
            if err:
                if err.endswith("<= 1 and >= 0") and isinstance(v, (int, float)) and 1 < v <= 100:
                    err += " (a fraction, not a percentage: 0.5 means 50 %)"
                raise ScenarioError(f"{file}: key {key!r} = {v!r} is not allowed; expected {err}")


def _typo_hint(d: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> str:
    """For a missing required key: the unknown keys given instead (a typo, most likely)."""
    unknown = [_join(where, k) for k in d if k not in schema]
    return (f" (unknown key {', '.join(repr(u) for u in unknown)} given instead: a typo?)"
            if unknown else "")


def _join(a: str, b: str) -> str:
    return f"{a}.{b}" if a else b


# --------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------
@dataclass
class Scenario:
    """A validated scenario: the parsed TOML plus the file it came from."""

    data: dict[str, Any]
    path: Path | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Opt-in for data files outside the scenario's folder and the shipped scenarios/data
    #: (absolute paths, ``..``); see :meth:`data_file` (issue 15).
    allow_outside_data: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def file(self) -> str:
        # used in error messages, also for a scenario that lacks its name
        return str(self.path) if self.path else f"<scenario {self.data.get('name', '?')}>"

    def copy_with(self, overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario with dotted-key overrides applied and validated."""
        data = apply_overrides(self.data, overrides, self.file)
        sc = Scenario(data, self.path, allow_outside_data=self.allow_outside_data)
        sc.validate()
        # the table depends only on the [table] section: share its cache when unchanged
        if data["table"] == self.data["table"]:
            sc._cache = {k: v for k, v in self._cache.items()
                         if k in ("table", "prepared", "table_spec", "prepared_from")}
        # data files resolve the same way for the copy (same file, same opt-in)
        sc._cache["paths"] = self._cache.setdefault("paths", {})
        return sc

    def validate(self) -> Scenario:
        _validate(self.data, SCHEMA, "", self.file)
        for i, s in enumerate(self.data.get("shocks", [])):
            # the keys a kind needs: its shock class's fields without a default
            need = [f.name for f in dataclasses.fields(SHOCK_KINDS[s["kind"]])
                    if f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
            for k in need:
                if k not in s:
                    raise ScenarioError(f"{self.file}: shocks[{i}] of kind {s['kind']!r} needs "
                                        f"key {k!r}")
        cal = self.data.get("calibration")
        if cal and "bounds" in cal and (len(cal["bounds"]) != 2
                                        or not cal["bounds"][0] < cal["bounds"][1]):
            raise ScenarioError(f"{self.file}: calibration.bounds must be [low, high] with "
                                "low < high")
        ids: set[str] = set()
        for i, ref in enumerate(self.data.get("reference", [])):
            if ref["id"] in ids:
                raise ScenarioError(f"{self.file}: reference[{i}].id {ref['id']!r} is given "
                                    "twice; each [[reference]] needs its own id")
            ids.add(ref["id"])
        if cal is not None:
            if "from" in cal:
                extra = sorted(set(cal) - {"from", "parameter"})
                if extra:
                    raise ScenarioError(
                        f"{self.file}: calibration.from takes the value fitted in another "
                        f"scenario; it cannot be combined with calibration.{extra[0]}")
            else:
                for k in ("parameter", "target_id"):
                    if k not in cal:
                        raise ScenarioError(
                            f"{self.file}: missing required key calibration.{k} (a "
                            "[calibration] needs parameter and target_id, or from)")
                if cal["target_id"] not in ids:
                    raise ScenarioError(
                        f"{self.file}: calibration.target_id {cal['target_id']!r} is not the "
                        f"id of a [[reference]] (ids: {', '.join(sorted(ids)) or 'none'})")
        return self

    # ---------------------------------------------------------------- table
    def carve_path(self, value: Any = None) -> Path | None:
        """The carve-out data file ``table.carve_out`` (or ``value``) names, resolved
        against the scenario file's folder (the shipped scenarios' folder for a dict)."""
        f = self.data["table"].get("carve_out") if value is None else value
        if not f:
            return None
        return self.data_file(f, "table.carve_out")

    def carve_spec(self) -> dict[str, Any] | None:
        """The parsed carve-out data file; read every call, so an edited file is seen."""
        p = self.carve_path()
        if p is None:
            return None
        return _cached_spec(str(p), read_spec_bytes(p))

    def _data_path(self, f: str, key: str) -> Path:
        """A data file named by ``key`` (resolved as :meth:`data_file` does), which must
        exist."""
        p = self.data_file(f, key)
        if not p.is_file():
            raise ScenarioError(f"{key} = {f!r}: data file not found at {p}")
        return p

    def _table_key(self, spec: Any) -> tuple:
        """What the built table depends on: the [table] section and the parsed carve-out
        data (parsed once per file content, see ``_cached_spec``; the cache entry keeps the
        object alive, so its id is not reused while the entry exists)."""
        import json

        return (json.dumps(self.data["table"], sort_keys=True, default=repr),
                None if spec is None else id(spec))

    def data_file(self, name: str, key: str) -> Path:
        """Resolve a data file named in the scenario (see :meth:`_resolve_data_file`); a file
        found is remembered for this scenario and its copies (:meth:`copy_with`: the draws
        of a band, the points of a sweep), so each resolves its names once; its contents
        are read again on every use."""
        memo = self._cache.setdefault("paths", {})
        hit = memo.get((str(name), key))
        if hit is not None:
            return hit
        p = self._resolve_data_file(name, key)
        if p.exists():
            memo[(str(name), key)] = p
        return p

    def _resolve_data_file(self, name: str, key: str) -> Path:
        """Resolve a data file named in the scenario.

        A relative path resolves inside the scenario's folder, or else inside the shipped
        ``scenarios/data`` (for a scenario given as a dict: there only), and may not climb out
        with ``..`` or through a link.  An absolute path or one outside these folders needs
        the explicit opt-in ``allow_outside_data`` (``load(..., allow_outside_data=True)``,
        CLI ``--allow-outside-data``).
        """
        f = Path(str(name))
        home = (self.path.parent if self.path else scenario_dir()).resolve()
        shipped = (scenario_dir() / "data").resolve()
        if self.allow_outside_data and (f.is_absolute() or (home / f).exists()):
            return (home / f).resolve()
        if self.allow_outside_data:
            pass  # a relative name not in the scenario's folder: the shipped data below
        elif f.is_absolute() or ".." in f.parts:
            raise ScenarioError(
                f"{self.file}: {key} = {str(name)!r}: data files must be named relative to the "
                "scenario's folder, without '..' (an absolute path or one outside needs the "
                "explicit opt-in: --allow-outside-data, or load(..., "
                "allow_outside_data=True))")
        cands = [home / f, scenario_dir().resolve() / f]
        for k, cand in enumerate(cands):
            if k == 1 and not cand.resolve().is_relative_to(shipped):
                continue  # the shipped fallback serves scenarios/data only
            if cand.exists() or cand.is_symlink():
                real = cand.resolve()
                if not self.allow_outside_data and not (real.is_relative_to(home)
                                                        or real.is_relative_to(shipped)):
                    raise ScenarioError(
                        f"{self.file}: {key} = {str(name)!r} leads outside the scenario's "
                        "folder and the shipped scenarios/data (through a link); pass "
                        "--allow-outside-data (load(..., allow_outside_data=True)) to use it")
                return real
        return cands[0]

    def table(self) -> xr.Dataset:
        """The scenario's table: dataset, carve-outs, rescaling (cached in the scenario and,
        for every scenario with the same [table] section and carve-out data, in the process:
        the design points of a sweep and the runs of ``simcore reproduce`` share one; built
        again when the carve-out data file has changed since)."""
        spec = self.carve_spec()
        if "table" in self._cache and self._cache.get("table_spec", spec) is not spec:
            for k in ("table", "prepared", "table_spec", "prepared_from"):
                self._cache.pop(k, None)
        if "table" not in self._cache:
            key = self._table_key(spec)
            hit = _TABLES.get(key)
            if hit is not None:
                self._cache["table"] = hit[1]
                self._cache["table_spec"] = spec
                return hit[1]
            t = self.data["table"]
            tab = datasets.load(t["dataset"])
            if spec is not None and not _tables.is_multiregional(tab):
                # (a multi-regional dataset is carved already; its carve-out file gives
                # the classes of the carved products: simcore.scenario._mrio_params)
                try:
                    # tab is the dataset just loaded (validated when it was built)
                    tab = carve(tab, spec, t.get("carve_out_overrides"), check=False)
                except (ScenarioError, LabelError, ShockError) as exc:
                    raise ScenarioError(f"{self.file}: table.carve_out: {exc}") from exc
            if "rescale_gdp" in t:
                # tab was validated when it was built (loaded or carved): no second check
                tab = transform.rescale.__wrapped__(tab, target_gdp=float(t["rescale_gdp"]),
                                                    target_year=t.get("rescale_year"))
            _remember(_TABLES, key, (spec, tab))
            self._cache["table"] = tab
            self._cache["table_spec"] = spec
        return self._cache["table"]

    def prepared(self):
        table = self.table()  # drops a stale cache
        if "prepared" not in self._cache or self._cache.get("prepared_from", table) is not table:
            key = self._table_key(self._cache.get("table_spec"))
            hit = _PREPARED.get(key)
            if hit is None or hit[0] is not table:
                hit = (table, prepare_mrio(table) if _tables.is_multiregional(table)
                       else prepare_model(table))
                _remember(_PREPARED, key, hit)
            self._cache["prepared"] = hit[1]
            self._cache["prepared_from"] = table
        return self._cache["prepared"]

    # ---------------------------------------------------------------- model
    def shocks(self) -> list[Any]:
        out = []
        for i, s in enumerate(self.data.get("shocks", [])):
            kw = {k: v for k, v in s.items() if k != "kind"}
            try:
                if s["kind"] == "import_cut":
                    out.append(ImportCut(**{k: v for k, v in kw.items()
                                            if k != "destinations"}))
                elif s["kind"] == "export_cut":
                    out.append(ExportCut(**{k: v for k, v in kw.items()
                                            if k not in ("sector", "change", "target")}))
                elif s["kind"] == "capacity_loss":
                    out.append(CapacityShock(**{k: v for k, v in kw.items()
                                                if k not in ("product", "origin", "change",
                                                             "target")}))
                else:
                    out.append(DemandShock(**{k: v for k, v in kw.items()
                                              if k not in ("product", "origin", "share")}))
            except (TypeError, ShockError) as exc:
                raise ScenarioError(f"{self.file}: shocks[{i}]: {exc}") from exc
        return out

    @property
    def engine(self) -> str:
        """The engine that runs the scenario (``[model] engine``, default
        ``"supply-chain"``)."""
        return str(self.data.get("model", {}).get("engine", ENGINES[0]))

    def params(self):
        """The engine's parameters: a :class:`~simcore.dynamic.params.DynamicParams` for the
        supply-chain engine, an :class:`~simcore.dynamic.ario.ARIOParams` (from
        ``[model.ario]``) for the ARIO engine."""
        if self.data["table"]["dataset"] in _MRIO_DATASETS:
            return _mrio_params(self)
        m = dict(self.data.get("model", {}))
        m.pop("calibrated", None)
        engine = m.pop("engine", ENGINES[0])
        ario = m.pop("ario", None)
        if engine == "ario":
            if m:
                k = sorted(m)[0]
                raise ScenarioError(f"{self.file}: model.{k} is a parameter of the supply-chain "
                                    "engine and would have no effect with model.engine = "
                                    "'ario'; give the ARIO engine's parameters in [model.ario]")
            try:
                return ARIOParams(**(ario or {}))
            except (ParameterError, LabelError) as exc:
                raise ScenarioError(f"{self.file}: model.ario: {exc}") from exc
        if ario is not None:
            raise ScenarioError(f"{self.file}: [model.ario] would have no effect: "
                                f"model.engine is {engine!r}; set model.engine = 'ario'")
        scale = float(m.pop("dependency_scale", 1.0))
        carved_days = m.pop("carved_inventory_days", None)
        spec = self.carve_spec()
        crit = m.pop("criticality", None)
        buf = m.pop("buffers", None)
        important = m.pop("criticality_important", None)
        for key, source in (("dependency", crit), ("inventory_days", buf)):
            if key in m and source is not None:
                raise ScenarioError(
                    f"{self.file}: model.{key} = {m[key]!r} would have no effect: "
                    f"model.{'criticality' if key == 'dependency' else 'buffers'} gives every "
                    f"pair its value; change the data file, override pairs with "
                    f"model.{key}_by_product" + (", or sweep model.criticality_important"
                                                 if key == "dependency" else
                                                 ", or sweep model.carved_inventory_days"))
        if important is not None and crit is None:
            raise ScenarioError(f"{self.file}: model.criticality_important needs "
                                "model.criticality (a criticality data file)")
        if crit is not None or buf is not None:
            aliases = {} if spec is None else {
                str(code): str(next(iter(p["parents"]))) for code, p in spec["products"].items()}
            try:
                if crit is not None:
                    m["dependency_cells"] = _cr.dependency_cells(
                        self.table(), self._data_path(crit, "model.criticality"),
                        important=important, aliases=aliases)
                if buf is not None:
                    m["inventory_cells"] = _cr.inventory_cells(
                        self.table(), self._data_path(buf, "model.buffers"), aliases=aliases)
            except ScenarioError as exc:
                raise ScenarioError(f"{self.file}: {exc}") from exc
        dep: dict[str, Any] = {}
        origins: dict[str, Any] = {}
        inv: dict[str, Any] = {}
        if spec is not None:
            dep.update(dependency_shares(spec, scale))
            origins.update(origin_shares(spec))
            if carved_days is not None:
                inv.update({p: float(carved_days) for p in spec["products"]})
        dep.update(m.pop("dependency_by_product", {}))
        origins.update(m.pop("import_origins", {}))
        inv.update(m.pop("inventory_days_by_product", {}))
        try:
            return DynamicParams(dependency_by_product=dep, import_origins=origins,
                                 inventory_days_by_product=inv, **m)
        except ParameterError as exc:
            raise ScenarioError(f"{self.file}: model: {exc}") from exc

    # ---------------------------------------------------------------- run
    def run(self, **overrides: Any) -> xr.Dataset:
        """Run the scenario (with optional dotted-key overrides) and return the result."""
        sc = self.copy_with(overrides) if overrides else self
        return sc._run()

    def _run(self) -> xr.Dataset:
        h = self.data["horizon"]
        t = self.data["table"]
        shocks = self.shocks()
        params = self.params()
        horizon = Horizon.of(h)
        kw = dict(gdp_denominator=t.get("gdp_denominator"),
                  gdp_denominator_source=t.get("gdp_denominator_source"))
        try:
            if self.engine == "ario":
                res = self._run_ario(shocks, params, horizon, kw)
            else:
                record = tuple(h.get("record", ("output", "final_demand_unmet", "imports")))
                prep = self.prepared()
                res = run_until_recovered(
                    horizon, shocks,
                    lambda days: simulate(prep, shocks, days=days, params=params,
                                          record=record, **kw),
                    lambda r: bool(r.attrs["recovered"]))
        except (LabelError, ShockError, ParameterError, TableError) as exc:
            raise ScenarioError(f"{self.file}: {exc}") from exc
        region = self.data.get("mrio", {}).get("third_country_region")
        if region is not None:
            try:
                res = add_third_country_split(res, prep, shocks, region, params=params,
                                              days=int(res.attrs["days"]), **kw)
            except (LabelError, ShockError, ParameterError) as exc:
                raise ScenarioError(f"{self.file}: mrio.third_country_region: {exc}") from exc
        res.attrs.update({
            "scenario": self.name,
            "scenario_file": self.file,
            "scenario_title": self.data.get("title", ""),
            "illustrative": int(bool(self.data.get("illustrative", False))),
            "calibrated_keys": ", ".join(self.data.get("model", {}).get("calibrated", [])),
        })
        return res

    def _run_ario(self, shocks: list[Any], params: Any, horizon: Horizon,
                  kw: dict[str, Any]) -> xr.Dataset:
        record = self.ario_record()
        prep = self.ario_table(params)
        table = self.table()
        where = [f"shocks[{i}]" for i in range(len(shocks))]
        names = {k: table[k].values for k in ("name_en", "name_ja") if k in table.coords}
        # a fixed horizon, or 'auto': the run layer's rule (simcore.run.Horizon), with the
        # ARIO result's attrs['recovered'] (simcore.dynamic.common.is_recovered)
        return run_until_recovered(
            horizon, shocks,
            lambda days: run_ario(prep, shocks, params, days, record=record, where=where,
                                  names=names, **kw),
            lambda r: bool(r.attrs["recovered"]))

    def ario_record(self) -> tuple[str, ...]:
        """``horizon.record`` for the ARIO engine (``output``, ``final_demand_unmet``)."""
        record = tuple(self.data["horizon"].get("record", ("output", "final_demand_unmet")))
        bad = [r for r in record if r not in ("output", "final_demand_unmet")]
        if bad:
            raise ScenarioError(f"{self.file}: horizon.record: {bad[0]!r} is a record of the "
                                "supply-chain engine; with [model] engine = 'ario' record "
                                "'output' and 'final_demand_unmet'")
        return record

    def ario_table(self, params: Any):
        """The scenario's table lowered for the ARIO engine with ``params.input_threshold``
        (:func:`simcore.run.prepare_ario_table`): once per process for every scenario on
        this table (a sweep's points, the runs of ``simcore reproduce``)."""
        table = self.table()
        key = self._table_key(self._cache.get("table_spec")) + ("ario", params.input_threshold)
        hit = _PREPARED.get(key)
        if hit is None or hit[0] is not table:
            hit = (table, prepare_ario_table(table, params.input_threshold))
            _remember(_PREPARED, key, hit)
        return hit[1]


#: Embedded multi-regional datasets (their scenarios take parameters from the fine
#: single-region table, aggregated: :func:`_mrio_params`).
_MRIO_DATASETS = tuple(FINE_DATASET)


def _mrio_fine_scenario(scn: "Scenario"):
    """The fine single-region side of a scenario on an embedded multi-regional dataset:
    ``(fine table, fine params, concordance fine -> MRIO codes, kept params)`` (see
    :func:`_mrio_params`)."""
    data = copy.deepcopy(scn.data)
    t = data["table"]
    fine_name = FINE_DATASET[t["dataset"]]
    data["table"] = {"dataset": fine_name, **({"carve_out": t["carve_out"]}
                                               if "carve_out" in t else {})}
    data.pop("mrio", None)
    data["shocks"] = []
    data.pop("calibration", None)
    data.pop("reference", None)
    m = data.setdefault("model", {})
    keep = {k: m.pop(k) for k in ("import_origins", "stockpiles", "substitution",
                                  "elasticity_by_product") if k in m}
    if m.pop("origin_stocks", False):
        raise ScenarioError(f"{scn.file}: model.origin_stocks: stocks per origin are not "
                            "available on a multi-regional table (docs/mrio.md)")
    fine = Scenario(data, scn.path, allow_outside_data=scn.allow_outside_data).validate()
    ft = fine.table()
    groups = dict(transform.japan_185_to_37().sectors)
    for c in map(str, ft.sector.values):
        if c not in groups:
            groups[c] = c  # carved products keep their code
    return ft, fine.params(), groups, keep


def _mrio_params(scn: "Scenario") -> DynamicParams:
    """Parameters of a scenario on an embedded multi-regional dataset.

    The scenario's ``[model]`` section is read as for the fine single-region table the
    MRIO was built from (``japan-2015-185`` with the scenario's carve-out): criticality
    classes, buffers, the carve-out's dependency shares and stocks, ``*_by_product``
    overrides in the fine codes.  Every pair's dependency share and stock is then mapped
    flow-weighted onto the MRIO's sectors (:func:`simcore.criticality.map_params` with the
    185 -> 37 concordance, carved products keeping their code) and applies in every region.
    ``import_origins``, ``stockpiles``, ``substitution`` and ``elasticity_by_product`` are
    taken as given, in the MRIO's codes.
    """
    ft, fp, groups, keep = _mrio_fine_scenario(scn)
    mapped = _cr.map_params(ft, fp, groups, scn.table())
    try:
        return dataclasses.replace(mapped, **keep)
    except ParameterError as exc:
        raise ScenarioError(f"{scn.file}: model: {exc}") from exc


#: Built tables and prepared models by what they depend on (see Scenario._table_key); a few
#: are kept, the oldest dropped first.
_TABLES: dict[tuple, Any] = {}
_PREPARED: dict[tuple, Any] = {}
_KEEP = 8


def _remember(cache: dict[tuple, Any], key: tuple, value: Any) -> None:
    cache[key] = value
    while len(cache) > _KEEP:
        cache.pop(next(iter(cache)))


@lru_cache(maxsize=16)
def _cached_spec(path: str, raw: bytes) -> dict[str, Any]:
    """Parsed carve-out files, keyed by path and content (an edited file is parsed again)."""
    return load_spec(path, raw)


_ARRAY_SECTIONS = ("shocks", "reference")


def _list_index(p: str) -> int:
    """An item number in a dotted key: 0, 1, 2, ... (no sign: ``shocks.-1`` would silently
    pick the last item, issue 15)."""
    if not p.isdigit():
        raise ValueError(p)
    return int(p)


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any], file: str = "") -> dict:
    """Apply dotted-key overrides (``"model.inventory_days"``, ``"shocks.0.share"``,
    ``"model.import_origins.RE.CHN"``) to a copy of a scenario dict."""
    out = copy.deepcopy(dict(data))
    for key, value in overrides.items():
        parts = str(key).split(".")
        cur: Any = out
        for i, p in enumerate(parts[:-1]):
            if not isinstance(cur, (list, dict)):
                raise ScenarioError(f"{file}: override {key!r}: "
                                    f"{'.'.join(parts[:i]) or 'scenario'} is a value "
                                    f"({cur!r}), not a table; it has no key {p!r}")
            if isinstance(cur, list):
                try:
                    cur = cur[_list_index(p)]
                except (ValueError, IndexError):
                    raise ScenarioError(f"{file}: override {key!r}: no item {p!r} in "
                                        f"{'.'.join(parts[:i]) or 'scenario'}; items are "
                                        f"numbered 0..{len(cur) - 1} (no negative "
                                        "numbers)") from None
            else:
                if p not in cur:
                    # only the array sections of the schema ([[shocks]], [[reference]]) are
                    # lists; product codes such as "27" are keys of a table
                    cur[p] = [] if (i == 0 and p in _ARRAY_SECTIONS) else {}
                cur = cur[p]
        last = parts[-1]
        if not isinstance(cur, (list, dict)):
            raise ScenarioError(f"{file}: override {key!r}: {'.'.join(parts[:-1])} is a value "
                                f"({cur!r}), not a table; it has no key {last!r}")
        if isinstance(cur, list):
            try:
                cur[_list_index(last)] = value
            except (ValueError, IndexError):
                raise ScenarioError(f"{file}: override {key!r}: no item {last!r}; items are "
                                    f"numbered 0..{len(cur) - 1} (no negative numbers)") from None
        else:
            cur[last] = value
    return out


def load(name_or_path: str | Path | Mapping[str, Any], *,
         allow_outside_data: bool = False) -> Scenario:
    """Load and validate a scenario from a shipped name, a path, or a dict.

    ``allow_outside_data=True`` lets the scenario name data files outside its folder and the
    shipped ``scenarios/data`` (see :meth:`Scenario.data_file`)."""
    if isinstance(name_or_path, Mapping):
        return Scenario(dict(name_or_path),
                        allow_outside_data=bool(allow_outside_data)).validate()
    if not isinstance(name_or_path, (str, Path)):
        raise ScenarioError(f"scenario: expected a shipped name, a path or a dict, got "
                            f"{type(name_or_path).__name__} {name_or_path!r}")
    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        cand = scenario_dir() / f"{name_or_path}.toml"
        if not cand.exists():
            raise ScenarioError(f"unknown scenario {str(name_or_path)!r}; shipped: "
                                f"{', '.join(available())}")
        p = cand
    if not p.exists():
        raise ScenarioError(f"{p}: scenario file not found")
    data = read_toml(p, "scenario file")
    return Scenario(data, p.resolve(), allow_outside_data=bool(allow_outside_data)).validate()


def run(name_or_path: str | Path | Mapping[str, Any], **overrides: Any) -> xr.Dataset:
    """Load a scenario and run it; see :meth:`Scenario.run`."""
    return load(name_or_path).run(**overrides)
