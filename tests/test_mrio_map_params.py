"""Criticality classes and buffers mapped onto another table's classification with a
concordance (simcore.criticality.map_params; docs/mrio.md, "Classes and buffers on another
classification"): many-to-one equals aggregate_params, many-to-many by weights against a
brute-force sum, unmapped target codes take the defaults, concordances from dicts, lists,
CSV files, Series and Concordance objects, errors that name the code, and a run on pymrio's
test system."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore as sc
from simcore import tables as tb
from simcore import transform as tr
from simcore import criticality as cr
from simcore import scenario
from simcore.dynamic.params import DynamicParams
from simcore.errors import LabelError, TableError

from test_dynamic import random_table

P = DynamicParams(dependency=0.5, inventory_days=10.0, inventory_tau=7.0,
                  dependency_by_product={"s0": {"*": 1.0, "s2": 0.0}},
                  inventory_days_by_product={"s1": 30.0}, rationing="firms_first")


def _fine_values(t, p):
    """Dependency shares and inventory days of every fine pair (the engine's lowering)."""
    n = t.sizes["sector"]
    th = np.full((n, n), p.dependency)
    th[0, :] = 1.0
    th[0, 2] = 0.0
    dd = np.full((n, n), p.inventory_days)
    dd[1, :] = 30.0
    return th, dd


def test_many_to_one_equals_aggregate_params():
    t = random_table(21, n=4, imports=False)
    groups = {"s0": "A", "s1": "A", "s2": "B", "s3": "B"}
    dep, inv = cr.aggregate_params(t, P, groups, ["A", "B"])
    q = cr.map_params(t, P, groups, ["A", "B"])
    np.testing.assert_allclose(q.dependency_cells.values, dep.values, rtol=1e-14)
    np.testing.assert_allclose(q.inventory_cells.values, inv.values, rtol=1e-14)
    assert (q.inventory_tau, q.rationing) == (7.0, "firms_first")


def test_many_to_many_by_weights_and_defaults_for_unmapped_codes(tmp_path):
    t = random_table(5, n=4, imports=False)
    conc = {"s0": {"A": 1.0, "B": 3.0}, "s1": "A", "s2": ["B", "C"], "s3": "C"}
    target = ["A", "B", "C", "D"]
    q = cr.map_params(t, P, conc, target)
    Z = tb.flat(t)["Z"]
    th, dd = _fine_values(t, P)
    S = np.zeros((4, 4))
    S[0, :2] = [0.25, 0.75]
    S[1, 0] = 1.0
    S[2, 1:3] = 0.5
    S[3, 2] = 1.0
    for v, cm, default in ((th, q.dependency_cells, P.dependency),
                           (dd, q.inventory_cells, P.inventory_days)):
        assert list(cm.products) == target and list(cm.buyers) == target
        for I in range(4):
            for J in range(4):
                num = den = tot = cnt = 0.0
                for i in range(4):
                    for j in range(4):
                        w = S[i, I] * S[j, J]
                        num += w * max(Z[i, j], 0) * v[i, j]
                        den += w * max(Z[i, j], 0)
                        tot += w * v[i, j]
                        cnt += w
                want = num / den if den > 0 else (tot / cnt if cnt > 0 else default)
                assert cm.values[I, J] == pytest.approx(want, rel=1e-12)
    assert (q.dependency_cells.values[3] == P.dependency).all()  # D: nothing maps to it
    # the same concordance from a CSV file with weights, and a many-to-one Series
    f = tmp_path / "conc.csv"
    f.write_text("fine,coarse,weight\ns0,A,1\ns0,B,3\ns1,A,\ns2,B,1\ns2,C,1\ns3,C,2\n")
    q2 = cr.map_params(t, P, f, target)
    np.testing.assert_allclose(q2.dependency_cells.values, q.dependency_cells.values,
                               rtol=1e-14)
    s = pd.Series({"s0": "A", "s1": "A", "s2": "B", "s3": "B"})
    q3 = cr.map_params(t, P, s, ["A", "B"])
    q4 = cr.map_params(t, P, tr.Concordance(sectors=dict(s)), ["A", "B"])
    np.testing.assert_allclose(q3.inventory_cells.values, q4.inventory_cells.values)


def test_the_shipped_mrio_scenario_mapping_equals_the_aggregation():
    """The shipped MRIO scenario's parameters (simcore.scenario._mrio_params: map_params
    with the 185 -> 37 concordance, RE and MAG kept) equal the many-to-one flow-weighted
    aggregation of the 185-sector parameters (aggregate_params)."""
    from simcore import scenario

    scn = scenario.load("china-rare-earth-stop-mrio-3m")
    got = scenario._mrio_params(scn)
    ft, fp, groups, keep = scenario._mrio_fine_scenario(scn)
    coarse = [str(c) for c in scn.table().sector.values]
    dep, inv = cr.aggregate_params(ft, fp, groups, coarse)
    np.testing.assert_allclose(got.dependency_cells.values, dep.values, rtol=1e-12)
    np.testing.assert_allclose(got.inventory_cells.values, inv.values, rtol=1e-12)
    assert got.inventory_tau == fp.inventory_tau and got.alpha_max == fp.alpha_max
    assert dict(got.elasticity_by_product) == dict(keep.get("elasticity_by_product", {}))


def test_errors_name_the_code(tmp_path):
    t = random_table(5, n=4, imports=False)
    with pytest.raises(LabelError, match="'s3'"):
        cr.map_params(t, P, {"s0": "A", "s1": "A", "s2": "B"}, ["A", "B"])
    with pytest.raises(LabelError, match="'s9'"):
        cr.map_params(t, P, {"s0": "A", "s1": "A", "s2": "B", "s3": "B", "s9": "B"},
                      ["A", "B"])
    with pytest.raises(LabelError, match="'Q'.*not a sector of the target"):
        cr.map_params(t, P, {"s0": "A", "s1": "A", "s2": "B", "s3": "Q"}, ["A", "B"])
    with pytest.raises(TableError, match="'s0'.*non-negative"):
        cr.map_params(t, P, {"s0": {"A": -1.0}, "s1": "A", "s2": "B", "s3": "B"}, ["A", "B"])
    f = tmp_path / "bad.csv"
    f.write_text("fine,coarse,weight\ns0,A,x\n")
    with pytest.raises(TableError, match="bad.csv: line 2: weight 'x'"):
        cr.map_params(t, P, f, ["A", "B"])
    with pytest.raises(TableError, match="expected a dict"):
        cr.map_params(t, P, 3, ["A", "B"])


def test_mapped_params_run_on_pymrio_test_system():
    pymrio = pytest.importorskip("pymrio")
    m = sc.from_pymrio(pymrio.load_test().calc_all())
    t = random_table(5, n=4, imports=False)
    conc = {"s0": ["food", "mining"], "s1": "manufactoring",
            "s2": {"electricity": 1, "construction": 1}, "s3": ["trade", "transport", "other"]}
    hi = cr.map_params(t, DynamicParams(dependency=1.0, inventory_days=3.0), conc, m)
    lo = cr.map_params(t, DynamicParams(dependency=0.1, inventory_days=3.0), conc, m)
    cut = [sc.ExportCut(product="manufactoring", origin=r, share=1.0, duration=30)
           for r in ("reg1", "reg2", "reg3")]
    r_hi = sc.simulate(m, cut, params=hi, days=90, record=())
    r_lo = sc.simulate(m, cut, params=lo, days=90, record=())
    assert float(r_hi.gdp_loss_total) > float(r_lo.gdp_loss_total) > 0  # the classes bind
    np.testing.assert_allclose(hi.dependency_cells.values, 1.0)
