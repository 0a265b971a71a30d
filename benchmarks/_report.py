"""Render ``docs/performance.md`` from the results of ``benchmarks/compare.py``.

Everything on the page comes from the results JSON, so ``python benchmarks/compare.py
--write`` (or ``--from-json benchmarks/results/latest.json --write``) regenerates it.
"""

from __future__ import annotations

import math
from typing import Any


def _n(v: Any, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.{nd}g}"
    return str(v)


def _exp(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def _case(res: dict, name: str) -> dict | None:
    return next((c for c in res["cases"] if c["name"] == name), None)


def _findings(res: dict) -> list[str]:
    out = []
    cases = res["cases"]
    slower = [c for c in cases if c["ratio"] is not None and c["ratio"] < 0.95]
    tie = [c for c in cases if c["ratio"] is not None and 0.95 <= c["ratio"] < 1.05]
    why = {"static/inverse": "both libraries factorise I - A and solve against the identity "
                             "(scipy's `solve` in simcore, numpy's `inv` in pymrio); simcore "
                             "holds one more p x p array (the identity right-hand side) and "
                             "wraps L in a labelled DataArray, which costs a fraction of a "
                             "millisecond on small tables.  simcore's own models never form "
                             "L (see the multipliers and solve cases, 4 times faster at "
                             "3,000 and 9,800 sectors)",
           "static/multipliers": "at this size the work is microseconds and the fixed "
                                 "costs of building the labelled result dominate",
           "static/solve": "at this size the work is microseconds and the fixed costs of "
                           "building the labelled result dominate",
           "import": "timing of a fresh interpreter",
           "ario": "see the roofline section", "batch": "batch of one",
           "sc-batch": "a batch of one scenario pays the batch path's set-up (grouping, "
                       "per-scenario lowering, the parallel kernel's thread start) for one run",
           "sc-lanes": "a block of few lanes pays the lane kernel's per-cell loop overhead "
                       "for few scenarios; batches use blocks of 32 (a partial last block "
                       "of 6 or more at 8, 16 or 32 lanes, padded; fewer run alone)",
           "/probe": "the probe is the bound (two daily passes, no shocks, imports, "
                     "rationing or records; see the supply-chain section), not a competitor",
           "/ario": "simcore's ARIO engine is the other engine on the same table (a different "
                    "model: no per-cell stocks, no input bound); on small tables the "
                    "supply-chain engine's labelled path (table validation, lowering, result "
                    "assembly) costs more than its kernel"}

    def reason(name: str) -> str | None:
        k = next((k for k in why if not k.startswith("/") and name.startswith(k)), None)
        if name.startswith("sc/"):
            k = next((k for k in why if k.startswith("/") and name.endswith(k)), k)
        return k
    if slower:
        items, told = [], set()
        for c in slower:
            items.append(f"`{c['name']}` ({_n(c['simcore_s'])} s against "
                         f"{_n(c['baseline_s'])} s, ratio {_n(c['ratio'], 2)})")
        reasons = []
        for c in slower:
            key = reason(c["name"])
            if key and key not in told:
                told.add(key)
                reasons.append(f"`{key}`: {why[key]}")
        out.append("**Where simcore is slower than the baseline** (ratio below 0.95): "
                   + "; ".join(items) + "." + (" Why: " + "; ".join(reasons) + "."
                                               if reasons else ""))
    if tie:
        out.append("About the same (ratio 0.95-1.05, within the noise of this machine): "
                   + ", ".join(f"`{c['name']}` ({_n(c['ratio'], 2)})" for c in tie) + ".")
    else:
        out.append("simcore is faster than the baseline in every case that has one.")
    failed = [c for c in cases if c["status"] not in ("ok", "no baseline")]
    if failed:
        out.append("**Cases without a ratio:** " + "; ".join(
            f"`{c['name']}`: {c['status']}" for c in failed) + ".")
    ario = [c for c in cases if c["name"].startswith("ario/") and c["name"].endswith("/boario")
            and c["ratio"]]
    if ario:
        lo = min(ario, key=lambda c: c["ratio"])
        hi = max(ario, key=lambda c: c["ratio"])
        out.append(f"One ARIO scenario-year: simcore is {_n(lo['ratio'], 2)} times "
                   f"(`{lo['name']}`) to {_n(hi['ratio'], 2)} times (`{hi['name']}`) faster "
                   "than BoARIO 0.6.3, with compile time excluded (it is paid once per "
                   "machine: numba caches the kernels on disk; see `compile/ario`).")
        mem = [c for c in ario if c["simcore_peak_mb"] and c["baseline_peak_mb"]]
        if mem:
            big = max(mem, key=lambda c: c["n_sectors"])
            out.append(f"Memory at {big['n_sectors']:,} region-sectors: simcore needs "
                       f"{_n(big['simcore_peak_mb'])} MB above its baseline (the daily "
                       f"records and n x p work arrays; it reads the table's own Z), BoARIO "
                       f"{_n(big['baseline_peak_mb'])} MB (several p x p matrices).")
    diffs = [c.get("max_rel_diff_production") for c in ario
             if c.get("max_rel_diff_production") is not None]
    if diffs:
        out.append(f"Where both engines ran the full year, their production trajectories "
                   f"agree to a relative {max(diffs):.1e} or better (same table, same "
                   "event), so the timings compare the same computation.")
    return out


def render(res: dict, table_md: str) -> str:
    m = res.get("machine", {})
    v = res.get("versions", {})
    sc = res.get("scaling", {})
    probe = m.get("probe") or {}
    ev = res.get("event", {})
    L = []
    a = L.append
    a("---\norphan: true\n---\n")
    a("# Performance\n")
    a("simcore's engines timed against BoARIO (the ARIO-compatible configuration, same table, "
      "same event), against simcore's own numpy transcription of BoARIO, and against pymrio "
      "for the static models.  This page, its table and its plot are generated by one "
      "command:\n")
    a("```bash\npython benchmarks/compare.py --write          # full run, several minutes\n"
      "python benchmarks/compare.py --from-json benchmarks/results/latest.json --write"
      "   # re-render only\npython benchmarks/compare.py --quick --json   # smoke run (CI)\n"
      "```\n")
    a("The raw results are in `benchmarks/results/latest.json`; `benchmarks/README.md` "
      "describes the cases and the JSON fields.\n")
    a("## Machine\n")
    a(f"- CPU: {m.get('Model name', '?')}, {m.get('cores')} cores "
      f"({m.get('Thread(s) per core', '?')} thread per core), L2 {m.get('L2 cache', '?')}, "
      f"L3 {m.get('L3 cache', '?')}, AVX-512 {'yes' if m.get('avx512') else 'no'}; "
      f"virtual machine ({m.get('Hypervisor vendor', 'no hypervisor reported')}).")
    a(f"- Memory: {m.get('memory_gib')} GiB; {m.get('platform', '')}.")
    if probe.get("read_bw_dram_gbs"):
        a(f"- Measured, one core: read bandwidth {probe['read_bw_l2_gbs']:.0f} GB/s (1 MiB, "
          f"L2), {probe['read_bw_l3_gbs']:.0f} GB/s (16 MiB, L3), "
          f"{probe['read_bw_dram_gbs']:.1f} GB/s (1 GiB, DRAM); dgemm "
          f"{probe['dgemm_gflops_1core']:.0f} GFLOP/s.")
    a(f"- Software: Python {v.get('python')}, simcore {v.get('simcore')}, numpy "
      f"{v.get('numpy')}, scipy {v.get('scipy')}, numba {v.get('numba')}, pandas "
      f"{v.get('pandas')}, xarray {v.get('xarray')}, pymrio {v.get('pymrio')}, BoARIO "
      f"{v.get('boario')} (pinned).")
    a(f"- Run: {res.get('date_utc', '?')}, {res.get('elapsed_s', 0) / 60:.1f} minutes.  The "
      "machine is shared with other work, so times are noisy: each is the best of up to "
      "five runs (fewer for slow cases; see `simcore_runs` / `baseline_runs` in the JSON).\n")
    a("## Method\n")
    a(f"- **ARIO cases** (`ario/<table>/<baseline>`): one simulated year (365 daily steps) "
      f"with one event: {int(ev.get('share', 0.5) * 100)} % of one industry's capacity lost "
      f"from day {ev.get('occurrence')} for {ev.get('duration')} days, linear recovery over "
      f"{ev.get('recovery_tau')} days (BoARIO `EventArbitraryProd`; sector 40 of Japan's "
      "tables, the fourth industry of the first region of an MRIO).  simcore: "
      "`simulate_ario` on the labelled table (lowering, kernel, result assembly), recording "
      "daily production.  BoARIO: `ARIOPsiModel` with its defaults, `Simulation`, `loop`.  "
      "Reference: `simcore.dynamic._ario_reference`, the numpy transcription of BoARIO.  "
      "Japan's tables first go through `simcore.transform.prepare_for_dynamics` (BoARIO "
      "returns NaN on the raw negative cells); both engines get the same arrays (imports "
      "pooled with domestic supply, as simcore does).")
    a("- **Tables**: Japan 2015 at 37 and 185 sectors; pymrio's test MRIO (6 regions x 8 "
      "sectors); seeded synthetic MRIOs of 10 x 100, 10 x 300 and 49 x 200 region-sectors "
      "(20 % dense coefficients, column sums 0.3-0.6, exactly balanced; "
      "`benchmarks/_cases.py`).")
    a("- **Scaled baselines**: where BoARIO or the reference is too slow for a full year "
      "at a size it is run for fewer days (column *note*) and its time is scaled to 365 "
      "days (BoARIO: model set-up + loop x 365 / days; the event is shortened to fit the "
      "short horizon).  Where it is not run at all the page gives an estimate.")
    a("- **Batches** (`batch/japan-185/S`): `simulate_ario_batch` of S scenario-years on "
      "Japan-185 (one random industry loses 50-100 % for 30-90 days from day 5; cumulative "
      "records and daily GDP), using both cores, against BoARIO running the scenarios one "
      "after the other (timed for up to three and scaled to S).")
    a("- **Static cases** (`static/<op>/<table>`): `inverse` is "
      "`simcore.tables.leontief_inverse` against `pymrio.calc_L(pymrio.calc_A(Z, x))`; "
      "`multipliers` is `simcore.static.output_multipliers` (one LU solve, L is not formed) "
      "against pymrio's `calc_all` and the column sums of L; `solve` is "
      "`simcore.static.leontief` (dx = L dy) against `calc_all` and `L @ dy`.  The "
      "comparison is deliberately what a user of each library would call.")
    a("- **Threads**: every ARIO single run uses one core: `simulate_ario` is serial, and "
      "BoARIO and the reference run with one BLAS thread (`OPENBLAS_NUM_THREADS=1`; on this "
      "shared two-core machine a two-thread OpenBLAS spins under load and ran BoARIO up to "
      "14 times slower on Japan-185).  Batches: simcore uses both cores, BoARIO's runs are "
      "timed one after the other on one core (two BoARIO processes in parallel would at best "
      "halve its times).  Static models: both libraries with one BLAS thread too (with two, "
      "times of small solves varied by 50x between runs under load).")
    a("- **Time**: wall time, `time.perf_counter`, best of N, each engine in its own "
      "process.  **Compile time** (numba) is reported separately: `simcore_compile_s` is "
      "the first call on a two-sector table in each process (loading the kernels from "
      "numba's on-disk cache), `compile/ario` the first calls with an empty cache "
      "(compilation proper).  **Ratio** = baseline time / simcore time.")
    a("- **Memory**: peak resident memory during the runs (`VmHWM`, reset through "
      "`/proc/self/clear_refs` after set-up) minus the resident memory after imports, "
      "kernels and the input table, in MiB, each engine in its own process.  It counts "
      "everything the engine allocates, numpy or not (tracemalloc would miss numba's and "
      "BLAS's allocations).")
    a("- A case whose baseline fails (crash, non-finite output, event refused) reports the "
      "failure and no ratio.\n")
    a("## Scaling\n")
    a("![Wall time against size (ARIO, one scenario-year; batches; static models)]"
      "(images/performance-scaling.png)\n")
    a("Fitted exponents k of time ~ size^k (least squares on log-log, synthetic MRIOs of "
      "1,000, 3,000 and 9,800 region-sectors; scaled baseline times included):\n")
    a("| quantity | simcore | baseline |\n|---|---|---|")
    a(f"| ARIO year vs region-sectors (BoARIO) | {_exp(sc.get('ario_simcore_vs_sectors'))} | "
      f"{_exp(sc.get('ario_boario_vs_sectors'))} |")
    a(f"| ARIO year vs region-sectors (numpy reference) | "
      f"{_exp(sc.get('ario_simcore_vs_sectors'))} | {_exp(sc.get('ario_reference_vs_sectors'))} |")
    a(f"| ARIO peak memory vs region-sectors (BoARIO) | "
      f"{_exp(sc.get('ario_simcore_peak_mb_vs_sectors'))} | "
      f"{_exp(sc.get('ario_boario_peak_mb_vs_sectors'))} |")
    a(f"| batch time vs scenarios (1-1,000) | {_exp(sc.get('batch_simcore_vs_scenarios'))} "
      "| 1 (runs in a row) |")
    a(f"| batch time vs scenarios (100-1,000) | "
      f"{_exp(sc.get('batch_simcore_vs_scenarios_from_10'))} | 1 |")
    a(f"| Leontief inverse vs sectors (pymrio) | "
      f"{_exp(sc.get('static_inverse_simcore_vs_sectors'))} | "
      f"{_exp(sc.get('static_inverse_pymrio_vs_sectors'))} |")
    a(f"| output multipliers vs sectors (pymrio) | "
      f"{_exp(sc.get('static_multipliers_simcore_vs_sectors'))} | "
      f"{_exp(sc.get('static_multipliers_pymrio_vs_sectors'))} |\n")
    a("One ARIO day is O(p^2) for an MRIO (every order is spread over supplier regions in "
      "proportion to Z) and O(n p) for one region, so exponents near 2 are expected, plus the step from cache to DRAM between 1,000 and "
      "3,000 region-sectors (Z is 8 MB, 72 MB and 768 MB).  A batch of one scenario runs "
      "on one core and larger batches on both, so the scenario exponent also reflects "
      "parallel efficiency; with other jobs on this machine the second core was not "
      "always free.\n")
    a("## Results\n")
    a(table_md + "\n")
    a("Times in seconds, memory in MiB above the process's baseline; `-` where not "
      "applicable.  *compile s* is the per-process first call (kernels from numba's "
      "cache), except for `compile/ario` (empty cache).\n")
    a("## Findings\n")
    for f in _findings(res):
        a(f"- {f}")
    imp = _case(res, "import/simcore")
    if imp and imp.get("imports_s"):
        s = imp["imports_s"]
        a("- Import times (fresh interpreter, best of five): " + ", ".join(
            f"`{k}` {_n(t)} s" for k, t in s.items()) + ".  `import simcore` imports its "
          "dependencies lazily; the ARIO module pulls in numpy, xarray and numba.")
    loads = [c for c in res["cases"] if c["name"].startswith("load/")]
    if loads:
        a("- Loading an embedded table (file read and validation, cache cleared): " + ", ".join(
            f"`{c['name'][5:]}` {_n(c['simcore_s'])} s" for c in loads) + ".")
    a("")
    rf = res.get("roofline") or []
    if rf:
        a("## How close to the best possible\n")
        a("A roofline-style bound for one simulated year: a day must at least stream the "
          "intermediate flows Z once (8 p^2 bytes; not read at all for one region, where "
          "orders need no supplier weights) and seven n x p float64 arrays (coefficients, "
          "their inverses, purchases by product: read; stocks and orders: read and "
          "written), and do about 6 p^2 + 20 n p flops.  The bound is 365 x max(bytes / "
          "bandwidth, flops / dgemm rate), with the single-core bandwidth measured for the "
          "cache level the working set fits in (`simulate_ario` runs on one core).  "
          "*simcore* is `simulate_ario` on a prepared table (`prepare_ario`: kernel and "
          "result assembly, no lowering).\n")
        a("| table | region-sectors | bytes/day | working set in | bound | best possible "
          "year, s | simcore, s | fraction of the bound |\n|---|---|---|---|---|---|---|---|")
        for r in rf:
            a(f"| {r['name']} | {r['n_sectors']:,} | {r['bytes_per_day'] / 1e6:.3g} MB | "
              f"{r['level'].upper()} | {r['bound']} | {_n(r['roof_year_s'])} | "
              f"{_n(r['simcore_kernel_year_s'])} | {_n(r['fraction_of_roof'], 2)} |")
        a("\nWhere the gap comes from: near the steady state BoARIO's two global "
          "`allclose` tests must be decided before the in-place sweep writes anything, so "
          "on those days the kernel reads Z twice (a read-only check sweep, then the write "
          "sweep), which alone caps the fraction at about one half on those days.  For the small tables fixed per-call costs (result assembly into an "
          "xarray Dataset) dominate, and the bound (microseconds a day) is not a "
          "meaningful target.\n")
    L.extend(supply_chain(res))
    return "\n".join(L) + "\n"


def supply_chain(res: dict) -> list[str]:
    """The supply-chain engine's section (``sc/...``, ``sc-batch/...``, ``sc_bound``) and the
    fixed costs of the command line (``benchmarks/results/startup.json`` if present)."""
    L: list[str] = []
    a = L.append
    sc = [c for c in res["cases"] if c["name"].startswith(("sc/", "sc-batch/", "sc-lanes/"))]
    if not sc:
        return L
    a("## The supply-chain engine\n")
    a("![Supply-chain engine: one year against its baselines, and batches]"
      "(images/performance-supply-chain.png)\n")
    a("`simulate`, the engine of every shipped scenario, on single-region tables: Japan "
      "2015 at 37 sectors, the table of the shipped scenario `kiuchi-2025-3m` (Japan-185 "
      "with rare earths and magnets carved out: 187 sectors, 2 more pool rows for the stocks "
      "per origin), and seeded single-region tables of 1,000 and 3,000 sectors with 40 % of "
      "the coefficients non-zero.  On the Kiuchi table simcore runs the scenario's own "
      "import cuts and parameters; elsewhere the capacity event of the ARIO cases with "
      "default parameters.  Baselines on the same table in the same run: BoARIO 0.6.3 and "
      "simcore's ARIO engine (the capacity event: they model a different economy, so the "
      "ratio compares cost, not results), the numpy oracle (`simcore.dynamic._reference`, "
      "the same model: its production agrees with simcore's, column *note*), and the fused "
      "probe (`benchmarks/_probe.py`: the two daily passes over the stored cells, vectorised "
      "sums, no shocks, no records; a ratio below 1 is how far simcore is from it).  "
      "Slow baselines are run for fewer days and scaled (column *note*).  Times in seconds, "
      "memory in MiB above the post-import baseline.\n")
    head = ("case", "sectors", "scen.", "simcore s", "prepared s", "kernel s", "baseline",
            "baseline s", "ratio", "simcore MB", "baseline MB", "status / note")
    a("| " + " | ".join(head) + " |")
    a("|" + "---|" * len(head))
    for c in sc:
        note = c["status"]
        if c.get("baseline_scaled_from_days"):
            note += f"; baseline ran {c['baseline_scaled_from_days']} days, scaled to 365"
        if c.get("max_rel_diff_production") is not None:
            note += f"; max rel. diff. of production {c['max_rel_diff_production']:.1e}"
        if c.get("probe"):
            pr = c["probe"]
            note += (f"; probe by buyer column {_n(pr.get('csc_s'))} s, dense by row "
                     f"{_n(pr.get('rows_s'))} s")
        if c.get("simcore_threads") and c["name"].startswith("sc-batch/"):
            note += f"; batch on {c['simcore_threads']} threads"
        elif c.get("simcore_threads"):
            note += (f"; simcore on {c['simcore_threads']} thread(s), layout "
                     f"{c.get('simcore_layout') or '?'}; baseline on "
                     f"{c.get('baseline_threads') or 1}")
        if c.get("note"):
            note += f"; {c['note']}"
        vals = (c["name"], c["n_sectors"], c["scenarios"], c["simcore_s"],
                c.get("simcore_prepared_s"), c.get("simcore_kernel_s"), c["baseline"],
                c["baseline_s"], c["ratio"], c["simcore_peak_mb"], c["baseline_peak_mb"], note)
        a("| " + " | ".join(_n(v).replace("|", "/") for v in vals) + " |")
    a("\n*simcore s* is `simulate` on the labelled table, best of repeated calls on the "
      "same table: a table keeps its prepared model from the first call while its content "
      "is unchanged (compared with a copy kept, or, above "
      "`supply_chain.PREP_CACHE_MAX_BYTES` such as the synthetic tables', with a blake2b "
      "digest of its values), and keeps the lowered run of the last few shocks, parameters "
      "and horizons, so a repeated call checks the table's content, finds the lowered "
      "run, runs the kernel and assembles the result (the first call, which prepares "
      "and validates the table, is `simcore_first_s` in the JSON); *prepared s* on "
      "`prepare_model`'s result, *kernel s* the "
      "bare kernel `run_one` on lowered arrays (no records).  Batches: `simulate_batch` of a "
      "Latin hypercube of the Nomura case (cut share 0.5-1, 30-365 days), against the same "
      "scenarios as single `simulate` runs in a row and against BoARIO runs in a row.  "
      "`simulate_batch` runs the scenarios as lanes (`simcore.dynamic._lanes`): blocks of "
      "32 scenarios with the scenario as the innermost, vectorised axis, blocks in parallel, "
      "the next scenarios lowered while a call runs; a day's pass 2 and the next day's "
      "pass 1 are one sweep over the cells, each loop over the lanes a few vector "
      "instructions, and a cell whose coefficient, target and bound terms agree in every "
      "lane of its block is read as scalars, its lanes' stocks and orders the only vectors "
      "it loads (every cell in these designs, which vary the cuts; in the Nomura sweep, "
      "which also varies the dependency scale, all but the cells of the carved products' "
      "rows and their origin pools); each lane repeats `run_one`'s operations in its order, so every "
      "scenario's numbers equal its single run's (`tests/test_lanes.py`).  `sc-lanes/japan-187/L`: one block "
      "of L lanes (`run_block`, one core) against `run_one` on the first of its scenarios, "
      "in the same process; *simcore s* is the block's time per scenario-year, and the ratio "
      "`run_one` / lane time (a ratio of 2.2 is a scenario-year at 45 % of a single run's "
      "kernel).\n")
    b = res.get("sc_bound") or []
    if b:
        a("### How far from the bound\n")
        a("| table | cells | simcore s | prepared s | kernel s | probe s | kernel / probe | "
          "fused kernel s | fused / probe | parallel kernel s (threads) | parallel / fused | "
          "`simulate`'s layout | dense-row kernel s | dense-row / probe | "
          "cells at bandwidth, s | level | fused / bandwidth |\n|---|---|---|---|---|---|---|"
          "---|---|---|---|---|---|---|---|---|---|")
        for r in b:
            k, p, bw = r.get("simcore_kernel_s"), r.get("probe_s"), r.get("bandwidth_year_s")
            rk, fk = r.get("simcore_rows_kernel_s"), r.get("simcore_fused_kernel_s")
            pk = r.get("simcore_parallel_kernel_s")
            a(f"| {r['name']} | {r.get('cells') or 0:,} | {_n(r.get('simcore_s'))} | "
              f"{_n(r.get('simcore_prepared_s'))} | {_n(k)} | {_n(p)} | "
              f"{_n(k / p if k and p else None, 2)} | {_n(fk)} | "
              f"{_n(fk / p if fk and p else None, 2)} | {_n(pk)} ({r.get('threads') or '?'}) | "
              f"{_n(pk / fk if pk and fk else None, 2)} | {r.get('layout') or '-'} | {_n(rk)} | "
              f"{_n(rk / p if rk and p else None, 2)} | {_n(bw)} | "
              f"{(r.get('level') or '-').upper()} | {_n(fk / bw if fk and bw else None, 2)} |")
        a("\n*dense-row kernel*: `simcore.dynamic._rows.run_rows`, a single-run layout "
          "by product row (zeros where there is no flow: the use "
          "vector as row sums in run_one's order, eight rows side by side, the bound as an "
          "elementwise minimum), on the same "
          "run; `run_one`'s numbers bit for bit but the stock gap, within 1e-12 of the oracle "
          "(`tests/test_rows.py`), not run above 1,500 sectors (dense storage).  *fused "
          "kernel*: `simcore.dynamic._fused.run_fused`, what `simulate` runs "
          "(`layout=\"auto\"`) on every single-region table: the cells by buyer column "
          "swept once a day (pass 2 of a day with pass 1 of the next: 8.5 words a cell a "
          "day against `run_one`'s 13, each cell's work in one pass; unsigned indices, so "
          "that numba does not test each for a negative wrap-around), `run_one`'s "
          "numbers bit for bit (`tests/test_fused.py`; *fused / bandwidth* counts 13 words, "
          "as the other columns).  *parallel kernel*: "
          "`simcore.dynamic._fused.run_fused_par`, the same sweep over 32 fixed blocks of "
          "buyer columns on every thread numba has (column *threads*), each block's sums "
          "(use vector, stock gap) kept apart and added in block order: the same bits on "
          "any number of threads, `run_one`'s numbers to round-off (1e-12 relative, "
          "`tests/test_fused.py`); `simulate` runs it from "
          "`supply_chain.PARALLEL_MIN_CELLS` stored cells (column *layout*).  The two cores "
          "of the benchmark machine are shared with other work: a thread held up by "
          "another process delays the day, so *parallel / fused* is noisy.\n")
        a("\n*cells at bandwidth*: 365 days x 104 bytes per stored cell (both passes: "
          "coefficient, target, the two bound constants, stock, order, row index) at the "
          "single-core read bandwidth measured in the same run for the cache level the "
          "cells fit in.  At Japan's size the single-run kernel is bound by latency and scalar "
          "code (the scatter of orders into the use vector and the running minimum of the "
          "bound do not vectorise for one scenario), not by bandwidth; the lanes of a batch "
          "(`sc-lanes` above) vectorise both across scenarios.\n")
    L.extend(lane_bounds(res))
    L.extend(targets_section(res))
    L.extend(startup_section())
    return L


def lane_bounds(res: dict) -> list[str]:
    """The ``sc-lanes`` blocks against their two bounds, measured in the same rounds."""
    rows = [c for c in res["cases"] if c["name"].startswith("sc-lanes/")
            and c.get("probe_lane_s") and c.get("stream_lane_s") and c.get("simcore_s")]
    if not rows:
        return []
    L = ["### Bounds of a lane block\n",
         "Per scenario-year, one core, in the same interleaved rounds as the `sc-lanes` cases "
         "(`benchmarks/_probe.py`): *lane kernel*, one block of `run_block`; *probe*, the "
         "lanes' two daily passes alone (`probe_lanes`: no shocks, imports, rationing modes "
         "or records; every cell's coefficient, target and bound terms shared by the lanes; "
         "compiled with fast-math, each cell's lane loop one loop), on the same block's "
         "first lane's cells; *stocks streamed*, reading and writing every lane's stock once "
         "a day (`stream_lanes`), the memory traffic no lane kernel avoids, at the speed "
         "this machine streams it.  A lane kernel below the probe beats a straightforward "
         "implementation of the passes; its distance to the stream is its compute and the "
         "per-cell gathers of the use vector and fill ratios by row.\n",
         "| lanes | lane kernel, ms | probe, ms | stocks streamed, ms | kernel / probe | "
         "kernel / stream |",
         "|---|---|---|---|---|---|"]
    for c in sorted(rows, key=lambda c: c["scenarios"]):
        k, p, st = c["simcore_s"], c["probe_lane_s"], c["stream_lane_s"]
        L.append(f"| {c['scenarios']} | {_n(k * 1e3)} | {_n(p * 1e3)} | {_n(st * 1e3)} | "
                 f"{_n(k / p, 2)} | {_n(k / st, 2)} |")
    L.append("")
    return L


def targets_section(res: dict) -> list[str]:
    """Issue 17's targets for the supply-chain engine against this record (ratios measured
    in one run each; the machine's load is in the record's header)."""
    case = {c["name"]: c for c in res.get("cases", [])}
    bound = {r["name"]: r for r in res.get("sc_bound") or []}
    rows = []

    def ratio(num, den):
        return num / den if num and den else None

    b = bound.get("japan-187") or {}
    K1 = ("its scalar inner loop (sums in `run_one`'s order, no fast-math), against a probe "
          "whose sums and minima vectorise")
    rows.append(("one Japan-187 year, kernel `run_one` (two passes a day) / probe", "<= 1.25",
                 ratio(b.get("simcore_kernel_s"), b.get("probe_s")), False,
                 "two scalar passes a day"))
    rows.append(("one Japan-187 year, dense-row kernel / probe", "<= 1.25",
                 ratio(b.get("simcore_rows_kernel_s"), b.get("probe_s")), False,
                 "its cells without flow and its scalar row sums"))
    rows.append(("one Japan-187 year, fused kernel (`simulate`'s) / probe",
                 "<= 1.25", ratio(b.get("simcore_fused_kernel_s"), b.get("probe_s")), False, K1))
    c = case.get("sc/japan-187/boario") or {}
    rows.append(("BoARIO's Japan-185 year / simcore `simulate` Japan-187 year (labelled "
                 "table, its prepared model kept from the previous call on the same content)",
                 ">= 60", c.get("ratio"), True,
                 "the fused kernel plus the comparison of the table with the copy kept, "
                 "looking up the lowered run kept for the same shocks, parameters and "
                 "horizon, and result assembly (a copy of the kept result template, the "
                 "onset days and the daily value-added loss)"))
    rows.append(("BoARIO's Japan-185 year / dense-row kernel year", ">= 60",
                 ratio(c.get("baseline_s"), b.get("simcore_rows_kernel_s")), True,
                 "the dense-row kernel"))
    rows.append(("BoARIO's Japan-185 year / fused kernel year", ">= 60",
                 ratio(c.get("baseline_s"), b.get("simcore_fused_kernel_s")), True, K1))
    c = case.get("sc-batch/japan-187/1000/single") or {}
    rows.append(("batch scenario-year / single run (1,000 scenarios; batch on every core, "
                 "single runs on one)", "<= 0.45", ratio(c.get("simcore_s"), c.get("baseline_s")),
                 False, "the lane kernel (see `sc-lanes`) and the cores"))
    lanes = next((c.get("batch_lanes") for c in case.values()
                  if c["name"].startswith("sc-lanes/") and c.get("batch_lanes")), 16)
    c = case.get(f"sc-lanes/japan-187/{lanes}") or {}
    lb = "the lane kernel"
    if c.get("probe_lane_s") and c.get("stream_lane_s") and c.get("simcore_s"):
        lb += (f": {_n(c['simcore_s'] / c['probe_lane_s'], 2)} x the lane probe, "
               f"{_n(c['simcore_s'] / c['stream_lane_s'], 2)} x streaming the lanes' stocks "
               "(see *Bounds of a lane block*)")
    rows.append((f"lane scenario-year / `run_one` (one block of {lanes}, a batch's block; "
                 "one core)", "<= 0.45", ratio(c.get("simcore_s"), c.get("baseline_s")), False,
                 lb))
    sw = sweep_record()
    if sw.get("local_2"):
        rows.append((f"Nomura sweep, scenario-years/s on 2 threads (`benchmarks/sweeps.py`, "
                     f"{sw.get('date_utc', 'undated')}; {sw.get('local_2_of_kernel_bound', 0):.2f}"
                     " of 2 cores of lane kernel; parallel efficiency "
                     f"{sw.get('local_efficiency', 0):.2f} in wall time, "
                     f"{sw.get('local_cpu_efficiency', 0):.2f} in CPU time; load average "
                     f"{sw.get('load_1min', 0):.1f} to {sw.get('load_1min_end', 0):.1f} on "
                     f"{sw.get('cpu_count')} cores)", ">= 200", sw["local_2"], True,
                     "two cores of the lane kernel alone on the same design points; the rest "
                     "is lowering, the up-front check and assembly"))
    c = case.get("sc/single-3000/ario") or {}
    th = c.get("simcore_threads") or "?"
    rows.append((f"3,000-sector year (`simulate`, layout {c.get('simcore_layout') or '?'}, "
                 f"{th} thread(s)) / ARIO engine's year (serial, one thread)", "<= 0.45",
                 ratio(c.get("simcore_s"), c.get("baseline_s")), False,
                 "the kernel plus the digest of the table's values (its prepared model "
                 "kept), lowering and result assembly; the threads "
                 "share the machine's cores with other work"))
    b3 = bound.get("single-3000") or {}
    rows.append(("3,000-sector year, fused kernel (one thread) / ARIO engine's year (one "
                 "thread)", "<= 0.45",
                 ratio(b3.get("simcore_fused_kernel_s"), c.get("baseline_s")), False,
                 K1 + "; it reads 8.5 words a cell a day: one core's memory bandwidth"))
    rows.append((f"3,000-sector year, parallel kernel ({b3.get('threads') or '?'} threads) / "
                 "ARIO engine's year (one thread)", "<= 0.45",
                 ratio(b3.get("simcore_parallel_kernel_s"), c.get("baseline_s")), False,
                 "the cores' memory bandwidth, and the cores free of other work"))
    if c.get("simcore_peak_mb") is not None:
        rows.append(("3,000-sector year, `simulate`'s peak memory above the RSS after imports "
                     "and the input table, MiB", "<= 400", c.get("simcore_peak_mb"), False,
                     "the prepared and lowered table and the kernel's per-cell arrays"))
    rows = [r for r in rows if r[2] is not None]
    if not rows:
        return []
    L = ["### Targets of issue 17\n",
         "Each figure is a ratio of two times measured in the same run (each case's date is "
         "its `run_utc` in the JSON; the machine is shared, so the times are noisy: see "
         "*Machine*).  The probe is the two daily passes alone, compiled with fast-math (its "
         "sums and minima vectorise); `simulate` runs the fused kernel on "
         "single-region tables, bit for bit `run_one`, so its sums keep `run_one`'s order and "
         "its inner loop stays scalar, and its parallel form (column blocks, the same bits "
         "on any number of threads) from `supply_chain.PARALLEL_MIN_CELLS` cells.  *bounded by*: what the figure is bound by; *to go*: "
         "the factor by which the figure is still short of its target (1 or less: met).  The sweep's row is a rate, from its own record "
         "(`benchmarks/results/sweeps-latest.json`, its date in the row).\n",
         "| figure | target | this record | met | to go | bounded by |",
         "|---|---|---|---|---|---|"]
    for what, tgt, v, higher, by in rows:
        lim = float(tgt.split()[-1])
        met = v >= lim if higher else v <= lim
        go = lim / v if higher else v / lim
        L.append(f"| {what} | {tgt} | {_n(v, 2)} | {'yes' if met else 'no'} | {_n(go, 2)} | "
                 f"{by} |")
    L.append("")
    return L


def sweep_record() -> dict:
    """``benchmarks/results/sweeps-latest.json`` (``benchmarks/sweeps.py --write``), or {}."""
    import json
    from pathlib import Path

    p = Path(__file__).resolve().parent / "results" / "sweeps-latest.json"
    return json.loads(p.read_text()) if p.exists() else {}


def startup_section() -> list[str]:
    import json
    from pathlib import Path

    p = Path(__file__).resolve().parent / "results" / "startup.json"
    if not p.exists():
        return []
    r = json.loads(p.read_text())
    best = r["best_s"]
    L = ["## Fixed costs of the command line\n",
         "`python benchmarks/startup.py --write` (fresh processes, interleaved rounds, best "
         f"of {r['rounds']}; {r['date_utc']}"
         + ("; simcore's bytecode cached, as in an installed package" if r.get("bytecode_cached")
            else "") + "):\n",
         "| command | best s | ratio to `import numpy, xarray, numba` | target | ratio to "
         "deps + numba's first call |",
         "|---|---|---|---|---|"]
    what = {"deps": "python -c 'import numpy, xarray, numba'",
            "deps-numba": "python -c 'import numpy, xarray'",
            "deps+jit": "import numpy, xarray, numba + first call of a trivial cached numba "
                        "function",
            "run": "simcore run kiuchi-2025-3m",
            "reproduce": "simcore reproduce",
            "reproduce-cold": "simcore reproduce (empty numba cache)",
            "reproduce-nobands": "simcore reproduce --draws 0 (no bands)",
            "reproduce-nocycles": "simcore reproduce, every day computed (SIMCORE_CYCLES=0)",
            "run-jit": "simcore run kiuchi-2025-3m, JIT kernels (warm numba cache)",
            "reproduce-jit": "simcore reproduce, JIT kernels (warm numba cache)",
            "reproduce-cold-jit": "simcore reproduce, JIT kernels (empty numba cache)",
            "help": "simcore --help"}
    parts = r.get("kernels") or {}
    aot = {k: bool(d.get("aot")) for k, d in parts.items()}
    for k, t in best.items():
        ratio = r["ratio_to_deps"].get(k)
        tgt = r["targets"].get(k)
        fl = (r.get("ratio_to_deps_jit") or {}).get(k)
        label = what.get(k, k)
        if k in ("run", "reproduce", "reproduce-cold", "reproduce-nobands", "reproduce-nocycles"):
            label += (", compiled kernels" if aot.get(k) else
                      ", JIT kernels (the compiled ones were not built)")
        L.append(f"| `{label}` | {_n(t)} | {_n(ratio, 2) if ratio else '1'} | "
                 + (f"<= {tgt} ({'met' if r['met'][k] else 'not met'})" if tgt else "-")
                 + f" | {_n(fl, 2) if fl else '-'} |")
    L.append(f"\n`simcore run` imported dask: {r.get('dask_imported_by_run')}.  numba "
             "initialises its CPU target on the first call of any compiled function, even "
             "one loaded from its cache (type registries that import `scipy.linalg`, LLVM): "
             "the `deps+jit` row, "
             f"{_n(r['ratio_to_deps']['deps+jit'], 2)} x `import numpy, xarray, numba` in this "
             "record, a floor for any command that calls a JIT kernel.  The kernels a single "
             "run and the band draws call are also compiled ahead of time when simcore is "
             "installed (`simcore.dynamic._aot`, {doc}`architecture`): with them a command "
             "pays neither numba's start nor, from an empty numba cache, any compilation, and "
             "`simcore run` does not import numba at all"
             + (f" (numba imported by `simcore run`: {parts['run'].get('numba_imported')})"
                if "run" in parts else "")
             + ".  `simcore --help`, `--version` and argument errors import only the "
             "standard library and simcore's base layer (no numpy, xarray or numba).\n")
    bound = r.get("bound") or {}
    if bound:
        L += ["### What bounds each figure\n",
              "Each timed process of these commands times simcore's kernels itself "
              "(`benchmarks/startup.py` says how; the best round's figures are shown): for "
              "the JIT kernels, numba's start on the first call with loading the kernels from "
              "its cache (or compiling them), and running them; for the compiled kernels, "
              "loading their module, and running them.  The bound is importing the "
              "dependencies (`import numpy, xarray` alone for a command that never imports "
              "numba) plus both, the kernels' time on other threads than the main one (the "
              "lane blocks of the band draws) divided by the machine's cores; what remains "
              "above it is simcore's Python (imports of its modules, the table, parameters, "
              "lowering, results).  A target below its command's bound cannot be met by "
              "trimming simcore's Python: only by less kernel work.\n",
              "| command | start + kernels' load or compile s | kernels run s (kernels "
              "called) | of it on the wall clock s | bound s | bound / `import numpy, "
              "xarray, numba` | target | measured / bound |",
              "|---|---|---|---|---|---|---|---|"]
        for k, b in bound.items():
            d = parts[k]
            names = ", ".join(f"`{n.rsplit('.', 1)[-1]}` x{v['calls']}"
                              for n, v in sorted(d.get("kernels", {}).items()))
            tgt = r["targets"].get(k)
            L.append(f"| `{what.get(k, k)}` | {_n(d['compile_s'])} | {_n(d['kernel_s'])} "
                     f"({names}) | {_n(d.get('kernel_wall_s', d['kernel_s']))} | "
                     f"{_n(b['bound_s'])} | {_n(b['bound_ratio_to_deps'], 2)} | "
                     + (f"<= {tgt}" if tgt else "-") + f" | {_n(b['ratio_to_bound'], 2)} |")
        notes = []
        for k, j in (("run", "run-jit"), ("reproduce", "reproduce-jit"),
                     ("reproduce-cold", "reproduce-cold-jit")):
            if k in best and j in best:
                notes.append(f"`{what[k]}` takes {_n(best[k] / best[j], 2)} x its time on the "
                             "JIT kernels.")
        if "run" in bound:
            d = parts["run"]
            notes.append(
                f"`simcore run` calls {len(d.get('kernels', {}))} kernel(s) "
                f"{d['calls']} time(s); the rest above its bound, "
                f"{_n(bound['run']['rest_s'])} s, is simcore's Python (imports of its "
                "modules, then the table preparation below, parameters, lowering and the "
                "result).")
        if "reproduce" in bound and "reproduce" in r["targets"]:
            b = bound["reproduce"]
            notes.append(
                f"The bound of `simcore reproduce` alone is {_n(b['bound_ratio_to_deps'], 2)} x "
                "`import numpy, xarray, numba`, against a target of "
                f"{r['targets']['reproduce']} x: "
                + ("the target is below the bound, so" if b["bound_ratio_to_deps"]
                   > r["targets"]["reproduce"] else "even so,")
                + " it is held by the kernels' work, chiefly the band draws (see below).")
        if "reproduce-nobands" in best and "reproduce" in r["targets"]:
            rn = r["ratio_to_deps"]["reproduce-nobands"]
            notes.append(
                "Without the bands (`simcore reproduce --draws 0`: the published and model "
                "figures, the calibration included; the work `simcore reproduce` did when "
                "issue 17 set its target, before the bands' posterior draws were added) it "
                f"takes {_n(rn, 2)} x `import numpy, xarray, numba`, "
                + ("within" if rn <= r["targets"]["reproduce"] else "above")
                + f" the {r['targets']['reproduce']} x of that target.")
        if "reproduce" in bound:
            notes.append(
                "`simcore reproduce` builds the table, the prepared model and the calibration "
                "once and draws each scenario file's 90 % bands in one batched call (the "
                "draws as lanes of the batch kernel, blocks on a pool of threads); its kernels "
                f"ran {_n(parts['reproduce']['kernel_s'])} s (summed over the threads that "
                "ran them, so it can exceed the wall time), "
                f"{_n(100 * parts['reproduce']['kernel_s'] / best['reproduce'], 2)} % of its "
                "wall time: the band draws bound it ("
                + (f"{r['band_draws']} stratified posterior draws for each of the two "
                   "scenario files, runs of 457 and 730 days; {doc}`calibration`)"
                   if r.get("band_draws") else "runs of 457 and 730 days)")
                + ".")
        if "reproduce-nocycles" in best and "reproduce" in best:
            kc = parts.get("reproduce-nocycles", {}).get("kernel_s")
            notes.append(
                "Copying the days that repeat a proven cycle of the whole state instead of "
                "computing them (`simcore.dynamic._cycles`, {doc}`methodology`; the same "
                "numbers, bit for bit) takes `simcore reproduce` from "
                f"{_n(best['reproduce-nocycles'])} s (`SIMCORE_CYCLES=0`) to "
                f"{_n(best['reproduce'])} s, {_n(best['reproduce'] / best['reproduce-nocycles'], 2)} "
                "x"
                + (f", and its kernels from {_n(kc)} to {_n(parts['reproduce']['kernel_s'])} s"
                   if kc and "reproduce" in parts else "")
                + ": the 12-month stop's band draws settle into a cycle well before the stop "
                "ends, and hold it until it does; the 3-month stop ends before they settle.")
        if "reproduce-cold-jit" in bound:
            d = parts["reproduce-cold-jit"]
            notes.append(
                "On the JIT kernels from an empty numba cache, compiling them takes "
                f"{_n(d['compile_s'])} s of {_n(best['reproduce-cold-jit'])} s "
                f"({d['compiles']} top-level compilations); the compiled kernels skip it.")
        L.append("\n" + "  ".join(notes) + "\n")
    L += table_prep_section()
    return L


def table_prep_section() -> list[str]:
    """Table preparation against the rest of ``simcore run kiuchi-2025-3m`` (issue 14),
    from ``benchmarks/results/table_prep.json``."""
    import json
    from pathlib import Path

    p = Path(__file__).resolve().parent / "results" / "table_prep.json"
    if not p.exists():
        return []
    r = json.loads(p.read_text())
    res = r["results"]
    L = ["### Table preparation in `simcore run kiuchi-2025-3m`\n",
         f"`python benchmarks/table_prep.py --rounds {r['rounds']}"
         + (f" --before {r['before_rev']}" if r.get("before_rev") else "")
         + f" --write` ({r['date_utc']}; medians): the time inside `Scenario.table` and "
         "`Scenario.prepared` (dataset, carve-out, rescaling, lowering for the engine) "
         "against the whole run, in a fresh process and in a warm one (kernels and "
         "imports loaded, table caches dropped); issue 14's target is the warm table "
         "preparation at most a third of its time at the revision the issue was measured on "
         "(the second row).\n",
         "| tree | fresh: table s / run s | warm: table s / run s | warm share | "
         "tables built / validated / flattened |",
         "|---|---|---|---|---|"]
    for k, v in res.items():
        m = v["median_s"]
        c = v["counts"]
        L.append(f"| {'this tree' if k == 'now' else r.get('before_rev') or k} | "
                 f"{_n(m['table_s'])} / {_n(m['total_s'])} | "
                 f"{_n(m['warm_table_s'])} / {_n(m['warm_total_s'])} | "
                 f"{_n(100 * v['warm_table_share'], 2)} % | {c.get('from_arrays', 0)} / "
                 f"{c.get('validate', 0)} / {c.get('flat', 0)} |")
    tail = []
    if "met" in r:
        tail.append(f"Warm table preparation now / at {r['before_rev']}: "
                    f"{_n(r['warm_table_s_ratio_now_to_before'], 2)} (target <= 1/3: "
                    f"{'met' if r['met'] else 'not met'}).")
    now = res["now"]
    tail.append(f"The rest of the warm run, {_n(now['warm_rest_s'])} s, is the engine "
                "(parameters, lowering, the kernel, the result) and the command line's "
                "headline.  What bounds the preparation: building the labelled tables counted "
                "above (the dataset, the carved and rescaled table, the table "
                "`prepare_for_dynamics` nets), mostly xarray's construction of their "
                "coordinates and indexes, with their checks.")
    L.append("\n" + "  ".join(tail) + "\n")
    return L
