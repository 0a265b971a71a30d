"""Parity of simcore's ARIO engine with BoARIO 0.6.3 itself (the check that the reimplementation is
exact).

Table: ``pymrio.load_test()`` aggregated exactly as in BoARIO's own test suite
(``tests/test_simulation.py``, fixture ``test_mrio``: regions to reg1-reg3, sectors to food,
mining, manufactoring, other, construction), then ``calc_all()``.  Model:
``ARIOPsiModel`` with its defaults.  Event: arbitrary 50 % capacity loss on
(reg2, mining), occurrence 5, duration 60, linear recovery over 30 days.  Horizon 300 days.

Tolerance 1e-10 relative (an independent re-implementation reached 6e-16).  The
simcore table keeps pymrio's (unsorted) industry order while BoARIO sorts industries
lexicographically, so agreement also shows that results do not depend on the order; only
floating-point summation orders differ, hence the ~1e-15 residuals.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

pymrio = pytest.importorskip("pymrio")
boario = pytest.importorskip("boario")

import simcore as sc  # noqa: E402
from simcore.dynamic.ario import ARIOParams, ArbitraryCapacityLoss, simulate_ario  # noqa: E402

T = 300
REGION_AGG = ["reg1", "reg1", "reg2", "reg2", "reg3", "reg3"]
SECTOR_AGG = ["food", "mining", "manufactoring", "other", "construction", "other", "other",
              "other"]


@pytest.fixture(scope="module")
def mriot():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pymrio.load_test()
        m.aggregate(region_agg=REGION_AGG, sector_agg=SECTOR_AGG)
        m.calc_all()
    return m


@pytest.fixture(scope="module")
def table(mriot):
    regions = list(dict.fromkeys(r for r, _ in mriot.Z.index))
    sectors = list(dict.fromkeys(s for _, s in mriot.Z.index))
    cats = list(dict.fromkeys(c for _, c in mriot.Y.columns))
    Z = mriot.Z.to_numpy()
    Y = mriot.Y.to_numpy()
    x = mriot.x.to_numpy().ravel()
    V = (x - Z.sum(0))[None, :]
    return sc.tables.from_arrays(Z, Y, V, x=x, regions=regions, sectors=sectors,
                                 final_demand=cats, unit="M EUR")


def run_boario(mriot, tmp_path, order_type, *, recovery="linear", model_kw=None):
    import boario.event
    from boario.extended_models import ARIOPsiModel
    from boario.simulation import Simulation

    logging.getLogger("boario").setLevel(logging.ERROR)
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIOPsiModel(mriot, order_type=order_type, **(model_kw or {}))
        sim = Simulation(model, n_temporal_units_to_sim=T,
                         boario_output_dir=str(tmp_path / f"boario_{order_type}"))
        ev = boario.event.from_series(
            pd.Series({("reg2", "mining"): 0.5}), event_type="arbitrary", occurrence=5,
            duration=60, recovery_tau=30, recovery_function=recovery)
        sim.add_event(ev)
        sim.loop()
    assert not sim.has_crashed
    return sim


def _aligned(ds, var, columns):
    """simcore record (time, region, sector) as a (time, industry) array in BoARIO's order."""
    da = ds[var]
    return np.stack([da.sel(region=r, sector=s).values for r, s in columns], axis=1)


def _maxrel(a, b):
    return float(np.max(np.abs(a / b - 1)))


@pytest.mark.parametrize("order_type", ["alt", "noalt"])
def test_parity_with_boario(mriot, table, tmp_path, order_type):
    sim = run_boario(mriot, tmp_path, order_type)
    ev = ArbitraryCapacityLoss(("reg2", "mining"), 0.5, 5, 60, recovery="linear",
                               recovery_tau=30)
    res = simulate_ario(table, [ev], params=ARIOParams(order_type=order_type), days=T,
                        record=("production", "capacity", "final_demand_unmet",
                                "boario_value_added"))
    cols = list(sim.production_realised.columns)
    pb = sim.production_realised.to_numpy()
    cb = sim.production_capacity.to_numpy()
    # the scenario does bite: a 50 % cut, and downstream shortage (inventory regime)
    j = cols.index(("reg2", "mining"))
    assert pb[:, j].min() < 0.51 * pb[0, j]
    ps = _aligned(res, "production", cols)
    cs = _aligned(res, "capacity", cols)
    err_p = _maxrel(ps, pb)
    err_c = _maxrel(cs, cb)
    print(f"BoARIO parity ({order_type}): production {err_p:.2e}, capacity {err_c:.2e}")
    assert err_p <= 1e-10
    assert err_c <= 1e-10
    scale = pb.max()
    fu = _aligned(res, "final_demand_unmet", cols)
    assert np.max(np.abs(fu - sim.final_demand_unmet.to_numpy())) <= 1e-10 * scale
    va = _aligned(res, "boario_value_added", cols)
    assert np.max(np.abs(va - sim._value_added_evolution)) <= 1e-10 * scale


def test_parity_other_settings(mriot, table, tmp_path):
    """Convex recovery, a never-binding input and per-product restoration times."""
    sectors = sorted(str(s) for s in table.sector.values)
    taus = {s: 10 + 7 * i for i, s in enumerate(sectors)}
    kw = dict(infinite_inventories_sect=["construction"], inventory_restoration_tau=taus,
              main_inv_dur=30, psi_param=0.9)
    sim = run_boario(mriot, tmp_path, "alt", recovery="convexe", model_kw=kw)
    ev = ArbitraryCapacityLoss(("reg2", "mining"), 0.5, 5, 60, recovery="convexe",
                               recovery_tau=30)
    params = ARIOParams(infinite_inventories_sect=["construction"],
                        inventory_restoration_tau=taus, main_inv_dur=30, psi=0.9)
    res = simulate_ario(table, [ev], params=params, days=T, record=("production",))
    cols = list(sim.production_realised.columns)
    err = _maxrel(_aligned(res, "production", cols), sim.production_realised.to_numpy())
    print(f"BoARIO parity (convexe, infinite stock, per-product tau): {err:.2e}")
    assert err <= 1e-10
