"""Numba kernels of the ARIO engine (BoARIO 0.6.3 ``ARIOPsiModel`` semantics, fused for speed).

Bare arrays in, caller-allocated outputs, an integer status back (codes of
:mod:`simcore._jit`); nothing is raised, logged, printed or allocated inside the time loop.
The equations are those of MODELS.md §2.4 (checked against BoARIO's source);
:mod:`simcore.dynamic._ario_reference` is a literal numpy transcription of BoARIO used as
the test oracle.

Layout and notation
-------------------
Industries ``i = r * n + k`` (region-major, ``R`` regions, ``n`` products, ``p = R n``).
Arrays indexed ``[k, f]`` are ``n x p`` (product x buying industry): the technical
coefficients aggregated by product ``aS`` (BoARIO ``tech_mat``), the stocks ``stock``
(``inputs_stock``) and the order *intensities* ``U``.  ``Zsh`` (``p x p``, supplier x buyer)
is BoARIO's ``Z_distrib``: the share of supplier region ``r`` in buyer ``f``'s baseline
purchases of product ``k``.

Restructuring (same arithmetic as BoARIO up to round-off)
---------------------------------------------------------
* **Orders are never stored as a p x p matrix.**  BoARIO's orders are
  ``O[(r,k), f] = T[k, f] * w[(r,k), f]`` with ``T`` the total order of product ``k`` by
  ``f`` and ``w`` the supplier weights: ``Zsh`` for ``noalt``; for ``alt`` (Guan et al. 2020)
  ``Zsh * phi / den`` with ``phi = capacity / X0`` per supplier and
  ``den[k, f] = sum_r Zsh[(r,k), f] phi[(r,k)]`` (MODELS.md Q7).  The kernel stores
  ``U = T / den`` (``n x p``; ``U = T`` for ``noalt``) and rebuilds every use of ``O`` from
  ``Zsh`` on the fly: deliveries into stock ``sum_r O[(r,k),f] x[(r,k)]/D[(r,k)]`` become
  ``U[k,f] * sum_r Zsh[(r,k),f] phi_old[(r,k)] ratio[(r,k)]``, and orders received
  ``D_int[i] = phi[i] * sum_f Zsh[i,f] U[k,f]``.  For one region the weights are 0/1, so
  ``U`` *is* the order matrix and ``Zsh`` is not read at all.
* **Stock-limited output without dividing by the constraint.**  BoARIO's
  ``x = xopt * min_k min(1, stock / (psi s_k aS xopt))`` equals
  ``min(xopt, h)`` with ``h[f] = min_k stock[k,f] / (psi s_k aS[k,f])`` over active inputs
  (mask ``M``, finite ``s_k``); ``h`` depends on the stock only, so it is computed while
  the stock is written, one step ahead, with the precomputed ``inva = 1/aS`` (``inf`` where
  the input is inactive).
* **One fused pass per day.**  Distribution, stock update, inventory gap, orders, the next
  ``h`` and the next orders received are computed in a single sweep over the ``n x p``
  arrays (plus one read of ``Zsh`` for multi-regional tables).  BoARIO's two
  ``np.allclose`` tests (stock update skipped when deliveries match use; gap zeroed when
  stocks match their goal; quirk Q5) are global, so the sweep *predicts* both outcomes
  (yesterday's), computes the actual ones as it goes, and is repeated once, reading the
  untouched previous state from double buffers, when the prediction was wrong (rare:
  only when the economy enters or leaves the steady state).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import (
    STATUS_NEGATIVE_OUTPUT,
    STATUS_NEGATIVE_STOCK,
    STATUS_NON_FINITE,
    STATUS_OK,
    njit,
    njit_parallel,
)

# Rows of the per-industry work array ``vec`` (NVEC x p).
V_XA = 0      # realised production x^a(t)
V_D = 1       # total demand D(t) (orders received + final demand)
V_DINT = 2    # orders received at the start of day t: sum_f O(t-1)
V_ALPHA = 3   # overproduction factor alpha(t)
V_CAP = 4     # production capacity
V_XOPT = 5    # demand-limited optimum min(D, cap)
V_PHI = 6     # supplier capacity ratio used by O(t-1) (alt)
V_PHN = 7     # supplier capacity ratio of today's orders O(t) (alt)
V_H = 8       # stock-limited output from today's stocks
V_Q = 9       # delivery ratio x/D times phi (alt, R > 1)
V_YT = 10     # final demand of the day
V_DLT = 11    # capacity lost today
V_ACC = 12    # scratch: sum_r Zsh q  (per buyer)
V_DEN = 13    # scratch: sum_r Zsh phi_new (per buyer)
V_HN = 14     # stock-limited output from tomorrow's stocks
V_UNMET = 15  # final demand not met
V_RATIO = 16  # x/D
V_DNX = 17    # orders received tomorrow
V_E1 = 18     # allclose(add, use) excess accumulator
V_E2O = 19    # allclose(stock_old, goal) excess accumulator
V_E2N = 20    # allclose(stock_new, goal) excess accumulator
V_NEG = 21    # min stock accumulator
NVEC = 22

# Record codes (the ``slot_*`` arrays map a code to an output slot, -1 = not recorded).
REC_PRODUCTION = 0
REC_CAPACITY = 1
REC_FD_UNMET = 2
REC_DEMAND = 3
REC_OVERPRODUCTION = 4
REC_ORDERS_RECEIVED = 5
REC_VALUE_ADDED = 6
NREC = 7

#: ``np.allclose`` defaults used by BoARIO's skips (quirk Q5).
RTOL = 1e-5
ATOL = 1e-8


@njit
def _rowdot(a: np.ndarray, b: np.ndarray) -> float:
    """``sum(a * b)`` with four interleaved partial sums (fixed order, so reproducible)."""
    m = a.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    j = 0
    while j + 4 <= m:
        s0 += a[j] * b[j]
        s1 += a[j + 1] * b[j + 1]
        s2 += a[j + 2] * b[j + 2]
        s3 += a[j + 3] * b[j + 3]
        j += 4
    while j < m:
        s0 += a[j] * b[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@njit
def _rowsum(a: np.ndarray) -> float:
    """``sum(a)`` with four interleaved partial sums (fixed order, so reproducible)."""
    m = a.shape[0]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    j = 0
    while j + 4 <= m:
        s0 += a[j]
        s1 += a[j + 1]
        s2 += a[j + 2]
        s3 += a[j + 3]
        j += 4
    while j < m:
        s0 += a[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@njit
def _vmax(a: np.ndarray) -> float:
    m = -np.inf
    for j in range(a.shape[0]):
        if a[j] > m:
            m = a[j]
    return m


@njit
def _copy2(src: np.ndarray, dst: np.ndarray) -> None:
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit
def _pass(
    R: int, n: int, aS: np.ndarray, inva: np.ndarray, Zsh: np.ndarray,
    alt: bool, compat: bool, s: np.ndarray, rtau: np.ndarray, ips: np.ndarray,
    stock: np.ndarray, stock_out: np.ndarray, U: np.ndarray, U_out: np.ndarray,
    vec: np.ndarray, pc1: bool, pc2: bool,
) -> None:
    """The fused sweep: deliveries, stock update, gap, orders, next ``h`` and orders received.

    ``pc1``/``pc2`` are the assumed outcomes of BoARIO's two ``allclose`` tests; the actual
    outcomes are left in the excess accumulators ``V_E1``, ``V_E2O``, ``V_E2N`` (an entry
    ``<= 0`` everywhere means "close").
    """
    p = aS.shape[1]
    xa = vec[V_XA]
    xopt = vec[V_XOPT]
    q = vec[V_Q]
    ratio = vec[V_RATIO]
    phn = vec[V_PHN]
    acc = vec[V_ACC]
    den = vec[V_DEN]
    hn = vec[V_HN]
    dnx = vec[V_DNX]
    e1 = vec[V_E1]
    e2o = vec[V_E2O]
    e2n = vec[V_E2N]
    neg = vec[V_NEG]
    for f in range(p):
        hn[f] = np.inf
        e1[f] = -np.inf
        e2o[f] = -np.inf
        e2n[f] = -np.inf
        neg[f] = 0.0
    for k in range(n):
        a_k = aS[k]
        st_k = stock[k]
        so_k = stock_out[k]
        u_k = U[k]
        uo_k = U_out[k]
        sk = s[k]
        rt = 0.0 if pc2 else rtau[k]
        # deliveries per unit of order intensity: acc[f] = sum_r Zsh[(r,k), f] q[(r,k)]
        if R == 1:
            rk = ratio[k]
            for f in range(p):
                acc[f] = rk
        else:
            for f in range(p):
                acc[f] = 0.0
                den[f] = 0.0
            for r in range(R):
                i = r * n + k
                zi = Zsh[i]
                qi = q[i]
                if alt:
                    pi = phn[i]
                    for f in range(p):
                        z = zi[f]
                        acc[f] += z * qi
                        den[f] += z * pi
                else:
                    for f in range(p):
                        acc[f] += zi[f] * qi
        if math.isfinite(sk):
            ipk = ips[k]
            inv_k = inva[k]
            for f in range(p):
                a = a_k[f]
                use = xa[f] * a
                add = u_k[f] * acc[f]
                d1 = abs(add - use) - (ATOL + RTOL * abs(use))
                if d1 > e1[f]:
                    e1[f] = d1
                om = st_k[f]
                on = om - use + add
                goal = (xopt[f] * a) * sk
                d2o = abs(om - goal) - (ATOL + RTOL * abs(goal))
                if d2o > e2o[f]:
                    e2o[f] = d2o
                d2n = abs(on - goal) - (ATOL + RTOL * abs(goal))
                if d2n > e2n[f]:
                    e2n[f] = d2n
                oc = om if pc1 else on
                if not oc >= neg[f]:
                    neg[f] = oc
                so_k[f] = oc
                g = goal - oc
                g = g if g > 0.0 else 0.0
                tot = rt * g + use
                uo_k[f] = tot
                v = oc * inv_k[f] * ipk
                if v < hn[f]:
                    hn[f] = v
        else:
            # never-binding input (infinite inventory): stock stays inf, no gap; BoARIO's
            # goal there is (xopt aS) * inf, i.e. nan where xopt aS == 0, which is never
            # "close" to the infinite stock.
            for f in range(p):
                a = a_k[f]
                use = xa[f] * a
                add = u_k[f] * acc[f]
                d1 = abs(add - use) - (ATOL + RTOL * abs(use))
                if d1 > e1[f]:
                    e1[f] = d1
                so_k[f] = st_k[f]
                uo_k[f] = use
                if xopt[f] * a == 0.0:
                    e2o[f] = np.inf
                    e2n[f] = np.inf
        # orders: U = T / den (alt), T (noalt); one region: T, zero towards a supplier
        # that lost all capacity under alt
        if R == 1:
            if alt and phn[k] == 0.0:
                for f in range(p):
                    uo_k[f] = 0.0
            dnx[k] = _rowsum(uo_k)
        else:
            if alt:
                for f in range(p):
                    dn = den[f]
                    uo_k[f] = uo_k[f] / dn if dn != 0.0 else 0.0
            for r in range(R):
                i = r * n + k
                sm = _rowdot(Zsh[i], uo_k)
                dnx[i] = phn[i] * sm if alt else sm
    if not compat:
        for f in range(p):
            e1[f] = np.inf


@njit
def _ario_step(
    t: int, R: int, n: int, X0: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zsh: np.ndarray, alt: bool, compat: bool, alpha_base: float, alpha_max: float,
    alpha_rate: float, s: np.ndarray, rtau: np.ndarray, ips: np.ndarray,
    stock: np.ndarray, stock_out: np.ndarray, U: np.ndarray, U_out: np.ndarray,
    vec: np.ndarray, flags: np.ndarray,
) -> int:
    """Advance one day.

    On entry ``vec`` holds yesterday's state (``V_XA``, ``V_ALPHA``, ``V_DNX``, ``V_HN``,
    ``V_PHN``) and today's forcing (``V_YT`` final demand, ``V_DLT`` capacity lost);
    ``stock`` and ``U`` hold today's stocks and yesterday's order intensities.  On exit
    ``stock_out`` and ``U_out`` hold tomorrow's (the caller swaps the buffers) and ``vec``
    today's records.  ``flags`` carries the predicted outcomes of BoARIO's two ``allclose``
    tests (1 = close) from one day to the next, and counts the repeated sweeps in
    ``flags[2]``.
    """
    p = X0.shape[0]
    xa = vec[V_XA]
    D = vec[V_D]
    dint = vec[V_DINT]
    alpha = vec[V_ALPHA]
    cap = vec[V_CAP]
    xopt = vec[V_XOPT]
    phi = vec[V_PHI]
    phn = vec[V_PHN]
    h = vec[V_H]
    q = vec[V_Q]
    yt = vec[V_YT]
    dlt = vec[V_DLT]
    unmet = vec[V_UNMET]
    ratio = vec[V_RATIO]
    dnx = vec[V_DNX]
    hn = vec[V_HN]
    status = STATUS_OK
    for i in range(p):
        dint[i] = dnx[i]
        h[i] = hn[i]
        phi[i] = phn[i]
        D[i] = dint[i] + yt[i]
    # 1. overproduction (BoARIO: only once current_temporal_unit > 1)
    if t > 1:
        for i in range(p):
            Di = D[i]
            z = (Di - xa[i]) / Di if Di != 0.0 else 0.0
            if z != z:
                z = 0.0
            a = alpha[i]
            if compat:
                # BoARIO: both terms, reset only when scarcity is exactly 0 (quirk Q2)
                z0 = 1.0 if z == 0.0 else 0.0
                a = a + (((alpha_max - a) * z * alpha_rate)
                         + ((alpha_base - a) * z0 * alpha_rate))
            elif z > 0.0:
                a = a + (alpha_max - a) * z * alpha_rate
            else:
                a = a + (alpha_base - a) * alpha_rate
            alpha[i] = a if a >= 1.0 else 1.0
    # 2.-5. capacity (from X0, Q3), demand-limited optimum, stock-limited production
    for i in range(p):
        c = X0[i] * (1.0 - dlt[i]) * alpha[i]
        if c < 0.0:
            status = STATUS_NEGATIVE_OUTPUT
        cap[i] = c
        Di = D[i]
        xo = Di if Di < c else c
        xopt[i] = xo
        x = xo if xo < h[i] else h[i]
        xa[i] = x
        rr = x / Di if Di != 0.0 else 0.0
        ratio[i] = rr
        y = yt[i]
        unmet[i] = y - (y / Di) * x if Di != 0.0 else y
        if alt:
            phn[i] = c / X0[i] if X0[i] != 0.0 else 1.0
            q[i] = rr * phi[i]
        else:
            phn[i] = 1.0
            q[i] = rr
        if not (math.isfinite(x) and math.isfinite(Di)):
            status = STATUS_NON_FINITE
    if status != STATUS_OK:
        return status
    # 6.-9. one fused sweep, repeated once if BoARIO's allclose outcomes were mispredicted
    pc1 = compat and flags[0] != 0
    pc2 = compat and flags[1] != 0
    _pass(R, n, aS, inva, Zsh, alt, compat, s, rtau, ips, stock, stock_out, U, U_out,
          vec, pc1, pc2)
    if compat:
        c1 = _vmax(vec[V_E1]) <= 0.0
        c2 = (_vmax(vec[V_E2O]) <= 0.0) if c1 else (_vmax(vec[V_E2N]) <= 0.0)
        if c1 != pc1 or c2 != pc2:
            _pass(R, n, aS, inva, Zsh, alt, compat, s, rtau, ips, stock, stock_out, U,
                  U_out, vec, c1, c2)
            flags[2] += 1
        flags[0] = 1 if c1 else 0
        flags[1] = 1 if c2 else 0
    neg = vec[V_NEG]
    for f in range(p):
        if neg[f] != neg[f]:
            return STATUS_NON_FINITE
        if neg[f] < 0.0:
            return STATUS_NEGATIVE_STOCK
    return STATUS_OK


@njit
def _ario_init(
    R: int, n: int, X0: np.ndarray, aS: np.ndarray, inva: np.ndarray, Zsh: np.ndarray,
    Z0C: np.ndarray, dint0: np.ndarray, alt: bool, alpha_base: float, psi: float,
    s: np.ndarray, ips: np.ndarray, stock: np.ndarray, U: np.ndarray, vec: np.ndarray,
    flags: np.ndarray,
) -> None:
    """Baseline state: stocks ``(X0 aS) s``, orders ``O(-1) = Z0``, ``alpha = alpha_base``."""
    p = X0.shape[0]
    for k in range(n):
        sk = s[k]
        ips[k] = 1.0 / (psi * sk) if math.isfinite(sk) else 0.0
    for j in range(vec.shape[0]):
        for i in range(p):
            vec[j, i] = 0.0
    for i in range(p):
        vec[V_XA, i] = X0[i]
        vec[V_ALPHA, i] = alpha_base
        vec[V_PHN, i] = 1.0
        vec[V_DNX, i] = dint0[i]
        vec[V_HN, i] = np.inf
    hn = vec[V_HN]
    den = vec[V_DEN]
    for k in range(n):
        sk = s[k]
        fin = math.isfinite(sk)
        for f in range(p):
            v = X0[f] * aS[k, f]
            stock[k, f] = v * sk if fin else np.inf
        if fin:
            ipk = ips[k]
            for f in range(p):
                w = stock[k, f] * inva[k, f] * ipk
                if w < hn[f]:
                    hn[f] = w
        # order intensities reproducing O(-1) = Z0 (exactly for one region)
        if R > 1 and alt:
            for f in range(p):
                den[f] = 0.0
            for r in range(R):
                zi = Zsh[r * n + k]
                for f in range(p):
                    den[f] += zi[f]
            for f in range(p):
                U[k, f] = Z0C[k, f] / den[f] if den[f] != 0.0 else 0.0
        else:
            for f in range(p):
                U[k, f] = Z0C[k, f]
    flags[0] = 1
    flags[1] = 1
    flags[2] = 0


@njit
def _ario_run(
    R: int, n: int, X0: np.ndarray, Ysum: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zsh: np.ndarray, Z0C: np.ndarray, dint0: np.ndarray, vw: np.ndarray,
    alt: bool, compat: bool, alpha_base: float, alpha_max: float, alpha_rate: float,
    psi: float, s: np.ndarray, rtau: np.ndarray,
    delta: np.ndarray, delta_idx: np.ndarray, fdm: np.ndarray, fdm_idx: np.ndarray,
    stock: np.ndarray, stock2: np.ndarray, U: np.ndarray, U2: np.ndarray,
    vec: np.ndarray, ips: np.ndarray, flags: np.ndarray,
    slot_daily: np.ndarray, out_daily: np.ndarray,
    slot_total: np.ndarray, out_total: np.ndarray,
    slot_sum: np.ndarray, out_sum: np.ndarray,
    out_stock: np.ndarray, info: np.ndarray,
) -> int:
    """Simulate ``delta.shape[0]`` days from the baseline and write the requested records.

    Parameters (all bare arrays, float64 unless said otherwise)
    ----------------------------------------------------------
    R, n : regions and products; ``p = R n`` industries, region-major.
    X0, Ysum : baseline daily output and final demand (every rationed column summed), (p,).
    aS, inva : coefficients by product and their inverses (``inf`` = inactive input), (n, p).
    Zsh : supplier shares by product (BoARIO ``Z_distrib``), (p, p); unused when ``R == 1``.
    Z0C, dint0 : daily baseline purchases by product (n, p) and orders received (p,).
    vw : value-added coefficients (p,).
    alt, compat : order rule (``True`` = Guan et al.'s ``alt``) and BoARIO's allclose skips.
    alpha_base, alpha_max, alpha_rate : overproduction (rate = 1 / alpha_tau).
    psi, s, rtau : inventory threshold, target days per product (``inf`` allowed), 1/tau_inv.
    delta, delta_idx : capacity lost (T, m) on industries ``delta_idx`` (int64, m).
    fdm, fdm_idx : final-demand multipliers (T, mf) on industries ``fdm_idx`` (int64, mf).
    stock, stock2, U, U2 : (n, p) work buffers; vec : (NVEC, p); ips : (n,); flags : int64 (3,),
        on exit ``flags[2]`` is the number of repeated sweeps (mispredicted allclose tests).
    slot_daily/total/sum : int64 (NREC,), output slot of each record code or -1.
    out_daily : (Kd, T, p); out_total : (Kt, p) (summed over days); out_sum : (Ks, T) (summed
        over industries); out_stock : (T, n, p) stocks before production, or (0, n, p).
    info : int64 (2,): status and the day it happened (-1 if none).

    Returns
    -------
    int
        ``STATUS_OK`` or the first failure status (see :mod:`simcore._jit`).
    """
    T = delta.shape[0]
    p = X0.shape[0]
    _ario_init(R, n, X0, aS, inva, Zsh, Z0C, dint0, alt, alpha_base, psi, s, ips, stock, U,
               vec, flags)
    for kslot in range(out_total.shape[0]):
        for i in range(p):
            out_total[kslot, i] = 0.0
    yt = vec[V_YT]
    dlt = vec[V_DLT]
    for i in range(p):
        yt[i] = Ysum[i]
    info[0] = STATUS_OK
    info[1] = -1
    rec_stock = out_stock.shape[0] > 0
    sa = stock
    sb = stock2
    ua = U
    ub = U2
    for t in range(T):
        for j in range(delta_idx.shape[0]):
            dlt[delta_idx[j]] = delta[t, j]
        for j in range(fdm_idx.shape[0]):
            i = fdm_idx[j]
            yt[i] = Ysum[i] * fdm[t, j]
        if rec_stock:
            _copy2(sa, out_stock[t])
        st = _ario_step(t, R, n, X0, aS, inva, Zsh, alt, compat, alpha_base, alpha_max,
                        alpha_rate, s, rtau, ips, sa, sb, ua, ub, vec, flags)
        if st != STATUS_OK:
            info[0] = st
            info[1] = t
            return st
        sa, sb = sb, sa
        ua, ub = ub, ua
        for code in range(NREC):
            kd = slot_daily[code]
            kt = slot_total[code]
            ks = slot_sum[code]
            if kd < 0 and kt < 0 and ks < 0:
                continue
            if code == REC_PRODUCTION:
                src = vec[V_XA]
            elif code == REC_CAPACITY:
                src = vec[V_CAP]
            elif code == REC_FD_UNMET:
                src = vec[V_UNMET]
            elif code == REC_DEMAND:
                src = vec[V_D]
            elif code == REC_OVERPRODUCTION:
                src = vec[V_ALPHA]
            elif code == REC_ORDERS_RECEIVED:
                src = vec[V_DINT]
            else:
                src = vec[V_ACC]  # scratch row, free after the step
                xa = vec[V_XA]
                for i in range(p):
                    src[i] = vw[i] * xa[i]
            if kd >= 0:
                for i in range(p):
                    out_daily[kd, t, i] = src[i]
            if kt >= 0:
                for i in range(p):
                    out_total[kt, i] += src[i]
            if ks >= 0:
                acc = 0.0
                for i in range(p):
                    acc += src[i]
                out_sum[ks, t] = acc
    # leave the final state in the caller's first buffers
    if T % 2 == 1:
        _copy2(sa, stock)
        _copy2(ua, U)
    return STATUS_OK


@njit_parallel
def _ario_batch(
    R: int, n: int, X0: np.ndarray, Ysum: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zsh: np.ndarray, Z0C: np.ndarray, dint0: np.ndarray, vw: np.ndarray,
    alt: np.ndarray, compat: bool, alpha_base: np.ndarray, alpha_max: np.ndarray,
    alpha_rate: np.ndarray, psi: np.ndarray, s: np.ndarray, rtau: np.ndarray,
    delta: np.ndarray, delta_idx: np.ndarray, fdm: np.ndarray, fdm_idx: np.ndarray,
    w_stock: np.ndarray, w_stock2: np.ndarray, w_U: np.ndarray, w_U2: np.ndarray,
    w_vec: np.ndarray, w_ips: np.ndarray, w_flags: np.ndarray,
    slot_daily: np.ndarray, out_daily: np.ndarray,
    slot_total: np.ndarray, out_total: np.ndarray,
    slot_sum: np.ndarray, out_sum: np.ndarray,
    out_stock: np.ndarray, info: np.ndarray,
) -> int:
    """Run ``S`` scenarios sharing one table, in parallel.

    Scenario ``j`` uses ``alt[j]``, ``alpha_*[j]``, ``psi[j]``, ``s[j]``, ``rtau[j]``,
    ``delta[j]`` (T, m) and ``fdm[j]`` (T, mf) and writes ``out_*[j]`` and ``info[j]``.  The
    work buffers have a leading worker axis ``W``; ``prange`` runs over workers and worker
    ``w`` takes scenarios ``w, w + W, ...`` (equal-cost scenarios, static schedule), so no
    memory is allocated per scenario.  Returns the number of failed scenarios.
    """
    S = delta.shape[0]
    W = w_stock.shape[0]
    for w in prange(W):
        for j in range(w, S, W):
            _ario_run(R, n, X0, Ysum, aS, inva, Zsh, Z0C, dint0, vw,
                      alt[j] != 0, compat, alpha_base[j], alpha_max[j], alpha_rate[j],
                      psi[j], s[j], rtau[j], delta[j], delta_idx, fdm[j], fdm_idx,
                      w_stock[w], w_stock2[w], w_U[w], w_U2[w], w_vec[w], w_ips[w],
                      w_flags[w], slot_daily, out_daily[j], slot_total, out_total[j],
                      slot_sum, out_sum[j], out_stock[j], info[j])
    failed = 0
    for j in range(S):
        if info[j, 0] != STATUS_OK:
            failed += 1
    return failed
