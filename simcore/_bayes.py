"""Bayesian calibration of the rare-earth model: priors, targets, a validated surrogate of
the engine, emcee sampling, ArviZ diagnostics, the shipped posterior and posterior bands.

Public names are re-exported by :mod:`simcore.calibrate`; the docs page
``docs/calibration.md`` states the choices and their reasons.

How the pieces fit:

* a :class:`Parameter` has a prior (with its source) and the scenario keys it sets;
* a :class:`Target` is one published figure computed on its own scenario (with fixed
  overrides), from the subset of parameters that scenario uses, with a stated error;
* :func:`engine_values` runs a target's scenario for many parameter vectors in one
  :func:`simcore.dynamic.batch.run_lowered` call (the engine is the truth);
* a :class:`Surrogate` interpolates engine runs (a regular grid with cubic splines for one
  or two parameters, thin-plate radial basis functions on a Latin hypercube above two) and
  is validated on held-back engine runs;
* :class:`Problem` holds parameters and targets; :meth:`Problem.log_posterior` is
  vectorised over walkers (emcee's ``vectorize=True``);
* :func:`sample` runs several independent emcee ensembles and computes R-hat, ESS and
  integrated autocorrelation times;
* :func:`rebuild` does all of it for the rare-earth problem and writes the NetCDF file that
  ships with the package; :func:`load_posterior` reads it back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import DataError, ParameterError, ScenarioError
from . import scenario as _scenario
from ._jit import raise_for_status
from ._netcdf3 import read as read_netcdf3
from .dynamic.batch import run_lowered
from .dynamic.common import ONSET_SHARE
from .dynamic.supply_chain import recovered_rule
from .errors import KernelError
from .run import Horizon
from .scenario import Scenario, load, scenario_dir
from .tables import yen_per_unit

#: The shipped posterior of the rare-earth problem (rebuilt by
#: ``python -m simcore.calibrate --rebuild``).
POSTERIOR_FILE = Path(__file__).resolve().parent / "data" / "posterior-rare-earth.nc"
#: Time constant of the substitution ramp, days (held fixed; see docs/calibration.md).
SUBSTITUTION_TAU_DAYS = 30.0
#: Horizon of an onset run, days; a sector whose loss never starts gets this value.
ONSET_HORIZON = 200
#: The target whose interpolated engine value orders the posterior samples into the strata
#: of :meth:`Posterior.stratified_draws` (the bands' draws).
STRATA_TARGET = "nomura-rare-earth-3m-loss"
#: How the bands' quantiles are read off the draws (:func:`band`): numpy's ``"hazen"``
#: method puts the k-th smallest of n draws at probability (k - 1/2)/n, the middle of its
#: stratum when the draws are stratified.
BAND_METHOD = "hazen"


# --------------------------------------------------------------------------------------
# Parameters and priors
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One calibrated parameter.

    ``prior`` is ``"uniform"`` (``args = (low, high)``), ``"loguniform"`` (``(low, high)``)
    or ``"lognormal"`` (``(median, sigma)``, truncated to ``bounds``).  ``keys`` are the
    dotted scenario keys the value is written to (all of them get the value).
    """

    name: str
    keys: tuple[str, ...]
    prior: str
    args: tuple[float, float]
    bounds: tuple[float, float]
    source: str
    label: str = ""

    @property
    def log_scale(self) -> bool:
        return self.prior in ("loguniform", "lognormal")

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log prior density (normalised on ``bounds``; ``-inf`` outside)."""
        x = np.asarray(x, dtype=float)
        lo, hi = self.bounds
        inside = (x >= lo) & (x <= hi)
        out = np.full(x.shape, -np.inf)
        xs = np.where(inside, x, 1.0)
        if self.prior == "uniform":
            val = np.full(x.shape, -math.log(hi - lo))
        elif self.prior == "loguniform":
            val = -np.log(xs) - math.log(math.log(hi / lo))
        elif self.prior == "lognormal":
            med, sig = self.args
            z = (np.log(xs) - math.log(med)) / sig

            def cdf(v: float) -> float:
                return 0.5 * math.erfc(-v / math.sqrt(2.0))

            mass = (cdf((math.log(hi) - math.log(med)) / sig)
                    - cdf((math.log(lo) - math.log(med)) / sig))
            val = -0.5 * z**2 - np.log(xs * sig * math.sqrt(2 * math.pi)) - math.log(mass)
        else:  # pragma: no cover - checked in __post_init__
            raise ParameterError(f"prior {self.prior!r}")
        out[inside] = val[inside]
        return out

    def __post_init__(self) -> None:
        if self.prior not in ("uniform", "loguniform", "lognormal"):
            raise ParameterError(f"parameter {self.name}: prior {self.prior!r}: expected "
                                 "'uniform', 'loguniform' or 'lognormal'")
        lo, hi = self.bounds
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ParameterError(f"parameter {self.name}: bounds {self.bounds!r}: expected "
                                 "finite low < high")
        if self.log_scale and lo <= 0:
            raise ParameterError(f"parameter {self.name}: a {self.prior} prior needs bounds "
                                 "> 0")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function of the (truncated) prior, for sampling and designs."""
        u = np.asarray(u, dtype=float)
        lo, hi = self.bounds
        if self.prior == "uniform":
            return lo + u * (hi - lo)
        if self.prior == "loguniform":
            return np.exp(math.log(lo) + u * math.log(hi / lo))
        from scipy.stats import norm

        med, sig = self.args
        a = norm.cdf((math.log(lo) - math.log(med)) / sig)
        b = norm.cdf((math.log(hi) - math.log(med)) / sig)
        return np.exp(math.log(med) + sig * norm.ppf(a + u * (b - a)))

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Map ``bounds`` to [0, 1] (in logs for a log-scale prior): the surrogate's axes."""
        lo, hi = self.bounds
        if self.log_scale:
            return (np.log(x) - math.log(lo)) / math.log(hi / lo)
        return (np.asarray(x, dtype=float) - lo) / (hi - lo)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds
        if self.log_scale:
            return np.exp(math.log(lo) + np.asarray(u) * math.log(hi / lo))
        return lo + np.asarray(u, dtype=float) * (hi - lo)


# --------------------------------------------------------------------------------------
# Targets and the engine
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One published figure used as evidence.

    ``quantity``: ``"gdp_loss_total"`` (JPY: the table's unit times its yen factor) or
    ``"onset:SECTOR"`` (the first day, interpolated between days, on which the sector's
    output is more than :data:`simcore.dynamic.common.ONSET_SHARE` below baseline).
    ``likelihood``: ``"lognormal"`` (``log model ~ N(log observed, error)``), ``"normal"``
    (``model ~ N(observed, error)``) or
    ``"upper_bound"`` (``log Phi((observed - model) / error)``: the model value should not
    exceed ``observed``, with a softness of ``error`` in the quantity's unit).
    """

    id: str
    scenario: Any  # a shipped name, a path or a scenario dict
    fixed: Mapping[str, Any]
    params: tuple[str, ...]
    quantity: str
    observed: float
    likelihood: str
    error: float
    source: str
    note: str = ""
    #: the surrogate interpolates ``value - offset(parameters)``, where ``offset`` names a
    #: function of :data:`OFFSETS` (a simple physical approximation: the surrogate learns
    #: only the smooth remainder); "" for none
    offset: str = ""
    #: model values above ``censor`` are stored as ``censor`` (where the likelihood is
    #: negligible); None for none
    censor: float | None = None

    def loglik(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=float)
        if self.likelihood == "lognormal":
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (np.log(np.maximum(value, 1e-300)) - math.log(self.observed)) / self.error
            return -0.5 * z**2 - math.log(self.error * math.sqrt(2 * math.pi))
        if self.likelihood == "normal":
            z = (value - self.observed) / self.error
            return -0.5 * z**2 - math.log(self.error * math.sqrt(2 * math.pi))
        if self.likelihood == "upper_bound":
            from scipy.special import log_ndtr

            return log_ndtr((self.observed - value) / self.error)
        raise ParameterError(f"target {self.id}: likelihood {self.likelihood!r}")

    def transform(self, value: np.ndarray) -> np.ndarray:
        """The scale the surrogate interpolates on (logs for a lognormal target)."""
        return np.log(value) if self.likelihood == "lognormal" else np.asarray(value, float)

    def untransform(self, y: np.ndarray) -> np.ndarray:
        return np.exp(y) if self.likelihood == "lognormal" else np.asarray(y, float)


def _load(scenario: Any):
    return scenario if isinstance(scenario, Scenario) else load(scenario)


def overrides_for(params: Sequence[Parameter], values: Sequence[float]) -> dict[str, Any]:
    """Dotted scenario overrides for one parameter vector."""
    out: dict[str, Any] = {}
    for p, v in zip(params, values):
        for k in p.keys:
            out[k] = float(v)
    return out


def onset_days(output: np.ndarray, x0: float, share: float | None = None,
               cap: float | None = None) -> np.ndarray:
    """First day output ``(m, T)`` is more than ``share`` below ``x0``, interpolated
    linearly between days (day ``t - 1 + fraction``); ``cap`` (default ``T``) where it
    never is."""
    share = ONSET_SHARE if share is None else share
    out = np.asarray(output, dtype=float)
    m, T = out.shape
    loss = 1.0 - out / x0
    below = loss > share
    res = np.full(m, float(T if cap is None else cap))
    for q in range(m):
        hit = np.flatnonzero(below[q])
        if hit.size:
            t = int(hit[0])
            if t == 0:
                res[q] = 0.0
            else:
                a, b = loss[q, t - 1], loss[q, t]
                res[q] = t - 1 + (share - a) / (b - a)
    return res


def run_draws(scenario: Any, overrides: Sequence[Mapping[str, Any]], *,
              record_output: bool = False, days: int | None = None) -> dict[str, Any]:
    """Run a scenario once per overrides mapping, all in one
    :func:`~simcore.dynamic.batch.run_lowered` call (draws whose lowered tables share a
    structure run as lanes of one kernel call; see :func:`simcore.dynamic.batch.lane_key`).

    The horizon is the run layer's (:class:`simcore.run.Horizon`, as in
    :meth:`simcore.scenario.Scenario.run`): ``horizon.days``, or for ``'auto'`` the end of the
    last shock plus ``tail_days``, doubled (for the draws not yet
    back at baseline, up to ``max_days``) until output is back at baseline.  Returns bare
    arrays: ``gdp_loss_total (m,)`` in table units, ``value_added_loss (m, n)``,
    ``gdp_loss (m, T)`` (zero-padded to the longest horizon), ``days (m,)``, and with
    ``record_output`` the daily ``output (m, T, n)`` over the first horizon.
    """
    sc = _load(scenario)
    if sc.engine != "supply-chain":
        raise ScenarioError(f"{sc.file}: draws and calibration run the supply-chain engine; "
                            f"model.engine is {sc.engine!r}")
    prep = sc.prepared()
    shocks = sc.shocks()
    items = []
    for ov in overrides:
        s2 = sc.copy_with(ov) if ov else sc
        # the shocks are built from [[shocks]] alone: the scenario's unless a draw sets them
        sh = (s2.shocks() if any(str(k).split(".", 1)[0] == "shocks" for k in ov or ())
              else list(shocks))
        items.append((sh, s2.params()))
    m = len(items)
    if m == 0:
        raise ParameterError("run_draws: no draws to run")
    horizon = Horizon.of(sc.data["horizon"], days)
    T0 = horizon.first(shocks)
    r = run_lowered(prep, items, T0, record_output=record_output, even=True, gaps="last")
    if np.any(r["status"]):
        s = int(np.flatnonzero(r["status"])[0])
        try:
            raise_for_status(int(r["status"][s]), where=f"{sc.name} (draw {s})",
                             day=int(r["info"][s]))
        except KernelError as exc:
            raise ScenarioError(f"{sc.file}: {exc}") from exc
    gl = [r["gdp_loss"][q] for q in range(m)]
    oc = r["out_cum"].copy()
    ndays = np.full(m, T0)
    if horizon.auto:
        pending = np.flatnonzero(~recovered_rule(prep, r["gdp_loss"][:, -1], r["gap"][:, -1]))
        T = T0
        while pending.size and horizon.extend(T) is not None:
            T = horizon.extend(T)
            r2 = run_lowered(prep, [items[q] for q in pending], T, even=True, gaps="last")
            rec = recovered_rule(prep, r2["gdp_loss"][:, -1], r2["gap"][:, -1])
            for k, q in enumerate(pending):
                gl[q] = r2["gdp_loss"][k]
                oc[q] = r2["out_cum"][k]
                ndays[q] = T
            pending = pending[~rec]
    Tmax = int(ndays.max())
    daily = np.zeros((m, Tmax))
    for q in range(m):
        daily[q, :gl[q].size] = gl[q]
    out = {"gdp_loss_total": daily.sum(axis=1), "gdp_loss": daily,
           "value_added_loss": prep.c[None, :] * oc, "days": ndays, "prep": prep,
           "scenario": sc}
    if record_output:
        out["output"] = r["output"]
    return out


def _yen_factor(prep: Any) -> float:
    y = yen_per_unit(prep.unit)
    if y is None:
        raise ParameterError(f"unit {prep.unit!r}: cannot convert to yen")
    return float(y)


def engine_values(target: Target, params: Sequence[Parameter], X: np.ndarray,
                  chunk: int = 64) -> np.ndarray:
    """The target's model value for every row of ``X`` (values of ``params``), from the
    engine, in batched calls of ``chunk`` rows."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    base = _load(target.scenario)
    sc = base.copy_with(dict(target.fixed)) if target.fixed else base
    out = np.empty(X.shape[0])
    for a in range(0, X.shape[0], chunk):
        rows = X[a:a + chunk]
        ovs = [overrides_for(params, row) for row in rows]
        if target.quantity == "gdp_loss_total":
            r = run_draws(sc, ovs)
            out[a:a + len(rows)] = r["gdp_loss_total"] * _yen_factor(r["prep"])
        elif target.quantity == "gdp_loss_share":
            r = run_draws(sc, ovs)
            denom = float(sc.data["table"].get("gdp_denominator", r["prep"].gdp_annual))
            out[a:a + len(rows)] = r["gdp_loss_total"] / denom
        elif target.quantity.startswith("onset:"):
            code = target.quantity.split(":", 1)[1]
            r = run_draws(sc, ovs, record_output=True, days=ONSET_HORIZON)
            i = r["prep"].index[code]
            out[a:a + len(rows)] = onset_days(r["output"][:, :, i], r["prep"].x0[i])
        else:
            raise ParameterError(f"target {target.id}: unknown quantity {target.quantity!r}")
    return out


def drain_onset(stock_days: np.ndarray, headroom: np.ndarray, lag: np.ndarray,
                tau: float = SUBSTITUTION_TAU_DAYS, cap: float = 90.0) -> np.ndarray:
    """The day a stock of ``stock_days`` days of use from one origin runs dry when that
    origin stops and other origins replace ``headroom`` of it along the ramp
    ``1 - exp(-(t - lag) / tau)`` from day ``lag``: the first ``t`` with
    ``t - headroom * ((t - lag) - tau (1 - exp(-(t - lag) / tau)))_+ >= stock_days``
    (``cap`` if later).  A one-line approximation of the engine's onset, used as the offset
    of the onset surrogate (which learns the engine's remainder)."""
    D = np.asarray(stock_days, float)[:, None]
    h = np.asarray(headroom, float)[:, None]
    L = np.asarray(lag, float)[:, None]
    t = np.linspace(0.0, cap, int(cap * 8) + 1)[None, :]
    s = np.maximum(t - L, 0.0)
    drained = t - h * (s - tau * (1.0 - np.exp(-s / tau)))
    hit = drained >= D
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), t.size - 1)
    # linear interpolation between grid days
    i1 = np.maximum(first, 1)
    r = np.arange(D.shape[0])
    d0, d1 = drained[r, i1 - 1], drained[r, i1]
    t0, t1 = t[0, i1 - 1], t[0, i1]
    frac = np.clip((D[:, 0] - d0) / np.where(d1 > d0, d1 - d0, 1.0), 0.0, 1.0)
    out = t0 + frac * (t1 - t0)
    return np.where(hit.any(axis=1), out, cap)


def _drain_offset(t: Target, Xsub: np.ndarray) -> np.ndarray:
    g = {n: Xsub[:, t.params.index(n)] for n in ("stock_days", "substitution_headroom",
                                                  "substitution_lag")}
    return drain_onset(g["stock_days"], g["substitution_headroom"], g["substitution_lag"],
                       cap=t.censor if t.censor is not None else 90.0)


#: Offsets of the surrogates (see :attr:`Target.offset`).
OFFSETS: dict[str, Callable[[Target, np.ndarray], np.ndarray]] = {"drain": _drain_offset}


# --------------------------------------------------------------------------------------
# Surrogate
# --------------------------------------------------------------------------------------
@dataclass
class Surrogate:
    """Interpolant of a target's (transformed) engine value over its parameters' unit cube.

    ``kind = "grid"``: ``x`` is the list of axis nodes (a full tensor grid in C order of
    ``y``), interpolating cubic splines (one or two axes: B-spline and bicubic spline;
    more: :class:`scipy.interpolate.RegularGridInterpolator`).
    ``kind = "rbf"``: ``x`` are scattered nodes, thin-plate-spline RBF with a linear
    polynomial (:class:`scipy.interpolate.RBFInterpolator`), exact at the nodes.
    """

    kind: str
    x: Any
    y: np.ndarray
    _f: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "grid":
            axes = [np.asarray(a, float) for a in self.x]
            shape = tuple(a.size for a in axes)
            vals = np.asarray(self.y, float).reshape(shape)
            if len(axes) == 1:
                from scipy.interpolate import make_interp_spline

                spl = make_interp_spline(axes[0], vals, k=3)
                self._f = lambda u: spl(u[:, 0])
            elif len(axes) == 2:
                from scipy.interpolate import RectBivariateSpline

                spl2 = RectBivariateSpline(axes[0], axes[1], vals, kx=3, ky=3, s=0)
                self._f = lambda u: spl2.ev(u[:, 0], u[:, 1])
            else:
                from scipy.interpolate import RegularGridInterpolator

                self._f = RegularGridInterpolator(axes, vals, method="cubic")
        elif self.kind == "rbf":
            from scipy.interpolate import RBFInterpolator

            self._f = RBFInterpolator(np.asarray(self.x, float), np.asarray(self.y, float),
                                      kernel="thin_plate_spline", degree=1)
        else:
            raise ParameterError(f"surrogate kind {self.kind!r}")

    def __call__(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(np.atleast_2d(np.asarray(u, float)), 0.0, 1.0)
        return np.asarray(self._f(u), float)


def design(params: Sequence[Parameter], n: int, kind: str, seed: int) -> tuple[Any, np.ndarray]:
    """Unit-cube nodes of a surrogate design: ``("grid", axes)`` with about ``n`` nodes, or
    ``("rbf", points)`` a Latin hypercube of ``n`` points.  Returns ``(x, U)`` with ``U``
    the nodes as rows."""
    k = len(params)
    if kind == "grid":
        per = max(4, int(round(n ** (1.0 / k))))
        axes = [np.linspace(0.0, 1.0, per) for _ in range(k)]
        mesh = np.meshgrid(*axes, indexing="ij")
        return axes, np.stack([g.ravel() for g in mesh], axis=1)
    from scipy.stats import qmc

    U = qmc.LatinHypercube(d=k, seed=seed).random(n)
    return U, U


def to_values(params: Sequence[Parameter], U: np.ndarray) -> np.ndarray:
    return np.stack([p.from_unit(U[:, j]) for j, p in enumerate(params)], axis=1)


def to_unit(params: Sequence[Parameter], X: np.ndarray) -> np.ndarray:
    return np.stack([p.to_unit(X[:, j]) for j, p in enumerate(params)], axis=1)


# --------------------------------------------------------------------------------------
# The problem
# --------------------------------------------------------------------------------------
class _Surrogates(dict):
    """Surrogates of a problem whose training runs are known (a loaded posterior), each
    fitted from them on first use: drawing bands from the shipped posterior needs none, so
    ``simcore reproduce`` does not import ``scipy.interpolate`` or fit them."""

    def __init__(self, training: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__()
        self._training = training

    def __missing__(self, key: str) -> Surrogate:
        tr = self._training[key]
        s = self[key] = Surrogate(tr["kind"], tr["x"] if tr["kind"] == "grid" else tr["U"],
                                  tr["y"])
        return s

    def __bool__(self) -> bool:  # built (or buildable) surrogates
        return bool(self._training) or dict.__len__(self) > 0


@dataclass
class Problem:
    """Parameters, targets and (once built) one surrogate per target."""

    params: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    surrogates: dict[str, Surrogate] = field(default_factory=dict)
    training: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Parameter:
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(f"no calibrated parameter {name!r} (parameters: "
                             f"{', '.join(self.names)})")

    def sub(self, t: Target) -> tuple[list[int], list[Parameter]]:
        idx = [self.names.index(n) for n in t.params]
        return idx, [self.params[i] for i in idx]

    def log_prior(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, float))
        return sum(p.logpdf(X[:, j]) for j, p in enumerate(self.params))

    def prior_draws(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([p.ppf(rng.random(n)) for p in self.params], axis=1)

    # ------------------------------------------------------------------ surrogates
    def build(self, n_train: Mapping[str, int], n_valid: int = 40, seed: int = 0,
              progress: Callable[[str], None] | None = None) -> None:
        """Run the engine on each target's design and on ``n_valid`` held-back prior draws;
        fit the surrogates."""
        for k, t in enumerate(self.targets):
            idx, ps = self.sub(t)
            kind = "grid" if len(ps) <= 2 else "rbf"
            x, U = design(ps, n_train[t.id], kind, seed + 17 * k)
            if progress:
                progress(f"{t.id}: {U.shape[0]} training runs")
            X = to_values(ps, U)
            y = self._to_y(t, X, engine_values(t, ps, X))
            Xv = self.prior_draws(n_valid, seed + 1000 + k)[:, idx]
            if progress:
                progress(f"{t.id}: {n_valid} held-back runs")
            yv = engine_values(t, ps, Xv)
            self.training[t.id] = {"kind": kind, "x": x, "U": U, "y": y, "Xv": Xv, "yv": yv}
        self.fit_surrogates()

    def fit_surrogates(self) -> None:
        for t in self.targets:
            tr = self.training[t.id]
            self.surrogates[t.id] = Surrogate(tr["kind"], tr["x"] if tr["kind"] == "grid"
                                              else tr["U"], tr["y"])

    @staticmethod
    def _to_y(t: Target, Xsub: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Engine values to the surrogate's scale: censored, transformed, minus the offset
        parameter."""
        v = np.asarray(v, float)
        if t.censor is not None:
            v = np.minimum(v, t.censor)
        y = t.transform(v)
        if t.offset:
            y = y - OFFSETS[t.offset](t, Xsub)
        return y

    @staticmethod
    def _from_y(t: Target, Xsub: np.ndarray, y: np.ndarray) -> np.ndarray:
        if t.offset:
            y = y + OFFSETS[t.offset](t, Xsub)
        return t.untransform(y)

    def predict_sub(self, t: Target, Xsub: np.ndarray) -> np.ndarray:
        """The surrogate's model value of ``t`` at vectors of its own parameters."""
        _, ps = self.sub(t)
        Xsub = np.atleast_2d(np.asarray(Xsub, float))
        return self._from_y(t, Xsub, self.surrogates[t.id](to_unit(ps, Xsub)))

    def predict(self, t: Target, X: np.ndarray) -> np.ndarray:
        """The surrogate's model value of target ``t`` at full parameter vectors ``X``."""
        idx, _ = self.sub(t)
        return self.predict_sub(t, np.atleast_2d(X)[:, idx])

    def validation(self) -> dict[str, dict[str, float]]:
        """Surrogate against held-back engine runs, per target: errors in the target's
        unit (relative for a lognormal target), and the largest error in log-likelihood."""
        out = {}
        for t in self.targets:
            tr = self.training[t.id]
            pred = self.predict_sub(t, tr["Xv"])
            eng = np.asarray(tr["yv"], float)
            if t.censor is not None:
                eng = np.minimum(eng, t.censor)
            err = pred / eng - 1.0 if t.likelihood == "lognormal" else pred - eng
            dll = np.abs(t.loglik(pred) - t.loglik(eng))
            row = {"n": int(eng.size), "relative": t.likelihood == "lognormal",
                   "rms_error": float(np.sqrt(np.mean(err**2))),
                   "max_abs_error": float(np.max(np.abs(err))),
                   "max_loglik_error": float(np.max(dll))}
            # where the likelihood matters: the engine value within 3 errors of the figure
            # (below the bound + 3 softnesses for an upper bound)
            if t.likelihood == "upper_bound":
                near = eng <= t.observed + 3 * t.error
            elif t.likelihood == "lognormal":
                near = np.abs(np.log(eng / t.observed)) <= 3 * t.error
            else:
                near = np.abs(eng - t.observed) <= 3 * t.error
            if near.any():
                row.update({"n_near": int(near.sum()),
                            "rms_error_near": float(np.sqrt(np.mean(err[near]**2))),
                            "max_abs_error_near": float(np.max(np.abs(err[near]))),
                            "max_loglik_error_near": float(np.max(dll[near]))})
            else:
                row["n_near"] = 0
            out[t.id] = row
        return out

    # ------------------------------------------------------------------ posterior
    def log_posterior(self, X: np.ndarray) -> np.ndarray:
        """Log prior plus log likelihood of every target, vectorised over rows of ``X``."""
        X = np.atleast_2d(np.asarray(X, float))
        lp = self.log_prior(X)
        ok = np.isfinite(lp)
        if ok.any():
            Xo = X[ok]
            ll = np.zeros(Xo.shape[0])
            for t in self.targets:
                ll += t.loglik(self.predict(t, Xo))
            lp[ok] = lp[ok] + ll
        return lp

    def spec(self) -> dict[str, Any]:
        """The problem as JSON-able data (stored with the posterior)."""
        def tgt(t: Target) -> dict[str, Any]:
            d = asdict(t)
            d["scenario"] = t.scenario if isinstance(t.scenario, str) else "<dict>"
            d["fixed"] = dict(t.fixed)
            return d

        return {"params": [asdict(p) for p in self.params],
                "targets": [tgt(t) for t in self.targets]}


# --------------------------------------------------------------------------------------
# Sampling and diagnostics
# --------------------------------------------------------------------------------------
def _arviz_diagnostics(chains: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """R-hat (rank-normalised, split) and bulk/tail ESS by ArviZ; ``chains`` is
    ``(chain, draw, param)``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ArviZ 0.x announces its 1.x refactor
        import arviz as az

    out: dict[str, dict[str, float]] = {}
    for j, n in enumerate(names):
        a = chains[:, :, j]
        out[n] = {"rhat": float(az.rhat(a)), "ess_bulk": float(az.ess(a, method="bulk")),
                  "ess_tail": float(az.ess(a, method="tail"))}
    return out


def sample(problem: Problem, *, ensembles: int = 4, walkers: int = 32, steps: int = 6000,
           seed: int = 0, thin_to: int = 4000, diagnose: bool = True) -> dict[str, Any]:
    """Run ``ensembles`` independent emcee ensembles (vectorised log-posterior) from prior
    draws; discard a burn-in of 10 integrated autocorrelation times; diagnose.

    Returns ``samples (thin_to, k)``, their ``log_posterior``, the chains after burn-in
    ``(ensembles * walkers, draw, k)`` and a ``diagnostics`` dict: per parameter the R-hat
    over every walker of every ensemble, ArviZ's bulk and tail ESS, the largest integrated
    autocorrelation time over the ensembles, ``n_tau`` (draws per walker after burn-in over
    that time) and ``ess_tau`` (all draws over that time); plus the R-hat between ensembles
    (each ensemble's walkers pooled as one chain).
    """
    import emcee

    k = len(problem.params)
    taus = np.zeros((ensembles, k))
    samplers = []
    for e in range(ensembles):
        rng = np.random.default_rng(seed + e)
        p0 = problem.prior_draws(walkers * 4, seed + 100 + e)
        lp0 = problem.log_posterior(p0)
        # start from the prior draws of highest posterior density (no draw of -inf)
        p0 = p0[np.argsort(-lp0)[:walkers]]
        s = emcee.EnsembleSampler(walkers, k, problem.log_posterior, vectorize=True,
                                  moves=[(emcee.moves.DEMove(), 0.8),
                                         (emcee.moves.DESnookerMove(), 0.2)])
        s.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
        s.run_mcmc(p0, steps, progress=False)
        taus[e] = s.get_autocorr_time(tol=0)
        samplers.append(s)
    tau_max = float(np.max(taus))
    burn = int(math.ceil(10 * tau_max))
    if burn >= steps // 2:
        burn = steps // 2
    ch = np.concatenate([np.swapaxes(s.get_chain(discard=burn), 0, 1) for s in samplers])
    lpc = np.concatenate([s.get_log_prob(discard=burn).T for s in samplers])
    n_draw = ch.shape[1]
    flat = ch.reshape(-1, k)
    flat_lp = lpc.reshape(-1)
    pick = np.linspace(0, flat.shape[0] - 1, min(thin_to, flat.shape[0])).round().astype(int)
    if not diagnose:
        return {"samples": flat[pick], "log_posterior": flat_lp[pick], "chains": ch,
                "diagnostics": {}, "sampler": {"burn_in": burn, "tau": taus.tolist()}}
    diag = _arviz_diagnostics(ch, problem.names)
    # between ensembles: each ensemble pooled as one chain (walker by walker)
    pooled = ch.reshape(ensembles, walkers * n_draw, k)
    between = _arviz_diagnostics(pooled, problem.names)
    for j, n in enumerate(problem.names):
        tj = float(np.max(taus[:, j]))
        diag[n].update({"tau": tj, "n_tau": n_draw / tj,
                        "ess_tau": ensembles * walkers * n_draw / tj,
                        "rhat_between_ensembles": between[n]["rhat"]})
    acc = float(np.mean([np.mean(s.acceptance_fraction) for s in samplers]))
    return {"samples": flat[pick], "log_posterior": flat_lp[pick], "chains": ch,
            "diagnostics": diag,
            "sampler": {"ensembles": ensembles, "walkers": walkers, "steps": steps,
                        "burn_in": burn, "draws_per_walker": n_draw, "seed": seed,
                        "acceptance": acc, "moves": "DEMove 0.8, DESnookerMove 0.2",
                        "emcee": emcee.__version__}}


def interval(x: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    a = (1 - level) / 2
    lo, hi = np.quantile(x, [a, 1 - a])
    return float(lo), float(hi)


def band(x: Any, level: float = 0.9, axis: int | None = None) -> tuple[Any, Any, Any]:
    """``(low, median, high)``: the central ``level`` band of posterior draws ``x`` (along
    ``axis``), read as :data:`BAND_METHOD` quantiles."""
    a = (1 - level) / 2
    lo, med, hi = np.quantile(np.asarray(x, float), [a, 0.5, 1 - a], axis=axis,
                              method=BAND_METHOD)
    return lo, med, hi


def grid_interpolate(axes: Sequence[np.ndarray], values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multilinear interpolation of ``values`` (a full tensor grid over ``axes``, C order) at
    the rows of ``u`` (clipped to the grid); numpy only."""
    u = np.atleast_2d(np.asarray(u, float))
    axes = [np.asarray(a, float) for a in axes]
    vals = np.asarray(values, float).reshape(tuple(a.size for a in axes))
    lo, w = [], []
    for j, ax in enumerate(axes):
        x = np.clip(u[:, j], ax[0], ax[-1])
        i = np.clip(np.searchsorted(ax, x, side="right") - 1, 0, ax.size - 2)
        lo.append(i)
        w.append((x - ax[i]) / (ax[i + 1] - ax[i]))
    out = np.zeros(u.shape[0])
    for corner in np.ndindex(*(2,) * len(axes)):
        f = np.ones(u.shape[0])
        for j, c in enumerate(corner):
            f = f * (w[j] if c else 1.0 - w[j])
        out += f * vals[tuple(lo[j] + c for j, c in enumerate(corner))]
    return out


# --------------------------------------------------------------------------------------
# The rare-earth problem
# --------------------------------------------------------------------------------------
def _carve_ranges() -> dict[str, Any]:
    """Ranges of the carve-out data file that the priors use."""
    import tomllib

    with open(scenario_dir() / "data" / "rare_earths.toml", "rb") as fh:
        spec = tomllib.load(fh)
    return {"mag_china": tuple(spec["origins"]["MAG"]["range"]),
            "stockpile_days": float(spec["buffers"]["national_stockpile_days"])}


#: Published first stop of a Japanese car line after China's licence requirement of
#: 4 April 2025: Suzuki halted Swift production on 26 May 2025 (Reuters, 2025-06-05),
#: 52 days later.
CAR_LINE_STOP_DAYS = 52.0
CAR_LINE_SOURCE = ("Reuters (2025-06-05), 'Suzuki halts Swift production due to Chinese "
                   "rare-earth export controls': first Japanese car line stopped on 26 May "
                   "2025, 52 days after China's licence requirement of 4 April 2025")


def rare_earth_params() -> tuple[Parameter, ...]:
    """The six parameters of the rare-earth calibration, with their priors."""
    rng = _carve_ranges()
    stock_med = rng["stockpile_days"]  # 60 days: magnet maker's ~2 months and the target
    return (
        Parameter("dependency_scale", ("model.dependency_scale",), "uniform", (0.5, 1.5),
                  (0.5, 1.5),
                  "data/rare_earths.toml: the embodied shares of the rare-earth and magnet "
                  "users are assumptions with a range of 0.5x-1.5x", "dependency scale"),
        Parameter("stock_days", ("model.carved_inventory_days",), "lognormal",
                  (stock_med, 0.42), (15.0, 150.0),
                  "a Himeji magnet maker holds about two months of stock (TV report, 2026; "
                  "data/rare_earths.toml S48) and Japan's national stockpile target is 60 "
                  "days of consumption (JOGMEC scheme, 42 national + 18 private; S47): "
                  "median 60 days, 90 % of the prior mass in 30-120 days", "stock days"),
        Parameter("restock_days", ("model.inventory_tau",), "loguniform", (2.0, 60.0),
                  (2.0, 60.0),
                  "no data: wide log-uniform prior from 2 days (the fastest the engine "
                  "allows) to two months", "restocking time, days"),
        Parameter("china_mag_share", ("model.import_origins.MAG.CHN",), "uniform",
                  tuple(rng["mag_china"]), tuple(rng["mag_china"]),
                  "data/rare_earths.toml [origins] MAG: an assumption from China's share of "
                  "world NdFeB output (METI 2023 study S22; Adamas Intelligence 2025 S30)",
                  "China's share of magnet imports"),
        Parameter("substitution_headroom", ("model.substitution.RE.headroom",
                                            "model.substitution.MAG.headroom"),
                  "uniform", (0.0, 1.0), (0.0, 1.0),
                  "no data: the whole range, 0 (no other origin can supply) to 1 (every "
                  "lost ton replaced)", "substitution headroom"),
        Parameter("substitution_lag", ("model.substitution.RE.lag_days",
                                       "model.substitution.MAG.lag_days"),
                  "uniform", (0.0, 180.0), (0.0, 180.0),
                  "no data: 0 to 180 days before other origins start to deliver more",
                  "substitution lag, days"),
    )
@lru_cache(maxsize=None)
def _file_targets() -> tuple[Target, ...]:
    """Targets from the shipped scenario files: every ``[[reference]]`` with
    ``calibration_error`` (a lognormal error on the figure), computed on its own scenario
    from the parameters :func:`which_params` draws for it."""
    out = []
    for f in _scenario.scenario_files():
        sc = load(f)
        for r in sc.data.get("reference", []):
            if "calibration_error" not in r:
                continue
            out.append(Target(
                id=r["id"], scenario=sc.name, fixed={}, params=tuple(which_params(sc)),
                quantity=r["quantity"], observed=float(r["published"]),
                likelihood="lognormal", error=float(r["calibration_error"]),
                source=r["source"], note=r.get("calibration_note", "")))
    return tuple(out)


def rare_earth_problem() -> Problem:
    """The rare-earth calibration (see docs/calibration.md): six parameters; targets: every
    shipped ``[[reference]]`` with a ``calibration_error`` (Nomura's 3-month loss), and the
    first car-line stop of 2025 as an upper bound on the onset under a total cut."""
    params = rare_earth_params()
    t_onset = Target(
        id="first-car-line-stop", scenario="rare-earth-data-driven-12m",
        fixed={"shocks.0.duration": 36500.0, "shocks.1.duration": 36500.0,
               "model.substitution.RE.tau_days": SUBSTITUTION_TAU_DAYS,
               "model.substitution.MAG.tau_days": SUBSTITUTION_TAU_DAYS,
               "model.substitution.RE.headroom": 0.0, "model.substitution.MAG.headroom": 0.0},
        params=tuple(p.name for p in params), quantity="onset:3511",
        observed=CAR_LINE_STOP_DAYS, likelihood="upper_bound", error=5.0,
        source=CAR_LINE_SOURCE, offset="drain", censor=90.0,
        note="onset of a passenger-car (3511) output loss above 0.5 % under a total, "
             "indefinite cut; 2025 was a licence requirement, not a total cut, so 52 days "
             "bounds the total-cut onset from above; softness 5 days")
    return Problem(params=params, targets=_file_targets() + (t_onset,))


def which_params(scenario: Any) -> list[str]:
    """The posterior parameters drawn for a scenario by :func:`run_bands`.

    Scenarios in Kiuchi's setting (``model.calibrated`` names ``dependency_scale``) draw the
    parameters of Nomura's target, which his assumptions leave free: the dependency scale and
    China's share of magnet imports (unless the file sets ``model.import_origins.MAG``).
    Other scenarios with a carve-out draw all six.  A scenario without a carve-out has none.
    """
    sc = _load(scenario)
    if not sc.data["table"].get("carve_out"):
        raise ScenarioError(f"{sc.file}: no carve-out: the rare-earth posterior does not apply")
    model = sc.data.get("model", {})
    if "dependency_scale" in model.get("calibrated", []):
        out = ["dependency_scale"]
        if "MAG" not in model.get("import_origins", {}):
            out.append("china_mag_share")
        return out
    return [p.name for p in rare_earth_params()]


# --------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------
def save_posterior(path: Path, problem: Problem, res: Mapping[str, Any],
                   extra: Mapping[str, Any] | None = None) -> Path:
    """Write samples, log-posterior, surrogate training runs and diagnostics (NetCDF 3,
    scipy engine: no optional dependency)."""
    import xarray as xr

    ds = xr.Dataset(coords={"draw": np.arange(res["samples"].shape[0]),
                            "parameter": np.array(problem.names, dtype=object)})
    ds["samples"] = (("draw", "parameter"), res["samples"])
    ds["log_posterior"] = (("draw",), res["log_posterior"])
    for k, t in enumerate(problem.targets):
        tr = problem.training[t.id]
        dims_p = f"p{k}"
        ds[f"t{k}_U"] = ((f"t{k}_node", dims_p), tr["U"])
        ds[f"t{k}_y"] = ((f"t{k}_node",), tr["y"])
        ds[f"t{k}_Xv"] = ((f"t{k}_valid", dims_p), tr["Xv"])
        ds[f"t{k}_yv"] = ((f"t{k}_valid",), tr["yv"])
        if tr["kind"] == "grid":
            for j, ax in enumerate(tr["x"]):
                ds[f"t{k}_axis{j}"] = ((f"t{k}_n{j}",), np.asarray(ax))
    ds.attrs.update({
        "title": "simcore: posterior of the rare-earth calibration",
        "simcore_version": __version__,
        "rebuild": "python -m simcore.calibrate --rebuild",
        "problem": json.dumps(problem.spec()),
        "kinds": json.dumps({t.id: problem.training[t.id]["kind"] for t in problem.targets}),
        "diagnostics": json.dumps(res["diagnostics"]),
        "sampler": json.dumps(res["sampler"]),
        "validation": json.dumps(problem.validation()),
        "extra": json.dumps(dict(extra or {})),
    })
    ds["parameter"] = ds["parameter"].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path, engine="scipy")
    return path


@dataclass
class Posterior:
    """The shipped posterior: samples, the problem with its surrogates, diagnostics."""

    problem: Problem
    samples: np.ndarray
    log_posterior: np.ndarray
    diagnostics: dict[str, Any]
    sampler: dict[str, Any]
    validation: dict[str, Any]
    extra: dict[str, Any]
    path: Path | None = None
    _key: np.ndarray | None = field(default=None, repr=False)

    @property
    def names(self) -> list[str]:
        return self.problem.names

    def column(self, name: str) -> np.ndarray:
        return self.samples[:, self.names.index(name)]

    def median(self, name: str) -> float:
        return float(np.median(self.column(name)))

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        return interval(self.column(name), level)

    def draws(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws (rows of :attr:`samples`, without replacement when possible)."""
        return self.samples[self.draw_indices(n, seed)]

    def draw_indices(self, n: int, seed: int = 0) -> np.ndarray:
        """Which rows of :attr:`samples` :meth:`draws` returns."""
        _check_draws(n)
        rng = np.random.default_rng(seed)
        m = self.samples.shape[0]
        return rng.choice(m, size=n, replace=n > m)

    def strata_key(self) -> np.ndarray:
        """Per sample, the engine value of :data:`STRATA_TARGET` (Nomura's 3-month loss) as
        the calibration's training runs interpolate it: multilinear on their grid (numpy
        only; a scattered design uses the target's surrogate).  It orders the samples into
        the strata of :meth:`stratified_draws`; only its order matters."""
        if self._key is None:
            t = next(t for t in self.problem.targets if t.id == STRATA_TARGET)
            idx, ps = self.problem.sub(t)
            U = to_unit(ps, self.samples[:, idx])
            tr = self.problem.training[t.id]
            if tr["kind"] == "grid":
                self._key = grid_interpolate(tr["x"], tr["y"], U)
            else:  # pragma: no cover - the shipped design is a grid
                self._key = self.problem.surrogates[t.id](U)
        return self._key

    def stratified_draws(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` draws (rows of :attr:`samples`), one from each of ``n`` strata of equal
        probability: the samples ordered by :meth:`strata_key` and cut into ``n`` groups of
        equal size (after dropping ``len(samples) mod n`` samples at random), one sample
        drawn uniformly from each group.

        Every draw is a uniform draw from its stratum, so the draws' empirical distribution
        estimates the posterior's of any figure without bias, as :meth:`draws` does, and
        with no more variance than random draws; for a figure that rises with the 3-month
        loss, with much less: the strata spread the draws over the whole range of the figure instead of
        leaving gaps and clumps (docs/calibration.md, "How the draws are chosen").  More
        draws than samples: :meth:`draws` (with replacement)."""
        return self.samples[self.stratified_indices(n, seed)]

    def stratified_indices(self, n: int, seed: int = 0) -> np.ndarray:
        """Which rows of :attr:`samples` :meth:`stratified_draws` returns, in the order of
        their strata."""
        _check_draws(n)
        m = self.samples.shape[0]
        if n > m:
            return self.draw_indices(n, seed)
        rng = np.random.default_rng(seed)
        order = np.argsort(self.strata_key(), kind="stable")
        per = m // n
        if m % n:
            keep = np.zeros(m, dtype=bool)
            keep[rng.choice(m, size=per * n, replace=False)] = True
            order = order[keep[order]]
        groups = order.reshape(n, per)
        return groups[np.arange(n), rng.integers(0, per, size=n)]


def _check_draws(n: Any) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"draws: n = {n!r}: expected a whole number >= 1")


def load_posterior(path: str | Path | None = None) -> Posterior:
    """Read the shipped posterior (or ``path``) and rebuild its surrogates from the stored
    training runs (no engine run).  The file is NetCDF 3, written by xarray
    (:func:`save_posterior`) and read here by :func:`simcore._netcdf3.read` (numpy only: a
    millisecond, against about 0.15 s through xarray's ``scipy`` engine)."""
    p = Path(path) if path is not None else POSTERIOR_FILE
    if not p.is_file():
        raise DataError(f"{p}: no posterior file; build it with "
                        "`python -m simcore.calibrate --rebuild`")
    vs, attrs = read_netcdf3(p)

    def var(name: str) -> np.ndarray:
        if name not in vs:
            raise DataError(f"{p}: no variable {name!r} in the posterior; rebuild it with "
                            "`python -m simcore.calibrate --rebuild`")
        return vs[name][1]

    def meta(key: str) -> Any:
        try:
            return json.loads(attrs[key])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{p}: attribute {key!r} of the posterior is missing or not "
                            f"JSON ({exc}); rebuild it with "
                            "`python -m simcore.calibrate --rebuild`") from exc

    problem = rare_earth_problem()
    if meta("problem") != json.loads(json.dumps(problem.spec())):
        raise DataError(f"{p}: the stored problem (priors, targets) differs from the code's; "
                        "rebuild with `python -m simcore.calibrate --rebuild`")
    kinds = meta("kinds")
    for k, t in enumerate(problem.targets):
        tr: dict[str, Any] = {"kind": kinds[t.id], "U": var(f"t{k}_U"),
                              "y": var(f"t{k}_y"), "Xv": var(f"t{k}_Xv"),
                              "yv": var(f"t{k}_yv")}
        if tr["kind"] == "grid":
            nax = len([v for v in vs if v.startswith(f"t{k}_axis")])
            tr["x"] = [var(f"t{k}_axis{j}") for j in range(nax)]
        else:
            tr["x"] = tr["U"]
        problem.training[t.id] = tr
    problem.surrogates = _Surrogates(problem.training)  # each fitted when first asked for
    return Posterior(problem=problem, samples=var("samples"),
                     log_posterior=var("log_posterior"),
                     diagnostics=meta("diagnostics"), sampler=meta("sampler"),
                     validation=meta("validation"), extra=meta("extra"), path=p)


#: Sizes of the shipped calibration (the rebuild command's defaults).
REBUILD = {"n_train": {"nomura-rare-earth-3m-loss": 169, "first-car-line-stop": 400},
           "n_valid": 60, "ensembles": 4, "walkers": 32, "steps": 10000, "seed": 20251128}


def rebuild(path: str | Path | None = None, *, quick: bool = False,
            progress: Callable[[str], None] | None = print) -> Posterior:
    """Run the engine on the surrogates' designs and held-back draws, sample, diagnose and
    write the posterior file (default: the shipped one)."""
    import time

    cfg = dict(REBUILD)
    if quick:
        cfg.update({"n_train": {"nomura-rare-earth-3m-loss": 36, "first-car-line-stop": 60},
                    "n_valid": 10, "steps": 600})
    problem = rare_earth_problem()
    t0 = time.perf_counter()
    problem.build(cfg["n_train"], cfg["n_valid"], seed=cfg["seed"], progress=progress)
    t_engine = time.perf_counter() - t0
    if progress:
        progress(f"engine runs: {t_engine:.1f} s; validation: {problem.validation()}")
    t1 = time.perf_counter()
    res = sample(problem, ensembles=cfg["ensembles"], walkers=cfg["walkers"],
                 steps=cfg["steps"], seed=cfg["seed"])
    t_sample = time.perf_counter() - t1
    if progress:
        progress(f"sampling: {t_sample:.1f} s; {res['sampler']}")
    n_runs = sum(problem.training[t.id]["U"].shape[0] + problem.training[t.id]["Xv"].shape[0]
                 for t in problem.targets)
    out = save_posterior(Path(path) if path else POSTERIOR_FILE, problem, res,
                         extra={"engine_runs": int(n_runs), "engine_seconds": t_engine,
                                "sampling_seconds": t_sample, "quick": quick})
    return load_posterior(out)


# --------------------------------------------------------------------------------------
# Bands
# --------------------------------------------------------------------------------------
#: How :func:`run_bands` chooses its posterior draws: ``"stratified"``
#: (:meth:`Posterior.stratified_draws`) or ``"random"`` (:meth:`Posterior.draws`).
SAMPLINGS = ("stratified", "random")


def run_bands(scenario: Any, n: int = 200, *, posterior: Posterior | None = None,
              seed: int = 0, level: float = 0.9, overrides: Mapping[str, Any] | None = None,
              sampling: str = "stratified") -> Any:
    """Run a scenario over ``n`` posterior draws in one batched engine call.

    The draws are stratified by the calibration's interpolated 3-month loss
    (:meth:`Posterior.stratified_draws`; ``sampling="random"``: drawn at random,
    :meth:`Posterior.draws`).  Returns an :class:`xarray.Dataset` over ``draw``: the
    drawn parameters, ``gdp_loss`` (daily), ``gdp_loss_total``, ``gdp_loss_share`` and
    ``value_added_loss`` by sector, with ``*_median``, ``*_low`` and ``*_high`` (the
    ``level`` central band, :func:`band`) summaries of the totals and of each sector's
    value-added loss.
    """
    import xarray as xr

    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"bands: n = {n!r}: expected a whole number >= 1")
    if not 0 < level < 1:
        raise ParameterError(f"bands: level = {level!r}: expected a number in (0, 1)")
    if sampling not in SAMPLINGS:
        raise ParameterError(f"bands: sampling = {sampling!r}: expected one of "
                             f"{', '.join(SAMPLINGS)}")
    post = posterior or load_posterior()
    sc = _load(scenario)
    if overrides:
        sc = sc.copy_with(dict(overrides))
    names = which_params(sc)
    idx = [post.names.index(k) for k in names]
    ps = [post.problem.param(k) for k in names]
    X = (post.stratified_draws(n, seed) if sampling == "stratified"
         else post.draws(n, seed))[:, idx]
    fixed: dict[str, Any] = {}
    if "substitution_headroom" in names:
        # the ramp's time constant the calibration held fixed (unless the file sets one)
        subst = sc.data.get("model", {}).get("substitution", {})
        for prod in ("RE", "MAG"):
            if "tau_days" not in subst.get(prod, {}):
                fixed[f"model.substitution.{prod}.tau_days"] = SUBSTITUTION_TAU_DAYS
    ovs = [{**fixed, **overrides_for(ps, row)} for row in X]
    r = run_draws(sc, ovs)
    prep = r["prep"]
    t = sc.data["table"]
    denom = float(t.get("gdp_denominator", prep.gdp_annual))
    tot = r["gdp_loss_total"]
    va = r["value_added_loss"]
    sectors = list(prep.sectors[:prep.n]) if len(prep.sectors) >= prep.n else None
    ds = xr.Dataset(coords={"draw": np.arange(n), "time": np.arange(r["gdp_loss"].shape[1]),
                            "sector": sectors, "parameter": names})
    ds["parameters"] = (("draw", "parameter"), X)
    ds["gdp_loss"] = (("draw", "time"), r["gdp_loss"], {"units": f"{prep.unit} per day"})
    ds["gdp_loss_total"] = (("draw",), tot, {"units": prep.unit})
    ds["gdp_loss_share"] = (("draw",), tot / denom)
    ds["value_added_loss"] = (("draw", "sector"), va, {"units": prep.unit})
    for name, arr in (("gdp_loss_total", tot), ("gdp_loss_share", tot / denom)):
        lo, med, hi = band(arr, level)
        ds[f"{name}_median"], ds[f"{name}_low"], ds[f"{name}_high"] = med, lo, hi
    lo, med, hi = band(va, level, axis=0)
    ds["value_added_loss_median"] = (("sector",), med)
    ds["value_added_loss_low"] = (("sector",), lo)
    ds["value_added_loss_high"] = (("sector",), hi)
    tab = sc.table()
    if "name_en" in tab.variables:
        names_en = tab["name_en"].to_series()
        ds = ds.assign_coords(name_en=("sector", [str(names_en.get(s, "")) for s in sectors]))
    ds.attrs.update({"scenario": sc.name, "draws": n, "level": level, "unit": prep.unit,
                     "sampling": sampling, "quantiles": BAND_METHOD,
                     "gdp_denominator": denom, "parameters_drawn": ", ".join(names),
                     "posterior": str(post.path) if post.path else "",
                     "days_max": int(r["days"].max()), "seed": seed})
    return ds


# --------------------------------------------------------------------------------------
# Recovery of known parameters
# --------------------------------------------------------------------------------------
def _toy_scenario(kind: str) -> dict[str, Any]:
    """A small scenario on the 37-sector table: China (half of the imports) stops
    delivering non-ferrous metals (27); stocks per origin."""
    return {
        "schema": 1, "name": f"toy-{kind}", "title": "recovery check",
        "table": {"dataset": "japan-2015-37"},
        "shocks": [{"kind": "import_cut", "product": "27", "origin": "CHN", "share": 1.0,
                    "duration": 30.0 if kind == "loss" else 36500.0}],
        "model": {"import_origins": {"27": {"CHN": 0.5}}, "dependency": 0.0,
                  "dependency_by_product": {"27": 0.5}, "inventory_days": 1.0,
                  "inventory_days_by_product": {"27": 1.0}, "origin_stocks": True,
                  "inventory_tau": 5.0},
        "horizon": {"days": 120, "record": ["output"]},
    }


def toy_problem() -> Problem:
    """Two parameters, two targets on the 37-sector table (the CI recovery check): the
    dependency share of non-ferrous metals, informed by the 30-day loss with one day of
    stocks, and their stock days, informed by the onset of the metal products' (28) loss
    under an indefinite cut.  ``observed`` values are placeholders (set by
    :func:`recovery`)."""
    params = (
        Parameter("theta", ("model.dependency_by_product.27",), "uniform", (0.1, 0.9),
                  (0.1, 0.9), "recovery check: uniform"),
        Parameter("stock_days", ("model.inventory_days_by_product.27",), "uniform",
                  (5.0, 40.0), (5.0, 40.0), "recovery check: uniform"),
    )
    targets = (
        Target("toy-loss", _toy_scenario("loss"), {}, ("theta",), "gdp_loss_total", 1.0,
               "lognormal", 0.05, "synthetic"),
        Target("toy-onset", _toy_scenario("onset"), {}, ("theta", "stock_days"),
               "onset:28", 1.0, "normal", 2.0, "synthetic"),
    )
    return Problem(params=params, targets=targets)


def recovery(problem: Problem, *, repeats: int, seed: int = 0, n_train: int = 81,
             walkers: int = 16, steps: int = 1500, level: float = 0.9,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Simulation-based check of the calibration: draw true parameters from the prior, run
    the ENGINE at them, add noise from each target's likelihood (an upper bound is checked
    as a normal error of the same size: a bound is not a generative model), calibrate
    (surrogates built once, one emcee ensemble per repeat) and count the true values inside
    the central ``level`` intervals.  Returns ``inside (repeats, k)``, ``truth``, ``lo``,
    ``hi``."""
    import dataclasses

    if not problem.surrogates:
        problem.build({t.id: n_train for t in problem.targets}, n_valid=4,
                      seed=seed)
    rng = np.random.default_rng(seed)
    truth = problem.prior_draws(repeats, seed + 7)
    obs = {}
    for t in problem.targets:
        idx, ps = problem.sub(t)
        obs[t.id] = engine_values(t, ps, truth[:, idx])
    k = len(problem.params)
    inside = np.zeros((repeats, k), dtype=bool)
    lo = np.zeros((repeats, k))
    hi = np.zeros((repeats, k))
    for r in range(repeats):
        tg = []
        for t in problem.targets:
            v = obs[t.id][r]
            if t.censor is not None:
                v = min(v, t.censor)
            if t.likelihood == "lognormal":
                y = v * math.exp(t.error * rng.standard_normal())
                tg.append(dataclasses.replace(t, observed=float(y)))
            else:
                y = v + t.error * rng.standard_normal()
                tg.append(dataclasses.replace(t, observed=float(y), likelihood="normal"))
        pr = Problem(params=problem.params, targets=tuple(tg),
                     surrogates=problem.surrogates, training=problem.training)
        res = sample(pr, ensembles=1, walkers=walkers, steps=steps, seed=seed + 1000 + r,
                     thin_to=4000, diagnose=False)
        for j in range(k):
            lo[r, j], hi[r, j] = interval(res["samples"][:, j], level)
        inside[r] = (truth[r] >= lo[r]) & (truth[r] <= hi[r])
        if progress:
            progress(f"repeat {r + 1}/{repeats}: inside {inside[:r + 1].sum()} of "
                     f"{(r + 1) * k}")
    return {"inside": inside, "truth": truth, "lo": lo, "hi": hi, "level": level,
            "names": problem.names}


#: Where ``python -m simcore.calibrate --recovery N`` writes its result (read by the docs).
RECOVERY_FILE = POSTERIOR_FILE.with_name("recovery-rare-earth.json")


def binomial_floor(n: int, p: float = 0.9, alpha: float = 0.01) -> int:
    """Largest count ``k`` with ``P(X <= k) < alpha`` for ``X ~ Binomial(n, p)``: a count at
    or below it rejects calibrated intervals at level ``alpha``."""
    from scipy.stats import binom

    ks = [k for k in range(n + 1) if binom.cdf(k, n, p) < alpha]
    return max(ks) if ks else -1


def recovery_check(repeats: int = 100, *, seed: int = 11, walkers: int = 24, steps: int = 1200,
                   posterior: Posterior | None = None, path: Path | None = None,
                   progress: Callable[[str], None] | None = print) -> dict[str, Any]:
    """The full recovery check on the rare-earth problem, with the shipped posterior's
    surrogates (the truths are run through the engine); writes :data:`RECOVERY_FILE`."""
    import time

    post = posterior or load_posterior()
    t0 = time.perf_counter()
    res = recovery(post.problem, repeats=repeats, seed=seed, walkers=walkers, steps=steps,
                   progress=progress)
    per = {n: int(res["inside"][:, j].sum()) for j, n in enumerate(res["names"])}
    out = {"repeats": repeats, "level": res["level"], "inside": per,
           "binomial_floor_1pct": binomial_floor(repeats, res["level"], 0.01),
           "seed": seed, "walkers": walkers, "steps": steps,
           "seconds": time.perf_counter() - t0,
           "command": f"python -m simcore.calibrate --recovery {repeats}",
           "simcore_version": __version__}
    (path or RECOVERY_FILE).write_text(json.dumps(out, indent=1) + "\n")
    return out
