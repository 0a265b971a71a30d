"""A single run of the supply-chain engine in a layout that vectorises: dense rows.

:func:`simcore.dynamic._kernels.run_one` stores the cells by buyer column (CSC): the orders
are scattered into the use vector (``Duse[rowidx[k]] += o``) and the input bound is a
running minimum along the column, two dependency chains that keep the day scalar.  Here
every per-cell array is a dense ``(n, n)`` matrix stored by *product row* ``i`` (cells
without a baseline flow hold zeros: they order nothing, deliver nothing and never bind):

* the use of product ``i`` is a row sum, taken with :data:`ACC` fixed-order partial sums
  (lane ``q`` sums the columns ``j = q (mod ACC)`` in increasing ``j``; the partial sums
  are then added in a fixed tree), so it vectorises and is the same from run to run;
* the input bound of every buyer is an elementwise minimum over the rows,
  ``bound[:] = min(bound[:], IND[i, :] + THA[i, :] * S[i, :])``;
* the stock update of pass 2 is elementwise along the row.

The day's other steps (production, imports, rationing, overproduction) are those of
``run_one``, in its order.  Only the summation order of the use vector and of the two
recovery gaps differs from ``run_one``, so results agree with it and with the numpy
oracle to round-off (the tests hold them within 1e-12 relative) and are deterministic.

Scope: no CES inputs (``sigma > 0`` needs the per-column exact ratio; callers use
``run_one`` then), no daily records other than output and the two gaps.  The dense layout
pays for the cells without flow: it suits tables whose coefficient matrix is dense (Japan's
187-sector table is 43 % dense) and small enough that ``6 n^2`` doubles fit in cache.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import STATUS_NEGATIVE_OUTPUT, STATUS_NON_FINITE, STATUS_OK, njit
from ._kernels import _ratios
from ..errors import ParameterError
from . import _kernels as kn

#: Partial sums of a row (the vector width of the row sums).
ACC = 4


@njit
def _rowsum(v, n):
    """Sum of ``v[:n]`` with ACC fixed-order partial sums (vectorisable, deterministic)."""
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    m = n - n % 4
    for j in range(0, m, 4):
        a0 += v[j]
        a1 += v[j + 1]
        a2 += v[j + 2]
        a3 += v[j + 3]
    for j in range(m, n):
        a0 += v[j]
    return (a0 + a1) + (a2 + a3)


@njit
def run_rows(A, TG, TH, x0, f0, e0, mu, c, inv_tau,
             sp_pos, sp_idx, impcap, stock0, relmax,
             cap_idx, capfac, dem_idx, demfac, exfac,
             ration_mode, alpha_max, alpha_tau,
             gdp_loss, gdp_gain, out_cum, rec_x, rec_gap, info):
    """Run one scenario over ``gdp_loss.shape[0]`` days on dense rows; return a status.

    ``A``, ``TG`` (inventory targets, special rows' overrides merged in) and ``TH``
    (dependency shares, likewise) are ``(n, n)`` by product row and buyer column, zero where
    there is no baseline flow.  The other arguments and outputs are ``run_one``'s
    (``rec_x`` and ``rec_gap`` with a leading size of 0 are not written).
    """
    n = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    C = cap_idx.shape[0]
    D = dem_idx.shape[0]
    rec_x_on = rec_x.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    overprod = alpha_max > 1.0

    S = np.empty((n, n))
    O = np.empty((n, n))
    IND = np.empty((n, n))
    THA = np.empty((n, n))
    tmp = np.empty(n)
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
    for j in range(n):
        dprev[j] = x0[j]
        alpha[j] = 1.0
        out_cum[j] = 0.0
    for k in range(K):
        stockpile[k] = stock0[k]
    sum_x0 = _rowsum(x0, n)
    sum_tg = 0.0
    for i in range(n):
        sum_tg += _rowsum(TG[i], n)
    inv_sum_x0 = 1.0 / sum_x0 if sum_x0 > 0.0 else 0.0
    inv_sum_tg = 1.0 / sum_tg if sum_tg > 0.0 else 0.0

    for t in range(T):
        for j in range(n):
            cap[j] = x0[j] * alpha[j]
            fd[j] = f0[j]
            ex[j] = e0[j]
            bound[j] = np.inf
        for q in range(C):
            cap[cap_idx[q]] *= capfac[t, q]
        for q in range(D):
            fd[dem_idx[q]] *= demfac[t, q]
            ex[dem_idx[q]] *= exfac[t, q]

        # --- pass 1 by rows: orders (a row sum: the use of product i) and the bound (an
        #     elementwise minimum over the rows)
        for i in range(n):
            Ai = A[i]
            Si = S[i]
            TGi = TG[i]
            Oi = O[i]
            for j in range(n):
                o = Ai[j] * dprev[j] + (TGi[j] - Si[j]) * inv_tau
                Oi[j] = 0.0 if o < 0.0 else o
            Duse[i] = _rowsum(Oi, n)
            INDi = IND[i]
            THAi = THA[i]
            for j in range(n):
                b = INDi[j] + THAi[j] * Si[j]
                bound[j] = b if b < bound[j] else bound[j]

        # --- production (run_one's order)
        for i in range(n):
            use = Duse[i] + fd[i]
            d[i] = (1.0 - mu[i]) * use + ex[i]
            xi = cap[i]
            if bound[i] < xi:
                xi = bound[i]
            if d[i] < xi:
                xi = d[i]
            if xi < 0.0:
                xi = 0.0
            x[i] = xi

        for k in range(K):
            i = sp_idx[k]
            dm = mu[i] * (Duse[i] + fd[i])
            avail = impcap[t, k]
            short = dm - avail
            if short > 0.0 and stockpile[k] > 0.0:
                rel = short
                if rel > relmax[k]:
                    rel = relmax[k]
                if rel > stockpile[k]:
                    rel = stockpile[k]
                avail += rel
                stockpile[k] -= rel
            impavail[k] = avail

        gl = 0.0
        gn = 0.0
        xgap = 0.0
        for i in range(n):
            m = mu[i]
            dint = Duse[i]
            rd_i, rd_f = _ratios(x[i], (1.0 - m) * dint, (1.0 - m) * fd[i] + ex[i], ration_mode)
            p = sp_pos[i]
            if p >= 0:
                rm_i, rm_f = _ratios(impavail[p], m * dint, m * fd[i], ration_mode)
            else:
                rm_i = 1.0
            rho_int[i] = 1.0 - (1.0 - m) * (1.0 - rd_i) - m * (1.0 - rm_i)
            dx = x0[i] - x[i]
            gl += c[i] * dx
            if dx < 0.0:
                gn -= c[i] * dx
                xgap -= dx
            else:
                xgap += dx
            out_cum[i] += dx
            if rec_x_on:
                rec_x[t, i] = x[i]
        gdp_loss[t] = gl
        gdp_gain[t] = gn

        # --- pass 2 by rows: deliveries and stock update (run_one's rule, elementwise)
        sgap = 0.0
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
                Si[j] = s_k + z - use
            for j in range(n):
                tmp[j] = abs(Si[j] - TGi[j])
            sgap += _rowsum(tmp, n)
        if gap_on:
            rec_gap[t, 0] = xgap * inv_sum_x0
            rec_gap[t, 1] = sgap * inv_sum_tg

        for j in range(n):
            if overprod:
                dj = d[j]
                zeta = (dj - x[j]) / dj if dj > 0.0 else 0.0
                if zeta > 0.0:
                    alpha[j] += (alpha_max - alpha[j]) * zeta / alpha_tau
                else:
                    alpha[j] += (1.0 - alpha[j]) / alpha_tau
                if alpha[j] < 1.0:
                    alpha[j] = 1.0
            dprev[j] = d[j]

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE
    info[0] = -1
    for j in range(n):
        if x[j] < 0.0:
            return STATUS_NEGATIVE_OUTPUT
    return STATUS_OK


def dense_rows(low, params):
    """The dense-row inputs of :func:`run_rows` from a lowered run
    (:class:`simcore.dynamic.model.Lowered`): ``(A, TG, TH)`` with the special rows'
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


def run_lowered_rows(low, params, T: int, *, record_output: bool = False) -> dict:
    """Run a lowered scenario with :func:`run_rows`; bare arrays (``gdp_loss``,
    ``gdp_gain``, ``out_cum``, ``gap``, ``status``, ``info`` and optionally ``output``).
    Refuses CES inputs (see the module docstring)."""

    if np.any(low.sigma > 0):
        raise ParameterError("run_rows: inputs with an elasticity (sigma > 0) need the "
                             "per-column CES bound; use simcore.simulate")
    p2 = low.prep
    n = p2.n
    A, TG, TH = dense_rows(low, params)
    gl, gg, oc = np.zeros(T), np.zeros(T), np.zeros(n)
    rx = np.zeros((T if record_output else 0, n))
    gap, info = np.zeros((T, 2)), np.zeros(1, dtype=np.int64)
    st = run_rows(A, TG, TH, p2.x0, p2.f0, p2.e0, p2.mu, p2.c, 1.0 / params.inventory_tau,
                  low.sp_pos, low.sp_idx, low.impcap, low.stock0, low.relmax,
                  low.cap_idx, low.capfac, low.dem_idx, low.demfac, low.exfac,
                  kn.RATION_FIRMS_FIRST if params.rationing == "firms_first"
                  else kn.RATION_PROPORTIONAL, float(params.alpha_max),
                  float(params.alpha_tau), gl, gg, oc, rx, gap, info)
    out = {"gdp_loss": gl, "gdp_gain": gg, "out_cum": oc, "gap": gap, "status": int(st),
           "info": int(info[0])}
    if record_output:
        out["output"] = rx
    return out
