"""Shared hypothesis strategies and table helpers for simcore's tests.

Import pattern
--------------
pytest (default ``prepend`` import mode, no ``__init__.py`` in ``tests/``) puts the folder of
each test module on ``sys.path``: ``tests/`` for modules directly in it, where
``from strategies import productive_tables`` works as is.  Modules in a subfolder such as
``tests/properties/`` get that subfolder instead, so they add ``tests/`` first::

    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from strategies import productive_tables, permute_sectors, scale_money  # noqa: E402

What the tables look like
-------------------------
:func:`productive_tables` draws balanced tables through :func:`simcore.tables.from_arrays`
(so they pass :func:`simcore.tables.validate`):

* ``Z >= 0`` with random sparsity and ``x > 0``; every drawn amount or share is either 0 or
  within a factor 1000 of its range's upper end (see ``_floats``);
* every column sum of ``A`` is below 0.9, so ``A`` is strictly productive and every industry
  has value added of at least 10 % of its output (``V > 0``, in two GDP items);
* ``Y >= 0``, ``E >= 0`` and competitive imports ``M = mu * (Z 1 + Y 1)`` with
  ``0 <= mu <= 0.9``: imports never exceed domestic use, and the import shares of
  :func:`simcore.tables.import_shares` are exactly ``mu``;
* output solves the domestic system ``x = (I - (I - mu^) A)^-1 ((I - mu^) Y 1 + E 1)``,
  and every industry has positive final demand for domestic output, so ``x > 0``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import simcore as sc

__all__ = ["productive_tables", "permute_sectors", "scale_money"]



def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Zero, or a float in [max(lo, hi / 1000), hi].

    Values a billion times smaller than their neighbours (which hypothesis loves to draw)
    only test solver tolerances and floating-point underflow; a table's coefficients are
    either absent or at least 1e-3 of the largest in their range here.
    """
    return st.one_of(st.just(0.0) if lo <= 0.0 else st.nothing(),
                     st.floats(max(lo, hi / 1000.0), hi, allow_nan=False,
                               allow_infinity=False, allow_subnormal=False))


_unit = _floats(0.0, 1.0)


@st.composite
def productive_tables(
    draw: st.DrawFn,
    min_n: int = 1,
    max_n: int = 8,
    with_imports: bool = True,
    multiregional: bool = False,
) -> xr.Dataset:
    """A balanced, productive simcore table with ``min_n`` to ``max_n`` sectors.

    Parameters
    ----------
    min_n, max_n : int
        Range of the number of sectors (per region when ``multiregional``).
    with_imports : bool
        Draw competitive imports (``M``) with import shares up to 0.9; otherwise ``M = 0``.
    multiregional : bool
        Draw a 2- or 3-region table (``region`` dims, exports and imports to the rest of
        the world per industry).
    """
    n = draw(st.integers(min_n, max_n), label="n")
    R = draw(st.integers(2, 3), label="R") if multiregional else 1
    p = R * n
    k = draw(st.integers(1, 2), label="final demand categories")

    mask = draw(hnp.arrays(bool, (p, p), elements=st.booleans()), label="Z mask")
    raw = draw(hnp.arrays(np.float64, (p, p), elements=_unit), label="Z weights")
    raw = raw * mask
    colsum_target = draw(hnp.arrays(np.float64, p, elements=_floats(0.0, 0.9)),
                         label="column sums of A")
    s = raw.sum(0)
    A = np.where(s > 0, raw / np.where(s > 0, s, 1.0) * colsum_target, 0.0)

    Y = draw(hnp.arrays(np.float64, (p, k * R), elements=_floats(0.0, 100.0)), label="Y")
    E = draw(hnp.arrays(np.float64, p, elements=_floats(0.0, 100.0)), label="E")
    if with_imports:
        mu = draw(hnp.arrays(np.float64, p, elements=_floats(0.0, 0.9)), label="mu")
    else:
        mu = np.zeros(p)
    # Guarantee positive final demand for domestic output in every industry.
    E = E + 1.0
    Ad = (1.0 - mu)[:, None] * A
    x = np.linalg.solve(np.eye(p) - Ad, (1.0 - mu) * Y.sum(1) + E)
    Z = A * x[None, :]
    M = mu * (Z.sum(1) + Y.sum(1))
    va_total = x - Z.sum(0)
    wage_share = draw(_floats(0.2, 0.8), label="wage share")
    V = np.vstack([wage_share * va_total, (1.0 - wage_share) * va_total])

    kwargs = {}
    if multiregional:
        kwargs["regions"] = [f"r{i}" for i in range(R)]
    return sc.tables.from_arrays(
        Z, Y, V, x=x, E=E, M=M if with_imports else None,
        sectors=[f"s{i}" for i in range(n)],
        va_items=["compensation", "operating_surplus"],
        final_demand=[f"fd{i}" for i in range(k)],
        unit="money", source="hypothesis: tests/strategies.py", **kwargs,
    )


def permute_sectors(table: xr.Dataset, perm: Sequence[int]) -> xr.Dataset:
    """The same table with its sectors (and, in step, its buyers) reordered by ``perm``.

    ``perm`` is a permutation of ``range(n)``; for a multi-regional table the same order is
    applied within every region.  Labels travel with the data, so results compared by label
    must be identical.
    """
    perm = [int(i) for i in perm]
    n = table.sizes["sector"]
    if sorted(perm) != list(range(n)):
        raise ValueError(f"perm: expected a permutation of range({n}), got {perm}")
    return table.isel(sector=perm, sector_to=perm)


def scale_money(table: xr.Dataset, k: float) -> xr.Dataset:
    """The same table in a different unit of money: every flow and output times ``k``."""
    out = table.copy()
    for var in ("Z", "Y", "E", "M", "V", "x"):
        out[var] = table[var] * k
        out[var].attrs = dict(table[var].attrs)
    out.attrs = dict(table.attrs)
    return out
