"""Calibration of one named, bounded scenario parameter to one published figure.

The Nomura reproduction fits ``model.dependency_scale`` -- a common factor on the
data-driven dependency shares of the rare-earth carve-out (``theta = criticality x embodied
share``, prior 1) -- so that the 3-month loss equals Kiuchi's 660 bn yen.  The 12-month loss
and the GDP shares are then *predicted* by the same model and reported apart from the fit.

The fit solves ``log(loss(p) / target) = 0`` with :func:`scipy.optimize.least_squares`
(trust-region reflective, inside the bounds) from a starting value; the loss is increasing in
the scale, so the root is unique when it lies inside the bounds.

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

from ._bayes import (POSTERIOR_FILE, RECOVERY_FILE, Parameter, drain_onset, recovery, recovery_check, Posterior, Problem, Surrogate, Target,
                     engine_values, load_posterior, onset_days, rare_earth_problem, rebuild,
                     run_bands, run_draws, sample, which_params)

__all__ = ["CalibrationResult", "calibrate", "reference_figures", "Parameter", "Target",
           "Problem", "Surrogate", "Posterior", "POSTERIOR_FILE", "rare_earth_problem",
           "engine_values", "load_posterior", "onset_days", "rebuild", "run_bands",
           "run_draws", "sample", "which_params", "drain_onset", "recovery", "RECOVERY_FILE"]


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

    def resid(p: np.ndarray) -> np.ndarray:
        nonlocal n_eval
        n_eval += 1
        res = sc.run(**{key: float(p[0])})
        return np.array([math.log(max(model_value(res, ref["quantity"], ref["unit"]), tiny)
                                  / target)])

    from scipy.optimize import least_squares

    sol = least_squares(resid, x0=[x0], bounds=([lo], [hi]), xtol=xtol, ftol=1e-12,
                        gtol=1e-14, diff_step=1e-6)
    value = float(sol.x[0])
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
