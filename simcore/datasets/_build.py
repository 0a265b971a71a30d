"""Build simcore's embedded datasets from the source CSVs kept beside this script.

Run ``python -m simcore.datasets._build [OUTDIR]`` to rebuild ``simcore/datasets/data/``.
The test suite rebuilds into a temporary folder and checks that the result equals the
committed files, so the shipped data can always be reproduced from the sources.

Sources (see ``_source/japan-io-2015/PROVENANCE.md``):

- 総務省 平成27年（2015年）産業連関表 (MIC, 2015 Input-Output Tables for Japan), basic
  transactions at producer prices, competitive-import type, 37 (統合大分類) and 185
  (統合小分類) sectors, million yen; converted from the xlsx files in
  ShiroTakeda/Japanese_SAM_for_CGE at commit f1c4129a.
- Miller & Blair (2009), Table 2.3.
- ``jcr-2015-39``: synthetic, from the Japan table and ``_source/jcr-mrio/assumptions.toml``
  (``_build_mrio.py``).

Each output is a compressed ``.npz`` with the six arrays of a table (``Z, Y, E, M, V, x``)
and a JSON ``meta`` entry (labels, names and attrs).  Values are stored exactly (the MIC
tables are integers in million yen).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_write
from ._build_mrio import build_jcr

SOURCE = Path(__file__).resolve().parent / "_source"
DATA = Path(__file__).resolve().parent / "data"

MIC_SOURCE = (
    "総務省 平成27年（2015年）産業連関表 (Ministry of Internal Affairs and Communications, "
    "2015 Input-Output Tables for Japan), basic transactions table at producer prices, "
    "competitive-import type"
)
MIC_PROVENANCE = (
    "MIC 2015 IO table via ShiroTakeda/Japanese_SAM_for_CGE commit "
    "f1c4129a511cf485c647b598e5d2f7fad13ae3af (Make_IO/data_check/check_japan_2015_{n}x{n}_std"
    ".xlsx, sheet Value_data; billion yen x 1000 -> million yen, exact); scrap rows 2612/2712 "
    "merged into 2611/2711 (185 only). English sector labels are unofficial translations. "
    "See simcore/datasets/_source/japan-io-2015/PROVENANCE.md."
)

EXPORT_ITEMS = ("expo", "expd")
IMPORT_ITEMS = ("impo", "impd", "imta", "imtx")


def _japan(n: int) -> tuple[dict[str, np.ndarray], dict]:
    d = SOURCE / "japan-io-2015"
    sec = pd.read_csv(d / f"io2015_{n}_sectors.csv", dtype={"code": str}).sort_values("order")
    codes = list(sec.code)
    items = pd.read_csv(d / f"io2015_{n}_codes_va_fd.csv", dtype=str).set_index("code")
    Zdf = pd.read_csv(d / f"io2015_{n}_intermediate.csv", dtype={"row_code": str})
    Zdf = Zdf.set_index("row_code")
    Zdf.columns = [str(c) for c in Zdf.columns]
    Zdf = Zdf.loc[codes, codes]
    F = pd.read_csv(d / f"io2015_{n}_final_demand.csv", dtype={"row_code": str})
    F = F.set_index("row_code").loc[codes]
    Vdf = pd.read_csv(d / f"io2015_{n}_value_added.csv", dtype={"va_code": str})
    Vdf = Vdf.set_index("va_code")
    Vdf.columns = [str(c) for c in Vdf.columns]
    Vdf = Vdf[codes]
    out = pd.read_csv(d / f"io2015_{n}_output_and_checks.csv", dtype={"code": str})
    x = out.set_index("code").loc[codes, "gross_output"].to_numpy(float)
    ex = [c for c in F.columns if c in EXPORT_ITEMS]
    im = [c for c in F.columns if c in IMPORT_ITEMS]
    fd = [c for c in F.columns if c not in ex and c not in im]
    arrays = {
        "Z": Zdf.to_numpy(float),
        "Y": F[fd].to_numpy(float),
        "E": F[ex].to_numpy(float),
        "M": -F[im].to_numpy(float),  # MIC records imports as negative; stored positive
        "V": Vdf.to_numpy(float),
        "x": x,
    }
    names = {c: {"en": items.loc[c, "name_en"], "ja": items.loc[c, "name_ja"]}
             for c in list(fd) + ex + im + list(Vdf.index)}
    meta = {
        "sectors": codes,
        "name_en": list(sec.name_en),
        "name_ja": list(sec.name_ja),
        "final_demand": fd,
        "export_items": ex,
        "import_items": im,
        "va_items": list(Vdf.index),
        "item_names": names,
        "attrs": {
            "title": f"Japan 2015 input-output table, {n} sectors (MIC)",
            "unit": "million JPY",
            "year": 2015,
            "source": MIC_SOURCE,
            "provenance": MIC_PROVENANCE.format(n=n),
            "classification": {37: "MIC 統合大分類 (37 sectors)",
                               185: "MIC 統合小分類 (185 sectors; 187 with scrap rows merged)"}[n],
            "price_basis": "producer prices",
            "import_type": "competitive",
            "licence": "Japanese government standard terms of use (CC-BY 4.0 compatible); "
                       "cite 総務省 平成27年（2015年）産業連関表",
        },
    }
    return arrays, meta


def _miller_blair() -> tuple[dict[str, np.ndarray], dict]:
    df = pd.read_csv(SOURCE / "miller-blair" / "table_2_3.csv", comment="#", dtype=str)
    val = df.value.astype(float).to_numpy()
    idx = {"1": 0, "2": 1}
    Z = np.zeros((2, 2))
    V = np.zeros((1, 2))
    Y = np.zeros((2, 1))
    for r, rt, c, ct, v in zip(df.row_code, df.row_type, df.col_code, df.col_type, val):
        if rt == "sector" and ct == "sector":
            Z[idx[r], idx[c]] = v
        elif rt == "sector" and ct == "final_demand":
            Y[idx[r], 0] = v
        elif rt == "value_added":
            V[0, idx[c]] = v
    arrays = {"Z": Z, "Y": Y, "E": np.zeros((2, 0)), "M": np.zeros((2, 0)), "V": V,
              "x": Z.sum(0) + V.sum(0)}
    meta = {
        "sectors": ["1", "2"],
        "name_en": ["Sector 1", "Sector 2"],
        "name_ja": ["部門1", "部門2"],
        "final_demand": ["f"],
        "export_items": [],
        "import_items": [],
        "va_items": ["va"],
        "item_names": {"f": {"en": "Final demand", "ja": "最終需要"},
                       "va": {"en": "Value added", "ja": "付加価値"}},
        "attrs": {
            "title": "Miller & Blair (2009) Table 2.3: two-sector example",
            "unit": "$ million",
            "year": -1,
            "source": "Miller, R. E. & Blair, P. D. (2009), Input-Output Analysis: Foundations "
                      "and Extensions, 2nd ed., Cambridge University Press, Table 2.3",
            "provenance": "transcribed from the textbook (simcore/datasets/_source/miller-blair)",
            "classification": "hypothetical",
            "price_basis": "",
            "import_type": "none",
            "licence": "textbook example (facts)",
        },
    }
    return arrays, meta


BUILDERS = {
    "japan-2015-37": lambda: _japan(37),
    "japan-2015-185": lambda: _japan(185),
    "miller-blair-2.3": _miller_blair,
    "jcr-2015-39": lambda: _jcr(),
}


def _jcr() -> tuple[dict[str, np.ndarray], dict]:
    """The synthetic Japan-China-rest-of-world table (see ``_build_mrio``), stored to the
    yen (1e-6 million yen) so that the rebuild compares equal across machines' BLAS."""
    arrays, meta = build_jcr(_japan)
    return {k: np.round(v, 6) for k, v in arrays.items()}, meta


def build(outdir: Path | str = DATA) -> list[Path]:
    """Build every embedded dataset into ``outdir``; return the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in BUILDERS.items():
        arrays, meta = fn()
        blob = json.dumps(meta, ensure_ascii=False, sort_keys=True)
        target = outdir / f"{name}.npz"

        def _write(p: Path, arrays=arrays, blob=blob) -> None:
            with open(p, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(blob), **arrays)

        written.append(atomic_write(target, _write))
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in build(sys.argv[1] if len(sys.argv) > 1 else DATA):
        print(p, p.stat().st_size, "bytes")
