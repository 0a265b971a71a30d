"""A slow, plain-numpy reference of the supply-chain engine: the test oracle.

Dense matrices, one vectorised statement per equation, no numba.  It implements the same
day step as :func:`simcore.dynamic._kernels.run_one` from the equations in
:mod:`simcore.dynamic.supply_chain` (not from the kernel's code), and is compared with the kernel
on random tables in ``tests/test_dynamic.py``.
"""

from __future__ import annotations

import numpy as np

COVER_RTOL = 1e-12


def ces_ratio(s: float, sigma: float, q: float) -> float:
    """Exact CES output ratio (docs/methodology.md, "One day, in the kernel's order"), computed
    directly (not in log space)."""
    if q >= 1.0:
        return 1.0
    if sigma == 0.0:
        return max(q, 0.0)
    if sigma == 1.0:
        return q**s if q > 0 else 0.0
    r = (sigma - 1.0) / sigma
    if q <= 0.0:
        return 0.0 if sigma < 1.0 else (1.0 - s) ** (1.0 / r)
    return ((1.0 - s) + s * q**r) ** (1.0 / r)


def fill(supply: float, d_int: float, d_fd: float, firms_first: bool) -> tuple[float, float]:
    total = d_int + d_fd
    if total <= 0 or supply >= total * (1 - COVER_RTOL):
        return 1.0, 1.0
    if supply <= 0:
        return 0.0, 0.0
    if firms_first:
        if supply >= d_int:
            return 1.0, ((supply - d_int) / d_fd if d_fd > 0 else 1.0)
        return supply / d_int, 0.0
    return supply / total, supply / total


def produce(t, cap, bound, mu, Duse, fd, ex, x0, special, keys, stock):
    """A day's demand on domestic producers ``d``, output ``x`` (least of capacity, input
    bound and demand), the demand-constrained part of its loss (what lower orders alone cost) and the import supply
    ``avail`` of the special products (schedule plus stockpile release; ``stock`` is drawn
    down in place); shared by the single-region and the multi-regional reference."""
    d = (1 - mu) * (Duse + fd) + ex
    x = np.maximum(np.minimum(np.minimum(cap, bound), d), 0.0)
    dem = np.where(x0 - x > 0, np.clip(x0 - d, 0.0, None).clip(max=x0 - x), 0.0)
    avail = {}
    for i in keys:
        dm = mu[i] * (Duse[i] + fd[i])
        a = special[i][0][t]
        rel = min(max(dm - a, 0.0), special[i][2], stock[i])
        stock[i] -= rel
        avail[i] = a + rel
    return d, x, dem, avail


def run_reference(A, tgt, theta, sigma, x0, f0, e0, mu, c, tau, special, capfac, demfac, exfac,
                  *, firms_first=False, alpha_max=1.0, alpha_tau=365.0):
    """Run the engine on dense inputs.

    Parameters
    ----------
    A, tgt, theta : (n, n) arrays
        Technical coefficients (daily), inventory targets, dependency shares.
    special : dict
        ``{product index: (impcap (T,), stockpile, release_max)}``.
    capfac, demfac, exfac : (T, n) arrays
        Capacity factor, domestic final-demand factor and export factor per day.

    Returns
    -------
    dict with ``x (T, n)``, ``gdp_loss (T,)``, ``fd_unmet (T, n)``, ``imports (T, K)``,
    ``stocks (T, K)`` (stocks of each special product held by all buyers, end of day) and
    ``gain (T,)`` (value added of output above baseline), ``gap (T, 2)``: the distance
    from baseline at the end of each day, ``sum |x - x0| / sum x0`` (output) and
    ``sum |S - target| / sum target`` over the cells with a baseline flow (stocks), and
    ``dem (n,)`` (cumulative demand-constrained output loss).
    """
    n = x0.size
    T = capfac.shape[0]
    S = tgt.copy()
    active = A > 0
    dprev = x0.copy()
    alpha = np.ones(n)
    stock = {i: v[1] for i, v in special.items()}
    keys = sorted(special)
    X = np.zeros((T, n))
    GL = np.zeros(T)
    FDU = np.zeros((T, n))
    IMP = np.zeros((T, len(keys)))
    STK = np.zeros((T, len(keys)))
    GAIN = np.zeros(T)
    GAP = np.zeros((T, 2))
    tgt_total = float(tgt[active].sum())
    DEM = np.zeros(n)
    for t in range(T):
        cap = x0 * alpha * capfac[t]
        fd = f0 * demfac[t]
        ex = e0 * exfac[t]
        O = np.where(active, np.maximum(A * dprev[None, :] + (tgt - S) / tau, 0.0), 0.0)
        Duse = O.sum(axis=1)
        bound = np.full(n, np.inf)
        for i, j in zip(*np.nonzero(active & (theta > 0))):
            th = theta[i, j]
            if sigma[i] > 0 and S[i, j] / (A[i, j] * x0[j]) < 1:
                b = x0[j] * ((1 - th) + th * ces_ratio(min(A[i, j] / th, 0.999), sigma[i],
                                                       S[i, j] / (A[i, j] * x0[j])))
            else:
                b = (1 - th) * x0[j] + th * S[i, j] / A[i, j]
            bound[j] = min(bound[j], b)
        d, x, dem, avail = produce(t, cap, bound, mu, Duse, fd, ex, x0, special, keys, stock)
        DEM += dem
        rho_i = np.ones(n)
        rho_f = np.ones(n)
        for i in range(n):
            rdi, rdf = fill(x[i], (1 - mu[i]) * Duse[i], (1 - mu[i]) * fd[i] + ex[i], firms_first)
            rmi, rmf = (fill(avail[i], mu[i] * Duse[i], mu[i] * fd[i], firms_first)
                        if i in avail else (1.0, 1.0))
            rho_i[i] = 1 - (1 - mu[i]) * (1 - rdi) - mu[i] * (1 - rmi)
            rho_f[i] = 1 - (1 - mu[i]) * (1 - rdf) - mu[i] * (1 - rmf)
            FDU[t, i] = fd[i] * (1 - rho_f[i]) + ex[i] * (1 - rdf)
        for k, i in enumerate(keys):
            rmi, rmf = fill(avail[i], mu[i] * Duse[i], mu[i] * fd[i], firms_first)
            IMP[t, k] = mu[i] * (Duse[i] * rmi + fd[i] * rmf)
        Zd = O * rho_i[:, None]
        # capped at the start-of-day stock, or at what is above the target if more
        use = np.minimum(A * x[None, :], np.maximum(S, S + Zd - tgt))
        S = np.where(active, S + Zd - use, S)
        if alpha_max > 1:
            zeta = np.where(d > 0, (d - x) / np.where(d > 0, d, 1.0), 0.0)
            alpha = np.where(zeta > 0, alpha + (alpha_max - alpha) * zeta / alpha_tau,
                             alpha + (1 - alpha) / alpha_tau)
            alpha = np.maximum(alpha, 1.0)
        dprev = d
        X[t] = x
        GL[t] = float(c @ (x0 - x))
        GAIN[t] = float(c @ np.maximum(x - x0, 0.0))
        for k, i in enumerate(keys):
            STK[t, k] = S[i].sum()
        GAP[t, 0] = np.abs(x - x0).sum() / x0.sum()
        GAP[t, 1] = np.abs(S - tgt)[active].sum() / tgt_total if tgt_total > 0 else 0.0
    return {"x": X, "gdp_loss": GL, "fd_unmet": FDU, "imports": IMP, "stocks": STK,
            "gain": GAIN, "gap": GAP, "dem": DEM}
