"""The MRIO engine on a one-way linked MRIO equals the single-region engine (issue 18, "the
two paths agree where they should"; docs/mrio.md, "The single-region engine as a special
case").

Japan buys intermediate and final goods from CHN and ROW inside the MRIO, which buy nothing
from Japan.  A CHN export cut to Japan (``ExportCut``, ``destinations = ["JPN"]``) equals the
single-region engine's ``ImportCut(origin="CHN")`` on Japan's own table to 1e-12 relative,
under the correspondence stated in the docs: import proportionality, the cut product from the
cut origin alone, foreign suppliers with spare capacity, and ``alpha_max = 1`` unless the cut
lasts the whole run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore import tables as tb
from simcore.dynamic.params import DynamicParams

from mrio_oneway import one_way_mrio, paired_shocks, single_params, spare_capacity
from test_dynamic import random_table

REC = ("output", "final_demand_unmet")


def _both(t1, m, s1, sm, base, T):
    k = s1[0].product
    r1 = sc.simulate(t1, s1, params=single_params(base, k), days=T, record=REC)
    rm = sc.simulate(m, sm + spare_capacity(m, T), params=base, days=T, record=REC)
    return r1, rm


def _assert_japan_equal(t1, r1, rm, k):
    """Japan's results equal to 1e-12 relative.  A loss is a difference of outputs, so a
    loss near zero is compared to 1e-12 of the level it is taken from: Japan's GDP over
    the run (cumulative losses), a day's GDP (daily losses), a day's output (outputs)."""
    jp = rm.sel(region="JPN")
    T = r1.sizes["time"]
    gdp_day = float(tb.gdp(t1)) / 365.0
    x_day = float(r1.output_baseline.sum())
    for var in ("value_added_loss", "output_loss", "output_loss_demand"):
        b = r1[var].values
        scale = gdp_day * T if var == "value_added_loss" else x_day * T
        np.testing.assert_allclose(jp[var].values, b, rtol=1e-12, atol=1e-12 * scale)
    b = r1.output.values
    np.testing.assert_allclose(jp.output.values, b, rtol=1e-12, atol=1e-12 * x_day)
    b = r1.gdp_loss.values
    np.testing.assert_allclose(rm.gdp_loss_region.sel(region="JPN").values, b, rtol=1e-12,
                               atol=1e-12 * gdp_day)
    assert float(rm.gdp_loss_by_region.sel(region="JPN")) == pytest.approx(
        float(r1.gdp_loss_total), rel=1e-12, abs=1e-12 * gdp_day * T)
    # Japan's unmet final demand for the cut product: on its own node in the single-region
    # result, split between Japan's producer and China's (the cut link's) in the MRIO
    fdu = jp.final_demand_unmet.values.copy()
    fdu[:, list(r1.sector.values).index(k)] += rm.final_demand_unmet.sel(
        region="CHN", sector=k).values
    b = r1.final_demand_unmet.values
    np.testing.assert_allclose(fdu, b, rtol=1e-12, atol=1e-12 * x_day)


@pytest.mark.parametrize("rationing", ["proportional", "firms_first"])
def test_one_way_mrio_export_cut_equals_single_region_import_cut(rationing):
    t1 = random_table(3, n=5)
    codes = [str(c) for c in t1.sector.values]
    k = codes[1]
    m = one_way_mrio(t1, k, np.linspace(0.2, 0.9, 5), seed=3)
    base = DynamicParams(inventory_days=10.0, inventory_tau=5.0, dependency=0.8,
                         dependency_by_product={codes[2]: 0.3},
                         elasticity_by_product={codes[4]: 0.5}, rationing=rationing)
    s1, sm = paired_shocks(codes, k, 0.8, 3, 30, cap=(codes[3], 0.3), dem=(codes[0], -0.2))
    r1, rm = _both(t1, m, s1, sm, base, 150)
    _assert_japan_equal(t1, r1, rm, k)
    assert float(r1.gdp_loss_share) > 1e-4  # not vacuous
    # the foreign regions lose too (China's exports and its spare-capacity setting)
    assert float(rm.gdp_loss_by_region.sel(region="CHN")) > 0


def test_spare_capacity_and_single_origin_are_needed():
    """Without the foreign suppliers' spare capacity, or with the cut product also bought
    from ROW, the two models differ: the settings are what makes them the same model."""
    t1 = random_table(0, n=5)
    codes = [str(c) for c in t1.sector.values]
    k = codes[1]
    m = one_way_mrio(t1, k, np.linspace(0.2, 0.9, 5), seed=0)
    base = DynamicParams(inventory_days=10.0, inventory_tau=5.0, dependency=0.8)
    T = 120
    s1, sm = paired_shocks(codes, k, 0.8, 3, 30, cap=(codes[3], 0.3))
    r1 = sc.simulate(t1, s1, params=single_params(base, k), days=T, record=())
    same = sc.simulate(m, sm + spare_capacity(m, T), params=base, days=T, record=())
    tight = sc.simulate(m, sm, params=base, days=T, record=())
    g1 = float(r1.gdp_loss_total)
    assert float(same.gdp_loss_by_region.sel(region="JPN")) == pytest.approx(g1, rel=1e-12)
    assert abs(float(tight.gdp_loss_by_region.sel(region="JPN")) / g1 - 1) > 1e-7
    # alpha_max > 1 with a cut that ends inside the run: China's producer of the cut
    # product grows its capacity after the cut, the single-region import stays at baseline
    b2 = dataclasses.replace(base, alpha_max=1.2)
    r1b = sc.simulate(t1, s1, params=single_params(b2, k), days=T, record=())
    rmb = sc.simulate(m, sm + spare_capacity(m, T), params=b2, days=T, record=())
    assert abs(float(rmb.gdp_loss_by_region.sel(region="JPN")) / float(r1b.gdp_loss_total)
               - 1) > 1e-7
    # the cut product also bought from ROW: the single-region import pool lets ROW's
    # unused baseline volume cover China's shortfall, the MRIO does not redirect orders
    m2 = one_way_mrio(t1, k, np.linspace(0.2, 0.9, 5), seed=0, cut_from_chn=0.6)
    r12 = sc.simulate(t1, s1, params=dataclasses.replace(base, import_origins={k: {"CHN": 0.6}}),
                      days=T, record=())
    rm2 = sc.simulate(m2, sm + spare_capacity(m2, T), params=base, days=T, record=())
    assert abs(float(rm2.gdp_loss_by_region.sel(region="JPN")) / float(r12.gdp_loss_total)
               - 1) > 1e-6
    # ... and equal again when the cut lasts the whole run
    s1w, smw = paired_shocks(codes, k, 0.8, 0, T + 1, cap=(codes[3], 0.3))
    r1w, rmw = _both(t1, m, s1w, smw, b2, T)
    _assert_japan_equal(t1, r1w, rmw, k)


@st.composite
def cases(draw):
    seed = draw(st.integers(0, 10_000))
    n = draw(st.integers(2, 5))
    t1 = random_table(seed, n=n)
    codes = [str(c) for c in t1.sector.values]
    k = codes[draw(st.integers(0, n - 1))]
    chn = [draw(st.floats(0.0, 1.0)) for _ in range(n)]
    m = one_way_mrio(t1, k, chn, seed=seed)
    T = draw(st.integers(20, 120))
    whole = draw(st.booleans())
    if whole:
        start, dur = 0.0, float(T + 1)
    else:
        start, dur = draw(st.floats(0.0, 10.0)), draw(st.floats(1.0, 60.0))
    cap = (codes[draw(st.integers(0, n - 1))], draw(st.floats(0.0, 0.6))) \
        if draw(st.booleans()) else None
    others = [c for c in codes if c != k]
    dem = (draw(st.sampled_from(others)), draw(st.floats(-0.5, 0.3))) \
        if others and draw(st.booleans()) else None
    s1, sm = paired_shocks(codes, k, draw(st.floats(0.05, 1.0)), start, dur, cap=cap, dem=dem)
    base = DynamicParams(
        inventory_days=draw(st.floats(2.0, 30.0)),
        inventory_tau=draw(st.floats(2.0, 20.0)),
        dependency=draw(st.floats(0.0, 1.0)),
        rationing=draw(st.sampled_from(["proportional", "firms_first"])),
        elasticity_by_product={codes[0]: draw(st.sampled_from([0.0, 0.3, 1.0, 2.0]))},
        alpha_max=draw(st.sampled_from([1.0, 1.25])) if whole else 1.0,
    )
    return t1, m, s1, sm, base, T, k


@settings(max_examples=25, deadline=None)
@given(case=cases())
def test_one_way_mrio_equals_single_region_on_random_tables(case):
    t1, m, s1, sm, base, T, k = case
    r1, rm = _both(t1, m, s1, sm, base, T)
    _assert_japan_equal(t1, r1, rm, k)
