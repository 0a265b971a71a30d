"""Property tests of simcore.static on random balanced, productive tables.

Tables come from ``tests/strategies.py`` (``A >= 0`` with column sums below 0.9, positive
output and value added, competitive imports up to 90 % of domestic use).  Tolerances are
relative to the size of the quantities compared: the tables are small and well conditioned
(``||A||_1 < 0.9``, so ``cond(I - A) < 19``), so linear solves are exact to ~1e-13 and
1e-9 leaves a wide margin; the LP is solved by HiGHS to its default feasibility tolerance
(1e-7), hence 1e-6 there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import simcore as sc
from simcore import static

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import permute_sectors, productive_tables, scale_money  # noqa: E402

# Subnormal shocks only test floating-point underflow (a loss share of 1e-313 loses digits).
_amount = st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
_signed = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
_ratio = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _close(a, b, rtol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-300)
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)


def _vector(draw, table, elements):
    return draw(hnp.arrays(np.float64, table.x.size, elements=elements))


@st.composite
def table_and_vectors(draw, elements=_signed, k=2, **kwargs):
    t = draw(productive_tables(**kwargs))
    return (t, *[_vector(draw, t, elements) for _ in range(k)])


# --------------------------------------------------------------------------------------
# Linear models
# --------------------------------------------------------------------------------------
@given(table_and_vectors(), st.floats(-3, 3), st.floats(-3, 3))
def test_leontief_is_linear(tv, a, b):
    t, dy1, dy2 = tv
    for domestic in (False, True):
        lhs = static.leontief(t, a * dy1 + b * dy2, domestic=domestic).values
        rhs = (a * static.leontief(t, dy1, domestic=domestic).values
               + b * static.leontief(t, dy2, domestic=domestic).values)
        _close(lhs, rhs)


@given(productive_tables())
def test_zero_shock_zero_change(t):
    zero = np.zeros(t.x.size)
    assert np.all(static.leontief(t, zero).values == 0.0)
    assert np.all(static.ghosh(t, zero).values == 0.0)
    assert np.all(static.iim_demand(t, zero).values == 0.0)
    assert np.all(static.leontief_price(t, zero).values == 0.0)
    wl = static.weakest_link(t)
    assert np.all(wl.rho.values == 1.0) and float(wl.gdp_loss) == 0.0
    lp = static.lp_best_case(t)
    assert abs(float(lp.gdp_loss_share)) < 1e-6
    _close(lp.x.values, t.x.values, rtol=1e-6)


def _nonnegative(a, rtol=1e-12):
    """All >= 0 up to rounding: LU with pivoting may turn an exact 0 into -1e-17."""
    a = np.asarray(a)
    return bool(np.all(a >= -rtol * np.abs(a).max(initial=0.0)))


@given(table_and_vectors(elements=_amount, k=1))
def test_nonnegative_shock_nonnegative_response(tv):
    t, dy = tv
    for domestic in (False, True):
        assert _nonnegative(static.leontief(t, dy, domestic=domestic).values)
    assert _nonnegative(static.ghosh(t, dy).values)
    assert _nonnegative(static.iim_demand(t, dy).values)
    assert _nonnegative(static.iim_supply(t, dy).values)
    m = static.output_multipliers(t).values
    assert np.all(m >= 1.0 - 1e-12)


@given(productive_tables())
def test_balance_identities(t):
    """L f = x, v' G = x', and the mixed model with x_bar_E = x_E0 is the baseline."""
    x = t.x.values
    _close(static.leontief(t, sc.tables.final_demand_total(t)).values, x)
    _close(static.ghosh(t, t.V.sum("va_item")).values, x)
    fixed = {str(s): float(v) for s, v in zip(t.sector.values[::2], x[::2], strict=True)}
    _close(static.mixed_model(t, fixed).x.values, x)
    _close(static.mixed_model(t, fixed, domestic=True).x.values, x)


@given(productive_tables(max_n=3, multiregional=True))
def test_balance_identities_multiregional(t):
    x = t.x.values
    assert static.leontief(t, sc.tables.final_demand_total(t)).dims == ("region", "sector")
    _close(static.leontief(t, sc.tables.final_demand_total(t)).values, x)
    _close(static.ghosh(t, t.V.sum("va_item")).values, x)


# --------------------------------------------------------------------------------------
# Invariances
# --------------------------------------------------------------------------------------
@st.composite
def table_vector_permutation(draw, **kwargs):
    t, dy = draw(table_and_vectors(elements=_amount, k=1, **kwargs))
    perm = draw(st.permutations(range(t.sizes["sector"])))
    r = _vector(draw, t, _ratio)
    return t, dy, perm, r


@given(table_vector_permutation())
def test_invariant_to_sector_order(tpr):
    t, dy, perm, r = tpr
    tp = permute_sectors(t, perm)
    dy_lab = sc.tables._wrap_vector(t, dy, "dy")
    dx = static.leontief(t, dy_lab)
    dxp = static.leontief(tp, dy_lab)  # labels, not positions, carry the shock
    assert list(dxp.sector.values) == list(tp.sector.values)
    _close(dxp.sel(sector=dx.sector).values, dx.values)
    for fn in (static.output_multipliers, static.value_added_multipliers,
               static.import_multipliers, static.backward_linkages, static.forward_linkages):
        _close(fn(tp).sel(sector=t.sector).values, fn(t).values)
    ratio = sc.tables._wrap_vector(t, r, "r")
    wl, wlp = (static.weakest_link(s, import_ratio=ratio) for s in (t, tp))
    _close(wlp.rho.sel(sector=t.sector).values, wl.rho.values)
    lp, lpp = (static.lp_best_case(s, import_ratio=ratio) for s in (t, tp))
    # The LP optimum value is unique, its solution need not be.
    assert abs(float(lp.gdp_loss_share) - float(lpp.gdp_loss_share)) < 1e-6


@given(table_vector_permutation(max_n=3, multiregional=True))
def test_invariant_to_sector_order_multiregional(tpr):
    t, dy, perm, _ = tpr
    tp = permute_sectors(t, perm)
    dy_lab = sc.tables._wrap_vector(t, dy, "dy")
    dx, dxp = static.leontief(t, dy_lab), static.leontief(tp, dy_lab)
    _close(dxp.sel(sector=dx.sector).transpose(*dx.dims).values, dx.values)


@given(table_and_vectors(elements=_signed, k=1), st.sampled_from([1e-3, 0.37, 1000.0, 1e6]),
       _ratio)
def test_invariant_to_unit_of_money(tv, k, r):
    t, dy = tv
    tk = scale_money(t, k)
    _close(static.leontief(tk, k * dy).values, k * static.leontief(t, dy).values)
    _close(static.ghosh(tk, k * dy).values, k * static.ghosh(t, dy).values)
    for fn in (static.output_multipliers, static.value_added_multipliers,
               static.import_multipliers, static.backward_linkages, static.forward_linkages):
        _close(fn(tk).values, fn(t).values)
    _close(static.iim_demand(tk, k * np.abs(dy)).values, static.iim_demand(t, np.abs(dy)).values)
    assert np.array_equal(static.weakest_link(tk, import_ratio=r).rho.values,
                          static.weakest_link(t, import_ratio=r).rho.values)
    a = float(static.lp_best_case(tk, import_ratio=r).gdp_loss_share)
    b = float(static.lp_best_case(t, import_ratio=r).gdp_loss_share)
    assert abs(a - b) < 1e-6
    share_k = float(static.gdp_loss_share(tk, -k * np.abs(dy)))
    share_1 = float(static.gdp_loss_share(t, -np.abs(dy)))
    assert abs(share_k - share_1) <= 1e-9 * abs(share_k) + 1e-300


# --------------------------------------------------------------------------------------
# Supply-constrained solutions
# --------------------------------------------------------------------------------------
@st.composite
def cut(draw, **kwargs):
    """A table, a pair of import-ratio vectors r_lo <= r_hi, and capacity ratios."""
    t = draw(productive_tables(**kwargs))
    r_lo = _vector(draw, t, _ratio)
    u = _vector(draw, t, _ratio)
    cap = _vector(draw, t, st.sampled_from([1.0, 1.0, 0.5, 0.9]))
    return t, r_lo, r_lo + (1.0 - r_lo) * u, cap


@given(cut())
def test_weakest_link_bounded_and_monotone(c):
    t, r_lo, r_hi, cap = c
    lo = static.weakest_link(t, import_ratio=r_lo, capacity_ratio=cap).rho.values
    hi = static.weakest_link(t, import_ratio=r_hi, capacity_ratio=cap).rho.values
    assert np.all((lo >= 0) & (lo <= 1)) and np.all((hi >= 0) & (hi <= 1))
    assert np.all(lo <= hi)
    # Every ratio is one of the imposed ratios (or 1): propagation only copies minima.
    allowed = set(np.concatenate([r_lo, cap, [1.0]]).tolist())
    assert set(lo.tolist()) <= allowed
    # And an industry never beats its own capacity.
    assert np.all(lo <= cap)
    lp_lo = float(static.lp_best_case(t, import_ratio=r_lo, capacity_ratio=cap).gdp_loss)
    lp_hi = float(static.lp_best_case(t, import_ratio=r_hi, capacity_ratio=cap).gdp_loss)
    assert lp_hi <= lp_lo + 1e-6 * sc.tables.gdp(t)


def _lp_feasible(t, x, r, cap, tol=1e-7):
    """Whether output x is feasible for lp_best_case's programme (see its docstring)."""
    f = sc.tables.flat(t)
    x0 = f["x"]
    A = f["Z"] / x0[None, :]
    mu = sc.tables.import_shares(t).values.reshape(-1)
    Ad, Am = (1 - mu)[:, None] * A, mu[:, None] * A
    y0 = x0 - Ad @ x0
    fm = mu * f["Y"].sum(1)
    y = x - Ad @ x
    s = tol * x0.max()
    return bool(np.all(y >= np.minimum(0, y0) - s) and np.all(y <= np.maximum(0, y0) + s)
                and np.all(Am @ x <= r * (Am @ x0 + fm) - np.minimum(0, fm) + s)
                and np.all(x <= cap * x0 + s))


@given(cut())
def test_lp_is_the_best_case(c):
    """LP GDP >= the GDP of any LP-feasible state.

    Two such states always exist: uniform scaling by the smallest ratio, and the baseline
    when nothing is cut.  S1 and S1 + mixed are compared only when their state is feasible:
    S1 lets a supplier keep producing for customers that can no longer use its output (see
    ``test_pure_chain`` in tests/test_static.py for a case where S1's GDP exceeds the LP's),
    so 'LP >= weakest link' is not a theorem.
    """
    t, r, _, cap = c
    gdp0 = sc.tables.gdp(t)
    lp = static.lp_best_case(t, import_ratio=r, capacity_ratio=cap)
    lp_gdp = gdp0 - float(lp.gdp_loss)
    tol = 1e-6 * gdp0
    assert lp_gdp <= gdp0 + tol
    assert _lp_feasible(t, lp.x.values, r, cap, tol=1e-6)
    s = min(r.min(), cap.min())
    assert lp_gdp >= s * gdp0 - tol
    for model in (static.weakest_link, static.weakest_link_mixed):
        res = model(t, import_ratio=r, capacity_ratio=cap)
        if _lp_feasible(t, res.x.values, r, cap):
            assert lp_gdp >= gdp0 - float(res.gdp_loss) - tol
