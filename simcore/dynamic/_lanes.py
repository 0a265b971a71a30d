"""Batches of the supply-chain engine with the scenario as the innermost axis (lanes).

:func:`simcore.dynamic._kernels.run_one` runs one scenario: every per-cell loop carries a
single dependency chain (the running minimum of the input bound, the scatter into the use
vector), so the day is latency bound.  Here a *block* of ``L`` scenarios (lanes) runs
together in structure-of-arrays layout: every per-cell and per-sector state array is
``(cells or sectors, L)`` with the lane last, so the innermost loop of each daily pass runs
over ``L`` independent lanes with unit stride (vectorisable, and ``L`` independent chains
where one lane has one).  Each lane does exactly the operations of ``run_one``, in the same
order (``fastmath`` is off: no reassociation; see :mod:`simcore._jit`), so every lane's
result equals its single run: the tests require 1e-12 relative (``tests/test_lanes.py``), and
in the cases measured the numbers are identical bit for bit.

Pass 2 of a day (deliveries, use, stocks) and pass 1 of the next day (orders, the use
vector, the input bound) run as one sweep over the cells (:func:`_pass2_pass1`): pass 1
reads nothing of a cell but its stock after pass 2 and last day's demand, so each cell's
six lane vectors are loaded once a day instead of twice; the steps between the passes
(production, imports, rationing, the demand memory) touch no cell.  In each cell the work
is five short loops over the lanes, each writing one array, so that the compiler
vectorises every one of them (its run-time overlap checks stay few; one loop writing
several arrays is not vectorised).  A cell whose coefficient, target and bound terms
(``A``, ``TG``, ``IND``, ``THA``) are the same number in every lane of the block (in a
sweep of shock sizes and of the special rows' shares, every other cell) is read as four
scalars (:func:`_uniform_cells`), so that the day loads only its lanes' stocks and orders:
at 32 lanes a block's per-cell arrays are far beyond a core's L2 cache, and reading four of
them once per cell instead of once per lane took a lane scenario-year of the Nomura case
from about 10.4 to 6.3 ms on the machine of docs/performance.md (same bits).  Such a cell's
orders are not stored either: pass 2 recomputes them from the operands pass 1 used (its
stock before the update and the demand of the day before, kept as ``dold``), the same
numbers, and pass 1 adds them to the use vector in the loop that computes them; a cell
whose bound terms say it bounds nothing (``IND`` infinite, ``THA`` zero: an input that is
not critical) skips the lane loop of the input bound, whose every term would be infinite
or NaN and leave the bound as it is.  Both together took 3-6 % off a lane scenario-year
in blocks of 32 and 48 lanes (the Nomura sweep's and the band draws'; 9 % at 64) and
added about as much to a block of 8, where the recomputed orders' arithmetic is no
longer hidden behind the per-cell loop overheads (same bits; ``sc-lanes`` cases of
benchmarks/compare.py against the previous kernel, interleaved runs).  The lane loops of
a cell are about equal shares of what is left (see "Bounds of a lane block" in
docs/performance.md).  The cell indices are unsigned (:func:`indices`), as in
:mod:`simcore.dynamic._fused` (measured: no difference at 32 lanes, where the lane loops
dominate; no cost either).  With ``L`` a run-time value each loop pays those
checks once per cell, which more lanes amortise (:data:`simcore.dynamic.batch.LANES`).

What the lanes of one call share is the *structure*: the sparsity pattern (``colptr``,
``rowidx``), the elasticities, which products are special (origin-split, cut) and which
sectors carry capacity or demand shocks.  Every *value* is per lane: coefficients,
inventory targets, dependency shares, baseline output, final demand, exports, import
shares, value-added coefficients, import schedules, stockpiles, shock schedules,
``inventory_tau``, ``alpha_max`` and ``alpha_tau``.  So scenarios whose lowered tables
differ only in values (for example different China shares of magnet imports under stocks
per origin, which change the pool rows' coefficients) share lanes.

Arguments are bundled as namedtuples of arrays (:class:`Structure`, :class:`LaneTable`,
:class:`LaneScenario`, :class:`LaneOutput`), each field an array with a leading *block*
axis and the lane axis last, so a batch is ``n_blocks x L`` scenarios; :func:`run_lanes`
runs one block on the calling thread or several on a pool of Python threads
(:func:`run_block` releases the GIL; no numba ``parallel`` wrapper to compile).  A
partial last block is padded by the caller (:mod:`simcore.dynamic.batch`) with copies of a
real scenario whose results are dropped.

A lane that fails (a non-finite daily loss) stops being recorded on that day as
``run_one`` stops: its outputs are those ``run_one`` leaves (records of later days 0,
cumulative losses as of that day); the other lanes run on.

Days on which the whole block repeats a proven cycle of its state are copied, not computed
(:mod:`simcore.dynamic._cycles`; the same bits): the band draws of a long stop settle into
one.
"""

from __future__ import annotations

import math

import numpy as np
from .._jit import (
    STATUS_NEGATIVE_OUTPUT,
    STATUS_NON_FINITE,
    STATUS_OK,
    njit,
)
from ._cycles import NOTHING, act_on, after_day, search_arrays, start_day
from ._kernels import _ratios, ces_ratio

# The lane batch's bundles, its Python-side calls and the unsigned indices:
# simcore.dynamic._bundles (numba-free), re-exported here
from ._bundles import (  # noqa: E402,F401
    LaneOutput, LaneScenario, LaneTable, Structure, indices, run_lanes)


@njit
def _bound_with_ces_lane(k0, k1, rowidx, S, A, IND, THA, TH, sigma, xj0, l):
    """:func:`~simcore.dynamic._kernels._bound_with_ces` for lane ``l``."""
    bound = np.inf
    for kk in range(k0, k1):
        i = rowidx[kk]
        th = TH[kk, l]
        b = IND[kk, l] + THA[kk, l] * S[kk, l]
        if sigma[i] > 0.0 and th > 0.0:
            a = A[kk, l]
            qa = S[kk, l] / (a * xj0)
            if qa < 1.0:
                share = a / th
                if share > 0.999:
                    share = 0.999
                b = xj0 * ((1.0 - th) + th * ces_ratio(share, sigma[i], qa))
        if b < bound:
            bound = b
    return bound


@njit
def _pass1(ces_on, colptr, rowidx, sigma, A, TG, IND, THA, TH, S, O, dprev, x0, inv_tau,
           Duse, xinp, bound):
    """Pass 1 of day 0 for every lane: ``run_one``'s orders, use vector and input bound."""
    n = colptr.shape[0] - 1
    L = A.shape[1]
    for j in range(n):
        k0 = colptr[j]
        k1 = colptr[j + 1]
        for l in range(L):
            bound[l] = np.inf
        for kk in range(k0, k1):
            i = rowidx[kk]
            for l in range(L):
                s_k = S[kk, l]
                o = A[kk, l] * dprev[j, l] + (TG[kk, l] - s_k) * inv_tau[l]
                o = 0.0 if o < 0.0 else o
                O[kk, l] = o
                Duse[i, l] += o
                b = IND[kk, l] + THA[kk, l] * s_k
                bound[l] = b if b < bound[l] else bound[l]
        if ces_on:
            for l in range(L):
                bound[l] = _bound_with_ces_lane(k0, k1, rowidx, S, A, IND, THA, TH, sigma,
                                                x0[j, l], l)
        for l in range(L):
            xinp[j, l] = bound[l]


@njit
def _same_bits(a, b):
    """Whether two floats are the same number, the sign of a zero included (NaN: never)."""
    if a != b:
        return False
    return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)


@njit
def _uniform_cells(A, TG, IND, THA, uni, A1, TG1, IND1, THA1):
    """Mark the cells whose ``A``, ``TG``, ``IND`` and ``THA`` are the same in every lane
    (``uni``) and keep those values once (``A1``, ...): the daily sweep reads them as
    scalars there, not as lane vectors (:func:`_pass2_pass1`)."""
    nnz = A.shape[0]
    L = A.shape[1]
    count = 0
    for kk in range(nnz):
        a0 = A[kk, 0]
        t0 = TG[kk, 0]
        i0 = IND[kk, 0]
        h0 = THA[kk, 0]
        u = True
        for l in range(1, L):
            if not (_same_bits(A[kk, l], a0) and _same_bits(TG[kk, l], t0)
                    and _same_bits(IND[kk, l], i0) and _same_bits(THA[kk, l], h0)):
                u = False
                break
        uni[kk] = u
        A1[kk] = a0
        TG1[kk] = t0
        IND1[kk] = i0
        THA1[kk] = h0
        if u:
            count += 1
    return count


@njit
def _pass2_pass1(next_day, ces_on, colptr, rowidx, sigma, A, TG, IND, THA, TH, S, O, x,
                 dprev, rho_int, x0, inv_tau, Duse, xinp, bound, with_gap, sgap,
                 uni, A1, TG1, IND1, THA1, dold):
    """Pass 2 of a day (deliveries, use, stocks; if ``with_gap``, ``sgap`` the sum of
    ``|S - target|``) and,
    if ``next_day``, pass 1 of the next day (orders from ``dprev``, the use vector
    ``Duse``, the input bound ``xinp``), in one sweep over the cells: a cell's stock after
    pass 2 is all pass 1 of the next day reads of it, so each cell is loaded once a day.
    Per lane the operations are ``run_one``'s, in its order (cells by column, then row).
    A cell whose coefficient, target and bound terms are the same in every lane
    (``uni``, :func:`_uniform_cells`) reads them once as scalars (``A1``, ...) instead of
    as lane vectors, and its orders are recomputed, not stored: in pass 2 from its stock
    before the update and ``dold`` (the demand pass 1 used), in pass 1 straight into
    ``Duse``; the same numbers, and its stocks the only lane vector it reads and writes."""
    n = colptr.shape[0] - 1
    L = A.shape[1]
    for j in range(n):
        k0 = colptr[j]
        k1 = colptr[j + 1]
        for l in range(L):
            bound[l] = np.inf
        for kk in range(k0, k1):
            i = rowidx[kk]
            if uni[kk]:
                a = A1[kk]
                tg = TG1[kk]
                for l in range(L):
                    s_k = S[kk, l]
                    o = a * dold[j, l] + (tg - s_k) * inv_tau[l]
                    z = (0.0 if o < 0.0 else o) * rho_int[i, l]
                    use = a * x[j, l]
                    lim = s_k + z - tg
                    lim = s_k if lim < s_k else lim
                    use = lim if use > lim else use
                    S[kk, l] = s_k + z - use
                if with_gap:
                    for l in range(L):
                        sgap[l] += abs(S[kk, l] - tg)
                if next_day:
                    for l in range(L):
                        o = a * dprev[j, l] + (tg - S[kk, l]) * inv_tau[l]
                        Duse[i, l] += 0.0 if o < 0.0 else o
                    ind = IND1[kk]
                    tha = THA1[kk]
                    if ind != np.inf or tha != 0.0:
                        for l in range(L):
                            b = ind + tha * S[kk, l]
                            bound[l] = b if b < bound[l] else bound[l]
                continue
            for l in range(L):
                s_k = S[kk, l]
                tg = TG[kk, l]
                a = A[kk, l]
                z = O[kk, l] * rho_int[i, l]
                use = a * x[j, l]
                lim = s_k + z - tg
                lim = s_k if lim < s_k else lim
                use = lim if use > lim else use
                S[kk, l] = s_k + z - use
            if with_gap:
                for l in range(L):
                    sgap[l] += abs(S[kk, l] - TG[kk, l])
            if next_day:
                for l in range(L):
                    o = A[kk, l] * dprev[j, l] + (TG[kk, l] - S[kk, l]) * inv_tau[l]
                    O[kk, l] = 0.0 if o < 0.0 else o
                for l in range(L):
                    Duse[i, l] += O[kk, l]
                for l in range(L):
                    b = IND[kk, l] + THA[kk, l] * S[kk, l]
                    bound[l] = b if b < bound[l] else bound[l]
        if next_day:
            if ces_on:
                for l in range(L):
                    bound[l] = _bound_with_ces_lane(k0, k1, rowidx, S, A, IND, THA, TH, sigma,
                                                    x0[j, l], l)
            for l in range(L):
                xinp[j, l] = bound[l]


@njit
def run_block(colptr, rowidx, sigma, sp_pos, sp_idx, cap_idx, dem_idx, ration_mode,
              A, tgt, theta, x0, f0, e0, mu, c,
              inv_tau, alpha_max, alpha_tau, impcap, stock0, relmax, capfac, demfac, exfac,
              gdp_loss, gdp_gain, out_cum, out_dem, rec_x, rec_gap, status, info,
              cycle_max, skipped):
    """Run one block of ``L = A.shape[1]`` lanes over ``gdp_loss.shape[0]`` days.

    The arrays are one block's slices of :class:`LaneTable`, :class:`LaneScenario` and
    :class:`LaneOutput` (no block axis).  Each lane repeats
    :func:`~simcore.dynamic._kernels.run_one`'s operations in its order.  ``rec_gap`` of
    ``T`` rows records every day's output and stock gaps, as ``run_one``; of one row, the
    last day's only, so that no other day sums the stock gap over the cells (the fused
    kernel's rule, :func:`simcore.dynamic._fused.run_fused`): the same bits otherwise.

    ``cycle_max > 0``: days on which the whole block repeats a cycle of period at most
    ``cycle_max`` (every lane's state the same bits as ``p`` days before; the lanes' own
    periods divide ``p``) are copied, not computed (:mod:`simcore.dynamic._cycles`; the
    same bits); ``skipped[0]`` is set to the number of days copied.  ``0``: every day
    computed.
    """
    nnz = A.shape[0]
    L = A.shape[1]
    n = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    C = cap_idx.shape[0]
    D = dem_idx.shape[0]
    rec_x_on = rec_x.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    gap_rows = rec_gap.shape[0]
    dem_on = out_dem.shape[0] > 0

    S = np.empty((nnz, L))
    O = np.empty((nnz, L))
    TG = np.empty((nnz, L))
    IND = np.empty((nnz, L))
    THA = np.empty((nnz, L))
    TH = np.empty((nnz, L))
    Duse = np.empty((n, L))
    xinp = np.empty((n, L))
    d = np.empty((n, L))
    dprev = np.empty((n, L))
    dold = np.empty((n, L))
    x = np.empty((n, L))
    alpha = np.empty((n, L))
    cap = np.empty((n, L))
    fd = np.empty((n, L))
    ex = np.empty((n, L))
    rho_int = np.empty((n, L))
    stockpile = np.empty((K, L))
    impavail = np.empty((K, L))
    bound = np.empty(L)
    gl = np.empty(L)
    gn = np.empty(L)
    xgap = np.empty(L)
    sgap = np.empty(L)
    live = np.ones(L, dtype=np.bool_)
    oc_saved = np.zeros((n, L))
    od_saved = np.zeros((out_dem.shape[0], L))

    ces_on = False
    for i in range(n):
        if sigma[i] > 0.0:
            ces_on = True
    for j in range(n):
        for kk in range(colptr[j], colptr[j + 1]):
            for l in range(L):
                tg = tgt[kk, l]
                th = theta[kk, l]
                TG[kk, l] = tg
                TH[kk, l] = th
                S[kk, l] = tg
                if th > 0.0:
                    IND[kk, l] = (1.0 - th) * x0[j, l]
                    THA[kk, l] = th / A[kk, l]
                else:
                    IND[kk, l] = np.inf
                    THA[kk, l] = 0.0
        for l in range(L):
            dprev[j, l] = x0[j, l]
            alpha[j, l] = 1.0
            out_cum[j, l] = 0.0
            if dem_on:
                out_dem[j, l] = 0.0
    for k in range(K):
        for l in range(L):
            stockpile[k, l] = stock0[k, l]
    inv_sum_x0 = np.zeros(L)
    inv_sum_tg = np.zeros(L)
    for l in range(L):
        sx = 0.0
        for j in range(n):
            sx += x0[j, l]
        st = 0.0
        for kk in range(nnz):
            st += TG[kk, l]
        inv_sum_x0[l] = 1.0 / sx if sx > 0.0 else 0.0
        inv_sum_tg[l] = 1.0 / st if st > 0.0 else 0.0
    for l in range(L):
        status[l] = STATUS_OK
        info[l] = -1
    uni = np.empty(nnz, dtype=np.bool_)
    A1 = np.empty(nnz)
    TG1 = np.empty(nnz)
    IND1 = np.empty(nnz)
    THA1 = np.empty(nnz)
    _uniform_cells(A, TG, IND, THA, uni, A1, TG1, IND1, THA1)

    # pass 1 of day 0 (later days' pass 1 runs fused with the previous day's pass 2)
    for j in range(n):
        for l in range(L):
            Duse[j, l] = 0.0
    _pass1(ces_on, colptr, rowidx, sigma, A, TG, IND, THA, TH, S, O, dprev, x0, inv_tau,
           Duse, xinp, bound)

    # repeating cycles (simcore.dynamic._cycles), over the whole block: the output ring, the
    # trigger's counts, the state's copy (stocks, orders, use vector, input bound, both
    # days' demand, overproduction, stockpiles)
    P, xh, dh, match, cs, snap = search_arrays(cycle_max, n * L, (2 * nnz + 6 * n + K) * L,
                                               skipped)
    none = np.empty((0, 0))  # records the lanes do not keep

    t = 0
    while t < T:
        if P > 0:
            start_day(t, cs, capfac, demfac, exfac, impcap, C, D, K)
        # --- capacity and exogenous final demand of the day
        for j in range(n):
            for l in range(L):
                cap[j, l] = x0[j, l] * alpha[j, l]
                fd[j, l] = f0[j, l]
                ex[j, l] = e0[j, l]
        for q in range(C):
            i = cap_idx[q]
            for l in range(L):
                cap[i, l] *= capfac[t, q, l]
        for q in range(D):
            i = dem_idx[q]
            for l in range(L):
                fd[i, l] *= demfac[t, q, l]
                ex[i, l] *= exfac[t, q, l]

        # --- demand addressed to domestic producers; production
        for i in range(n):
            for l in range(L):
                use = Duse[i, l] + fd[i, l]
                di = (1.0 - mu[i, l]) * use + ex[i, l]
                d[i, l] = di
                xi = cap[i, l]
                if xinp[i, l] < xi:
                    xi = xinp[i, l]
                if di < xi:
                    xi = di
                if xi < 0.0:
                    xi = 0.0
                x[i, l] = xi

        # --- import supply of special products: schedule plus stockpile release
        for k in range(K):
            i = sp_idx[k]
            for l in range(L):
                dm = mu[i, l] * (Duse[i, l] + fd[i, l])
                avail = impcap[t, k, l]
                short = dm - avail
                if short > 0.0 and stockpile[k, l] > 0.0:
                    rel = short
                    if rel > relmax[k, l]:
                        rel = relmax[k, l]
                    if rel > stockpile[k, l]:
                        rel = stockpile[k, l]
                    avail += rel
                    stockpile[k, l] -= rel
                impavail[k, l] = avail

        # --- rationing, losses and gains
        for l in range(L):
            gl[l] = 0.0
            gn[l] = 0.0
            xgap[l] = 0.0
        for i in range(n):
            p = sp_pos[i]
            for l in range(L):
                m = mu[i, l]
                dint = Duse[i, l]
                rd_i, rd_f = _ratios(x[i, l], (1.0 - m) * dint, (1.0 - m) * fd[i, l] + ex[i, l],
                                     ration_mode)
                if p >= 0:
                    rm_i, rm_f = _ratios(impavail[p, l], m * dint, m * fd[i, l], ration_mode)
                else:
                    rm_i = 1.0
                rho_int[i, l] = 1.0 - (1.0 - m) * (1.0 - rd_i) - m * (1.0 - rm_i)
                dx = x0[i, l] - x[i, l]
                gl[l] += c[i, l] * dx
                if dx < 0.0:
                    gn[l] -= c[i, l] * dx
                    xgap[l] -= dx
                else:
                    xgap[l] += dx
                out_cum[i, l] += dx
                if dem_on and dx > 0.0:
                    dd = x0[i, l] - d[i, l]
                    if dd > dx:
                        dd = dx
                    if dd > 0.0:
                        out_dem[i, l] += dd
                if rec_x_on:
                    rec_x[t, i, l] = x[i, l]
        for l in range(L):
            gdp_loss[t, l] = gl[l]
            gdp_gain[t, l] = gn[l]

        # --- overproduction (optional, ARIO-style) and demand memory
        for j in range(n):
            for l in range(L):
                if alpha_max[l] > 1.0:
                    dj = d[j, l]
                    zeta = (dj - x[j, l]) / dj if dj > 0.0 else 0.0
                    if zeta > 0.0:
                        alpha[j, l] += (alpha_max[l] - alpha[j, l]) * zeta / alpha_tau[l]
                    else:
                        alpha[j, l] += (1.0 - alpha[j, l]) / alpha_tau[l]
                    if alpha[j, l] < 1.0:
                        alpha[j, l] = 1.0
                dold[j, l] = dprev[j, l]
                dprev[j, l] = d[j, l]

        # --- pass 2 of this day fused with pass 1 of the next (one sweep over the cells;
        #     each lane's arithmetic is run_one's, in its order: see _pass2_pass1)
        for l in range(L):
            sgap[l] = 0.0
        for i in range(n):
            for l in range(L):
                Duse[i, l] = 0.0
        gap_today = gap_rows == T or (gap_on and t == T - 1)
        _pass2_pass1(t + 1 < T, ces_on, colptr, rowidx, sigma, A, TG, IND, THA, TH, S, O,
                     x, dprev, rho_int, x0, inv_tau, Duse, xinp, bound, gap_today, sgap,
                     uni, A1, TG1, IND1, THA1, dold)
        if gap_today:
            r = t if gap_rows == T else 0
            for l in range(L):
                rec_gap[r, 0, l] = xgap[l] * inv_sum_x0[l]
                rec_gap[r, 1, l] = sgap[l] * inv_sum_tg[l]

        # --- a lane whose loss is not finite stops here, as run_one returns
        alive = 0
        for l in range(L):
            if live[l]:
                if not math.isfinite(gl[l]):
                    live[l] = False
                    status[l] = STATUS_NON_FINITE
                    info[l] = t
                    for j in range(n):
                        oc_saved[j, l] = out_cum[j, l]
                    for j in range(od_saved.shape[0]):
                        od_saved[j, l] = out_dem[j, l]
                else:
                    alive += 1
        if alive == 0:
            break

        if P > 0:
            act = after_day(t, x, d, gdp_loss, xh, dh, match, cs)
            if act != NOTHING:
                m = act_on(act, t, T, x0, xh, dh, match, cs, snap,
                           S, O, Duse, xinp, dprev, dold, alpha, d, stockpile,
                           capfac, demfac, exfac, impcap, C, D, K, out_cum, out_dem,
                           dem_on, gdp_loss, gdp_gain, rec_x, rec_gap, none, none, none)
                skipped[0] += m
                t += m
        t += 1

    for l in range(L):
        if live[l]:
            for j in range(n):
                if x[j, l] < 0.0:
                    status[l] = STATUS_NEGATIVE_OUTPUT
                    break
        else:
            # what run_one leaves: nothing recorded after the failing day
            t0 = info[l] + 1
            for j in range(n):
                out_cum[j, l] = oc_saved[j, l]
            for j in range(od_saved.shape[0]):
                out_dem[j, l] = od_saved[j, l]
            for t in range(t0, T):
                gdp_loss[t, l] = 0.0
                gdp_gain[t, l] = 0.0
                if gap_rows == T or (gap_on and t == T - 1):
                    r = t if gap_rows == T else 0
                    rec_gap[r, 0, l] = 0.0
                    rec_gap[r, 1, l] = 0.0
                if rec_x_on:
                    for j in range(n):
                        rec_x[t, j, l] = 0.0
