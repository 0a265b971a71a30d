"""Property tests of the supply-chain engine on random small multi-regional tables.

Tables are drawn by ``random_mrio`` of ``tests/test_mrio.py`` from a hypothesis-drawn seed,
size and trade share (balanced and productive by construction: input coefficients' column
sums 0.2-0.6, final demand non-negative); shocks and parameters are drawn by hypothesis.
Properties: no shock, no loss; losses grow with the export cut; the numba kernel agrees with
the numpy oracle (simcore.dynamic._mrio_reference) to 1e-12.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore.dynamic import mrio as mr
from simcore.dynamic._mrio_reference import run_mrio_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_mrio import _compare, dense_inputs, random_mrio, random_scenario  # noqa: E402

_share = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)


@st.composite
def mrios(draw):
    seed = draw(st.integers(0, 10_000))
    R = draw(st.integers(2, 4))
    n = draw(st.integers(2, 5))
    trade = draw(st.floats(0.05, 0.8))
    outside = draw(st.booleans())
    return random_mrio(seed, R=R, n=n, trade=trade, outside=outside)


@st.composite
def params(draw):
    return sc.DynamicParams(
        inventory_days=draw(st.floats(1.5, 30.0)),
        inventory_tau=draw(st.floats(2.0, 20.0)),
        dependency=draw(st.floats(0.0, 1.0)),
        rationing=draw(st.sampled_from(["proportional", "firms_first"])),
    )


@settings(max_examples=20, deadline=None)
@given(t=mrios(), p=params())
def test_no_shock_no_loss(t, p):
    res = sc.simulate(t, [], params=p, days=120, record=("output",))
    assert abs(float(res.gdp_loss_total)) <= 1e-9 * float(res.region_gdp.sum())
    np.testing.assert_allclose(res.output.values[-1], res.output_baseline.values, rtol=1e-10)


@settings(max_examples=20, deadline=None)
@given(t=mrios(), p=params(), a=_share, b=_share, data=st.data())
def test_losses_grow_with_the_export_cut(t, p, a, b, data):
    lo, hi = min(a, b), max(a, b)
    regions = [str(r) for r in t.region.values]
    prods = [str(s) for s in t.sector.values]
    origin = data.draw(st.sampled_from(regions))
    prod = data.draw(st.sampled_from(prods))
    dur = data.draw(st.floats(1.0, 60.0))
    prep = mr.prepare_mrio(t)

    def loss(s):
        cut = sc.ExportCut(product=prod, origin=origin, share=s, duration=dur)
        return float(sc.simulate(prep, cut, params=p, days=150, record=()).gdp_loss_total)

    scale = float(prep.gdp_region.sum())
    la, lb = loss(lo), loss(hi)
    assert la <= lb + 1e-9 * scale
    assert loss(0.0) <= la + 1e-9 * scale


@settings(max_examples=15, deadline=None)
@given(t=mrios(), seed=st.integers(0, 10_000))
def test_kernel_matches_oracle(t, seed):
    shocks, p = random_scenario(seed, t)
    T = 40
    prep, dense = dense_inputs(t, shocks, p, T)
    res = sc.simulate(prep, shocks, params=p, days=T,
                      record=("output", "final_demand_unmet", "imports"))
    ora = run_mrio_reference(**dense, firms_first=p.rationing == "firms_first",
                             alpha_max=p.alpha_max, alpha_tau=p.alpha_tau)
    _compare(res, ora, prep)
