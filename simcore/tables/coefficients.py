"""Aggregates and coefficients: gross output, GDP, technical and allocation coefficients,
the Leontief and Ghosh inverses, value-added and import coefficients."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .views import _wrap_matrix, _wrap_vector, flat


# --------------------------------------------------------------------------------------
# Aggregates and coefficients
# --------------------------------------------------------------------------------------
def _A(Z: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        A = Z / x[None, :]
    A[:, x == 0] = 0.0
    return A


def gross_output(table: xr.Dataset) -> xr.DataArray:
    """Gross output ``x``."""
    return table.x


def final_demand_total(table: xr.Dataset) -> np.ndarray:
    """Total final demand per industry: domestic final demand plus exports minus imports."""
    f = flat(table)
    return f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1)


def value_added_gdp(table: xr.Dataset) -> xr.DataArray:
    """GDP-like value added per sector: VA rows with ``in_gdp`` (see :data:`GDP_EXCLUDED_VA_ITEMS`)."""
    v = table.V.where(table.in_gdp, 0.0).sum("va_item")
    v.attrs.update(units=table.attrs.get("unit", ""), long_name="GDP-like value added")
    return v.rename("v")


def gdp(table: xr.Dataset) -> float:
    """GDP-like value added of the table (sum of :func:`value_added_gdp`), in table units.

    The same sums in the same order as ``float(value_added_gdp(table).sum())`` (xarray's
    NaN-skipping sums: numpy's ``sum`` with ``where=`` not NaN), on the bare arrays, without
    building labelled arrays (tests/test_datasets.py holds the two equal to the bit)."""
    V = table.variables["V"]
    ax = V.dims.index("va_item")
    keep = np.asarray(table.variables["in_gdp"].values, dtype=bool)
    shape = [1] * V.ndim
    shape[ax] = -1
    a = np.where(keep.reshape(shape), V.values, 0.0)
    v = np.sum(a, axis=ax, where=~np.isnan(a))
    return float(np.sum(v, where=~np.isnan(v)))


def technical_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Technical coefficients ``A = Z x^-1`` (column-normalised; 0 for zero-output buyers)."""
    f = flat(table)
    return _wrap_matrix(table, _A(f["Z"], f["x"]), "A", long_name="technical coefficients")


def allocation_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Ghosh allocation coefficients ``B = x^-1 Z`` (row-normalised)."""
    f = flat(table)
    return _wrap_matrix(table, _A(f["Z"].T, f["x"]).T, "B", long_name="allocation coefficients")


def leontief_inverse(table: xr.Dataset) -> xr.DataArray:
    """Leontief inverse ``L = (I - A)^-1``, by LU solve (formed only when asked for)."""
    import scipy.linalg as sla

    f = flat(table)
    A = _A(f["Z"], f["x"])
    L = sla.solve(np.eye(A.shape[0]) - A, np.eye(A.shape[0]), check_finite=False)
    return _wrap_matrix(table, L, "L", long_name="Leontief inverse")


def ghosh_inverse(table: xr.Dataset) -> xr.DataArray:
    """Ghosh inverse ``G = (I - B)^-1``, by LU solve."""
    import scipy.linalg as sla

    f = flat(table)
    B = _A(f["Z"].T, f["x"]).T
    G = sla.solve(np.eye(B.shape[0]) - B, np.eye(B.shape[0]), check_finite=False)
    return _wrap_matrix(table, G, "G", long_name="Ghosh inverse")


def value_added_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Value-added coefficients by item, ``V x^-1`` (0 for zero-output sectors)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (table.V / table.x).where(table.x != 0, 0.0)
    c.attrs.update(long_name="value-added coefficients", units="1")
    return c.rename("c")


def gdp_coefficients(table: xr.Dataset) -> np.ndarray:
    """GDP-like value added per unit of output on the flat industry axis."""
    f = flat(table)
    ing = table.in_gdp.values
    v = f["V"][ing].sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(f["x"] != 0, v / f["x"], 0.0)
    return c


def gdp_component_coefficients(table: xr.Dataset, V: np.ndarray,
                               x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The GDP components of ``table``'s value-added items (their ``component`` where
    ``in_gdp``, in order of first appearance) and each one's value added per unit of output,
    ``(components, industries)``, 0 where ``x <= 0``; ``V`` is the flat value-added array
    (items x industries) and ``x`` the flat output."""
    comp = table.component.values
    ing = table.in_gdp.values
    comps = list(dict.fromkeys(str(v) for v, g in zip(comp, ing) if g))
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.array([np.where(x > 0, V[(comp == k) & ing].sum(0) / x, 0.0)
                         for k in comps]).reshape(len(comps), V.shape[1])
    return comps, coef


def import_shares(table: xr.Dataset) -> xr.DataArray:
    """Import share of domestic use per product, ``mu_i = m_i / (sum_j z_ij + f^d_i)``.

    The import-proportionality assumption (docs/methodology.md, "Conventions"): every user of
    product ``i``
    imports the same share ``mu_i`` of its purchases.  Re-exports are assumed zero.  The
    share is clipped to [0, 1]; products with no domestic use get 0.
    """
    f = flat(table)
    use = f["Z"].sum(1) + f["Y"].sum(1)
    m = f["M"].sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(use > 0, m / use, 0.0)
    return _wrap_vector(table, np.clip(mu, 0.0, 1.0), "mu",
                        long_name="import share of domestic use", units="1")


def import_coefficients(table: xr.Dataset) -> xr.DataArray:
    """Import coefficients ``A^m = diag(mu) A`` under import proportionality."""
    f = flat(table)
    A = _A(f["Z"], f["x"])
    mu = import_shares(table).values.reshape(-1)
    return _wrap_matrix(table, mu[:, None] * A, "A_m", long_name="import coefficients")


def import_split(table: xr.Dataset) -> dict[str, np.ndarray]:
    """Domestic and imported parts of intermediate and final use, under import proportionality.

    Every user of product ``i`` imports the same share ``mu_i`` of its purchases
    (:func:`import_shares`), so ``A = A^d + A^m`` with ``A^m = diag(mu) A`` and
    ``A^d = diag(1 - mu) A``, the matrices behind ``domestic=True`` in :mod:`simcore.static`.

    Parameters
    ----------
    table : xarray.Dataset

    Returns
    -------
    dict of numpy.ndarray
        On the flat industry axis (region-major for MRIO tables): ``"A_d"`` and ``"A_m"``
        (``(p, p)``, domestic and import coefficients), ``"f_m"`` (``(p,)``, imports of each
        product delivered to domestic final demand, ``mu * Y 1``, in table units) and ``"mu"``
        (``(p,)``, the import shares).

    Examples
    --------
    >>> import numpy as np, simcore as sc
    >>> t = sc.datasets.load("japan-2015-37")
    >>> s = sc.tables.import_split(t)
    >>> bool(np.allclose(s["A_d"] + s["A_m"], sc.tables.technical_coefficients(t).values))
    True
    """
    f = flat(table)
    A = _A(f["Z"], f["x"])
    mu = import_shares(table).values.reshape(-1)
    return {
        "A_d": (1.0 - mu)[:, None] * A,
        "A_m": mu[:, None] * A,
        "f_m": mu * f["Y"].sum(1),
        "mu": mu,
    }
