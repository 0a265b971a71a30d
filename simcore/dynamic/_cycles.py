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

1. *trigger*: after each day, the day's net loss (one number, or one a lane) is compared
   with each of the last ``P`` days' (``P = cycle_max``, :func:`cycle_match`); when it has
   repeated with period ``p`` for ``p`` days in a row (and all of it within one run of
   constant inputs), the whole state is copied (:func:`put_bits`), and the next ``p``
   days' output and demand are kept in rings;
2. *proof*: ``p`` days later the whole state is compared with that copy, bit for bit
   (:func:`same_bits`: every stock, order, use vector, input bound, remembered demand,
   overproduction factor and stockpile; equal numbers with other bits, such as ``0.0`` and
   ``-0.0``, count as different).  If they differ, the trigger offers the next longer
   period (a loss can repeat daily while the state repeats every other day); once every
   period up to ``P`` has failed it waits (``CYCLE_WAIT`` days, doubling to
   ``CYCLE_WAIT_MAX``), so a state whose loss repeats while its stocks still move costs a
   copy and a comparison only now and then;
3. *skip*: if they are the same, every day up to the next change of the inputs
   (:func:`next_change`; never the last day of the run, which the kernels compute) is
   ``p`` days' repeat: the daily records are copied from ``p`` days before, and the
   cumulative records add the same terms in the same order as the day would
   (:func:`add_cumulated`), so their sums are the same bits too.

Nothing is approximated: a skipped run's every record equals the computed run's bit for
bit (``tests/test_cycles.py`` against :func:`simcore.dynamic._kernels.run_one`, which
never skips).  The trigger is a guess, the proof is not.

A kernel makes its arrays for the search (:func:`search_arrays`), calls :func:`start_day`
before each day and :func:`after_day` after it, and when that asks for something,
:func:`act_on` with its nine state arrays and its daily records; it moves on by the days
that call copied.
"""

from __future__ import annotations

import numpy as np

from .._jit import njit

#: Days the trigger waits after failed proofs of every period, doubling up to
#: ``CYCLE_WAIT_MAX``.
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
def cycle_match(t, run0, g, match, pmin=1):
    """After day ``t``: count, for each period ``p = 1 .. P`` (``P = match.shape[0]``), the
    days in a row whose net loss (row ``t`` of the daily record ``g``, day first: one
    number a day, or one a lane) is the same bits as ``p`` days earlier, both within the
    run of constant inputs that started on day ``run0``.  Returns the least ``p >= pmin``
    whose count has reached ``p`` (the loss has repeated with period ``p`` for a whole
    period), else 0.  A state that repeats repeats its loss; a loss that repeats is only a
    reason to try the proof (a loss can repeat every day while the state repeats every
    other day: its sum rounds the same)."""
    P = match.shape[0]
    v = g.reshape((g.shape[0], -1))
    m = v.shape[1]
    for p in range(1, P + 1):
        ok = t - p >= run0
        if ok:
            for k in range(m):
                if v[t, k] != v[t - p, k]:
                    ok = False
                    break
        match[p - 1] = match[p - 1] + 1 if ok else 0
    for p in range(pmin, P + 1):
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
def copy_record(a, t, u, T):
    """Day ``t`` of a daily record (day first, any rank) set to day ``u``, if the record
    keeps ``T`` days (one of 0 rows is not kept, one of a single row is the last day's)."""
    if a.shape[0] == T and T > 0:
        v = a.reshape((a.shape[0], -1))
        for k in range(v.shape[1]):
            v[t, k] = v[u, k]


# --------------------------------------------------------------------------------------
# The search, as the kernels call it: counters in one int64 array (:func:`counters`)
# --------------------------------------------------------------------------------------
#: Fields of the counters: the first day of the run of constant inputs, the period being
#: proved (0: none), the day of its proof, the first day the trigger may fire, the wait
#: after failed proofs of every period, the least period the trigger offers (one more than
#: a period whose proof failed, back to 1 past the longest).
RUN0, PEND, PEND_DAY, NEXT_TRY, WAIT, PMIN = 0, 1, 2, 3, 4, 5
#: What :func:`after_day` asks of the kernel.
NOTHING, COPY_STATE, PROVE = 0, 1, 2


@njit
def search_arrays(cycle_max, m, words, skipped):
    """A kernel's arrays for the search: the longest period ``P`` (0: no search), the rings
    of output and demand ``(P, m)``, the trigger's counts, the counters (:func:`counters`)
    and the state's copy of ``words`` int64 words; ``skipped[0]`` set to 0."""
    P = cycle_max if cycle_max > 0 else 0
    skipped[0] = 0
    return (P, np.empty((P, m)), np.empty((P, m)), np.zeros(P, dtype=np.int64), counters(),
            np.empty(words if P > 0 else 0, dtype=np.int64))


@njit
def counters():
    """The counters of a run's search at its start."""
    cs = np.zeros(6, dtype=np.int64)
    cs[PEND_DAY] = -1
    cs[WAIT] = CYCLE_WAIT
    cs[PMIN] = 1
    return cs


@njit
def start_day(t, cs, capfac, demfac, exfac, impcap, C, D, K):
    """At the start of day ``t``: if its inputs differ from the day before's, a new run of
    constant inputs starts, and no cycle reaches across it."""
    if t > 0 and not inputs_same(t, t - 1, capfac, demfac, exfac, impcap, C, D, K):
        cs[RUN0] = t
        cs[PEND] = 0
        cs[NEXT_TRY] = t
        cs[WAIT] = CYCLE_WAIT
        cs[PMIN] = 1


@njit
def after_day(t, x, d, g, xh, dh, match, cs):
    """At the end of day ``t`` (output ``x``, demand ``d``, any rank; ``g`` the daily net
    loss record): the trigger's counts, and while a period is being proved the day's output
    and demand in the rings (the days a proof on day ``t`` lets repeat copy the last
    ``p`` days').  Returns :data:`COPY_STATE` when the kernel is to copy its whole state
    (:func:`state_bits`, a period ``cs[PEND]`` to prove), :data:`PROVE` when it is to
    compare its state with that copy and call :func:`proven`, else :data:`NOTHING`."""
    p_now = cycle_match(t, cs[RUN0], g, match, cs[PMIN])
    if cs[PEND] > 0:
        store_ring(t, x, xh)
        store_ring(t, d, dh)
        return PROVE if t == cs[PEND_DAY] else NOTHING
    if p_now > 0 and t >= cs[NEXT_TRY]:
        cs[PEND] = p_now
        cs[PEND_DAY] = t + p_now
        return COPY_STATE
    return NOTHING


@njit
def state_bits(snap, put, a0, a1, a2, a3, a4, a5, a6, a7, a8):
    """The whole state, nine float arrays: ``put`` copies their bits into ``snap`` (and
    returns True); otherwise returns whether they hold the bits copied."""
    if put:
        o = put_bits(snap, 0, a0)
        o = put_bits(snap, o, a1)
        o = put_bits(snap, o, a2)
        o = put_bits(snap, o, a3)
        o = put_bits(snap, o, a4)
        o = put_bits(snap, o, a5)
        o = put_bits(snap, o, a6)
        o = put_bits(snap, o, a7)
        put_bits(snap, o, a8)
        return True
    o0 = a0.size
    o1 = o0 + a1.size
    o2 = o1 + a2.size
    o3 = o2 + a3.size
    o4 = o3 + a4.size
    o5 = o4 + a5.size
    o6 = o5 + a6.size
    o7 = o6 + a7.size
    return (same_bits(snap, 0, a0) and same_bits(snap, o0, a1) and same_bits(snap, o1, a2)
            and same_bits(snap, o2, a3) and same_bits(snap, o3, a4)
            and same_bits(snap, o4, a5) and same_bits(snap, o5, a6)
            and same_bits(snap, o6, a7) and same_bits(snap, o7, a8))


@njit
def proven(t, T, same, cs, match, capfac, demfac, exfac, impcap, C, D, K):
    """After the proof on day ``t`` (``same``: the state holds the copy's bits): the number
    of days from ``t + 1`` that repeat the days ``cs[PEND]`` before them, whole periods up
    to the next change of the inputs, never the run's last day (0 if none, or if the
    proof failed: the trigger then waits).  The period is cleared."""
    p = cs[PEND]
    cs[PEND] = 0
    if not same:
        if p < match.shape[0]:
            # a longer period next, at once (the loss may repeat more often than the state)
            cs[PMIN] = p + 1
        else:
            cs[PMIN] = 1
            cs[NEXT_TRY] = t + cs[WAIT]
            cs[WAIT] = min(2 * cs[WAIT], CYCLE_WAIT_MAX)
        return 0
    stop = next_change(t + 1, T - 1, capfac, demfac, exfac, impcap, C, D, K)
    for q in range(match.shape[0]):
        match[q] = 0
    cs[WAIT] = CYCLE_WAIT
    cs[PMIN] = 1
    # (none when the proof came on the last day or the one before)
    return max(stop - t - 1, 0) // p * p


@njit
def act_on(act, t, T, x0, xh, dh, match, cs, snap, s0, s1, s2, s3, s4, s5, s6, s7, s8,
           capfac, demfac, exfac, impcap, C, D, K, out_cum, out_dem, dem_on,
           r0, r1, r2, r3, r4, r5, r6):
    """What :func:`after_day` asked (``act``, not :data:`NOTHING`: the kernel calls this
    only then, so that a day with nothing to do does not pass these arguments) at the end
    of day ``t``, for a kernel whose state is the nine arrays ``s0 .. s8`` and whose daily
    records are ``r0 .. r6`` (day first; a record of another number of rows than ``T`` is
    not copied): copy the state, or prove the cycle and copy the days that repeat (records,
    cumulative terms, rings).  Returns the number of days copied after ``t``; the kernel
    moves on by as many."""
    if act == COPY_STATE:
        state_bits(snap, True, s0, s1, s2, s3, s4, s5, s6, s7, s8)
        return 0
    p = cs[PEND]
    m = proven(t, T, state_bits(snap, False, s0, s1, s2, s3, s4, s5, s6, s7, s8), cs, match,
               capfac, demfac, exfac, impcap, C, D, K)
    for t2 in range(t + 1, t + 1 + m):
        u = t2 - p
        copy_record(r0, t2, u, T)
        copy_record(r1, t2, u, T)
        copy_record(r2, t2, u, T)
        copy_record(r3, t2, u, T)
        copy_record(r4, t2, u, T)
        copy_record(r5, t2, u, T)
        copy_record(r6, t2, u, T)
        repeat_day(t2, p, x0, xh, dh, out_cum, out_dem, dem_on)
    return m


@njit
def repeat_day(t, p, x0, xh, dh, out_cum, out_dem, dem_on):
    """Day ``t``, a repeat of day ``t - p``: its cumulative terms (:func:`add_cumulated`)
    and its output and demand in the rings."""
    P = xh.shape[0]
    u = (t - p) % P
    add_cumulated(x0, xh[u], dh[u], out_cum, out_dem, dem_on)
    store_ring(t, xh[u], xh)
    store_ring(t, dh[u], dh)
