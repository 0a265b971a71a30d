"""Tests of simcore.static: textbook references, model identities, the supply-constrained
solutions, the Japan tables and input validation.

Reference values cite their source; identities are the textbook identities of Miller & Blair (2009,
ch. 2, 6 and 12).  Tolerances:
textbook values are printed to 2 or 3 decimals, so they are compared to half a unit in the
last printed digit; identities are exact in exact arithmetic and are compared at 1e-10
relative (1e-6 on the Japan tables, whose flows are ~1e8 and whose L has condition number
~1e2, leaving far more room than needed).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import simcore as sc
from simcore import static
from simcore.errors import LabelError, NonProductiveError, ParameterError, ShockError


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def _build(A, Y, mu=None, E=None, sectors=None, x=None):
    """A balanced single-region table from coefficients, final demand and import shares.

    Output solves the domestic system ``x = (I - (I - mu^) A)^-1 ((I - mu^) Y + E)``;
    imports are ``M = mu (Z 1 + Y)``.  Pass ``x`` to use given outputs instead (then ``Y``
    must balance).
    """
    A = np.asarray(A, float)
    p = A.shape[0]
    Y = np.asarray(Y, float)
    mu = np.zeros(p) if mu is None else np.asarray(mu, float)
    E = np.zeros(p) if E is None else np.asarray(E, float)
    if x is None:
        x = np.linalg.solve(np.eye(p) - (1 - mu)[:, None] * A, (1 - mu) * Y + E)
    Z = A * np.asarray(x, float)[None, :]
    M = mu * (Z.sum(1) + Y)
    V = np.asarray(x, float) - Z.sum(0)
    return sc.tables.from_arrays(Z, Y, V[None, :], x=x, E=E, M=M,
                                 sectors=sectors or [f"s{i}" for i in range(p)], unit="money")


@pytest.fixture(scope="module")
def chain():
    """Import -> parts (sole user) -> cars (sole user of parts) -> final demand.

    ``ree`` is wholly imported (no domestic output); services sell to parts, cars, itself
    and households and buy nothing from the chain.  A hand-built version of the
    section 7, test 4.
    """
    #            ree    parts  cars   serv
    Z = np.array([[0.0, 100.0, 0.0, 0.0],     # ree (imported)
                  [0.0, 0.0, 200.0, 0.0],     # parts
                  [0.0, 0.0, 0.0, 0.0],       # cars
                  [0.0, 50.0, 100.0, 50.0]])  # services
    Y = np.array([[0.0], [0.0], [1000.0], [800.0]])
    x = np.array([0.0, 200.0, 1000.0, 1000.0])
    V = x - Z.sum(0)
    return sc.tables.from_arrays(Z, Y, V[None, :], x=x, M=[100.0, 0, 0, 0],
                                 sectors=["ree", "parts", "cars", "serv"], unit="money")


@pytest.fixture(scope="module")
def ring():
    """Three sectors in a strongly connected ring; only s1 uses the imported product s0,
    which has no final demand (so the LP cannot spare imports by cutting households)."""
    A = [[0.0, 0.2, 0.0],
         [0.0, 0.1, 0.3],
         [0.3, 0.1, 0.0]]
    return _build(A, Y=[0.0, 200.0, 300.0], mu=[0.5, 0.0, 0.0])


@pytest.fixture(scope="module")
def mrio():
    """A 2-region x 2-sector table with exports and imports to the rest of the world."""
    A = np.array([[0.10, 0.20, 0.05, 0.00],
                  [0.15, 0.05, 0.00, 0.10],
                  [0.02, 0.00, 0.20, 0.10],
                  [0.00, 0.05, 0.15, 0.05]])
    Y = np.array([[50.0, 10.0], [40.0, 0.0], [5.0, 60.0], [0.0, 70.0]])
    E = np.array([10.0, 20.0, 5.0, 0.0])
    x = np.linalg.solve(np.eye(4) - A, Y.sum(1) + E)
    Z = A * x[None, :]
    V = x - Z.sum(0)
    return sc.tables.from_arrays(Z, Y, V[None, :], x=x, E=E, regions=["JP", "CN"],
                                 sectors=["a", "b"], unit="money")


def _flatL(t):
    return sc.tables.leontief_inverse(t).values.reshape(t.x.size, t.x.size)


def _f_total(t):
    return sc.tables.final_demand_total(t)


# --------------------------------------------------------------------------------------
# Miller & Blair (2009), Table 2.3
# --------------------------------------------------------------------------------------
def test_miller_blair_coefficients_and_inverse(mb23):
    """Miller & Blair (2009), Input-Output Analysis, 2nd ed., section 2.3, Table 2.3.

    Z = [[150, 500], [200, 100]], x = (1000, 2000), f = (350, 1700) give
    A = [[.15, .25], [.2, .05]] and L = (1/0.7575) [[0.95, 0.25], [0.2, 0.85]]
    = [[1.254, 0.330], [0.264, 1.122]] as printed (3 decimals).
    """
    A = sc.tables.technical_coefficients(mb23).values
    np.testing.assert_allclose(A, [[0.15, 0.25], [0.2, 0.05]], rtol=1e-12)
    L = _flatL(mb23)
    np.testing.assert_allclose(L, np.array([[0.95, 0.25], [0.2, 0.85]]) / 0.7575, rtol=1e-12)
    np.testing.assert_allclose(L, [[1.254, 0.330], [0.264, 1.122]], atol=5e-4)
    # leontief() on unit vectors gives the columns of L without forming it.
    dx = static.leontief(mb23, xr.DataArray(np.eye(2), dims=("sector", "shock"),
                                            coords={"sector": ["1", "2"], "shock": [0, 1]}))
    assert dx.dims == ("sector", "shock")
    np.testing.assert_allclose(dx.values, L, rtol=1e-12)


def test_miller_blair_multipliers_and_new_final_demand(mb23):
    """Miller & Blair (2009), sections 2.3 and 2.6: output multipliers (1.518, 1.452);
    the new final demand f = (600, 1500) gives x = (1247.52, 1841.58)."""
    m = static.output_multipliers(mb23)
    np.testing.assert_allclose(m.values, [1.518, 1.452], atol=5e-4)
    assert m.attrs["units"] == "1" and "multiplier" in m.attrs["long_name"]
    x = static.leontief(mb23, {"1": 600, "2": 1500})
    np.testing.assert_allclose(x.values, [1247.52, 1841.58], atol=5e-3)
    assert x.attrs["units"] == mb23.attrs["unit"]
    assert list(x.sector.values) == ["1", "2"]


def test_miller_blair_ghosh(mb23):
    """Miller & Blair (2009), section 12.1 on the same table: B = x^-1 Z =
    [[.15, .5], [.1, .05]] and G = (I - B)^-1 = x^-1 L x."""
    B = sc.tables.allocation_coefficients(mb23).values
    np.testing.assert_allclose(B, [[0.15, 0.5], [0.1, 0.05]], rtol=1e-12)
    G = sc.tables.ghosh_inverse(mb23).values
    x = mb23.x.values
    np.testing.assert_allclose(G, _flatL(mb23) * x[None, :] / x[:, None], rtol=1e-12)
    # ghosh() on unit primary-input changes gives the rows of G.
    for i, s in enumerate(["1", "2"]):
        np.testing.assert_allclose(static.ghosh(mb23, {s: 1.0}).values, G[i], rtol=1e-12)


def test_miller_blair_linkages(mb23):
    """Rasmussen indices: column sums of L and row sums of G, normalised by their mean."""
    L = _flatL(mb23)
    G = sc.tables.ghosh_inverse(mb23).values
    bl = static.backward_linkages(mb23)
    np.testing.assert_allclose(bl.values, L.sum(0) / L.sum(0).mean(), rtol=1e-12)
    np.testing.assert_allclose(static.backward_linkages(mb23, normalized=False).values,
                               L.sum(0), rtol=1e-12)
    np.testing.assert_allclose(static.forward_linkages(mb23).values,
                               G.sum(1) / G.sum(1).mean(), rtol=1e-12)
    np.testing.assert_allclose(static.forward_linkages(mb23, normalized=False).values,
                               G.sum(1), rtol=1e-12)


def test_miller_blair_extraction(mb23):
    """Hypothetical extraction of sector 1 by hand on Table 2.3 (docs/methodology.md, "Hypothetical
    extraction"; Miller & Lahr 2001)."""
    x0 = mb23.x.values
    A = np.array([[0.15, 0.25], [0.2, 0.05]])
    f = np.array([350.0, 1700.0])
    v = np.array([650.0, 1400.0])
    B = np.array([[0.15, 0.5], [0.1, 0.05]])
    Af = A.copy()
    Af[0, :] = Af[:, 0] = 0
    full = np.linalg.solve(np.eye(2) - Af, [0.0, 1700.0])
    Ab = A.copy()
    Ab[:, 0] = 0
    back = np.linalg.solve(np.eye(2) - Ab, f)
    Bf = B.copy()
    Bf[0, :] = 0
    fwd = np.linalg.solve((np.eye(2) - Bf).T, v)
    for kind, expected in (("full", full), ("backward", back), ("forward", fwd)):
        r = static.hypothetical_extraction(mb23, "1", kind=kind)
        np.testing.assert_allclose(r.x.values, expected, rtol=1e-12)
        np.testing.assert_allclose(r.dx.values, expected - x0, rtol=1e-12, atol=1e-9)
        assert float(r.total_linkage) == pytest.approx(x0.sum() - expected.sum(), rel=1e-12)
        assert float(r.total_linkage_share) == pytest.approx(
            (x0.sum() - expected.sum()) / x0.sum(), rel=1e-12)
        assert r.attrs["kind"] == kind and r.attrs["extracted"] == "1"
    assert float(static.hypothetical_extraction(mb23, "1").total_linkage) == pytest.approx(
        3000 - 1700 / 0.95, rel=1e-12)
    # Extracting both sectors removes everything.
    both = static.hypothetical_extraction(mb23, ["1", "2"])
    assert float(both.total_linkage) == pytest.approx(3000.0)


# --------------------------------------------------------------------------------------
# Identities (the textbook identities of Miller & Blair (2009, ch. 2, 6 and 12))
# --------------------------------------------------------------------------------------
@pytest.fixture(params=["mb23", "japan37"])
def table(request):
    return request.getfixturevalue(request.param)


def test_leontief_reproduces_output(table):
    """L f = x with f = Y 1 + E 1 - M 1; and L^d y0 = x with y0 = (I - mu^) Y 1 + E 1."""
    x = table.x.values
    np.testing.assert_allclose(static.leontief(table, _f_total(table)).values, x, rtol=1e-9)
    f = sc.tables.flat(table)
    mu = sc.tables.import_shares(table).values
    y0 = (1 - mu) * f["Y"].sum(1) + f["E"].sum(1)
    np.testing.assert_allclose(static.leontief(table, y0, domestic=True).values, x, rtol=1e-9)


def test_ghosh_reproduces_output(table):
    """v' G = x' with v all primary inputs (the column balance)."""
    v = table.V.sum("va_item")
    np.testing.assert_allclose(static.ghosh(table, v).values, table.x.values, rtol=1e-9)


def test_iim_identities(table):
    """IIM: A* = x^-1 A x = B, q = -x^-1 L df (demand), q' = delta' L (supply)."""
    x = table.x.values
    np.testing.assert_allclose(static.iim_interdependency(table).values,
                               sc.tables.allocation_coefficients(table).values,
                               rtol=1e-10, atol=1e-15)
    rng = np.random.default_rng(1)
    df = -rng.uniform(0, 1, x.size) * np.abs(_f_total(table))
    L = _flatL(table)
    q = static.iim_demand(table, -df)
    np.testing.assert_allclose(q.values, -(L @ df) / x, rtol=1e-8)
    assert q.attrs["units"] == "1"
    np.testing.assert_allclose(static.iim_demand(table, -df / x, relative=True).values,
                               q.values, rtol=1e-10)
    dv = rng.uniform(0, 1, x.size) * x * 0.01
    qs = static.iim_supply(table, dv)
    np.testing.assert_allclose(qs.values, (dv / x) @ L, rtol=1e-8)
    # Supply-side IIM is Ghosh in relative terms.
    np.testing.assert_allclose(qs.values, -static.ghosh(table, -dv).values / x, rtol=1e-8)


def test_ghosh_is_leontief_price(table):
    """Dietzenbacher (1997): (dv' G) x^-1 = (dv' x^-1) L."""
    x = table.x.values
    dv = np.linspace(-1.0, 2.0, x.size) * x * 1e-3
    np.testing.assert_allclose(static.ghosh(table, dv).values / x,
                               static.leontief_price(table, dv / x).values, rtol=1e-8,
                               atol=1e-14)


def test_price_model_baseline_is_one(table):
    """p' = c_all' L = 1' with c_all all value added per unit of output."""
    c_all = (table.V.sum("va_item") / table.x).values
    np.testing.assert_allclose(static.leontief_price(table, c_all).values, 1.0, rtol=1e-9)


@pytest.mark.parametrize("domestic", [False, True])
def test_mixed_model_baseline(table, domestic):
    """Mixed model with x_bar_E = x_E0 reproduces the baseline (docs/methodology.md, "Mixed
    exogenous/endogenous model")."""
    x = table.x.values
    E = {str(s): float(v) for s, v in zip(table.sector.values[::2], x[::2], strict=True)}
    r = static.mixed_model(table, E, domestic=domestic)
    np.testing.assert_allclose(r.x.values, x, rtol=1e-9)
    np.testing.assert_allclose(r.df.values, 0.0, atol=1e-6 * x.max())
    assert r.fixed.values.tolist() == [i % 2 == 0 for i in range(x.size)]


def test_mixed_model_textbook(mb23):
    """Fix x_1 = 900 by hand: x_2 = (1700 + 0.2 * 900) / 0.95, f_1 = 0.85 * 900 - 0.25 x_2."""
    r = static.mixed_model(mb23, {"1": 900})
    x2 = (1700 + 0.2 * 900) / 0.95
    np.testing.assert_allclose(r.x.values, [900, x2], rtol=1e-12)
    np.testing.assert_allclose(r.f.values, [0.85 * 900 - 0.25 * x2, 1700], rtol=1e-12)
    # Everything fixed: x is the given output, f = (I - A) x.
    r = static.mixed_model(mb23, {"1": 500, "2": 1000})
    np.testing.assert_allclose(r.f.values, [0.85 * 500 - 250, -100 + 950], rtol=1e-12)


def test_multiplier_accounting_identity(japan37):
    """With the domestic split, value added + imports per unit of final demand = 1:
    (c_gdp' + c_ohcr' + a^m') L^d = 1' (``ohcr`` is outside GDP, see tables.py)."""
    t = japan37
    va = static.value_added_multipliers(t, domestic=True).values
    im = static.import_multipliers(t, domestic=True).values
    c_out = (t.V.where(~t.in_gdp, 0.0).sum("va_item") / t.x).values
    rest = static.leontief_price(t, c_out, domestic=True).values
    np.testing.assert_allclose(va + im + rest, 1.0, rtol=1e-9)
    assert np.all((im > 0) & (im < 1))
    # Exposure matrix columns add up to the import multipliers.
    X = static.import_exposure(t, domestic=True)
    assert X.dims == ("sector", "sector_to")
    np.testing.assert_allclose(X.sum("sector").values, im, rtol=1e-9)


def test_value_added_multipliers_textbook(mb23):
    """Without imports and with all value added in GDP, c' L = 1'."""
    np.testing.assert_allclose(static.value_added_multipliers(mb23).values, 1.0, rtol=1e-12)
    np.testing.assert_allclose(static.import_multipliers(mb23).values, 0.0)


def test_import_price_pass_through(japan37):
    """dp' = (dpi' A^m) (I - A^d)^-1 (docs/methodology.md, "Leontief price model"; Miller & Blair
    2009, sec. 2.6), against explicit inverses."""
    t = japan37
    A = sc.tables.technical_coefficients(t).values
    mu = sc.tables.import_shares(t).values
    Ad, Am = (1 - mu)[:, None] * A, mu[:, None] * A
    dpi = np.zeros(mu.size)
    dpi[5] = 0.5
    expected = (dpi @ Am) @ np.linalg.inv(np.eye(mu.size) - Ad)
    dp = static.leontief_price(t, import_price=dpi, domestic=True)
    np.testing.assert_allclose(dp.values, expected, rtol=1e-9, atol=1e-15)
    assert np.all(dp.values >= 0) and dp.values.max() < 0.5


# --------------------------------------------------------------------------------------
# Supply-constrained solutions (docs/methodology.md, "S1: the weakest link")
# --------------------------------------------------------------------------------------
def test_weakest_link_strongly_connected(ring):
    """All inputs critical, strongly connected graph: every sector ends at the import
    ratio (docs/methodology.md, "S1: the weakest link": every sector ends at 0.5)."""
    r = static.weakest_link(ring, import_ratio={"s0": 0.5})
    np.testing.assert_allclose(r.rho.values, 0.5)
    assert r.constraint.values.tolist() == ["import:s0"] * 3
    assert float(r.gdp_loss_share) == pytest.approx(0.5)
    assert r.gdp_loss.attrs["units"] == "money"
    # No cut, no loss.
    r0 = static.weakest_link(ring)
    np.testing.assert_allclose(r0.rho.values, 1.0)
    assert float(r0.gdp_loss) == 0.0 and r0.constraint.values.tolist() == [""] * 3


def test_weakest_link_criticality(ring):
    """Declaring s1's import non-critical removes the constraint; a capacity cut
    propagates downstream along critical links only."""
    crit = np.ones((3, 3), bool)
    crit[0, 1] = False
    r = static.weakest_link(ring, import_ratio={"s0": 0.5}, critical=crit)
    np.testing.assert_allclose(r.rho.values, 1.0)
    crit = xr.DataArray(np.zeros((3, 3), bool), dims=("sector", "sector_to"),
                        coords={"sector": ["s0", "s1", "s2"], "sector_to": ["s0", "s1", "s2"]})
    crit.loc["s1", "s2"] = True
    r = static.weakest_link(ring, capacity_ratio={"s1": 0.7}, critical=crit)
    np.testing.assert_allclose(r.rho.values, [1.0, 0.7, 0.7])
    assert r.constraint.values.tolist() == ["", "capacity:s1", "capacity:s1"]


def test_pure_chain(chain):
    """The pure-chain import cut (static side): a 50 % cut of the import sends parts and
    cars to 0.5; S1 + mixed model gives services (800 + 0.25*100 + 0.1*500) / 0.95; the
    LP best case coincides, since nothing can be reallocated in a chain."""
    s1 = static.weakest_link(chain, import_ratio={"ree": 0.5})
    np.testing.assert_allclose(s1.rho.values, [1.0, 0.5, 0.5, 1.0])
    assert s1.constraint.sel(sector="cars").item() == "import:ree"
    two = static.weakest_link_mixed(chain, import_ratio={"ree": 0.5})
    serv = (800 + 0.25 * 100 + 0.1 * 500) / 0.95
    np.testing.assert_allclose(two.x.values, [0.0, 100.0, 500.0, serv], rtol=1e-12)
    np.testing.assert_allclose(two.f.values, [0.0, 0.0, 500.0, 800.0], atol=1e-9)
    assert two.constrained.values.tolist() == [False, True, True, False]
    loss = 0.25 * 100 + 0.7 * 500 + 0.95 * (1000 - serv)
    assert float(two.gdp_loss) == pytest.approx(loss, rel=1e-12)
    assert float(two.va.sum()) == pytest.approx(sc.tables.gdp(chain) - loss, rel=1e-12)
    assert two.va.attrs["units"] == "money"
    lp = static.lp_best_case(chain, import_ratio={"ree": 0.5})
    np.testing.assert_allclose(lp.x.values, two.x.values, rtol=1e-7, atol=1e-6)
    assert float(lp.gdp_loss) == pytest.approx(loss, rel=1e-7)
    assert float(lp.imports_used.sel(sector="ree")) == pytest.approx(50.0, rel=1e-7)
    assert float(lp.import_shadow_price.sel(sector="ree")) > 0
    # S1 alone ignores the upstream leg: services keep their output, so S1 reports a smaller
    # loss than the LP "best case".  S1 is not a bound on the LP; S1 + mixed is.
    assert float(s1.gdp_loss) < float(lp.gdp_loss)


def test_lp_best_case_bounds(ring):
    """LP with no cut reproduces baseline GDP; with a cut its GDP is at least S1's (whose
    state, all sectors at 0.5, is feasible for the LP) and at most the baseline."""
    base = static.lp_best_case(ring)
    np.testing.assert_allclose(base.x.values, ring.x.values, rtol=1e-9)
    assert float(base.gdp_loss) == pytest.approx(0.0, abs=1e-9 * sc.tables.gdp(ring))
    lp = static.lp_best_case(ring, import_ratio={"s0": 0.5})
    s1 = static.weakest_link(ring, import_ratio={"s0": 0.5})
    assert float(lp.gdp_loss) <= float(s1.gdp_loss) * (1 + 1e-9)
    assert 0.0 < float(lp.gdp_loss_share) <= 0.5 + 1e-9
    # The import constraint binds: imports used by industries do not exceed availability.
    used, avail = lp.imports_used.values, lp.imports_available.values
    assert np.all(used + lp.y_m_del.values <= avail + 1e-7 * avail.max())
    np.testing.assert_allclose(lp.y_del.values + (sc.tables.technical_coefficients(ring).values
                               * (1 - sc.tables.import_shares(ring).values)[:, None])
                               @ lp.x.values, lp.x.values, rtol=1e-9)


def test_lp_capacity(mb23):
    """Capacity of sector 1 halved: x_1 = 500 and x_2 limited by 0.25 x_2 <= 0.85 x_1
    (sector 1 cannot sell less than nothing to final demand)."""
    r = static.lp_best_case(mb23, capacity_ratio={"1": 0.5})
    np.testing.assert_allclose(r.x.values, [500.0, 1700.0], rtol=1e-9)
    np.testing.assert_allclose(r.y_del.values, [0.0, 0.95 * 1700 - 100], atol=1e-6)


@pytest.mark.parametrize("name", ["japan37", "japan185"])
def test_lp_and_weakest_link_on_japan(request, name):
    """On the real tables: no cut -> baseline GDP; a uniform 50 % import cut -> S1 sends
    everything to 0.5 (Leontief, all-critical), the LP loses less, and both are ordered."""
    t = request.getfixturevalue(name)
    base = static.lp_best_case(t)
    assert abs(float(base.gdp_loss_share)) < 1e-7
    lp = static.lp_best_case(t, import_ratio=0.5)
    wl = static.weakest_link(t, import_ratio=0.5)
    wm = static.weakest_link_mixed(t, import_ratio=0.5)
    assert float(wl.gdp_loss_share) == pytest.approx(0.5)
    assert float(wm.gdp_loss_share) == pytest.approx(0.5)
    assert 0.0 < float(lp.gdp_loss_share) < float(wm.gdp_loss_share)
    assert np.all(lp.rho.values <= 1 + 1e-7) and np.all(lp.rho.values >= -1e-9)


# --------------------------------------------------------------------------------------
# The Japan tables
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["japan37", "japan185"])
def test_japan_multipliers_and_solve(request, name):
    """Multipliers finite and >= 1; L (Y1 + E1 - M1) = x to 1e-6 relative."""
    t = request.getfixturevalue(name)
    for domestic in (False, True):
        m = static.output_multipliers(t, domestic=domestic).values
        assert np.all(np.isfinite(m)) and np.all(m >= 1.0)
        v = static.value_added_multipliers(t, domestic=domestic).values
        assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v <= 1 + 1e-9))
    x = static.leontief(t, _f_total(t))
    np.testing.assert_allclose(x.values, t.x.values, rtol=1e-6)
    for fn in (static.backward_linkages, static.forward_linkages):
        idx = fn(t).values
        assert np.all(np.isfinite(idx)) and idx.mean() == pytest.approx(1.0)


def test_japan_leontief_labels(japan185):
    """A shock to passenger cars (3511) raises cars most; labelled in, labelled out."""
    dx = static.leontief(japan185, {"3511": 1000.0})
    assert dx.dims == ("sector",) and dx.sector.values[0] == japan185.sector.values[0]
    assert dx.sel(sector="3511").item() >= 1000.0
    assert dx.sel(sector="3511").item() == dx.values.max()
    assert dx.attrs["units"] == "million JPY" and dx.name == "dx"


# --------------------------------------------------------------------------------------
# Loss reporting
# --------------------------------------------------------------------------------------
def test_value_added_loss_and_share(japan37):
    t = japan37
    dx = -0.01 * t.x
    loss = static.value_added_loss(t, dx)
    c = sc.tables.gdp_coefficients(t)
    np.testing.assert_allclose(loss.values, 0.01 * c * t.x.values, rtol=1e-12)
    assert loss.attrs["units"] == "million JPY"
    share = static.gdp_loss_share(t, dx)
    assert float(share) == pytest.approx(0.01, rel=1e-12)
    assert share.attrs["units"] == "1"
    assert float(static.gdp_loss_share(t, dx, denominator=2 * sc.tables.gdp(t))) == \
        pytest.approx(0.005, rel=1e-12)
    by = static.value_added_loss(t, dx, by_component=True)
    assert by.dims == ("component", "sector")
    assert "outside_household_consumption" in by.component.values
    np.testing.assert_allclose(by.sum("component").values, loss.values, rtol=1e-9, atol=1e-6)
    assert float(by.sel(component="outside_household_consumption").sum()) == 0.0


def test_loss_with_extra_dims(mb23):
    dx = xr.DataArray([[-100.0, -200.0], [0.0, -10.0]], dims=("sector", "scenario"),
                      coords={"sector": ["1", "2"], "scenario": ["a", "b"]})
    share = static.gdp_loss_share(mb23, dx)
    assert share.dims == ("scenario",)
    np.testing.assert_allclose(share.values, [65 / 2050, (130 + 7) / 2050], rtol=1e-12)


# --------------------------------------------------------------------------------------
# Multi-regional tables
# --------------------------------------------------------------------------------------
def test_multiregional(mrio):
    A = sc.tables.flat(mrio)["Z"] / mrio.x.values.reshape(-1)[None, :]
    dy = np.array([0.0, 10.0, 0.0, 0.0])
    expected = np.linalg.solve(np.eye(4) - A, dy)
    for shock in ({("JP", "b"): 10.0}, {"JP/b": 10.0}, dy,
                  xr.DataArray([[0.0, 10.0]], dims=("region", "sector"),
                               coords={"region": ["JP"], "sector": ["a", "b"]})):
        dx = static.leontief(mrio, shock)
        assert dx.dims == ("region", "sector")
        np.testing.assert_allclose(dx.values.reshape(-1), expected, rtol=1e-12)
    f = sc.tables.final_demand_total(mrio)
    np.testing.assert_allclose(static.leontief(mrio, f).values, mrio.x.values, rtol=1e-10)
    r = static.hypothetical_extraction(mrio, ("CN", "a"))
    assert r.x.sel(region="CN", sector="a").item() == 0.0
    wl = static.weakest_link(mrio, capacity_ratio={"CN/a": 0.5})
    assert wl.rho.sel(region="CN", sector="a").item() == 0.5
    assert wl.rho.dims == ("region", "sector")
    lp = static.lp_best_case(mrio, capacity_ratio={"CN/a": 0.5})
    assert float(lp.gdp_loss) <= float(static.weakest_link_mixed(
        mrio, capacity_ratio={"CN/a": 0.5}, critical=np.zeros((4, 4), bool)).gdp_loss) + 1e-7
    np.testing.assert_allclose(
        static.ghosh(mrio, mrio.V.sum("va_item")).values, mrio.x.values, rtol=1e-10)


# --------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------
def test_unknown_sector_raises(mb23, mrio):
    with pytest.raises(LabelError, match="'nope'"):
        static.leontief(mb23, {"nope": 1.0})
    with pytest.raises(LabelError, match="'9'"):
        static.leontief(mb23, xr.DataArray([1.0], dims="sector", coords={"sector": ["9"]}))
    with pytest.raises(LabelError, match="'zz'"):
        static.hypothetical_extraction(mb23, "zz")
    with pytest.raises(LabelError, match="'x9'"):
        static.weakest_link(mb23, import_ratio={"x9": 0.5})
    with pytest.raises(LabelError, match="'XX/a'"):
        static.leontief(mrio, {"XX/a": 1.0})
    with pytest.raises(LabelError, match="'US'"):
        static.leontief(mrio, xr.DataArray([[1.0]], dims=("region", "sector"),
                                           coords={"region": ["US"], "sector": ["a"]}))
    with pytest.raises(KeyError):  # LabelError is a KeyError too
        static.mixed_model(mb23, {"3": 1.0})


def test_bad_shapes_and_values_raise(mb23, mrio):
    with pytest.raises(ShockError, match="dy: expected 2 values"):
        static.leontief(mb23, [1.0, 2.0, 3.0])
    with pytest.raises(ShockError, match="dy: non-finite value for sector '2'"):
        static.leontief(mb23, [1.0, np.nan])
    with pytest.raises(ShockError, match="dv"):
        static.ghosh(mb23, "1")
    with pytest.raises(ShockError, match="not a number"):
        static.leontief(mb23, {"1": "a lot"})
    with pytest.raises(ShockError, match=r"dims \('region', 'sector'\)"):
        static.leontief(mrio, xr.DataArray([1.0, 2.0], dims="sector",
                                           coords={"sector": ["a", "b"]}))
    with pytest.raises(ShockError, match="unexpected dims"):
        static.weakest_link(mb23, capacity_ratio=xr.DataArray(
            [[0.5, 0.5]], dims=("scenario", "sector"), coords={"sector": ["1", "2"]}))
    with pytest.raises(ShockError, match="critical: expected a \\(2, 2\\)"):
        static.weakest_link(mb23, critical=np.ones((3, 3), bool))


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_ratio_outside_unit_interval_raises(mb23, bad):
    with pytest.raises(ShockError, match="import_ratio: .*sector '2'"):
        static.weakest_link(mb23, import_ratio={"2": bad})
    with pytest.raises(ShockError, match="capacity_ratio"):
        static.lp_best_case(mb23, capacity_ratio=bad)
    with pytest.raises(ShockError, match="capacity_ratio"):
        static.weakest_link_mixed(mb23, capacity_ratio=[1.0, bad])


def test_bad_parameters_raise(mb23, japan37):
    with pytest.raises(ParameterError, match="kind"):
        static.hypothetical_extraction(mb23, "1", kind="sideways")
    with pytest.raises(ParameterError, match="import_price"):
        static.leontief_price(japan37, import_price={"01": 0.1})
    with pytest.raises(ParameterError, match="denominator"):
        static.gdp_loss_share(mb23, {"1": -1.0}, denominator=0.0)
    with pytest.raises(ShockError, match="fixed_output: sector '1' has negative output"):
        static.mixed_model(mb23, {"1": -5.0})


def test_zero_output_sector(chain):
    """A sector with zero output (wholly imported product) has zero coefficients; a relative
    IIM perturbation on it must be zero."""
    assert static.output_multipliers(chain).sel(sector="ree").item() == pytest.approx(1.0)
    with pytest.raises(ShockError, match="'ree' has zero output"):
        static.iim_demand(chain, {"ree": 1.0})
    q = static.iim_demand(chain, {"cars": 100.0})
    assert q.sel(sector="ree").item() == 0.0


def test_singular_system_raises():
    """A hand-made dataset that skipped validation, with a column of A summing to one and
    nothing else: I - A is singular."""
    t = sc.tables.from_arrays([[1.0]], [[0.0]], [[0.0]], x=[1.0], check=False)
    with pytest.raises(NonProductiveError, match="singular"):
        static.leontief(t, [1.0])
