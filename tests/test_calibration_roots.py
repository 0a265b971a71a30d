"""The point calibration's root finder (:mod:`simcore.calibrate`): Brent's method held to
:func:`scipy.optimize.brentq` (the oracle; ``simcore reproduce`` does not import
``scipy.optimize``), the bracket search from a start, and the fit of the shipped
calibration from starts on either side of its root."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from simcore import calibrate, scenario
from simcore.calibrate import _bracket, _NoBracket, root_in_bracket
from simcore.errors import ParameterError, ScenarioError

FUNCTIONS = [
    (lambda x: x ** 3 - 2.0, 0.0, 4.0),
    (lambda x: math.cos(x) - x, 0.0, 2.0),
    (lambda x: math.exp(x) - 5.0, -3.0, 10.0),
    (lambda x: math.log(x / 0.754), 1e-9, 5.0),  # the calibration's shape
    (lambda x: math.atan(50.0 * (x - 0.3)), -1.0, 1.0),  # steep near the root
    (lambda x: (x - 1.0) ** 3, 0.0, 3.0),  # flat near the root
    (lambda x: 1e-8 * (x - 2.5), 0.0, 3.0),  # tiny values
]


@pytest.mark.parametrize("k", range(len(FUNCTIONS)))
def test_brent_finds_brentq_s_root(k):
    f, a, b = FUNCTIONS[k]
    want = brentq(f, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=1000)
    got, fx, evals = root_in_bracket(f, a, b, f(a), f(b), xtol=1e-13, max_evals=500)
    assert got == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert min(a, b) <= got <= max(a, b) and 0 < evals <= 200  # the triple root: ~130
    # the other orientation of the bracket, and a function decreasing through the root
    got2, _, _ = root_in_bracket(f, b, a, f(b), f(a), xtol=1e-13, max_evals=500)
    assert got2 == pytest.approx(want, rel=1e-10, abs=1e-12)
    neg, _, _ = root_in_bracket(lambda x: -f(x), a, b, -f(a), -f(b), xtol=1e-13,
                                max_evals=500)
    assert neg == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_brent_stops_at_the_residual_tolerance_and_at_a_root_on_the_bracket():
    f = lambda x: math.log(x / 0.754)  # noqa: E731
    x, fx, evals = root_in_bracket(f, 0.1, 5.0, f(0.1), f(5.0), xtol=0.0, ftol=1e-6)
    assert abs(fx) <= 1e-6 and abs(x - 0.754) <= 1e-5
    assert root_in_bracket(f, 0.754, 5.0, 0.0, f(5.0), xtol=1e-12)[:2] == (0.754, 0.0)
    with pytest.raises(ParameterError, match=r"f\(1.0\) = .* and f\(2.0\) = .* do not bracket"):
        root_in_bracket(f, 1.0, 2.0, f(1.0), f(2.0), xtol=1e-12)
    with pytest.raises(ParameterError, match="no convergence in 3 evaluations"):
        root_in_bracket(FUNCTIONS[0][0], 0.0, 4.0, -2.0, 62.0, xtol=1e-15, max_evals=3)


@pytest.mark.parametrize("x0", [1e-6, 0.1, 0.75, 1.0, 3.0, 4.999])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_bracket_search_from_any_start_inside_the_bounds(x0, sign):
    """From any start, a sign change inside the bounds, for a ratio that grows with the
    parameter and for one that falls (stock days: more stocks, less loss)."""
    f = lambda x: sign * math.log(max(x, 1e-300) / 0.754)  # noqa: E731
    a, b, fa, fb, evals = _bracket(f, x0, f(x0), 0.0, 5.0, 60)
    assert 0.0 <= min(a, b) <= 0.754 <= max(a, b) <= 5.0
    assert fa == f(a) and fb == f(b) and (fa == 0.0 or fb == 0.0 or (fa > 0) != (fb > 0))
    assert evals <= 20  # the wrong way first for a falling ratio from near 0: a few more


def test_bracket_search_says_when_the_bounds_hold_no_root():
    f = lambda x: math.log(x / 7.0)  # noqa: E731  (root above the upper bound)
    with pytest.raises(_NoBracket) as up:
        _bracket(f, 1.0, f(1.0), 0.0, 5.0, 60)
    assert up.value.at_bound and up.value.x == 5.0
    g = lambda x: math.log(x / 0.01)  # noqa: E731  (root below the lower bound 0.5)
    with pytest.raises(_NoBracket) as down:
        _bracket(g, 1.0, g(1.0), 0.5, 5.0, 60)
    assert down.value.at_bound and down.value.x == 0.5
    fall = lambda x: -math.log(max(x, 1e-300) / 0.754)  # noqa: E731
    with pytest.raises(_NoBracket) as short:  # out of evaluations, not at a bound
        _bracket(fall, 1e-6, fall(1e-6), 0.0, 5.0, 2)
    assert not short.value.at_bound
    # a start where the ratio is log(1e-300 / target) (no loss at all): no overflow
    h = lambda x: math.log(max(1e-300 * (x > 0.5), 1e-300 if x <= 0.5 else x) / 0.754)  # noqa: E731
    a, b, fa, fb, _ = _bracket(h, 0.1, h(0.1), 0.0, 5.0, 60)
    assert (fa > 0) != (fb > 0)


def test_the_shipped_fit_from_starts_on_either_side_of_its_root():
    """kiuchi-2025-3m's dependency scale from four starts: the same value to 1e-9, the loss
    at it the published 660 bn yen to 1e-10, in a few model runs each."""
    sc = scenario.load("kiuchi-2025-3m")
    fits = [calibrate.calibrate(sc, start=s) for s in (0.05, 0.5, 2.0, 4.9)]
    ref = fits[0].value
    for fit in fits:
        assert fit.value == pytest.approx(ref, rel=1e-9)
        assert fit.achieved == pytest.approx(660e9, rel=1e-10)
        assert fit.evaluations <= 15
    assert 0.5 < ref < 1.0


def test_a_target_out_of_the_bounds_names_them():
    sc = scenario.load("kiuchi-2025-3m").copy_with({"calibration.bounds": [0.0, 0.3]})
    with pytest.raises(ScenarioError, match=r"kiuchi-2025-3m.toml: calibration of "
                                            r"dependency_scale: the target 6.6e\+11 is not "
                                            r"reached anywhere within the bounds \[0.0, 0.3\] "
                                            r"\(searched from 0.3; closest at 0.3"):
        calibrate.calibrate(sc)
    with pytest.raises(ScenarioError, match=r"calibration.bounds must be \[low, high\]"):
        scenario.load("kiuchi-2025-3m").copy_with({"calibration.bounds": [2.0, 1.0]})


def test_a_failing_model_run_is_not_reported_as_an_unreachable_target(monkeypatch):
    """An error inside a model run of the search (a ValueError subclass) surfaces as
    itself, not as "target not reached"."""
    sc = scenario.load("kiuchi-2025-3m")
    real = type(sc).run
    calls = []

    def run(self, **kw):
        calls.append(kw)
        if len(calls) == 2:
            raise ParameterError("boom in run 2")
        return real(self, **kw)

    monkeypatch.setattr(type(sc), "run", run)
    with pytest.raises(ParameterError, match="boom in run 2"):
        calibrate.calibrate(sc, start=0.5)
