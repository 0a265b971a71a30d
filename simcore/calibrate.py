"""Calibration of one named, bounded scenario parameter to one published figure.

The Nomura reproduction fits ``model.dependency_scale`` -- a common factor on the
data-driven dependency shares of the rare-earth carve-out (``theta = criticality x embodied
share``, prior 1) -- so that the 3-month loss equals Kiuchi's 660 bn yen.  The 12-month loss
and the GDP shares are then *predicted* by the same model and reported apart from the fit.

The fit solves ``log(loss(p) / target) = 0`` inside the bounds: from a starting value it
brackets the root (a step that assumes the loss proportional to the parameter, then secant
steps that at least widen the search, up to the bounds) and then closes the bracket with
Brent's method (:func:`root_in_bracket`), to a relative step of ``xtol`` or a residual
under :data:`RESID_TOL`.  The loss is increasing in the scale, so the root is unique when it
lies inside the bounds; a target the bounds cannot reach is an error that names them.
(Brent's method is that of :func:`scipy.optimize.brentq`, written out here so that
``simcore reproduce`` does not import ``scipy.optimize``, which costs about 0.2 s, a third
of ``import numpy, xarray``; ``tests/test_calibration_roots.py`` holds it to ``brentq``.)

Bayesian calibration (``docs/calibration.md``): a posterior over the uncertain parameters of
the rare-earth model -- the dependency scale, the stock days of rare earths and magnets,
the restocking time, China's share of magnet imports, the substitution headroom and lag --
given Nomura's 3-month loss (on Kiuchi's scenario) and the first car-line stop of 2025 (an
upper bound on the onset under a total cut), sampled with emcee on a surrogate of the engine
that is validated on held-back engine runs.  The samples ship with the package
(:func:`load_posterior`) and are rebuilt by ``python -m simcore.calibrate --rebuild``;
:func:`run_bands` runs a scenario over posterior draws in one batched engine call.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import ParameterError, ScenarioError
from .scenario import load
from .tables import YEN_PER_UNIT, yen_per_unit

from ._bayes import (BAND_METHOD, POSTERIOR_FILE, RECOVERY_FILE, SAMPLINGS, STRATA_TARGET,
                     Parameter, drain_onset, recovery, recovery_check, Posterior, Problem,
                     Surrogate, Target, band, engine_values, load_posterior, onset_days,
                     rare_earth_problem, rebuild, run_bands, run_draws, sample, which_params)

__all__ = ["CalibrationResult", "calibrate", "reference_figures", "Parameter", "Target",
           "Problem", "Surrogate", "Posterior", "POSTERIOR_FILE", "rare_earth_problem",
           "engine_values", "load_posterior", "onset_days", "rebuild", "run_bands",
           "run_draws", "sample", "which_params", "drain_onset", "recovery", "RECOVERY_FILE",
           "band", "BAND_METHOD", "SAMPLINGS", "STRATA_TARGET"]


@dataclass(frozen=True)
class CalibrationResult:
    """Outcome of :func:`calibrate`."""

    scenario: str
    parameter: str
    value: float
    prior: float
    bounds: tuple[float, float]
    target_id: str
    target: float
    achieved: float
    unit: str
    evaluations: int
    start: float

    @property
    def ratio_to_prior(self) -> float:
        """Fitted value over the prior (1 = the data-driven default)."""
        return self.value / self.prior if self.prior else math.nan

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio_to_prior"] = self.ratio_to_prior
        return d


def _yen(res_or_unit: Any) -> float:
    unit = res_or_unit if isinstance(res_or_unit, str) else res_or_unit.attrs.get("unit", "")
    yen = yen_per_unit(unit)
    if yen is None:
        raise ParameterError(f"unit {unit!r}: cannot convert to yen (yen units: "
                             f"{', '.join(YEN_PER_UNIT)})")
    return yen


def model_value(res, quantity: str, unit: str) -> float:
    """A scenario result's value of ``quantity`` in the reference ``unit``."""
    if quantity == "gdp_loss_total":
        v = float(res.gdp_loss_total)
        return v * _yen(res) if unit == "JPY" else v
    if quantity == "gdp_loss_share":
        return float(res.gdp_loss_share)
    raise ScenarioError(f"unknown reference quantity {quantity!r}")


#: Residual ``|log(loss / target)|`` at which the fit stops: the loss equals the target to
#: about 1e-13 relative.
RESID_TOL = 1e-13
#: The most model runs the search of a fit may take (the start, the bracket and Brent's
#: steps together; one more run checks the fitted value).
MAX_EVALS = 60


def root_in_bracket(f: Any, a: float, b: float, fa: float, fb: float, *, xtol: float,
                    ftol: float = 0.0, max_evals: int = MAX_EVALS) -> tuple[float, float, int]:
    """Brent's method (Brent 1973, *Algorithms for Minimization without Derivatives*, ch. 4;
    the ``zeroin`` of Forsythe, Malcolm and Moler 1977): a root of ``f`` between ``a`` and
    ``b``, where ``fa = f(a)`` and ``fb = f(b)`` differ in sign.  Inverse quadratic
    interpolation or secant steps, bisection whenever they would not shrink the bracket
    fast enough, so it never leaves the bracket and converges at worst like bisection.
    Stops when the bracket is under ``xtol * |x| + 4 eps |x|`` wide or ``|f| <= ftol``.
    Returns the root, ``f`` there and the number of evaluations of ``f``."""
    if not (fa < 0 < fb or fb < 0 < fa):
        if fa == 0.0:
            return a, fa, 0
        if fb == 0.0:
            return b, fb, 0
        raise ParameterError(f"root_in_bracket: f({a!r}) = {fa!r} and f({b!r}) = {fb!r} "
                             "do not bracket a root")
    eps = np.finfo(float).eps
    c, fc = a, fa
    d = e = b - a
    evals = 0
    while True:
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * eps * abs(b) + 0.5 * xtol * abs(b)
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0 or abs(fb) <= ftol:
            return b, fb, evals
        if evals >= max_evals:
            raise ParameterError(f"root_in_bracket: no convergence in {max_evals} "
                                 f"evaluations (bracket {b!r} .. {c!r})")
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p = 2.0 * m * s
                q = 1.0 - s
            else:  # inverse quadratic interpolation
                q = fa / fc
                r = fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b = b + d if abs(d) > tol else b + math.copysign(tol, m)
        fb = f(b)
        evals += 1


class _NoBracket(Exception):
    """:func:`_bracket` found no sign change: ``x``, ``f(x)`` of its last point nearest the
    root, and whether it stopped at a bound (else it ran out of evaluations)."""

    def __init__(self, x: float, fx: float, at_bound: bool) -> None:
        super().__init__(x, fx, at_bound)
        self.x, self.fx, self.at_bound = x, fx, at_bound


def _bracket(f: Any, x0: float, f0: float, lo: float, hi: float,
             max_evals: int) -> tuple[float, float, float, float, int]:
    """From ``x0`` (``f0 = f(x0)``; ``f`` a log ratio, increasing or decreasing in ``x``):
    two points inside ``[lo, hi]`` whose values differ in sign (or one root).  The first
    step takes the ratio proportional to ``x`` (``x0 exp(-f0)``); each later one goes from
    the point nearer the root (the smaller ``|f|``) away from the other, as far as the
    secant through both says or 1.6 times their distance if that is farther, up to the
    bound.  Returns ``a, b, f(a), f(b)`` and the evaluations made; raises
    :class:`_NoBracket` when the search reaches a bound without a sign change (for a
    monotone ``f``: the root is not inside the bounds) or has made ``max_evals``
    evaluations."""
    v, fv = x0, f0
    # (the exponent clipped: a loss of 0 at the start gives f0 near -690)
    u = (min(max(x0 * math.exp(min(max(-f0, -700.0), 700.0)), lo), hi)
         if math.isfinite(f0) else 0.5 * (lo + hi))
    if u == x0:  # x0 sits on the bound the first step points at: try the other side
        u = lo if x0 == hi else hi
    evals = 0
    while True:
        fu = f(u)
        evals += 1
        if fu == 0.0 or (fu > 0) != (fv > 0):
            return v, u, fv, fu, evals
        if abs(fu) > abs(fv):  # keep u the nearer one
            u, v, fu, fv = v, u, fv, fu
        span = u - v
        den = fu - fv
        sec = -fu * span / den if den != 0.0 and math.isfinite(den) else 0.0
        if not math.isfinite(sec) or abs(sec) < 1.6 * abs(span):
            sec = 1.6 * span
        nxt = min(max(u + math.copysign(abs(sec), span), lo), hi)
        if nxt == u or evals >= max_evals:
            raise _NoBracket(u, fu, nxt == u)
        v, fv = u, fu
        u = nxt


def calibrate(scenario: Any, *, start: float | None = None, xtol: float = 1e-10) -> CalibrationResult:
    """Fit the scenario's ``[calibration]`` parameter to its target reference figure.

    Parameters
    ----------
    scenario : Scenario or str
        A scenario with a ``[calibration]`` table and a ``[[reference]]`` whose id is
        ``calibration.target_id``.
    start : float, optional
        Starting value (default: the value in the scenario file).

    Returns
    -------
    CalibrationResult
    """
    sc = scenario if hasattr(scenario, "data") else load(scenario)
    cal = sc.data.get("calibration")
    if not cal:
        raise ScenarioError(f"{sc.file}: no [calibration] table")
    param = cal["parameter"]
    key = f"model.{param}"
    lo, hi = (float(b) for b in cal.get("bounds", (0.0, 10.0)))
    refs = {r["id"]: r for r in sc.data.get("reference", [])}
    if cal["target_id"] not in refs:
        raise ScenarioError(f"{sc.file}: calibration.target_id {cal['target_id']!r} is not the id "
                            "of a [[reference]]")
    ref = refs[cal["target_id"]]
    target = float(ref["published"])
    x0 = float(start if start is not None else sc.data.get("model", {}).get(param, 1.0))
    x0 = min(max(x0, lo + 1e-9 * (hi - lo)), hi - 1e-9 * (hi - lo))
    n_eval = 0
    tiny = 1e-300

    def resid(p: float) -> float:
        nonlocal n_eval
        n_eval += 1
        res = sc.run(**{key: float(p)})
        return math.log(max(model_value(res, ref["quantity"], ref["unit"]), tiny) / target)

    f0 = resid(x0)
    if abs(f0) <= RESID_TOL:
        value = x0
    else:
        try:
            a, b, fa, fb, used = _bracket(resid, x0, f0, lo, hi, MAX_EVALS - 1)
        except _NoBracket as nb:
            if nb.at_bound:
                raise ScenarioError(
                    f"{sc.file}: calibration of {param}: the target {target:.6g} is not "
                    f"reached anywhere within the bounds [{lo}, {hi}] (searched from "
                    f"{x0:.6g}; closest at {nb.x:.6g}, log(model / target) = {nb.fx:.3g}); "
                    "widen calibration.bounds") from None
            raise ScenarioError(
                f"{sc.file}: calibration of {param}: no bracket of the target {target:.6g} "
                f"within [{lo}, {hi}] after {MAX_EVALS} model runs (closest at {nb.x:.6g}, "
                f"log(model / target) = {nb.fx:.3g})") from None
        try:
            value, _, _ = root_in_bracket(resid, a, b, fa, fb, xtol=xtol, ftol=RESID_TOL,
                                          max_evals=MAX_EVALS - 1 - used)
        except ParameterError as exc:
            raise ScenarioError(f"{sc.file}: calibration of {param}: {exc}") from None
    value = float(value)
    achieved = model_value(sc.run(**{key: value}), ref["quantity"], ref["unit"])
    if abs(achieved / target - 1) > 1e-3:
        raise ScenarioError(
            f"{sc.file}: calibration of {param} within [{lo}, {hi}] reached {achieved:.6g} "
            f"against the target {target:.6g}; widen the bounds")
    return CalibrationResult(
        scenario=sc.name, parameter=param, value=value,
        prior=1.0, bounds=(lo, hi), target_id=ref["id"], target=target, achieved=achieved,
        unit=ref["unit"], evaluations=n_eval, start=x0,
    )


def reference_figures(scenario: Any, overrides: dict[str, Any] | None = None,
                      fitted_ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Published against model for every ``[[reference]]`` of a scenario."""
    sc = scenario if hasattr(scenario, "data") else load(scenario)
    res = sc.run(**(overrides or {}))
    rows = []
    for ref in sc.data.get("reference", []):
        model = model_value(res, ref["quantity"], ref["unit"])
        pub = float(ref["published"])
        tol = float(ref["tolerance"])
        rows.append({
            "id": ref["id"], "published": pub, "model": model, "unit": ref["unit"],
            "rel_error": (model - pub) / pub if pub else math.nan, "tolerance": tol,
            "fitted": ref["id"] in fitted_ids, "ok": bool(abs(model - pub) <= tol),
            "scenario": sc.name, "source": ref["source"],
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m simcore.calibrate --rebuild [--out FILE] [--quick]``: rebuild the
    posterior file; ``--check``: print its diagnostics and surrogate validation."""
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m simcore.calibrate")
    ap.add_argument("--rebuild", action="store_true",
                    help="run the engine designs, sample and write the posterior file")
    ap.add_argument("--out", help="posterior file to write (default: the shipped one)")
    ap.add_argument("--quick", action="store_true", help="small designs and chains (a smoke run)")
    ap.add_argument("--check", action="store_true", help="print the stored diagnostics")
    ap.add_argument("--recovery", type=int, metavar="N",
                    help="the full recovery check over N repeats (writes its result next to "
                         "the posterior file, for the docs)")
    args = ap.parse_args(argv)
    if args.recovery:
        print(json.dumps(recovery_check(args.recovery), indent=1))
        return 0
    if args.rebuild:
        post = rebuild(args.out, quick=args.quick)
    elif args.check:
        post = load_posterior(args.out)
    else:
        ap.print_help()
        return 2
    print(json.dumps({"file": str(post.path), "diagnostics": post.diagnostics,
                      "validation": post.validation, "sampler": post.sampler,
                      "extra": post.extra,
                      "posterior": {n: {"median": post.median(n), "90%": post.interval(n)}
                                    for n in post.names}}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover - the rebuild command
    raise SystemExit(main())
