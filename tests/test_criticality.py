"""Input criticality classes, input buffers, stocks per origin and the supply/demand split.

The classes and buffers are data (``scenarios/data/criticality.toml``, ``buffers.toml``)
turned into per-pair dependency shares and inventory days by :mod:`simcore.criticality`;
stocks per origin (``DynamicParams.origin_stocks``) are a lowering of the engine's table.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simcore as sc
from simcore import criticality as cr
from simcore import scenario
from simcore import tables as tb
from simcore.dynamic import _reference as ref
from simcore.dynamic import supply_chain as md
from simcore.dynamic.params import CellMatrix, DynamicParams
from simcore.errors import ParameterError, ScenarioError
from simcore.dynamic.shocks import CapacityShock, DemandShock, ImportCut

from test_dynamic import lowered, random_table

DATA = scenario.scenario_dir() / "data"


# --------------------------------------------------------------------------------------
# the rule files
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def t185():
    return sc.datasets.load("japan-2015-185")


@pytest.fixture(scope="module")
def classes(t185):
    return cr.class_matrix(t185, cr.load_rules(DATA / "criticality.toml", "criticality"))


def test_every_pair_has_a_class(classes):
    assert set(np.unique(classes.values)) == {"critical", "important", "non_critical"}


def test_class_shares_follow_the_pattern_of_the_ratings(classes):
    """Pichler et al.'s ratings: about 15 % critical, 11 % important, 74 % non-critical of
    all pairs; here most pairs are non-critical too (the table has more service sectors)."""
    v = classes.values
    crit, imp, non = ((v == c).mean() for c in ("critical", "important", "non_critical"))
    assert non > 0.6 and 0.02 < crit < 0.2 and 0.05 < imp < 0.3, (crit, imp, non)


def test_named_rules(classes):
    c = classes.sel
    assert c(sector="3531", sector_to="3511") == "critical"        # parts for assembly (JIT)
    assert c(sector="4611", sector_to="3511") == "critical"        # electricity for goods
    assert c(sector="3531", sector_to="3531") == "critical"        # own output
    assert c(sector="5311", sector_to="3511") == "important"       # finance for goods
    # dwellings, public administration, schools: nothing binds in the short run
    for buyer in ("5531", "6111", "6112", "6311"):
        assert set(classes.sel(sector_to=buyer).values) <= {"non_critical", "important"}
        assert (classes.sel(sector_to=buyer).values == "critical").sum() == 0
    assert c(sector="3399", sector_to="5531") == "non_critical"


def test_important_knob_sets_every_important_pair(t185):
    path = DATA / "criticality.toml"
    base = cr.dependency_cells(t185, path)
    hi = cr.dependency_cells(t185, path, important=1.0)
    lo = cr.dependency_cells(t185, path, important=0.0)
    imp = base.values == 0.5
    assert imp.any()
    assert (hi.values[imp] == 1).all() and (lo.values[imp] == 0).all()
    assert (hi.values[~imp] == base.values[~imp]).all()
    assert len({base.digest, hi.digest, lo.digest}) == 3


def test_buffers_have_ranges_and_sources():
    spec = cr.load_rules(DATA / "buffers.toml", "buffers")
    for rule in spec["rules"]:
        lo, hi = rule["range"]
        assert lo <= rule["days"] <= hi and rule["source"]


def test_rule_file_errors_name_file_and_key(tmp_path, t185):
    bad = tmp_path / "c.toml"
    bad.write_text('[families]\nx = ["11"]\n[buyers]\ny = ["11"]\n'
                   '[[rules]]\ninputs = "x"\nbuyers = "y"\nclass = "vital"\nsource = "S"\n')
    with pytest.raises(ScenarioError, match=r"c\.toml: rules\[0\]\.class = 'vital'"):
        cr.load_rules(bad, "criticality")
    bad.write_text('[[rules]]\ninputs = "nope"\nbuyers = "11"\nclass = "critical"\n'
                   'source = "S"\n')
    with pytest.raises(ScenarioError, match="unknown group 'nope'"):
        cr.load_rules(bad, "criticality")
    bad.write_text('[[rules]]\ninputs = "11"\nbuyers = "11"\nclass = "critical"\n')
    with pytest.raises(ScenarioError, match="missing 'source'"):
        cr.load_rules(bad, "criticality")
    bad.write_text('[[rules]]\ninputs = "11"\nbuyers = "11"\ndays = 5\nrange = [6, 9]\n'
                   'source = "S"\n')
    with pytest.raises(ScenarioError, match=r"range = \[6, 9\]"):
        cr.load_rules(bad, "buffers")
    # a file that leaves pairs without a class is refused, naming the first pair
    bad.write_text('[classes]\ncritical = 1.0\nimportant = 0.5\nnon_critical = 0.0\n'
                   '[[rules]]\ninputs = "11"\nbuyers = "11"\nclass = "critical"\n'
                   'source = "S"\n')
    with pytest.raises(ScenarioError, match="no rule sets the pair"):
        cr.dependency_cells(t185, bad)
    with pytest.raises(ScenarioError, match="not found"):
        cr.load_rules(tmp_path / "missing.toml", "criticality")


def test_cell_matrix_is_checked():
    with pytest.raises(ParameterError, match="shape"):
        CellMatrix(products=("a",), buyers=("a", "b"), values=np.zeros((1, 1)), digest="x")
    cm = CellMatrix(products=("a",), buyers=("a",), values=np.full((1, 1), 2.0), digest="x")
    with pytest.raises(ParameterError, match="outside 0..1"):
        DynamicParams(dependency_cells=cm)
    cm = CellMatrix(products=("a",), buyers=("a",), values=np.full((1, 1), 0.5), digest="y")
    with pytest.raises(ParameterError, match="below 1"):
        DynamicParams(inventory_cells=cm)
    with pytest.raises(ParameterError, match="origin_stocks"):
        DynamicParams(origin_stocks="yes")


def test_flow_weighted_aggregation_to_37_sectors(t185):
    cm = cr.dependency_cells(t185, DATA / "criticality.toml")
    groups = dict(sc.transform.japan_185_to_37().sectors)
    t37 = sc.datasets.load("japan-2015-37")
    agg = cr.aggregate_cells(cm, t185, groups, order=[str(s) for s in t37.sector.values])
    assert list(agg.products) == [str(s) for s in t37.sector.values]
    # by hand for one pair: sum Z v / sum Z over the fine pairs
    Z = tb.flat(t185)["Z"]
    codes = [str(s) for s in t185.sector.values]
    i = [k for k, c in enumerate(codes) if groups[c] == "35"]
    j = i
    w = Z[np.ix_(i, j)]
    v = cm.values[np.ix_(i, j)]
    want = (w * v).sum() / w.sum()
    k = list(agg.products).index("35")
    assert agg.values[k, k] == pytest.approx(want, rel=1e-12)
    assert ((agg.values >= 0) & (agg.values <= 1)).all()


# --------------------------------------------------------------------------------------
# the engine with cell matrices
# --------------------------------------------------------------------------------------
def test_cell_matrix_equals_the_same_shares_given_by_product():
    """A CellMatrix and the equivalent dependency_by_product maps give the same run."""
    t = random_table(3, n=6)
    codes = [str(s) for s in t.sector.values]
    rng = np.random.default_rng(0)
    vals = rng.choice([0.0, 0.5, 1.0], size=(6, 6))
    days = rng.uniform(1.5, 20, size=(6, 6))
    cmd = CellMatrix(products=tuple(codes), buyers=tuple(codes), values=vals, digest="d")
    cmi = CellMatrix(products=tuple(codes), buyers=tuple(codes), values=days, digest="i")
    by_prod = {p: {b: float(vals[i, j]) for j, b in enumerate(codes)} for i, p in enumerate(codes)}
    inv = {p: {b: float(days[i, j]) for j, b in enumerate(codes)} for i, p in enumerate(codes)}
    shocks = [ImportCut(product=codes[1], origin="CHN", share=1.0, duration=30),
              CapacityShock(sector=codes[2], share=0.3, duration=10)]
    common = dict(import_origins={codes[1]: {"CHN": 0.7}}, inventory_tau=5.0)
    a = sc.simulate(t, shocks, days=90, params=DynamicParams(
        dependency_cells=cmd, inventory_cells=cmi, **common))
    b = sc.simulate(t, shocks, days=90, params=DynamicParams(
        dependency_by_product=by_prod, inventory_days_by_product=inv, **common))
    np.testing.assert_allclose(a.output.values, b.output.values, rtol=1e-13, atol=0)
    assert float(a.gdp_loss_total) > 0
    # the by-product maps override the matrix, pair by pair
    c = sc.simulate(t, shocks, days=90, params=DynamicParams(
        dependency_cells=cmd, inventory_cells=cmi,
        dependency_by_product={codes[1]: {codes[0]: 0.0}}, **common))
    by_prod[codes[1]][codes[0]] = 0.0
    d = sc.simulate(t, shocks, days=90, params=DynamicParams(
        dependency_by_product=by_prod, inventory_days_by_product=inv, **common))
    np.testing.assert_allclose(c.output.values, d.output.values, rtol=1e-13, atol=0)


def test_batch_equals_single_runs_with_cell_matrices_and_origin_stocks():
    from simcore.dynamic.batch import simulate_batch

    t = random_table(5, n=6)
    codes = [str(s) for s in t.sector.values]
    vals = np.full((6, 6), 0.5)
    cmd = CellMatrix(products=tuple(codes), buyers=tuple(codes), values=vals, digest="h")
    scen = []
    for share, o in ((0.5, 0.6), (1.0, 0.6), (1.0, 0.9)):
        p = DynamicParams(dependency_cells=cmd, inventory_days=5.0, origin_stocks=True,
                          import_origins={codes[1]: {"CHN": o}},
                          stockpiles={codes[1]: {"days": 2.0}})
        scen.append(([ImportCut(product=codes[1], origin="CHN", share=share, duration=20)], p))
    b = simulate_batch(t, scen, days=60, record=("output",))
    for s, (sh, p) in enumerate(scen):
        r = sc.simulate(t, sh, params=p, days=60)
        np.testing.assert_allclose(b.output.values[s], r.output.values, rtol=1e-12, atol=0)
        assert float(b.gdp_loss_total[s]) == pytest.approx(float(r.gdp_loss_total), rel=1e-12)


# --------------------------------------------------------------------------------------
# stocks per origin
# --------------------------------------------------------------------------------------
def _one_buyer(days: float):
    """Product P is all imported; buyer B needs it (theta = 1) and sells to final demand."""
    x = np.array([0.0, 365.0])
    Z = np.array([[0.0, 36.5], [0.0, 0.0]])
    Y = np.array([[0.0], [365.0]])
    V = (x - Z.sum(0))[None, :]
    t = tb.from_arrays(Z, Y, V, x=x, M=np.array([36.5, 0.0]), sectors=["P", "B"], unit="M")
    return t, dict(inventory_days=days, inventory_tau=10.0, dependency=1.0,
                   import_origins={"P": {"CHN": 0.6}})


@pytest.mark.parametrize("days", [10.0, 30.0])
def test_origin_stocks_onset_and_level(days):
    """Pooled: the stock drains at the cut share (0.6) of use, output first falls after about
    (n - 1) / 0.6 days; per origin: China's pool drains at the full rate, output falls after
    about n - 1 days.  Both settle at 40 % of baseline (the rest of the world's share)."""
    t, kw = _one_buyer(days)
    cut = ImportCut(product="P", origin="CHN", share=1.0, duration=400)
    out = {}
    for origin_stocks in (False, True):
        r = sc.simulate(t, cut, days=200, params=DynamicParams(origin_stocks=origin_stocks, **kw))
        xb = r.output.sel(sector="B").values
        out[origin_stocks] = (int(np.argmax(xb < 1.0 - 1e-9)), xb[-1])
    assert out[True][0] == pytest.approx(days - 1, abs=1.01)
    assert out[False][0] == pytest.approx((days - 1) / 0.6, abs=1.01)
    assert out[True][1] == pytest.approx(0.4, rel=1e-6)
    assert out[False][1] == pytest.approx(0.4, rel=1e-6)


def test_origin_stocks_without_a_cut_is_the_baseline():
    t = random_table(7, n=5)
    codes = [str(s) for s in t.sector.values]
    p = DynamicParams(origin_stocks=True, import_origins={codes[0]: {"CHN": 0.5, "KOR": 0.2}},
                      stockpiles={codes[0]: {"days": 5}}, inventory_days=3.0)
    r = sc.simulate(t, [], params=p, days=50, record=("output", "imports", "stocks"))
    np.testing.assert_allclose(r.output.values,
                               np.broadcast_to(r.output_baseline.values, r.output.shape),
                               rtol=1e-12)
    assert abs(float(r.gdp_loss_total)) < 1e-9 * float(r.output_baseline.sum())
    # imports of the split product: its own row plus its pools, at baseline
    prep = md.prepare_model(t)
    i = prep.index[codes[0]]
    m = prep.mu[i] * (tb.flat(t)["Z"][i].sum() + prep.f0[i] * 365) / 365
    assert r.import_supply.sel(product=codes[0]).values == pytest.approx(m, rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_origin_stocks_kernel_matches_reference(seed):
    rng = np.random.default_rng(100 + seed)
    t = random_table(seed + 20, n=int(rng.integers(4, 8)))
    codes = [str(s) for s in t.sector.values]
    p_cut = codes[int(rng.integers(len(codes)))]
    shocks = [ImportCut(product=p_cut, origin="CHN", share=float(rng.uniform(0.5, 1)),
                        duration=float(rng.uniform(10, 40))),
              DemandShock(sector=codes[0], change=-0.2, duration=15)]
    params = DynamicParams(inventory_days=float(rng.uniform(2, 15)),
                           inventory_tau=float(rng.uniform(2, 12)),
                           dependency=float(rng.uniform(0.3, 1)), origin_stocks=True,
                           import_origins={p_cut: {"CHN": float(rng.uniform(0.3, 0.8)),
                                                   "KOR": 0.1}},
                           substitution={p_cut: {"headroom": 0.3, "lag_days": 5}})
    T = 70
    prep2, dense = lowered(t, shocks, params, T)
    assert prep2.n == len(codes) + 2  # two pools: CHN and KOR
    res = sc.simulate(t, shocks, params=params, days=T, record=("output",))
    oracle = ref.run_reference(**dense)
    n = len(codes)
    scale = prep2.x0.max()
    assert np.max(np.abs(res.output.values - oracle["x"][:, :n])) <= 1e-12 * scale
    assert np.allclose(res.gdp_loss.values, oracle["gdp_loss"], rtol=1e-12, atol=1e-12 * scale)
    assert res.gdp_loss_total.values > 0


# --------------------------------------------------------------------------------------
# where the loss comes from
# --------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.2, 1.0))
def test_no_critical_or_important_input_means_no_supply_constrained_loss(seed, share):
    """A sector none of whose inputs is critical or important never loses output through
    an input shortage, only through lower demand: its supply-constrained loss is 0."""
    rng = np.random.default_rng(seed)
    t = random_table(seed, n=int(rng.integers(3, 8)))
    codes = [str(s) for s in t.sector.values]
    n = len(codes)
    free = codes[int(rng.integers(n))]
    vals = rng.choice([0.5, 1.0], size=(n, n))
    vals[:, codes.index(free)] = 0.0
    cm = CellMatrix(products=tuple(codes), buyers=tuple(codes), values=vals, digest=str(seed))
    cut = codes[int(rng.integers(n))]
    shocks = [ImportCut(product=cut, origin="CHN", share=share, duration=30),
              CapacityShock(sector=codes[int(rng.integers(n))], share=0.5 * share,
                            duration=20)]
    shocks = [s for s in shocks if not (isinstance(s, CapacityShock) and s.sector == free)]
    p = DynamicParams(dependency_cells=cm, dependency_by_product={cut: {free: 0.0}},
                      inventory_days=float(rng.uniform(1.5, 10)), inventory_tau=5.0,
                      import_origins={cut: {"CHN": 0.8}})
    r = sc.simulate(t, shocks, params=p, days=90)
    j = codes.index(free)
    scale = float(r.output_baseline.values[j]) * 90
    assert float(r.output_loss_supply.values[j]) <= 1e-9 * max(scale, 1.0)
    # and the split is a split: both parts non-negative, summing to the loss
    assert (r.output_loss_demand.values >= -1e-12).all()
    np.testing.assert_allclose(r.output_loss_supply + r.output_loss_demand, r.output_loss,
                               rtol=1e-12, atol=1e-9)


def test_pure_demand_shock_is_all_demand_constrained():
    t = sc.datasets.load("japan-2015-37")
    r = sc.simulate(t, DemandShock(sector="35", change=-0.3, duration=30), days=120)
    j = [str(s) for s in r.sector.values].index("35")
    assert float(r.output_loss_demand[j]) > 0
    assert float(r.output_loss_supply[j]) == pytest.approx(0.0, abs=1e-6 * float(
        r.output_loss[j]))


def test_onset_day_in_result():
    t, kw = _one_buyer(20.0)
    r = sc.simulate(t, ImportCut(product="P", origin="CHN", share=1.0, duration=300),
                    days=100, params=DynamicParams(origin_stocks=True, **kw))
    assert int(r.onset_day.sel(sector="B")) == pytest.approx(19, abs=1)
    assert int(r.onset_day.sel(sector="P")) == -1  # no output, never below baseline


def test_scenario_refuses_keys_the_data_files_override():
    """With criticality and buffer files every pair has its share and stock: a scalar
    `dependency` or `inventory_days` would silently do nothing, so it is refused."""
    k = scenario.load("kiuchi-2025-3m")
    with pytest.raises(ScenarioError, match="model.inventory_days = 5.0 would have no effect"):
        k.copy_with({"model.inventory_days": 5.0}).params()
    with pytest.raises(ScenarioError, match="model.dependency = 0.5 would have no effect"):
        k.copy_with({"model.dependency": 0.5}).params()
    d = dict(k.data)
    d["model"] = {k2: v for k2, v in k.data["model"].items() if k2 != "criticality"}
    d["model"]["criticality_important"] = 0.5
    with pytest.raises(ScenarioError, match="criticality_important needs model.criticality"):
        scenario.Scenario(d, k.path).params()


def test_important_knob_from_a_scenario_moves_the_loss():
    """The sweepable knob reaches the engine: on the data-driven 3-month case, rating every
    important pair critical cannot lower the loss, rating them non-critical cannot raise it."""
    name = "rare-earth-data-driven-3m"
    h = {"horizon.days": 200}
    base = float(scenario.run(name, **h).gdp_loss_total)
    hi = float(scenario.run(name, **h, **{"model.criticality_important": 1.0}).gdp_loss_total)
    lo = float(scenario.run(name, **h, **{"model.criticality_important": 0.0}).gdp_loss_total)
    assert lo <= base * (1 + 1e-9) and base <= hi * (1 + 1e-9)
    assert hi > lo
