"""Validation of a table: balances, non-negative and finite values, productiveness; the
decorator and check used by functions that take a table."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import (
    BalanceError,
    LabelError,
    NegativeOutputError,
    NonFiniteError,
    NonProductiveError,
    TableError,
)
from .coefficients import _A
from .views import _MR_VARS, _SR_VARS, flat, industry_labels, is_multiregional


#: Default balance tolerances: absolute (table units) and relative to gross output.
DEFAULT_ATOL = 1e-6
DEFAULT_RTOL = 1e-9


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
def balance_residuals(table: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Row and column balance residuals on the flat industry axis.

    Row residual: ``Z 1 + Y 1 + E 1 - M 1 - x``; column residual: ``1'Z + 1'V - x``.
    """
    f = flat(table)
    row = f["Z"].sum(1) + f["Y"].sum(1) + f["E"].sum(1) - f["M"].sum(1) - f["x"]
    col = f["Z"].sum(0) + f["V"].sum(0) - f["x"]
    return row, col


def spectral_radius(A: np.ndarray) -> float:
    """Spectral radius of a square matrix (dense eigenvalues up to 2,500, else ARPACK)."""
    A = np.asarray(A, dtype=float)
    n = A.shape[0]
    if n == 0:
        return 0.0
    if n <= 2500:
        return float(np.max(np.abs(np.linalg.eigvals(A))))
    from scipy.sparse.linalg import eigs

    vals = eigs(A, k=1, which="LM", return_eigenvectors=False, maxiter=5000, tol=1e-10)
    return float(np.abs(vals[0]))


def _radius_bound(B: np.ndarray, *, steps: int = 20) -> float:
    """A cheap upper bound on the spectral radius of a non-negative square matrix ``B``.

    Collatz-Wielandt: for any strictly positive ``v``, ``rho(B) <= max_j (v'B)_j / v_j``.
    ``v`` starts at ``1`` (the bound is then the largest column sum) and follows a few
    left power-iteration steps, kept strictly positive, which tightens the bound towards
    ``rho(B)``; the smallest bound seen is returned (it stops early once below 1).  Since
    ``rho(A) <= rho(|A|)``, a bound below 1 for ``|A|`` proves ``A`` productive without an
    eigenvalue computation.  A bound of 1 or more proves nothing.
    """
    n = B.shape[0]
    if n == 0:
        return 0.0
    v = np.ones(n)
    best = np.inf
    for _ in range(steps):
        w = v @ B
        best = min(best, float(np.max(w / v)))
        top = float(w.max())
        if best < 1.0 - 1e-12 or top <= 0.0 or not np.isfinite(top):
            return 0.0 if top <= 0.0 else best
        v = w / top + 1e-3  # strictly positive, scaled to avoid over- or underflow
    return best


def validate(
    table: xr.Dataset,
    *,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    check_balance: bool = True,
    check_productive: bool = True,
) -> xr.Dataset:
    """Check a table and return it unchanged, or raise a :class:`~simcore.errors.TableError`.

    Checks, in order: required variables and dims; unique labels; finite values; non-negative
    gross output; row and column balances within ``max(atol, rtol * |x|)`` (the error names the
    worst sector and its residual); and a productive technical-coefficient matrix (spectral
    radius of ``A`` below 1).  Productivity is proved cheaply where possible (column sums of
    ``|A|`` below 1, or a Collatz-Wielandt bound from a few power-iteration steps on ``|A|``);
    eigenvalues are computed only when those bounds fail.  Negative intermediate or
    final-demand cells are allowed (MIC tables contain them, from scrap and by-products and
    from stock changes); see :func:`simcore.transform.prepare_for_dynamics`.
    """
    if not isinstance(table, xr.Dataset):
        raise TableError(f"validate: expected an IO table (xarray.Dataset), got "
                         f"{type(table).__name__}")
    dims = _MR_VARS if is_multiregional(table) else _SR_VARS
    for var, d in dims.items():
        if var not in table:
            raise TableError(f"table: missing variable {var!r} (expected dims {d})")
        # the bare variables (building a DataArray per look costs more than the check)
        if set(table.variables[var].dims) != set(d):
            raise TableError(f"table: variable {var!r} has dims {table.variables[var].dims}, "
                             f"expected {d}")
    for dim in ("sector", "sector_to", "final_demand", "va_item", "export_item", "import_item",
                "region", "region_to"):
        if dim in table.indexes:
            idx = table.indexes[dim]
            if idx.has_duplicates:
                raise LabelError(f"table: duplicate {dim} label {idx[idx.duplicated()][0]!r}")
    if not np.array_equal(table.variables["sector"].values, table.variables["sector_to"].values):
        raise LabelError("table: sector and sector_to labels differ; Z must be square")
    labels = industry_labels(table)
    f = flat(table)
    for var in ("Z", "Y", "E", "M", "V", "x"):
        a = f[var]
        if a.size and not np.all(np.isfinite(a)):
            bad = np.argwhere(~np.isfinite(np.atleast_2d(a)))[0]
            where = _cell_name(table, var, bad, labels)
            raise NonFiniteError(f"table: {var} holds a non-finite value at {where}")
    x = f["x"]
    if x.size == 0:
        raise TableError("table: empty table (no sectors)")
    if np.any(x < 0):
        i = int(np.argmin(x))
        raise NegativeOutputError(
            f"table: sector {labels[i]!r} has negative gross output {x[i]:.6g}; "
            "expected x >= 0"
        )
    if check_balance:
        row, col = balance_residuals(table)
        tol = np.maximum(atol, rtol * np.abs(x))
        for kind, res in (("row (sales + final demand - imports)", row),
                          ("column (inputs + value added)", col)):
            excess = np.abs(res) - tol
            if np.any(excess > 0):
                i = int(np.argmax(np.abs(res)))
                raise BalanceError(
                    f"table: {kind} balance violated; worst sector {labels[i]!r} has residual "
                    f"{res[i]:.6g} {table.attrs.get('unit', '')} against gross output "
                    f"{x[i]:.6g} (tolerance {tol[i]:.3g}); {int(np.sum(excess > 0))} sector(s) "
                    "out of balance"
                )
    if check_productive:
        A = _A(f["Z"], x)
        absA = np.abs(A)
        colsum = absA.sum(0)
        if (colsum.max(initial=0.0) >= 1.0 - 1e-12
                and not _radius_bound(absA) < 1.0 - 1e-12):
            rho = spectral_radius(A)
            if not rho < 1.0 - 1e-12:
                i = int(np.argmax(colsum))
                raise NonProductiveError(
                    f"table: technical-coefficient matrix is not productive: spectral radius "
                    f"{rho:.6g} >= 1 (expected < 1); largest column sum {colsum[i]:.6g} at "
                    f"sector {labels[i]!r}"
                )
    return table


def checks_table(*, balance: bool = True, productive: bool = True
                 ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of public functions whose first argument is a table: refuse anything that is
    not a valid table (:func:`validate`) with a :class:`~simcore.errors.TableError` naming the
    function, before any computation.  ``balance=False`` and ``productive=False`` skip those
    checks (static analyses of tables without full value-added rows; functions that detect a
    singular ``I - A`` themselves)."""
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(table: Any, *args: Any, **kwargs: Any) -> Any:
            check_table(table, fn.__name__, balance=balance, productive=productive)
            return fn(table, *args, **kwargs)
        return wrapper
    return deco


def check_table(table: Any, where: str, *, balance: bool = True,
                productive: bool = True, hint: str = "") -> None:
    """Raise a :class:`~simcore.errors.TableError` (prefixed with ``where``) unless ``table``
    is a valid simcore table: variables and labels, finite values, non-negative output and,
    if asked, balance and a productive coefficient matrix.  A table edited after it was built (a NaN written into
    ``Z``, relabelled sectors) is caught here, not silently run."""
    if not isinstance(table, xr.Dataset):
        raise TableError(f"{where}: expected an IO table (xarray.Dataset with Z, Y, V, x), "
                         f"got {type(table).__name__}")
    for var in ("Z", "Y", "E", "M", "V", "x"):
        if var in table and not np.issubdtype(table.variables[var].dtype, np.number):
            raise TableError(f"{where}: table: variable {var!r} has dtype "
                             f"{table.variables[var].dtype}; expected numbers")
    for coord in ("in_gdp", "component"):
        if "va_item" in table.dims and coord not in table.coords:
            raise TableError(f"{where}: table: coordinate {coord!r} of the value-added items "
                             "is missing; build tables with simcore.tables constructors")
    tol = {k: float(table.attrs[f"balance_{k}"]) for k in ("atol", "rtol")
           if f"balance_{k}" in table.attrs}
    try:
        validate(table, check_balance=balance, check_productive=productive, **tol)
    except (BalanceError, NonProductiveError) as exc:
        raise type(exc)(f"{where}: {exc}{hint}") from None
    except TableError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _cell_name(table: xr.Dataset, var: str, idx: np.ndarray, labels: list[str]) -> str:
    if var == "x":
        return f"sector {labels[int(idx[-1])]!r}"
    if var == "V":
        return f"({table.va_item.values[idx[0]]!r}, {labels[idx[1]]!r})"
    if var == "Z":
        return f"({labels[idx[0]]!r}, {labels[idx[1]]!r})"
    return f"sector {labels[idx[0]]!r}, column {int(idx[1])}"
