"""Numerical stability: 10-year horizons, extreme shocks, and the time-constant scan.

* Zero shock over 10 years on both Japanese tables: the steady state holds to round-off.
* A 100 % cut of a product every sector of Japan-37 uses (transport ``57`` by capacity,
  chemicals ``20`` by imports), for up to a year, then 10 years: no NaN, no negative output
  or stock, back at baseline.
* ``inventory_tau`` scan 1..60 days (MODELS.md P1 and test 10), with and without
  overproduction: the number of sign changes of aggregate output minus baseline after the
  shock ends is reported (``-s`` prints the table; ``docs/robustness.md`` has it) and the
  documented stable ranges are asserted.
* Known instabilities found here are ``xfail(strict=True)`` with the mechanism described.
"""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore import tables as tb
from simcore.dynamic.params import DynamicParams

TEN_YEARS = 3650


@pytest.fixture(scope="module")
def prep37(japan37):
    return sc.dynamic.prepare_model(japan37)


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
# inventory_tau scan (MODELS.md P1, test 10)
# --------------------------------------------------------------------------------------
TAUS = tuple(range(1, 61))
#: Horizon of the scan: 3 years (every run is back at baseline by then; 10-year runs give
#: the same sign-change counts, at 3x the cost).
SCAN_DAYS = 1095
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
    """With overproduction (alpha_max 1.25, alpha_tau 30 d) tau <= 2 oscillates; tau >= 5
    gives at most one overshoot; the stable range documented in docs/robustness.md."""
    for n in (7.0, 30.0):
        assert tau_scan[1.25, n, 1][0] >= 4
        assert tau_scan[1.25, n, 2][0] >= 3
        assert all(tau_scan[1.25, n, t][0] <= 1 for t in TAUS if t >= 5)


# --------------------------------------------------------------------------------------
# Instabilities found.  The partial-dependency ones (marginal use A/theta) were fixed by
# using min(A x, S) as the stock use; the remaining ones are xfail until fixed.
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


def test_zero_shock_japan37_low_dependency(prep37):
    p = DynamicParams(inventory_days=1.0, inventory_tau=10.0, dependency=0.4)
    res = sc.simulate(prep37, [], params=p, days=TEN_YEARS, record=("output",))
    assert abs(float(res.gdp_loss_share)) < 1e-9


def test_half_cut_recovers_with_partial_dependency():
    p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=0.5,
                      rationing="proportional")
    t = _one_sector(0.5)
    half = sc.simulate(t, sc.CapacityShock(sector="s0", share=0.5, duration=1.0), params=p,
                       days=365)
    assert half.attrs["recovered"] == 1


@pytest.mark.xfail(strict=True, reason=(
    "engine: inventory_days = 1 with inventory_tau = 1 traps the economy below baseline: "
    "after a 30-day 100 % cut of transport (Japan-37) output is still ~1e-4 below "
    "baseline 10 years later (tau = 2 recovers).  BoARIO resets inventory durations <= 1 "
    "step to 2 (MODELS.md P6); simcore accepts n = 1 and tau = 1"))
def test_one_day_stock_with_one_day_tau_recovers(prep37):
    p = DynamicParams(inventory_days=1.0, inventory_tau=1.0)
    res = sc.simulate(prep37, SHOCK, params=p, days=TEN_YEARS, record=("output",))
    assert res.attrs["recovered"] == 1
