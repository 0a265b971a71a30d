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
from simcore import calibrate, criticality, references, scenario

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


@lru_cache(maxsize=None)
def _restocking(tau: float) -> dict:
    """Kiuchi's pair with ``inventory_tau`` = tau, the scale refitted to the 3-month loss."""
    f0 = fit()
    over = (("model.inventory_tau", tau),)
    ft = f0 if tau == 2.0 else fit(over)
    o = over + (("model.dependency_scale", ft.value),)
    r3, r12 = run("kiuchi-2025-3m", o), run("kiuchi-2025-12m", o)
    l3, l12 = float(r3.gdp_loss_total), float(r12.gdp_loss_total)
    return {"scale": ft.value, "l3": l3, "after": float(r3.gdp_loss.values[92:].sum()) / l3,
            "l12": l12, "share12": float(r12.gdp_loss_share),
            "manuf": composition(r3)[GROUPS[0][0]]}


def restocking_variants() -> str:
    rows = []
    for tau in (2.0, 10.0, 1e6):
        r = _restocking(tau)
        rows.append([f"{tau:g}", f"{r['scale']:.4f}", bn(r["l3"]), pct(r["after"], 1),
                     bn(r["l12"]), pct(r["share12"], 3), f"{r['l12'] / r['l3']:.2f}",
                     pct(r["manuf"], 1)])
    return _table(["inventory_tau, days", "fitted scale", "3-month loss, bn yen",
                   "of which after the cut, %", "12-month loss, bn yen", "12-month % of GDP",
                   "12 / 3 months", "manufacturing share, %"], rows, "rrrrrrrr")


def restocking_value(spec: str) -> str:
    """``TAU.after`` (% of the 3-month loss after the cut) or ``TAU.share12`` (12-month %
    of GDP) of :func:`restocking_variants`."""
    tau, what = spec.rsplit(".", 1)
    r = _restocking(float(tau))
    return pct(r[what], 1) if what == "after" else pct(r[what], 3)


@lru_cache(maxsize=None)
def _linkage(name: str = "kiuchi-2025-12m"):
    """(codes, names, demand-constrained output losses, static backward linkage of the
    supply-constrained output losses)."""
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
    return codes, res.name_en.to_series(), dem, static


def backward_linkage(name: str = "kiuchi-2025-12m", n: int = 10) -> str:
    """Suppliers' demand-constrained losses against the static Leontief backward linkage
    of the supply-constrained output losses."""
    codes, names, dem, static = _linkage(name)
    order = np.argsort(-dem)[:n]
    rows = [[f"`{codes[i]}`", str(names[codes[i]]), bn(dem[i]), bn(static[i]),
             f"{dem[i] / static[i]:.2f}" if static[i] > 0 else "-"] for i in order]
    rows.append(["", "**all sectors**", bn(dem.sum()), bn(static.sum()),
                 f"{dem.sum() / static.sum():.2f}"])
    return _table(["code", "sector", "model: demand-constrained output loss, bn yen",
                   "static Leontief backward linkage, bn yen", "model / static"], rows,
                  "llrrr")


def linkage_ratio(which: str) -> str:
    """``low`` / ``high``: the smallest and largest model / static ratio of the ten largest
    demand-constrained losers of the 12-month case; ``total``: over all sectors."""
    codes, names, dem, static = _linkage("kiuchi-2025-12m")
    if which == "total":
        return f"{dem.sum() / static.sum():.2f}"
    top = [dem[i] / static[i] for i in np.argsort(-dem)[:10] if static[i] > 0]
    return f"{(min if which == 'low' else max)(top):.2f}"


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


@lru_cache(maxsize=None)
def _class_shares() -> dict:
    """class -> (share of all pairs, share of intermediate flows) on the Kiuchi table."""
    t = _scn("kiuchi-2025-3m").table()
    spec = criticality.load_rules(scenario.scenario_dir() / "data" / "criticality.toml",
                                  "criticality")
    cls = criticality.class_matrix(t, spec, {"MAG": "3399", "RE": "2711"}).values
    Z = sc.tables.flat(t)["Z"]
    return {c: (float((cls == c).mean()), float(Z[cls == c].sum() / Z.sum()))
            for c in criticality.CLASSES}


def class_shares() -> str:
    rows = [[c.replace("_", "-"), pct(a, 1), pct(b, 1)] for c, (a, b) in _class_shares().items()]
    return _table(["class", "share of all pairs, %", "share of intermediate flows, %"], rows,
                  "lrr")


def class_flow_share(c: str) -> str:
    """Share (%, no decimals) of intermediate flows in class ``c``; the page's claim that
    most pairs are non-critical is checked."""
    sh = _class_shares()
    if not sh["non_critical"][0] > 0.5:
        raise RuntimeError("most pairs are no longer non-critical; edit docs/methodology.md")
    return f"{100 * sh[c][1]:.0f}"


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
#: Posterior draws behind the bands of the docs: those of `simcore reproduce`
#: (simcore.references.BAND_DRAWS), so that the docs show the bands it prints.
DOC_BAND_DRAWS = references.BAND_DRAWS


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
            lo, med, hi = calibrate.band(v, 0.9)
            role = "target" if cal.get("target_id") == ref["id"] else "predicted"
            rows.append([f"`{ref['id']}`", f(float(ref["published"])), f(med),
                         f"{f(lo)} – {f(hi)}", role])
    return (_table(["figure", "published", "model median", "model 90 % band", "role"], rows,
                   "lrrrl")
            + f"\nOver {DOC_BAND_DRAWS} stratified posterior draws of `dependency_scale` "
              "and `china_mag_share` (Kiuchi's other assumptions held fixed); "
              "as `simcore reproduce`.\n")


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
              f"{r['load_1min']:.1f}: a shared machine, so the multiples are what it gave); "
              f"record `benchmarks/results/calibration.json`, {record_date(f, r)}.\n")


def bands_accuracy() -> str:
    """The last run of ``benchmarks/bands.py --write`` (benchmarks/results/bands.json)."""
    import json

    f = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "bands.json"
    if not f.is_file():
        return "*(no benchmark result: run `python benchmarks/bands.py --write`)*\n"
    r = json.loads(f.read_text())
    three = lambda v, fmt: " / ".join(fmt.format(x) for x in v)  # noqa: E731
    rows = []
    for name, sc_ in r["scenarios"].items():
        for c in sc_["cases"]:
            shipped = (c["sampling"] == "stratified" and c["draws"] == r["band_draws"])
            label = f"{c['draws']} {c['sampling']}" + (" (`simcore reproduce`)" if shipped
                                                       else "")
            worst = ", ".join(f"{v:.3f} ({s})" for v, s in zip(c["sector_rmse_of_width_max"],
                                                                c["sector_worst"]))
            rows.append([f"`{name}`", label, three(c["total_rmse_pct"], "{:.2f}"),
                         three(c["total_bias_pct"], "{:+.2f}"),
                         three(c["sector_rmse_of_width_mean"], "{:.3f}"), worst])
    truth = "; ".join(
        f"`{n}` {three([v / 1e3 for v in s['truth_total']], '{:,.0f}')} bn yen"
        for n, s in r["scenarios"].items())
    return (_table(["scenario", "draws", "GDP loss: RMSE of low / median / high, %",
                    "its bias, %", "12 sectors: mean RMSE / band width, low / median / high",
                    "worst sector, low / median / high"], rows, "llrrrl")
            + f"\nTruth: the band over all {r['samples']:,} posterior samples (low / median / "
              f"high): {truth}.  {r['repeats']:,} repeats per row; record "
              f"`benchmarks/results/bands.json` (`{r['command']}`), {record_date(f, r)}.\n")


# --------------------------------------------------------------------------------------
# worked examples of the methodology page (a 30-day total cut of product 20 on japan-2015-37)
# --------------------------------------------------------------------------------------
def _cut20_run(days: int, **params):
    from simcore.dynamic.params import DynamicParams

    return sc.simulate(sc.datasets.load("japan-2015-37"),
                       sc.ImportCut(product="20", origin="ROW", share=1.0, duration=30),
                       params=DynamicParams(**params), days=days, record=())


@lru_cache(maxsize=None)
def _overproduction():
    """Fast overproduction (alpha_max = 1.25, alpha_tau = 1 day), 400 days."""
    r = _cut20_run(400, alpha_max=1.25, alpha_tau=1.0)
    gross, gain = float(r.gdp_loss_gross_total), float(r.gdp_gain_total)
    if not gain > gross:  # the page calls it a net gain
        raise RuntimeError(f"the overproduction example is no longer a net gain: gross loss "
                           f"{gross} million yen, gains {gain} million yen; edit "
                           "docs/methodology.md and docs/robustness.md")
    return gross, gain


def overproduction_example(what: str) -> str:
    """``gross`` (million yen, no decimals) or ``gains`` (bn yen, one decimal)."""
    gross, gain = _overproduction()
    return {"gross": f"{gross:,.0f}", "gains": bn(gain)}[what]


@lru_cache(maxsize=None)
def _late_restocking():
    """60-day stocks, ten years (3,650 days): the first day with a loss and the loss."""
    r = _cut20_run(3650, inventory_days=60.0)
    g = r.gdp_loss.values
    first = int(r.time.values[int(np.argmax(g > 1e-6 * g.max()))])
    if not first > 30:  # the page says the loss comes after the cut is over
        raise RuntimeError(f"the restocking example now has a loss on day {first}, during "
                           "the cut; edit docs/methodology.md")
    return first, float(r.gdp_loss_total)


def late_restocking_example(what: str) -> str:
    """``onset`` (first day whose loss exceeds 1e-6 of the peak daily loss) or ``loss``
    (bn yen, no decimals)."""
    first, loss = _late_restocking()
    return {"onset": str(first), "loss": f"{loss / 1e3:,.0f}"}[what]


# --------------------------------------------------------------------------------------
# timing figures: from the committed benchmark records (benchmarks/results/), never rerun
# --------------------------------------------------------------------------------------
RECORDS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def record_date(path: Path, rec: dict) -> str:
    """The record's own ``date_utc``; a record without one is dated by the last commit
    that changed it (``git log``), or said to be undated outside a git checkout."""
    import subprocess

    if rec.get("date_utc"):
        return str(rec["date_utc"])
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%cd", "--date=format:%Y-%m-%d",
                              "--", path.name], cwd=path.parent, capture_output=True,
                             text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        out = None
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return f"committed {out.stdout.strip()} (the record carries no date)"
    return "undated (the record carries no date)"


def _sweep_record() -> dict:
    import json

    return json.loads((RECORDS / "sweeps-latest.json").read_text())


def sweep_ms_per_year() -> str:
    """Milliseconds per scenario-year on one core (the record's local engine, 1 thread)."""
    return f"{1e3 / _sweep_record()['local_1']:.0f}"


def sweep_throughput() -> str:
    """The throughput table of docs/sweeps.md, from benchmarks/results/sweeps-latest.json."""
    r = _sweep_record()
    f = RECORDS / "sweeps-latest.json"
    rows = []
    if r.get("kernel_1"):
        rows.append([f"the bound: one block of {r['lanes']} points in the lane kernel alone, "
                     "one core", f"{r['kernel_1']:.0f} scenario-years/s"])
    rows += [
        ["local engine, 1 thread, Japan-187 (185 + RE + MAG), 365 days",
         f"{r['local_1']:.0f} scenario-years/s"],
        ["local engine, 2 threads",
         f"{r['local_2']:.0f} scenario-years/s (efficiency {r['local_efficiency']:.2f})"
         + (f"; {r['local_2_of_kernel_bound']:.2f} of two cores of the bound"
            if r.get("local_2_of_kernel_bound") else "")],
    ]
    if r.get("local_cpu_efficiency"):
        rows.append(["CPU time per scenario-year, local engine, 1 / 2 threads (the "
                     "machine's other load does not change it)",
                     f"{r['local_1_cpu_ms']:.1f} / {r['local_2_cpu_ms']:.1f} ms (efficiency "
                     f"{r['local_cpu_efficiency']:.2f})"])
    if r.get("dask_1"):
        rows += [
            ["Dask `LocalCluster`, 1 worker / 2 workers, 1,000-scenario chunks",
             f"{r['dask_1']:.0f} / {r['dask_2']:.0f} scenario-years/s"],
            ["Dask overhead against local, 1 / 2 workers",
             f"{100 * r['dask_overhead_1']:.1f} % / {100 * r['dask_overhead_2']:.1f} %"],
        ]
    rows.append([f"{r['nomura_scenarios']:,}-scenario Latin hypercube of `kiuchi-2025-3m` "
                 f"({r['nomura_mean_days']:.0f}-day horizons)", f"{r['nomura_s']:.0f} s"])
    cmds = (f"`{r['command']}`" if r.get("command")
            else f"`{r['command_1']}`, then `{r['command_2']}`")
    load = (f" (load average {r['load_1min']:.1f} at the start, "
            f"{r['load_1min_end']:.1f} at the end)" if r.get("load_1min_end") is not None
            else "")
    return (f"Machine: {r['machine']}{load}.  Date: {record_date(f, r)}.  Command: "
            f"{cmds} (the record: "
            "`benchmarks/results/sweeps-latest.json`, rendered here when the docs are "
            "built).\n\n" + _table(["measurement", "result"], rows, "lr"))


# --------------------------------------------------------------------------------------
# figures of the robustness page: each the setup of the test it names, run afresh
# --------------------------------------------------------------------------------------
def _three_industries(a_to_c: float, k: float = 1.0):
    """tests/robustness/test_ario_engine.py's table (money times ``k``)."""
    Z = np.array([[0.0, 30.0, a_to_c], [5.0, 0.0, 0.0], [0.0, 0.0, 0.0]]) * k
    Y = np.array([[70.0], [95.0], [50.0]]) * k
    x = Z.sum(1) + Y.sum(1)
    return sc.tables.from_arrays(Z, Y, (x - Z.sum(0))[None, :], x=x, sectors=["A", "B", "C"],
                                 unit="M")


@lru_cache(maxsize=None)
def _ario_unit_trap() -> tuple[float, float]:
    """test_boario_compat_unit_trap_is_flagged: days of GDP lost (the loss over one day's
    value added) in the table's unit and in millionths of it (BoARIO-parity mode)."""
    import warnings

    from simcore.dynamic.ario import ArbitraryCapacityLoss, simulate_ario

    ev = [ArbitraryCapacityLoss("A", 0.6, 5, 40, recovery_tau=20)]
    rec = ("production", "value_added")
    out = []
    for k in (1.0, 1e-6):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = simulate_ario(_three_industries(0.0, k), ev, days=300, record=rec)
        va0 = r.baseline_value_added.values
        out.append(float((va0[None, :] - r.value_added.values).sum() / va0.sum()))
    return out[0], out[1]


@lru_cache(maxsize=None)
def _ario_partial_loss() -> dict:
    """test_partial_loss_costs_more_than_a_total_one: days of (r0, s0)'s output lost after a
    one-day capacity loss, BoARIO-parity mode, and the documented model at 75 %."""
    from simcore.dynamic.ario import ARIOParams, ArbitraryCapacityLoss, simulate_ario

    Z = np.zeros((4, 4))
    Z[0, 0] = Z[2, 2] = 1e5
    Y = np.array([[1.0, 0], [1.0, 0], [0, 1.0], [0, 1.0]]) * 1e5
    x = Z.sum(1) + Y.sum(1)
    t = sc.tables.from_arrays(Z, Y, (x - Z.sum(0))[None, :], x=x, regions=["r0", "r1"],
                              sectors=["s0", "s1"], final_demand=["hh"], unit="M")
    T = 300
    out = {}
    for key, share, compat in (("50", 0.5, True), ("75", 0.75, True), ("100", 1.0, True),
                               ("75-documented", 0.75, False)):
        ev = [ArbitraryCapacityLoss(("r0", "s0"), share, 5, 1, recovery_tau=10.0)]
        p = ARIOParams(main_inv_dur=5.0, inventory_restoration_tau=10.0, boario_compat=compat)
        prod = simulate_ario(t, ev, params=p, days=T,
                             record=("production",)).production.values.reshape(T, -1)
        out[key] = float((prod[0, 0] - prod[:, 0]).sum() / prod[0, 0])
    return out


@lru_cache(maxsize=None)
def _firms_first() -> dict:
    """test_firms_first_capacity_cut_hoarding: days of value added lost by a one-day cut."""
    from simcore.dynamic.params import DynamicParams

    t = sc.tables.from_arrays([[1.0]], [[0.0]], [[0.5], [0.5]], x=[2.0], E=[1.0], M=[0.0],
                              sectors=["s0"], va_items=["compensation", "operating_surplus"])
    out = {}
    for key, share, rationing, theta in (("half-0", 0.5, "firms_first", 0.0),
                                         ("half-1", 0.5, "firms_first", 1.0),
                                         ("full-1", 1.0, "firms_first", 1.0),
                                         ("prop-1", 0.5, "proportional", 1.0)):
        p = DynamicParams(inventory_days=1.0, inventory_tau=5.0, dependency=theta,
                          rationing=rationing)
        r = sc.simulate(t, sc.CapacityShock(sector="s0", share=share, duration=1.0), params=p,
                        days=200, record=())
        out[key] = float(r.gdp_loss_share) * 365
    return out


@lru_cache(maxsize=None)
def _chemicals_gain() -> float:
    """test_overproduction_gains_reported_apart_from_losses: the net gain, share of GDP."""
    from simcore.dynamic.params import DynamicParams

    r = sc.simulate(sc.datasets.load("japan-2015-37"),
                    sc.ImportCut(product="20", origin="ROW", share=1.0, duration=365),
                    params=DynamicParams(inventory_days=30.0, alpha_max=1.25, alpha_tau=30.0),
                    days=3650, record=())
    return float(r.gdp_gain_total) / float(r.attrs["gdp_denominator"]), \
        float(r.gdp_loss_gross_total) / float(r.attrs["gdp_denominator"]), \
        float(r.gdp_loss_total)


@lru_cache(maxsize=None)
def _every_sector_cut() -> float:
    """test_every_sector_cut_at_once: loss of a 30-day total capacity loss of every sector
    of japan-2015-37, in days of GDP."""
    t = sc.datasets.load("japan-2015-37")
    shocks = [sc.CapacityShock(sector=str(s), share=1.0, duration=30) for s in t.sector.values]
    return 365 * float(sc.simulate(t, shocks, days=3650, record=()).gdp_loss_share)


@lru_cache(maxsize=None)
def _aftermath_chain() -> dict:
    """test_duration_monotone_needs_the_aftermath_in_the_horizon: the three-sector chain."""
    from simcore.dynamic.params import DynamicParams

    Zm = np.zeros((5, 5))
    Zm[0, 1], Zm[1, 2] = 6.375, 23.5
    x = np.array([7.375, 12.75, 47.0, 1.0, 1.0])
    va = x - Zm.sum(0)
    t = sc.tables.from_arrays(Zm, [[0.0], [0.0], [46.0], [0.0], [0.0]], [va / 2, va / 2],
                              x=x, E=np.ones(5), M=[0.0, 11.75, 0.0, 0.0, 0.0],
                              sectors=[f"s{i}" for i in range(5)],
                              va_items=["compensation", "operating_surplus"])
    p = DynamicParams(inventory_days=30.0, inventory_tau=5.0, dependency=0.0)
    out = {}
    for d in (1.0, 57.0):
        r = sc.simulate(t, sc.ImportCut(product="s1", origin="ROW", share=1.0, duration=d),
                        params=p, days=3000, record=("output",))
        out[d] = r
    return out


@lru_cache(maxsize=None)
def _overlapping_cuts() -> dict:
    """test_overlapping_cuts_of_one_origin_are_capped_at_its_share: million yen."""
    from simcore.dynamic.params import DynamicParams

    t = sc.datasets.load("japan-2015-37")
    p = DynamicParams(import_origins={"27": {"CHN": 0.5}})
    cut = dict(product="27", origin="CHN", duration=60)

    def loss(shocks):
        return float(sc.simulate(t, shocks, params=p, days=200, record=()).gdp_loss_total)

    two = loss([sc.ImportCut(share=0.6, **cut)] * 2)
    full = loss(sc.ImportCut(share=1.0, **cut))
    both = loss([sc.ImportCut(share=1.0, **cut),
                 sc.ImportCut(product="27", origin="ROW", share=1.0, duration=60)])
    if abs(two - full) > 1e-9 * full:  # the page says the two cuts are one full CHN cut
        raise RuntimeError(f"two 60 % CHN cuts ({two}) no longer equal one full cut ({full})")
    return {"two": two, "both": both}


@lru_cache(maxsize=None)
def _false_recovery():
    """test_auto_horizon_does_not_stop_while_a_loss_is_pending: the issue's scenario."""
    import tempfile

    text = """schema = 1
name = "issue15-false-recovery"
[table]
dataset = "japan-2015-37"
[[shocks]]
kind = "import_cut"
product = "20"
origin = "ROW"
share = 1.0
duration = 30
[model]
inventory_days = 60.0
[horizon]
days = "auto"
tail_days = 0
max_days = 3650
record = []
"""
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "s.toml"
        f.write_text(text)
        r = scenario.load(f).run()
    if not r.attrs["recovered"]:
        raise RuntimeError("the issue-15 example no longer recovers; edit docs/robustness.md")
    return int(r.attrs["days"]), float(r.gdp_loss_total)


@lru_cache(maxsize=None)
def _carve_out_axis() -> tuple[float, float]:
    """test_kiuchi_carve_out_axis_equals_run: kiuchi-2025-3m over 120 days with the shipped
    carve-out file and with its users' embodied shares of 0.5 raised to 0.8 (million yen)."""
    import tempfile

    src = scenario.scenario_dir() / "data" / "rare_earths.toml"
    text = src.read_text(encoding="utf-8")
    if "embodied = 0.5, note" not in text:
        raise RuntimeError(f"{src} has no 'embodied = 0.5' user any more; edit "
                           "docs/robustness.md (the carve-out sweep example)")
    k = scenario.load("kiuchi-2025-3m", allow_outside_data=True).copy_with(
        {"horizon.days": 120})
    with tempfile.TemporaryDirectory() as d:
        other = Path(d) / "rare_earths_hi.toml"
        other.write_text(text.replace("embodied = 0.5, note", "embodied = 0.8, note"))
        hi = float(k.copy_with({"table.carve_out": str(other)}).run().gdp_loss_total)
    lo = float(k.run().gdp_loss_total)
    return lo, hi


def _sci(x: float, d: int = 1) -> str:
    """``8.5e-3`` (no zero-padded exponent)."""
    m, e = f"{x:.{d}e}".split("e")
    return f"{m}e{int(e)}"


def robustness_value(key: str) -> str:
    """One figure of docs/robustness.md, from a fresh run of the named test's setup."""
    if key.startswith("unit-trap-"):
        own, small = _ario_unit_trap()
        if not abs(small / own - 1) > 0.03:
            raise RuntimeError("the ARIO unit trap is gone; edit docs/robustness.md")
        return f"{own if key.endswith('own') else small:.2f}"  # days of GDP
    if key.startswith("partial-"):
        v = _ario_partial_loss()[key[len("partial-"):]]
        return f"{v:.0f}" if v >= 100 else f"{v:.1f}"
    if key.startswith("firms-"):
        f = _firms_first()
        if abs(f["full-1"] - 1) > 1e-9 or abs(f["prop-1"] - 0.5) > 1e-9 \
                or not f["half-0"] > 1 or not f["half-1"] > f["half-0"]:
            raise RuntimeError(f"the firms_first example changed: {f}; edit docs/robustness.md")
        return {"firms-half-0": f"{f['half-0']:.5f}", "firms-half-1": f"{f['half-1']:.4f}"}[key]
    if key == "chemicals-gain":
        gain, gross, net = _chemicals_gain()
        if not (net < 0 and gross < 1e-9):
            raise RuntimeError("the chemicals example is no longer a net gain with a nil gross "
                               "loss; edit docs/robustness.md")
        return f"{100 * gain:.2f}"
    if key == "every-sector-restart":
        d = _every_sector_cut()
        if not d >= 30 * (1 - 1e-9):
            raise RuntimeError(f"cutting every sector for 30 days costs {d} < 30 days of GDP")
        return f"{100 * (d / 30 - 1):.0f}"
    if key.startswith("chain-"):
        r = _aftermath_chain()
        gdp = float(r[1.0].attrs["gdp_denominator"])
        long, short = r[57.0], r[1.0]
        if not long.gdp_loss.values[:250].sum() < short.gdp_loss.values[:250].sum():
            raise RuntimeError("over 250 days the 1-day cut no longer loses more; edit "
                               "docs/robustness.md")
        x, x0 = long.output.values[:, 0], float(long.output_baseline.values[0])
        if key == "chain-s0-day":
            return str(int(long.time.values[int(np.argmax(x < x0 * (1 - 1e-6)))]))
        if key == "chain-plateau-57":
            return _sci(float(long.gdp_loss_total) / gdp)
        if key == "chain-plateau-1":
            return _sci(float(short.gdp_loss_total) / gdp)
        if key == "chain-plateau-day":  # the day 99.5 % of the 3,000-day loss is reached
            c = np.cumsum(long.gdp_loss.values)
            return f"{int(round(float(np.argmax(c >= 0.995 * c[-1])), -2)):,}"
    if key.startswith("overlap-"):
        return bn(_overlapping_cuts()[key[len("overlap-"):]])
    if key == "recovery-days":
        return str(_false_recovery()[0])
    if key == "recovery-loss":
        return bn(_false_recovery()[1])
    if key.startswith("carve-axis-"):
        lo, hi = _carve_out_axis()
        return f"{(lo if key.endswith('shipped') else hi) / 1e3:,.0f}"
    raise KeyError(key)


def ario_parity_record() -> str:
    """The largest relative difference of production between simcore's ARIO engine and
    BoARIO over the cases of the committed benchmark record, with its date."""
    import json

    r = json.loads((RECORDS / "latest.json").read_text())
    d = [c["max_rel_diff_production"] for c in r["cases"]
         if c["name"].startswith("ario/") and c["name"].endswith("/boario")
         and c.get("max_rel_diff_production") is not None]
    return f"at most {_sci(max(d))} over {len(d)} tables (record of {r['date_utc']})"


@lru_cache(maxsize=None)
def _stock_gap(table: str, sector: str, n: float, tau: float, days: int) -> tuple[float, int]:
    """A 30-day total capacity loss of transport (``sector``) with n-day stocks restored in
    tau days, no overproduction: the stock gap (share of all targets) on the last day and
    ``recovered`` (tests/robustness/test_stability.py's settings)."""
    from simcore.dynamic.params import DynamicParams

    r = sc.simulate(sc.datasets.load(table),
                    sc.CapacityShock(sector=sector, share=1.0, duration=30),
                    params=DynamicParams(inventory_days=n, inventory_tau=tau), days=days,
                    record=())
    return float(r.attrs["final_stock_gap_share"]), int(r.attrs["recovered"])


def stock_gap_value(key: str) -> str:
    """``edge-37`` / ``edge-185``: (n, tau) = (1.5, 1) after 10 years (the page says the
    stocks stay short and ``recovered`` is 0); ``scan``: tau of 59 and 60 days with 30-day
    stocks after 3 years, as a range."""
    if key.startswith("edge-"):
        table, sector = {"edge-37": ("japan-2015-37", "57"),
                         "edge-185": ("japan-2015-185", "5751")}[key]
        gap, rec = _stock_gap(table, sector, 1.5, 1.0, 3650)
        if rec or not gap > 1e-5:
            raise RuntimeError(f"{table}: the (1.5, 1) edge now recovers its stocks; edit "
                               "docs/robustness.md")
        return _sci(gap)
    if key == "scan":
        gaps = [_stock_gap("japan-2015-37", "57", 30.0, tau, 3 * 365)[0] for tau in (59.0, 60.0)]
        return f"{_sci(min(gaps))} to {_sci(max(gaps))}"
    raise KeyError(key)


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
