"""Numba kernels of the ARIO engine (BoARIO 0.6.3 ``ARIOPsiModel`` semantics, fused for speed).

Bare arrays in, caller-allocated outputs, an integer status back (codes of
:mod:`simcore._jit`); nothing is raised, logged, printed or allocated inside the time loop.
The equations are those of docs/methodology.md, "The ARIO engine" (Hallegatte 2008; Guan
et al. 2020), checked against the source of BoARIO 0.6.3;
:mod:`simcore.dynamic._ario_reference` is a literal numpy transcription of BoARIO used as
the test oracle.

Layout and notation
-------------------
Industries ``i = r * n + k`` (region-major, ``R`` regions, ``n`` products, ``p = R n``).
Arrays indexed ``[k, f]`` are ``n x p`` (product x buying industry): the technical
coefficients aggregated by product ``aS`` (BoARIO ``tech_mat``), the stocks ``stock``
(``inputs_stock``) and the order *intensities* ``U``.  ``Zf`` (``p x p``, supplier x buyer)
are the table's intermediate flows themselves (a view, never copied) and ``ZC`` their sums
over supplier regions by product, so ``Zf / ZC`` is BoARIO's ``Z_distrib``.

Restructuring (same arithmetic as BoARIO up to round-off)
---------------------------------------------------------
* **Orders are never stored as a p x p matrix.**  BoARIO's orders are
  ``O[(r,k), f] = T[k, f] * w[(r,k), f]`` with ``T`` the total order of product ``k`` by
  ``f`` and ``w`` the supplier weights: ``Z_distrib`` for ``noalt``; for ``alt`` (Guan et
  al. 2020) ``Z phi / sum_r Z phi`` with ``phi = capacity / X0`` per supplier (BoARIO's
  ``alt`` weights).  The kernel keeps ``O = Zf * phi * U`` with ``U = T / den`` (``n x p``):
  ``den[k, f] = sum_r Zf[(r,k), f] phi[(r,k)]`` for ``alt``, ``ZC[k, f]`` (and
  ``phi = 1``) for ``noalt``, and rebuilds every use of ``O`` from ``Zf`` on the fly:
  deliveries into stock ``sum_r O[(r,k),f] x[(r,k)]/D[(r,k)]`` become
  ``U[k,f] * sum_r Zf[(r,k),f] phi_old[(r,k)] ratio[(r,k)]``, and orders received
  ``D_int[i] = phi[i] * sum_f Zf[i,f] U[k,f]``.  For one region the weights are 0/1, so
  ``U`` *is* the order matrix and ``Zf`` is not read at all.
* **Stock-limited output without dividing by the constraint.**  BoARIO's
  ``x = xopt * min_k min(1, stock / (psi s_k aS xopt))`` equals
  ``min(xopt, h)`` with ``h[f] = min_k stock[k,f] / (psi s_k aS[k,f])`` over active inputs
  (mask ``M``, finite ``s_k``); ``h`` depends on the stock only, so it is computed while
  the stock is written, one step ahead, with the precomputed ``inva = 1/aS`` (``inf`` where
  the input is inactive).
* **One fused, in-place sweep per day.**  Distribution, stock update, inventory gap,
  orders, the next ``h`` and the next orders received are computed in a single sweep over
  the ``n x p`` arrays (plus one read of ``Zf`` for multi-regional tables), updating the
  stocks and orders in place (no double buffers: a smaller working set).  BoARIO's two
  ``np.allclose`` tests (stock update skipped when deliveries match use; gap zeroed when
  stocks match their goal; quirk Q5) are global and must be known before anything is
  written.  A *sentinel* cell per test (where the test failed worst the day before) is
  evaluated first with the sweep's exact arithmetic: if it fails, the global test fails,
  and one sweep suffices (if only the gap test stays undecided it is guessed, and a
  cheaper orders-only sweep fixes a wrong guess).  Otherwise (near the steady state) a
  read-only sweep decides both tests first.  ``flags[F_EXTRA]`` counts the extra sweeps.
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
V_ACC = 12    # scratch: sum_r Zf q  (per buyer)
V_DEN = 13    # scratch: sum_r Zf phi_new (per buyer)
V_HN = 14     # stock-limited output from tomorrow's stocks
V_UNMET = 15  # final demand not met
V_RATIO = 16  # x/D
V_DNX = 17    # orders received tomorrow
V_E1 = 18     # allclose(deliveries, use) excess per buyer
V_E2 = 19     # allclose(stock, goal) excess per buyer (chosen stock; current in checks)
V_E2N = 20    # allclose(updated stock, goal) excess per buyer (check sweep)
NVEC = 21

# Entries of the int64 ``flags`` array carried from day to day.
F_C1 = 0      # yesterday's allclose(deliveries, use) outcome (1 = close)
F_C2 = 1      # yesterday's allclose(stock, goal) outcome
F_EXTRA = 2   # number of extra sweeps (check or gap) so far: a diagnostic
F_K1 = 3      # sentinel cell (k, f) of the first test, k = -1 if none
F_F1 = 4
F_K2 = 5      # sentinel cell of the second test
F_F2 = 6
NFLAGS = 7

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
def _acc_den(R: int, n: int, k: int, Zf: np.ndarray, q: np.ndarray, phn: np.ndarray,
             acc: np.ndarray, den: np.ndarray, want_den: bool) -> None:
    """Row ``k`` scratch (several regions): ``acc[f] = sum_r Zf[(r,k), f] q[(r,k)]``
    (deliveries per unit of order intensity) and, if asked,
    ``den[f] = sum_r Zf[(r,k), f] phi_new[(r,k)]``.  Written out again in
    :func:`_write_sweep`; keep the two identical."""
    p = acc.shape[0]
    for f in range(p):
        acc[f] = 0.0
    if want_den:
        for f in range(p):
            den[f] = 0.0
    for r in range(R):
        i = r * n + k
        qi = q[i]
        if want_den:
            pi = phn[i]
            for f in range(p):
                z = Zf[i, f]
                acc[f] += z * qi
                den[f] += z * pi
        else:
            for f in range(p):
                acc[f] += Zf[i, f] * qi


@njit
def _orders(R: int, n: int, Zf: np.ndarray, ZC: np.ndarray, alt: bool, U: np.ndarray,
            phn: np.ndarray, den: np.ndarray, dnx: np.ndarray, k: int) -> None:
    """Turn row ``k`` of total orders ``T`` (in ``U[k]``) into order intensities and set the
    orders each supplier of product ``k`` receives tomorrow (``dnx``).  Row sums use four
    interleaved partial sums in a fixed order (reproducible).  Written out again in
    :func:`_write_sweep`; keep the two identical."""
    p = U.shape[1]
    if R == 1:
        if alt and phn[k] == 0.0:   # alt: no orders to a supplier without capacity
            for f in range(p):
                U[k, f] = 0.0
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        f = 0
        while f + 4 <= p:
            s0 += U[k, f]
            s1 += U[k, f + 1]
            s2 += U[k, f + 2]
            s3 += U[k, f + 3]
            f += 4
        while f < p:
            s0 += U[k, f]
            f += 1
        dnx[k] = (s0 + s1) + (s2 + s3)
        return
    for f in range(p):
        dn = den[f] if alt else ZC[k, f]
        U[k, f] = U[k, f] / dn if dn != 0.0 else 0.0
    for r in range(R):
        i = r * n + k
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        f = 0
        while f + 4 <= p:
            s0 += Zf[i, f] * U[k, f]
            s1 += Zf[i, f + 1] * U[k, f + 1]
            s2 += Zf[i, f + 2] * U[k, f + 2]
            s3 += Zf[i, f + 3] * U[k, f + 3]
            f += 4
        while f < p:
            s0 += Zf[i, f] * U[k, f]
            f += 1
        sm = (s0 + s1) + (s2 + s3)
        dnx[i] = phn[i] * sm if alt else sm


@njit
def _write_sweep(
    R: int, n: int, aS: np.ndarray, inva: np.ndarray, Zf: np.ndarray, ZC: np.ndarray,
    alt: bool,
    s: np.ndarray, rtau: np.ndarray, ips: np.ndarray, stock: np.ndarray, U: np.ndarray,
    xa: np.ndarray, xopt: np.ndarray, ratio: np.ndarray, q: np.ndarray, phn: np.ndarray,
    acc: np.ndarray, den: np.ndarray, hn: np.ndarray, e1: np.ndarray, e2: np.ndarray,
    dnx: np.ndarray, pc1: bool, pc2: bool,
) -> None:
    """The fused in-place sweep: deliveries, stock update, gap, orders, ``h`` for tomorrow
    (``hn``) and the orders each supplier receives tomorrow (``dnx``), given the outcomes
    ``pc1``/``pc2`` of BoARIO's two ``allclose`` tests.  It also leaves the excess of each
    test in ``e1`` (deliveries vs use) and ``e2`` (chosen stock vs goal): an entry ``<= 0``
    everywhere means "close".

    ``hn`` is the minimum over inputs of ``stock * inva / (psi s)`` with ``inva > 0``
    (``inf`` for inactive inputs), so a negative stock anywhere makes it negative: that is
    how the caller detects BoARIO's "negative stock" failure.

    Performance notes: every per-industry vector is a separate argument (LLVM does not
    vectorise loops over rows of one 2-D array, whose distance it cannot bound); the
    element loop is written out for one and for several regions; matrices are indexed
    ``[k, f]`` without row views, and nothing inside the row loop takes an array argument
    (each would cost atomic reference-count updates per row)."""
    p = aS.shape[1]
    for f in range(p):
        hn[f] = np.inf
        e1[f] = -np.inf
        e2[f] = -np.inf
    for k in range(n):
        if R > 1:   # _acc_den, written out (a call per row costs atomic refcounts)
            for f in range(p):
                acc[f] = 0.0
                den[f] = 0.0
            for r in range(R):
                i = r * n + k
                qi = q[i]
                if alt:
                    pi = phn[i]
                    for f in range(p):
                        z = Zf[i, f]
                        acc[f] += z * qi
                        den[f] += z * pi
                else:
                    for f in range(p):
                        acc[f] += Zf[i, f] * qi
        sk = s[k]
        if math.isfinite(sk):
            rt = 0.0 if pc2 else rtau[k]
            ipk = ips[k]
            if R == 1:
                rk = ratio[k]
                for f in range(p):
                    a = aS[k, f]
                    use = xa[f] * a
                    add = U[k, f] * rk
                    d1 = abs(add - use) - (ATOL + RTOL * abs(use))
                    m = e1[f]
                    e1[f] = d1 if d1 > m else m
                    om = stock[k, f]
                    oc = om if pc1 else om - use + add
                    goal = (xopt[f] * a) * sk
                    d2 = abs(oc - goal) - (ATOL + RTOL * abs(goal))
                    m = e2[f]
                    e2[f] = d2 if d2 > m else m
                    stock[k, f] = oc
                    g = goal - oc
                    g = g if g > 0.0 else 0.0
                    U[k, f] = rt * g + use
                    v = oc * inva[k, f] * ipk
                    m = hn[f]
                    hn[f] = v if v < m else m
            else:
                for f in range(p):
                    a = aS[k, f]
                    use = xa[f] * a
                    add = U[k, f] * acc[f]
                    d1 = abs(add - use) - (ATOL + RTOL * abs(use))
                    m = e1[f]
                    e1[f] = d1 if d1 > m else m
                    om = stock[k, f]
                    oc = om if pc1 else om - use + add
                    goal = (xopt[f] * a) * sk
                    d2 = abs(oc - goal) - (ATOL + RTOL * abs(goal))
                    m = e2[f]
                    e2[f] = d2 if d2 > m else m
                    stock[k, f] = oc
                    g = goal - oc
                    g = g if g > 0.0 else 0.0
                    U[k, f] = rt * g + use
                    v = oc * inva[k, f] * ipk
                    m = hn[f]
                    hn[f] = v if v < m else m
        else:
            # never-binding input (infinite inventory): the stock stays inf and there is no
            # gap; BoARIO's goal is (xopt aS) * inf, nan where xopt aS == 0, never "close".
            rk = ratio[k]
            for f in range(p):
                a = aS[k, f]
                use = xa[f] * a
                add = U[k, f] * (acc[f] if R > 1 else rk)
                d1 = abs(add - use) - (ATOL + RTOL * abs(use))
                m = e1[f]
                e1[f] = d1 if d1 > m else m
                U[k, f] = use
                if xopt[f] * a == 0.0:
                    e2[f] = np.inf
        # _orders, written out
        if R == 1:
            if alt and phn[k] == 0.0:   # alt: no orders to a supplier without capacity
                for f in range(p):
                    U[k, f] = 0.0
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            f = 0
            while f + 4 <= p:
                s0 += U[k, f]
                s1 += U[k, f + 1]
                s2 += U[k, f + 2]
                s3 += U[k, f + 3]
                f += 4
            while f < p:
                s0 += U[k, f]
                f += 1
            dnx[k] = (s0 + s1) + (s2 + s3)
        else:
            for f in range(p):
                dn = den[f] if alt else ZC[k, f]
                U[k, f] = U[k, f] / dn if dn != 0.0 else 0.0
            for r in range(R):
                i = r * n + k
                s0 = 0.0
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                f = 0
                while f + 4 <= p:
                    s0 += Zf[i, f] * U[k, f]
                    s1 += Zf[i, f + 1] * U[k, f + 1]
                    s2 += Zf[i, f + 2] * U[k, f + 2]
                    s3 += Zf[i, f + 3] * U[k, f + 3]
                    f += 4
                while f < p:
                    s0 += Zf[i, f] * U[k, f]
                    f += 1
                sm = (s0 + s1) + (s2 + s3)
                dnx[i] = phn[i] * sm if alt else sm


@njit
def _check_sweep(
    R: int, n: int, aS: np.ndarray, Zf: np.ndarray, s: np.ndarray, stock: np.ndarray,
    U: np.ndarray, xa: np.ndarray, xopt: np.ndarray, ratio: np.ndarray, q: np.ndarray,
    phn: np.ndarray, acc: np.ndarray, den: np.ndarray, e1: np.ndarray, e2o: np.ndarray,
    e2n: np.ndarray,
) -> None:
    """Read-only sweep evaluating BoARIO's two ``allclose`` tests exactly: excesses in
    ``e1`` (deliveries vs use), ``e2o`` (current stock vs goal) and ``e2n`` (updated stock
    vs goal)."""
    p = aS.shape[1]
    for f in range(p):
        e1[f] = -np.inf
        e2o[f] = -np.inf
        e2n[f] = -np.inf
    for k in range(n):
        if R > 1:
            _acc_den(R, n, k, Zf, q, phn, acc, den, R < 1)
        rk = ratio[k]
        sk = s[k]
        fin = math.isfinite(sk)
        for f in range(p):
            a = aS[k, f]
            use = xa[f] * a
            add = U[k, f] * (acc[f] if R > 1 else rk)
            d1 = abs(add - use) - (ATOL + RTOL * abs(use))
            m = e1[f]
            e1[f] = d1 if d1 > m else m
            if fin:
                om = stock[k, f]
                on = om - use + add
                goal = (xopt[f] * a) * sk
                tol = ATOL + RTOL * abs(goal)
                d2 = abs(om - goal) - tol
                m = e2o[f]
                e2o[f] = d2 if d2 > m else m
                d2 = abs(on - goal) - tol
                m = e2n[f]
                e2n[f] = d2 if d2 > m else m
            elif xopt[f] * a == 0.0:
                e2o[f] = np.inf
                e2n[f] = np.inf


@njit
def _gap_sweep(
    R: int, n: int, aS: np.ndarray, Zf: np.ndarray, ZC: np.ndarray, alt: bool,
    s: np.ndarray,
    rtau: np.ndarray, stock: np.ndarray, U: np.ndarray, xa: np.ndarray, xopt: np.ndarray,
    phn: np.ndarray, acc: np.ndarray, den: np.ndarray, dnx: np.ndarray, pc2: bool,
) -> None:
    """Recompute today's orders from the (already updated) stocks for gap outcome ``pc2``."""
    p = aS.shape[1]
    for k in range(n):
        if R > 1 and alt:
            _acc_den(R, n, k, Zf, phn, phn, acc, den, alt)
        sk = s[k]
        if math.isfinite(sk):
            rt = 0.0 if pc2 else rtau[k]
            for f in range(p):
                a = aS[k, f]
                use = xa[f] * a
                goal = (xopt[f] * a) * sk
                g = goal - stock[k, f]
                g = g if g > 0.0 else 0.0
                U[k, f] = rt * g + use
        else:
            for f in range(p):
                U[k, f] = xa[f] * aS[k, f]
        _orders(R, n, Zf, ZC, alt, U, phn, den, dnx, k)


@njit
def _acc_at(R: int, n: int, k: int, f: int, Zf: np.ndarray, vec: np.ndarray) -> float:
    """``acc`` of :func:`_acc_den` for one cell (same summation order)."""
    if R == 1:
        return vec[V_RATIO, k]
    a = 0.0
    for r in range(R):
        i = r * n + k
        a += Zf[i, f] * vec[V_Q, i]
    return a


@njit
def _probe(R: int, n: int, aS: np.ndarray, Zf: np.ndarray, s: np.ndarray,
           stock: np.ndarray, U: np.ndarray, vec: np.ndarray,
           flags: np.ndarray) -> tuple[bool, bool]:
    """Decide cheaply, from one sentinel cell each, whether BoARIO's ``allclose`` tests will
    certainly fail today.  Returns ``(c1_fails, c2_fails)``; ``False`` means "unknown".
    The sentinel cell's excess is computed with exactly the sweep's arithmetic, so a
    failure found here is a failure of the global test."""
    k1 = flags[F_K1]
    f1 = flags[F_F1]
    if k1 < 0:
        return False, False
    a = aS[k1, f1]
    use = vec[V_XA, f1] * a
    add = U[k1, f1] * _acc_at(R, n, k1, f1, Zf, vec)
    if not abs(add - use) - (ATOL + RTOL * abs(use)) > 0.0:
        return False, False
    k2 = flags[F_K2]
    f2 = flags[F_F2]
    if k2 < 0:
        return True, False
    a = aS[k2, f2]
    xo = vec[V_XOPT, f2]
    sk = s[k2]
    if not math.isfinite(sk):
        return True, xo * a == 0.0
    use = vec[V_XA, f2] * a
    add = U[k2, f2] * _acc_at(R, n, k2, f2, Zf, vec)
    on = stock[k2, f2] - use + add
    goal = (xo * a) * sk
    return True, abs(on - goal) - (ATOL + RTOL * abs(goal)) > 0.0


@njit
def _argmax(a: np.ndarray) -> int:
    j = 0
    m = a[0]
    for i in range(1, a.shape[0]):
        if a[i] > m:
            m = a[i]
            j = i
    return j


@njit
def _pick_sentinels(R: int, n: int, aS: np.ndarray, Zf: np.ndarray, s: np.ndarray,
                    stock: np.ndarray, U: np.ndarray, vec: np.ndarray,
                    flags: np.ndarray) -> None:
    """After the sweep, remember for each ``allclose`` test the cell most likely to fail it
    tomorrow: the column with today's largest excess, and in it the row with the largest
    excess evaluated on the new state (with today's delivery ratios as a proxy)."""
    flags[F_K1] = -1
    flags[F_K2] = -1
    e1 = vec[V_E1]
    f1 = _argmax(e1)
    if e1[f1] > 0.0:
        best = -np.inf
        xa = vec[V_XA, f1]
        for k in range(n):
            a = aS[k, f1]
            use = xa * a
            add = U[k, f1] * _acc_at(R, n, k, f1, Zf, vec)
            d = abs(add - use) - (ATOL + RTOL * abs(use))
            if d > best or flags[F_K1] < 0:
                best = d
                flags[F_K1] = k
        flags[F_F1] = f1
    e2 = vec[V_E2]
    f2 = _argmax(e2)
    if e2[f2] > 0.0:
        best = -np.inf
        xo = vec[V_XOPT, f2]
        for k in range(n):
            a = aS[k, f2]
            sk = s[k]
            if math.isfinite(sk):
                goal = (xo * a) * sk
                d = abs(stock[k, f2] - goal) - (ATOL + RTOL * abs(goal))
            else:
                d = np.inf if xo * a == 0.0 else -np.inf
            if d > best or flags[F_K2] < 0:
                best = d
                flags[F_K2] = k
        flags[F_F2] = f2


@njit
def _ario_step(
    t: int, R: int, n: int, X0: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zf: np.ndarray, ZC: np.ndarray, alt: bool, compat: bool, alpha_base: float, alpha_max: float,
    alpha_rate: float, s: np.ndarray, rtau: np.ndarray, ips: np.ndarray,
    stock: np.ndarray, U: np.ndarray, vec: np.ndarray, flags: np.ndarray,
) -> int:
    """Advance one day, in place.

    On entry ``vec`` holds yesterday's state (``V_XA``, ``V_ALPHA``, ``V_DNX``, ``V_HN``,
    ``V_PHN``) and today's forcing (``V_YT`` final demand, ``V_DLT`` capacity lost);
    ``stock`` holds today's stocks and ``U`` yesterday's order intensities.  On exit they
    hold tomorrow's stocks and today's orders, and ``vec`` today's records.  ``flags``
    carries, from one day to the next, the outcomes of BoARIO's two ``allclose`` tests
    (``F_C1``, ``F_C2``), the sentinel cells of :func:`_probe` and the count of extra
    sweeps (``F_EXTRA``).
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
    # 6.-9. distribution, stocks, orders: one in-place sweep once BoARIO's two global
    # allclose outcomes are known (Q5)
    acc = vec[V_ACC]
    den = vec[V_DEN]
    e1 = vec[V_E1]
    e2 = vec[V_E2]
    # (booleans passed on are runtime values, never literals: numba would compile one
    # specialisation per literal)
    if not compat:
        _write_sweep(R, n, aS, inva, Zf, ZC, alt, s, rtau, ips, stock, U, xa, xopt, ratio, q,
                     phn, acc, den, hn, e1, e2, dnx, compat, compat)
    else:
        fail1, fail2 = _probe(R, n, aS, Zf, s, stock, U, vec, flags)
        if fail1:
            c1 = not fail1
            guess = (not fail2) and flags[F_C2] != 0
            _write_sweep(R, n, aS, inva, Zf, ZC, alt, s, rtau, ips, stock, U, xa, xopt, ratio,
                         q, phn, acc, den, hn, e1, e2, dnx, c1, guess)
            c2 = _vmax(e2) <= 0.0
            if c2 != guess:
                _gap_sweep(R, n, aS, Zf, ZC, alt, s, rtau, stock, U, xa, xopt, phn, acc, den,
                           dnx, c2)
                flags[F_EXTRA] += 1
        else:
            _check_sweep(R, n, aS, Zf, s, stock, U, xa, xopt, ratio, q, phn, acc, den, e1,
                         e2, vec[V_E2N])
            flags[F_EXTRA] += 1
            c1 = _vmax(e1) <= 0.0
            c2 = (_vmax(e2) <= 0.0) if c1 else (_vmax(vec[V_E2N]) <= 0.0)
            _write_sweep(R, n, aS, inva, Zf, ZC, alt, s, rtau, ips, stock, U, xa, xopt, ratio,
                         q, phn, acc, den, hn, e1, e2, dnx, c1, c2)
        flags[F_C1] = 1 if c1 else 0
        flags[F_C2] = 1 if c2 else 0
        _pick_sentinels(R, n, aS, Zf, s, stock, U, vec, flags)
    for f in range(p):
        if hn[f] < 0.0:
            return STATUS_NEGATIVE_STOCK
    return STATUS_OK


@njit
def _ario_init(
    R: int, n: int, X0: np.ndarray, aS: np.ndarray, inva: np.ndarray, ZC: np.ndarray,
    u0: float, dint0: np.ndarray, alpha_base: float, psi: float, s: np.ndarray,
    ips: np.ndarray, stock: np.ndarray, U: np.ndarray, vec: np.ndarray, flags: np.ndarray,
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
        # order intensities reproducing BoARIO's O(-1) = Z0 = Z / 365 exactly:
        # O = Zf * phi * U with phi = 1 (several regions), O = U (one region)
        for f in range(p):
            if R > 1:
                U[k, f] = u0 if ZC[k, f] != 0.0 else 0.0
            else:
                U[k, f] = ZC[k, f] * u0
    flags[F_C1] = 1
    flags[F_C2] = 1
    flags[F_EXTRA] = 0
    flags[F_K1] = -1
    flags[F_F1] = 0
    flags[F_K2] = -1
    flags[F_F2] = 0


@njit
def _ario_run(
    R: int, n: int, X0: np.ndarray, Ysum: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zf: np.ndarray, ZC: np.ndarray, u0: float, dint0: np.ndarray, vw: np.ndarray,
    alt: bool, compat: bool, alpha_base: float, alpha_max: float, alpha_rate: float,
    psi: float, s: np.ndarray, rtau: np.ndarray,
    delta: np.ndarray, delta_idx: np.ndarray, fdm: np.ndarray, fdm_idx: np.ndarray,
    stock: np.ndarray, U: np.ndarray, vec: np.ndarray, ips: np.ndarray, flags: np.ndarray,
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
    Zf : intermediate flows (p, p), any time unit (the table's annual ``Z``, not copied);
        only its shares matter; unused when ``R == 1``.
    ZC : ``Zf`` summed by product over supplier regions (n, p).
    u0 : the step as a share of ``Zf``'s time unit (1/365): baseline orders are ``Zf u0``.
    dint0 : baseline daily orders received (p,).
    vw : value-added coefficients (p,).
    alt, compat : order rule (``True`` = Guan et al.'s ``alt``) and BoARIO's allclose skips.
    alpha_base, alpha_max, alpha_rate : overproduction (rate = 1 / alpha_tau).
    psi, s, rtau : inventory threshold, target days per product (``inf`` allowed), 1/tau_inv.
    delta, delta_idx : capacity lost (T, m) on industries ``delta_idx`` (int64, m).
    fdm, fdm_idx : final-demand multipliers (T, mf) on industries ``fdm_idx`` (int64, mf).
    stock, U : (n, p) work buffers (final stocks and orders on exit); vec : (NVEC, p);
        ips : (n,); flags : int64 (NFLAGS,), on exit ``flags[F_EXTRA]`` is the number of
        extra sweeps spent deciding BoARIO's allclose tests (a diagnostic).
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
    _ario_init(R, n, X0, aS, inva, ZC, u0, dint0, alpha_base, psi, s, ips, stock, U, vec,
               flags)
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
    for t in range(T):
        for j in range(delta_idx.shape[0]):
            dlt[delta_idx[j]] = delta[t, j]
        for j in range(fdm_idx.shape[0]):
            i = fdm_idx[j]
            yt[i] = Ysum[i] * fdm[t, j]
        if rec_stock:
            _copy2(stock, out_stock[t])
        st = _ario_step(t, R, n, X0, aS, inva, Zf, ZC, alt, compat, alpha_base, alpha_max,
                        alpha_rate, s, rtau, ips, stock, U, vec, flags)
        if st != STATUS_OK:
            info[0] = st
            info[1] = t
            return st
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
    return STATUS_OK


@njit_parallel
def _ario_batch(
    R: int, n: int, X0: np.ndarray, Ysum: np.ndarray, aS: np.ndarray, inva: np.ndarray,
    Zf: np.ndarray, ZC: np.ndarray, u0: float, dint0: np.ndarray, vw: np.ndarray,
    alt: np.ndarray, compat: bool, alpha_base: np.ndarray, alpha_max: np.ndarray,
    alpha_rate: np.ndarray, psi: np.ndarray, s: np.ndarray, rtau: np.ndarray,
    delta: np.ndarray, delta_idx: np.ndarray, fdm: np.ndarray, fdm_idx: np.ndarray,
    w_stock: np.ndarray, w_U: np.ndarray,
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
            _ario_run(R, n, X0, Ysum, aS, inva, Zf, ZC, u0, dint0, vw,
                      alt[j] != 0, compat, alpha_base[j], alpha_max[j], alpha_rate[j],
                      psi[j], s[j], rtau[j], delta[j], delta_idx, fdm[j], fdm_idx,
                      w_stock[w], w_U[w], w_vec[w], w_ips[w],
                      w_flags[w], slot_daily, out_daily[j], slot_total, out_total[j],
                      slot_sum, out_sum[j], out_stock[j], info[j])
    failed = 0
    for j in range(S):
        if info[j, 0] != STATUS_OK:
            failed += 1
    return failed
