"""A slow, plain-numpy reference of the supply-chain engine on multi-regional tables: the
test oracle of :mod:`simcore.dynamic._mrio_kernels`.

Dense matrices on the flat region x sector axis, written from the equations of
docs/mrio.md (stocks per buyer node and input product over all supplying regions, orders
split over origins in baseline shares, export cuts as capped links), not from the kernel's
code.  It reuses the single-region oracle's CES ratio and fill rule
(:mod:`simcore.dynamic._reference`).
"""

from __future__ import annotations

import numpy as np

from ._reference import ces_ratio, fill, produce


def run_mrio_reference(Afull, prod, nreg, tgt, theta, sigma, x0, F0, e0, mu, c, tau, special,
                       links, capfac, demfac, exfac, *, firms_first=False, alpha_max=1.0,
                       alpha_tau=365.0):
    """Run the MRIO engine on dense inputs.

    Parameters
    ----------
    Afull : (p, p) array
        Daily technical coefficients, supplier node x buyer node (region-major).
    prod, nreg : (p,) int arrays
        Product (sector) index and region index of every node.
    tgt, theta : (n, p) arrays
        Inventory target and dependency share of every stock cell (product, buyer node).
    sigma : (n,) array
        Elasticity of substitution by product.
    F0 : (p, R) array
        Baseline daily final demand for every node's output by destination region.
    special : dict
        ``{node: (impcap (T,), stockpile, release_max)}`` (cut imports from outside).
    links : list of ``(node, destination region, cap (T,))``
        Export cuts: deliveries of ``node`` to every buyer in the destination region are
        capped at ``cap[t]``.
    capfac, demfac, exfac : (T, p) arrays

    Returns
    -------
    dict with ``x (T, p)``, ``gdp_loss (T,)``, ``gdp_loss_reg (T, R)``, ``fd_unmet (T, p)``,
    ``imports (T, K)``, ``links (T, L)``, ``gain (T,)``, ``gap (T, 2)``, ``dem (p,)``.
    """
    p = x0.size
    n = tgt.shape[0]
    R = F0.shape[1]
    T = capfac.shape[0]
    P = np.zeros((n, p))
    P[prod, np.arange(p)] = 1.0
    Ac = P @ Afull
    active = Ac > 0
    W = np.where(Afull > 0, Afull / np.where(active[prod], Ac[prod], 1.0), 0.0)
    f0 = F0.sum(1)
    S = np.where(active, tgt, 0.0)
    tgt = np.where(active, tgt, 0.0)
    dprev = x0.copy()
    alpha = np.ones(p)
    keys = sorted(special)
    stock = {u: special[u][1] for u in keys}
    dest = nreg[None, :]
    X = np.zeros((T, p))
    GL = np.zeros(T)
    GLR = np.zeros((T, R))
    FDU = np.zeros((T, p))
    IMP = np.zeros((T, len(keys)))
    LNK = np.zeros((T, len(links)))
    GAIN = np.zeros(T)
    GAP = np.zeros((T, 2))
    DEM = np.zeros(p)
    tgt_total = float(tgt[active].sum())
    for t in range(T):
        cap = x0 * alpha * capfac[t]
        fd = f0 * demfac[t]
        ex = e0 * exfac[t]
        O = np.where(active, np.maximum(Ac * dprev[None, :] + (tgt - S) / tau, 0.0), 0.0)
        OL = W * O[prod, :]
        Duse = OL.sum(1)
        G = np.ones((p, p))
        lost_fd = np.zeros(p)
        for q, (u, s, capl) in enumerate(links):
            lint = OL[u, nreg == s].sum()
            lfd = F0[u, s] * demfac[t, u]
            gi, gf = fill(capl[t], lint, lfd, firms_first)
            G[u, (dest[0] == s)] = gi
            Duse[u] -= lint * (1 - gi)
            fd[u] -= lfd * (1 - gf)
            lost_fd[u] += lfd * (1 - gf)
            LNK[t, q] = lint * gi + lfd * gf
        bound = np.full(p, np.inf)
        for i, b in zip(*np.nonzero(active & (theta > 0))):
            th = theta[i, b]
            q = S[i, b] / (Ac[i, b] * x0[b])
            if sigma[i] > 0 and q < 1:
                bb = x0[b] * ((1 - th) + th * ces_ratio(min(Ac[i, b] / th, 0.999), sigma[i], q))
            else:
                bb = (1 - th) * x0[b] + th * S[i, b] / Ac[i, b]
            bound[b] = min(bound[b], bb)
        d, x, dem, avail = produce(t, cap, bound, mu, Duse, fd, ex, x0, special, keys, stock)
        DEM += dem
        rho_i = np.ones(p)
        for u in range(p):
            rdi, rdf = fill(x[u], (1 - mu[u]) * Duse[u], (1 - mu[u]) * fd[u] + ex[u], firms_first)
            rmi, rmf = (fill(avail[u], mu[u] * Duse[u], mu[u] * fd[u], firms_first)
                        if u in avail else (1.0, 1.0))
            rho_i[u] = 1 - (1 - mu[u]) * (1 - rdi) - mu[u] * (1 - rmi)
            rho_f = 1 - (1 - mu[u]) * (1 - rdf) - mu[u] * (1 - rmf)
            FDU[t, u] = fd[u] * (1 - rho_f) + ex[u] * (1 - rdf) + lost_fd[u]
        for k, u in enumerate(keys):
            rmi, rmf = fill(avail[u], mu[u] * Duse[u], mu[u] * fd[u], firms_first)
            IMP[t, k] = mu[u] * (Duse[u] * rmi + fd[u] * rmf)
        Zc = P @ (OL * rho_i[:, None] * G)
        use = np.minimum(Ac * x[None, :], np.maximum(S, S + Zc - tgt))
        S = np.where(active, S + Zc - use, S)
        if alpha_max > 1:
            zeta = np.where(d > 0, (d - x) / np.where(d > 0, d, 1.0), 0.0)
            alpha = np.where(zeta > 0, alpha + (alpha_max - alpha) * zeta / alpha_tau,
                             alpha + (1 - alpha) / alpha_tau)
            alpha = np.maximum(alpha, 1.0)
        dprev = d
        X[t] = x
        GL[t] = float(c @ (x0 - x))
        GLR[t] = np.bincount(nreg, weights=c * (x0 - x), minlength=R)
        GAIN[t] = float(c @ np.maximum(x - x0, 0.0))
        GAP[t, 0] = np.abs(x - x0).sum() / x0.sum()
        GAP[t, 1] = np.abs(S - tgt)[active].sum() / tgt_total if tgt_total > 0 else 0.0
    return {"x": X, "gdp_loss": GL, "gdp_loss_reg": GLR, "fd_unmet": FDU, "imports": IMP,
            "links": LNK, "gain": GAIN, "gap": GAP, "dem": DEM}
