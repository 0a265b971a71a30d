"""Days that repeat exactly: finding a cycle of the whole state and skipping its repeats.

A day of the supply-chain engine is a deterministic function of the state at the end of
the day before and of the day's exogenous inputs (its schedules: capacity, final demand and
export factors, import capacity of the special products).  Under a long constant shock
(China's 12-month stop) the state settles, after a hundred days or so, into a cycle: the
same bits every ``p`` days (``p = 2`` in most draws of ``kiuchi-2025-12m``; a fixed point
is ``p = 1``), the last bit of a few sectors' output flipping back and forth.  Once the
whole state at the end of day ``t`` holds the same bits as at the end of day ``t - p``, and
the inputs of the days ahead are the same as those of the days ``p`` earlier, every day up
to the next change of the inputs repeats the day ``p`` before it, bit for bit, records
included.  The kernels that use this module (:func:`simcore.dynamic._fused.run_fused`,
:func:`simcore.dynamic._lanes.run_block`) then copy those days' records instead of
computing them:

1. *trigger*: after each day, the day's output vector is compared with each of the last
   ``P`` days' (``P = cycle_max``, a ring :func:`cycle_match` keeps); when it has repeated
   with period ``p`` for ``p`` days in a row (and all of it within one run of constant
   inputs), the whole state is copied (:func:`put_bits`);
2. *proof*: ``p`` days later the whole state is compared with that copy, bit for bit
   (:func:`same_bits`: every stock, order, use vector, input bound, remembered demand,
   overproduction factor and stockpile; equal numbers with other bits, such as ``0.0`` and
   ``-0.0``, count as different).  If they differ, the next trigger waits (``CYCLE_WAIT``
   days, doubling to ``CYCLE_WAIT_MAX``), so a state whose output repeats while its stocks
   still move costs a copy and a comparison only now and then;
3. *skip*: if they are the same, every day up to the next change of the inputs
   (:func:`next_change`; never the last day of the run, which the kernels compute) is
   ``p`` days' repeat: the daily records are copied from ``p`` days before, and the
   cumulative records add the same terms in the same order as the day would
   (:func:`add_cumulated`), so their sums are the same bits too.

Nothing is approximated: a skipped run's every record equals the computed run's bit for
bit (``tests/test_cycles.py`` against :func:`simcore.dynamic._kernels.run_one`, which
never skips).  The trigger is a guess, the proof is not.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

#: Days the trigger waits after a failed proof, doubling up to ``CYCLE_WAIT_MAX``.
CYCLE_WAIT = 4
CYCLE_WAIT_MAX = 64


@njit
def put_bits(buf, o, a):
    """Copy the bits of the float array ``a`` (any rank, C order) into the int64 buffer
    ``buf`` from position ``o``; return the position after them."""
    v = a.reshape(-1).view(np.int64)
    m = v.shape[0]
    for k in range(m):
        buf[o + k] = v[k]
    return o + m


@njit
def same_bits(buf, o, a):
    """Whether ``a`` holds the bits :func:`put_bits` copied into ``buf`` at ``o``."""
    v = a.reshape(-1).view(np.int64)
    for k in range(v.shape[0]):
        if buf[o + k] != v[k]:
            return False
    return True


@njit
def _rows_same(a, t, u):
    """Whether rows ``t`` and ``u`` of a schedule (day first) hold the same bits."""
    x = a[t].reshape(-1).view(np.int64)
    y = a[u].reshape(-1).view(np.int64)
    for k in range(x.shape[0]):
        if x[k] != y[k]:
            return False
    return True


@njit
def inputs_same(t, u, capfac, demfac, exfac, impcap, C, D, K):
    """Whether the exogenous inputs of days ``t`` and ``u`` are the same bits: the capacity
    factors (if ``C`` shocks), demand and export factors (if ``D``), import capacities (if
    ``K`` special products).  A schedule not used is not read (it may have no rows)."""
    if C > 0 and not _rows_same(capfac, t, u):
        return False
    if D > 0 and not (_rows_same(demfac, t, u) and _rows_same(exfac, t, u)):
        return False
    if K > 0 and not _rows_same(impcap, t, u):
        return False
    return True


@njit
def next_change(t0, stop, capfac, demfac, exfac, impcap, C, D, K):
    """The first day ``u`` in ``[t0, stop)`` whose inputs differ from day ``u - 1``'s;
    ``stop`` if none does."""
    for u in range(t0, stop):
        if not inputs_same(u, u - 1, capfac, demfac, exfac, impcap, C, D, K):
            return u
    return stop


@njit
def cycle_match(t, run0, x, xh, match):
    """After day ``t``: count, for each period ``p = 1 .. P`` (``P = xh.shape[0]``), the
    days in a row whose output ``x`` (any rank, flattened) equals the output ``p`` days
    earlier, both within the run of constant inputs that started on day ``run0``; store
    ``x`` in the ring ``xh`` (row ``t % P``).  Returns the least ``p`` whose count has
    reached ``p`` (the output has repeated with period ``p`` for a whole period), else 0."""
    P = xh.shape[0]
    v = x.reshape(-1)
    m = v.shape[0]
    for p in range(1, P + 1):
        ok = t - p >= run0
        if ok:
            r = xh[(t - p) % P]
            for k in range(m):
                if v[k] != r[k]:
                    ok = False
                    break
        match[p - 1] = match[p - 1] + 1 if ok else 0
    w = xh[t % P]
    for k in range(m):
        w[k] = v[k]
    for p in range(1, P + 1):
        if match[p - 1] >= p:
            return p
    return 0


@njit
def add_cumulated(x0, xs, ds, out_cum, out_dem, dem_on):
    """A repeated day's terms of the cumulative records, the day's own arithmetic
    (:func:`simcore.dynamic._kernels._ration_and_record`) on its output ``xs`` and demand
    ``ds`` (any rank, flattened like ``x0``): ``out_cum += x0 - x``, and ``out_dem`` its
    demand-constrained part."""
    x0f = x0.reshape(-1)
    xf = xs.reshape(-1)
    df = ds.reshape(-1)
    oc = out_cum.reshape(-1)
    od = out_dem.reshape(-1)
    for k in range(x0f.shape[0]):
        dx = x0f[k] - xf[k]
        oc[k] += dx
        if dem_on and dx > 0.0:
            dd = x0f[k] - df[k]
            if dd > dx:
                dd = dx
            if dd > 0.0:
                od[k] += dd


@njit
def store_ring(t, a, ring):
    """Store ``a`` (any rank, flattened) in row ``t % P`` of the ring ``ring (P, m)``."""
    v = a.reshape(-1)
    w = ring[t % ring.shape[0]]
    for k in range(v.shape[0]):
        w[k] = v[k]


@njit
def copy_row(a, t, u):
    """Row ``t`` of a daily record (day first, any rank) set to row ``u``."""
    src = a[u].reshape(-1)
    dst = a[t].reshape(-1)
    for k in range(src.shape[0]):
        dst[k] = src[k]
