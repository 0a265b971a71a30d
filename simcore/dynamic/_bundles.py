"""The kernels' arguments as bundles, and the calls that unpack them (no numba here).

``run_one`` (:mod:`simcore.dynamic._kernels`) and the fused kernels take their ~50
arguments positionally (a numba signature); callers build them as these bundles, each a
namedtuple of arrays whose fields are ``run_one``'s parameters in order
(tests/test_lanes.py::test_bundles_match_run_one checks the fields against the signature).
:func:`run_single_fused` calls the default single-run kernel through
:mod:`simcore.dynamic._aot`: compiled ahead of time when the installation has it, so a
single run does not import numba at all; numba's JIT kernel otherwise.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import _aot

RATION_PROPORTIONAL = 0
RATION_FIRMS_FIRST = 1

#: The table: CSC pattern, per-cell coefficients, targets and dependency shares, per-sector
#: elasticities, baseline output, final demand, exports, import shares, value-added
#: coefficients, and the restocking rate ``inv_tau = 1 / inventory_tau``.
Table = namedtuple("Table", ["colptr", "rowidx", "A", "tgt", "theta", "sigma", "x0", "f0",
                             "e0", "mu", "c", "inv_tau"])
#: Special (origin-split) products: position of each product (-1: none), their rows,
#: import capacity per day ``(T, K)``, stockpiles, release rates, and the dense
#: dependency and target rows ``(K, n)``.
Special = namedtuple("Special", ["sp_pos", "sp_idx", "impcap", "stock0", "relmax",
                                 "theta_sp", "tgt_sp"])
#: Domestic shocks: capacity factors ``(T, C)`` of sectors ``cap_idx``, final-demand and
#: export factors ``(T, D)`` of sectors ``dem_idx``.
Shocks = namedtuple("Shocks", ["cap_idx", "capfac", "dem_idx", "demfac", "exfac"])
#: Options: rationing rule and overproduction.
Options = namedtuple("Options", ["ration_mode", "alpha_max", "alpha_tau"])
#: Work arrays (initialised by the kernel): ``S``, ``O`` per cell; the rest per sector,
#: ``stockpile`` and ``impavail`` per special product.
Work = namedtuple("Work", ["S", "O", "Duse", "xinp", "d", "dprev", "x", "alpha", "cap", "fd",
                           "ex", "rho_int", "rho_fd", "stockpile", "impavail"])
#: Outputs (caller-allocated; records with a leading size of 0 are not written).
Records = namedtuple("Records", ["gdp_loss", "out_cum", "rec_x", "rec_fdu", "rec_imp",
                                 "rec_spstock", "gdp_gain", "rec_gap", "info", "out_dem"])


def work_arrays(nnz: int, n: int, K: int) -> Work:
    """Uninitialised work arrays for a table of ``nnz`` cells, ``n`` sectors, ``K``
    special products."""
    return Work(np.empty(nnz), np.empty(nnz), *[np.empty(n) for _ in range(11)],
                np.empty(K), np.empty(K))


def indices(colptr: np.ndarray, rowidx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CSC pattern as the single-run kernels (:func:`run_one`,
    :func:`simcore.dynamic._fused.run_fused`) run fastest on it: column starts as
    ``uint64``, row indices as ``uint32`` when ``n`` allows (``uint64`` otherwise).
    Numba wraps a negative index around (``a[-1]`` is the last element) and so tests the
    sign of every signed index it cannot prove non-negative (the cell indices of a CSC loop,
    which start at ``colptr[j]`` read from memory, and the row indices read from
    ``rowidx``); an unsigned index has no sign to test, and 32-bit row indices halve the
    index bytes a day.  The values, and so every result, are the same bits."""
    if colptr.dtype == np.uint64 and rowidx.dtype == (np.uint32 if n < 2**32 else np.uint64):
        return colptr, rowidx
    if colptr.size and colptr.min(initial=0) < 0 or rowidx.size and rowidx.min() < 0:
        raise ValueError("indices: the CSC pattern has negative indices")
    return colptr.astype(np.uint64), rowidx.astype(np.uint32 if n < 2**32 else np.uint64)


def run_single_fused(table: Table, special: Special, shocks: Shocks, options: Options,
                     records: Records) -> int:
    """The fused single-run kernel (:func:`simcore.dynamic._fused.run_fused`) on
    ``run_one``'s bundles, on unsigned indices (:func:`indices`); returns the status code.
    Compiled ahead of time where the installation has it (:mod:`simcore.dynamic._aot`),
    else numba's JIT: the same bits."""
    cp, ri = indices(table.colptr, table.rowidx, table.x0.shape[0])
    return _aot.call("run_fused", cp, ri, *table[2:], *special, *shocks, *options, *records)
