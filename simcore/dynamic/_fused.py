"""A single run of the supply-chain engine on large sparse tables: one sweep over the cells a day.

:func:`simcore.dynamic._kernels.run_one` passes over the stored cells (buyer columns, CSC)
twice a day: pass 1 writes the day's orders ``O`` and the input bound, pass 2 reads the
orders back and updates the stocks.  Past the caches (a 3,000-sector table with 40 % of its
cells non-zero holds 3.6 million cells, 29 MB per per-cell array) and at Japan's size alike, the
day is bound by the scalar work per cell and the bytes it moves: 13 per-cell words a day.
:func:`run_fused` moves 8.5 and does the per-cell work once:

* **pass 2 of day t fused with pass 1 of day t+1**: a cell's new stock is at hand when
  tomorrow's order and bound are computed from it, so the cells are read once a day
  (pass 1 depends on nothing but the stocks, yesterday's demand and the table; the day's
  shocks enter later, in production);
* **the order read back**: pass 2 reads day t's order, written by the previous sweep
  (recomputing it instead saves a per-cell array but was measured slower, at 187, 1,000 and
  3,000 sectors alike: the sweep is bound by its scalar work more than by its bytes);
* **the targets shared**: without special products the per-cell targets are the lowered
  array itself, not a merged copy;
* **unsigned indices**: the caller passes the column starts as ``uint64`` and the row
  indices as ``uint32`` (:func:`simcore.dynamic._kernels.indices`).  Numba wraps a negative index around (``a[-1]``
  is the last element) and so tests the sign of every signed index it cannot prove
  non-negative: the cell indices of a CSC loop (which start at ``colptr[j]``, read from
  memory) and the row indices read from ``rowidx``.  An unsigned index has no sign to test:
  measured on ``kiuchi-2025-3m``'s table in paired runs, the same kernel on unsigned
  indices took 0.62x its time on signed ones, with the same bits.  32-bit row indices also
  halve the index bytes a day.

Every sum (the use vector, the stock gap, the stocks of special products) runs over the
cells in ``run_one``'s order, the minimum is a minimum, the day's other steps are
``run_one``'s helpers, and numba compiles without fast-math: the results are ``run_one``'s
bit for bit (``tests/test_fused.py`` checks every record, and the numpy oracle within
1e-12).  Everything ``run_one`` supports runs here: CES inputs, every record, the day a run
stopped, stocks per origin (pool rows are rows like any other).  :func:`run_fused` copies
the days that repeat a proven cycle of the whole state instead of computing them
(:mod:`simcore.dynamic._cycles`; the same bits), as does :func:`run_fused_par`.
``simulate(layout="auto")`` runs it on single-region tables: it was faster than
``run_one`` and than the dense rows (:mod:`simcore.dynamic._rows`) on every table measured,
37 to 3,000 sectors (docs/performance.md).

On large tables one core's memory bandwidth bounds the sweep.  :func:`run_fused_par` runs
it on every thread numba has: the buyer columns in :data:`PAR_BLOCKS` fixed blocks
(:func:`col_blocks`, a function of the table alone) handed to the threads one at a time;
each block sums its orders into its own partial use vector (and its own stock gap and
stocks of special products), and one thread adds the blocks' partials in block order.
The threads only choose who runs which block, so the results are the same bits on any
number of threads; the sums run in block pieces, not in ``run_one``'s single order, so
they equal ``run_one``'s to round-off (1e-12 relative, ``tests/test_fused.py``; with one
block, bit for bit).  ``simulate`` runs it from
:data:`simcore.dynamic.supply_chain.PARALLEL_MIN_CELLS` stored cells.
"""

from __future__ import annotations

import math

import numpy as np

from numba import prange

from .._jit import STATUS_NON_FINITE, njit, njit_parallel
from ._bundles import _cycle_args, check_single, run_single_fused  # noqa: F401  (run_single_fused: the call through simcore.dynamic._aot)
from ._cycles import NOTHING, act_on, after_day, search_arrays, start_day
from ._kernels import (  # noqa: F401
    _bound_with_ces, _cell_constants, _ces_on, _end_status, _exogenous, _import_supply,
    _inv_total, _pass1, _produce, _ration_and_record, _record_imports, _remember_demand,
    _start, indices)


@njit(inline="always")
def _sweep(c0, c1, colptr, rowidx, A, TG, O, S, IND, THA, TH, sigma, x0, x, d, rho_int,
           inv_tau, sp_pos, rec_sp_on, spsum, Dnext, xinp, ces_on, with_gap):
    """The day's sweep over buyer columns ``c0 <= j < c1`` (pass 2 of the day, pass 1 of
    the next): orders added into ``Dnext`` by product row, stocks of special products into
    ``spsum``; returns the stock gap's sum, summed only ``with_gap``.  :func:`run_fused`
    sweeps every column into the day's sums, :func:`_sweep_block` one block into its
    partials.  Inlined, and called with a constant ``with_gap``, so each call site compiles
    its own loop: the sum is a chain of additions in the cells' order (``run_one``'s bits),
    and a day that does not record it does not wait on that chain."""
    sgap = 0.0
    for j in range(c0, c1):
        xj = x[j]
        dj = d[j]
        bound_j = np.inf
        k0 = colptr[j]
        k1 = colptr[j + 1]
        for kk in range(k0, k1):
            r = rowidx[kk]
            s_k = S[kk]
            a = A[kk]
            tg = TG[kk]
            o = O[kk]
            z = o * rho_int[r]
            use = a * xj
            lim = s_k + z - tg
            if lim < s_k:
                lim = s_k
            if use > lim:
                use = lim
            sn = s_k + z - use
            S[kk] = sn
            if with_gap:
                sgap += abs(sn - tg)
            if rec_sp_on:
                p = sp_pos[r]
                if p >= 0:
                    spsum[p] += sn
            o2 = a * dj + (tg - sn) * inv_tau
            if o2 < 0.0:
                o2 = 0.0
            O[kk] = o2
            Dnext[r] += o2
            b = IND[kk] + THA[kk] * sn
            if b < bound_j:
                bound_j = b
        if ces_on:
            bound_j = _bound_with_ces(k0, k1, rowidx, S, A, IND, THA, TH, sigma, x0[j])
        xinp[j] = bound_j
    return sgap


@njit
def run_fused(colptr, rowidx, A, tgt, theta, sigma, x0, f0, e0, mu, c, inv_tau,
              sp_pos, sp_idx, impcap, stock0, relmax, theta_sp, tgt_sp,
              cap_idx, capfac, dem_idx, demfac, exfac,
              ration_mode, alpha_max, alpha_tau,
              gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_spstock, gdp_gain, rec_gap,
              info, out_dem, cycle_max, skipped):
    """Run one scenario over ``gdp_loss.shape[0]`` days, one sweep over the cells a day;
    return a status code.  Arguments and outputs are ``run_one``'s less its work arrays
    (``colptr`` and ``rowidx`` may be unsigned and ``rowidx`` 32-bit: :func:`indices`).
    ``rec_gap`` of one row (``(1, 2)``) records the gaps of the last day only (what
    ``simulate`` reads), so that no other day sums the stock gap (:func:`_sweep`); of
    ``T`` rows, every day's, as ``run_one``.

    ``cycle_max > 0``: days that repeat the state's cycle of period at most ``cycle_max``
    are copied, not computed (:mod:`simcore.dynamic._cycles`; the same bits);
    ``skipped[0]`` is set to the number of days copied.  ``0``: every day computed."""
    n = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    rec_x_on = rec_x.shape[0] > 0
    rec_fdu_on = rec_fdu.shape[0] > 0
    rec_imp_on = rec_imp.shape[0] > 0
    rec_sp_on = rec_spstock.shape[0] > 0
    gain_on = gdp_gain.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    gap_rows = rec_gap.shape[0]
    dem_on = out_dem.shape[0] > 0
    overprod = alpha_max > 1.0

    nnz = A.shape[0]
    ces_on = _ces_on(sigma)
    S = np.empty(nnz)
    O = np.empty(nnz)
    # without special products the targets are tgt itself (nothing to merge: one per-cell
    # array less); it is only read
    TG = tgt if K == 0 else np.empty(nnz)
    IND = np.empty(nnz)
    THA = np.empty(nnz)
    TH = np.empty(nnz if ces_on else 0)
    Duse = np.empty(n)
    Dnext = np.empty(n)
    xinp = np.empty(n)
    d = np.empty(n)
    dprev = np.empty(n)
    x = np.empty(n)
    alpha = np.empty(n)
    cap = np.empty(n)
    fd = np.empty(n)
    ex = np.empty(n)
    rho_int = np.empty(n)
    rho_fd = np.empty(n)
    stockpile = np.empty(K)
    impavail = np.empty(K)
    spsum = np.empty(K)
    # per-cell constants with the special rows' overrides merged in (run_one's)
    _cell_constants(0, n, colptr, rowidx, sp_pos, A, tgt, theta, tgt_sp, theta_sp, x0,
                    S, TG, TH, IND, THA, K > 0, ces_on)
    inv_sum_x0 = _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile)
    inv_sum_tg = _inv_total(TG)

    # day 0's pass 1; later days' pass 1 runs in the previous day's sweep
    _pass1(0, n, colptr, rowidx, A, TG, IND, THA, TH, sigma, x0, S, dprev, inv_tau, ces_on,
           Duse, xinp, O)

    # repeating cycles (simcore.dynamic._cycles): the output ring, the trigger's counts,
    # the state's copy (stocks, orders, use vector, input bound, demand, overproduction,
    # stockpiles)
    C = cap_idx.shape[0]
    D = dem_idx.shape[0]
    P, xh, dh, match, cs, snap = search_arrays(cycle_max, n, 2 * nnz + 5 * n + K, skipped)
    none = np.empty(0)  # the lanes keep two days of demand in their state, this kernel one

    t = 0
    while t < T:
        if P > 0:
            start_day(t, cs, capfac, demfac, exfac, impcap, C, D, K)
        _exogenous(t, x0, alpha, f0, e0, cap_idx, capfac, dem_idx, demfac, exfac, cap, fd, ex)

        _produce(n, Duse, fd, mu, ex, cap, xinp, d, x)
        _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax, impavail)

        # --- rationing and the day's records (run_one's order)
        gl, gn, xgap = _ration_and_record(t, n, x, Duse, fd, ex, mu, x0, c, d, sp_pos,
                                          impavail, ration_mode, rho_int, rho_fd, out_cum,
                                          out_dem, dem_on, rec_fdu, rec_fdu_on, rec_x,
                                          rec_x_on)
        gdp_loss[t] = gl
        if gain_on:
            gdp_gain[t] = gn
        if rec_imp_on:
            _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp)

        # --- one sweep: pass 2 of day t (deliveries, stock update; the order of day t
        #     read back) and pass 1 of day t + 1 (orders from today's demand d, written
        #     over it, and the bound from the new stock)
        for i in range(n):
            Dnext[i] = 0.0
        for k in range(K):
            spsum[k] = 0.0
        if t == T - 1 or gap_rows == T:
            sgap = _sweep(0, n, colptr, rowidx, A, TG, O, S, IND, THA, TH, sigma, x0, x, d,
                          rho_int, inv_tau, sp_pos, rec_sp_on, spsum, Dnext, xinp, ces_on,
                          True)
        else:
            sgap = _sweep(0, n, colptr, rowidx, A, TG, O, S, IND, THA, TH, sigma, x0, x, d,
                          rho_int, inv_tau, sp_pos, rec_sp_on, spsum, Dnext, xinp, ces_on,
                          False)
        if gap_rows == T:
            rec_gap[t, 0] = xgap * inv_sum_x0
            rec_gap[t, 1] = sgap * inv_sum_tg
        elif gap_on and t == T - 1:
            rec_gap[0, 0] = xgap * inv_sum_x0
            rec_gap[0, 1] = sgap * inv_sum_tg
        if rec_sp_on:
            for k in range(K):
                rec_spstock[t, k] = spsum[k]
        for i in range(n):
            Duse[i] = Dnext[i]

        _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev)

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE

        if P > 0:
            act = after_day(t, x, d, gdp_loss, xh, dh, match, cs)
            if act != NOTHING:
                m = act_on(act, t, T, x0, xh, dh, match, cs, snap,
                           S, O, Duse, xinp, dprev, none, alpha, d, stockpile,
                           capfac, demfac, exfac, impcap, C, D, K, out_cum, out_dem,
                           dem_on, gdp_loss, gdp_gain, rec_x, rec_fdu, rec_imp,
                           rec_spstock, rec_gap)
                skipped[0] += m
                t += m
        t += 1
    info[0] = -1
    return _end_status(x)


#: The number of column blocks the parallel sweep (:func:`run_fused_par`) splits the cells
#: into.  Fixed, whatever the number of threads: each block sums its own partial use vector,
#: stock gap and stocks of special products, and the blocks' partials are combined in block
#: order, so the results are the same bits on 1, 2 or 64 threads (the threads only choose
#: which block each runs).  32 blocks keep 16 threads busy with two blocks each; the
#: combination costs ``PAR_BLOCKS * n`` additions a day, small beside the cells of the
#: tables the parallel sweep runs on (``choose_layout``).
PAR_BLOCKS = 32


def col_blocks(colptr: np.ndarray, nblocks: int = PAR_BLOCKS) -> np.ndarray:
    """Column starts of ``nblocks`` contiguous blocks of buyer columns holding about the
    same number of cells each (``nblocks + 1`` entries, ``uint64``; some blocks may be
    empty on a tiny table).  A function of the table alone, never of the threads."""
    n = colptr.shape[0] - 1
    nnz = int(colptr[-1]) if n >= 0 else 0
    cuts = np.searchsorted(np.asarray(colptr, dtype=np.int64),
                           np.linspace(0, nnz, nblocks + 1)[1:-1], side="left")
    b = np.concatenate([[0], np.minimum(cuts, n), [n]]).astype(np.int64)
    b = np.maximum.accumulate(b)
    return b.astype(np.uint64)


@njit
def _sweep_block(c0, c1, b, colptr, rowidx, A, TG, IND, THA, TH, sigma, x0, inv_tau, ces_on,
                 sp_pos, rec_sp_on, S, O, x, d, rho_int, P, SG, SP, xinp):
    """Block ``b`` (buyer columns ``c0 <= j < c1``) of the day's sweep: :func:`run_fused`'s
    cell loop (:func:`_sweep`), its sums into the block's own partials ``P[b]`` (orders by
    product row), ``SG[b]`` (stock gap) and ``SP[b]`` (stocks of special products)."""
    n = P.shape[1]
    Pb = P[b]
    for i in range(n):
        Pb[i] = 0.0
    for k in range(SP.shape[1]):
        SP[b, k] = 0.0
    SG[b] = _sweep(c0, c1, colptr, rowidx, A, TG, O, S, IND, THA, TH, sigma, x0, x, d,
                   rho_int, inv_tau, sp_pos, rec_sp_on, SP[b], Pb, xinp, ces_on, True)


@njit
def _combine(P, i0, i1, out):
    """``out[i] = P[0, i] + P[1, i] + ...`` in block order for ``i0 <= i < i1``."""
    nb = P.shape[0]
    for i in range(i0, i1):
        out[i] = P[0, i]
    for b in range(1, nb):
        for i in range(i0, i1):
            out[i] += P[b, i]


@njit_parallel
def run_fused_par(colptr, rowidx, A, tgt, theta, sigma, x0, f0, e0, mu, c, inv_tau,
                  sp_pos, sp_idx, impcap, stock0, relmax, theta_sp, tgt_sp,
                  cap_idx, capfac, dem_idx, demfac, exfac,
                  ration_mode, alpha_max, alpha_tau,
                  gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_spstock, gdp_gain, rec_gap,
                  info, out_dem, blocks, cycle_max, skipped):
    """:func:`run_fused` with the day's sweep (and the first day's pass 1) split over the
    column blocks ``blocks`` (:func:`col_blocks`), run in parallel (``prange``); the sums
    over cells (the use vector, the stock gap, the stocks of special products) are summed
    block by block, then over the blocks in block order: the same bits on any number of
    threads, equal to ``run_one``'s to round-off (its sums run over the cells in one
    order, these in ``len(blocks) - 1`` pieces).  ``cycle_max`` and ``skipped`` as in
    :func:`run_fused`: the days that repeat a proven cycle are copied."""
    n = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    NB = blocks.shape[0] - 1
    rec_x_on = rec_x.shape[0] > 0
    rec_fdu_on = rec_fdu.shape[0] > 0
    rec_imp_on = rec_imp.shape[0] > 0
    rec_sp_on = rec_spstock.shape[0] > 0
    gain_on = gdp_gain.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    dem_on = out_dem.shape[0] > 0
    overprod = alpha_max > 1.0

    nnz = A.shape[0]
    ces_on = _ces_on(sigma)
    S = np.empty(nnz)
    O = np.empty(nnz)
    TG = tgt if K == 0 else np.empty(nnz)
    IND = np.empty(nnz)
    THA = np.empty(nnz)
    TH = np.empty(nnz if ces_on else 0)
    P = np.empty((NB, n))
    SG = np.empty(NB)
    SP = np.empty((NB, K))
    Duse = np.empty(n)
    xinp = np.empty(n)
    d = np.empty(n)
    dprev = np.empty(n)
    x = np.empty(n)
    alpha = np.empty(n)
    cap = np.empty(n)
    fd = np.empty(n)
    ex = np.empty(n)
    rho_int = np.empty(n)
    rho_fd = np.empty(n)
    stockpile = np.empty(K)
    impavail = np.empty(K)
    # per-cell constants, in parallel by block (each cell written once)
    for b in prange(NB):
        _cell_constants(blocks[b], blocks[b + 1], colptr, rowidx, sp_pos, A, tgt, theta,
                        tgt_sp, theta_sp, x0, S, TG, TH, IND, THA, K > 0, ces_on)
    inv_sum_x0 = _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile)
    inv_sum_tg = _inv_total(TG)

    for b in prange(NB):
        # block b's orders summed into its own partial P[b]
        _pass1(blocks[b], blocks[b + 1], colptr, rowidx, A, TG, IND, THA, TH, sigma, x0, S,
               dprev, inv_tau, ces_on, P[b], xinp, O)
    _combine(P, 0, n, Duse)

    # repeating cycles (simcore.dynamic._cycles), as run_fused
    C = cap_idx.shape[0]
    D = dem_idx.shape[0]
    PC, xh, dh, match, cs, snap = search_arrays(cycle_max, n, 2 * nnz + 5 * n + K, skipped)
    none = np.empty(0)

    t = 0
    while t < T:
        if PC > 0:
            start_day(t, cs, capfac, demfac, exfac, impcap, C, D, K)
        _exogenous(t, x0, alpha, f0, e0, cap_idx, capfac, dem_idx, demfac, exfac, cap, fd, ex)

        _produce(n, Duse, fd, mu, ex, cap, xinp, d, x)
        _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax, impavail)

        gl, gn, xgap = _ration_and_record(t, n, x, Duse, fd, ex, mu, x0, c, d, sp_pos,
                                          impavail, ration_mode, rho_int, rho_fd, out_cum,
                                          out_dem, dem_on, rec_fdu, rec_fdu_on, rec_x,
                                          rec_x_on)
        gdp_loss[t] = gl
        if gain_on:
            gdp_gain[t] = gn
        if rec_imp_on:
            _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp)

        # --- the sweep, block by block in parallel; then the partials in block order
        for b in prange(NB):
            _sweep_block(blocks[b], blocks[b + 1], b, colptr, rowidx, A, TG, IND, THA, TH,
                         sigma, x0, inv_tau, ces_on, sp_pos, rec_sp_on, S, O, x, d,
                         rho_int, P, SG, SP, xinp)
        # in one thread: a second parallel launch a day costs more than these NB * n
        # additions (waking the threads on a loaded machine most of all)
        _combine(P, 0, n, Duse)
        if gap_on:
            sgap = 0.0
            for b in range(NB):
                sgap += SG[b]
            rec_gap[t, 0] = xgap * inv_sum_x0
            rec_gap[t, 1] = sgap * inv_sum_tg
        if rec_sp_on:
            for k in range(K):
                tot = 0.0
                for b in range(NB):
                    tot += SP[b, k]
                rec_spstock[t, k] = tot

        _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev)

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE

        if PC > 0:
            act = after_day(t, x, d, gdp_loss, xh, dh, match, cs)
            if act != NOTHING:
                m = act_on(act, t, T, x0, xh, dh, match, cs, snap,
                           S, O, Duse, xinp, dprev, none, alpha, d, stockpile,
                           capfac, demfac, exfac, impcap, C, D, K, out_cum, out_dem,
                           dem_on, gdp_loss, gdp_gain, rec_x, rec_fdu, rec_imp,
                           rec_spstock, rec_gap)
                skipped[0] += m
                t += m
        t += 1
    info[0] = -1
    return _end_status(x)


def run_single_fused_par(table, special, shocks, options, records,
                         nblocks: int = PAR_BLOCKS, cycles: int | None = None,
                         skipped: np.ndarray | None = None) -> int:
    """:func:`run_fused_par` on ``run_one``'s bundles over ``nblocks`` column blocks
    (:func:`col_blocks`); returns the status code.  The threads are numba's
    (``numba.set_num_threads``); the results do not depend on them.  The blocks are handed
    to the threads one at a time (``numba.parallel_chunksize(1)``): on a loaded machine a
    thread slowed by another process then takes fewer blocks, where a static split waits for
    it (measured: two threads slower than one on the 3,000-sector table under load with the
    static split, 1.8x faster with blocks handed out one by one).  ``cycles`` and
    ``skipped`` as in :func:`run_single_fused`."""
    import numba

    check_single(special, shocks, records, table.x0.shape[0], "run_single_fused_par", (0,))
    cp, ri = indices(table.colptr, table.rowidx, table.x0.shape[0])
    t = table._replace(colptr=cp, rowidx=ri)
    with numba.parallel_chunksize(1):
        return run_fused_par(*t, *special, *shocks, *options, *records,
                             col_blocks(cp, nblocks), *_cycle_args(cycles, skipped, 1))
