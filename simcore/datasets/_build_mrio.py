"""Build the synthetic three-region Japan-China-rest-of-world table ``jcr-2015-39``.

Called by :mod:`simcore.datasets._build` (``python -m simcore.datasets._build``); the
assumptions are data, in ``_source/jcr-mrio/assumptions.toml``, each stated there with its
range; docs/mrio.md ("The shipped test MRIO") explains them.

Steps:

1. Japan's 2015 table, 185 sectors (built from the MIC sources by ``_build._japan``), with
   rare earths (RE) and magnets (MAG) carved out by ``scenarios/data/rare_earths.toml``,
   negative cells removed (:func:`simcore.transform.prepare_for_dynamics`) and aggregated
   to MIC's 37 sectors plus RE and MAG (:func:`simcore.transform.japan_185_to_37`).
2. For buyer region ``r`` and product ``i``, origin shares ``s_r(o | i)`` over the three
   regions (own region ``1 - import share``; the import share split over the two others).
3. One technology: ``A_MR[(o, i), (r, j)] = A[i, j] s_r(o | i)``, final demand
   ``Y[(o, i), r] = g_r f[i] s_r(o | i)`` with ``f`` Japan's domestic final demand by
   product; gross output ``x = (I - A_MR)^-1 Y 1``, ``Z = A_MR x``, value added by item
   ``V = v x`` with Japan's value-added coefficients ``v``.  The table balances by
   construction.
4. The scales ``g_r`` solve the linear system that gives every region its GDP (Japan: its
   table's GDP-like value added; China and the rest of the world: the ratios of the
   assumptions file).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from .. import tables as tb
from .. import transform as tr
from ..carve_spec import carve, load_spec, origin_shares

SOURCE = Path(__file__).resolve().parent / "_source"
ASSUMPTIONS = SOURCE / "jcr-mrio" / "assumptions.toml"
#: The carve-out data file the table is built with (scenarios/data, shipped with the repo).
CARVE = Path(__file__).resolve().parents[2] / "scenarios" / "data" / "rare_earths.toml"


def japan_39(japan):
    """``japan``: :func:`simcore.datasets._build._japan` (passed in: the build script calls
    this module, not the other way round).  Japan's carved, non-negative table aggregated to 37 sectors + RE + MAG (step 1)."""
    arrays, meta = japan(185)
    t = tb.from_arrays(arrays["Z"], arrays["Y"], arrays["V"], x=arrays["x"], E=arrays["E"],
                       M=arrays["M"], sectors=meta["sectors"], final_demand=meta["final_demand"],
                       va_items=meta["va_items"], export_items=meta["export_items"],
                       import_items=meta["import_items"], name_en=meta["name_en"],
                       name_ja=meta["name_ja"], unit="million JPY", year=2015,
                       atol=0.5, rtol=0.0)
    spec = load_spec(CARVE)
    t = carve(t, spec)
    t, _ = tr.prepare_for_dynamics(t)
    conc = tr.japan_185_to_37()
    groups = dict(conc.sectors)
    groups.update({c: c for c in spec["products"]})
    order = list(conc.order) + [c for c in ("RE", "MAG") if c in spec["products"]]
    names = dict(conc.sector_names)
    for c, prod in spec["products"].items():
        names[c] = (prod.get("name_en", c), prod.get("name_ja", c))
    agg = tr.aggregate(t, tr.Concordance(sectors=groups, sector_names=names,
                                         order=tuple(order), **tr.JAPAN_185_TO_37_ITEMS))
    return agg, spec, groups


def build_jcr(japan) -> tuple[dict[str, np.ndarray], dict]:

    a = tomllib.loads(ASSUMPTIONS.read_text(encoding="utf-8"))
    jp, spec, _ = japan_39(japan)
    f = tb.flat(jp)
    codes = [str(s) for s in jp.sector.values]
    n = len(codes)
    x = f["x"]
    A = np.where(x[None, :] > 0, f["Z"] / np.where(x > 0, x, 1.0)[None, :], 0.0)
    v = np.where(x[None, :] > 0, f["V"] / np.where(x > 0, x, 1.0)[None, :], 0.0)
    fd = f["Y"].sum(1)
    mu = tb.import_shares(jp).values.reshape(-1)
    regions = list(a["regions"])
    assert regions == ["JPN", "CHN", "ROW"]
    R = 3
    ix = {c: k for k, c in enumerate(codes)}

    def vec(default: float, override: dict) -> np.ndarray:
        out = np.full(n, float(default))
        for c, val in override.items():
            out[ix[c]] = float(val)
        return out

    o = a["origins"]
    sh = np.zeros((R, R, n))  # [buyer region, origin region, product]
    cn_share_jp = vec(o["JPN_from_CHN"], {c: s["CHN"] for c, s in origin_shares(spec).items()})
    sh[0, 0] = 1.0 - mu
    sh[0, 1] = mu * cn_share_jp
    sh[0, 2] = mu * (1.0 - cn_share_jp)
    mu_c = np.clip(mu * float(a["import_shares"]["CHN_factor"]), 0.0, 1.0)
    for c, val in a["import_shares"]["CHN_override"].items():
        mu_c[ix[c]] = float(val)
    sh[1, 1] = 1.0 - mu_c
    sh[1, 0] = mu_c * float(o["CHN_from_JPN"])
    sh[1, 2] = mu_c * (1.0 - float(o["CHN_from_JPN"]))
    sh[2, 0] = vec(o["ROW_from_JPN"], o["ROW_from_JPN_override"])
    sh[2, 1] = vec(o["ROW_from_CHN"], o["ROW_from_CHN_override"])
    sh[2, 2] = 1.0 - sh[2, 0] - sh[2, 1]
    assert np.all(sh >= 0) and np.allclose(sh.sum(1), 1.0)
    p = R * n
    AM = np.zeros((p, p))
    for r in range(R):
        for og in range(R):
            AM[og * n:(og + 1) * n, r * n:(r + 1) * n] = sh[r, og][:, None] * A
    Yunit = np.zeros((p, R))
    for r in range(R):
        for og in range(R):
            Yunit[og * n:(og + 1) * n, r] = fd * sh[r, og]
    Lsolve = np.linalg.solve(np.eye(p) - AM, Yunit)  # (p, R): output per unit scale
    c = v[np.asarray(jp.in_gdp.values)].sum(0)
    cg = np.tile(c, R)
    G = np.array([[float((cg * Lsolve[:, q])[r * n:(r + 1) * n].sum()) for q in range(R)]
                  for r in range(R)])
    gdp_j = float(tb.gdp(jp))
    target = gdp_j * np.array([1.0, float(a["gdp"]["CHN"]), float(a["gdp"]["ROW"])])
    g = np.linalg.solve(G, target)
    assert np.all(g > 0)
    Y = Yunit * g[None, :]
    xm = Lsolve @ g
    # round to whole million yen would unbalance; keep float, balanced to round-off
    Z = AM * xm[None, :]
    V = np.tile(v, (1, R)) * xm[None, :]
    names37 = japan(37)[1]["item_names"]  # MIC's names of the 37-sector table's items
    names = {}
    for k, e, j in zip(jp.va_item.values, jp["va_item_name_en"].values,
                       jp["va_item_name_ja"].values):
        names[str(k)] = names37.get(str(k), {"en": str(e), "ja": str(j)})
    names["fd"] = {"en": "Final demand (all categories)", "ja": "最終需要計"}
    meta = {
        "sectors": codes,
        "regions": regions,
        "name_en": [str(s) for s in jp.name_en.values],
        "name_ja": [str(s) for s in jp.name_ja.values],
        "final_demand": ["fd"],
        "export_items": [],
        "import_items": [],
        "va_items": [str(s) for s in jp.va_item.values],
        "item_names": names,
        "attrs": {
            "title": "Synthetic Japan-China-rest-of-world table, 2015, 39 sectors (37 MIC "
                     "sectors + rare earths + magnets); NOT an observed MRIO",
            "unit": "million JPY",
            "year": 2015,
            "source": "built from the MIC 2015 IO table for Japan and stated assumptions "
                      "(simcore/datasets/_source/jcr-mrio/assumptions.toml)",
            "provenance": "simcore/datasets/_build_mrio.py: Japan's 185-sector table, "
                          "carved by scenarios/data/rare_earths.toml, prepare_for_dynamics, "
                          "aggregated to 37 sectors + RE + MAG, copied to three regions "
                          "with one technology, origin shares and GDP ratios from the "
                          "assumptions file; see docs/mrio.md",
            "classification": "MIC 統合大分類 (37 sectors) + RE + MAG",
            "price_basis": "producer prices",
            "import_type": "multi-regional (synthetic)",
            "licence": "derived from the MIC 2015 IO tables (Japanese government standard "
                       "terms of use); assumptions by simcore",
            "fine_classification": "japan-2015-185 carved by scenarios/data/rare_earths.toml",
        },
    }
    arrays = {"Z": Z, "Y": Y, "E": np.zeros((p, 0)), "M": np.zeros((p, 0)), "V": V, "x": xm}
    return arrays, meta
