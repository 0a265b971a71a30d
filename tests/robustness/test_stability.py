"""Numerical stability: 10-year horizons, extreme shocks, and the time-constant scan.

* Zero shock over 10 years on both Japanese tables: the steady state holds to round-off.
* A 100 % cut of a product every sector of Japan-37 uses (transport ``57`` and commerce
  ``51`` by capacity, chemicals ``20`` and textiles ``15`` by imports), for up to a year, then
  10 years: no NaN, no negative output or stock, back at baseline.
* ``inventory_tau`` scan 1..60 days (docs/methodology.md, "Pitfalls"), with and without
  overproduction: the number of sign changes of aggregate output minus baseline after the
  shock ends is reported (``-s`` prints the table; ``docs/robustness.md`` has it) and the
  documented stable ranges are asserted.
* Known instabilities found here are refused or tested as documented behaviour, with the
  mechanism described.
"""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore import tables as tb
from simcore.dynamic.params import DynamicParams
from simcore.errors import ParameterError

TEN_YEARS = 3650


@pytest.fixture(scope="module")
def prep37(japan37):
    return sc.dynamic.prepare_model(japan37)


@pytest.fixture(scope="module")
def prep185(japan185):
    return sc.dynamic.prepare_model(japan185)


def sign_changes(res, end: float, rel: float = 1e-6) -> int:
    """Sign changes of aggregate output minus baseline after day ``end`` (deviations below
    ``rel`` of baseline output are ignored)."""
    agg = res.output.sum("sector").values
    base = float(res.output_baseline.sum())
    dev = agg[int(np.ceil(end)):] - base
    d = dev[np.abs(dev) > rel * base]
    return int(np.sum(np.diff(np.sign(d)) != 0))


def check_sane(res):
    for var in ("output", "gdp_loss", "import_supply", "stocks", "final_demand_unmet"):
        if var in res:
            assert np.isfinite(res[var].values).all(), var
    assert float(res.output.min()) >= 0.0
    if "stocks" in res and res.stocks.size:
        assert float(res.stocks.min()) >= 0.0
    if "import_supply" in res and res.import_supply.size:
        assert float(res.import_supply.min()) >= 0.0


# --------------------------------------------------------------------------------------
# 10-year horizons
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["japan-2015-37", "japan-2015-185"])
@pytest.mark.parametrize("p", [DynamicParams(), DynamicParams(inventory_days=1.0, dependency=0.5),
                               DynamicParams(alpha_max=1.25, alpha_tau=30.0)])
def test_ten_years_zero_shock_is_steady(name, p):
    t = sc.datasets.load(name)
    res = sc.simulate(t, [], params=p, days=TEN_YEARS, record=("output",))
    dev = np.abs(res.output.values / np.where(res.output_baseline.values > 0,
                                              res.output_baseline.values, 1.0) - 1.0)
    dev[:, res.output_baseline.values == 0] = 0.0
    assert dev.max() < 1e-12
    assert abs(float(res.gdp_loss_share)) < 1e-12


SECTORS_USED_BY_ALL = ("15", "16", "20", "25", "28", "39", "51", "57")


def test_products_every_sector_uses(japan37):
    Z = tb.flat(japan37)["Z"]
    used = tuple(str(s) for s, row in zip(japan37.sector.values, Z) if (row > 0).all())
    assert used == SECTORS_USED_BY_ALL


@pytest.mark.parametrize("shock", [
    sc.CapacityShock(sector="57", share=1.0, duration=90),   # transport and postal services
    sc.CapacityShock(sector="51", share=1.0, duration=90),   # commerce
    sc.ImportCut(product="20", origin="ROW", share=1.0, duration=365),  # all chemical imports
    sc.ImportCut(product="15", origin="ROW", share=1.0, duration=365, profile="linear_recovery",
                 recovery_days=180),  # textiles, 64 % imported
], ids=["cap57", "cap51", "imp20", "imp15"])
@pytest.mark.parametrize("n, tau", [(1.0, 10.0), (30.0, 10.0), (90.0, 60.0)])
def test_total_cut_of_a_product_every_sector_uses(prep37, shock, n, tau):
    p = DynamicParams(inventory_days=n, inventory_tau=tau)
    res = sc.simulate(prep37, shock, params=p, days=TEN_YEARS,
                      record=("output", "stocks", "imports", "final_demand_unmet"))
    check_sane(res)
    assert float(res.gdp_loss_total) > 0
    assert res.attrs["recovered"] == 1
    # the loss is bounded by losing all of GDP over the shock, plus its aftermath
    assert float(res.gdp_loss_share) < (shock.end + 365) / 365


@pytest.mark.parametrize("share", [1.0])
def test_every_sector_cut_at_once(prep37, share):
    shocks = [sc.CapacityShock(sector=s, share=share, duration=30) for s in prep37.sectors]
    res = sc.simulate(prep37, shocks, days=TEN_YEARS, record=("output",))
    check_sane(res)
    # nothing is produced for 30 days (30 days of GDP), then a short restart (restocking
    # orders crowd out final demand: ~4 % more), then back to baseline
    assert 30 / 365 * (1 - 1e-9) <= float(res.gdp_loss_share) <= 30 / 365 * 1.1
    assert res.attrs["recovered"] == 1


# --------------------------------------------------------------------------------------
# inventory_tau scan (docs/methodology.md, "Pitfalls")
# --------------------------------------------------------------------------------------
TAUS = tuple(range(1, 61))
#: Horizon of the scan: 4 years (every run is back at baseline by then; 10-year runs give
#: the same sign-change counts, at 2.5x the cost).  Since issue 15 "back at baseline" also
#: means stocks within 1e-5 of their targets: with 30-day stocks and tau = 59..60 days the
#: stocks are still 1.0e-5..1.2e-5 short after 3 years, so 3 years no longer suffice.
SCAN_DAYS = 1460
SHOCK = sc.CapacityShock(sector="57", share=1.0, duration=30)


@pytest.fixture(scope="module")
def tau_scan(prep37):
    """Sign changes of aggregate output after the shock, by (alpha_max, n, tau)."""
    out = {}
    for am in (1.0, 1.25):
        for n in (7.0, 30.0):
            for tau in TAUS:
                p = DynamicParams(inventory_days=n, inventory_tau=float(tau), alpha_max=am,
                                  alpha_tau=30.0 if am > 1 else 365.0)
                res = sc.simulate(prep37, SHOCK, params=p, days=SCAN_DAYS,
                                  record=("output",))
                check_sane(res)
                out[am, n, tau] = (sign_changes(res, SHOCK.end), int(res.attrs["recovered"]),
                                   float(res.gdp_loss_share))
    lines = ["alpha_max  n   sign changes for tau = 1..60"]
    for am in (1.0, 1.25):
        for n in (7.0, 30.0):
            lines.append(f"{am:<9} {n:>4.0f}  " + " ".join(str(out[am, n, t][0]) for t in TAUS))
    print("\n".join(lines))
    return out


def test_tau_scan_no_nan_no_negative_and_recovers(tau_scan):
    assert len(tau_scan) == 4 * len(TAUS)
    assert all(rec == 1 for _, rec, _ in tau_scan.values())
    assert all(np.isfinite(loss) for _, _, loss in tau_scan.values())


def test_tau_scan_without_overproduction_never_overshoots(tau_scan):
    """Without overproduction output cannot exceed baseline: no oscillation at any tau."""
    assert all(tau_scan[1.0, n, t][0] == 0 for n in (7.0, 30.0) for t in TAUS)


def test_tau_scan_with_overproduction(tau_scan):
    """With overproduction (alpha_max 1.25, alpha_tau 30 d) tau <= 4 oscillates (asserted
    for tau = 1 and 2); tau >= 5 gives at most one overshoot; the stable range documented in
    docs/robustness.md."""
    for n in (7.0, 30.0):
        assert tau_scan[1.25, n, 1][0] >= 4
        assert tau_scan[1.25, n, 2][0] >= 3
        assert all(tau_scan[1.25, n, t][0] <= 1 for t in TAUS if t >= 5)


# --------------------------------------------------------------------------------------
# Instabilities found.  The partial-dependency ones (marginal use A/theta) were fixed by
# capping the stock use (min(A x, max(S, S + z - target))); the thin-stock, fast-restoration
# corner is refused (test_thin_stocks_with_fast_restoration_refused).
# --------------------------------------------------------------------------------------
def _one_sector(a: float):
    """One sector with own use ``A = a`` and output 8, final demand split evenly between
    domestic use and exports."""
    x = 8.0
    fd = (1 - a) * x / 2
    return tb.from_arrays([[a * x]], [[fd]], [[fd], [fd]], x=[x], E=[fd], M=[0.0],
                          sectors=["s0"], va_items=["compensation", "operating_surplus"])


def test_zero_shock_steady_state_partial_dependency():
    p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=0.5)
    res = sc.simulate(_one_sector(0.75), [], params=p, days=TEN_YEARS, record=("output",))
    assert abs(float(res.gdp_loss_share)) < 1e-9


@pytest.mark.parametrize("which, theta", [("37", 0.05), ("37", 0.2), ("37", 0.4),
                                          ("185", 0.05)])
def test_low_dependency_stable(request, which, theta):
    """Low dependency shares (well below rho(A_d)) were unstable before stock use was capped
    (Japan-37 with theta = 0.4 lost about 90 % of output with no shock): now the steady state
    holds for 10 years and a 30-day 50 % cut of transport recovers."""
    prep = request.getfixturevalue(f"prep{which}")
    p = DynamicParams(inventory_days=1.0, inventory_tau=10.0, dependency=theta)
    res = sc.simulate(prep, [], params=p, days=TEN_YEARS, record=("output",))
    assert abs(float(res.gdp_loss_share)) < 1e-9
    sector = "57" if which == "37" else "5711"
    cut = sc.simulate(prep, sc.CapacityShock(sector=sector, share=0.5, duration=30), params=p,
                      days=TEN_YEARS, record=("output",))
    check_sane(cut)
    assert cut.attrs["recovered"] == 1
    assert 0 < float(cut.gdp_loss_share) < 0.05


def test_half_cut_recovers_with_partial_dependency():
    p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=0.5,
                      rationing="proportional")
    t = _one_sector(0.5)
    half = sc.simulate(t, sc.CapacityShock(sector="s0", share=0.5, duration=1.0), params=p,
                       days=365)
    assert half.attrs["recovered"] == 1


def _unchecked(params: DynamicParams, **changes) -> DynamicParams:
    """``params`` with fields set past validation: only to show why a corner is refused."""
    for k, v in changes.items():
        object.__setattr__(params, k, v)
    return params


def _late_loss(prep, shock, n, tau, alpha_max, years=10):
    """Mean daily loss over the last year of a run, in days of GDP."""
    p = _unchecked(DynamicParams(inventory_days=30.0, alpha_max=alpha_max, alpha_tau=30.0),
                   inventory_days=n, inventory_tau=tau)
    res = sc.simulate(prep, shock, params=p, days=365 * years, record=())
    return float(np.abs(res.gdp_loss.values[-365:]).mean() / (prep.gdp_annual / 365))


def test_thin_stocks_with_fast_restoration_refused(prep37, prep185):
    """Stocks of about one day's use refilled in about one day sit at the edge of the order
    rule's stability (docs/methodology.md, "Pitfalls"): nothing is left to absorb a deviation and
    nothing
    damps it.  Measured 10 years after a 30-day cut, as the mean daily loss of the last year
    (days of GDP): Japan-185 without overproduction, (n, tau) = (1, 1) and (1, 1.01): 4e-2,
    still 4e-2 after 30 years; with overproduction (alpha_max 1.25, alpha_tau 30 d) the
    trap reaches (1, 1.5), (1.01, 1.3) and (1.05, 1.01) at 5e-2 to 2e-1, and on Japan-37
    (1, 1.3) and (1.01, 1.01) at 1e-1 to 2e-2.  (Japan-37 without overproduction, (1, 1)
    fades slowly: 2e-4.)  n >= 1.1 or tau >= 2 recovered to round-off everywhere.  So stocks
    under 1.5 days with tau under 2 days are refused, naming the parameter; the corner's
    edges run and recover."""
    for kw, name in [({"inventory_days": 1.0, "inventory_tau": 1.0}, "'inventory_days' = 1.0"),
                     ({"inventory_days": 1.4, "inventory_tau": 1.9}, "'inventory_days' = 1.4"),
                     ({"inventory_days_by_product": {"20": {"*": 1.0}}, "inventory_tau": 1.5},
                      "inventory_days_by_product['20']['*']"),
                     ({"inventory_days_by_product": {"20": 1.2}, "inventory_tau": 1.0,
                       "alpha_max": 1.25}, "inventory_days_by_product['20']")]:
        with pytest.raises(ParameterError, match=r"edge of stability.*inventory_tau >= 2"):
            DynamicParams(**kw)
        with pytest.raises(ParameterError) as err:
            DynamicParams(**kw)
        assert name in str(err.value)
    # why: inside the corner the economy is trapped below baseline ...
    cut185 = sc.CapacityShock(sector="5751", share=1.0, duration=30)
    assert _late_loss(prep185, cut185, 1.0, 1.0, 1.0) > 1e-2
    assert _late_loss(prep185, cut185, 1.05, 1.01, 1.25) > 1e-2
    assert _late_loss(prep37, SHOCK, 1.0, 1.3, 1.25) > 1e-3
    # ... and on its edges (allowed) it recovers, with and without overproduction
    for n, tau in [(1.5, 1.0), (1.0, 2.0)]:
        for alpha_max in (1.0, 1.25):
            p = DynamicParams(inventory_days=n, inventory_tau=tau, alpha_max=alpha_max,
                              alpha_tau=30.0)
            for prep, shock in ((prep37, SHOCK), (prep185, cut185)):
                res = sc.simulate(prep, shock, params=p, days=3 * 365, record=("output",))
                check_sane(res)
                # output is back (the meaning of `recovered` before issue 15, plus the
                # output gap); at (1.5, 1) without overproduction the stocks stay 2e-4 (37)
                # and 5e-4 (185) of all targets short for good (no spare capacity to
                # restock), so `recovered`, which since issue 15 also needs the stocks, is 0
                rtol = sc.dynamic.common.RECOVERED_RTOL
                assert abs(res.attrs["final_loss_rate_share_of_daily_gdp"]) < rtol, (n, tau)
                assert res.attrs["final_output_gap_share"] < rtol, (n, tau, alpha_max)
                assert res.attrs["recovered"] == int(
                    res.attrs["final_stock_gap_share"] < rtol), (n, tau, alpha_max)


def test_overproduction_gains_reported_apart_from_losses(prep37):
    """With overproduction, restocking after a cut lifts sectors above
    baseline.  A 1-year cut of all chemical imports (20) with 30-day stocks and alpha_max =
    1.25 is absorbed by domestic chemicals: the net loss is a *gain* of about 0.5 % of GDP,
    the gross loss is nil.  ``gdp_gain`` equals the sum over sectors of c max(x - x0, 0)
    from the daily output, and gross = net + gains; without overproduction the gains are 0."""
    cut = sc.ImportCut(product="20", origin="ROW", share=1.0, duration=365)
    p = DynamicParams(inventory_days=30.0, alpha_max=1.25, alpha_tau=30.0)
    res = sc.simulate(prep37, cut, params=p, days=TEN_YEARS, record=("output",))
    gdp = float(res.attrs["gdp_denominator"])
    c = prep37.c
    dx = res.output.values - res.output_baseline.values[None, :]
    np.testing.assert_allclose(res.gdp_gain.values, (c * np.maximum(dx, 0)).sum(1),
                               rtol=1e-12, atol=1e-15 * gdp)
    gross = float((c * np.maximum(-dx, 0)).sum())
    assert float(res.gdp_loss_gross_total) == pytest.approx(gross, rel=1e-9, abs=1e-12 * gdp)
    assert float(res.gdp_loss_gross_total) == pytest.approx(
        float(res.gdp_loss_total) + float(res.gdp_gain_total), rel=1e-12, abs=1e-12 * gdp)
    assert float(res.gdp_gain_total) / gdp == pytest.approx(0.0054, rel=0.05)
    assert float(res.gdp_loss_total) < 0
    plain = sc.simulate(prep37, cut, params=DynamicParams(inventory_days=30.0), days=730)
    assert float(plain.gdp_gain_total) == 0.0
    assert float(plain.gdp_loss_gross_total) == float(plain.gdp_loss_total) > 0


def test_no_gains_without_overproduction_even_with_negative_value_added():
    """A sector with negative value added gains value added when its output falls; that is
    not an overproduction gain: ``gdp_gain`` counts the value added of output above
    baseline only, so it is 0 without overproduction and the net loss keeps the sign of
    the table's own accounts."""
    t = tb.from_arrays([[0.0, 10.0], [5.0, 0.0]], [[90.0], [20.0]],
                       [[95.0, -5.0], [0.0, 20.0]], x=[100.0, 25.0], sectors=["a", "b"],
                       va_items=["compensation", "ohcr"])  # ohcr: outside GDP
    assert tb.gdp_coefficients(t)[1] < 0
    res = sc.simulate(t, sc.CapacityShock(sector="b", share=0.5, duration=20),
                      params=DynamicParams(inventory_days=5.0, dependency=0.0), days=200,
                      record=("output",))
    assert float(res.gdp_gain_total) == 0.0
    assert float(res.gdp_loss_gross_total) == float(res.gdp_loss_total)
