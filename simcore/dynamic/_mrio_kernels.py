"""Numba kernel of simcore's supply-chain engine on multi-regional tables.

The day step is that of :func:`simcore.dynamic._kernels.run_one` (docs/methodology.md,
"One day, in the kernel's order") on a table whose nodes are region x sector industries,
with one change of layout (docs/mrio.md, "The stock rule"):

* a buyer node ``b`` holds one stock per input *product* (sector code ``i``), over all
  supplying regions: a *stock cell* ``(i, b)`` with coefficient ``A_ib = sum_r A_(r,i),b``,
  target ``n_ib Z0_ib`` and dependency share ``theta_ib``;
* the cell's order ``O_ib = A_ib d_b + (target - S_ib) / tau`` (clamped at 0) goes to the
  supplying regions in the baseline shares ``w_r = Z0_(r,i),b / Z0_ib`` (the *legs* of
  the cell), and the cell receives the sum of what its legs deliver;
* a leg may run over a *cut link* (an export cut of product ``i`` from region ``r`` to the
  buyer's region): deliveries on a link are capped by an exogenous daily schedule
  ``link_cap[t, l]``, rationed over the link's intermediate and final demand by the
  engine's rationing rule; the origin's producer then faces only the demand its link can
  take (it loses the customers it may not serve).

With one leg per cell (``w = 1``) and no cut link this is ``run_one`` step for step: a
single-region table, or an MRIO whose regions trade only through imports from outside the
table, gives the single-region engine's results (tests/test_mrio.py).

Layout: stock cells by buyer in CSC form (``cptr`` (p+1), ``cprod`` (nc) product sector
index, per-cell ``A``, ``tgt``, ``theta``); legs by cell (``lptr`` (nc+1), ``lsup`` supplier
node (int32: the legs are the largest arrays, and the day loop is bound by reading
them), ``lw`` weight, ``llink`` cut-link index or -1, read only when there are cut
links).  Imports from outside the table (the table's ``M``) are a share ``mu_u`` of row
``u``'s deliveries, as in the single-region engine, and can be cut (special rows
``sp_idx``, schedule ``impcap``).  A product that no supplier rations on a day (and that
no cut link carries) is delivered as ``order x sum of the legs' weights`` without a pass
over its legs (equal to the sum over legs to round-off).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import STATUS_NON_FINITE, njit
from ._kernels import (_bound_with_ces, _cell_terms, _ces_on, _end_status, _import_supply,
                       _inv_total, _produce, _ratios, _record_imports, _remember_demand,
                       _start)


@njit
def run_mrio(
    # table: stock cells and their legs
    cptr, cprod, A, tgt, theta, sigma, lptr, lsup, lw, llink,
    # nodes
    x0, f0, e0, mu, c, nreg, inv_tau,
    # cut links (export cuts): node, baseline final demand, daily cap
    link_node, link_fd0, link_cap,
    # cuts of imports from outside the table
    sp_pos, sp_idx, impcap, stock0, relmax,
    # capacity and demand shocks
    cap_idx, capfac, dem_idx, demfac, exfac,
    # options
    ration_mode, alpha_max, alpha_tau,
    # outputs
    gdp_loss, gdp_loss_reg, out_cum, rec_x, rec_fdu, rec_imp, rec_link, gdp_gain, rec_gap,
    info, out_dem, stk_pos, rec_stk,
):
    """Run one scenario over ``gdp_loss.shape[0]`` days; return a status code.

    Outputs as in ``run_one``, plus ``gdp_loss_reg (T, R)`` (the day's net loss by region),
    ``rec_link (T, L)`` (deliveries on each cut link, if its first dimension is not 0) and
    ``rec_stk (T, P, R)`` (stocks of the products with ``stk_pos[i] = k >= 0`` held by all
    buyers of each region, end of day).
    """
    p = x0.shape[0]
    T = gdp_loss.shape[0]
    K = sp_idx.shape[0]
    C = cap_idx.shape[0]
    D = dem_idx.shape[0]
    L = link_node.shape[0]
    nc = A.shape[0]
    rec_x_on = rec_x.shape[0] > 0
    rec_fdu_on = rec_fdu.shape[0] > 0
    rec_imp_on = rec_imp.shape[0] > 0
    rec_link_on = rec_link.shape[0] > 0
    rec_stk_on = rec_stk.shape[0] > 0
    gain_on = gdp_gain.shape[0] > 0
    gap_on = rec_gap.shape[0] > 0
    dem_on = out_dem.shape[0] > 0
    overprod = alpha_max > 1.0
    R = gdp_loss_reg.shape[1]

    S = np.empty(nc)
    O = np.empty(nc)
    TG = np.empty(nc)
    IND = np.empty(nc)
    THA = np.empty(nc)
    TH = np.empty(nc)
    Duse = np.empty(p)
    xinp = np.empty(p)
    d = np.empty(p)
    dprev = np.empty(p)
    x = np.empty(p)
    alpha = np.empty(p)
    cap = np.empty(p)
    fd = np.empty(p)
    fdf = np.empty(p)
    ex = np.empty(p)
    rho_int = np.empty(p)
    rho_fd = np.empty(p)
    fd_lost = np.empty(p)
    stockpile = np.empty(K)
    impavail = np.empty(K)
    lint = np.empty(L)
    lfd = np.empty(L)
    g_int = np.empty(L)
    g_fd = np.empty(L)
    nprod = sigma.shape[0]
    full = np.empty(nprod, dtype=np.bool_)  # every supplier of the product delivers in full
    wsum = np.empty(nc)
    for kk in range(nc):
        acc = 0.0
        for ll in range(lptr[kk], lptr[kk + 1]):
            acc += lw[ll]
        wsum[kk] = acc

    ces_on = _ces_on(sigma)
    for b in range(p):
        for kk in range(cptr[b], cptr[b + 1]):
            TG[kk] = tgt[kk]
            TH[kk] = theta[kk]
            _cell_terms(kk, tgt[kk], theta[kk], A[kk], x0[b], S, IND, THA)
    inv_sum_x0 = _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile)
    inv_sum_tg = _inv_total(TG)

    for t in range(T):
        # --- capacity and exogenous final demand of the day
        for u in range(p):
            cap[u] = x0[u] * alpha[u]
            fdf[u] = 1.0
            ex[u] = e0[u]
            Duse[u] = 0.0
            fd_lost[u] = 0.0
        for q in range(C):
            cap[cap_idx[q]] *= capfac[t, q]
        for q in range(D):
            fdf[dem_idx[q]] *= demfac[t, q]
            ex[dem_idx[q]] *= exfac[t, q]
        for u in range(p):
            fd[u] = f0[u] * fdf[u]
        for l in range(L):
            lint[l] = 0.0
            lfd[l] = link_fd0[l] * fdf[link_node[l]]

        # --- pass 1: orders of every stock cell, split over its legs; input bound
        for b in range(p):
            db = dprev[b]
            bound_b = np.inf
            k0 = cptr[b]
            k1 = cptr[b + 1]
            for kk in range(k0, k1):
                s_k = S[kk]
                o = A[kk] * db + (TG[kk] - s_k) * inv_tau
                if o < 0.0:
                    o = 0.0
                O[kk] = o
                if L == 0:
                    for ll in range(lptr[kk], lptr[kk + 1]):
                        Duse[lsup[ll]] += lw[ll] * o
                else:
                    for ll in range(lptr[kk], lptr[kk + 1]):
                        ol = lw[ll] * o
                        Duse[lsup[ll]] += ol
                        lk = llink[ll]
                        if lk >= 0:
                            lint[lk] += ol
                bnd = IND[kk] + THA[kk] * s_k
                if bnd < bound_b:
                    bound_b = bnd
            if ces_on:
                bound_b = _bound_with_ces(k0, k1, cprod, S, A, IND, THA, TH, sigma, x0[b])
            xinp[b] = bound_b

        # --- cut links: what each link can take; the origin loses what it may not ship
        for l in range(L):
            gi, gf = _ratios(link_cap[t, l], lint[l], lfd[l], ration_mode)
            g_int[l] = gi
            g_fd[l] = gf
            u = link_node[l]
            Duse[u] -= lint[l] * (1.0 - gi)
            fd[u] -= lfd[l] * (1.0 - gf)
            fd_lost[u] += lfd[l] * (1.0 - gf)
            if rec_link_on:
                rec_link[t, l] = lint[l] * gi + lfd[l] * gf

        # --- demand addressed to producers; production
        _produce(p, Duse, fd, mu, ex, cap, xinp, d, x)

        # --- imports from outside the table of cut rows: schedule plus stockpile
        _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax,
                       impavail)

        # --- rationing: combined delivery ratios per row
        gl = 0.0
        gn = 0.0
        xgap = 0.0
        for r in range(R):
            gdp_loss_reg[t, r] = 0.0
        for i in range(nprod):
            full[i] = True
        for l in range(L):
            full[link_node[l] % nprod] = False
        for u in range(p):
            m = mu[u]
            dint = Duse[u]
            rd_i, rd_f = _ratios(x[u], (1.0 - m) * dint, (1.0 - m) * fd[u] + ex[u], ration_mode)
            q = sp_pos[u]
            if q >= 0:
                rm_i, rm_f = _ratios(impavail[q], m * dint, m * fd[u], ration_mode)
            else:
                rm_i = 1.0
                rm_f = 1.0
            rho_int[u] = 1.0 - (1.0 - m) * (1.0 - rd_i) - m * (1.0 - rm_i)
            rho_fd[u] = 1.0 - (1.0 - m) * (1.0 - rd_f) - m * (1.0 - rm_f)
            if rho_int[u] != 1.0:
                full[u % nprod] = False
            dx = x0[u] - x[u]
            gl += c[u] * dx
            gdp_loss_reg[t, nreg[u]] += c[u] * dx
            if dx < 0.0:
                gn -= c[u] * dx
                xgap -= dx
            else:
                xgap += dx
            out_cum[u] += dx
            if dem_on and dx > 0.0:
                dd = x0[u] - d[u]
                if dd > dx:
                    dd = dx
                if dd > 0.0:
                    out_dem[u] += dd
            if rec_fdu_on:
                rec_fdu[t, u] = fd[u] * (1.0 - rho_fd[u]) + ex[u] * (1.0 - rd_f) + fd_lost[u]
            if rec_x_on:
                rec_x[t, u] = x[u]
        gdp_loss[t] = gl
        if gain_on:
            gdp_gain[t] = gn

        # --- pass 2: deliveries over the legs and inventory update (rule of run_one)
        sgap = 0.0
        for b in range(p):
            xb = x[b]
            for kk in range(cptr[b], cptr[b + 1]):
                s_k = S[kk]
                o = O[kk]
                z = 0.0
                if full[cprod[kk]]:
                    # no leg is short: the sum over legs is the order times the weights
                    # (to round-off; one leg: exactly the single-region step)
                    z = o * wsum[kk]
                elif L == 0:
                    for ll in range(lptr[kk], lptr[kk + 1]):
                        z += lw[ll] * o * rho_int[lsup[ll]]
                else:
                    for ll in range(lptr[kk], lptr[kk + 1]):
                        lk = llink[ll]
                        zl = lw[ll] * o * rho_int[lsup[ll]]
                        if lk >= 0:
                            zl *= g_int[lk]
                        z += zl
                use = A[kk] * xb
                lim = s_k + z - TG[kk]
                if lim < s_k:
                    lim = s_k
                if use > lim:
                    use = lim
                S[kk] = s_k + z - use
                sgap += abs(S[kk] - TG[kk])
        if gap_on:
            rec_gap[t, 0] = xgap * inv_sum_x0
            rec_gap[t, 1] = sgap * inv_sum_tg

        # --- records of cut rows and stocks of cut products
        if rec_imp_on:
            _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp)
        if rec_stk_on:
            for k in range(rec_stk.shape[1]):
                for r in range(R):
                    rec_stk[t, k, r] = 0.0
            for b in range(p):
                for kk in range(cptr[b], cptr[b + 1]):
                    q = stk_pos[cprod[kk]]
                    if q >= 0:
                        rec_stk[t, q, nreg[b]] += S[kk]

        # --- overproduction (optional) and demand memory
        _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev)

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE
    info[0] = -1
    return _end_status(x)
