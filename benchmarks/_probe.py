"""The bound of the supply-chain engine's benchmark: a minimal fused probe.

The two daily passes of :func:`simcore.dynamic._kernels.run_one` over the stored cells of
the same table, and nothing else: pass 1 (orders from yesterday's demand and the inventory
gap, the use vector as their row sum, the input bound as a running minimum), production as
``min(baseline, bound, demand)``, one proportional fill ratio per product, pass 2
(deliveries and the stock update with the same use cap).  No shocks, no imports, no
rationing modes, no records, no status checks; compiled with ``fastmath=True`` so that
sums and minima may be reordered and vectorised.  It is what any implementation of the
model's two passes must at least do, as fast as this file can make it:

* :func:`probe_csc` keeps the engine's layout (cells by buyer column): the use vector is a
  scatter, the bound a per-column reduction; the benchmark passes it unsigned indices
  (``uint64`` column starts, ``uint32`` rows), so that numba tests none of them for a
  negative wrap-around;
* :func:`probe_rows` stores the coefficient matrix dense by supplier row: the use vector is
  a row sum and the bound an elementwise minimum over buyers, both vectorise (it touches
  every cell, zero or not, so it wins only on dense tables).

The benchmark reports the faster of the two.  For a block of the lane kernel
(:mod:`simcore.dynamic._lanes`, the ``sc-lanes`` cases) two more:

* :func:`probe_lanes`, the same two passes for ``L`` scenarios with the scenario as the
  innermost axis, each cell's lane loop one loop (fast-math);
* :func:`stream_lanes`, reading and writing every lane's stock once a day: the memory
  traffic no lane kernel avoids.

These are benchmark code, not part of simcore,
and their results are not compared with the engine's (they skip most of the model); only
their finiteness is checked.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(fastmath=True, cache=False)
def probe_csc(colptr, rowidx, A, TG, IND, THA, x0, f0, inv_tau, days, S, O):
    n = x0.shape[0]
    Duse = np.empty(n)
    xinp = np.empty(n)
    x = np.empty(n)
    rho = np.empty(n)
    dprev = x0.copy()
    for t in range(days):
        Duse[:] = 0.0
        for j in range(n):
            dj = dprev[j]
            b = np.inf
            for kk in range(colptr[j], colptr[j + 1]):
                s = S[kk]
                o = max(A[kk] * dj + (TG[kk] - s) * inv_tau, 0.0)
                O[kk] = o
                Duse[rowidx[kk]] += o
                b = min(b, IND[kk] + THA[kk] * s)
            xinp[j] = b
        for i in range(n):
            d = Duse[i] + f0[i]
            xi = min(x0[i], xinp[i], d)
            x[i] = xi
            rho[i] = 1.0 if xi >= d else xi / d
            dprev[i] = d
        for j in range(n):
            xj = x[j]
            for kk in range(colptr[j], colptr[j + 1]):
                s = S[kk]
                z = O[kk] * rho[rowidx[kk]]
                S[kk] = s + z - min(A[kk] * xj, max(s, s + z - TG[kk]))
    return x


@njit(fastmath=True, cache=False)
def probe_rows(A, TG, IND, THA, x0, f0, inv_tau, days, S, O):
    """Dense (n, n) arrays by supplier row; cells with A = 0 have IND = inf, THA = 0."""
    n = x0.shape[0]
    Duse = np.empty(n)
    bound = np.empty(n)
    x = np.empty(n)
    rho = np.empty(n)
    dprev = x0.copy()
    for t in range(days):
        bound[:] = np.inf
        for i in range(n):
            acc = 0.0
            for j in range(n):
                s = S[i, j]
                o = max(A[i, j] * dprev[j] + (TG[i, j] - s) * inv_tau, 0.0)
                O[i, j] = o
                acc += o
                bound[j] = min(bound[j], IND[i, j] + THA[i, j] * s)
            Duse[i] = acc
        for i in range(n):
            d = Duse[i] + f0[i]
            xi = min(x0[i], bound[i], d)
            x[i] = xi
            rho[i] = 1.0 if xi >= d else xi / d
            dprev[i] = d
        for i in range(n):
            r = rho[i]
            for j in range(n):
                s = S[i, j]
                z = O[i, j] * r
                S[i, j] = s + z - min(A[i, j] * x[j], max(s, s + z - TG[i, j]))
    return x


def bound_terms(colptr, A, theta, x0):
    """The input bound's per-cell terms ``IND, THA`` (as the kernels compute them): cells
    of column ``j`` by ``colptr``, ``x0`` the buyers' baseline output; a cell without
    dependency bounds nothing (``inf``, 0)."""
    cols = np.repeat(np.arange(x0.shape[0]), np.diff(np.asarray(colptr, dtype=np.int64)))
    on = theta > 0
    IND = np.where(on, (1.0 - theta) * x0[cols], np.inf)
    THA = np.where(on, theta / np.where(on, A, 1.0), 0.0)
    return IND, THA


def csc_inputs(prep, tgt, theta):
    """Per-cell arrays of the probe from a prepared table and its lowered targets/shares."""
    return bound_terms(prep.colptr, prep.A, theta, prep.x0)


def dense_inputs(prep, tgt, theta):
    n = prep.n
    cols = np.repeat(np.arange(n), np.diff(prep.colptr))
    IND, THA = csc_inputs(prep, tgt, theta)
    out = []
    for v, fill in ((prep.A, 0.0), (tgt, 0.0), (IND, np.inf), (THA, 0.0)):
        m = np.full((n, n), fill)
        m[prep.rowidx, cols] = v
        out.append(m)
    return out


@njit(fastmath=True, cache=False)
def probe_lanes(colptr, rowidx, A, TG, IND, THA, x0, f0, inv_tau, days, S, O):
    """:func:`probe_csc` for a block of ``L`` scenarios with the scenario as the innermost
    axis, as the lane kernel (:mod:`simcore.dynamic._lanes`) runs them: per-cell stocks and
    orders ``S, O (nnz, L)``, per-sector ``x0, f0 (n, L)``; the coefficients, targets and
    bound terms one per cell, shared by the lanes (the lane kernel reads such cells as
    scalars).  The same two passes per lane, every lane loop free to vectorise."""
    n = x0.shape[0]
    L = S.shape[1]
    Duse = np.empty((n, L))
    xinp = np.empty((n, L))
    x = np.empty((n, L))
    rho = np.empty((n, L))
    dprev = x0.copy()
    b = np.empty(L)
    for t in range(days):
        Duse[:] = 0.0
        for j in range(n):
            b[:] = np.inf
            for kk in range(colptr[j], colptr[j + 1]):
                i = rowidx[kk]
                a, tg, ind, tha = A[kk], TG[kk], IND[kk], THA[kk]
                for l in range(L):
                    s = S[kk, l]
                    o = max(a * dprev[j, l] + (tg - s) * inv_tau, 0.0)
                    O[kk, l] = o
                    Duse[i, l] += o
                    b[l] = min(b[l], ind + tha * s)
            xinp[j] = b
        for i in range(n):
            for l in range(L):
                d = Duse[i, l] + f0[i, l]
                xi = min(x0[i, l], xinp[i, l], d)
                x[i, l] = xi
                rho[i, l] = 1.0 if xi >= d else xi / d
                dprev[i, l] = d
        for j in range(n):
            for kk in range(colptr[j], colptr[j + 1]):
                i = rowidx[kk]
                a, tg = A[kk], TG[kk]
                for l in range(L):
                    s = S[kk, l]
                    z = O[kk, l] * rho[i, l]
                    S[kk, l] = s + z - min(a * x[j, l], max(s, s + z - tg))
    return x


@njit(fastmath=True, cache=False)
def stream_lanes(S, days):
    """Read and write every lane's stock once a day (one multiply-add each): the memory
    traffic no lane kernel can avoid, at the machine's streaming speed."""
    nnz, L = S.shape
    for t in range(days):
        for kk in range(nnz):
            for l in range(L):
                S[kk, l] = S[kk, l] * 0.999 + 1e-3
    return S[0, 0]
