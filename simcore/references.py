"""Published figures as checks: find the ``[[reference]]`` blocks of scenario files, run
their calibrations and scenarios once, and compare model against published.

One engine serves ``simcore reproduce``, the pytest plugin (``pytest
--simcore-references PATH``) and :mod:`simcore.testing`, so the three give the same rows and
the same verdicts.

- :func:`scenario_files` expands files and folders (recursively) into scenario files;
- :func:`collect` lists their references in order;
- :class:`Runner` computes a :class:`Check` for each, running every calibration and every
  scenario run once (a cache keyed by file and overrides);
- :func:`reproduce` does all three.

How a file's ``[calibration]`` is used: with ``parameter`` and ``target_id``, the parameter is
fitted to that reference figure (the row is the *target*, reproduced by construction) and the
file's other figures are *predicted* with the fitted value.  With ``from = "other.toml"``
(relative to the file, or a shipped scenario name), the other file's calibration is run and
its fitted value used here: every figure of the file is predicted.  Without ``[calibration]``
every figure is predicted from the file as written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from . import calibrate as _cal
from .calibrate import band, load_posterior, model_value, run_bands, which_params
from .scenario import Scenario, load
from .tables import yen_per_unit
from .scenario import (  # noqa: F401  (finding scenario files: simcore.scenario)
    SCENARIO_KEYS, SKIP_DIRS, looks_like_scenario, scenario_files)

__all__ = ["Reference", "Check", "Runner", "ReferenceMismatch", "scenario_files", "collect",
           "reproduce", "default_runner", "reset", "bands", "BAND_DRAWS"]

#: Posterior draws behind the bands of ``simcore reproduce``, stratified
#: (:meth:`simcore.calibrate.Posterior.stratified_draws`): on the engine, the GDP-loss bands
#: of 32 stratified draws fall closer to the whole posterior's than those of 100 random
#: draws (``benchmarks/bands.py``, docs/calibration.md "How the draws are chosen"; a test
#: holds its record to this number).
BAND_DRAWS = 32



class ReferenceMismatch(AssertionError):
    """A model figure outside the published figure's tolerance (an ``AssertionError``, so it
    fails a test like any ``assert``)."""


@dataclass(frozen=True)
class Reference:
    """One ``[[reference]]`` block of one scenario file."""

    file: Path | None
    scenario: str
    index: int
    id: str
    quantity: str
    published: float
    unit: str
    tolerance: float
    source: str
    sc: Any = field(default=None, compare=False, repr=False)  # the loaded Scenario

    @property
    def name(self) -> str:
        """``file::id`` (``scenario::id`` for a scenario given as a dict)."""
        return f"{self.file if self.file else self.scenario}::{self.id}"


@dataclass
class Check:
    """Published against model for one reference."""

    ref: Reference
    model: float
    tolerance: float
    fitted: bool
    overrides: dict[str, Any] = field(default_factory=dict)
    calibration: str = ""
    #: Every parameter fitted for this figure's scenario: ``parameter``, ``value``,
    #: ``prior``, ``bounds``, ``target_id`` and ``fitted_in`` (the file whose calibration
    #: ran); empty when nothing is fitted.
    fitted_parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def published(self) -> float:
        return self.ref.published

    @property
    def error(self) -> float:
        return self.model - self.ref.published

    @property
    def rel_error(self) -> float:
        pub = self.ref.published
        return (self.model - pub) / pub if pub else math.nan

    @property
    def ok(self) -> bool:
        return bool(math.isfinite(self.model) and abs(self.error) <= self.tolerance)

    @property
    def role(self) -> str:
        return "target" if self.fitted else "predicted"

    def row(self) -> dict[str, Any]:
        """The row of ``simcore reproduce``; ``--json`` prints the keys in ``simcore.cli.REPRODUCE_JSON_KEYS``."""
        return {
            "id": self.ref.id, "published": self.ref.published, "model": self.model,
            "unit": self.ref.unit, "rel_error": self.rel_error, "tolerance": self.tolerance,
            "fitted": self.fitted, "ok": self.ok,
            "file": str(self.ref.file) if self.ref.file else None,
            "scenario": self.ref.scenario, "source": self.ref.source,
            "error": self.error, "overrides": dict(self.overrides),
            "fitted_parameters": [dict(f) for f in self.fitted_parameters],
        }

    def report(self) -> str:
        """A readable account of the check (the failure message of a test)."""
        r = self.ref
        lines = [
            f"{'reproduced' if self.ok else 'NOT reproduced'}: {r.id} "
            f"({r.quantity}, {self.role})",
            f"  published:  {_fmt(r.published, r.unit)}",
            f"  model:      {_fmt(self.model, r.unit)}",
            f"  error:      {_fmt(self.error, r.unit, sign=True, diff=True)}, "
            f"{self.rel_error * 100:+.2f} % of the published value",
            f"  tolerance:  +/- {_fmt(self.tolerance, r.unit)}"
            + ("" if self.tolerance == r.tolerance
               else f" (the file says +/- {_fmt(r.tolerance, r.unit)})"),
            f"  scenario:   {r.scenario} ({r.file if r.file else 'not from a file'})",
            "  overrides:  " + (", ".join(f"{k} = {v!r}" for k, v in self.overrides.items())
                                or "none"),
        ]
        if self.calibration:
            lines.append(f"  calibration: {self.calibration}")
        lines.append(f"  source:     {r.source}")
        return "\n".join(lines)


def _fmt(v: float, unit: str, sign: bool = False, diff: bool = False) -> str:
    s = "+" if sign else ""
    if unit == "JPY":
        return f"{v:{s},.6g} JPY ({v / 1e9:{s},.1f} bn yen)"
    if unit == "fraction":
        return f"{v:{s}.6g} ({v * 100:{s}.4f} {'percentage points' if diff else '%'})"
    return f"{v:{s}.6g} {unit}"


# --------------------------------------------------------------------------------------
# Finding scenario files and their references
# --------------------------------------------------------------------------------------
def references_of(sc: Any) -> list[Reference]:
    """The ``[[reference]]`` blocks of a loaded scenario, in file order."""
    return [Reference(file=sc.path, scenario=sc.name, index=i, id=r["id"],
                      quantity=r["quantity"], published=float(r["published"]), unit=r["unit"],
                      tolerance=float(r["tolerance"]), source=r["source"], sc=sc)
            for i, r in enumerate(sc.data.get("reference", []))]


def collect(paths: Iterable[str | Path] | None = None,
            runner: Runner | None = None) -> list[Reference]:
    """Every reference of every scenario file of ``paths`` (see :func:`scenario_files`)."""
    runner = runner or default_runner()
    out: list[Reference] = []
    for f in scenario_files(paths):
        out += references_of(runner.scenario(f))
    return out


# --------------------------------------------------------------------------------------
# Running: every calibration and every scenario run once
# --------------------------------------------------------------------------------------
def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    return v


class Runner:
    """Computes checks, running each calibration and each (scenario, overrides) once.

    The pytest plugin and :mod:`simcore.testing` share :func:`default_runner`, so a test
    session runs each once however many references or tests use it.
    """

    def __init__(self) -> None:
        self._scenarios: dict[Any, Any] = {}
        self._calibrations: dict[Any, Any] = {}
        self._fitted: dict[Any, list[dict[str, Any]]] = {}
        self._results: dict[Any, Any] = {}
        self.runs = 0  # scenario runs done (calibrations not counted), for tests

    # ------------------------------------------------------------ scenarios
    def scenario(self, scenario: Any) -> Any:
        """A loaded scenario (cached by resolved path: one table build per file)."""
        if isinstance(scenario, Scenario):
            key = ("path", scenario.path.resolve()) if scenario.path else ("obj", id(scenario))
            return self._scenarios.setdefault(key, scenario)
        if isinstance(scenario, Mapping):
            key = ("data", _freeze(scenario))
            if key not in self._scenarios:
                self._scenarios[key] = load(scenario)
            return self._scenarios[key]
        p = Path(scenario)
        if not p.suffix and not p.exists():  # a shipped name
            sc = load(scenario)
            return self._scenarios.setdefault(("path", sc.path.resolve()), sc)
        key = ("path", p.resolve())
        if key not in self._scenarios:
            self._scenarios[key] = load(p)
        return self._scenarios[key]

    def _key(self, sc: Any) -> Any:
        return ("path", sc.path.resolve()) if sc.path else ("obj", id(sc))

    def calibration(self, scenario: Any, _chain: tuple = ()) -> tuple[dict[str, Any], str, str]:
        """``(overrides, target_id, description)`` from the scenario's ``[calibration]``:
        the fitted parameter as a ``model.*`` override, the id fitted in this file (``""``
        for none) and a sentence for reports.  No calibration: ``({}, "", "")``."""
        sc = self.scenario(scenario)
        cal = sc.data.get("calibration")
        if not cal:
            return {}, "", ""
        key = self._key(sc)
        if key in self._calibrations:
            return self._calibrations[key]
        if "from" in cal:
            if key in _chain:
                raise ScenarioError(f"{sc.file}: calibration.from goes round in a circle: "
                                    + " -> ".join(str(k[1]) for k in _chain + (key,)))
            base = (sc.path.parent if sc.path else Path.cwd())
            src = base / cal["from"]
            try:
                other = self.scenario(src if src.exists() or Path(cal["from"]).suffix
                                      else cal["from"])
            except ScenarioError as exc:
                raise ScenarioError(f"{sc.file}: calibration.from {cal['from']!r}: {exc}") from exc
            over, target, _ = self.calibration(other, _chain + (key,))
            if not over:
                raise ScenarioError(f"{sc.file}: calibration.from {cal['from']!r}: "
                                    f"{other.file} has no [calibration] to take a value from")
            param = next(iter(over)).split(".", 1)[1]
            if cal.get("parameter", param) != param:
                raise ScenarioError(f"{sc.file}: calibration.parameter {cal['parameter']!r} "
                                    f"but {other.file} fits {param!r}")
            value = over[f"model.{param}"]
            out = (dict(over), "", f"{param} = {value:.6g}, fitted to {target} in {other.file}")
            self._fitted[key] = list(self._fitted.get(self._key(other), []))
        else:
            fit = _cal.calibrate(sc)
            out = ({f"model.{fit.parameter}": fit.value}, fit.target_id,
                   f"{fit.parameter} = {fit.value:.6g} (prior {fit.prior:g}) fitted to "
                   f"{fit.target_id} in {fit.evaluations} model runs")
            self._fitted[key] = [{"parameter": fit.parameter, "value": fit.value,
                                  "prior": fit.prior, "bounds": list(fit.bounds),
                                  "target_id": fit.target_id, "fitted_in": str(sc.file)}]
        self._calibrations[key] = out
        return out

    def fitted_parameters(self, scenario: Any) -> list[dict[str, Any]]:
        """The parameters the scenario's ``[calibration]`` fitted, each with its prior
        (after :meth:`calibration` has run; empty without a calibration)."""
        sc = self.scenario(scenario)
        if not sc.data.get("calibration"):
            return []
        self.calibration(sc)
        return [dict(f) for f in self._fitted.get(self._key(sc), [])]

    def result(self, scenario: Any, overrides: Mapping[str, Any] | None = None,
               calibrated: bool = True) -> Any:
        """The scenario's result (an :class:`xarray.Dataset`), run once per scenario and
        overrides.  ``calibrated``: apply the file's ``[calibration]`` first (explicit
        ``overrides`` win)."""
        sc = self.scenario(scenario)
        over: dict[str, Any] = {}
        if calibrated:
            over.update(self.calibration(sc)[0])
        over.update(overrides or {})
        key = (self._key(sc), _freeze(over))
        if key not in self._results:
            self.runs += 1
            self._results[key] = sc.run(**over)
        return self._results[key]

    # ------------------------------------------------------------ checks
    def check(self, ref: Reference, rtol: float | None = None,
              atol: float | None = None) -> Check:
        """Published against model for one reference.  ``rtol``/``atol`` replace the file's
        tolerance by ``atol + rtol * |published|`` (either missing counts as 0)."""
        sc = self.scenario(ref.sc if ref.sc is not None else ref.file)
        over, target, desc = self.calibration(sc)
        res = self.result(sc, calibrated=True)
        model = model_value(res, ref.quantity, ref.unit)
        tol = ref.tolerance
        if rtol is not None or atol is not None:
            for n, v in (("rtol", rtol), ("atol", atol)):
                if v is not None and (not isinstance(v, (int, float)) or not v >= 0):
                    raise ScenarioError(f"{n} = {v!r}: expected a number >= 0")
            tol = float(atol or 0.0) + float(rtol or 0.0) * abs(ref.published)
        return Check(ref=ref, model=float(model), tolerance=tol, fitted=ref.id == target,
                     overrides=dict(over), calibration=desc,
                     fitted_parameters=self.fitted_parameters(sc))


_DEFAULT: Runner | None = None


def default_runner() -> Runner:
    """The process-wide runner shared by the plugin and :mod:`simcore.testing`."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Runner()
    return _DEFAULT


def reset() -> None:
    """Forget every cached scenario, calibration and result (the plugin calls it when a
    test session starts)."""
    global _DEFAULT
    _DEFAULT = None


def reproduce(paths: Iterable[str | Path] | None = None,
              runner: Runner | None = None) -> list[Check]:
    """Checks of every reference of every scenario file of ``paths`` (default: the shipped
    scenarios), calibrations first.  Raises :class:`~simcore.errors.ScenarioError` when the
    paths hold no reference at all."""
    runner = runner or Runner()
    files = scenario_files(paths)
    refs: list[Reference] = []
    for f in files:
        refs += references_of(runner.scenario(f))
    if not refs:
        where = ", ".join(str(p) for p in (paths or [])) or "the shipped scenarios"
        raise ScenarioError(f"{where}: no [[reference]] figures found in "
                            f"{len(files)} scenario file(s); a figure is a [[reference]] "
                            "block with id, quantity, published, unit, tolerance and source")
    return [runner.check(r) for r in refs]


def bands(checks: Iterable[Check], draws: int | None = None, level: float = 0.9,
          seed: int = 0, posterior: Any = None) -> dict[str, tuple[float, float, float] | None]:
    """Model median and central ``level`` band of each check's figure over ``draws``
    (default :data:`BAND_DRAWS`) posterior draws of the rare-earth calibration (:func:`simcore.calibrate.run_bands`:
    one batched engine call per scenario file), keyed by :attr:`Reference.name`.  ``None``
    for a figure whose scenario the posterior does not apply to (no carve-out)."""
    import numpy as np

    draws = BAND_DRAWS if draws is None else draws
    out: dict[str, tuple[float, float, float] | None] = {}
    post = None
    done: dict[Any, Any] = {}
    for c in checks:
        sc = c.ref.sc
        try:
            which_params(sc)
        except ScenarioError:
            out[c.ref.name] = None
            continue
        if post is None:
            post = posterior or load_posterior()
        key = (id(sc), _freeze(c.overrides))
        if key not in done:
            done[key] = run_bands(sc, draws, posterior=post, seed=seed, level=level,
                                  overrides=c.overrides)
        ds = done[key]
        if c.ref.quantity == "gdp_loss_total":
            v = ds["gdp_loss_total"].values.astype(float)
            if c.ref.unit == "JPY":
                v = v * float(yen_per_unit(ds.attrs["unit"]) or math.nan)
        elif c.ref.quantity == "gdp_loss_share":
            v = ds["gdp_loss_share"].values.astype(float)
        else:  # pragma: no cover - the schema allows only these two
            raise ScenarioError(f"{c.ref.name}: no band for quantity {c.ref.quantity!r}")
        lo, med, hi = band(v, level)
        out[c.ref.name] = (float(med), float(lo), float(hi))
    return out
