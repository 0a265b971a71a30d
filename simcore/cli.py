"""The ``simcore`` command line.

``simcore run SCENARIO [--json] [--top N] [--sectors CODES] [--out FILE] [--plot FILE.png]
[--set KEY=VALUE ...] [--bands N]``
    run a scenario (a path or a shipped name) and print the headline: value-added loss,
    share of GDP, the ``N`` most-hit sectors (default 10), the sectors ``--sectors`` names
    (codes or name substrings, comma-separated) and, always, the sectors the scenario's
    carve-out names as users of the carved products.  ``--out`` writes the full result as
    NetCDF (``.nc``) or a tidy table as CSV (``.csv``) or Parquet (``.parquet``), sorted by
    loss.  ``--plot`` writes a two-panel figure (daily loss over time, loss by sector; needs
    matplotlib).  ``--bands N`` adds the median and 90 % band over N posterior draws,
    stratified (see :func:`simcore.calibrate.run_bands`), and the band to the figure.

    Units: every money figure of every output (the printed table, JSON, CSV, Parquet,
    NetCDF) is in the table's unit, ``million JPY`` for the shipped scenarios, and the unit
    is stated beside it (the ``unit`` key or column, the NetCDF ``units`` attribute).  The
    JSON keys ending in ``_jpy`` are the same figures in yen (null for a table whose money
    is not yen); ``units`` in the JSON maps every money key to its unit.
``simcore reproduce [PATH ...] [--json] [--draws N]``
    published against model for every ``[[reference]]`` figure of the scenario files and
    folders given (searched recursively; default: the shipped scenarios), calibrations
    first, with the model's median and 90 % band over ``N`` stratified posterior draws
    (default :data:`simcore.references.BAND_DRAWS`; ``--draws 0``: no bands) where the rare-earth
    posterior applies, and whether the figure was a target or predicted; exits 1 if any
    fails.  Units: money is printed in the scenario table's unit (published figures in yen
    converted to it; ``million JPY`` for the shipped scenarios), shares in %, each with its
    unit; ``--json`` gives every figure in its reference's own unit (the row's ``unit``).
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
[--method lhs|random|sobol|morris] [--executor local|dask] [--scheduler ADDRESS]
[--workers N] --out PATH``
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

# Only the standard library and simcore's base layer here: ``simcore --help``,
# ``--version`` and argument errors import nothing heavy (no numpy, xarray or numba).  Each
# subcommand imports what it needs inside its function (declared in simcore._layers.LAZY).
from ._atomic import atomic_path, writable_dir  # noqa: F401  (writable_dir: public here too)
from ._version import __version__
from .errors import DataError, SimcoreError

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



def plain(text: str) -> str:
    """Docstring markup (reST literals and roles) as plain text, for ``--help``."""
    import re

    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


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


def money_text(v: float, unit: str) -> str:
    """A money figure as the CLI prints it, always with its unit."""
    return f"{v:,.1f} {unit}" if abs(v) >= 100 or v == 0 else f"{v:,.4g} {unit}"


def carve_out_users(sc) -> list[tuple[str, str]]:
    """``(user, product)`` for every sector the scenario's carve-out file names as a user of
    a carved product (the ``users`` tables of ``table.carve_out``), in file order; empty
    when the scenario carves nothing out."""
    spec = sc.carve_spec() if sc is not None else None
    out: dict[str, str] = {}
    for product, pspec in ((spec or {}).get("products") or {}).items():
        for parent in (pspec.get("parents") or {}).values():
            for user in (parent.get("users") or {}):
                out.setdefault(str(user), str(product))
    return list(out.items())


def resolve_sectors(text: str, codes: list[str], names: dict[str, str]) -> list[str]:
    """The sectors ``--sectors`` names: comma-separated codes (exact, then ignoring case)
    or substrings of the English names (ignoring case; every match).  An error names the
    entries that match nothing."""
    chosen: list[str] = []
    unknown: list[str] = []
    lower = {c.lower(): c for c in codes}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        if item in codes:
            hits = [item]
        elif item.lower() in lower:
            hits = [lower[item.lower()]]
        else:
            hits = [c for c in codes if item.lower() in str(names.get(c, "")).lower()]
        if not hits:
            unknown.append(item)
        chosen += [h for h in hits if h not in chosen]
    if unknown:
        raise SimcoreError(
            f"--sectors: no sector has the code or a name containing "
            f"{', '.join(repr(u) for u in unknown)}; give codes such as "
            f"{', '.join(codes[:3])} or parts of sector names (`simcore run SCENARIO "
            "--json` lists every sector under by_sector)")
    if not chosen:
        raise SimcoreError("--sectors: give at least one sector code or name")
    return chosen


def _selections(head: dict[str, Any], top: int, sectors: list[str] | None,
                users: list[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """The top ``top``, the ``sectors`` asked for and the carve-out's users, as rows of
    ``head["by_sector"]`` (sorted by loss)."""
    rows = head["by_sector"]
    by = {r["sector"]: r for r in rows}
    if "by_region" in head:  # a carve-out's users in every region (REGION/SECTOR codes)
        users = [(f"{g['region']}/{k}", p) for k, p in users for g in head["by_region"]]
    return {"top_sectors": rows[:top],
            "selected_sectors": [by[c] for c in sectors or [] if c in by],
            "carve_out_users": sorted((dict(by[k], user_of=p) for k, p in users if k in by),
                                      key=lambda r: r["rank"])}


def _headline(res, top: int = 10, sectors: list[str] | None = None,
              users: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    from .tables import yen_per_unit

    unit = res.attrs.get("unit", "")
    yen = yen_per_unit(unit)
    by_code = _by_code(res.value_added_loss)
    split = {part: _by_code(res[f"value_added_loss_{part}"]) for part in ("supply", "demand")
             if f"value_added_loss_{part}" in res}
    order = sorted(by_code, key=lambda k: (-by_code[k], k))
    rank = {k: i + 1 for i, k in enumerate(order)}
    names = res["name_en"].to_series().to_dict() if "name_en" in res.coords else {}
    if "region" in res.value_added_loss.dims:  # a multi-regional result: REGION/SECTOR
        names = {f"{r}/{k}": v for k, v in names.items() for r in map(str, res.region.values)}
    total = float(res.gdp_loss_total)
    gain = float(res.gdp_gain_total) if "gdp_gain_total" in res else 0.0
    denom = float(res.attrs["gdp_denominator"])
    gross = total + gain

    def row(code: str, **extra: Any) -> dict[str, Any]:
        r: dict[str, Any] = {"rank": rank[code], "sector": code,
                             "name_en": str(names.get(code, "")), **extra,
                             "value_added_loss": by_code[code]}
        for part, vals in split.items():
            r[f"value_added_loss_{part}"] = vals[code]
        r["share_of_loss"] = by_code[code] / total if total else None
        r["unit"] = unit
        return r

    money = ("gdp_loss_total", "gdp_gain_total", "gdp_loss_gross_total", "gdp_denominator")
    units = {k: unit for k in money}
    units.update({k + "_jpy": "JPY" for k in money})
    units.update({"gdp_loss_share": "fraction of annual GDP",
                  "gdp_loss_share_gross": "fraction of annual GDP",
                  "top_sectors": unit, "selected_sectors": unit, "carve_out_users": unit,
                  "by_sector": unit, "share_of_loss": "fraction of gdp_loss_total",
                  "horizon_days": "days", "by_region": unit,
                  "share_of_region_gdp": "fraction of the region's annual GDP"})
    return {
        "scenario": res.attrs.get("scenario", ""),
        "title": res.attrs.get("scenario_title", ""),
        "unit": unit,
        "units": units,
        # the result's names (issue 14): gdp_loss_total is the total, value_added_loss the
        # loss of one sector (the rows below)
        "gdp_loss_total": total,
        "gdp_loss_total_jpy": total * yen if yen is not None else None,
        "gdp_loss_share": float(res.gdp_loss_share),
        # value added above baseline (overproduction, alpha_max > 1), netted in the loss;
        # docs/methodology.md, Pitfalls
        "gdp_gain_total": gain,
        "gdp_gain_total_jpy": gain * yen if yen is not None else None,
        # issue 15: the loss of the sectors below baseline, before the gains are netted;
        # gdp_loss_total = gdp_loss_gross_total - gdp_gain_total
        "gdp_loss_gross_total": gross,
        "gdp_loss_gross_total_jpy": gross * yen if yen is not None else None,
        "gdp_loss_share_gross": gross / denom,
        "loss_convention": ("net: gdp_loss_total = gdp_loss_gross_total - "
                            "gdp_gain_total (overproduction above baseline)"),
        "net_gain": bool(total < 0),
        "gdp_denominator_jpy": denom * yen if yen is not None else None,
        "gdp_denominator": denom,
        "horizon_days": int(res.attrs["days"]),
        "recovered": bool(res.attrs.get("recovered", 0)),
        "calibrated_keys": res.attrs.get("calibrated_keys", ""),
        "illustrative": bool(res.attrs.get("illustrative", 0)),
        "top_sectors": [row(k) for k in order[:top]],
        "selected_sectors": [row(k) for k in sectors or []],
        "carve_out_users": sorted((row(k, user_of=p) for k, p in users or [] if k in by_code),
                                  key=lambda r: r["rank"]),
        "by_sector": [row(k) for k in order],
        **_by_region(res),
    }


def _by_code(da) -> dict[str, float]:
    """A loss by sector as ``{code: value}``; on a multi-regional result (``region`` x
    ``sector``) the codes are ``REGION/SECTOR``, as shocks name them (docs/mrio.md)."""
    if "region" in da.dims:
        da = da.transpose("region", "sector")
        return {f"{r}/{k}": float(v) for r, row in zip(map(str, da.region.values), da.values)
                for k, v in zip(map(str, da.sector.values), row)}
    return {str(k): float(v) for k, v in da.to_series().items()}


def _by_region(res) -> dict[str, Any]:
    """``by_region`` of a multi-regional result: each region's value-added loss, its share
    of the region's own GDP and, when the scenario asked for it, the split of one region's
    loss into the direct part and the part through third countries (docs/mrio.md)."""
    if "gdp_loss_by_region" not in res:
        return {}
    unit = res.attrs.get("unit", "")
    rows = []
    for i, r in enumerate(map(str, res.region.values)):
        row = {"region": r, "gdp_loss": float(res.gdp_loss_by_region.values[i]),
               "share_of_region_gdp": float(res.gdp_loss_share_by_region.values[i]),
               "unit": unit}
        if "direct_loss_by_region" in res:
            row["direct_loss"] = float(res.direct_loss_by_region.values[i])
        rows.append(row)
    out: dict[str, Any] = {"by_region": rows}
    if "region_loss_direct" in res:
        out["third_country_split"] = {
            "region": str(res.attrs.get("third_country_region", "")),
            "direct": float(res.region_loss_direct),
            "through_third_countries": float(res.region_loss_third_country), "unit": unit}
    return out


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


def _write(res, out: str) -> Path:
    path = Path(out)
    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix == ".nc":
            res.attrs = {k: (v if not isinstance(v, bool) else int(v)) for k, v in res.attrs.items()}
            _state_units(res)
            res.to_netcdf(tmp)
        elif suffix in (".csv", ".parquet"):
            df = _sector_table(res)
            if suffix == ".csv":
                df.to_csv(tmp, index=False)
            else:
                df.to_parquet(tmp, index=False)
        else:
            raise SimcoreError(f"--out {out!r}: unknown suffix {suffix!r}; use .nc, .csv or .parquet")
    return path


#: Money variables of a result, in the table's unit (``res.attrs["unit"]``).
MONEY_VARIABLES = ("value_added_loss", "value_added_loss_supply", "value_added_loss_demand",
                   "output_loss", "output_loss_supply", "output_loss_demand",
                   "gdp_loss_total", "gdp_gain_total", "gdp_loss", "output", "output_baseline",
                   "value_added", "value_added_baseline")


def _state_units(res) -> None:
    """Give every money variable of ``res`` a ``units`` attribute (the table's unit)."""
    unit = res.attrs.get("unit", "")
    for v in MONEY_VARIABLES:
        if v in res.variables and unit and not res[v].attrs.get("units"):
            res[v].attrs["units"] = unit


def _sector_table(res):
    """One row per sector, sorted by value-added loss (largest first; ties by code): the
    table ``--out FILE.csv`` and ``.parquet`` write."""
    df = res.value_added_loss.to_dataframe().reset_index()
    df = df[[c for c in df.columns if c in ("sector", "name_en", "value_added_loss")]]
    for part in ("supply", "demand"):
        if f"value_added_loss_{part}" in res:
            df[f"value_added_loss_{part}"] = res[f"value_added_loss_{part}"].values
    df["output_loss"] = res.output_loss.values
    df["unit"] = res.attrs.get("unit", "")
    df["sector"] = df["sector"].astype(str)
    df = df.sort_values(["value_added_loss", "sector"], ascending=[False, True],
                        kind="mergesort").reset_index(drop=True)
    df.insert(2 if "name_en" in df.columns else 1, "rank", range(1, len(df) + 1))
    return df


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
    top = getattr(args, "top", 10)
    if top is None or top < 0:
        raise SimcoreError(f"--top {top}: give a number of sectors, 0 or more")
    sc = load(args.scenario, allow_outside_data=args.allow_outside_data)
    over = _overrides(args.set)
    chosen = None
    if getattr(args, "sectors", None) is not None:
        tab = sc.copy_with(over).table() if over else sc.table()
        codes = [str(c) for c in tab.sector.values]
        names = ({str(k): str(v) for k, v in tab["name_en"].to_series().items()}
                 if "name_en" in tab.coords else {})
        if "region" in tab.dims:  # REGION/SECTOR codes (docs/mrio.md)
            regions = [str(r) for r in tab.region.values]
            names = {f"{r}/{c}": names.get(c, "") for r in regions for c in codes}
            codes = [f"{r}/{c}" for r in regions for c in codes]
        chosen = resolve_sectors(args.sectors, codes, names)
    res = sc.run(**over)
    head = _headline(res)
    head.update(_selections(head, top, chosen, carve_out_users(sc)))
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
    unit = head["unit"]

    def money(v: float) -> str:
        return money_text(v, unit)

    gdp = money(head["gdp_denominator"])
    if head["gdp_gain_total"] > 0:
        # issue 15: with overproduction the headline is the gross loss; gains apart
        print(f"  value-added loss (gross, sectors below baseline): "
              f"{money(head['gdp_loss_gross_total'])} "
              f"({head['gdp_loss_share_gross'] * 100:.4f} % of annual GDP {gdp})")
        print(f"  value added above baseline (overproduction), netted below: "
              f"{money(head['gdp_gain_total'])}")
        net = head["gdp_loss_total"]
        print(f"  net value-added {'gain' if net < 0 else 'loss'}: {money(abs(net))} "
              f"({abs(head['gdp_loss_share']) * 100:.4f} % of annual GDP)"
              + (": overproduction (alpha_max > 1) replaced the cut supply and more; "
                 "see docs/methodology.md, Pitfalls" if net < 0 else ""))
    else:
        print(f"  value-added loss: {money(head['gdp_loss_total'])} "
              f"({head['gdp_loss_share'] * 100:.4f} % of annual GDP {gdp})")
    print(f"  horizon: {head['horizon_days']} days"
          f"{'' if head['recovered'] else ' (output or stocks not back at baseline at the end)'}")
    if head["calibrated_keys"]:
        print(f"  calibrated parameters: {head['calibrated_keys']}")
    if "by_region" in head:
        print("  value-added loss by region:")
        for g in head["by_region"]:
            print(f"    {printable(g['region']):>6}  {money(g['gdp_loss']):>26}  "
                  f"{100 * g['share_of_region_gdp']:.4f} % of the region's GDP")
        t = head.get("third_country_split")
        if t:
            print(f"    {printable(t['region'])}'s loss: {money(t['direct'])} direct, "
                  f"{money(t['through_third_countries'])} through third countries "
                  "(rerun with the third-country channel closed; docs/mrio.md)")
    n = len(head["by_sector"])
    _sector_block(f"most-hit sectors (top {len(head['top_sectors'])} of {n})",
                  head["top_sectors"], unit)
    if head["selected_sectors"]:
        _sector_block("sectors asked for (--sectors)", head["selected_sectors"], unit)
    if head["carve_out_users"]:
        prods = ", ".join(dict.fromkeys(r["user_of"] for r in head["carve_out_users"]))
        _sector_block(f"users of the carved-out products ({prods}) named by the scenario's "
                      "carve-out", head["carve_out_users"], unit)
    if bands is not None:
        b = head["bands"]
        lvl = f"{100 * b['level']:g} %"
        tot, sh = b["gdp_loss_total"], b["gdp_loss_share"]
        print(f"  over {b['draws']} {b['sampling']} posterior draws of {b['parameters']}:")
        print(f"    value-added loss: median {money(tot[0])}, {lvl} band {money(tot[1])} .. "
              f"{money(tot[2])}; share of GDP median {sh[0] * 100:.4f} % "
              f"({sh[1] * 100:.4f} .. {sh[2] * 100:.4f} %)")
        print(f"    value-added loss by sector (median, {lvl} band):")
        for row in b["sectors"]:
            print(f"    {printable(row['sector']):>6}  {money(row['median']):>22}  "
                  f"{money(row['low'])} .. {money(row['high'])}")
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
        "draws": int(ds.attrs["draws"]), "sampling": ds.attrs["sampling"],
        "level": float(ds.attrs["level"]),
        "parameters": ds.attrs["parameters_drawn"], "unit": ds.attrs["unit"],
        "yen": float(yen) if yen is not None else 1.0,
        "gdp_loss_total": [float(ds[f"gdp_loss_total_{k}"]) for k in ("median", "low", "high")],
        "gdp_loss_share": [float(ds[f"gdp_loss_share_{k}"]) for k in ("median", "low", "high")],
        "sectors": sectors[:top], "value_added_loss_by_sector": sectors,
    }


def _sector_block(title: str, rows: list[dict[str, Any]], unit: str) -> None:
    """Print sector rows: rank among all sectors, code, loss with its unit, share of the
    total loss, supply- and demand-constrained parts, name."""
    print(f"  {title}:")
    split = bool(rows) and "value_added_loss_supply" in rows[0]
    w = max([len(unit) + 17] + [len(money_text(r["value_added_loss"], unit)) for r in rows])
    print(f"    {'rank':>4}  {'code':>6}  {'value-added loss':>{w}}  {'% of loss':>9}"
          + ("  supply/demand %" if split else "") + "  sector")
    for r in rows:
        share = r["share_of_loss"]
        sd = ""
        if split:
            v = r["value_added_loss"]
            sd = (f"{100 * r['value_added_loss_supply'] / v:7.0f} /{100 * r['value_added_loss_demand'] / v:4.0f}"
                  if v > 0 else f"{'-':>12}")
            sd = f"  {sd:>15}"
        pct = "" if share is None else f"{100 * share:.2f} %"
        print(f"    {r['rank']:>4}  {printable(r['sector']):>6}  "
              f"{money_text(r['value_added_loss'], unit):>{w}}  {pct:>9}{sd}  "
              f"{printable(r['name_en'][:60])}")


#: Keys of a ``simcore reproduce --json`` row.
REPRODUCE_JSON_KEYS = ("id", "published", "model", "unit", "rel_error", "tolerance", "fitted",
                       "ok", "median", "band", "draws", "scenario", "fitted_parameters")


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .references import BAND_DRAWS, bands, default_runner, reproduce
    from .tables import yen_per_unit

    # the process-wide cache: in a pytest session, the runs the plugin already did
    if args.draws is not None and args.draws < 0:
        raise SimcoreError(f"--draws {args.draws}: expected a whole number of posterior draws "
                           ">= 0 (0: no bands)")
    checks = reproduce(args.paths or None, default_runner())
    ok = all(c.ok for c in checks)
    # model median and 90 % band over posterior draws (None where the posterior of the
    # rare-earth calibration does not apply, or the shipped posterior is stale: then no band)
    n_draws = BAND_DRAWS if args.draws is None else args.draws
    band = {}
    if n_draws:
        try:
            band = bands(checks, draws=n_draws)
        except DataError as exc:
            print(f"simcore: warning: no bands: {exc}", file=sys.stderr)

    def row(c) -> dict[str, Any]:
        b = band.get(c.ref.name)
        d = dict(c.row(), median=b[0] if b else None, band=[b[1], b[2]] if b else None,
                 draws=n_draws if b else None)
        return {k: d[k] for k in REPRODUCE_JSON_KEYS}

    if args.json:
        print(dumps_json([row(c) for c in checks]))
        return EXIT_OK if ok else EXIT_NOT_REPRODUCED


    def money_unit(c) -> str | None:
        """The unit a yen figure is printed in: the scenario table's (``million JPY`` for
        the shipped scenarios) when it is a yen unit, else None (then plain JPY)."""
        if c.ref.unit != "JPY" or c.ref.sc is None:
            return None
        try:
            u = c.ref.sc.table().attrs.get("unit")
        except SimcoreError:
            return None
        return u if yen_per_unit(u) else None

    def fmt(v: float, c) -> str:
        """A figure of ``c`` (in its reference's unit, as ``--json`` gives it) with its
        unit: yen in the table's unit, fractions in %."""
        if c.ref.unit == "JPY":
            u = money_unit(c)
            return money_text(v / yen_per_unit(u), u) if u else money_text(v, "JPY")
        if c.ref.unit == "fraction":
            return f"{v * 100:.4f} %"
        return f"{v:,.6g} {c.ref.unit}"

    def rel(path: Path | None) -> str:
        try:
            return str(Path(path).relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def span(lo: str, hi: str) -> str:
        """``lo .. hi unit``: the unit once, after the pair, when both share it."""
        a, _, u = lo.partition(" ")
        return f"{a} .. {hi}" if u and hi.endswith(" " + u) else f"{lo} .. {hi}"

    # one block per file: a header, then one row per figure, every cell with its unit
    blocks: dict[Any, list] = {}
    for c in checks:
        blocks.setdefault(c.ref.file, []).append(c)
    head = ("id", "published", "model", "rel.err", "tolerance", "median", "90 % band", "role")
    for file, cs in blocks.items():
        rows = []
        for c in cs:
            b = band.get(c.ref.name)
            rows.append((c.ref.id, fmt(c.published, c), fmt(c.model, c),
                         f"{c.rel_error * 100:+.2f} %", f"+/- {fmt(c.tolerance, c)}",
                         fmt(b[0], c) if b else "-",
                         span(fmt(b[1], c), fmt(b[2], c)) if b else "-", c.role))
        w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        print(f"{rel(file)}  ({cs[0].ref.scenario})")
        calib = next((c.calibration for c in cs if c.calibration), "")
        if calib:
            print(f"  calibrated {calib}")
        print(f"  {head[0]:{w[0]}}  " + "  ".join(f"{h:>{n}}" for h, n in
                                                  zip(head[1:7], w[1:7]))
              + f"  {head[7]:{w[7]}}  ok")
        for c, r in zip(cs, rows):
            print(f"  {r[0]:{w[0]}}  " + "  ".join(f"{v:>{n}}" for v, n in zip(r[1:7], w[1:7]))
                  + f"  {r[7]:{w[7]}}  {'PASS' if c.ok else 'FAIL'}")
    n_bad = sum(not c.ok for c in checks)
    if any(band.values()):
        print(f"medians and 90 % bands over {n_draws} stratified posterior draws "
              "(--draws N)")
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

    from .scenario import load
    from .sweeps import sweep
    if args.engine is not None:
        raise SimcoreError(
            f"--engine {args.engine}: simcore sweep has no --engine; what runs the chunks is "
            "--executor local|dask" + (f" (--executor {args.engine})"
                                       if args.engine in ("local", "dask") else "")
            + ", the model engine is the scenario's [model] engine (--set "
            "model.engine=ario)")
    grid, ranges, fixed = _sweep_sets(args.set)
    res = sweep(load(args.scenario, allow_outside_data=args.allow_outside_data), grid=grid or None, ranges=ranges or None, overrides=fixed or None,
                method=args.method, samples=args.samples, seed=args.seed, executor=args.executor,
                scheduler=args.scheduler, workers=args.workers, chunk_size=args.chunk_size,
                out=args.out, format=args.format, sectors=args.sectors, daily=args.daily)
    loss = res["gdp_loss_total"]
    unit = res.attrs.get("unit", "") or res["gdp_loss_total"].attrs.get("units", "")
    vals = loss.values.ravel()
    print(f"{res.attrs['n_scenarios']:,} scenarios of {printable(res.attrs['scenario'])} "
          f"({res.attrs['method']}; {res.attrs['chunks_computed']} chunks computed, "
          f"{res.attrs['chunks_resumed']} resumed) in {res.attrs['elapsed_s']:.1f} s")
    print(f"  value-added loss: min {money_text(vals.min(), unit)}, median "
          f"{money_text(float(np.median(vals)), unit)}, max {money_text(vals.max(), unit)}")
    _sweep_points(res, unit, show=getattr(args, "show", 5))
    where = Path(args.out) / ("result.zarr" if args.format == "zarr" else "result.nc")
    opener = ("xarray.open_zarr" if args.format == "zarr" else "xarray.open_dataset")
    print(f"  full result (every point, {unit} and share of GDP) in "
          f"{where if where.exists() else args.out}; open it with {opener}")
    return 0


def _sweep_points(res, unit: str, show: int = 5) -> None:
    """Print the first and last ``show`` points of a sweep: the varied values, the loss in
    the table's unit and the share of GDP."""
    import pandas as pd

    cols = ["gdp_loss_total"] + [v for v in ("gdp_loss_share", "status") if v in res]
    df = res[cols].to_dataframe().reset_index()
    df = df[[c for c in df.columns if c not in ("point", "sample") or len(df.columns) < 3]]
    keys = [c for c in df.columns if c not in cols]
    n = len(df)
    parts = [df] if n <= 2 * show else [df.head(show), df.tail(show)]
    print(f"  points ({'all ' + str(n) if n <= 2 * show else f'first and last {show} of {n:,}'}"
          f"; value-added loss in {unit}, share in % of annual GDP):")
    head = [*keys, f"loss, {unit}", "% of GDP"] + (["status"] if "status" in cols else [])
    rows = []
    for i, part in enumerate(parts):
        if i:
            rows.append(["..."] * len(head))
        for _, r in part.iterrows():
            cells = [printable(f"{r[k]:.6g}" if isinstance(r[k], float) else r[k])
                     for k in keys]
            cells += [money_text(float(r["gdp_loss_total"]), "").strip(),
                      f"{100 * float(r['gdp_loss_share']):.4f}" if "gdp_loss_share" in cols
                      else ""]
            if "status" in cols:
                cells.append(str(int(r["status"])) if pd.notna(r["status"]) else "")
            rows.append(cells)
    w = [max(len(str(h)), *(len(c[j]) for c in rows)) for j, h in enumerate(head)]
    print("    " + "  ".join(f"{h:>{w[j]}}" for j, h in enumerate(head)))
    for c in rows:
        print("    " + "  ".join(f"{x:>{w[j]}}" for j, x in enumerate(c)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="simcore", description=plain(__doc__.split("\n")[0]),
        epilog="Money is in the table's unit (million JPY for the shipped scenarios) in "
               "every output. Exit codes: 0 success, 1 a reference figure failed to "
               "reproduce, 2 a user error, 70 an internal error.")
    p.add_argument("--version", action="version", version=f"simcore {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a scenario and print the headline")
    r.add_argument("scenario", help="path to a scenario .toml or a shipped name")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--top", type=int, default=10, metavar="N",
                   help="show the N most-hit sectors (default 10)")
    r.add_argument("--sectors", metavar="CODES",
                   help="also show these sectors: comma-separated codes or parts of their "
                        "names, e.g. 3511,3531,3017 or 'passenger,parts'")
    r.add_argument("--out", help="write the result (.nc, .csv or .parquet; the tables "
                                 "sorted by loss)")
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
    q.add_argument("--draws", type=int, metavar="N",
                   help="posterior draws behind each median and 90 %% band (default: "
                        "simcore.references.BAND_DRAWS; 0: the published and model figures "
                        "only, no bands)")
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
    w.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="what runs the chunks: this machine's cores or a Dask cluster")
    w.add_argument("--engine", help=argparse.SUPPRESS)  # removed: refused, naming --executor
    w.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address")
    w.add_argument("--workers", type=int, help="threads (local) or LocalCluster workers (dask)")
    w.add_argument("--chunk-size", type=int, help="scenarios per chunk")
    w.add_argument("--format", choices=("netcdf", "zarr"), default="netcdf")
    w.add_argument("--sectors", action="store_true", help="keep value added by sector")
    w.add_argument("--daily", action="store_true", help="keep the daily GDP loss")
    w.add_argument("--out", required=True, metavar="PATH", help="sweep directory (resumable)")
    w.add_argument("--show", type=int, default=5, metavar="N",
                   help="print the first and last N points (default 5)")
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
