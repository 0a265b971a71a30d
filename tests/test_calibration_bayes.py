"""Bayesian calibration: priors, the onset measure, the shipped posterior (staleness and
convergence), a small recovery of known parameters, posterior bands and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from simcore import calibrate
from simcore._bayes import (Parameter, Problem, Target, drain_onset, interval, onset_days,
                            recovery, toy_problem)
from simcore.cli import main
from simcore.errors import DataError, ParameterError


# ------------------------------------------------------------------ priors and pieces
@pytest.mark.parametrize("p", calibrate.rare_earth_problem().params, ids=lambda p: p.name)
def test_priors_are_normalised_on_their_bounds_and_sampled_by_their_quantiles(p):
    lo, hi = p.bounds
    x = np.linspace(lo, hi, 200001)
    dens = np.exp(p.logpdf(x))
    assert np.trapezoid(dens, x) == pytest.approx(1.0, rel=2e-3)
    assert p.logpdf(np.array([lo - 1e-6 * (hi - lo), hi * 1.001 + 1e-9]))[0] == -np.inf
    # the quantile function inverts the prior: the median of the draws is ppf(0.5)
    draws = p.ppf(np.random.default_rng(0).random(20000))
    assert np.all((draws >= lo) & (draws <= hi))
    assert np.median(draws) == pytest.approx(float(p.ppf(0.5)), rel=0.03)
    assert p.source  # every prior states its source


def test_stock_prior_is_not_built_from_the_car_line_stop():
    p = calibrate.rare_earth_problem().param("stock_days")
    assert "52" not in p.source and "car" not in p.source.lower()
    # two months at a magnet maker / the 60-day stockpile target: median 60 before the
    # truncation to [15, 150], which moves it by under one day
    assert p.args[0] == 60.0
    assert float(p.ppf(0.5)) == pytest.approx(60.0, abs=1.0)


def test_bad_parameter_and_posterior_file_are_clear_errors(tmp_path):
    with pytest.raises(ParameterError, match="prior 'beta'"):
        Parameter("x", ("model.a",), "beta", (0, 1), (0, 1), "none")
    with pytest.raises(ParameterError, match="bounds > 0"):
        Parameter("x", ("model.a",), "loguniform", (0, 1), (0, 1), "none")
    with pytest.raises(DataError, match="--rebuild"):
        calibrate.load_posterior(tmp_path / "missing.nc")


def test_onset_days_interpolates_between_days_and_caps_never():
    x0 = 100.0
    out = np.array([[100, 100, 99.8, 99.0, 98.0],   # crosses 99.5 between day 2 and 3
                    [100, 100, 100, 100, 100],      # never
                    [90, 90, 90, 90, 90]])          # from day 0
    od = onset_days(out, x0, share=0.005)
    assert od[0] == pytest.approx(2 + (0.005 - 0.002) / (0.01 - 0.002))
    assert od[1] == 5 and od[2] == 0


def test_drain_onset_without_substitution_is_the_stock_and_substitution_delays_it():
    D = np.array([30.0, 30.0, 30.0])
    od = drain_onset(D, np.array([0.0, 0.5, 0.5]), np.array([0.0, 0.0, 40.0]))
    assert od[0] == pytest.approx(30.0, abs=0.01)
    assert od[1] > 35.0           # half replaced from day 0: the stock lasts longer
    assert od[2] == pytest.approx(30.0, abs=0.01)  # substitution comes too late


# ------------------------------------------------------------------ the shipped posterior
@pytest.fixture(scope="module")
def post():
    return calibrate.load_posterior()


def test_shipped_posterior_is_not_stale(post):
    """The stored log-posterior of the samples equals the code's, from the stored engine
    runs (no sampler run), to 1e-9; and the engine still gives the stored training values."""
    sub = slice(0, 400)
    lp = post.problem.log_posterior(post.samples[sub])
    np.testing.assert_allclose(lp, post.log_posterior[sub], rtol=1e-9, atol=0)
    for k, t in enumerate(post.problem.targets):
        tr = post.problem.training[t.id]
        idx, ps = post.problem.sub(t)
        pick = [0, tr["U"].shape[0] // 2]
        from simcore._bayes import to_values

        X = to_values(ps, tr["U"][pick])
        eng = post.problem._to_y(t, X, calibrate.engine_values(t, ps, X))
        np.testing.assert_allclose(eng, tr["y"][pick], rtol=1e-9, atol=1e-9,
                                   err_msg=f"{t.id}: the engine moved; rebuild the posterior")


def test_shipped_posterior_converged_and_surrogate_validated(post):
    d = post.diagnostics
    assert set(d) == set(post.names)
    for name, row in d.items():
        assert row["rhat"] < 1.01, (name, row)
        assert row["rhat_between_ensembles"] < 1.01, (name, row)
        assert row["n_tau"] > 50, (name, row)
        assert row["ess_bulk"] > 400 and row["ess_tau"] > 400, (name, row)
    assert post.sampler["ensembles"] >= 4
    # where the likelihood matters, the surrogate's error is small against each target's
    # stated error (3 % of 5 % for the loss, 3 days of 5 for the onset)
    v = post.validation
    for t in post.problem.targets:
        assert v[t.id]["n_near"] >= 10, v[t.id]
        assert v[t.id]["max_abs_error_near"] < 0.3 * t.error, v[t.id]
        assert v[t.id]["max_loglik_error_near"] < 0.5, v[t.id]


def test_loaded_posterior_fits_its_surrogates_when_first_used():
    """Loading the shipped posterior fits no surrogate (drawing bands needs none, so
    ``simcore reproduce`` does not import scipy.interpolate); the first prediction fits one
    from the stored training runs, the same as fitting them all at once."""
    import subprocess
    import sys

    code = ("import sys\nfrom simcore import calibrate\n"
            "p = calibrate.load_posterior()\n"
            "p.draws(8, 0)\n"
            "print('scipy.interpolate' in sys.modules, len(dict(p.problem.surrogates)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.split() == ["False", "0"], out.stderr[-2000:]
    lazy = calibrate.load_posterior()
    eager = calibrate.load_posterior()
    eager.problem.fit_surrogates()
    assert lazy.problem.surrogates and eager.problem.surrogates
    for t in lazy.problem.targets:
        X = lazy.problem.prior_draws(5, 1)[:, lazy.problem.sub(t)[0]]
        np.testing.assert_array_equal(lazy.problem.predict_sub(t, X),
                                      eager.problem.predict_sub(t, X))
    assert set(lazy.problem.surrogates) == {t.id for t in lazy.problem.targets}


def test_posterior_findings_each_target_informs_its_parameters(post):
    prob = post.problem
    # the car-line stop bounds the stocks from above: the posterior median lies below the
    # prior's and its 90 % interval ends near the bound plus the softness
    s = post.column("stock_days")
    assert np.median(s) < float(prob.param("stock_days").ppf(0.5)) - 5
    assert interval(s)[1] < 52 + 3 * 5
    # Nomura's loss pins the product of dependency scale and China's share
    k3 = prob.targets[0]
    pred = prob.predict(k3, post.samples)
    assert abs(np.median(np.log(pred / k3.observed))) < 0.02


# ------------------------------------------------------------------ recovery (small)
def test_recovery_of_known_parameters_small():
    """37 sectors, 2 parameters, 6 repeats x 2 parameters = 12 intervals of nominal 90 %:
    under correct calibration the count inside is Binomial(12, 0.9); P(count <= 8) = 2.6 %,
    so at least 9 of 12 must cover (the full check: docs/calibration.md)."""
    from simcore._bayes import binomial_floor

    assert binomial_floor(12, 0.9, 0.03) == 8
    res = recovery(toy_problem(), repeats=6, seed=3, n_train=64, walkers=10, steps=500)
    assert res["inside"].shape == (6, 2)
    assert res["inside"].sum() >= 9, res
    # the intervals are informative, not the whole prior
    width = (res["hi"] - res["lo"]).mean(axis=0)
    assert width[0] < 0.3 * 0.8 and width[1] < 0.5 * 35.0, width


# ------------------------------------------------------------------ bands
def test_run_bands_draws_match_single_engine_runs(post):
    ds = calibrate.run_bands("kiuchi-2025-3m", 3, posterior=post, seed=1)
    assert ds.attrs["parameters_drawn"] == "dependency_scale, china_mag_share"
    from simcore import scenario

    sc = scenario.load("kiuchi-2025-3m")
    x = ds["parameters"].values[1]
    one = sc.run(**{"model.dependency_scale": float(x[0]),
                    "model.import_origins.MAG.CHN": float(x[1])})
    assert float(ds.gdp_loss_total[1]) == pytest.approx(float(one.gdp_loss_total), rel=1e-9)
    np.testing.assert_allclose(ds.value_added_loss.values[1],
                               one.value_added_loss.values[:ds.sizes["sector"]], rtol=1e-9,
                               atol=1e-9)
    lo, med, hi = (float(ds[f"gdp_loss_total_{k}"]) for k in ("low", "median", "high"))
    assert lo <= med <= hi
    # simcore.plot draws the band around the daily loss
    pytest.importorskip("matplotlib")
    from simcore import plot

    fig = plot.trajectory(one, band=ds)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("over 3 samples" in t for t in labels), labels
    with pytest.raises(ParameterError, match="n = 0"):
        calibrate.run_bands("kiuchi-2025-3m", 0, posterior=post)


def test_cli_run_bands_and_errors(capsys):
    assert main(["run", "kiuchi-2025-3m", "--bands", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    b = out["bands"]
    assert b["draws"] == 3 and len(b["gdp_loss_total"]) == 3
    assert b["gdp_loss_total"][1] <= b["gdp_loss_total"][0] <= b["gdp_loss_total"][2]
    assert all(r["low"] <= r["median"] <= r["high"] for r in b["value_added_loss_by_sector"])
    assert main(["run", "kiuchi-2025-3m", "--bands", "0"]) == 2
    assert "--bands 0" in capsys.readouterr().err


def test_reproduce_bands_rows(post):
    from simcore import references

    checks = references.reproduce([references.scenario_files()[0].parent /
                                   "kiuchi-2025-3m.toml"])
    b = references.bands(checks, draws=3, posterior=post)
    for c in checks:
        med, lo, hi = b[c.ref.name]
        assert lo <= med <= hi and math.isfinite(med)


def test_a_reference_with_calibration_error_becomes_a_target(tmp_path, monkeypatch):
    """A figure becomes a target by a key in its scenario file (no code change); the shipped
    posterior then refuses to load until it is rebuilt."""
    from simcore import _bayes, references, scenario
    from simcore.scenario import scenario_dir

    text = (scenario_dir() / "kiuchi-2025-12m.toml").read_text()
    text = text.replace('name = "kiuchi-2025-12m"', 'name = "kiuchi-extra"').replace(
        'tolerance = 78e9        # 3 %', 'tolerance = 78e9\ncalibration_error = 0.1', 1)
    extra = tmp_path / "kiuchi-extra.toml"
    extra.write_text(text)
    shipped = references.scenario_files()
    # the targets come from the scenario files simcore.scenario finds
    monkeypatch.setattr(scenario, "scenario_files", lambda paths=None: shipped + [extra])
    _bayes._file_targets.cache_clear()
    try:
        prob = calibrate.rare_earth_problem()
        t = {t.id: t for t in prob.targets}["nomura-rare-earth-12m-loss"]
        assert t.scenario == "kiuchi-extra" and t.error == 0.1
        assert t.params == ("dependency_scale", "china_mag_share")
        with pytest.raises(DataError, match="rebuild"):
            calibrate.load_posterior()
    finally:
        _bayes._file_targets.cache_clear()


def test_which_parameters_are_drawn_for_which_scenario():
    from simcore.errors import ScenarioError

    six = [p.name for p in calibrate.rare_earth_problem().params]
    assert calibrate.which_params("rare-earth-data-driven-3m") == six
    assert calibrate.which_params("kiuchi-2025-12m") == ["dependency_scale", "china_mag_share"]
    toy = {"schema": 1, "name": "no-carve", "table": {"dataset": "japan-2015-37"},
           "horizon": {"days": 10}}
    with pytest.raises(ScenarioError, match="no carve-out"):
        calibrate.which_params(toy)
