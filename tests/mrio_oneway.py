"""A one-way linked MRIO built around a single-region table (tests of the correspondence
between the MRIO engine and the single-region engine, docs/mrio.md, "The single-region
engine as a special case")."""

from __future__ import annotations

import numpy as np

from simcore import tables as tb
from simcore.dynamic.params import DynamicParams
from simcore.dynamic.shocks import CapacityShock, DemandShock, ExportCut, ImportCut

REGIONS = ("JPN", "CHN", "ROW")


def one_way_mrio(t1, cut_product: str, chn_share, seed: int = 0, headroom: float = 50.0,
                 cut_from_chn: float = 1.0):
    """Japan (``t1``, a single-region table with competitive imports ``M``) inside an MRIO
    with China and the rest of the world, linked one way.

    * Every Japanese buyer (firms and final demand) of product ``i`` buys the share
      ``mu_i`` of ``t1`` abroad (import proportionality), from CHN in the share
      ``chn_share[i]`` and from ROW in the rest; ``cut_product`` comes from CHN in the
      share ``cut_from_chn`` (1: from CHN only).
    * CHN and ROW buy nothing from Japan: their inputs come from CHN and ROW (a random
      technology), and China's producer of ``cut_product`` sells to Japan only.
    * Every other foreign producer exports ``headroom`` times its sales to Japan to outside
      the table (``E``): stopping those exports for the run gives it spare capacity.
    """
    rng = np.random.default_rng(seed)
    f = tb.flat(t1)
    codes = [str(s) for s in t1.sector.values]
    n = len(codes)
    k = codes.index(cut_product)
    Z, Y, E, x, V = f["Z"], f["Y"].sum(1), f["E"].sum(1), f["x"], f["V"].sum(0)
    mu = tb.import_shares(t1).values.reshape(-1)
    s = np.asarray(chn_share, dtype=float).copy()
    s[k] = cut_from_chn
    p = 3 * n
    J, C, W = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
    ZM = np.zeros((p, p))
    YM = np.zeros((p, 3))
    ZM[J, J] = (1 - mu)[:, None] * Z
    ZM[C, J] = (mu * s)[:, None] * Z
    ZM[W, J] = (mu * (1 - s))[:, None] * Z
    YM[J, 0] = (1 - mu) * Y
    YM[C, 0] = mu * s * Y
    YM[W, 0] = mu * (1 - s) * Y
    to_jpn = ZM[:, J].sum(1) + YM[:, 0]
    # the foreign regions' technology (CHN and ROW buy from each other and themselves)
    Af = rng.uniform(0, 1, (2 * n, 2 * n)) * (rng.uniform(0, 1, (2 * n, 2 * n)) < 0.7)
    Af[k, :] = 0.0  # China's producer of the cut product sells to Japan only
    Af *= rng.uniform(0.2, 0.5, 2 * n)[None, :] / np.maximum(Af.sum(0), 1e-9)
    Ef = headroom * to_jpn[n:] + rng.uniform(1, 5, 2 * n)
    Yf = rng.uniform(5, 50, (2 * n, 2))
    Ef[k] = 0.0
    Yf[k] = 0.0
    xf = np.linalg.solve(np.eye(2 * n) - Af, to_jpn[n:] + Ef + Yf.sum(1))
    ZM[n:, n:] = Af * xf[None, :]
    YM[n:, 1:] = Yf
    xm = np.concatenate([x, xf])
    EM = np.concatenate([E, Ef])
    VM = np.concatenate([V, xf - ZM[:, n:].sum(0)])
    return tb.from_arrays(ZM, YM, VM[None, :], x=xm, E=EM, regions=list(REGIONS),
                          sectors=codes, unit="M")


def spare_capacity(m, days: int):
    """Stop the exports to outside the table of every foreign producer that has some, for
    the whole run: the capacity they free is the foreign suppliers' spare capacity."""
    f = tb.flat(m)
    codes = [str(c) for c in m.sector.values]
    n = len(codes)
    return [DemandShock(sector=f"{REGIONS[u // n]}/{codes[u % n]}", change=-1.0,
                        target="exports", start=0, duration=days + 1)
            for u in range(n, 3 * n) if f["E"].sum(1)[u] > 0]


def paired_shocks(codes, k: str, share, start, duration, cap=None, dem=None):
    """The same scenario for the two engines: a cut of ``k`` from CHN to Japan, and
    optional capacity and demand shocks of Japanese sectors ``cap = (code, share)``,
    ``dem = (code, change)``."""
    single = [ImportCut(product=k, origin="CHN", share=share, start=start, duration=duration)]
    multi = [ExportCut(product=k, origin="CHN", destinations=["JPN"], share=share,
                       start=start, duration=duration)]
    if cap is not None:
        single.append(CapacityShock(sector=cap[0], share=cap[1], start=2, duration=15))
        multi.append(CapacityShock(sector=f"JPN/{cap[0]}", share=cap[1], start=2, duration=15))
    if dem is not None:
        single.append(DemandShock(sector=dem[0], change=dem[1], start=1, duration=20))
        multi.append(DemandShock(sector=f"JPN/{dem[0]}", change=dem[1], start=1, duration=20))
    return single, multi


def single_params(base: DynamicParams, k: str) -> DynamicParams:
    """The single-region engine's parameters: ``k``'s imports come from CHN alone."""
    import dataclasses

    return dataclasses.replace(base, import_origins={k: {"CHN": 1.0}})
