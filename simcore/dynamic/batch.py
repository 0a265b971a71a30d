"""Many scenarios on one prepared table in one call: the labelled layer over the lane
kernel :func:`simcore.dynamic._lanes.run_lanes`.

Each scenario is a pair ``(shocks, params)``.  It is lowered with the helpers of
:mod:`simcore.dynamic.supply_chain` (special products, import schedules, domestic shocks, the
dependency and inventory rows of the special products), so a scenario run here gives the
same numbers as :func:`simcore.simulate` with the same arguments: each lane of the batch
kernel repeats :func:`~simcore.dynamic._kernels.run_one`'s operations in the same order,
and the tests hold every scenario to its single run within 1e-12 relative (in practice the
numbers are bit-identical).

Scenarios run as *lanes*: blocks of :data:`LANES` scenarios with the scenario as the
innermost, vectorised axis (structure of arrays), blocks in parallel.  The lanes of one
call share the *structure* (:func:`lane_key`: sparsity pattern, elasticities, which
products are special, which sectors are shocked, the rationing rule); every value is per
lane (the table's coefficients and targets, dependency shares, inventory days, import
shares and origin pools, shock sizes and dates, ``inventory_tau``, ``alpha_max``,
``alpha_tau``).  Lowering is shared by scenarios of equal :func:`group_key` (what a
lowering depends on); groups whose lowered structure is equal run in the same lanes.  A
partial last block runs in a narrower block (:func:`last_width`); one of fewer than
:data:`MIN_LANES` scenarios runs them one by one on the fused single-run kernel that
:func:`simcore.simulate` runs (:func:`simcore.dynamic._bundles.run_single_fused`: a lane block
of mostly padding would cost more, and ``run_one`` would be one more kernel to compile).
Each block (or single run) goes to a pool of threads as soon as its scenarios are lowered,
so lowering the next scenarios overlaps the kernels (:class:`_Runner`; the kernels release
the GIL).

:func:`simcore.dynamic._kernels.run_batch` (one scenario per thread, ``run_one`` each)
stays available for callers of the bare kernel."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr


from .._jit import raise_for_status
from .._version import __version__
from ..errors import ParameterError
from . import supply_chain as _m
from .common import MAX_RECORD_BYTES, check_days, gap_rows_for
from .params import DynamicParams
from . import _bundles as kn
from . import _bundles as _ln  # the lane batch's bundles and calls (no numba import)
from .shocks import CapacityShock, DemandShock

__all__ = ["simulate_batch", "run_lowered", "BatchResult", "group_key", "lane_key", "LANES"]


def _canon(v: Any) -> Any:
    """A hashable, order-independent form of a parameter value."""
    if isinstance(v, Mapping):
        return tuple(sorted((str(k), _canon(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return tuple(_canon(x) for x in v)
    if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool):
        return float(v)
    return v


def group_key(prep: _m.Prepared, shocks: Sequence[Any], params: DynamicParams) -> tuple:
    """The settings a kernel call shares; scenarios with equal keys run in one call."""
    special = tuple(_m._special_products(prep, shocks, params))
    sp_names = {prep.sectors[i] for i in special}
    cap = tuple(sorted({str(s.sector) for s in shocks if isinstance(s, CapacityShock)}))
    dem = tuple(sorted({str(s.sector) for s in shocks if isinstance(s, DemandShock)}))
    return (
        special, cap, dem,
        float(params.inventory_days), float(params.dependency), params.rationing,
        float(params.alpha_tau),
        _canon({k: v for k, v in params.inventory_days_by_product.items()
                if str(k) not in sp_names}),
        _canon({k: v for k, v in params.dependency_by_product.items()
                if str(k) not in sp_names}),
        _canon(params.elasticity_by_product),
        params.dependency_cells.digest if params.dependency_cells is not None else None,
        params.inventory_cells.digest if params.inventory_cells is not None else None,
        # stocks per origin: the kernel's table depends on which origins are pooled; the
        # pools' shares are values of each member (:class:`_SplitRows`)
        _origins_key(prep, params) if params.origin_stocks else None,
    )


def _origins_key(prep: _m.Prepared, params: DynamicParams) -> tuple:
    """``params.import_origins`` in order, the share of every origin that
    :func:`~simcore.dynamic.supply_chain.split_origins` gives a pool row of its own replaced
    by a marker: scenarios with equal keys split the table into the same rows and cells
    (:func:`~simcore.dynamic.supply_chain._split_index`) and differ at most in the pools'
    shares."""
    out = []
    for prod, shares in params.import_origins.items():
        i = prep.index.get(str(prod), -1)
        pooled = i >= 0 and prep.mu[i] > 0
        out.append((str(prod), tuple(
            (str(o), "pool" if pooled and str(o) != "ROW" and float(v) > 0 else _canon(v))
            for o, v in shares.items())))
    return tuple(out)


def _zfull(prep: _m.Prepared, special: Sequence[int]) -> np.ndarray:
    """Baseline daily flows of each special product to every buyer, ``(K, n)``."""
    n = prep.n
    col = np.repeat(np.arange(n), np.diff(prep.colptr))
    out = np.zeros((len(special), n))
    for k, i in enumerate(special):
        hit = prep.rowidx == i
        out[k, col[hit]] = prep.Z0[hit]
    return out


def _special_rows(prep: _m.Prepared, params: DynamicParams, special: Sequence[int],
                  zfull: np.ndarray, base_th: np.ndarray | None,
                  base_d: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``theta_sp`` and ``tgt_sp`` exactly as :func:`simcore.dynamic.supply_chain._cell_arrays`
    (``base_th``/``base_d``: the group's dense cell matrices, or None)."""
    pos = {i: k for k, i in enumerate(special)}
    K, n = len(special), prep.n
    sp = np.asarray(special, dtype=np.int64)
    theta_sp = (base_th[sp].copy() if base_th is not None
                else np.full((K, n), float(params.dependency)))
    days = base_d[sp].copy() if base_d is not None else np.full((K, n), float(params.inventory_days))
    for prod, spec in params.inventory_days_by_product.items():
        what = f"inventory_days_by_product[{prod!r}]"
        i = prep.idx(prod, what)
        if i in pos:
            days[pos[i]] = _m._row_values(prep, spec, days[pos[i]], what)
    for prod, spec in params.dependency_by_product.items():
        what = f"dependency_by_product[{prod!r}]"
        i = prep.idx(prod, what)
        if i in pos:
            theta_sp[pos[i]] = _m._row_values(prep, spec, theta_sp[pos[i]], what)
    return theta_sp, days * zfull


class BatchResult(dict):
    """Bare arrays of a batch: ``gdp_loss (s, T)`` (net), ``gdp_gain (s, T)`` (value added
    above baseline, kept apart: gross loss = net + gains), ``out_cum (s, n)``, ``gap (s, T, 2)``
    (output and stock gap shares each day; ``(s, 1, 2)``, the last day's, where the caller
    asked for the last day's only), ``status (s,)``, ``info (s,)``, ``copied (s,)`` (days
    copied as repeats of a cycle, not computed: :mod:`simcore.dynamic._cycles`) and, if
    recorded, ``output (s, T, n)``."""


#: Scenarios per block of the lane kernel (:mod:`simcore.dynamic._lanes`): the innermost,
#: vectorised axis.  Per scenario, 32 and 64 lanes were the fastest of 1 to 64 measured,
#: within a few per cent of each other (``sc-lanes`` cases of benchmarks/compare.py,
#: docs/performance.md): each lane loop pays a fixed cost (the compiler's run-time overlap
#: checks), which 32 lanes amortise; 32 keeps the padding of a partial last block and the
#: memory of a block smaller.
LANES = 32
#: A partial last block runs at the smallest width of ``LANES``, ``LANES / 2`` and
#: ``LANES / 4`` that holds it (padded), if it has at least this many scenarios; fewer run
#: one by one (the fused single-run kernel of ``simulate``).  A lane of a narrow block costs about 0.7 of a single run
#: (8 lanes), a lane of a full block about half (``sc-lanes`` in docs/performance.md).
MIN_LANES = 6
#: Bytes of per-lane inputs and outputs the blocks handed to the threads and not yet done
#: may hold (the lowering waits beyond that; at least one block per thread).
LANE_CALL_BYTES = 64 * 1024**2


def lane_key(low: _m.Lowered, params: DynamicParams) -> tuple:
    """The structure the lanes of one kernel call share (see :mod:`simcore.dynamic._lanes`):
    sparsity pattern, elasticities, special products, shocked sectors and rationing rule.
    Scenarios whose lowered tables differ only in values share lanes."""
    p2 = low.prep
    return (p2.n, p2.colptr.tobytes(), p2.rowidx.tobytes(), low.sigma.tobytes(),
            low.sp_idx.tobytes(), low.cap_idx.tobytes(), low.dem_idx.tobytes(),
            params.rationing)


class _Runner:
    """Kernel calls on a pool of ``threads`` threads (numba's setting of the caller), each
    call one lane block (or one scenario alone), taken by whichever thread is free, while
    the caller lowers the next scenarios: the kernels release the GIL, so lowering and the
    kernels overlap, and a thread slowed by other work on the machine holds up no other.
    At most ``max_pending`` calls wait or run at a time (the caller waits for the first to
    end)."""

    def __init__(self) -> None:
        self.threads = max(1, _ln.num_threads())
        self.max_pending = 2 * self.threads
        self.calls = 0
        self._ex: Any = None
        self._futs: list[Any] = []

    def submit(self, fn: Any, *args: Any) -> None:
        if self._ex is None:
            from concurrent.futures import ThreadPoolExecutor

            self._ex = ThreadPoolExecutor(self.threads, thread_name_prefix="simcore-batch")
        pending = [f for f in self._futs if not f.done()]
        while len(pending) >= self.max_pending:
            # whichever call ends first frees its thread (not the oldest: a block submitted
            # before a single run may end long after it); errors are raised by close()
            from concurrent.futures import FIRST_COMPLETED, wait

            pending = list(wait(pending, return_when=FIRST_COMPLETED).not_done)
        self._futs.append(self._ex.submit(fn, *args))
        self.calls += 1

    def close(self) -> None:
        """Wait for every call (raising the first error), then stop the threads."""
        try:
            for f in self._futs:
                f.result()
        finally:
            if self._ex is not None:
                self._ex.shutdown(wait=True, cancel_futures=True)


#: Widths of the blocks of an even layout (:func:`even_width`) are multiples of this many
#: lanes: the compiler's lane loops run in vectors of several lanes and finish a width that
#: is not a multiple one lane at a time (measured on the kiuchi-2025-3m draws, one thread:
#: 25 lanes cost about 30 % more per lane than 32, 24 lanes about 10 % more).
LANE_STEP = 8


#: The widest block of an even layout, where its per-cell arrays stay within
#: :data:`EVEN_BLOCK_BYTES`: per lane, a wider block costs less on a table that small (the
#: lane loops run longer between the per-cell loads; the band draws of both shipped
#: rare-earth files on 2 threads ran 8 % faster as blocks of 48 lanes than of 24, the same
#: bits).  The fixed layout (:data:`LANES`) is unchanged.
EVEN_LANES = 2 * LANES
#: Bytes of one per-cell array of a block (cells x lanes x 8) up to which an even layout
#: may use :data:`EVEN_LANES`.
EVEN_BLOCK_BYTES = 16 * 2**20


def even_width(m: int, threads: int, nnz: int = 0) -> int:
    """Lanes per block when ``m`` scenarios of one structure (``nnz`` cells) run in blocks
    of about equal width (:func:`run_lowered` with ``even=True``): the fewest blocks of at
    most :data:`EVEN_LANES` lanes (:data:`LANES` where a block's per-cell arrays would pass
    :data:`EVEN_BLOCK_BYTES`), rounded up to whole rounds of the ``threads`` threads, each as
    wide as that many blocks share, rounded down to a multiple of :data:`LANE_STEP`; what is
    left runs as a last block (its width rounded up to a multiple of :data:`LANE_STEP`) or,
    under :data:`MIN_LANES`, one by one.  100 band draws on 2 threads: 2 blocks of 48 and 4
    single runs, not 3 blocks of 32 (the third alone on one thread) and 4 single runs.  The
    fixed layout's :data:`LANES` where the blocks would be narrower than :data:`LANE_STEP`
    or :data:`MIN_LANES`."""
    cap = EVEN_LANES if nnz * EVEN_LANES * 8 <= EVEN_BLOCK_BYTES else LANES
    nb = -(-m // cap)
    if threads > 1:
        nb = -(-nb // threads) * threads
    w = m // nb // LANE_STEP * LANE_STEP
    return w if w >= max(LANE_STEP, MIN_LANES) else LANES


def last_width(rest: int) -> int:
    """Lanes of the block that runs a partial last block of ``rest`` scenarios: the smallest
    of ``LANES / 4``, ``LANES / 2`` and ``LANES`` that holds it."""
    for w in (max(1, LANES // 4), max(1, LANES // 2)):
        if rest <= w:
            return w
    return LANES


class _LaneSet:
    """Scenarios of one structure: shared arrays and each member's per-lane inputs."""

    def __init__(self, low: _m.Lowered, params: DynamicParams, n_orig: int,
                 run: "_Runner", out: "BatchResult", T: int, record_output: bool,
                 width: int | None = None):
        p2 = low.prep
        #: lanes of a block: :data:`LANES`, or an even layout's (:func:`even_width`), whose
        #: partial last block runs at its width rounded up to :data:`LANE_STEP` lanes
        self.width = LANES if width is None else width
        self.even = width is not None
        self.n_orig = n_orig
        self.runner, self.out, self.T, self.record_output = run, out, T, record_output
        self.n2 = p2.n
        self.nnz = p2.A.shape[0]
        self.K = low.sp_idx.shape[0]
        self.C = low.cap_idx.shape[0]
        self.D = low.dem_idx.shape[0]
        self.colptr, self.rowidx = p2.colptr, p2.rowidx  # signed, as run_one's bundles
        colptr, rowidx = _ln.indices(p2.colptr, p2.rowidx, p2.n)
        self.st = _ln.Structure(
            colptr=colptr, rowidx=rowidx, sigma=low.sigma, sp_pos=low.sp_pos,
            sp_idx=low.sp_idx, cap_idx=low.cap_idx, dem_idx=low.dem_idx,
            ration=np.array([kn.RATION_FIRMS_FIRST if params.rationing == "firms_first"
                             else kn.RATION_PROPORTIONAL], dtype=np.int64))
        # cells of special rows and where their overrides sit in the dense (K, n) rows
        cols = np.repeat(np.arange(p2.n), np.diff(p2.colptr))
        pos = low.sp_pos[p2.rowidx]
        self.msp = np.nonzero(pos >= 0)[0]
        self.kpos = pos[self.msp]
        self.kcol = cols[self.msp]
        self.members: list[tuple[int, dict[str, Any] | None]] = []
        self.sent = 0  # members handed to the runner
        # blocks in flight: as many as LANE_CALL_BYTES holds, at least one per thread
        fit = LANE_CALL_BYTES // max(1, self.width * self.lane_bytes(T, record_output))
        run.max_pending = max(run.threads, min(run.max_pending, fit))

    def special_dense(self, theta: np.ndarray, tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(K, n)`` dependency shares and targets of the special rows from per-cell
        arrays (:func:`simcore.dynamic.supply_chain._special_dense`: buyers without a cell
        get 0)."""
        th_sp = np.zeros((self.K, self.n2))
        tg_sp = np.zeros((self.K, self.n2))
        th_sp[self.kpos, self.kcol] = theta[self.msp]
        tg_sp[self.kpos, self.kcol] = tgt[self.msp]
        return th_sp, tg_sp

    def add(self, s: int, **kw: Any) -> None:
        """Add member ``s`` (its per-lane inputs); hand a block to the runner as soon as
        :attr:`width` members wait."""
        self.members.append((s, kw))
        L = self.width
        if len(self.members) - self.sent >= L:
            q0 = self.sent
            self.sent += L
            self._submit(list(range(q0, self.sent)), L)

    def lane_bytes(self, T: int, record_output: bool) -> int:
        """Inputs and outputs of one lane (the kernel's work arrays, 6 per cell and 11 per
        sector, exist only for the blocks running at a time, one per thread)."""
        return 8 * (3 * self.nnz + 5 * self.n2 + T * (self.K + self.C + 2 * self.D + 4)
                    + self.n2 + (T * self.n2 if record_output else 0))

    def finish(self) -> None:
        """Hand the rest to the runner: a partial last block of at least :data:`MIN_LANES`
        members in a narrower block (:func:`last_width`; in an even layout its width rounded
        up to :data:`LANE_STEP` lanes; padded with copies of the last member, results
        dropped); fewer members one by one with the single-run kernel
        of :func:`simcore.simulate` (:meth:`_single`; each a call of its own, in parallel)."""
        m = len(self.members)
        rest = m - self.sent  # under one block: add() hands over every whole one
        if rest >= MIN_LANES:
            W = (min(self.width, -(-rest // LANE_STEP) * LANE_STEP) if self.even
                 else last_width(rest))
            q0 = self.sent
            self._submit([min(q0 + z, m - 1) for z in range(W)], W)
        else:
            for q in range(self.sent, m):
                self.runner.submit(self._single, q)
        self.sent = m

    def _single(self, q: int) -> None:
        """Member ``q`` alone, with the kernel :func:`simcore.simulate` runs
        (:func:`simcore.dynamic._bundles.run_single_fused`, on ``run_one``'s bundles: the
        same numbers as a lane, bit for bit; cheaper than a block of mostly padding, and
        no kernel to compile that a process calling ``simulate`` does not compile
        anyway)."""
        out, T, record_output = self.out, self.T, self.record_output
        s, w = self.members[q]
        st = self.st
        n2, K, n = self.n2, self.K, self.n_orig
        gl, gg, oc = np.zeros(T), np.zeros(T), np.zeros(n2)
        rx = np.zeros((T if record_output else 0, n2))
        gap, info = np.zeros((out["gap"].shape[1], 2)), np.zeros(1, dtype=np.int64)
        copied = np.zeros(1, dtype=np.int64)
        status = kn.run_single_fused(
            kn.Table(self.colptr, self.rowidx, w["A"], w["tgt"], w["theta"], st.sigma, w["x0"],
                     w["f0"], w["e0"], w["mu"], w["c"], w["inv_tau"]),
            kn.Special(st.sp_pos, st.sp_idx, w["impcap"], w["stock0"], w["relmax"],
                       w["theta_sp"], w["tgt_sp"]),
            kn.Shocks(st.cap_idx, w["capfac"], st.dem_idx, w["demfac"], w["exfac"]),
            kn.Options(int(st.ration[0]), w["alpha_max"], w["alpha_tau"]),
            kn.Records(gl, oc, rx, np.zeros((0, n2)), np.zeros((0, K)), np.zeros((0, K)), gg,
                       gap, info, np.zeros(0)), skipped=copied)
        out["gdp_loss"][s] = gl
        out["gdp_gain"][s] = gg
        out["out_cum"][s] = oc[:n]
        out["gap"][s] = gap
        out["status"][s] = status
        out["info"][s] = info[0]
        out["copied"][s] = copied[0]
        if record_output:
            out["output"][s] = rx[:, :n]

    def _submit(self, lanes: list[int], L: int) -> None:
        """Gather members ``lanes`` (one block of ``L``, in order) into the lane kernel's
        arrays here, and hand the call to the runner (the members' own arrays are then
        dropped)."""
        nb = 1
        ws = [self.members[q][1] for q in lanes]

        def lanes_last(key: str, rows: str | None = None) -> np.ndarray:
            # members stacked on a leading axis (each member's array contiguous), the
            # special rows' overrides merged in, then one transposing copy to lane-last:
            # a lane at a time into the lane-last array would touch every cache line of it
            # once per lane
            X = np.array([w[key] for w in ws], dtype=float)
            if rows is not None and self.msp.size:
                X[:, self.msp] = np.array([w[rows][self.kpos, self.kcol] for w in ws])
            return np.ascontiguousarray(np.moveaxis(X, 0, -1))[None]

        A = lanes_last("A")
        tgt = lanes_last("tgt", "tgt_sp")
        theta = lanes_last("theta", "theta_sp")
        x0, f0, e0, mu, c = (lanes_last(k) for k in ("x0", "f0", "e0", "mu", "c"))
        inv_tau, alpha_max, alpha_tau = (lanes_last(k) for k in ("inv_tau", "alpha_max",
                                                                 "alpha_tau"))
        impcap, stock0, relmax = (lanes_last(k) for k in ("impcap", "stock0", "relmax"))
        capfac, demfac, exfac = (lanes_last(k) for k in ("capfac", "demfac", "exfac"))
        sids = []
        for z, q in enumerate(lanes):
            if q not in lanes[:z]:  # padding of a partial last block: dropped
                sids.append((z, self.members[q][0]))
        for q in set(lanes):
            self.members[q] = (self.members[q][0], None)
        self.runner.submit(self._run, sids, nb, L, _ln.LaneTable(A, tgt, theta, x0, f0, e0,
                                                                 mu, c),
                           _ln.LaneScenario(inv_tau, alpha_max, alpha_tau, impcap, stock0,
                                            relmax, capfac, demfac, exfac))

    def _run(self, sids: list[tuple[int, int]], nb: int, L: int, tab: "_ln.LaneTable",
             scn: "_ln.LaneScenario") -> None:
        """One lane-kernel call (on the runner's thread); results into ``out``."""
        out, T, record_output, n2 = self.out, self.T, self.record_output, self.n2
        res = _ln.LaneOutput(
            gdp_loss=np.zeros((nb, T, L)), gdp_gain=np.zeros((nb, T, L)),
            out_cum=np.zeros((nb, n2, L)), out_dem=np.zeros((nb, 0, L)),
            rec_x=np.zeros((nb, T if record_output else 0, n2, L)),
            rec_gap=np.zeros((nb, out["gap"].shape[1], 2, L)),
            status=np.zeros((nb, L), dtype=np.int64),
            info=np.full((nb, L), -1, dtype=np.int64), skipped=np.zeros(nb, dtype=np.int64))
        _ln.run_lanes(self.st, tab, scn, res)
        n = self.n_orig
        for z, s in sids:
            b, l = divmod(z, L)
            out["gdp_loss"][s] = res.gdp_loss[b, :, l]
            out["gdp_gain"][s] = res.gdp_gain[b, :, l]
            out["out_cum"][s] = res.out_cum[b, :n, l]
            out["gap"][s] = res.rec_gap[b, :, :, l]
            out["status"][s] = res.status[b, l]
            out["info"][s] = res.info[b, l]
            out["copied"][s] = res.skipped[b]
            if record_output:
                out["output"][s] = res.rec_x[b, :, :n, l]


def _same_but_split_values(prep: _m.Prepared, p: DynamicParams, p0: DynamicParams) -> bool:
    """Whether ``p`` equals ``p0`` but for the per-product maps (overriding at least the
    products ``p0`` overrides) and the shares of the origins that have pools of their own
    (:func:`_origins_key`): what :class:`_SplitRows` lowers from the group's (the caller
    has checked, :func:`group_key`, that the maps agree on every product that is not
    special)."""
    return (_equal_but(p, p0, ("dependency_by_product", "inventory_days_by_product",
                               "import_origins"))
            # a special row the group's first member overrides and ``p`` does not would
            # keep the first member's values: ``p`` overrides at least those products
            and p0.dependency_by_product.keys() <= p.dependency_by_product.keys()
            and p0.inventory_days_by_product.keys() <= p.inventory_days_by_product.keys()
            and _origins_key(prep, p) == _origins_key(prep, p0))


def _equal_but(p: DynamicParams, p0: DynamicParams, skip: tuple[str, ...]) -> bool:
    """Whether ``p`` equals ``p0`` in every compared field but those named in ``skip``."""
    import dataclasses

    if type(p) is not type(p0):
        return False
    for f in dataclasses.fields(p):
        if not f.compare or f.name in skip:
            continue
        a, b = getattr(p, f.name), getattr(p0, f.name)
        if a is b:
            continue
        # the field as dataclass equality compares it (a field whose == is not a bool,
        # an array: not equal); field by field, without building (and validating) a copy
        try:
            if not bool(a == b):
                return False
        except Exception:  # noqa: BLE001
            return False
    return True


#: Whether run_lowered lowers members that differ only in the special rows' maps through
#: :class:`_SplitRows` (tests switch it off to compare with full lowerings).
_SPLIT_ROWS = True


class _SplitRows:
    """Stocks per origin, members of one group whose parameters differ only in the rows of
    special products (the Nomura sweep's ``dependency_scale``) and in the shares of the
    pooled origins (a band draw's ``china_mag_share``): their table after the split, per-cell
    targets and dependency shares from the group's, without a full lowering.

    :func:`simcore.dynamic.supply_chain._cell_arrays` builds the per-cell arrays from the
    group's base (equal for every member: :func:`group_key`) and overrides whole rows from
    the per-product maps; :func:`~simcore.dynamic.supply_chain.split_origins` then takes
    ``tgt[Sx] * F``, ``theta[Sx] * F`` with the index of
    :func:`~simcore.dynamic.supply_chain._split_index` (equal for every member: the same
    pools) and the factors and rows of
    :func:`~simcore.dynamic.supply_chain._split_values` (the member's shares).  Here the
    group's arrays before the split get the member's rows of the special products (the same
    element operations), then the same functions, gather and product, so the numbers are bit
    for bit a full lowering's (tested)."""

    def __init__(self, prep: _m.Prepared, p0: DynamicParams, special: Sequence[int],
                 tg0: np.ndarray, th0: np.ndarray, low0: _m.Lowered):
        self.prep, self.p0, self.special = prep, p0, set(special)
        self.tg0, self.th0 = tg0, th0
        p2 = self.p2 = low0.prep
        self.low0 = low0
        self.cols = _m._cols(prep)
        self.order, self.starts = _m._row_cells(prep)
        self.base_th = _m._dense_base(prep, p0.dependency_cells, p0.dependency)
        self.base_d = _m._dense_base(prep, p0.inventory_cells, p0.inventory_days)
        pools = _m._origin_pools(prep, p0)
        self.ids = [(i, prod, o) for i, prod, o, _ in pools]
        self.shares0 = [so for _, _, _, so in pools]
        R, Sx, W, colptr = _m._split_index(prep, pools)
        F = _m._split_values(prep, pools, Sx, W)[1]
        # the cells after the split that a member can change: those whose source cell lies
        # on a special row (the per-product maps' rows, and the pooled rows with their pool
        # cells, whose factors follow the shares); every other cell is the group's, factor
        # 1 (no pooled share on its row) and the same per-cell values
        sp = np.zeros(prep.n, dtype=bool)
        sp[list(self.special)] = True
        self.chg = np.flatnonzero(sp[prep.rowidx[Sx]])
        self.src = Sx[self.chg]
        self.Wc = W[self.chg]
        self.F = F[self.chg]
        # a pool's stockpile scales with its shares (split_origins): such members are
        # lowered in full when their shares differ from the group's
        self.piles = any(prod in p0.stockpiles for _, prod, _ in self.ids)
        # the split must be split_origins' own (its table from ours, bit for bit), and
        # the cells outside ``chg`` the group's
        rest = np.ones(Sx.size, dtype=bool)
        rest[self.chg] = False
        self.ok = bool(all(i in self.special for i, _, _ in self.ids)
                       and np.array_equal(R, p2.rowidx) and np.array_equal(colptr, p2.colptr)
                       and np.array_equal(prep.A[Sx] * F, p2.A)
                       and np.array_equal(prep.Z0[Sx] * F, p2.Z0)
                       and np.array_equal(tg0[Sx] * F, low0.tgt)
                       and np.array_equal(th0[Sx] * F, low0.theta)
                       and bool(np.all(F[rest] == 1.0)))

    def table(self, p: DynamicParams) -> tuple[_m.Prepared, np.ndarray] | None:
        """The table after the split and the factors of the cells :attr:`chg` for member
        parameters ``p`` (the group's when the pools' shares are the group's); None when
        ``p`` needs a full lowering (other pools, or shares that scale a stockpile)."""
        import dataclasses

        pools = _m._origin_pools(self.prep, p)
        if [(i, prod, o) for i, prod, o, _ in pools] != self.ids:
            return None  # pragma: no cover - group_key holds the pools equal
        if [so for _, _, _, so in pools] == self.shares0:
            return self.p2, self.F
        if self.piles:
            return None
        prep, p2, c, src = self.prep, self.p2, self.chg, self.src
        # split_values' own element operations on the cells that change
        _, F, f0, mu, m0 = _m._split_values(prep, pools, src, self.Wc)
        A, Z0 = p2.A.copy(), p2.Z0.copy()
        A[c] = prep.A[src] * F
        Z0[c] = prep.Z0[src] * F
        return dataclasses.replace(p2, A=A, Z0=Z0, f0=f0, mu=mu, m0=m0), F

    def arrays(self, p: DynamicParams, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(tgt, theta)`` after the split for member parameters ``p`` (factors ``F`` of
        the cells :attr:`chg`, from :meth:`table`)."""
        prep, p0 = self.prep, self.p0
        tg, th = self.tg0.copy(), self.th0.copy()
        for prod, spec in p.inventory_days_by_product.items():
            what = f"inventory_days_by_product[{prod!r}]"
            i = prep.idx(prod, what)
            if i in self.special:
                row = _m._row_values(prep, spec, self.base_d[i] if self.base_d is not None
                                     else p0.inventory_days, what)
                m = self.order[self.starts[i]:self.starts[i + 1]]
                tg[m] = row[self.cols[m]] * prep.Z0[m]
        for prod, spec in p.dependency_by_product.items():
            what = f"dependency_by_product[{prod!r}]"
            i = prep.idx(prod, what)
            if i in self.special:
                row = _m._row_values(prep, spec, self.base_th[i] if self.base_th is not None
                                     else p0.dependency, what)
                m = self.order[self.starts[i]:self.starts[i + 1]]
                th[m] = row[self.cols[m]]
        tgt, theta = self.low0.tgt.copy(), self.low0.theta.copy()
        tgt[self.chg] = tg[self.src] * F
        theta[self.chg] = th[self.src] * F
        return tgt, theta


def _same_params(p: DynamicParams, p0: DynamicParams) -> bool:
    """Whether two parameter sets are equal (identity, or dataclass equality where it can
    be decided)."""
    if p is p0:
        return True
    try:
        return bool(p == p0)
    except Exception:  # noqa: BLE001 - fields whose == is not a bool (arrays): not equal
        return False


def run_lowered(prep: _m.Prepared, scenarios: Sequence[tuple[Any, DynamicParams]], days: int,
                *, record_output: bool = False, even: bool = False,
                gaps: str = "daily") -> BatchResult:
    """Run ``scenarios`` over ``days`` days; bare arrays in scenario order (no labels).

    Scenarios are lowered in groups of equal :func:`group_key` (shared lowering), then
    gathered by :func:`lane_key` (shared structure) and run as lanes of the vectorised
    batch kernel :func:`simcore.dynamic._lanes.run_lanes`, :data:`LANES` scenarios a block,
    blocks in parallel.  Scenarios that differ only in values (inventory days, dependency
    shares, origin shares under stocks per origin, shock sizes and dates, ``alpha_max``,
    ...) share one call.  Failed scenarios have a non-zero ``status`` (see
    :mod:`simcore._jit`); nothing is raised for them here.  ``out['groups']`` counts the
    structures, ``out['kernel_calls']`` the kernel calls, ``out['copied'] (s,)`` the days
    of each scenario copied as repeats of a cycle of the whole state instead of computed
    (:mod:`simcore.dynamic._cycles`: the same bits; a lane's count is its block's).

    ``even=True`` splits the scenarios into blocks of equal width (:func:`even_width`, from
    the number of scenarios: exact when they share one structure) instead of
    :data:`LANES`-wide blocks and a narrower last one: for callers whose scenarios mostly
    share one structure (the band draws of :func:`simcore.calibrate.run_draws`), so that
    the threads end together.  Each scenario's numbers are the same in either layout, bit
    for bit (a lane's operations do not depend on the block's width; tested).

    ``gaps="last"`` keeps the output and stock gaps of the last day only (``gap`` is
    ``(s, 1, 2)``), for callers that read no other day's (the recovery check of a fixed
    horizon): the kernels then sum the stock gap over the cells on that day only instead of
    every day (one lane loop less per cell and day).  Every other number is the same, bit
    for bit, and so is the last day's gap.
    """

    T = check_days(days)
    G = gap_rows_for(gaps, T)
    items = [(_m._check_shocks(sh), p if p is not None else DynamicParams())
             for sh, p in scenarios]
    for _, p in items:
        if not isinstance(p, DynamicParams):
            raise ParameterError(f"params: expected a DynamicParams, got {type(p).__name__}")
    ns, n = len(items), prep.n
    out = BatchResult(
        gdp_loss=np.zeros((ns, T)), gdp_gain=np.zeros((ns, T)), out_cum=np.zeros((ns, n)),
        gap=np.zeros((ns, G, 2)),
        status=np.zeros(ns, dtype=np.int64), info=np.full(ns, -1, dtype=np.int64),
        copied=np.zeros(ns, dtype=np.int64))
    if record_output:
        out["output"] = np.zeros((ns, T, n))
    groups: dict[tuple, list[int]] = {}
    for s, (sh, p) in enumerate(items):
        groups.setdefault(group_key(prep, sh, p), []).append(s)
    sets: dict[tuple, _LaneSet] = {}
    runner = _Runner()
    try:
        _lower_into(prep, items, groups, sets, runner, out, T, record_output, even)
        for ls in sets.values():
            ls.finish()
    finally:
        runner.close()
    out["groups"] = len(sets)
    out["kernel_calls"] = runner.calls
    return out


def _lower_into(prep, items, groups, sets, runner, out, T, record_output, even=False) -> None:
    """Lower every group of ``items`` (shared where :func:`run_lowered` says) into the lane
    sets ``sets`` (by :func:`lane_key`), which hand whole blocks to ``runner`` as they
    fill."""
    n = prep.n
    fast_off = not _SPLIT_ROWS
    for key, members in groups.items():
        sh0, p0 = items[members[0]]
        low0 = _m.lower(prep, sh0, p0, T)
        split_mode = low0.split is not None
        if split_mode and len(members) > 1:
            # the group's table after the split, for members with the same parameters or
            # parameters :class:`_SplitRows` lowers from the group's (a group of one runs
            # its lowering as is)
            pools = _m._origin_pools(prep, p0)
            special0 = _m._special_products(prep, sh0, p0)
            tg0, th0 = _m._cell_arrays(prep, p0, special0)[:2]
            pa2 = _m.split_origins(prep, sh0, p0, tg0, th0)[2]
            sp2 = list(low0.sp_idx)
            rows_of: _SplitRows | None = None
        elif not split_mode:
            special = list(low0.sp_idx)
            zfull = _zfull(prep, special)
            base_th = _m._dense_base(prep, p0.dependency_cells, p0.dependency)
            base_d = _m._dense_base(prep, p0.inventory_cells, p0.inventory_days)
        lk = lane_key(low0, p0)
        ls = sets.get(lk)
        if ls is None:
            ls = sets[lk] = _LaneSet(low0, p0, n, runner, out, T, record_output,
                                     even_width(len(items), runner.threads,
                                                int(low0.prep.A.shape[0])) if even
                                     else None)
        for q, s in enumerate(members):
            sh, p = items[s]
            same = split_mode and q > 0 and _same_params(p, p0)
            rows_only = (split_mode and q > 0 and not same and not fast_off
                         and _same_but_split_values(prep, p, p0))
            sh2 = _m.pool_shocks(pools, sh) if same or rows_only else None
            tab = None
            if rows_only:
                if rows_of is None:
                    rows_of = _SplitRows(prep, p0, special0, tg0, th0, low0)
                tab = rows_of.table(p) if rows_of.ok else None
            if sh2 is not None and (tab is not None or not rows_only) and \
                    _m._special_products(low0.prep, sh2, pa2) == sp2:
                # stocks per origin, the group's parameters (but perhaps the special rows'
                # dependency shares and inventory days, and the pools' shares): the group's
                # split (with this member's shares), this scenario's shocks moved to the pool
                # rows (as split_origins moves them)
                p2 = low0.prep if tab is None else tab[0]
                imp, st0, rel = _m._lower_imports(p2, sh2, pa2, sp2, T)
                _, cf, _, dfac, efac = _m._lower_domestic(p2, sh2, T)
                th_sp, tg_sp = low0.theta_sp, low0.tgt_sp
                tgt, theta = low0.tgt, low0.theta
                if tab is not None:
                    tgt, theta = rows_of.arrays(p, tab[1])
                    th_sp, tg_sp = ls.special_dense(theta, tgt)
            elif split_mode:
                # stocks per origin: the pool rows' arrays come from a full lowering
                lw = low0 if q == 0 else _m.lower(prep, sh, p, T)
                p2 = lw.prep
                imp, st0, rel = lw.impcap, lw.stock0, lw.relmax
                th_sp, tg_sp = lw.theta_sp, lw.tgt_sp
                cf, dfac, efac = lw.capfac, lw.demfac, lw.exfac
                tgt, theta = lw.tgt, lw.theta
            else:
                p2 = low0.prep
                imp, st0, rel = _m._lower_imports(prep, sh, p, special, T)
                th_sp, tg_sp = _special_rows(prep, p, special, zfull, base_th, base_d)
                _, cf, _, dfac, efac = _m._lower_domestic(prep, sh, T)
                tgt, theta = low0.tgt, low0.theta
            ls.add(s, A=p2.A, tgt=tgt, theta=theta, tgt_sp=tg_sp, theta_sp=th_sp, x0=p2.x0,
                   f0=p2.f0, e0=p2.e0, mu=p2.mu, c=p2.c, inv_tau=1.0 / p.inventory_tau,
                   alpha_max=float(p.alpha_max), alpha_tau=float(p.alpha_tau), impcap=imp,
                   stock0=st0, relmax=rel, capfac=cf, demfac=dfac, exfac=efac)


def simulate_batch(
    table: xr.Dataset | _m.Prepared,
    scenarios: Sequence[tuple[Any, DynamicParams | None]],
    *,
    days: int = 365,
    record: Sequence[str] = (),
    gdp_denominator: float | None = None,
) -> xr.Dataset:
    """Simulate many scenarios on one table in parallel.

    Parameters
    ----------
    table : xarray.Dataset or Prepared
        A simcore table or the result of :func:`simcore.dynamic.supply_chain.prepare_model`.
    scenarios : sequence of (shocks, params)
        ``shocks`` as for :func:`simcore.simulate` (one shock or a sequence);
        ``params`` a :class:`~simcore.dynamic.params.DynamicParams` or ``None`` (defaults).
    days : int, default 365
        Horizon shared by every scenario.
    record : sequence of str
        ``"output"`` keeps the daily output of every sector (``scenario x time x sector``);
        the daily GDP loss is always kept.
    gdp_denominator : float, optional
        Annual GDP for the loss share (default: the table's GDP-like value added).

    Returns
    -------
    xarray.Dataset
        Over dims ``scenario`` (and ``time``, ``sector``): ``gdp_loss`` daily,
        ``gdp_loss_total``, ``gdp_loss_share`` (net: value added above baseline from
        overproduction counts against the loss), ``gdp_gain`` daily, ``gdp_gain_total`` and
        ``gdp_loss_gross_total`` (gains kept apart: gross = net + gains, as
        :func:`simcore.simulate`), ``value_added_loss`` and ``output_loss``
        by sector, ``recovered`` and ``status`` (0 = ok).  Equal, scenario by scenario, to
        :func:`simcore.simulate` with the same arguments.

    Raises
    ------
    KernelError
        If a scenario fails in the kernel (the first failure is reported).

    Examples
    --------
    >>> import simcore as sc
    >>> from simcore.dynamic.batch import simulate_batch
    >>> t = sc.datasets.load("japan-2015-37")
    >>> cuts = [(sc.CapacityShock(sector="35", share=s, duration=30), None) for s in (0.1, 0.2)]
    >>> res = simulate_batch(t, cuts, days=60)
    >>> bool(res.gdp_loss_total[1] > res.gdp_loss_total[0])
    True
    """
    for r in record:
        if r != "output":
            raise ParameterError(f"record: {r!r} is not available in batches; allowed: 'output'")
    prep = table if isinstance(table, _m.Prepared) else _m.prepare_model(table)
    scen = list(scenarios)
    T = check_days(days)
    if "output" in record and len(scen) * T * prep.n * 8 > MAX_RECORD_BYTES:
        raise ParameterError(
            f"record: daily output of {len(scen)} scenarios x {T} days x {prep.n} sectors needs "
            f"{len(scen) * T * prep.n * 8 / 1e9:.1f} GB; record nothing or use simcore.sweep")
    r = run_lowered(prep, scen, T, record_output="output" in record, gaps="last")
    bad = np.nonzero(r["status"])[0]
    if bad.size:
        s = int(bad[0])
        raise_for_status(int(r["status"][s]), where=f"simulate_batch (scenario {s})",
                         day=int(r["info"][s]))
    denom = float(gdp_denominator) if gdp_denominator is not None else prep.gdp_annual
    if not (math.isfinite(denom) and denom > 0):
        raise ParameterError(f"gdp_denominator = {gdp_denominator!r}: expected a positive number")
    unit = prep.unit
    tot = r["gdp_loss"].sum(axis=1)
    gain = r["gdp_gain"].sum(axis=1)
    coords = dict(prep.coords)
    coords["scenario"] = np.arange(len(scen))
    coords["time"] = np.arange(T)
    data = {
        "gdp_loss": (("scenario", "time"), r["gdp_loss"], {"units": f"{unit} per day"}),
        "gdp_loss_total": (("scenario",), tot, {"units": unit}),
        "gdp_loss_share": (("scenario",), tot / denom, {"units": "1"}),
        # overproduction (alpha_max > 1) can lift sectors above baseline: the net loss
        # above nets those gains against the losses, these keep them apart
        "gdp_gain": (("scenario", "time"), r["gdp_gain"],
                     {"units": f"{unit} per day",
                      "long_name": "value added above baseline, summed over sectors"}),
        "gdp_gain_total": (("scenario",), gain,
                           {"units": unit, "long_name": "value-added gains (overproduction)"}),
        "gdp_loss_gross_total": (("scenario",), tot + gain,
                                 {"units": unit,
                                  "long_name": "value-added losses before netting gains"}),
        "value_added_loss": (("scenario", "sector"), prep.c[None, :] * r["out_cum"],
                             {"units": unit}),
        "output_loss": (("scenario", "sector"), r["out_cum"], {"units": unit}),
        "recovered": (("scenario",), _m.recovered_rule(prep, r["gdp_loss"][:, -1],
                                                  r["gap"][:, -1]), {}),
        "status": (("scenario",), r["status"], {}),
    }
    if "output" in record:
        data["output"] = (("scenario", "time", "sector"), r["output"],
                          {"units": f"{unit} per day"})
    ds = xr.Dataset({k: xr.Variable(d, v, a) for k, (d, v, a) in data.items()}, coords=coords)
    ds.attrs.update({"unit": unit, "days": T, "gdp_denominator": denom,
                     "kernel_calls": int(r["kernel_calls"]),
                     "lane_groups": int(r["groups"]), "lanes": LANES, "simcore_version": __version__,
                     "engine": "supply-chain"})
    return ds
