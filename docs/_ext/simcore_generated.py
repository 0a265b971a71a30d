"""Tables and numbers computed from the code while the docs are built.

``.. simcore-generated:: NAME`` (in MyST: a ``{simcore-generated} NAME`` fence) runs
``NAME()`` from this module and parses the Markdown it returns in place, so every model
figure on the pages that use it comes from the code of the checkout being documented: a
change of the model cannot leave a stale number behind.  Scenario runs and fits are cached
for one build.  The same functions are importable (``tests/test_docs.py`` checks a few of
them against the scenario results directly).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

import simcore as sc
from simcore import calibrate, criticality, scenario

YEN = 1e6  # the shipped scenarios are in million yen
RARE_EARTH_USERS = ("MAG", "3531", "3511", "3521", "3311", "3321", "3017", "3299", "3421",
                    "3211", "2089", "3113", "3114", "2911")


# --------------------------------------------------------------------------------------
# cached runs
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _scn(name: str):
    return scenario.load(name)


@lru_cache(maxsize=None)
def run(name: str, over: tuple = ()):
    return _scn(name).run(**dict(over)) if over else _scn(name).run()


@lru_cache(maxsize=None)
def fit(over: tuple = ()):
    sc3 = _scn("kiuchi-2025-3m")
    return calibrate.calibrate(sc3.copy_with(dict(over)) if over else sc3)


def bn(v_million: float) -> str:
    return f"{v_million / 1e3:,.1f}"


def pct(x: float, d: int = 4) -> str:
    return f"{100 * x:.{d}f}"


def _table(head: list[str], rows: list[list[str]], align: str | None = None) -> str:
    al = align or "l" * len(head)
    sep = ["---:" if a == "r" else "---" for a in al]
    out = ["| " + " | ".join(head) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# sector groups
# --------------------------------------------------------------------------------------
GROUPS = (
    ("manufacturing (11-39, RE, MAG)", lambda c: c in ("RE", "MAG") or 11 <= int(c[:2]) <= 39),
    ("agriculture, mining", lambda c: c[:2] in ("01", "06")),
    ("construction, utilities", lambda c: c[:2] in ("41", "46", "47", "48")),
    ("trade", lambda c: c[:2] == "51"),
    ("transport", lambda c: c[:2] == "57"),
    ("dwellings, public administration, schools, medical (5531, 6111, 6112, 6311, 6411)",
     lambda c: c in ("5531", "6111", "6112", "6311", "6411")),
    ("other services", lambda c: True),
)


def group_of(code: str) -> str:
    for name, test in GROUPS:
        if test(code):
            return name
    raise AssertionError(code)


def composition(res) -> dict[str, float]:
    va = res.value_added_loss.to_series()
    tot = float(va.sum())
    out = {name: 0.0 for name, _ in GROUPS}
    for code, v in va.items():
        out[group_of(str(code))] += float(v) / tot
    return out


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
def reproduction() -> str:
    f = fit()
    over = (("model.dependency_scale", f.value),)
    rows = []
    for name in ("kiuchi-2025-3m", "kiuchi-2025-12m"):
        for r in calibrate.reference_figures(_scn(name), dict(over), (f.target_id,)):
            if r["unit"] == "JPY":
                pub, mod = f"{r['published'] / 1e9:,.1f} bn yen", f"{r['model'] / 1e9:,.1f} bn yen"
            else:
                pub, mod = f"{100 * r['published']:.2f} %", f"{100 * r['model']:.4f} %"
            rows.append([r["id"], pub, mod, f"{100 * r['rel_error']:+.2f} %",
                         "fitted" if r["fitted"] else "predicted",
                         "yes" if r["ok"] else "**no**"])
    head = (f"Calibrated `dependency_scale` = **{f.value:.6f}** (prior {f.prior:g}; "
            f"{f.evaluations} model runs), fitted to `{f.target_id}` only.\n\n")
    return head + _table(["figure", "published", "model", "error", "status", "within tolerance"],
                         rows)


def composition_table() -> str:
    cases = (("kiuchi-2025-3m", "Kiuchi, 3 months"),
             ("kiuchi-2025-12m", "Kiuchi, 12 months"),
             ("rare-earth-data-driven-12m", "data-driven, 12 months"))
    comps = [composition(run(n)) for n, _ in cases]
    rows = [[name] + [pct(c[name], 1) for c in comps] for name, _ in GROUPS]
    rows.append(["**total, bn yen**"] + [bn(float(run(n).gdp_loss_total)) for n, _ in cases])
    return _table(["share of the value-added loss, %"] + [t for _, t in cases], rows,
                  "l" + "r" * len(cases))


def top_losers(name: str = "kiuchi-2025-3m", n: int = 12) -> str:
    res = run(name)
    va = res.value_added_loss.to_series().sort_values(ascending=False)
    sup = res.value_added_loss_supply.to_series()
    tot = float(va.sum())
    names = res.name_en.to_series()
    rows = []
    for rank, (code, v) in enumerate(va.head(n).items(), 1):
        s = float(sup[code]) / float(v) if v > 0 else 0.0
        rows.append([str(rank), f"`{code}`", str(names[code]), bn(float(v)), pct(v / tot, 1),
                     pct(s, 0), pct(1 - s, 0)])
    return _table(["rank", "code", "sector", "VA loss, bn yen", "% of total",
                   "supply-constrained %", "demand-constrained %"], rows, "rllrrrr")


def top_losers_data_driven() -> str:
    return top_losers("rare-earth-data-driven-12m")


def _indefinite_cut():
    """The data-driven total cut of Chinese rare earths and magnets, never lifted."""
    return run("rare-earth-data-driven-12m",
               (("shocks.0.duration", 36500.0), ("shocks.1.duration", 36500.0),
                ("horizon.days", 240)))


def chain_delay() -> str:
    res = _indefinite_cut()
    od = res.onset_day.to_series()
    x = res.output
    x0 = res.output_baseline
    names = res.name_en.to_series()
    rows = []
    for c in ("RE",) + RARE_EARTH_USERS:
        loss = 1 - float(x.sel(sector=c).isel(time=-1)) / float(x0.sel(sector=c))
        d = int(od[c])
        rows.append([f"`{c}`", str(names[c]), str(d) if d >= 0 else "never",
                     pct(loss, 1)])
    return _table(["code", "sector", "first day output is > 0.5 % below baseline",
                   "output loss on day 240, %"], rows, "llrr")


def onset(code: str = "3511") -> str:
    return str(int(_indefinite_cut().onset_day.sel(sector=code)))


def criticality_variants() -> str:
    f0 = fit()
    rows = []
    for label, imp in (("default (important = 0.5)", None),
                       ("every important pair critical (1)", 1.0),
                       ("every important pair non-critical (0)", 0.0)):
        extra = () if imp is None else (("model.criticality_important", imp),)
        for how, scale in (("scale held", f0.value), ("scale refitted", None)):
            if scale is None:
                if imp is None:
                    continue
                scale = fit(extra).value
            over = extra + (("model.dependency_scale", scale),)
            r3, r12 = run("kiuchi-2025-3m", over), run("kiuchi-2025-12m", over)
            rows.append([label, how, f"{scale:.4f}", bn(float(r3.gdp_loss_total)),
                         bn(float(r12.gdp_loss_total)), pct(float(r12.gdp_loss_share), 3),
                         pct(composition(r3)[GROUPS[0][0]], 1)])
    return _table(["important class", "dependency_scale", "value", "3-month loss, bn yen",
                   "12-month loss, bn yen", "12-month % of GDP", "manufacturing share, %"],
                  rows, "llrrrrr")


def restocking_variants() -> str:
    f0 = fit()
    rows = []
    for tau in (2.0, 10.0, 1e6):
        over = (("model.inventory_tau", tau),)
        ft = f0 if tau == 2.0 else fit(over)
        o = over + (("model.dependency_scale", ft.value),)
        r3, r12 = run("kiuchi-2025-3m", o), run("kiuchi-2025-12m", o)
        l3, l12 = float(r3.gdp_loss_total), float(r12.gdp_loss_total)
        after = float(r3.gdp_loss.values[92:].sum())
        rows.append([f"{tau:g}", f"{ft.value:.4f}", bn(l3), pct(after / l3, 1), bn(l12),
                     pct(float(r12.gdp_loss_share), 3), f"{l12 / l3:.2f}",
                     pct(composition(r3)[GROUPS[0][0]], 1)])
    return _table(["inventory_tau, days", "fitted scale", "3-month loss, bn yen",
                   "of which after the cut, %", "12-month loss, bn yen", "12-month % of GDP",
                   "12 / 3 months", "manufacturing share, %"], rows, "rrrrrrrr")


def backward_linkage(name: str = "kiuchi-2025-12m", n: int = 10) -> str:
    """Suppliers' demand-constrained losses against the static Leontief backward linkage
    of the supply-constrained output losses."""
    res = run(name)
    t = _scn(name).table()
    f = sc.tables.flat(t)
    x = f["x"]
    A = np.where(x[None, :] > 0, f["Z"] / np.where(x > 0, x, 1.0)[None, :], 0.0)
    mu = sc.tables.import_shares(t).values.reshape(-1)
    Ad = (1 - mu)[:, None] * A
    L = np.linalg.inv(np.eye(len(x)) - Ad)
    sup = res.output_loss_supply.values.clip(min=0)
    static = L @ sup - sup  # output the suppliers no longer need to deliver
    dem = res.output_loss_demand.values
    codes = [str(s) for s in res.sector.values]
    names = res.name_en.to_series()
    order = np.argsort(-dem)[:n]
    rows = [[f"`{codes[i]}`", str(names[codes[i]]), bn(dem[i]), bn(static[i]),
             f"{dem[i] / static[i]:.2f}" if static[i] > 0 else "-"] for i in order]
    rows.append(["", "**all sectors**", bn(dem.sum()), bn(static.sum()),
                 f"{dem.sum() / static.sum():.2f}"])
    return _table(["code", "sector", "model: demand-constrained output loss, bn yen",
                   "static Leontief backward linkage, bn yen", "model / static"], rows,
                  "llrrr")


def variants() -> str:
    rows = []
    for nm in scenario.available():
        r = run(nm)
        rows.append([f"`{nm}`", _scn(nm).data.get("title", ""), bn(float(r.gdp_loss_total)),
                     pct(float(r.gdp_loss_share)), str(r.attrs["days"])])
    return _table(["scenario", "title", "loss, bn yen", "% of GDP", "days run"], rows,
                  "llrrr")


def resolution() -> str:
    """The same shock at 185 and 37 sectors, classes and buffers aggregated flow-weighted."""
    from simcore.dynamic.params import DynamicParams

    t185 = sc.datasets.load("japan-2015-185")
    t37 = sc.datasets.load("japan-2015-37")
    data = scenario.scenario_dir() / "data"
    groups = dict(sc.transform.japan_185_to_37().sectors)
    order = [str(s) for s in t37.sector.values]
    d185 = criticality.dependency_cells(t185, data / "criticality.toml")
    i185 = criticality.inventory_cells(t185, data / "buffers.toml")
    d37 = criticality.aggregate_cells(d185, t185, groups, order)
    i37 = criticality.aggregate_cells(i185, t185, groups, order)
    rows = []
    for label, sec in (("transport equipment (35)", "35"), ("electronic components (32)", "32"),
                       ("chemicals (20)", "20")):
        fine = [c for c, g in groups.items() if g == sec]
        out = []
        for t, shocks, d, i in (
                (t185, [sc.CapacityShock(sector=c, share=0.3, duration=30) for c in fine],
                 d185, i185),
                (t37, [sc.CapacityShock(sector=sec, share=0.3, duration=30)], d37, i37)):
            p = DynamicParams(dependency_cells=d, inventory_cells=i, inventory_tau=10.0)
            out.append(float(sc.simulate(t, shocks, params=p, days=365).gdp_loss_total))
        rows.append([label, bn(out[0]), bn(out[1]), f"{out[1] / out[0]:.2f}"])
    return _table(["30 % capacity loss for 30 days in", "185 sectors, bn yen",
                   "37 sectors (flow-weighted classes and stocks), bn yen", "37 / 185"], rows,
                  "lrrr")


def class_shares() -> str:
    t = _scn("kiuchi-2025-3m").table()
    spec = criticality.load_rules(scenario.scenario_dir() / "data" / "criticality.toml",
                                  "criticality")
    cls = criticality.class_matrix(t, spec, {"MAG": "3399", "RE": "2711"}).values
    Z = sc.tables.flat(t)["Z"]
    rows = []
    for c in criticality.CLASSES:
        m = cls == c
        rows.append([c.replace("_", "-"), pct(m.mean(), 1), pct(Z[m].sum() / Z.sum(), 1)])
    return _table(["class", "share of all pairs, %", "share of intermediate flows, %"], rows,
                  "lrr")


def _rules(kind: str) -> str:
    spec = criticality.load_rules(scenario.scenario_dir() / "data" / f"{kind}.toml", kind)
    rows = []
    for r in criticality.rule_table(spec):
        what = (r["class"] or "").replace("_", "-") if kind == "criticality" else (
            f"{r['days']:g} ({r['range'][0]:g}-{r['range'][1]:g})")
        inputs = r["inputs"] if isinstance(r["inputs"], str) else ", ".join(r["inputs"])
        buyers = r["buyers"] if isinstance(r["buyers"], str) else ", ".join(r["buyers"])
        thr = f" (cost share >= {r['min_cost_share']:g})" if r.get("min_cost_share") else ""
        rows.append([f"`{r['id']}`", inputs + thr, buyers, what, r["source"], r["note"] or ""])
    return _table(["rule", "inputs", "buyers", "class" if kind == "criticality" else "days (range)",
                   "source", "note"], rows)


def criticality_rules() -> str:
    return _rules("criticality")


def buffer_rules() -> str:
    return _rules("buffers")


def data_file(name: str) -> Path:
    return scenario.scenario_dir() / "data" / name


def fitted_scale() -> str:
    return f"{fit().value:.6f}"


# --------------------------------------------------------------------------------------
# figures (rendered into docs/_generated/ when the docs are built)
# --------------------------------------------------------------------------------------
def total(name: str) -> float:
    return float(run(name).gdp_loss_total)  # million yen


def render_figures(out: Path) -> list[Path]:
    """Render the figures of the methodology page from fresh runs."""
    import xarray as xr
    from matplotlib.figure import Figure

    from simcore import plot

    out.mkdir(parents=True, exist_ok=True)
    made = []
    for name, file in (("kiuchi-2025-3m", "kiuchi-3m.png"),
                       ("rare-earth-data-driven-12m", "data-driven-12m.png")):
        made.append(plot.save(plot.overview(run(name)), out / file))

    def curve(names, values, dim, long_name):
        return xr.Dataset(
            {"gdp_loss_total": (dim, [total(n) for n in names], {"units": "million JPY"})},
            coords={dim: (dim, values, {"long_name": long_name, "units": "days"})})

    dur = curve(["vary-duration-1m", "kiuchi-2025-3m", "vary-duration-6m", "kiuchi-2025-12m",
                 "vary-duration-24m"], [30.42, 91.25, 182.5, 365.0, 730.0],
                "duration", "duration of the export stop")
    stk = curve(["vary-stocks-0", "vary-stocks-30", "vary-stocks-60", "vary-stocks-90"],
                [1.0, 30.0, 60.0, 90.0], "stocks", "stocks of rare earths and magnets")
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    plot.response_curve(dur, x="duration", ax=ax1, title="Loss by duration (Kiuchi setting)")
    plot.response_curve(stk, x="stocks", ax=ax2,
                        title="Loss by stock size (3-month stop, restocking in 10 days)")
    made.append(plot.save(fig, out / "vary-curves.png"))
    base = total("kiuchi-2025-3m")
    rows = [("duration 1 month / 6 months",
             total("vary-duration-1m"), total("vary-duration-6m")),
            ("RE/MAG stocks 30 days / 1 day, restocking",
             total("vary-stocks-30"), total("vary-stocks-0")),
            ("China's RE share 60 % (Kiuchi) / 71.9 %", total("vary-china-share-60"), base),
            ("other origins replace 50 % / none", total("vary-ramp-up"), base)]
    fig = plot.tornado(rows, base=base, unit="million JPY", low_label="first setting",
                       high_label="second setting",
                       title="3-month loss: one change at a time from kiuchi-2025-3m")
    made.append(plot.save(fig, out / "vary-tornado.png"))
    made += render_calibration_figures(out)
    return made


def loss_bn(name: str) -> str:
    return bn(total(name))


def onset_pooled(code: str = "3511") -> str:
    """The onset with one pooled stock per input (``origin_stocks = false``)."""
    res = run("rare-earth-data-driven-12m",
              (("shocks.0.duration", 36500.0), ("shocks.1.duration", 36500.0),
               ("horizon.days", 240), ("model.origin_stocks", False)))
    d = int(res.onset_day.sel(sector=code))
    return str(d) if d >= 0 else "never (within 240 days)"


# --------------------------------------------------------------------------------------
# Bayesian calibration (docs/calibration.md) and bands (docs/reproduction.md)
# --------------------------------------------------------------------------------------
#: Posterior draws behind the bands of the docs (the bands of `simcore reproduce` use
#: simcore.references.BAND_DRAWS).
DOC_BAND_DRAWS = 40


@lru_cache(maxsize=None)
def posterior():
    return calibrate.load_posterior()


def _fmt_num(x: float) -> str:
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _prior_text(p) -> str:
    lo, hi = p.bounds
    if p.prior == "uniform":
        return f"uniform({_fmt_num(lo)}, {_fmt_num(hi)})"
    if p.prior == "loguniform":
        return f"log-uniform({_fmt_num(lo)}, {_fmt_num(hi)})"
    med, sig = p.args
    return (f"log-normal(median {_fmt_num(med)}, sigma {sig:g}), truncated to "
            f"[{_fmt_num(lo)}, {_fmt_num(hi)}]")


def _informed_by(name: str) -> str:
    post = posterior()
    return ", ".join(f"`{t.id}`" for t in post.problem.targets if name in t.params)


def calibration_priors() -> str:
    post = posterior()
    rows = [[f"`{p.name}`", p.label, ", ".join(f"`{k}`" for k in p.keys), _prior_text(p),
             p.source, _informed_by(p.name)] for p in post.problem.params]
    return _table(["parameter", "meaning", "scenario keys", "prior", "source",
                   "targets whose model value depends on it"], rows)


def calibration_targets() -> str:
    post = posterior()
    rows = []
    for t in post.problem.targets:
        obs = (f"{t.observed / 1e9:,.0f} bn yen" if t.quantity == "gdp_loss_total"
               else f"{t.observed:g} days")
        err = (f"{100 * t.error:g} % (log scale)" if t.likelihood == "lognormal"
               else f"{t.error:g} days (softness)")
        rows.append([f"`{t.id}`", f"`{t.scenario}`", f"`{t.quantity}`", obs,
                     t.likelihood.replace("_", " "), err, t.note, t.source])
    return _table(["target", "scenario", "quantity", "figure", "likelihood", "error", "how",
                   "source"], rows)


def _shrink(p, col) -> float:
    lo0, hi0 = float(p.ppf(0.05)), float(p.ppf(0.95))
    lo1, hi1 = np.quantile(col, [0.05, 0.95])
    return float((hi1 - lo1) / (hi0 - lo0))


def calibration_posterior() -> str:
    post = posterior()
    rows = []
    for p in post.problem.params:
        col = post.column(p.name)
        lo, hi = np.quantile(col, [0.05, 0.95])
        r = _shrink(p, col)
        shift = abs(np.median(col) - float(p.ppf(0.5))) / (float(p.ppf(0.95)) - float(p.ppf(0.05)))
        finding = ("informed" if r < 0.8 or shift > 0.1 else "stays at its prior")
        rows.append([f"`{p.name}`", _fmt_num(float(p.ppf(0.5))),
                     f"{_fmt_num(float(p.ppf(0.05)))} – {_fmt_num(float(p.ppf(0.95)))}",
                     _fmt_num(float(np.median(col))), f"{_fmt_num(lo)} – {_fmt_num(hi)}",
                     f"{r:.2f}", finding])
    return _table(["parameter", "prior median", "prior 90 %", "posterior median",
                   "posterior 90 %", "width ratio", "finding"], rows, "lrrrrrl")


def posterior_value(spec: str) -> str:
    """``NAME.median`` / ``NAME.low`` / ``NAME.high`` of the posterior."""
    name, what = spec.split(".")
    col = posterior().column(name)
    q = {"median": 0.5, "low": 0.05, "high": 0.95}[what]
    return _fmt_num(float(np.quantile(col, q)))


def calibration_diagnostics() -> str:
    post = posterior()
    rows = []
    for n in post.names:
        d = post.diagnostics[n]
        rows.append([f"`{n}`", f"{d['rhat']:.4f}", f"{d['rhat_between_ensembles']:.4f}",
                     f"{d['ess_bulk']:,.0f}", f"{d['ess_tail']:,.0f}", f"{d['tau']:.1f}",
                     f"{d['n_tau']:.0f}", f"{d['ess_tau']:,.0f}"])
    return _table(["parameter", "R-hat (walkers)", "R-hat (ensembles)", "ESS bulk", "ESS tail",
                   "tau (steps)", "draws / tau", "draws x walkers / tau"], rows, "lrrrrrrr")


def sampler_value(key: str) -> str:
    post = posterior()
    if key in post.sampler:
        v = post.sampler[key]
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    v = post.extra[key]
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def calibration_validation() -> str:
    post = posterior()
    rows = []
    for t in post.problem.targets:
        v = post.validation[t.id]
        unit = "relative" if v["relative"] else "days"
        f = (lambda x: f"{100 * x:.2f} %") if v["relative"] else (lambda x: f"{x:.2f}")
        rows.append([f"`{t.id}`", post.problem.training[t.id]["kind"],
                     str(post.problem.training[t.id]["U"].shape[0]), str(v["n"]), unit,
                     f(v["rms_error"]), f(v["max_abs_error"]), str(v.get("n_near", 0)),
                     f(v.get("rms_error_near", float("nan"))),
                     f(v.get("max_abs_error_near", float("nan"))),
                     f"{v.get('max_loglik_error_near', float('nan')):.3f}"])
    return _table(["target", "surrogate", "training runs", "held-back runs", "error unit",
                   "RMS error", "max error", "held-back runs near the figure",
                   "RMS error near", "max error near", "max log-likelihood error near"],
                  rows, "llrrlrrrrrr")


def calibration_recovery() -> str:
    import json

    f = calibrate.POSTERIOR_FILE.with_name("recovery-rare-earth.json")
    if not f.is_file():
        return "*(no recovery result: run `python -m simcore.calibrate --recovery 100`)*\n"
    r = json.loads(f.read_text())
    rows = [[f"`{n}`", f"{k} of {r['repeats']}",
             "yes" if k > r["binomial_floor_1pct"] else "NO"] for n, k in r["inside"].items()]
    return (_table(["parameter", f"true value inside the {100 * r['level']:g} % interval",
                    f"above the 1 % binomial floor ({r['binomial_floor_1pct']})"], rows, "lrl")
            + f"\n{r['repeats']} repeats, one emcee ensemble of {r['walkers']} walkers x "
              f"{r['steps']} steps each, seed {r['seed']}; {r['seconds'] / 60:.0f} minutes "
              f"(`{r['command']}`, simcore {r['simcore_version']}).\n")


@lru_cache(maxsize=None)
def bands(name: str):
    over = {}
    if name.startswith("kiuchi"):
        over = {"model.dependency_scale": fit().value}  # replaced by the draws
    return calibrate.run_bands(name, DOC_BAND_DRAWS, posterior=posterior(), overrides=over)


def reproduction_bands() -> str:
    from simcore import references

    rows = []
    for name in ("kiuchi-2025-3m", "kiuchi-2025-12m"):
        sc = _scn(name)
        ds = bands(name)
        cal = sc.data.get("calibration", {})
        for ref in sc.data.get("reference", []):
            v = ds[ref["quantity"]].values.astype(float)
            if ref["unit"] == "JPY":
                v = v * YEN
                f = lambda x: f"{x / 1e9:,.0f} bn yen"  # noqa: E731
            else:
                f = lambda x: f"{100 * x:.3f} %"  # noqa: E731
            lo, med, hi = np.quantile(v, [0.05, 0.5, 0.95])
            role = "target" if cal.get("target_id") == ref["id"] else "predicted"
            rows.append([f"`{ref['id']}`", f(float(ref["published"])), f(med),
                         f"{f(lo)} – {f(hi)}", role])
    return (_table(["figure", "published", "model median", "model 90 % band", "role"], rows,
                   "lrrrl")
            + f"\nOver {DOC_BAND_DRAWS} posterior draws of `dependency_scale` and "
              "`china_mag_share` (Kiuchi's other assumptions held fixed); "
              f"`simcore reproduce` uses {references.BAND_DRAWS} draws.\n")


def render_calibration_figures(out: Path) -> list[Path]:
    """Corner plot, prior against posterior, and the band around the daily loss."""
    from matplotlib.figure import Figure

    from simcore import plot

    out.mkdir(parents=True, exist_ok=True)
    post = posterior()
    ps = post.problem.params
    k = len(ps)
    X = post.samples
    prior = post.problem.prior_draws(20000, 1)
    fig = Figure(figsize=(2.1 * k, 2.1 * k), layout="constrained")
    axes = fig.subplots(k, k)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            bx = ps[j].bounds
            if i == j:
                ax.hist(prior[:, i], bins=40, range=bx, density=True, color="0.8",
                        label="prior")
                ax.hist(X[:, i], bins=40, range=bx, density=True, histtype="step",
                        color="C0", lw=1.5, label="posterior")
                ax.set_yticks([])
            else:
                ax.hist2d(X[:, j], X[:, i], bins=30, range=[bx, ps[i].bounds], cmap="Blues")
                ax.set_ylim(*ps[i].bounds)
                if j > 0:
                    ax.set_yticklabels([])
            ax.set_xlim(*bx)
            if i == k - 1:
                ax.set_xlabel(ps[j].name, fontsize="small")
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(ps[i].name, fontsize="small")
    axes[0, 0].legend(fontsize="x-small", loc="upper right")
    made = [plot.save(fig, out / "calibration-corner.png")]
    fig = plot.trajectory(run("kiuchi-2025-12m", (("model.dependency_scale", fit().value),)),
                          band=bands("kiuchi-2025-12m"),
                          title="kiuchi-2025-12m: daily loss, 90 % posterior band")
    made.append(plot.save(fig, out / "kiuchi-12m-band.png"))
    return made


def substitution_corner(which: str) -> str:
    """Share (%) of prior or posterior draws in which other origins start delivering before
    the stocks run out (lag < stock days), and with a headroom above 0.7 as well."""
    post = posterior()
    X = post.samples if which.startswith("post") else post.problem.prior_draws(200000, 2)
    n = post.names
    h, L, D = (X[:, n.index(k)] for k in ("substitution_headroom", "substitution_lag",
                                            "stock_days"))
    early = L < D
    if which.endswith("strong"):
        early = early & (h > 0.7)
    return f"{100 * np.mean(early):.0f}"


def calibration_cost() -> str:
    """The last run of ``benchmarks/calibration.py --write`` (benchmarks/results/)."""
    import json

    f = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "calibration.json"
    if not f.is_file():
        return "*(no benchmark result: run `python benchmarks/calibration.py --write`)*\n"
    r = json.loads(f.read_text())
    rows = [
        ["one engine run of `kiuchi-2025-12m`", f"{r['engine_run_12m_s']:.2f} s", "1"],
        [f"`simcore run kiuchi-2025-12m --bands {r['draws']}` (the draws only; "
         f"{r['kernel_calls']} kernel calls)", f"{r['bands_s']:.1f} s",
         f"{r['bands_multiple']:.0f}"],
        ["one engine run of `kiuchi-2025-3m`", f"{r['engine_run_3m_s']:.2f} s", "1"],
        [f"full calibration: {r['calibration_engine_runs']} engine runs and sampling "
         "(the shipped posterior's record)",
         f"{r['calibration_engine_s'] + r['calibration_sampling_s']:.0f} s",
         f"{r['calibration_multiple_of_3m_run']:.0f}"],
    ]
    if "rebuild_s" in r:
        rows.append(["full calibration, rebuilt now", f"{r['rebuild_s']:.0f} s",
                     f"{r['rebuild_multiple_of_3m_run']:.0f}"])
    return (_table(["case", "wall time", "multiple of one engine run of the same case"], rows,
                   "lrr")
            + f"\nMeasured on {r['cpu_count']} cores (1-minute load average "
              f"{r['load_1min']:.1f}: a shared machine, so the multiples are what it gave).\n")


# --------------------------------------------------------------------------------------
# the multi-regional engine (docs/mrio.md)
# --------------------------------------------------------------------------------------
MRIO_SCENARIO = "china-rare-earth-stop-mrio-3m"


@lru_cache(maxsize=None)
def _jcr():
    return sc.datasets.load("jcr-2015-39")


def mrio_assumptions() -> str:
    """The assumptions of the shipped MRIO, read from its data file."""
    import tomllib

    from simcore.datasets import _build_mrio

    a = tomllib.loads(_build_mrio.ASSUMPTIONS.read_text(encoding="utf-8"))
    o, m = a["origins"], a["import_shares"]

    def ov(d: dict) -> str:
        return ", ".join(f"{k} {100 * float(v):g} %" for k, v in d.items())

    rows = [
        ["technology of every region", f"that of {a['technology']['same_as']}"],
        ["GDP relative to Japan", f"CHN {a['gdp']['CHN']:g}, ROW {a['gdp']['ROW']:g}"],
        ["Japan's import share of each product", "Japan's table (MIC competitive imports)"],
        ["China's import share", f"{m['CHN_factor']:g} x Japan's; {ov(m['CHN_override'])}"],
        ["China's share of Japan's imports", f"{100 * o['JPN_from_CHN']:g} % (RE and MAG: "
                                             "rare_earths.toml [origins])"],
        ["Japan's share of China's imports", f"{100 * o['CHN_from_JPN']:g} %"],
        ["rest of the world's use bought from Japan",
         f"{100 * o['ROW_from_JPN']:g} %; {ov(o['ROW_from_JPN_override'])}"],
        ["rest of the world's use bought from China",
         f"{100 * o['ROW_from_CHN']:g} %; {ov(o['ROW_from_CHN_override'])}"],
        ["final demand", "Japan's domestic final demand by product, scaled per region"],
    ]
    return _table(["assumption", "value"], rows)


def mrio_table_summary() -> str:
    """Size and trade of the regions of the shipped MRIO."""
    t = _jcr()
    f = sc.tables.flat(t)
    R, n = t.sizes["region"], t.sizes["sector"]
    regs = [str(r) for r in t.region.values]
    va = sc.tables.value_added_gdp(t).sum("sector").values
    Z = f["Z"].reshape(R, n, R, n)
    Y = f["Y"].reshape(R, n, R, -1).sum(-1)
    codes = [str(s) for s in t.sector.values]
    rows = []
    for r, reg in enumerate(regs):
        use = Z[:, :, r, :].sum(-1) + Y[:, :, r]  # origin region x product
        imp = (use.sum() - use[r].sum()) / use.sum()
        cn = [use[regs.index("CHN"), codes.index(p)] / use[:, codes.index(p)].sum()
              for p in ("RE", "MAG")]
        rows.append([reg, bn(va[r]), pct(va[r] / va.sum(), 1), pct(imp, 1),
                     pct(cn[0], 1), pct(cn[1], 1)])
    return _table(["region", "GDP-like value added, bn yen", "% of the table",
                   "% of use from other regions", "China's % of RE use", "China's % of MAG use"],
                  rows, "lrrrrr")


def mrio_regions() -> str:
    """Loss by region in the shipped MRIO scenario, and with the channel to Japan closed."""
    r = run(MRIO_SCENARIO)
    rows = []
    for k, reg in enumerate(r.region.values):
        rows.append([str(reg), bn(float(r.gdp_loss_by_region[k])),
                     pct(float(r.gdp_loss_share_by_region[k])),
                     bn(float(r.direct_loss_by_region[k]))])
    rows.append(["**all**", bn(float(r.gdp_loss_total)), pct(float(r.gdp_loss_share)),
                 bn(float(r.direct_loss_by_region.sum()))])
    return _table(["region", "loss, bn yen", "% of the region's GDP",
                   "loss with the stop limited to Japan, bn yen"], rows, "lrrr")


def mrio_value(key: str) -> str:
    """Inline figures of the shipped MRIO scenario."""
    r = run(MRIO_SCENARIO)
    jp = list(r.region.values).index("JPN")
    g = float(r.region_gdp[jp])
    m = _scn(MRIO_SCENARIO).data["model"]
    vals = {
        "duration": f"{_scn(MRIO_SCENARIO).data['shocks'][0]['duration']:g}",
        "stock_days": f"{m['carved_inventory_days']:g}",
        "spare_pct": f"{100 * (m['alpha_max'] - 1):g}",
        "alpha_max": f"{m['alpha_max']:g}",
        "days": str(r.attrs["days"]),
        "japan_total": bn(float(r.gdp_loss_by_region[jp])),
        "japan_total_pct": pct(float(r.gdp_loss_by_region[jp]) / g),
        "japan_direct": bn(float(r.region_loss_direct)),
        "japan_third": bn(float(r.region_loss_third_country)),
        "japan_third_share": f"{100 * float(r.region_loss_third_country) / float(r.gdp_loss_by_region[jp]):.0f}",
    }
    return vals[key]


def mrio_aggregated_classes() -> str:
    """Dependency shares and stocks of a few pairs of the MRIO's 39 sectors, aggregated
    flow-weighted from the 185-sector classes, buffers and carve-out of the scenario."""
    p = _scn(MRIO_SCENARIO).params()
    dep, inv = p.dependency_cells, p.inventory_cells
    pairs = [("MAG", "35"), ("MAG", "33"), ("RE", "MAG"), ("RE", "35"), ("46", "35"),
             ("27", "35")]
    rows = []
    for a, b in pairs:
        i, j = dep.products.index(a), dep.buyers.index(b)
        rows.append([f"`{a}`", f"`{b}`", f"{dep.values[i, j]:.3f}", f"{inv.values[i, j]:.1f}"])
    return _table(["input", "buyer", "dependency share", "stock, days"], rows, "llrr")


def mrio_benchmark() -> str:
    """The last run of ``benchmarks/mrio.py --write`` (benchmarks/results/mrio-latest.json)."""
    import json

    f = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "mrio-latest.json"
    if not f.is_file():
        return "*(no benchmark result: run `python benchmarks/mrio.py --write`)*\n"
    rows = []
    for c in json.loads(f.read_text())["cases"]:
        s, b = c["simcore"], c.get("boario", {})
        if not s.get("ok"):
            rows.append([c["table"], "failed", "", "", "", "", ""])
            continue
        rows.append([
            f"`{c['table']}` ({s['p']:,} industries, {s['legs']:,} legs)",
            f"{s['best_s']:.1f}", f"{s['peak_mb'] / 1024:.2f}",
            f"{c['boario_scaled_s']:.0f}" if "boario_scaled_s" in c else "-",
            f"{b['peak_mb'] / 1024:.2f}" if b.get("ok") else "-",
            f"{c['speedup']:.1f}" if "speedup" in c else "-",
            str(b.get("days", "")) if b.get("ok") else "",
        ])
    return _table(["table", "simcore, one year, s", "simcore peak, GiB", "BoARIO, one year "
                   "(scaled), s", "BoARIO peak, GiB", "speed-up", "BoARIO days run"], rows,
                  "lrrrrrr")
