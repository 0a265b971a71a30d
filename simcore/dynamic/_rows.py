"""A single run of the supply-chain engine in a layout that vectorises: dense rows.

:func:`simcore.dynamic._kernels.run_one` stores the cells by buyer column (CSC): the orders
are scattered into the use vector (``Duse[rowidx[k]] += o``) and the input bound is a
running minimum along the column, two dependency chains that keep the day scalar.  Here
every per-cell array is a dense ``(n, n)`` matrix stored by *product row* ``i`` (cells
without a baseline flow hold zeros: they order nothing, deliver nothing and never bind):

* the use of product ``i`` is a row sum in increasing ``j``: ``run_one``'s order, so the
  same bits (a cell without flow adds an exact zero); eight rows are summed side by side
  (eight independent chains of additions);
* the input bound of every buyer is an elementwise minimum over the rows,
  ``bound[:] = min(bound[:], IND[i, :] + THA[i, :] * S[i, :])``;
* the stock update of pass 2 is elementwise along the row (and so is the stock gap, kept
  per buyer column).

The day's other steps (production, imports, rationing, overproduction) are those of
``run_one``, in its order, and numba compiles without fast-math: every result is ``run_one``'s
bit for bit except the stock gap (``rec_gap[:, 1]``, the sum of ``|S - target|``: here each
buyer column's sum over the rows, accumulated elementwise in pass 2, then the columns'
sums, instead of one running sum), which agrees to round-off.  ``tests/test_rows.py`` checks both, and the numpy oracle within 1e-12.

Everything ``run_one`` supports runs here: CES inputs (``sigma > 0``: the rows of those
products take the exact CES ratio cell by cell, as ``run_one``; a minimum does not depend
on its order, so the bound is the same), every record (output, unmet final demand,
imports and stocks of cut products, gains, the two gaps, the demand-constrained loss),
the day a run stopped (``info``), and stocks per origin (pool rows are rows like any
other).  The dense layout pays for the cells without flow, and its elementwise loops
vectorise only in part (numba compiles without fast-math): the fused column sweep
:func:`simcore.dynamic._fused.run_fused` was faster on every table measured, from Japan's
37 sectors on (the note above :func:`run_single_rows`), so ``simulate`` runs this kernel only when asked
(``layout="rows"``).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import STATUS_NON_FINITE, njit
from ._bundles import check_single
from ._kernels import (_end_status, _exogenous, _import_supply, _produce, _ration_and_record,
                       _record_imports, _remember_demand, _start, ces_ratio)


@njit
def _rowsums8(O, out, n):
    """``out[i] = sum_j O[i, j]`` in increasing ``j`` (run_one's order of the scatter
    ``Duse[rowidx[k]] += o``, so bit for bit its sums: a zero cell adds nothing), eight
    rows at a time so that eight chains of additions run side by side."""
    m = n - n % 8
    for i in range(0, m, 8):
        O0, O1, O2, O3 = O[i], O[i + 1], O[i + 2], O[i + 3]
        O4, O5, O6, O7 = O[i + 4], O[i + 5], O[i + 6], O[i + 7]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for j in range(n):
            a0 += O0[j]
            a1 += O1[j]
            a2 += O2[j]
            a3 += O3[j]
            a4 += O4[j]
            a5 += O5[j]
            a6 += O6[j]
            a7 += O7[j]
        out[i] = a0
        out[i + 1] = a1
        out[i + 2] = a2
        out[i + 3] = a3
        out[i + 4] = a4
        out[i + 5] = a5
        out[i + 6] = a6
        out[i + 7] = a7
    for i in range(m, n):
        Oi = O[i]
        a0 = 0.0
        for j in range(n):
            a0 += Oi[j]
        out[i] = a0


@njit
def run_rows(A, TG, TH, sigma, x0, f0, e0, mu, c, inv_tau,
             sp_pos, sp_idx, impcap, stock0, relmax,
             cap_idx, capfac, dem_idx, demfac, exfac,
             ration_mode, alpha_max, alpha_tau,
             gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_spstock, gdp_gain, rec_gap,
             info, out_dem):
    """Run one scenario over ``gdp_loss.shape[0]`` days on dense rows; return a status.

    ``A``, ``TG`` (inventory targets, special rows' overrides merged in) and ``TH``
    (dependency shares, likewise) are ``(n, n)`` by product row and buyer column, zero where
    there is no baseline flow (:func:`dense_rows`).  The other arguments, the outputs and
    the records are ``run_one``'s, in its order less the CSC pattern and the special rows'
    dense overrides (records with a leading size of 0 are not written).
    """
    n = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    rec_x_on = rec_x.shape[0] > 0
    rec_fdu_on = rec_fdu.shape[0] > 0
    rec_imp_on = rec_imp.shape[0] > 0
    rec_sp_on = rec_spstock.shape[0] > 0
    gain_on = gdp_gain.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    dem_on = out_dem.shape[0] > 0
    overprod = alpha_max > 1.0

    S = np.empty((n, n))
    O = np.empty((n, n))
    IND = np.empty((n, n))
    THA = np.empty((n, n))
    gcol = np.empty(n)
    Duse = np.empty(n)
    bound = np.empty(n)
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
    for i in range(n):
        for j in range(n):
            th = TH[i, j]
            S[i, j] = TG[i, j]
            if th > 0.0:
                IND[i, j] = (1.0 - th) * x0[j]
                THA[i, j] = th / A[i, j]
            else:
                IND[i, j] = np.inf
                THA[i, j] = 0.0
    inv_sum_x0 = _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile)
    sum_tg = 0.0
    for j in range(n):  # run_one's order (by buyer column)
        for i in range(n):
            sum_tg += TG[i, j]
    inv_sum_tg = 1.0 / sum_tg if sum_tg > 0.0 else 0.0

    for t in range(T):
        _exogenous(t, x0, alpha, f0, e0, cap_idx, capfac, dem_idx, demfac, exfac, cap, fd, ex)
        for j in range(n):
            bound[j] = np.inf

        # --- pass 1 by rows: orders (a row sum: the use of product i) and the bound (an
        #     elementwise minimum over the rows; the exact CES ratio on rows with sigma > 0,
        #     as run_one's _bound_with_ces: a minimum does not depend on its order)
        for i in range(n):
            Ai = A[i]
            Si = S[i]
            TGi = TG[i]
            Oi = O[i]
            INDi = IND[i]
            THAi = THA[i]
            sg = sigma[i]
            if sg <= 0.0:
                for j in range(n):
                    s_k = Si[j]
                    o = Ai[j] * dprev[j] + (TGi[j] - s_k) * inv_tau
                    Oi[j] = 0.0 if o < 0.0 else o
                    b = INDi[j] + THAi[j] * s_k
                    bound[j] = b if b < bound[j] else bound[j]
            else:
                for j in range(n):
                    o = Ai[j] * dprev[j] + (TGi[j] - Si[j]) * inv_tau
                    Oi[j] = 0.0 if o < 0.0 else o
                THi = TH[i]
                for j in range(n):
                    b = INDi[j] + THAi[j] * Si[j]
                    th = THi[j]
                    if th > 0.0:
                        a = Ai[j]
                        xj0 = x0[j]
                        qa = Si[j] / (a * xj0)
                        if qa < 1.0:
                            share = a / th
                            if share > 0.999:
                                share = 0.999
                            b = xj0 * ((1.0 - th) + th * ces_ratio(share, sg, qa))
                    if b < bound[j]:
                        bound[j] = b

        # the use of each product: its row summed in increasing j, run_one's order (so the
        # same bits), eight rows at a time (eight independent chains)
        _rowsums8(O, Duse, n)

        # --- production (run_one's order)
        _produce(n, Duse, fd, mu, ex, cap, bound, d, x)

        _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax,
                       impavail)

        # --- rationing and the day's records (run_one's order)
        gl, gn, xgap = _ration_and_record(t, n, x, Duse, fd, ex, mu, x0, c, d, sp_pos,
                                          impavail, ration_mode, rho_int, rho_fd, out_cum,
                                          out_dem, dem_on, rec_fdu, rec_fdu_on, rec_x,
                                          rec_x_on)
        gdp_loss[t] = gl
        if gain_on:
            gdp_gain[t] = gn

        # --- pass 2 by rows: deliveries and stock update (run_one's rule, elementwise)
        sgap = 0.0
        for j in range(n):
            gcol[j] = 0.0
        for i in range(n):
            Ai = A[i]
            Si = S[i]
            TGi = TG[i]
            Oi = O[i]
            rh = rho_int[i]
            for j in range(n):
                s_k = Si[j]
                z = Oi[j] * rh
                use = Ai[j] * x[j]
                lim = s_k + z - TGi[j]
                lim = s_k if lim < s_k else lim
                use = lim if use > lim else use
                sn = s_k + z - use
                Si[j] = sn
                # the stock gap by buyer column, summed over the rows in increasing i
                gcol[j] += abs(sn - TGi[j])
        for j in range(n):
            sgap += gcol[j]
        if gap_on:
            rec_gap[t, 0] = xgap * inv_sum_x0
            rec_gap[t, 1] = sgap * inv_sum_tg

        # --- records of special products (a stock is a row: summed in run_one's order)
        if rec_imp_on:
            _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp)
        if rec_sp_on:
            for k in range(K):
                tot = 0.0
                Si = S[sp_idx[k]]
                for j in range(n):
                    tot += Si[j]
                rec_spstock[t, k] = tot

        _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev)

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE
    info[0] = -1
    return _end_status(x)


def dense_rows(low, params):
    """The dense-row inputs of :func:`run_rows` from a lowered run
    (:class:`simcore.dynamic.supply_chain.Lowered`): ``(A, TG, TH)`` with the special rows'
    overrides merged in."""
    p2 = low.prep
    n = p2.n
    cols = np.repeat(np.arange(n), np.diff(p2.colptr))
    A = np.zeros((n, n))
    TG = np.zeros((n, n))
    TH = np.zeros((n, n))
    A[p2.rowidx, cols] = p2.A
    tg = low.tgt.copy()
    th = low.theta.copy()
    pos = low.sp_pos[p2.rowidx]
    msk = pos >= 0
    tg[msk] = low.tgt_sp[pos[msk], cols[msk]]
    th[msk] = low.theta_sp[pos[msk], cols[msk]]
    TG[p2.rowidx, cols] = tg
    TH[p2.rowidx, cols] = th
    return A, TG, TH


# This kernel's time over the fused column sweep's (simcore.dynamic._fused.run_fused), one
# year, paired interleaved runs in one process on the tables of benchmarks/compare.py: 1.5x
# on Japan-37 (the fused sweep on unsigned indices); before the fused sweep took unsigned
# indices already 1.00x on Japan-37, 1.18x on Japan-187 and about 2x at 300 and 500 sectors.
# So simulate(layout="auto") never picks rows (docs/performance.md times both).


def run_single_rows(low, table, special, shocks, options, records) -> int:
    """:func:`run_rows` on ``run_one``'s bundles (:mod:`simcore.dynamic._kernels`:
    ``Table``, ``Special``, ``Shocks``, ``Options``, ``Records``) and the lowered run
    they come from (for the dense rows); returns the status code."""
    check_single(special, shocks, records, table.x0.shape[0], "run_single_rows", (0,))
    A, TG, TH = dense_rows(low, None)
    return run_rows(A, TG, TH, table.sigma, table.x0, table.f0, table.e0, table.mu, table.c,
                    table.inv_tau, special.sp_pos, special.sp_idx, special.impcap,
                    special.stock0, special.relmax, *shocks, *options, *records)
