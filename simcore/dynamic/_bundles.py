"""The kernels' arguments as bundles, and the calls that unpack them (no numba here).

``run_one`` (:mod:`simcore.dynamic._kernels`) and the fused kernels take their ~50
arguments positionally (a numba signature); callers build them as these bundles, each a
namedtuple of arrays whose fields are ``run_one``'s parameters in order
(tests/test_lanes.py::test_bundles_match_run_one checks the fields against the signature).
:func:`run_single_fused` calls the default single-run kernel through
:mod:`simcore.dynamic._aot`: compiled ahead of time when the installation has it, so a
single run does not import numba at all; numba's JIT kernel otherwise.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple

import numpy as np

from . import _aot

RATION_PROPORTIONAL = 0
RATION_FIRMS_FIRST = 1

#: The longest period of a repeating cycle of the state that the fused and lane kernels
#: look for, to copy its repeats instead of computing them (:mod:`simcore.dynamic._cycles`;
#: the same bits).  ``SIMCORE_CYCLES=0`` in the environment turns it off (every day
#: computed), e.g. to compare; a whole number sets the longest period.  A lane block needs a
#: period every lane's divides (2 and 6 in the band draws of ``kiuchi-2025-12m``: 6).
CYCLE_MAX = 8


def cycle_max() -> int:
    """:data:`CYCLE_MAX`, or ``SIMCORE_CYCLES`` when the environment sets it (a whole number
    ``>= 0``; ``0`` computes every day)."""
    env = os.environ.get("SIMCORE_CYCLES", "").strip()
    if not env:
        return CYCLE_MAX
    if not env.isdigit():
        raise ValueError(f"SIMCORE_CYCLES = {env!r}: expected a whole number >= 0 (the longest "
                         "period of a repeating cycle to skip; 0: compute every day)")
    return int(env)

#: The table: CSC pattern, per-cell coefficients, targets and dependency shares, per-sector
#: elasticities, baseline output, final demand, exports, import shares, value-added
#: coefficients, and the restocking rate ``inv_tau = 1 / inventory_tau``.
Table = namedtuple("Table", ["colptr", "rowidx", "A", "tgt", "theta", "sigma", "x0", "f0",
                             "e0", "mu", "c", "inv_tau"])
#: Special (origin-split) products: position of each product (-1: none), their rows,
#: import capacity per day ``(T, K)``, stockpiles, release rates, and the dense
#: dependency and target rows ``(K, n)``.
Special = namedtuple("Special", ["sp_pos", "sp_idx", "impcap", "stock0", "relmax",
                                 "theta_sp", "tgt_sp"])
#: Domestic shocks: capacity factors ``(T, C)`` of sectors ``cap_idx``, final-demand and
#: export factors ``(T, D)`` of sectors ``dem_idx``.
Shocks = namedtuple("Shocks", ["cap_idx", "capfac", "dem_idx", "demfac", "exfac"])
#: Options: rationing rule and overproduction.
Options = namedtuple("Options", ["ration_mode", "alpha_max", "alpha_tau"])
#: Work arrays (initialised by the kernel): ``S``, ``O`` per cell; the rest per sector,
#: ``stockpile`` and ``impavail`` per special product.
Work = namedtuple("Work", ["S", "O", "Duse", "xinp", "d", "dprev", "x", "alpha", "cap", "fd",
                           "ex", "rho_int", "rho_fd", "stockpile", "impavail"])
#: Outputs (caller-allocated; records with a leading size of 0 are not written).
Records = namedtuple("Records", ["gdp_loss", "out_cum", "rec_x", "rec_fdu", "rec_imp",
                                 "rec_spstock", "gdp_gain", "rec_gap", "info", "out_dem"])


def work_arrays(nnz: int, n: int, K: int) -> Work:
    """Uninitialised work arrays for a table of ``nnz`` cells, ``n`` sectors, ``K``
    special products."""
    return Work(np.empty(nnz), np.empty(nnz), *[np.empty(n) for _ in range(11)],
                np.empty(K), np.empty(K))


def indices(colptr: np.ndarray, rowidx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CSC pattern as the single-run kernels (:func:`run_one`,
    :func:`simcore.dynamic._fused.run_fused`) run fastest on it: column starts as
    ``uint64``, row indices as ``uint32`` when ``n`` allows (``uint64`` otherwise).
    Numba wraps a negative index around (``a[-1]`` is the last element) and so tests the
    sign of every signed index it cannot prove non-negative (the cell indices of a CSC loop,
    which start at ``colptr[j]`` read from memory, and the row indices read from
    ``rowidx``); an unsigned index has no sign to test, and 32-bit row indices halve the
    index bytes a day.  The values, and so every result, are the same bits."""
    if colptr.dtype == np.uint64 and rowidx.dtype == (np.uint32 if n < 2**32 else np.uint64):
        return colptr, rowidx
    if colptr.size and colptr.min(initial=0) < 0 or rowidx.size and rowidx.min() < 0:
        raise ValueError("indices: the CSC pattern has negative indices")
    return colptr.astype(np.uint64), rowidx.astype(np.uint32 if n < 2**32 else np.uint64)


def run_single_fused(table: Table, special: Special, shocks: Shocks, options: Options,
                     records: Records, cycles: int | None = None,
                     skipped: np.ndarray | None = None) -> int:
    """The fused single-run kernel (:func:`simcore.dynamic._fused.run_fused`) on
    ``run_one``'s bundles, on unsigned indices (:func:`indices`); returns the status code.
    Compiled ahead of time where the installation has it (:mod:`simcore.dynamic._aot`),
    else numba's JIT: the same bits.  ``cycles``: the longest repeating cycle whose days
    are copied (default :func:`cycle_max`; 0: none); ``skipped`` (int64, one entry), if
    given, receives the number of days copied."""
    check_single(special, shocks, records, table.x0.shape[0], "run_single_fused", (0, 1))
    cp, ri = indices(table.colptr, table.rowidx, table.x0.shape[0])
    return _aot.call("run_fused", cp, ri, *table[2:], *special, *shocks, *options, *records,
                     *_cycle_args(cycles, skipped, 1))


def _cycle_args(cycles: int | None, skipped: np.ndarray | None,
                size: int) -> tuple[int, np.ndarray]:
    """The kernels' last two arguments: the longest cycle and the days-copied counter(s)."""
    c = cycle_max() if cycles is None else cycles
    if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
        raise ValueError(f"cycles = {c!r}: expected a whole number >= 0")
    if skipped is None:
        skipped = np.zeros(size, dtype=np.int64)
    elif (skipped.dtype != np.int64 or skipped.ndim != 1 or skipped.shape[0] < size
          or not skipped.flags.c_contiguous):
        raise ValueError(f"skipped: expected a contiguous int64 array of at least {size} "
                         f"entries, got {skipped.dtype} of shape {skipped.shape}")
    return int(c), skipped


def gap_rows(rows: int, T: int, where: str, allowed: tuple[int, ...]) -> None:
    """Check the rows of a gap record: ``T`` (every day's) or one of ``allowed`` (0: none;
    1: the last day's, where the kernel takes it).  The kernels write it without bounds
    checks, so any other size is refused here instead of writing past its end."""
    if rows != T and rows not in allowed:
        raise ValueError(f"{where}: rec_gap has {rows} rows; expected {T} (every day) or "
                         + " or ".join(str(a) for a in allowed))


def _rows_of(where: str, name: str, a: np.ndarray, axis: int, allowed: tuple[int, ...],
             at_least: int | None = None) -> None:
    got = a.shape[axis] if a.ndim > axis else -1
    if got in allowed or (at_least is not None and got >= at_least):
        return
    want = " or ".join(str(v) for v in allowed)
    if at_least is not None:
        want = (want + " or " if allowed else "") + f"at least {at_least}"
    raise ValueError(f"{where}: {name} has shape {a.shape}; expected {want} along axis {axis}")


def check_single(special: Special, shocks: Shocks, records: Records, n: int, where: str,
                 gap_allowed: tuple[int, ...]) -> None:
    """Check the sizes a single-run kernel reads and writes without bounds checks, against
    the horizon ``T = len(records.gdp_loss)``, the ``n`` sectors and the ``K`` special
    products: each daily record has 0 rows (not kept) or ``T`` (``rec_gap`` also one of
    ``gap_allowed``), the schedules at least ``T`` days, the per-sector outputs ``n``
    entries.  A wrong size raises :class:`ValueError` naming the array, where the kernel
    would write past an end or read another array's memory."""
    T = records.gdp_loss.shape[0]
    K = special.sp_idx.shape[0]
    _rows_of(where, "out_cum", records.out_cum, 0, (n,))
    _rows_of(where, "out_dem", records.out_dem, 0, (0, n))
    _rows_of(where, "info", records.info, 0, (), at_least=1)
    _rows_of(where, "gdp_gain", records.gdp_gain, 0, (0, T))
    for name in ("rec_x", "rec_fdu"):
        a = getattr(records, name)
        _rows_of(where, name, a, 0, (0, T))
        if a.shape[0]:
            _rows_of(where, name, a, 1, (n,))
    for name in ("rec_imp", "rec_spstock"):
        a = getattr(records, name)
        _rows_of(where, name, a, 0, (0, T))
        if a.shape[0]:
            _rows_of(where, name, a, 1, (K,))
    gap_rows(records.rec_gap.shape[0], T, where, gap_allowed)
    _check_schedules(where, 0, T, special.impcap, shocks.capfac, shocks.demfac, shocks.exfac,
                     K, shocks.cap_idx.shape[0], shocks.dem_idx.shape[0])


def _check_schedules(where: str, axis: int, T: int, impcap: np.ndarray, capfac: np.ndarray,
                     demfac: np.ndarray, exfac: np.ndarray, K: int, C: int, D: int) -> None:
    """The daily schedules (day on ``axis``) cover at least ``T`` days, each where the run
    has what it schedules: ``K`` special products, ``C`` capacity and ``D`` demand shocks."""
    for name, a, used in (("impcap", impcap, K), ("capfac", capfac, C),
                          ("demfac", demfac, D), ("exfac", exfac, D)):
        if used:
            _rows_of(where, name, a, axis, (), at_least=T)


def check_lanes(scn: "LaneScenario", out: "LaneOutput", n: int) -> None:
    """:func:`check_single` for a lane batch (leading block axis, lane axis last): ``T =
    out.gdp_loss.shape[1]``, ``rec_gap`` of 0, 1 or ``T`` rows."""
    where = "run_lanes"
    T = out.gdp_loss.shape[1]
    _rows_of(where, "gdp_gain", out.gdp_gain, 1, (T,))
    _rows_of(where, "out_cum", out.out_cum, 1, (n,))
    _rows_of(where, "out_dem", out.out_dem, 1, (0, n))
    _rows_of(where, "rec_x", out.rec_x, 1, (0, T))
    gap_rows(out.rec_gap.shape[1], T, where, (0, 1))
    _check_schedules(where, 1, T, scn.impcap, scn.capfac, scn.demfac, scn.exfac,
                     scn.impcap.shape[2], scn.capfac.shape[2], scn.demfac.shape[2])


# --------------------------------------------------------------------------------------
# Lane batches (simcore.dynamic._lanes.run_block): the scenario as the innermost axis
# --------------------------------------------------------------------------------------
#: Shared by every lane of a call: CSC pattern ``colptr (n+1)``, ``rowidx (nnz)`` (unsigned:
#: :func:`indices`), elasticities ``sigma (n)``, special products ``sp_pos (n)`` (position
#: or -1) and ``sp_idx (K)``, shocked sectors ``cap_idx (C)`` and ``dem_idx (D)``;
#: ``ration (1,)`` the rationing rule (:data:`~simcore.dynamic._kernels.RATION_PROPORTIONAL`
#: or ``..._FIRMS_FIRST``).
Structure = namedtuple("Structure", ["colptr", "rowidx", "sigma", "sp_pos", "sp_idx",
                                     "cap_idx", "dem_idx", "ration"])

#: Per-lane table, leading block axis, lane axis last: per cell ``A``, ``tgt`` (inventory
#: target, money, special rows' overrides merged in) and ``theta`` (dependency share),
#: ``(B, nnz, L)``; per sector ``x0``, ``f0``, ``e0``, ``mu``, ``c``, ``(B, n, L)``.
LaneTable = namedtuple("LaneTable", ["A", "tgt", "theta", "x0", "f0", "e0", "mu", "c"])

#: Per-lane scenario: ``inv_tau``, ``alpha_max``, ``alpha_tau`` ``(B, L)``; ``impcap
#: (B, T, K, L)``, ``stock0``, ``relmax`` ``(B, K, L)``; ``capfac (B, T, C, L)``,
#: ``demfac``, ``exfac`` ``(B, T, D, L)``.
LaneScenario = namedtuple("LaneScenario", ["inv_tau", "alpha_max", "alpha_tau", "impcap",
                                           "stock0", "relmax", "capfac", "demfac", "exfac"])

#: Outputs (caller-allocated): ``gdp_loss``, ``gdp_gain`` ``(B, T, L)`` (net loss and value
#: added above baseline, as ``run_one``); ``out_cum (B, n, L)``; ``out_dem (B, n, L)`` or
#: ``(B, 0, L)`` when not kept; ``rec_x (B, T, n, L)`` or ``(B, 0, n, L)``; ``rec_gap
#: (B, T, 2, L)`` or ``(B, 0, 2, L)``; ``status``, ``info`` ``(B, L)`` int64; ``skipped
#: (B,)`` int64, each block's days copied as repeats of a cycle (:mod:`simcore.dynamic._cycles`).
LaneOutput = namedtuple("LaneOutput", ["gdp_loss", "gdp_gain", "out_cum", "out_dem", "rec_x",
                                       "rec_gap", "status", "info", "skipped"])


def num_threads() -> int:
    """numba's number of threads, without importing numba: ``numba.get_num_threads()`` when
    numba is imported (it honours ``numba.set_num_threads``), else what numba would start
    with (``NUMBA_NUM_THREADS``, or the CPUs this process may run on)."""
    nb = sys.modules.get("numba")
    if nb is not None:
        return int(nb.get_num_threads())
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _call_block(st, tab, scn, out, b: int, cycles: int) -> None:
    """Block ``b`` of a lane batch with :func:`simcore.dynamic._lanes.run_block` (on the
    calling thread; compiled ahead of time where the installation has it,
    :mod:`simcore.dynamic._aot`)."""
    _aot.call("run_block", st.colptr, st.rowidx, st.sigma, st.sp_pos, st.sp_idx, st.cap_idx,
              st.dem_idx, st.ration[0],
              tab.A[b], tab.tgt[b], tab.theta[b], tab.x0[b], tab.f0[b], tab.e0[b],
              tab.mu[b], tab.c[b],
              scn.inv_tau[b], scn.alpha_max[b], scn.alpha_tau[b], scn.impcap[b],
              scn.stock0[b], scn.relmax[b], scn.capfac[b], scn.demfac[b], scn.exfac[b],
              out.gdp_loss[b], out.gdp_gain[b], out.out_cum[b], out.out_dem[b],
              out.rec_x[b], out.rec_gap[b], out.status[b], out.info[b],
              cycles, out.skipped[b:b + 1])


def run_lanes(st, tab, scn, out, cycles: int | None = None) -> None:
    """Run every block of a lane batch.

    ``st`` a :class:`Structure`, ``tab`` a :class:`LaneTable`, ``scn`` a
    :class:`LaneScenario`, ``out`` a :class:`LaneOutput` (see there for shapes).  Results
    are in ``out``; per-lane failures in ``out.status`` (codes of :mod:`simcore._jit`) and
    the failing day in ``out.info`` (-1: none).  One block runs on the calling thread
    (:mod:`simcore.dynamic.batch` hands blocks to a pool of threads of its own); several
    on a pool of numba's number of threads (:func:`num_threads`):
    :func:`simcore.dynamic._lanes.run_block` releases the GIL, so the blocks run in
    parallel without a numba ``parallel`` wrapper, whose compilation (seconds from an empty
    cache) a thread pool does not need.  ``cycles`` as in :func:`run_single_fused`;
    ``out.skipped`` receives each block's days copied.
    """
    nb = tab.A.shape[0]
    check_lanes(scn, out, tab.x0.shape[1])
    cycles = _cycle_args(cycles, out.skipped, nb)[0]
    if nb == 1:
        _call_block(st, tab, scn, out, 0, cycles)
        return
    from concurrent.futures import ThreadPoolExecutor

    threads = max(1, min(nb, num_threads()))
    with ThreadPoolExecutor(threads, thread_name_prefix="simcore-lanes") as ex:
        for f in [ex.submit(_call_block, st, tab, scn, out, b, cycles) for b in range(nb)]:
            f.result()
