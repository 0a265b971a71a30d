"""The ``simcore`` command line.

``simcore run SCENARIO [--json] [--out FILE] [--plot FILE.png] [--set KEY=VALUE ...] [--bands N]``
    run a scenario (a path or a shipped name) and print the headline: value-added loss in
    yen, share of GDP, the most-hit sectors.  ``--out`` writes the full result as NetCDF
    (``.nc``) or a tidy table as CSV (``.csv``) or Parquet (``.parquet``).  ``--plot``
    writes a two-panel figure (daily loss over time, loss by sector; needs matplotlib).
    ``--bands N`` adds the median and 90 % band over N posterior draws (see
    :func:`simcore.calibrate.run_bands`), and the band to the figure.
``simcore reproduce [PATH ...] [--json]``
    published against model for every ``[[reference]]`` figure of the scenario files and
    folders given (searched recursively; default: the shipped scenarios), calibrations
    first, with the model's median and 90 % band over posterior draws where the rare-earth
    posterior applies, and whether the figure was a target or predicted; exits 1 if any
    fails.
``simcore scenarios``
    list the shipped scenarios.

Exit codes: 0 success; 1 ``reproduce`` ran but a reference figure failed to reproduce;
2 a user error (bad scenario, value, path or option; ``simcore: error: ...`` on stderr);
70 an internal error (a bug in simcore: please report it; ``simcore: internal error: ...``).
With ``--json`` an error is also printed on stdout as one JSON object
``{"error": {"kind": "user"|"internal", "message": ..., "exit_code": ...}}``.
JSON output never holds ``Infinity`` or ``NaN``: such a number is ``null`` and its key is
listed under ``"non_finite"`` with the reason.
``simcore sweep SCENARIO --set KEY=V1,V2,... [--set KEY=LO..HI --samples N --seed S]
[--method lhs|random|sobol|morris] [--engine local|dask] [--scheduler ADDRESS] [--workers N]
--out PATH``
    run a design of variants (see :func:`simcore.sweep`); ``KEY=V1,V2`` is a grid axis,
    ``KEY=LO..HI`` a range to sample, ``KEY=V`` a fixed override.  Run it again on the same
    ``PATH`` to resume.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from .errors import SimcoreError

#: Exit codes (documented in the module docstring and docs/getting-started.md).
EXIT_OK = 0
EXIT_NOT_REPRODUCED = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE


def printable(text: Any) -> str:
    """``text`` with control characters (terminal escape sequences among them) escaped, so a
    title or a sector name from a file cannot drive the terminal (issue 15)."""
    import unicodedata

    out = []
    for ch in str(text):
        if ch in "\n\t" or unicodedata.category(ch)[0] != "C":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _finite_json(obj: Any, path: str = "", bad: dict[str, str] | None = None) -> Any:
    """A copy of ``obj`` with non-finite floats replaced by ``None``; their keys and reasons
    go to ``bad`` (valid JSON never holds Infinity or NaN)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        if bad is not None:
            bad[path or "value"] = ("not a number (NaN)" if math.isnan(obj)
                                    else f"{'+' if obj > 0 else '-'}infinite")
        return None
    if isinstance(obj, dict):
        return {k: _finite_json(v, f"{path}.{k}" if path else str(k), bad)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v, f"{path}[{i}]", bad) for i, v in enumerate(obj)]
    return obj


def dumps_json(obj: Any) -> str:
    """Strict JSON: non-finite numbers become null, listed under ``non_finite``."""
    bad: dict[str, str] = {}
    clean = _finite_json(obj, "", bad)
    if bad:
        if isinstance(clean, dict):
            clean["non_finite"] = bad
        else:
            clean = {"items": clean, "non_finite": bad}
    return json.dumps(clean, ensure_ascii=False, allow_nan=False)



def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
    except RecursionError:
        raise SimcoreError("--set: the value is nested too deeply (arrays or objects inside "
                           "each other); expected a number, a string or a shallow "
                           "list") from None


def _overrides(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for it in items or []:
        if "=" not in it:
            raise SimcoreError(f"--set {it!r}: expected KEY=VALUE, e.g. model.inventory_days=30")
        k, v = it.split("=", 1)
        if k.strip() in out:
            raise SimcoreError(f"--set {k.strip()!r} is given twice; give each key once")
        out[k.strip()] = _parse_value(v.strip())
    return out


#: Yen per table unit, for the units whose money is yen.  Other units (e.g. Miller &
#: Blair's "$ million") are reported in table units with ``*_jpy`` set to null.


def _headline(res, top: int = 10) -> dict[str, Any]:
    unit = res.attrs.get("unit", "")
    from .tables import yen_per_unit

    yen = yen_per_unit(unit)
    va = res.value_added_loss.to_series()
    by_sector_units = {str(k): float(v) for k, v in va.items()}
    by_sector = ({k: v * yen for k, v in by_sector_units.items()} if yen is not None
                 else by_sector_units)
    order = sorted(by_sector, key=lambda k: -by_sector[k])
    names = res["name_en"].to_series().to_dict() if "name_en" in res.coords else {}
    total = float(res.gdp_loss_total)
    gain = float(res.gdp_gain_total) if "gdp_gain_total" in res else 0.0
    denom = float(res.attrs["gdp_denominator"])
    key = "value_added_loss_jpy" if yen is not None else "value_added_loss"
    gross = total + gain
    return {
        "scenario": res.attrs.get("scenario", ""),
        "title": res.attrs.get("scenario_title", ""),
        "unit": unit,
        "value_added_loss": total,
        "value_added_loss_jpy": total * yen if yen is not None else None,
        "gdp_loss_share": float(res.gdp_loss_share),
        # MODELS.md P10: value added above baseline (overproduction), netted in the loss
        "value_added_gain": gain,
        "value_added_gain_jpy": gain * yen if yen is not None else None,
        # issue 15: the loss of the sectors below baseline, before the gains are netted;
        # value_added_loss = value_added_loss_gross - value_added_gain
        "value_added_loss_gross": gross,
        "value_added_loss_gross_jpy": gross * yen if yen is not None else None,
        "gdp_loss_share_gross": gross / denom,
        "loss_convention": ("net: value_added_loss = value_added_loss_gross - "
                            "value_added_gain (overproduction above baseline)"),
        "net_gain": bool(total < 0),
        "gdp_denominator_jpy": denom * yen if yen is not None else None,
        "gdp_denominator": denom,
        "horizon_days": int(res.attrs["days"]),
        "recovered": bool(res.attrs.get("recovered", 0)),
        "calibrated_keys": res.attrs.get("calibrated_keys", ""),
        "illustrative": bool(res.attrs.get("illustrative", 0)),
        "top_sectors": [{"sector": k, "name_en": str(names.get(k, "")), key: by_sector[k]}
                        for k in order[:top]],
        "by_sector": by_sector,
    }


OUT_SUFFIXES = (".nc", ".csv", ".parquet")


def _check_out(out: str | None, option: str = "--out",
               suffixes: tuple[str, ...] = OUT_SUFFIXES) -> None:
    """Refuse an unusable ``--out``/``--plot`` before the run, so a long run is never thrown
    away."""
    if not out:
        return
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        names = [s for s in suffixes if s]
        raise SimcoreError(f"{option} {out!r}: unknown suffix {path.suffix.lower()!r}; "
                           f"use {', '.join(names[:-1])} or {names[-1]}")
    if path.is_dir():
        raise SimcoreError(f"{option} {out!r}: is a directory; give a file name")
    writable_dir(path.parent if str(path.parent) else Path("."), f"{option} {out!r}")


def writable_dir(folder: Path, what: str) -> None:
    """Refuse, before any work, a folder that cannot be written: its first existing ancestor
    must be a directory in which a file can be created (tried, so it holds for root and for
    read-only file systems too)."""
    import tempfile

    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise SimcoreError(f"{what}: {str(parent)!r} is not a directory")
            try:
                with tempfile.TemporaryFile(dir=parent):
                    pass
            except OSError as exc:
                raise SimcoreError(f"{what}: cannot write in {str(parent)!r} "
                                   f"({exc.strerror or exc})") from None
            return


def _write(res, out: str) -> Path:
    from ._io import atomic_path

    path = Path(out)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".nc":
            res.attrs = {k: (v if not isinstance(v, bool) else int(v)) for k, v in res.attrs.items()}
            res.to_netcdf(tmp)
        elif suffix in (".csv", ".parquet"):
            df = res.value_added_loss.to_dataframe().reset_index()
            df = df[[c for c in df.columns if c in ("sector", "name_en", "value_added_loss")]]
            df["output_loss"] = res.output_loss.values
            df["unit"] = res.attrs.get("unit", "")
            if suffix == ".csv":
                df.to_csv(tmp, index=False)
            else:
                df.to_parquet(tmp, index=False)
        else:
            raise SimcoreError(f"--out {out!r}: unknown suffix {suffix!r}; use .nc, .csv or .parquet")
    return path


def cmd_run(args: argparse.Namespace) -> int:
    from .scenario import load

    _check_out(args.out)
    if getattr(args, "plot", None):
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise SimcoreError("--plot needs matplotlib: pip install 'simcore[plot]'") from None
        # every format matplotlib can write; no suffix means PNG (simcore.plot.save)
        fmts = tuple("." + f for f in Figure().canvas.get_supported_filetypes())
        _check_out(args.plot, "--plot", fmts + ("",))
    if getattr(args, "bands", None) is not None and args.bands < 1:
        raise SimcoreError(f"--bands {args.bands}: expected a whole number of draws >= 1")
    sc = load(args.scenario, allow_outside_data=args.allow_outside_data)
    res = sc.run(**_overrides(args.set))
    head = _headline(res)
    bands = None
    if getattr(args, "bands", None):
        from .calibrate import run_bands

        bands = run_bands(sc, args.bands, overrides=_overrides(args.set))
        head["bands"] = _bands_summary(bands, top=len(head["top_sectors"]))
    if args.out:
        try:
            _write(res, args.out)
        except OSError as exc:
            raise SimcoreError(f"--out {args.out!r}: cannot write the result ({exc})") from exc
    if getattr(args, "plot", None):
        from .plot import overview, save

        try:
            save(overview(res, band=bands), args.plot)
        except ImportError as exc:  # matplotlib is the optional extra "plot"
            raise SimcoreError(f"--plot: {exc}") from None
        except OSError as exc:
            raise SimcoreError(f"--plot {args.plot!r}: cannot write the figure ({exc})") from exc
    if args.json:
        print(dumps_json(head))
        return 0
    print(printable(head['title'] or head['scenario']))
    if head["illustrative"]:
        print("  (illustrative scenario)")
    yen = head["value_added_loss_jpy"] is not None

    def money(v: float) -> str:
        return f"{v / 1e9:,.1f} bn yen" if yen else f"{v:,.4g} {head['unit']}"

    gdp = (f"{head['gdp_denominator_jpy'] / 1e12:,.1f} tn yen" if yen
           else f"{head['gdp_denominator']:,.4g} {head['unit']}")
    sfx = "_jpy" if yen else ""
    if head["value_added_gain"] > 0:
        # issue 15: with overproduction the headline is the gross loss; gains apart
        print(f"  value-added loss (gross, sectors below baseline): "
              f"{money(head['value_added_loss_gross' + sfx])} "
              f"({head['gdp_loss_share_gross'] * 100:.4f} % of annual GDP {gdp})")
        print(f"  value added above baseline (overproduction), netted below: "
              f"{money(head['value_added_gain' + sfx])}")
        net = head["value_added_loss" + sfx]
        print(f"  net value-added {'gain' if net < 0 else 'loss'}: {money(abs(net))} "
              f"({abs(head['gdp_loss_share']) * 100:.4f} % of annual GDP)"
              + (": overproduction (alpha_max > 1) replaced the cut supply and more; "
                 "see docs/methodology.md, Pitfalls" if net < 0 else ""))
    else:
        print(f"  value-added loss: {money(head['value_added_loss' + sfx])} "
              f"({head['gdp_loss_share'] * 100:.4f} % of annual GDP {gdp})")
    print(f"  horizon: {head['horizon_days']} days"
          f"{'' if head['recovered'] else ' (output or stocks not back at baseline at the end)'}")
    if head["calibrated_keys"]:
        print(f"  calibrated parameters: {head['calibrated_keys']}")
    print(f"  most-hit sectors ({'bn yen' if yen else head['unit']}):")
    for row in head["top_sectors"]:
        v = row["value_added_loss_jpy"] / 1e9 if yen else row["value_added_loss"]
        print(f"    {printable(row['sector']):>6}  {v:10,.1f}  {printable(row['name_en'][:60])}")
    if bands is not None:
        b = head["bands"]
        lvl = f"{100 * b['level']:g} %"
        f = 1e9 if yen else 1.0
        u = "bn yen" if yen else head["unit"]
        print(f"  over {b['draws']} posterior draws of {b['parameters']}:")
        print(f"    value-added loss: median {b['gdp_loss_total'][0] * b['yen'] / f:,.1f} {u}, "
              f"{lvl} band {b['gdp_loss_total'][1] * b['yen'] / f:,.1f} .. "
              f"{b['gdp_loss_total'][2] * b['yen'] / f:,.1f}; share of GDP median "
              f"{b['gdp_loss_share'][0] * 100:.4f} % ({b['gdp_loss_share'][1] * 100:.4f} .. "
              f"{b['gdp_loss_share'][2] * 100:.4f} %)")
        print(f"    value-added loss by sector ({u}: median, {lvl} band):")
        for row in b["sectors"]:
            print(f"    {row['sector']:>6}  {row['median'] * b['yen'] / f:10,.1f}  "
                  f"{row['low'] * b['yen'] / f:10,.1f} .. {row['high'] * b['yen'] / f:10,.1f}")
    if args.out:
        print(f"  full result written to {args.out}")
    if getattr(args, "plot", None):
        print(f"  figure written to {args.plot}")
    return 0


def _bands_summary(ds, top: int = 10) -> dict[str, Any]:
    """Median and band of the totals and of every sector's value-added loss (the sectors
    in order of median loss; the printed list shows the first ``top``)."""
    from .tables import yen_per_unit

    order = ds["value_added_loss_median"].values.argsort()[::-1]
    sectors = [{"sector": str(ds.sector.values[i]),
                "median": float(ds["value_added_loss_median"].values[i]),
                "low": float(ds["value_added_loss_low"].values[i]),
                "high": float(ds["value_added_loss_high"].values[i])} for i in order]
    yen = yen_per_unit(ds.attrs["unit"])
    return {
        "draws": int(ds.attrs["draws"]), "level": float(ds.attrs["level"]),
        "parameters": ds.attrs["parameters_drawn"], "unit": ds.attrs["unit"],
        "yen": float(yen) if yen is not None else 1.0,
        "gdp_loss_total": [float(ds[f"gdp_loss_total_{k}"]) for k in ("median", "low", "high")],
        "gdp_loss_share": [float(ds[f"gdp_loss_share_{k}"]) for k in ("median", "low", "high")],
        "sectors": sectors[:top], "value_added_loss_by_sector": sectors,
    }


#: Keys of a ``simcore reproduce --json`` row.
REPRODUCE_JSON_KEYS = ("id", "published", "model", "unit", "rel_error", "tolerance", "fitted",
                       "ok", "median", "band")


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .references import bands, default_runner, reproduce

    # the process-wide cache: in a pytest session, the runs the plugin already did
    checks = reproduce(args.paths or None, default_runner())
    ok = all(c.ok for c in checks)
    # model median and 90 % band over posterior draws (None where the posterior of the
    # rare-earth calibration does not apply, or the shipped posterior is stale: then no band)
    from .errors import DataError

    try:
        band = bands(checks)
    except DataError as exc:
        print(f"simcore: warning: no bands: {exc}", file=sys.stderr)
        band = {}

    def row(c) -> dict[str, Any]:
        b = band.get(c.ref.name)
        d = dict(c.row(), median=b[0] if b else None, band=[b[1], b[2]] if b else None)
        return {k: d[k] for k in REPRODUCE_JSON_KEYS}

    if args.json:
        print(dumps_json([row(c) for c in checks]))
        return EXIT_OK if ok else EXIT_NOT_REPRODUCED

    def fmt(v: float, unit: str) -> str:
        if unit == "JPY":
            return f"{v / 1e9:,.1f} bn"
        return f"{v * 100:.4f} %"

    def rel(path: Path | None) -> str:
        try:
            return str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    last = None
    for c in checks:
        if c.ref.file != last:
            last = c.ref.file
            print(f"{rel(c.ref.file)}  ({c.ref.scenario})")
            if c.calibration:
                print(f"  calibrated {c.calibration}")
            print(f"  {'id':36} {'published':>14} {'model':>14} {'rel.err':>8} "
                  f"{'tolerance':>12}  {'median':>14} {'90 % band':>25}  {'role':9}  ok")
        b = band.get(c.ref.name)
        med = fmt(b[0], c.ref.unit) if b else "-"
        bnd = f"{fmt(b[1], c.ref.unit)} .. {fmt(b[2], c.ref.unit)}" if b else "-"
        print(f"  {c.ref.id:36} {fmt(c.published, c.ref.unit):>14} "
              f"{fmt(c.model, c.ref.unit):>14} {c.rel_error * 100:+7.2f}% "
              f"{fmt(c.tolerance, c.ref.unit):>12}  {med:>14} {bnd:>25}  {c.role:9}  "
              f"{'PASS' if c.ok else 'FAIL'}")
    n_bad = sum(not c.ok for c in checks)
    print(f"all {len(checks)} reference figures reproduced" if ok
          else f"{n_bad} of {len(checks)} reference figures FAILED")
    return EXIT_OK if ok else EXIT_NOT_REPRODUCED


def cmd_scenarios(args: argparse.Namespace) -> int:
    from .scenario import available, load

    for name in available():
        try:
            title = load(name).data.get("title", "")
        except SimcoreError as exc:  # pragma: no cover - shipped files are tested
            title = f"INVALID: {exc}"
        print(f"{name:32} {printable(title)}")
    return 0


def _sweep_sets(items: list[str] | None) -> tuple[dict, dict, dict]:
    grid: dict[str, list[Any]] = {}
    ranges: dict[str, tuple[float, float]] = {}
    fixed: dict[str, Any] = {}
    for it in items or []:
        if "=" not in it:
            raise SimcoreError(f"--set {it!r}: expected KEY=V1,V2,... or KEY=LO..HI")
        k, v = (x.strip() for x in it.split("=", 1))
        if k in grid or k in ranges or k in fixed:
            raise SimcoreError(f"--set {k!r} is given twice; give each key once (a list of "
                               "values is KEY=V1,V2,...)")
        if ".." in v and not v.startswith("["):
            lo, hi = v.split("..", 1)
            try:
                ranges[k] = (float(lo), float(hi))
            except ValueError:
                raise SimcoreError(f"--set {it!r}: a range is LO..HI with two numbers") from None
        elif v.startswith("[") or v.startswith("{"):
            val = _parse_value(v)
            (grid.__setitem__(k, val) if isinstance(val, list) else fixed.__setitem__(k, val))
        else:
            vals = [_parse_value(x.strip()) for x in v.split(",")] if v else []
            if len(vals) == 1:
                fixed[k] = vals[0]
            else:
                grid[k] = vals
    return grid, ranges, fixed


def cmd_sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from .sweeps import sweep

    from .scenario import load

    grid, ranges, fixed = _sweep_sets(args.set)
    res = sweep(load(args.scenario, allow_outside_data=args.allow_outside_data), grid=grid or None, ranges=ranges or None, overrides=fixed or None,
                method=args.method, samples=args.samples, seed=args.seed, engine=args.engine,
                scheduler=args.scheduler, workers=args.workers, chunk_size=args.chunk_size,
                out=args.out, format=args.format, sectors=args.sectors, daily=args.daily)
    loss = res["gdp_loss_total_jpy"] if "gdp_loss_total_jpy" in res else res["gdp_loss_total"]
    vals = loss.values.ravel()
    print(f"{res.attrs['n_scenarios']:,} scenarios of {printable(res.attrs['scenario'])} "
          f"({res.attrs['method']}; {res.attrs['chunks_computed']} chunks computed, "
          f"{res.attrs['chunks_resumed']} resumed) in {res.attrs['elapsed_s']:.1f} s")
    unit = "bn yen" if "gdp_loss_total_jpy" in res else res.attrs.get("unit", "")
    scale = 1e9 if "gdp_loss_total_jpy" in res else 1.0
    print(f"  value-added loss ({unit}): min {vals.min() / scale:,.1f}  median "
          f"{float(np.median(vals)) / scale:,.1f}  max {vals.max() / scale:,.1f}")
    print(f"  result written to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="simcore", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a scenario and print the headline")
    r.add_argument("scenario", help="path to a scenario .toml or a shipped name")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--out", help="write the result (.nc, .csv or .parquet)")
    r.add_argument("--plot", metavar="FILE.png",
                   help="write a figure: daily loss over time and loss by sector")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario key, e.g. model.inventory_days=30")
    r.add_argument("--allow-outside-data", action="store_true",
                   help="let the scenario name data files outside its folder and the "
                        "shipped scenarios/data (absolute paths, '..')")
    r.add_argument("--bands", type=int, metavar="N",
                   help="also run N posterior draws of the rare-earth calibration in one "
                        "batched call: median and 90 %% band of the loss and by sector")
    r.set_defaults(fn=cmd_run)
    q = sub.add_parser("reproduce", help="published against model for every reference figure")
    q.add_argument("paths", nargs="*", metavar="PATH",
                   help="scenario files or folders (searched recursively); default: the "
                        "shipped scenarios")
    q.add_argument("--json", action="store_true", help="print a JSON list")
    q.set_defaults(fn=cmd_reproduce)
    s = sub.add_parser("scenarios", help="list the shipped scenarios")
    s.set_defaults(fn=cmd_scenarios)
    w = sub.add_parser("sweep", help="run a design of scenario variants (resumable)")
    w.add_argument("scenario", help="path to a scenario .toml or a shipped name")
    w.add_argument("--set", action="append", metavar="KEY=V1,V2|LO..HI",
                   help="grid axis (V1,V2,...), range to sample (LO..HI) or fixed value")
    w.add_argument("--samples", type=int, help="points (random, lhs) or base size (sobol, morris)")
    w.add_argument("--seed", type=int, help="seed of the sampled design")
    w.add_argument("--method", choices=("lhs", "random", "sobol", "morris"),
                   help="sampling method for ranges (default lhs)")
    w.add_argument("--engine", choices=("local", "dask"), default="local")
    w.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address")
    w.add_argument("--workers", type=int, help="threads (local) or LocalCluster workers (dask)")
    w.add_argument("--chunk-size", type=int, help="scenarios per chunk")
    w.add_argument("--format", choices=("netcdf", "zarr"), default="netcdf")
    w.add_argument("--sectors", action="store_true", help="keep value added by sector")
    w.add_argument("--daily", action="store_true", help="keep the daily GDP loss")
    w.add_argument("--out", required=True, metavar="PATH", help="sweep directory (resumable)")
    w.add_argument("--allow-outside-data", action="store_true",
                   help="let the scenario name data files outside its folder and the "
                        "shipped scenarios/data (absolute paths, '..')")
    w.set_defaults(fn=cmd_sweep)
    args = p.parse_args(argv)
    try:
        return int(args.fn(args))
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except SimcoreError as exc:
        return _fail(args, "user", str(exc), EXIT_USER_ERROR)
    except OSError as exc:  # a path the user gave: unwritable, not a folder, disk full
        name = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        return _fail(args, "user", f"cannot read or write{name}: "
                                   f"{exc.strerror or exc}", EXIT_USER_ERROR)
    except RecursionError:
        return _fail(args, "user", "the input is nested too deeply (arrays or tables inside "
                                   "each other)", EXIT_USER_ERROR)
    except OverflowError as exc:
        return _fail(args, "user", f"a number in the input is too large ({exc})",
                     EXIT_USER_ERROR)
    except MemoryError:
        return _fail(args, "user", "out of memory: the run is too large for this machine",
                     EXIT_USER_ERROR)
    except Exception as exc:  # a bug: say so, with the type, and a distinct exit code
        import os
        import traceback

        if os.environ.get("SIMCORE_TRACEBACK"):
            traceback.print_exc()
        return _fail(args, "internal", f"{type(exc).__name__}: {exc} (a bug in simcore; "
                                       "please report it; set SIMCORE_TRACEBACK=1 for the "
                                       "traceback)", EXIT_INTERNAL_ERROR)


def _fail(args: argparse.Namespace, kind: str, message: str, code: int) -> int:
    message = printable(message)
    label = "error" if kind == "user" else "internal error"
    print(f"simcore: {label}: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(dumps_json({"error": {"kind": kind, "message": message, "exit_code": code}}))
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
