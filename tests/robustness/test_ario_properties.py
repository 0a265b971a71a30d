"""Hypothesis properties of the ARIO engine (:mod:`simcore.dynamic.ario`) on random valid
tables, single-region and multi-regional (``tests/strategies.py``, without competitive
imports: the ARIO engine reads ``Z``, ``Y`` and ``E``).

Events are random capacity losses (share, start, duration, linear recovery) of one or two
industries.  Properties (issue 8, for the second engine):

* no shock means no loss: production at baseline to 1e-12, in the documented model and in
  the BoARIO-parity mode;
* no NaN, no negative production or stock;
* without overproduction (``alpha_max = 1``) production never exceeds baseline, so daily
  losses are at least zero;
* invariance to the order of the sectors (documented model), to 1e-6: round-off through
  the ``min()`` of the production bound gives ~3e-8.

Not asserted here: invariance to the unit of money.  The parity mode inherits BoARIO's
absolute ``allclose`` tolerance (``test_ario_engine.py::test_boario_compat_unit_trap_is
_flagged``), and on random tables even the documented model parted between units by up to
1e-3 of output (a CI run) and 1.2e-4 (a thorough run), through ARIO's exact threshold
comparisons; the cause is not established.  ``test_ario_engine.py`` checks unit
invariance to 1e-9 on a fixed table.

Not a property of ARIO: losses do **not** always rise with the share of the capacity lost
(the `thorough` profile found counterexamples with and without self-supply, in both modes),
and BoARIO itself shows it: ``test_ario_engine.py::test_partial_loss_costs_more_than_a_total_one``.

Tables are scaled to flows of order 1e3 per day so that the parity mode's unit warning
(median daily flow below 1e-3) does not apply.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from simcore.dynamic.ario import ARIOParams, ArbitraryCapacityLoss, simulate_ario

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from strategies import permute_sectors, productive_tables, scale_money  # noqa: E402

_tables = productive_tables(max_n=4, with_imports=False, multiregional=False) | \
    productive_tables(max_n=3, with_imports=False, multiregional=True)
_REC = ("production", "value_added")


def _big(table):
    return scale_money(table, 1e5)


def _industries(table) -> list:
    if "region" in table.dims:
        return [(str(r), str(s)) for r in table.region.values for s in table.sector.values]
    return [str(s) for s in table.sector.values]


@st.composite
def event_specs(draw, table):
    """(industry, share, occurrence, duration, recovery_tau) of one or two events."""
    inds = _industries(table)
    k = draw(st.integers(1, min(2, len(inds))), label="events")
    chosen = draw(st.lists(st.sampled_from(inds), min_size=k, max_size=k, unique=True),
                  label="industries")
    return [(ind, draw(st.floats(0.0, 1.0), label="share"),
             draw(st.integers(0, 10), label="occurrence"),
             draw(st.integers(0, 60), label="duration"),
             draw(st.sampled_from([1.0, 10.0, 30.0]), label="recovery")) for ind in chosen]


def _events(specs, share=None):
    return [ArbitraryCapacityLoss(ind, s if share is None else share, occ, dur,
                                  recovery_tau=tau) for ind, s, occ, dur, tau in specs]


def events(table):
    return event_specs(table).map(_events)


@st.composite
def params(draw, overproduction=True, compat=(True, False)):
    am = draw(st.sampled_from([1.0, 1.25]), label="alpha_max") if overproduction else 1.0
    return ARIOParams(
        alpha_max=am,
        main_inv_dur=draw(st.sampled_from([5.0, 30.0, 90.0]), label="inventory days"),
        inventory_restoration_tau=draw(st.sampled_from([5.0, 10.0, 60.0]), label="tau"),
        order_type=draw(st.sampled_from(["alt", "noalt"]), label="order_type"),
        boario_compat=draw(st.sampled_from(list(compat)), label="compat"))


def _loss(res) -> np.ndarray:
    """Daily value-added loss by industry (baseline minus realised), table units."""
    va = res.value_added.values.reshape(res.sizes["time"], -1)
    return res.baseline_value_added.values.reshape(-1)[None, :] - va


@given(data=st.data(), table=_tables)
def test_no_shock_no_loss(data, table):
    t = _big(table)
    p = data.draw(params(), label="params")
    res = simulate_ario(t, [], params=p, days=200, record=_REC)
    x0 = res.baseline_production.values.reshape(-1)
    prod = res.production.values.reshape(200, -1)
    np.testing.assert_allclose(prod, np.broadcast_to(x0, prod.shape), rtol=1e-12,
                               atol=1e-12 * x0.max())


@given(data=st.data(), table=_tables)
def test_no_nan_no_negative(data, table):
    t = _big(table)
    p = data.draw(params(), label="params")
    res = simulate_ario(t, data.draw(events(t)), params=p, days=200,
                        record=("production", "stocks"))
    prod, stocks = res.production.values, res.stocks.values
    assert np.isfinite(prod).all() and np.isfinite(stocks).all()
    assert prod.min() >= 0.0 and stocks.min() >= 0.0


@given(data=st.data(), table=_tables)
def test_without_overproduction_losses_are_nonnegative(data, table):
    t = _big(table)
    p = data.draw(params(overproduction=False), label="params")
    res = simulate_ario(t, data.draw(events(t)), params=p, days=200, record=_REC)
    x0 = res.baseline_production.values.reshape(-1)
    prod = res.production.values.reshape(200, -1)
    assert np.all(prod <= x0[None, :] * (1 + 1e-12))
    assert np.all(_loss(res) >= -1e-9 * x0.max())


@given(data=st.data(), table=productive_tables(min_n=2, max_n=4, with_imports=False))
def test_invariant_to_sector_order(data, table):
    t = _big(table)
    p = data.draw(params(compat=(False,)), label="params")
    ev = data.draw(events(t))
    perm = data.draw(st.permutations(range(t.sizes["sector"])), label="perm")
    r1 = simulate_ario(t, ev, params=p, days=150, record=_REC)
    r2 = simulate_ario(permute_sectors(t, perm), ev, params=p, days=150, record=_REC)
    np.testing.assert_allclose(r2.production.sel(sector=r1.sector).values,
                               r1.production.values, rtol=1e-6,
                               atol=1e-9 * float(r1.baseline_production.max()))
