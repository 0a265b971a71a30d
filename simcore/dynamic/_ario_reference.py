"""Plain-numpy reference of BoARIO 0.6.3's ``ARIOPsiModel`` day step (the test oracle).

This is a literal, slow transcription of ``boario/model_base.py``, ``extended_models.py`` and
``simulation.py`` (tag v0.6.3) on bare arrays, with full ``p x p`` order matrices, ``tile``
and the ``n x p`` product-summing matrix ``I_sum`` exactly as BoARIO builds them, so that it
can be read side by side with BoARIO's source.  It is used only to test
:mod:`simcore.dynamic._ario_kernels` (which restructures the same arithmetic for speed) and
is never called by the package itself.

Inputs are on the flat, region-major industry axis ``i = r * n + k`` (``n`` sectors or
products, ``R`` regions, ``p = R n``) and **annual**; they are converted to daily flows
here by multiplying by ``1/365`` as BoARIO does.  ``delta[t]`` is the total share of
capacity lost on day ``t`` as the model sees it, i.e. already lowered from events
(including BoARIO's one-step lag, quirk Q1 of simcore.dynamic.ario, when parity is wanted).
"""

from __future__ import annotations

import numpy as np

__all__ = ["simulate_reference"]

#: BoARIO's ``np.allclose`` defaults (quirk Q5).
_RTOL = 1e-5
_ATOL = 1e-8


def simulate_reference(
    Z: np.ndarray,
    Y: np.ndarray,
    x: np.ndarray,
    *,
    n_regions: int,
    delta: np.ndarray,
    inv_duration: np.ndarray,
    restoration_tau: np.ndarray,
    mask: np.ndarray,
    fd_mult: np.ndarray | None = None,
    order_type: str = "alt",
    alpha_base: float = 1.0,
    alpha_max: float = 1.25,
    alpha_tau: float = 365.0,
    psi: float = 0.8,
    boario_compat: bool = True,
) -> dict[str, np.ndarray]:
    """Run the ARIO-Psi model for ``delta.shape[0]`` days and return every record.

    Parameters
    ----------
    Z, Y, x : ndarray
        Annual intermediate flows ``(p, p)``, final demand ``(p, k)`` (every column that is
        rationed, exports included) and gross output ``(p,)``.
    n_regions : int
        Number of regions ``R``; ``n = p / R`` products.
    delta : ndarray, shape (T, p)
        Share of capacity lost, per day and industry.
    inv_duration : ndarray, shape (n,)
        Inventory target ``s_k`` in days (``inf`` for never-binding inputs).
    restoration_tau : ndarray, shape (n,)
        Inventory restoration time per product, in days.
    mask : ndarray of bool, shape (n, p)
        Whether product ``k`` counts as an input of industry ``f`` (``threshold_not_input``).
    fd_mult : ndarray, shape (T, p), optional
        Multiplier of every final-demand cell of industry ``i`` on day ``t`` (simcore
        extension; BoARIO's final demand is constant).
    order_type, alpha_base, alpha_max, alpha_tau, psi
        As in BoARIO.
    boario_compat : bool
        Apply BoARIO's ``np.allclose`` skips of the stock update and of the inventory gap
        and its overproduction rule (reset towards ``alpha_base`` only when scarcity is
        exactly 0); otherwise every update is applied and the documented rule is used
        (``alpha`` moves towards ``alpha_max`` when scarcity > 0, towards ``alpha_base``
        otherwise).

    Returns
    -------
    dict
        ``production``, ``capacity``, ``final_demand_unmet``, ``demand``, ``overproduction``,
        ``orders_received`` (all ``(T, p)``) and ``stocks`` (``(T, n, p)``, written before
        production as BoARIO does).  ``status`` is 0, or the simcore status code of the
        first failure and ``fail_day`` its day (records after it are left at NaN).
    """
    Z = np.asarray(Z, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    p = Z.shape[0]
    R = int(n_regions)
    n = p // R
    T = delta.shape[0]
    steply = 1.0 / 365.0

    # --- initialisation (ARIOBaseModel.__init__, ARIOPsiModel.__init__) ---------------
    I_sum = np.tile(np.eye(n), R)
    Z_C = I_sum @ Z
    with np.errstate(divide="ignore", invalid="ignore"):
        Z_distrib = np.divide(Z, np.tile(Z_C, (R, 1)))
    Z_distrib = np.nan_to_num(Z_distrib, nan=0.0, posinf=0.0, neginf=0.0)
    Z_0 = Z * steply
    Y_0 = Y * steply
    X_0 = x * steply
    with np.errstate(divide="ignore"):
        recix = 1.0 / x
    recix[recix == np.inf] = 0.0
    A = Z * recix[None, :]
    tech_mat = I_sum @ A
    inv = np.asarray(inv_duration, dtype=np.float64)
    restoration = 1.0 / np.asarray(restoration_tau, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stock = (np.tile(X_0, (n, 1)) * tech_mat) * inv[:, None]
    stock = np.nan_to_num(stock, nan=np.inf, posinf=np.inf)
    orders = Z_0.copy()
    production = X_0.copy()
    overprod = np.full(p, alpha_base, dtype=np.float64)
    overprod_tau = 1.0 / alpha_tau
    inv_finite0 = np.nan_to_num(inv, posinf=0.0)

    rec = {k: np.full((T, p), np.nan) for k in (
        "production", "capacity", "final_demand_unmet", "demand", "overproduction",
        "orders_received")}
    rec["stocks"] = np.full((T, n, p), np.nan)
    status, fail_day = 0, -1

    for t in range(T):
        fd = Y_0 if fd_mult is None else Y_0 * fd_mult[t][:, None]
        entire = np.concatenate([orders, fd], axis=1)
        D = np.einsum("ij->i", entire)
        rec["stocks"][t] = stock
        rec["orders_received"][t] = np.einsum("ij->i", orders)

        # 0) overproduction (Simulation.next_step: only if current_temporal_unit > 1)
        if t > 1:
            scarcity = np.full(p, 0.0)
            nz = D != 0
            scarcity[nz] = (D[nz] - production[nz]) / D[nz]
            scarcity[np.isnan(scarcity)] = 0
            if boario_compat:
                chg = (((alpha_max - overprod) * scarcity * overprod_tau)
                       + ((alpha_base - overprod) * (scarcity == 0) * overprod_tau))
            else:  # the documented rule (boario-math.rst): reset when scarcity <= 0
                chg = np.where(scarcity > 0, (alpha_max - overprod) * scarcity * overprod_tau,
                               (alpha_base - overprod) * overprod_tau)
            overprod = overprod + chg
            overprod[overprod < 1.0] = 1.0

        # 1) production (calc_production with the Psi inventory constraint)
        cap = X_0.copy()
        cap = cap * (1 - delta[t])
        cap = cap * overprod
        if (cap < 0).any():
            status, fail_day = 3, t
            break
        xopt = np.fmin(D, cap)
        constr = (np.tile(xopt, (n, 1)) * tech_mat) * psi
        constr = constr * np.tile(inv_finite0[:, None], (1, p))
        if ((stock < constr) * mask).any():
            ratio = np.ones(stock.shape)
            np.divide(stock, constr, out=ratio, where=(mask * (constr != 0)))
            ratio[ratio > 1] = 1
            production = np.min(np.tile(xopt, (n, 1)) * ratio, axis=0)
        else:
            production = xopt

        # 2) distribution (distribute_production)
        shares = np.full(entire.shape, 0.0)
        tot = D[:, None]
        np.divide(entire, tot, where=(tot != 0), out=shares)
        distributed = shares * production[:, None]
        stock_use = np.tile(production, (n, 1)) * tech_mat
        stock_add = I_sum @ distributed[:, :p]
        if (not boario_compat) or (not np.allclose(stock_add, stock_use)):
            stock = stock - stock_use + stock_add
            if (stock < 0).any():
                status, fail_day = 1, t
                break
            if np.isnan(stock).any():
                status, fail_day = 2, t
                break
        unmet = np.einsum("ij->i", fd - distributed[:, p:])
        unmet[unmet == 0.0] = 0.0

        # 3) orders for the next step (calc_orders)
        goal = np.tile(xopt, (n, 1)) * tech_mat
        with np.errstate(invalid="ignore"):
            goal *= inv[:, None]
        if boario_compat and np.allclose(stock, goal):
            gap = np.zeros(goal.shape)
        else:
            gap = np.zeros(goal.shape)
            fin = np.isfinite(goal)
            gap[fin] = goal[fin] - stock[np.isfinite(stock)]
            gap[gap < 0] = 0
            gap = restoration[:, None] * gap
        gap += np.tile(production, (n, 1)) * tech_mat
        if order_type == "alt":
            prod_ratio = np.ones(p)
            np.divide(cap, X_0, out=prod_ratio, where=X_0 != 0)
            Z_prod = Z_0 * prod_ratio[:, None]
            Z_Cprod = np.tile(I_sum @ Z_prod, (R, 1))
            out = np.zeros(Z_prod.shape)
            np.divide(Z_prod, Z_Cprod, out=out, where=Z_Cprod != 0)
            orders = np.tile(gap, (R, 1)) * out
        else:
            orders = np.tile(gap, (R, 1)) * Z_distrib

        rec["production"][t] = production
        rec["capacity"][t] = cap
        rec["final_demand_unmet"][t] = unmet
        rec["demand"][t] = D
        rec["overproduction"][t] = overprod

    rec["status"] = np.array(status)
    rec["fail_day"] = np.array(fail_day)
    return rec
