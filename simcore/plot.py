"""Figures for simcore results: trajectories, losses by sector, sweeps and sensitivity.

matplotlib is an optional dependency (``pip install "simcore[plot]"``); it is imported on
first use, never by ``import simcore``.  Without a display (no ``DISPLAY`` on Linux, and no
``MPLBACKEND`` set) the non-interactive ``Agg`` backend is selected.  Figures are built as
:class:`matplotlib.figure.Figure` objects outside pyplot's global state, so making many of
them leaks nothing; every function returns its figure (and accepts ``ax=`` to draw into an
existing axes instead).

Money is shown in billions of yen when the result's unit is ``"million JPY"`` (the embedded
Japanese tables), otherwise in the result's own unit.

Functions
---------
:func:`trajectory`
    daily GDP-like value-added loss and its cumulative sum over time, with the shock period
    shaded and an optional band from low/high results or a sweep.
:func:`losses_by_sector`
    horizontal bars of the cumulative value-added loss of the most-hit sectors.
:func:`response_surface`, :func:`response_curve`
    a result variable over a 2-D or 1-D parameter grid of a sweep.
:func:`tornado`
    a sensitivity tornado from (label, low, high) rows around a base value, or SALib-style
    ``S1``/``ST`` indices.
:func:`overview`
    the two-panel figure written by ``simcore run SCENARIO --plot FILE.png``.
:func:`save`
    write a figure atomically (PNG, SVG, PDF, ... from the suffix).

Examples
--------
>>> import simcore as sc
>>> from simcore import plot
>>> t = sc.datasets.load("japan-2015-37")
>>> res = sc.simulate(t, sc.CapacityShock(sector="35", share=0.2, duration=30), days=90)
>>> fig = plot.trajectory(res)
>>> fig.axes[0].get_ylabel()
'daily loss (bn yen)'
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .errors import ParameterError
from ._atomic import atomic_path
from .tables import yen_per_unit

__all__ = [
    "trajectory",
    "losses_by_sector",
    "response_surface",
    "response_curve",
    "tornado",
    "overview",
    "save",
    "money_scale",
]

#: Dims of a sweep that hold samples or scenarios (reduced to quantiles in bands).
SAMPLE_DIMS = ("scenario", "sample", "draw", "member", "run")

_COLORS = {"loss": "#b2182b", "cum": "#2166ac", "shock": "#bdbdbd", "band": "#f4a582",
           "low": "#4393c3", "high": "#d6604d", "s1": "#92c5de", "st": "#2166ac"}


# --------------------------------------------------------------------------------------
# matplotlib, lazily
# --------------------------------------------------------------------------------------
def _mpl():
    """Import matplotlib (clear error if missing); select Agg when there is no display."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "simcore.plot needs matplotlib, an optional dependency: "
            "pip install 'simcore[plot]' (or pip install matplotlib)") from exc
    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY"))
    if headless and not os.environ.get("MPLBACKEND") and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    return matplotlib


def _figure(figsize: tuple[float, float]):
    """A new Figure outside pyplot's state (nothing to close, nothing leaks)."""
    _mpl()
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _axes(ax, figsize: tuple[float, float]):
    if ax is not None:
        return ax.figure, ax
    fig = _figure(figsize)
    return fig, fig.add_subplot()


# --------------------------------------------------------------------------------------
# Units and labels
# --------------------------------------------------------------------------------------
def money_scale(unit: str) -> tuple[float, str]:
    """Factor and label to show an amount in ``unit``: billions of yen for yen tables.

    >>> money_scale("million JPY")
    (0.001, 'bn yen')
    >>> money_scale("USD")
    (1.0, 'USD')
    """
    u = (unit or "").strip()
    yen = yen_per_unit(u)
    if yen is not None:
        return yen / 1e9, "bn yen"
    return 1.0, u or "table units"


def _unit_of(obj: Any, var: str | None = None) -> str:
    if var is not None and isinstance(obj, xr.Dataset) and var in obj:
        u = obj[var].attrs.get("units", "")
        if u:
            return str(u)
    return str(getattr(obj, "attrs", {}).get("unit", ""))


def _is_money(unit: str) -> bool:
    return money_scale(unit)[0] != 1.0 or unit.lower().endswith(("jpy", "yen", "usd", "eur"))


def _var_label(ds: Any, var: str) -> tuple[float, str]:
    """(factor, axis label) of a result variable, with units."""
    da = ds[var] if isinstance(ds, xr.Dataset) else ds
    unit = str(da.attrs.get("units", "") or _unit_of(ds))
    name = {"gdp_loss_total": "cumulative GDP-like value-added loss",
            "gdp_loss_share": "loss as a share of annual GDP",
            "value_added_loss": "cumulative value-added loss"}.get(
        var, str(da.attrs.get("long_name", var.replace("_", " "))))
    if var.endswith("_share") or unit == "1" and "share" in name:
        return 100.0, f"{name} (%)"
    if unit.endswith(" per day"):
        f, lab = money_scale(unit[: -len(" per day")])
        return f, f"{name} ({lab} per day)"
    f, lab = money_scale(unit)
    if unit in ("", "1"):
        return 1.0, name
    return f, f"{name} ({lab})"


def _title(res: Any, default: str) -> str:
    attrs = getattr(res, "attrs", {})
    return str(attrs.get("scenario_title") or attrs.get("scenario") or default)


def _fmt(v: float) -> str:
    """A value label: no decimals from 100 up, one from 1 up, 3 significant digits below."""
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.1f}"
    return f"{v:.3g}"


def _tick(v: Any) -> str:
    """A tick label for a grid value: numbers without trailing zeros."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:g}"


def _wrap(text: str, width: int = 60) -> str:
    """Wrap a long title over several lines."""
    import textwrap

    return "\n".join(textwrap.fill(part, width) for part in str(text).split("\n"))


def _shorten(text: str, n: int = 42) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------
# Shock periods
# --------------------------------------------------------------------------------------
def shock_periods(res: Any) -> list[tuple[float, float, str]]:
    """``(start, end, label)`` of each shock recorded in a result's ``attrs['shocks']``.

    ``end`` includes a linear recovery tail.  Shocks given as objects (``ImportCut`` ...)
    are accepted too.
    """
    shocks = getattr(res, "attrs", {}).get("shocks", "") if not isinstance(res, (list, tuple)) \
        else res
    out: list[tuple[float, float, str]] = []
    if isinstance(shocks, (list, tuple)):
        for s in shocks:
            if isinstance(s, tuple) and len(s) in (2, 3):
                out.append((float(s[0]), float(s[1]), str(s[2]) if len(s) == 3 else "shock"))
                continue
            end = getattr(s, "end", None)
            if end is None:
                continue
            what = getattr(s, "product", None) or getattr(s, "sector", "")
            out.append((float(s.start), float(end), f"{type(s).__name__} {what}".strip()))
        return out
    # a result's attrs['shocks']: JSON, one object per shock with its kind, fields and end
    # (simcore.dynamic.common.shocks_json); anything else (a result file of simcore before
    # issue 14) gives no periods
    try:
        items = json.loads(str(shocks)) if shocks else []
    except ValueError:
        return out
    for d in items if isinstance(items, list) else []:
        if not isinstance(d, dict) or "start" not in d or "end" not in d:
            continue
        what = d.get("product") or d.get("sector") or ""
        out.append((float(d["start"]), float(d["end"]), f"{d.get('kind', 'shock')} {what}".strip()))
    return out


def _merge(periods: Iterable[tuple[float, float, str]]) -> list[tuple[float, float]]:
    spans = sorted((a, b) for a, b, _ in periods if b > a)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


# --------------------------------------------------------------------------------------
# trajectory
# --------------------------------------------------------------------------------------
def _band_series(band: Any, var: str) -> tuple[np.ndarray, np.ndarray, str] | None:
    if band is None:
        return None
    if isinstance(band, (tuple, list)) and len(band) == 2:
        lo, hi = (np.asarray(b[var].values, dtype=float) for b in band)
        n = min(lo.size, hi.size)
        lo, hi = lo[:n], hi[:n]
        return np.minimum(lo, hi), np.maximum(lo, hi), "low–high range"
    if isinstance(band, xr.Dataset):
        if var not in band:
            raise ParameterError(f"band: the sweep Dataset has no variable {var!r}")
        da = band[var]
        if "time" not in da.dims:
            raise ParameterError(f"band: {var!r} has no 'time' dim (dims {da.dims}); record "
                                 "the daily loss in the sweep")
        other = [d for d in da.dims if d != "time"]
        if not other:
            raise ParameterError("band: the sweep Dataset needs a scenario or sample dim")
        stacked = da.stack(_s=other).transpose("time", "_s").values
        # posterior draws (simcore.calibrate.run_bands) say how their bands are read
        q = np.nanquantile(stacked, [0.05, 0.95], axis=1,
                           method=band.attrs.get("quantiles", "linear"))
        return q[0], q[1], f"5–95 % over {stacked.shape[1]} " + (
            "samples" if any(d in ("sample", "draw") for d in other) else "scenarios")
    raise ParameterError("band: expected (low, high) results or a sweep Dataset with a "
                         "scenario/sample dim and a time dim")


def _auto_days(loss: np.ndarray, spans: Sequence[tuple[float, float]]) -> int:
    T = loss.size
    peak = float(np.max(np.abs(loss))) if T else 0.0
    end = max((b for _, b in spans), default=0.0)
    if peak <= 0:
        return T
    sig = np.nonzero(np.abs(loss) >= 0.01 * peak)[0]
    last = int(sig[-1]) + 1 if sig.size else 0
    want = max(last * 1.25, end * 1.5, end + 30.0, 30.0)
    return int(min(T, math.ceil(want)))


def trajectory(result: xr.Dataset, *, ax=None, band: Any = None, cumulative: bool = True,
               days: int | None = None, shocks: Any = None, label: str | None = None,
               title: str | None = None):
    """Daily GDP-like value-added loss over time (and its cumulative sum).

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`simcore.simulate` or :func:`simcore.scenario.run` (needs
        ``gdp_loss (time)``).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (a twin axis is added for the cumulative loss).
    band : (low, high) results, or a sweep Dataset, optional
        Shade a range: between the daily losses of two results, or the 5–95 % quantiles
        over every non-time dim (scenario, sample, parameters) of a sweep's ``gdp_loss``.
    cumulative : bool, default True
        Add the cumulative loss on a right-hand axis.
    days : int, optional
        Days to show; default: until the daily loss has fallen below 1 % of its peak (with a
        margin), at least 1.5 times the shock period.
    shocks : sequence, optional
        Shock objects or ``(start, end[, label])`` tuples to shade; default: the shocks in
        ``result.attrs['shocks']``.
    label, title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "gdp_loss" not in result:
        raise ParameterError("trajectory: the result has no 'gdp_loss' variable; pass a "
                             "result of simcore.simulate or simcore.scenario.run")
    factor, money = money_scale(_unit_of(result))
    loss = np.asarray(result["gdp_loss"].values, dtype=float)
    if loss.ndim != 1:
        raise ParameterError(f"trajectory: gdp_loss has dims {result['gdp_loss'].dims}; "
                             "select one scenario, or pass the sweep as band=")
    t = np.asarray(result["time"].values, dtype=float) if "time" in result.coords \
        else np.arange(loss.size, dtype=float)
    periods = shock_periods(shocks if shocks is not None else result)
    spans = _merge(periods)
    show = int(days) if days is not None else _auto_days(loss, spans)
    show = max(1, min(show, loss.size))
    fig, ax = _axes(ax, (9.0, 4.6))

    for k, (s0, s1) in enumerate(spans):
        ax.axvspan(s0, min(s1, show), color=_COLORS["shock"], alpha=0.3, lw=0,
                   label="shock period" if k == 0 else None)
    b = _band_series(band, "gdp_loss")
    if b is not None:
        lo, hi, blab = b
        n = min(lo.size, show)
        ax.fill_between(t[:n], lo[:n] * factor, hi[:n] * factor, color=_COLORS["band"],
                        alpha=0.45, lw=0, label=blab)
    ax.plot(t[:show], loss[:show] * factor, color=_COLORS["loss"], lw=1.8,
            label=label or "daily loss")
    ax.set_xlim(t[0], t[show - 1] + 1)
    ax.set_xlabel("days since the start of the simulation")
    ax.set_ylabel(f"daily loss ({money})")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.grid(True, alpha=0.3)
    # both axes start at 0 (or at the same relative height when a value is negative)
    shown = loss[:show] * factor
    if b is not None:
        shown = np.concatenate([shown, lo[:show] * factor, hi[:show] * factor])
    top1 = max(float(np.nanmax(shown)), 0.0) * 1.1 or 1.0
    bot1 = min(float(np.nanmin(shown)) * 1.1, 0.0)
    ax.set_ylim(bot1, top1)
    handles, labels = ax.get_legend_handles_labels()
    if cumulative:
        ax2 = ax.twinx()
        cum = np.cumsum(loss)[:show] * factor
        ax2.plot(t[:show], cum, color=_COLORS["cum"], lw=1.6, ls="--",
                 label="cumulative loss (right axis)")
        ax2.set_ylabel(f"cumulative loss ({money})", color=_COLORS["cum"])
        ax2.tick_params(axis="y", colors=_COLORS["cum"])
        top2 = max(float(cum.max()), 0.0) * 1.1 or 1.0
        bot2 = min(float(cum.min()) * 1.1, 0.0)
        r = bot1 / top1  # share of the axis below 0 on the left
        if bot2 < 0 and (r == 0 or bot2 / top2 < r):
            bot1 = top1 * bot2 / top2
            ax.set_ylim(bot1, top1)
        else:
            bot2 = top2 * r
        ax2.set_ylim(bot2, top2)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=min(len(handles), 4), fontsize="small", frameon=False)
    total = float(np.sum(loss)) * factor
    share = result.get("gdp_loss_share")
    sub = f"total {total:,.1f} {money}"
    if share is not None and np.ndim(share.values) == 0:
        sub += f" ({100 * float(share):.3f} % of annual GDP)"
    if show < loss.size:
        sub += f"; first {show} of {loss.size} days shown"
    ax.set_title(f"{title or _title(result, 'GDP-like value-added loss')}\n{sub}",
                 fontsize="medium")
    return fig


# --------------------------------------------------------------------------------------
# losses by sector
# --------------------------------------------------------------------------------------
def losses_by_sector(result: xr.Dataset, top: int = 15, *, ax=None, var: str = "value_added_loss",
                     title: str | None = None):
    """Horizontal bars of the cumulative value-added loss of the ``top`` most-hit sectors.

    Sectors are labelled ``code  English name`` (``name_en`` coordinate when present).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if var not in result:
        raise ParameterError(f"losses_by_sector: the result has no variable {var!r}")
    da = result[var]
    if da.dims != ("sector",):
        raise ParameterError(f"losses_by_sector: {var!r} has dims {da.dims}; expected "
                             "('sector',) (select one scenario of a sweep first)")
    top = int(top)
    if top < 1:
        raise ParameterError(f"losses_by_sector: top = {top}; expected >= 1")
    factor, money = money_scale(str(da.attrs.get("units", "")) or _unit_of(result))
    vals = np.asarray(da.values, dtype=float) * factor
    codes = [str(s) for s in da["sector"].values]
    names = [str(s) for s in da["name_en"].values] if "name_en" in da.coords else [""] * len(codes)
    order = np.argsort(-vals, kind="stable")[:top]
    order = order[::-1]  # largest at the top
    labels = [f"{codes[i]}  {_shorten(names[i])}".strip() for i in order]
    fig, ax = _axes(ax, (9.0, 0.32 * len(order) + 1.6))
    y = np.arange(len(order))
    colors = [_COLORS["loss"] if vals[i] >= 0 else _COLORS["cum"] for i in order]
    ax.barh(y, vals[order], color=colors, height=0.7)
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlabel(f"cumulative value-added loss ({money})")
    ax.axvline(0.0, color="0.4", lw=0.6)
    ax.grid(True, axis="x", alpha=0.3)
    vmax = float(np.max(np.abs(vals[order]))) if len(order) else 0.0
    for yi, i in zip(y, order):
        ax.text(vals[i] + 0.01 * vmax * (1 if vals[i] >= 0 else -1), yi, f"{vals[i]:,.1f}",
                va="center", ha="left" if vals[i] >= 0 else "right", fontsize="x-small")
    if vmax > 0:
        lo = min(0.0, float(vals[order].min()) * 1.15)
        ax.set_xlim(lo, max(float(vals[order].max()), 0.0) * 1.15 + 1e-12)
    total = float(vals.sum())
    shown = float(vals[order].sum())
    ax.set_title(f"{title or _title(result, 'Value-added loss by sector')}\n"
                 f"top {len(order)} of {len(codes)} sectors: {shown:,.1f} of {total:,.1f} "
                 f"{money}", fontsize="medium")
    return fig


def overview(result: xr.Dataset, top: int = 15, *, band: Any = None):
    """Two panels: :func:`trajectory` (left) and :func:`losses_by_sector` (right).

    This is the figure ``simcore run SCENARIO --plot FILE.png`` writes.
    """
    fig = _figure((12.5, max(5.0, 0.27 * top + 1.9)))
    gs = fig.add_gridspec(1, 2, width_ratios=[1.15, 1.0])
    ax1 = fig.add_subplot(gs[0, 0])
    ax2 = fig.add_subplot(gs[0, 1])
    trajectory(result, ax=ax1, band=band, title="Daily GDP-like value-added loss")
    losses_by_sector(result, top=top, ax=ax2, title="Cumulative loss by sector")
    fig.suptitle(_title(result, "simcore result"), fontsize="large", fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------
def _grid(ds: xr.Dataset, var: str, keys: Sequence[str]) -> xr.DataArray:
    """``ds[var]`` with ``keys`` as dims (unstacking a scenario dim if needed)."""
    if var not in ds:
        raise ParameterError(f"sweep: no variable {var!r}; variables: "
                             f"{', '.join(map(str, ds.data_vars))}")
    da = ds[var]
    for k in keys:
        if k not in da.dims and k not in da.coords:
            raise ParameterError(f"sweep: {k!r} is neither a dim nor a coordinate of {var!r} "
                                 f"(dims {da.dims}, coords {list(da.coords)})")
    missing = [k for k in keys if k not in da.dims]
    if missing:
        owners = {da[k].dims for k in missing}
        if len(owners) != 1 or len(next(iter(owners))) != 1:
            raise ParameterError(f"sweep: coordinates {missing} must lie along one dim")
        sdim = next(iter(owners))[0]
        drop = [c for c in da.coords if sdim in da[c].dims and c not in missing and c != sdim]
        da = da.drop_vars(drop + ([sdim] if sdim in da.coords else []))
        if len(missing) == 1:
            da = da.swap_dims({sdim: missing[0]})
        else:
            try:
                da = da.set_index({sdim: missing}).unstack(sdim)
            except ValueError as exc:
                raise ParameterError(f"sweep: cannot lay {missing} out as a grid along "
                                     f"{sdim!r} ({exc}); is it a grid design?") from None
    return da


def _reduce_rest(da: xr.DataArray, keep: Sequence[str], what: str) -> tuple[xr.DataArray, str]:
    rest = [d for d in da.dims if d not in keep]
    if not rest:
        return da, ""
    if "time" in rest:
        raise ParameterError(f"{what}: the variable has a 'time' dim; use a total such as "
                             "'gdp_loss_total'")
    return da.median(rest), f" (median over {', '.join(rest)})"


def _axis_name(ds: Any, key: str) -> str:
    if isinstance(ds, (xr.Dataset, xr.DataArray)) and key in ds.coords:
        a = ds[key].attrs
        name = a.get("long_name", key)
        unit = a.get("units", "")
        return f"{name} ({unit})" if unit else str(name)
    return key


def response_surface(sweep_ds: xr.Dataset, x: str, y: str, var: str = "gdp_loss_total", *,
                     ax=None, annotate: bool | None = None, title: str | None = None):
    """Heatmap of ``var`` over a 2-D parameter grid of a sweep.

    ``x`` and ``y`` are dims of ``sweep_ds[var]`` or coordinates along one scenario dim
    (unstacked).  Other dims are reduced by their median (e.g. samples).  Cells are
    annotated with their value when the grid has at most 12 x 12 cells.

    Returns
    -------
    matplotlib.figure.Figure
    """
    da = _grid(sweep_ds, var, [x, y])
    da, note = _reduce_rest(da, [x, y], "response_surface")
    da = da.sortby(x).sortby(y).transpose(y, x)
    factor, zlabel = _var_label(sweep_ds, var)
    xv = da[x].values
    yv = da[y].values
    z = np.asarray(da.values, dtype=float) * factor
    fig, ax = _axes(ax, (7.5, 5.5))
    # one cell per grid point, evenly spaced (grids are often irregular: 0.6, 0.72, 1.0)
    mesh = ax.pcolormesh(np.arange(len(xv) + 1) - 0.5, np.arange(len(yv) + 1) - 0.5, z,
                         cmap="OrRd", shading="flat")
    cb = fig.colorbar(mesh, ax=ax)
    cb.set_label(zlabel)
    for set_ticks, vals in ((ax.set_xticks, xv), (ax.set_yticks, yv)):
        step = max(1, int(math.ceil(len(vals) / 15)))  # at most ~15 labelled ticks
        pos = np.arange(0, len(vals), step)
        set_ticks(pos, [_tick(vals[k]) for k in pos])
    if annotate is None:
        annotate = z.shape[0] <= 12 and z.shape[1] <= 12
    if annotate:
        zmax = np.nanmax(z) if np.isfinite(z).any() else 1.0
        for i in range(len(yv)):
            for j in range(len(xv)):
                if np.isfinite(z[i, j]):
                    ax.text(j, i, _fmt(z[i, j]), ha="center", va="center", fontsize="small",
                            color="white" if z[i, j] > 0.6 * zmax else "black")
    ax.set_xlabel(_axis_name(sweep_ds, x))
    ax.set_ylabel(_axis_name(sweep_ds, y))
    ax.set_title(_wrap(title or f"{zlabel.split(' (')[0]} by {x} and {y}{note}"),
                 fontsize="medium")
    return fig


def response_curve(sweep_ds: xr.Dataset, x: str, var: str = "gdp_loss_total", *, ax=None,
                   hue: str | None = None, title: str | None = None, label: str | None = None):
    """``var`` against one swept parameter ``x`` (a line with markers).

    With ``hue``, one line per value of that dim or coordinate.  Sample dims
    (``scenario``, ``sample``, ...) left over are shown as a 5–95 % band around the median;
    any other dim left over is reduced by its median.

    Returns
    -------
    matplotlib.figure.Figure
    """
    keys = [x] + ([hue] if hue else [])
    da = _grid(sweep_ds, var, keys)
    factor, ylabel = _var_label(sweep_ds, var)
    fig, ax = _axes(ax, (7.5, 4.8))
    samples = [d for d in da.dims if d not in keys and d in SAMPLE_DIMS]
    note = ""
    if samples:
        lo = da.quantile(0.05, dim=samples).drop_vars("quantile")
        hi = da.quantile(0.95, dim=samples).drop_vars("quantile")
        da = da.median(samples)
        lo, _ = _reduce_rest(lo, keys, "response_curve")
        hi, _ = _reduce_rest(hi, keys, "response_curve")
    da, note = _reduce_rest(da, keys, "response_curve")
    da = da.sortby(x)
    series = [(None, da)] if not hue else [(v, da.sel({hue: v})) for v in da[hue].values]
    for k, (hv, s) in enumerate(series):
        xs = np.asarray(s[x].values, dtype=float)
        lab = label or ("median" if samples else var.replace("_", " ")) if hv is None \
            else f"{hue} = {hv}"
        line, = ax.plot(xs, np.asarray(s.values, dtype=float) * factor, marker="o", lw=1.8,
                        color=_COLORS["loss"] if hv is None else None, label=lab)
        if samples:
            sl = lo.sortby(x) if hv is None else lo.sel({hue: hv}).sortby(x)
            sh = hi.sortby(x) if hv is None else hi.sel({hue: hv}).sortby(x)
            ax.fill_between(xs, sl.values * factor, sh.values * factor, alpha=0.25, lw=0,
                            color=line.get_color(),
                            label="5–95 %" if k == 0 else None)
    ax.set_xlabel(_axis_name(sweep_ds, x))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    lo_y = min(0.0, ax.get_ylim()[0])
    ax.set_ylim(bottom=lo_y)
    if hue or samples or label:
        ax.legend(fontsize="small")
    ax.set_title(_wrap(title or f"{ylabel.split(' (')[0]} by {x}{note}"), fontsize="medium")
    return fig


# --------------------------------------------------------------------------------------
# Tornado
# --------------------------------------------------------------------------------------
def _salib(indices: Any) -> tuple[list[str], np.ndarray, np.ndarray,
                                  np.ndarray | None, np.ndarray | None] | None:
    """(names, S1, ST, S1_conf, ST_conf) from a SALib-style Dataset or mapping, else None."""
    if isinstance(indices, xr.Dataset) and "ST" in indices:
        st = indices["ST"]
        if st.ndim != 1:
            raise ParameterError(f"tornado: ST has dims {st.dims}; expected one parameter dim")
        dim = st.dims[0]
        names = [str(v) for v in indices[dim].values] if dim in indices.coords \
            else [str(i) for i in range(st.size)]
        get = (lambda k: np.asarray(indices[k].values, dtype=float) if k in indices else None)
        s1 = get("S1")
        return names, s1 if s1 is not None else np.full(st.size, np.nan), \
            np.asarray(st.values, dtype=float), get("S1_conf"), get("ST_conf")
    if isinstance(indices, Mapping) and "ST" in indices:
        st = np.asarray(indices["ST"], dtype=float)
        names = [str(n) for n in indices.get("names", range(st.size))]
        get = (lambda k: np.asarray(indices[k], dtype=float) if k in indices else None)
        s1 = get("S1")
        return names, s1 if s1 is not None else np.full(st.size, np.nan), st, \
            get("S1_conf"), get("ST_conf")
    return None


def _morris(ind: Any, *, ax, unit: str, value_label: str, title: str | None):
    """Bars of Morris mu* (with its confidence) and sigma, one row per parameter."""
    if isinstance(ind, xr.Dataset):
        mu = ind["mu_star"]
        dim = mu.dims[0]
        names = [str(v) for v in ind[dim].values]
        get = (lambda k: np.asarray(ind[k].values, dtype=float) if k in ind else None)
    else:
        names = [str(n) for n in ind.get("names", range(len(ind["mu_star"])))]
        get = (lambda k: np.asarray(ind[k], dtype=float) if k in ind else None)
    factor, money = money_scale(unit) if unit else (1.0, "")
    mu_star = get("mu_star") * factor
    conf = get("mu_star_conf")
    sigma = get("sigma")
    order = np.argsort(-np.nan_to_num(mu_star), kind="stable")[::-1]
    fig, ax = _axes(ax, (8.0, 0.38 * len(names) + 1.8))
    y = np.arange(len(order))
    ax.barh(y + 0.18, mu_star[order], height=0.36, color=_COLORS["st"],
            label="mean |elementary effect| μ*",
            xerr=None if conf is None else conf[order] * factor, capsize=2)
    if sigma is not None:
        ax.barh(y - 0.18, sigma[order] * factor, height=0.36, color=_COLORS["s1"],
                label="std of elementary effects σ")
    ax.set_yticks(y, [_shorten(names[i], 40) for i in order], fontsize="small")
    ax.set_xlabel(f"Morris effect on the {value_label}" + (f" ({money})" if money else ""))
    ax.axvline(0.0, color="0.4", lw=0.6)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title or "Screening (Morris elementary effects)", fontsize="medium")
    return fig


def tornado(rows: Any, base: float | None = None, *, ax=None, unit: str = "",
            value_label: str = "cumulative GDP-like value-added loss",
            low_label: str = "low setting", high_label: str = "high setting",
            title: str | None = None):
    """A sensitivity tornado chart.

    Parameters
    ----------
    rows : sequence of (label, low_value, high_value), or SALib-style indices
        One row per parameter: the result at its low and high setting.  Rows are sorted by
        their swing ``|high - low|``, largest on top.  Alternatively a Dataset (or mapping,
        as returned by ``SALib.analyze.sobol.analyze``) with ``ST`` (and ``S1``, optional
        ``*_conf``) over one parameter dim: bars of the total and first-order indices; or
        Morris indices (``mu_star``, ``mu_star_conf``, ``sigma``): bars of mu* and sigma.
        :func:`simcore.sweep` with ``method="sobol"`` or ``"morris"`` returns either.
    base : float, optional
        The base result; bars run from it to each low and high value (required for rows,
        drawn as a vertical line).  Ignored for Sobol indices.
    unit : str, optional
        Unit of the values (``"million JPY"`` is shown in bn yen); for Morris indices,
        default the unit of ``gdp_loss_total`` in the Dataset.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(rows, (xr.Dataset, Mapping)) and "mu_star" in rows and "ST" not in rows:
        return _morris(rows, ax=ax, unit=unit or _unit_of(rows, "gdp_loss_total"),
                       value_label=value_label, title=title)
    sal = _salib(rows)
    if sal is not None:
        names, s1, st, s1c, stc = sal
        order = np.argsort(-np.nan_to_num(st), kind="stable")[::-1]
        fig, ax = _axes(ax, (8.0, 0.38 * len(names) + 1.8))
        y = np.arange(len(order))
        ax.barh(y + 0.18, st[order], height=0.36, color=_COLORS["st"], label="total order ST",
                xerr=None if stc is None else stc[order], capsize=2)
        if np.isfinite(s1).any():
            ax.barh(y - 0.18, s1[order], height=0.36, color=_COLORS["s1"],
                    label="first order S1", xerr=None if s1c is None else s1c[order],
                    capsize=2)
        ax.set_yticks(y, [_shorten(names[i], 40) for i in order], fontsize="small")
        ax.set_xlabel(f"Sobol sensitivity index of the {value_label} (share of variance)")
        ax.axvline(0.0, color="0.4", lw=0.6)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
        ax.set_title(title or "Global sensitivity (Sobol indices)", fontsize="medium")
        return fig
    try:
        rows = [(str(r[0]), float(r[1]), float(r[2])) for r in rows]
    except (TypeError, ValueError, IndexError):
        raise ParameterError("tornado: expected rows of (label, low_value, high_value) or a "
                             "SALib-style Dataset/mapping with 'ST'") from None
    if not rows:
        raise ParameterError("tornado: no rows")
    if base is None:
        raise ParameterError("tornado: pass base=, the result at the base setting")
    factor, money = money_scale(unit) if unit else (1.0, "")
    b = float(base) * factor
    rows.sort(key=lambda r: abs(r[2] - r[1]))
    fig, ax = _axes(ax, (8.5, 0.45 * len(rows) + 1.8))
    y = np.arange(len(rows))
    lows = np.array([r[1] for r in rows]) * factor
    highs = np.array([r[2] for r in rows]) * factor
    ax.barh(y, lows - b, left=b, color=_COLORS["low"], height=0.6, label=low_label)
    ax.barh(y, highs - b, left=b, color=_COLORS["high"], height=0.6, label=high_label)
    ax.axvline(b, color="k", lw=1.0, label=f"base {_fmt(b)}" + (f" {money}" if money else ""))
    ax.set_yticks(y, [_shorten(r[0], 44) for r in rows], fontsize="small")
    span = float(max(np.max(np.abs(lows - b)), np.max(np.abs(highs - b)), 1e-12))
    for yi, lo, hi in zip(y, lows, highs):
        for v in (lo, hi):
            if v != b:
                ax.text(v + (0.01 * span if v > b else -0.01 * span), yi, _fmt(v),
                        va="center", ha="left" if v > b else "right", fontsize="x-small")
    ax.set_xlim(min(lows.min(), highs.min(), b) - 0.18 * span,
                max(lows.max(), highs.max(), b) + 0.18 * span)
    ax.set_xlabel(f"{value_label}" + (f" ({money})" if money else ""))
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title or "Sensitivity of the result to one change at a time",
                 fontsize="medium")
    return fig


# --------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------
def save(fig, path: str | Path, *, dpi: int = 150, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` atomically (format from the suffix, e.g. ``.png``).

    The figure is written to a temporary file next to ``path`` and moved over it
    (:func:`simcore._atomic.atomic_path`): a crash never leaves a truncated image.
    """
    _mpl()
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    kwargs.setdefault("facecolor", "white")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, **kwargs)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a normal file, not mkstemp's 0600
    return path
