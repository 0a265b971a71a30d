"""Numba kernels of simcore's supply-chain engine (bare arrays in, caller-allocated outputs).

The equations are documented in ``docs/methodology.md`` and in :mod:`simcore.dynamic.supply_chain`;
:mod:`simcore.dynamic._reference` is a plain-numpy implementation of the same day step,
used as the test oracle.

Layout
------
The coefficient matrix is stored by buyer column in compressed sparse column (CSC) form:
``colptr`` (n+1), ``rowidx`` (nnz) and per-cell arrays ``A``, ``tgt`` (inventory target,
money), ``theta`` (dependency share: the share of the buyer's output that stops without
the input).  Only cells with a positive baseline flow are stored: an input with no baseline
flow can never bind (docs/methodology.md, "Lowering the table").

*Special* products (index set ``sp_idx``, size K) are the products whose imports are split
by origin and can be cut; their import capacity per day is an exogenous schedule
``impcap[t, k]`` plus a stockpile released on shortage.  Imports of every other product are
perfectly elastic.  Scenario-specific overrides of the dependency shares and inventory
targets of special rows are dense ``(K, n)`` arrays, so a batch of thousands of scenarios
shares one copy of the table.

Status codes are those of :mod:`simcore._jit`; nothing is raised inside a kernel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import (
    STATUS_NEGATIVE_OUTPUT,
    STATUS_NON_FINITE,
    STATUS_OK,
    njit,
    njit_parallel,
)

#: Relative tolerance under which an import or a supplier is considered to cover demand
#: exactly (protects the no-shock steady state from round-off: without it a run with no
#: shock can drift from baseline by rounding).
COVER_RTOL = 1e-12

from ._bundles import RATION_FIRMS_FIRST, RATION_PROPORTIONAL  # noqa: E402,F401


@njit
def ces_ratio(s: float, sigma: float, q: float) -> float:
    """Output ratio of a CES aggregate when an input with cost share ``s`` is cut to ``q``.

    ``Y/Y0 = [(1-s) + s q^((sigma-1)/sigma)]^(sigma/(sigma-1))``, evaluated in log space
    (docs/methodology.md, the CES ratio); ``sigma == 0`` is Leontief (``min(1, q)``), ``sigma == 1``
    Cobb-Douglas (``q^s``).
    """
    if q >= 1.0:
        return 1.0
    if sigma <= 0.0:
        return q if q > 0.0 else 0.0
    if q <= 0.0:
        if sigma < 1.0:
            return 0.0
        if sigma == 1.0:
            return 0.0
        return (1.0 - s) ** (sigma / (sigma - 1.0))
    lq = math.log(q)
    if sigma == 1.0:
        return math.exp(s * lq)
    r = (sigma - 1.0) / sigma
    a = math.log(1.0 - s)
    b = math.log(s) + r * lq
    m = a if a > b else b
    lse = m + math.log(math.exp(a - m) + math.exp(b - m))
    return math.exp(lse / r)


@njit
def _ratios(supply: float, d_int: float, d_fd: float, mode: int) -> tuple[float, float]:
    """Fill ratios (intermediate, final) of a supplier with ``supply`` facing two demands."""
    total = d_int + d_fd
    if total <= 0.0:
        return 1.0, 1.0
    if supply >= total * (1.0 - COVER_RTOL):
        return 1.0, 1.0
    if supply <= 0.0:
        return 0.0, 0.0
    if mode == RATION_FIRMS_FIRST:
        if supply >= d_int:
            return 1.0, (supply - d_int) / d_fd if d_fd > 0.0 else 1.0
        return supply / d_int, 0.0
    r = supply / total
    return r, r


@njit
def _bound_with_ces(k0, k1, rowidx, S, A, IND, THA, TH, sigma, xj0):
    """Input bound of one buyer: Leontief for every input, the exact CES ratio for inputs
    with ``sigma > 0`` short of their baseline need (see run_one)."""
    bound = np.inf
    for kk in range(k0, k1):
        i = rowidx[kk]
        th = TH[kk]
        b = IND[kk] + THA[kk] * S[kk]
        if sigma[i] > 0.0 and th > 0.0:
            a = A[kk]
            qa = S[kk] / (a * xj0)
            if qa < 1.0:
                share = a / th
                if share > 0.999:
                    share = 0.999
                b = xj0 * ((1.0 - th) + th * ces_ratio(share, sigma[i], qa))
        if b < bound:
            bound = b
    return bound


@njit
def _produce(n, Duse, fd, mu, ex, cap, bound, d, x):
    """A day's production (every supply-chain kernel, one region or many): demand addressed
    to domestic producers ``d`` and output ``x``, the least of capacity, the input bound and
    demand, never negative."""
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


@njit
def _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax, impavail):
    """A day's import supply of the special products ``impavail``: the schedule
    ``impcap[t]`` plus a stockpile release covering the shortfall, at most ``relmax`` a day
    and what is left (``stockpile`` is drawn down in place)."""
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


@njit
def _ration_and_record(t, n, x, Duse, fd, ex, mu, x0, c, d, sp_pos, impavail, ration_mode,
                       rho_int, rho_fd, out_cum, out_dem, dem_on, rec_fdu, rec_fdu_on,
                       rec_x, rec_x_on):
    """One day's rationing and records, shared by the single-run kernels (``run_one``, the
    dense-row and the fused kernels): the combined delivery ratios per product
    (``rho_int``, ``rho_fd``: domestic supply for intermediate ``(1-mu) Duse`` and final
    ``(1-mu) fd + exports``, special products' imports for ``mu`` of each), the cumulated
    output and demand-constrained losses and the daily records.  Returns the day's net GDP
    loss, its gains and the output gap ``sum |x0 - x|``."""
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
            rm_f = 1.0
        rho_int[i] = 1.0 - (1.0 - m) * (1.0 - rd_i) - m * (1.0 - rm_i)
        rho_fd[i] = 1.0 - (1.0 - m) * (1.0 - rd_f) - m * (1.0 - rm_f)
        dx = x0[i] - x[i]
        gl += c[i] * dx
        if dx < 0.0:
            gn -= c[i] * dx
            xgap -= dx
        else:
            xgap += dx
        out_cum[i] += dx
        if dem_on and dx > 0.0:
            dd = x0[i] - d[i]
            if dd > dx:
                dd = dx
            if dd > 0.0:
                out_dem[i] += dd
        if rec_fdu_on:
            rec_fdu[t, i] = fd[i] * (1.0 - rho_fd[i]) + ex[i] * (1.0 - rd_f)
        if rec_x_on:
            rec_x[t, i] = x[i]
    return gl, gn, xgap


@njit
def _ces_on(sigma):
    """Whether any product has a CES elasticity (``sigma > 0``): the kernels then keep the
    dependency shares per cell and take the CES bound."""
    for i in range(sigma.shape[0]):
        if sigma[i] > 0.0:
            return True
    return False


@njit
def _cell_constants(c0, c1, colptr, rowidx, sp_pos, A, tgt, theta, tgt_sp, theta_sp, x0,
                    S, TG, TH, IND, THA, write_tg, write_th):
    """Per-cell constants of buyer columns ``c0`` to ``c1`` with the special rows'
    overrides merged in, and the stocks at their targets (every CSC kernel's start):
    ``TG`` the inventory target and ``TH`` the dependency share (written only if
    ``write_tg`` / ``write_th``: a kernel that reads ``tgt`` itself where there is nothing
    to merge, or that needs no shares without CES, passes False), ``IND = (1 - theta) x0_j``,
    the output that does not need the input (inf if ``theta = 0``: the input never
    binds), and ``THA = theta / A``, so that the input bound is ``IND + THA * S``."""
    for j in range(c0, c1):
        xj0 = x0[j]
        for kk in range(colptr[j], colptr[j + 1]):
            p = sp_pos[rowidx[kk]]
            if p < 0:
                tg = tgt[kk]
                th = theta[kk]
            else:
                tg = tgt_sp[p, j]
                th = theta_sp[p, j]
            if write_tg:
                TG[kk] = tg
            if write_th:
                TH[kk] = th
            _cell_terms(kk, tg, th, A[kk], xj0, S, IND, THA)


@njit
def _cell_terms(kk, tg, th, a, xj0, S, IND, THA):
    """Cell ``kk`` (coefficient ``a``, target ``tg``, dependency share ``th``, buyer's
    baseline output ``xj0``) at the start: its stock at the target and the terms of its
    input bound ``IND + THA * S`` (``IND = inf``, ``THA = 0`` where ``th = 0``: the input
    never binds)."""
    S[kk] = tg
    if th > 0.0:
        IND[kk] = (1.0 - th) * xj0
        THA[kk] = th / a
    else:
        IND[kk] = np.inf
        THA[kk] = 0.0


@njit
def _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile):
    """The state of day 0 that is not per cell (every single-run kernel, one region or
    many): demand remembered at baseline, no overproduction, nothing lost yet, the
    stockpiles full.  Returns ``1 / sum(x0)`` (0 if that sum is not positive), the output
    gap's scale."""
    n = x0.shape[0]
    for j in range(n):
        dprev[j] = x0[j]
        alpha[j] = 1.0
        out_cum[j] = 0.0
        if dem_on:
            out_dem[j] = 0.0
    for k in range(stockpile.shape[0]):
        stockpile[k] = stock0[k]
    sum_x0 = 0.0
    for j in range(n):
        sum_x0 += x0[j]
    return 1.0 / sum_x0 if sum_x0 > 0.0 else 0.0


@njit
def _inv_total(v):
    """``1 / sum(v)`` summed in index order (0 if the sum is not positive): the stock gap's
    scale from the per-cell targets."""
    tot = 0.0
    for kk in range(v.shape[0]):
        tot += v[kk]
    return 1.0 / tot if tot > 0.0 else 0.0


@njit
def _exogenous(t, x0, alpha, f0, e0, cap_idx, capfac, dem_idx, demfac, exfac, cap, fd, ex):
    """Day ``t``'s capacity ``cap`` (baseline times the overproduction factor, times the
    capacity shocks) and exogenous final demand ``fd`` and exports ``ex`` (times the demand
    shocks): every single-run kernel, one region or many."""
    for j in range(x0.shape[0]):
        cap[j] = x0[j] * alpha[j]
        fd[j] = f0[j]
        ex[j] = e0[j]
    for q in range(cap_idx.shape[0]):
        cap[cap_idx[q]] *= capfac[t, q]
    for q in range(dem_idx.shape[0]):
        fd[dem_idx[q]] *= demfac[t, q]
        ex[dem_idx[q]] *= exfac[t, q]


@njit
def _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp):
    """Day ``t``'s imports of each special product delivered, to intermediate and final
    users (``rec_imp[t]``), as rationed by :func:`_ratios`."""
    for k in range(sp_idx.shape[0]):
        i = sp_idx[k]
        rm_i, rm_f = _ratios(impavail[k], mu[i] * Duse[i], mu[i] * fd[i], ration_mode)
        rec_imp[t, k] = mu[i] * (Duse[i] * rm_i + fd[i] * rm_f)


@njit
def _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev):
    """The end of a day: the overproduction factor ``alpha`` moves towards ``alpha_max``
    while demand exceeds output and back to 1 otherwise (only if ``overprod``, ARIO's rule),
    and today's demand ``d`` becomes the demand tomorrow's orders follow."""
    for j in range(d.shape[0]):
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


@njit
def _end_status(x):
    """A run's status after its last day: negative output is an error (it cannot happen
    with valid inputs: a check of the kernel), else OK."""
    for j in range(x.shape[0]):
        if x[j] < 0.0:
            return STATUS_NEGATIVE_OUTPUT
    return STATUS_OK


@njit
def _pass1(c0, c1, colptr, rowidx, A, TG, IND, THA, TH, sigma, x0, S, dprev, inv_tau, ces_on,
           Duse, xinp, O):
    """Pass 1 of a day (``run_one``'s every day; the fused kernels' first day, whose later
    days run it fused with the previous day's pass 2): the orders ``O`` (from last period's
    demand ``dprev`` and the inventory gap), their sum by product ``Duse`` and the
    input-limited output bound ``xinp`` from the stocks at the start of the day (CES within
    the dependent share replacing the Leontief bound of CES inputs if ``ces_on``), over the
    buyer columns ``c0 <= j < c1`` (``Duse`` holds their orders only: the parallel kernel's
    blocks each sum into a partial of their own)."""
    for i in range(Duse.shape[0]):
        Duse[i] = 0.0
    for j in range(c0, c1):
        dj = dprev[j]
        bound_j = np.inf
        k0 = colptr[j]
        k1 = colptr[j + 1]
        for kk in range(k0, k1):
            s_k = S[kk]
            o = A[kk] * dj + (TG[kk] - s_k) * inv_tau
            if o < 0.0:
                o = 0.0
            O[kk] = o
            Duse[rowidx[kk]] += o
            b = IND[kk] + THA[kk] * s_k
            if b < bound_j:
                bound_j = b
        if ces_on:
            bound_j = _bound_with_ces(k0, k1, rowidx, S, A, IND, THA, TH, sigma, x0[j])
        xinp[j] = bound_j


@njit
def run_one(
    # table (shared)
    colptr, rowidx, A, tgt, theta, sigma, x0, f0, e0, mu, c, inv_tau,
    # special (origin-split) products
    sp_pos, sp_idx, impcap, stock0, relmax, theta_sp, tgt_sp,
    # capacity and demand shocks
    cap_idx, capfac, dem_idx, demfac, exfac,
    # options
    ration_mode, alpha_max, alpha_tau,
    # work arrays (nnz: S, O; n: several)
    S, O, Duse, xinp, d, dprev, x, alpha, cap, fd, ex, rho_int, rho_fd, stockpile, impavail,
    # outputs
    gdp_loss, out_cum, rec_x, rec_fdu, rec_imp, rec_spstock, gdp_gain, rec_gap, info, out_dem,
):
    """Run one scenario over ``gdp_loss.shape[0]`` days; return a status code.

    All state is in the caller-allocated work arrays, initialised here.  Records whose
    first dimension is 0 are not written.  ``gdp_loss[t]`` is the net loss of day ``t``;
    ``gdp_gain[t]`` (if recorded) the value added of output *above* baseline that day,
    ``sum_j c_j max(x_j - x0_j, 0)`` (overproduction, docs/methodology.md "Reporting losses"), so the value added
    lost by sectors below baseline is ``gdp_loss + gdp_gain``.  ``rec_gap[t]`` (if
    recorded, shape ``(T, 2)``) holds the distance from baseline at the end of day ``t``:
    ``sum_j |x_j - x0_j| / sum_j x0_j`` (output) and ``sum |S - target| / sum target``
    (stocks of every input held by every buyer), the two tests of recovery.  ``out_dem`` (if its size
    is not 0) accumulates the demand-constrained part of each sector's output loss,
    ``min(x0 - x, max(x0 - d, 0))``: the loss its customers' lower orders alone would cause;
    the rest of ``out_cum`` is supply-constrained (inputs or capacity bind).
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

    # Per-cell constants, merged with the special-row overrides once per run so that the
    # daily loops are branch-light:
    #   TG   inventory target;
    #   IND  (1 - theta) x0_j, the output that does not need the input (inf if theta = 0:
    #        the input never binds);  THA = theta / A: bound = IND + THA * S;
    nnz = A.shape[0]
    TG = np.empty(nnz)
    IND = np.empty(nnz)
    THA = np.empty(nnz)
    TH = np.empty(nnz)
    ces_on = _ces_on(sigma)
    # initial state: stocks at target, demand at baseline, no overproduction
    _cell_constants(0, n, colptr, rowidx, sp_pos, A, tgt, theta, tgt_sp, theta_sp, x0,
                    S, TG, TH, IND, THA, True, True)
    inv_sum_x0 = _start(x0, stock0, dem_on, dprev, alpha, out_cum, out_dem, stockpile)
    inv_sum_tg = _inv_total(TG)

    for t in range(T):
        # --- capacity and exogenous final demand of the day
        _exogenous(t, x0, alpha, f0, e0, cap_idx, capfac, dem_idx, demfac, exfac, cap, fd, ex)

        # --- pass 1: orders (from last period's demand and the inventory gap) and the
        #     input-limited output bound from the stocks at the start of the day
        _pass1(0, n, colptr, rowidx, A, TG, IND, THA, TH, sigma, x0, S, dprev, inv_tau, ces_on,
               Duse, xinp, O)

        # --- demand addressed to domestic producers; production
        _produce(n, Duse, fd, mu, ex, cap, xinp, d, x)

        # --- import supply of special products: schedule plus stockpile release
        _import_supply(t, K, sp_idx, mu, Duse, fd, impcap, stockpile, relmax,
                       impavail)

        # --- rationing: combined delivery ratios per product; records
        gl, gn, xgap = _ration_and_record(t, n, x, Duse, fd, ex, mu, x0, c, d, sp_pos,
                                          impavail, ration_mode, rho_int, rho_fd, out_cum,
                                          out_dem, dem_on, rec_fdu, rec_fdu_on, rec_x,
                                          rec_x_on)
        gdp_loss[t] = gl
        if gain_on:
            gdp_gain[t] = gn

        # --- pass 2: deliveries and inventory update (use = technical use A x)
        #     Use is the technical use A x_j, capped at the stock held at the start of the
        #     day unless the day's deliveries z would lift the stock above its target TG,
        #     in which case everything above the target can be used:
        #     U = min(A x, max(S, S + z - TG)) (differs from S only when z > TG).  So deliveries
        #     below the target are not consumed by the share of output that does not need
        #     the input (they are there for tomorrow's bound), and a restocking buyer never
        #     overshoots its target by storing deliveries that its production absorbs.
        #     For a fully binding input x_j <= S / A, so use = A x_j exactly.
        sgap = 0.0
        for j in range(n):
            xj = x[j]
            for kk in range(colptr[j], colptr[j + 1]):
                s_k = S[kk]
                z = O[kk] * rho_int[rowidx[kk]]
                use = A[kk] * xj
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

        # --- records of special products
        if rec_imp_on:
            _record_imports(t, sp_idx, mu, Duse, fd, impavail, ration_mode, rec_imp)
        if rec_sp_on:
            for k in range(K):
                tot = 0.0
                for j in range(n):
                    for kk in range(colptr[j], colptr[j + 1]):
                        if rowidx[kk] == sp_idx[k]:
                            tot += S[kk]
                rec_spstock[t, k] = tot

        # --- overproduction (optional, ARIO-style) and demand memory
        _remember_demand(overprod, alpha_max, alpha_tau, d, x, alpha, dprev)

        if not math.isfinite(gl):
            info[0] = t
            return STATUS_NON_FINITE
    info[0] = -1
    return _end_status(x)


@njit_parallel
def run_batch(
    colptr, rowidx, A, tgt, theta, sigma, x0, f0, e0, mu, c, inv_tau,
    sp_pos, sp_idx, impcap, stock0, relmax, theta_sp, tgt_sp,
    cap_idx, capfac, dem_idx, demfac, exfac,
    ration_mode, alpha_max, alpha_tau,
    gdp_loss, out_cum, rec_x, rec_fdu, status, info, rec_gap, out_dem, gdp_gain,
):
    """Run a batch of scenarios in parallel (``prange`` over the leading scenario axis).

    Per-scenario inputs carry a leading axis of length ``n_scen``: ``impcap (s, T, K)``,
    ``stock0 (s, K)``, ``relmax (s, K)``, ``theta_sp (s, K, n)``, ``tgt_sp (s, K, n)``,
    ``capfac (s, T, C)``, ``demfac (s, T, D)``, ``exfac (s, T, D)``, ``inv_tau (s,)``, ``alpha_max (s,)``.
    Outputs: ``gdp_loss (s, T)``, ``out_cum (s, n)`` (cumulative output loss), optional ``rec_x (s, T, n)`` and
    ``rec_fdu (s, T, n)`` (leading size 0 when not recorded), ``status (s,)``,
    ``info (s,)``, ``rec_gap (s, T, 2)`` (distance from baseline, see run_one; leading
    size 0 when not recorded) and ``out_dem (s, n)`` (demand-constrained output loss; leading
    size 0 when not kept) and ``gdp_gain (s, T)`` (value added above baseline, see run_one;
    leading size 0 when not recorded).  Work arrays are allocated per scenario inside the loop (small: O(nnz)).
    """
    n_scen = gdp_loss.shape[0]
    n = x0.shape[0]
    nnz = A.shape[0]
    K = sp_idx.shape[0]
    rx = rec_x.shape[0] > 0
    rf = rec_fdu.shape[0] > 0
    rg = rec_gap.shape[0] > 0
    for s in prange(n_scen):
        S = np.empty(nnz)
        O = np.empty(nnz)
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
        inf1 = np.empty(1, dtype=np.int64)
        empty2 = np.empty((0, n))
        emptyk = np.empty((0, K))
        empty1 = np.empty(0)
        rxs = rec_x[s] if rx else empty2
        rfs = rec_fdu[s] if rf else empty2
        rgs = rec_gap[s] if rg else np.empty((0, 2))
        ods = out_dem[s] if out_dem.shape[0] > 0 else empty1
        ggs = gdp_gain[s] if gdp_gain.shape[0] > 0 else empty1
        status[s] = run_one(
            colptr, rowidx, A, tgt, theta, sigma, x0, f0, e0, mu, c, inv_tau[s],
            sp_pos, sp_idx, impcap[s], stock0[s], relmax[s], theta_sp[s], tgt_sp[s],
            cap_idx, capfac[s], dem_idx, demfac[s], exfac[s],
            ration_mode, alpha_max[s], alpha_tau,
            S, O, Duse, xinp, d, dprev, x, alpha, cap, fd, ex, rho_int, rho_fd, stockpile,
            impavail,
            gdp_loss[s], out_cum[s], rxs, rfs,
            emptyk, emptyk, ggs, rgs, inf1, ods,
        )
        info[s] = inf1[0]


# --------------------------------------------------------------------------------------
# Bundled arguments of run_one: simcore.dynamic._bundles (numba-free), re-exported here
# --------------------------------------------------------------------------------------
from ._bundles import (  # noqa: E402,F401
    Options, Records, Shocks, Special, Table, Work, check_single, indices, work_arrays)


def run_single(table: Table, special: Special, shocks: Shocks, options: Options,
               work: Work, records: Records) -> int:
    """:func:`run_one` on bundled arguments, on unsigned indices (:func:`indices`: the same
    bits, faster); returns its status code."""
    check_single(special, shocks, records, table.x0.shape[0], "run_single", (0,))
    cp, ri = indices(table.colptr, table.rowidx, table.x0.shape[0])
    return run_one(cp, ri, *table[2:], *special, *shocks, *options, *work, *records)
