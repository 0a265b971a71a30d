"""Executors: chunks run in this process (threads) or on a Dask cluster."""

from __future__ import annotations

import os
from typing import Any

from ..errors import DesignError
from .compute import _compute_chunk


# --------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------
#: What can run a sweep's chunks (``sweep(executor=...)``, CLI ``--executor``).
EXECUTORS = ("local", "dask")
#: Designs up to this many scenarios are checked point by point before a sweep starts.
UPFRONT_CHECK_MAX = 200_000


def _local_executor(tasks, preps, lowerer, opt, on_done, threads):
    opt.threads = threads
    for t in tasks:
        on_done(_compute_chunk(*t[:2], t[2], t[3], preps, lowerer, opt))


#: Seconds to wait for a Dask scheduler to answer (issue 15: an address that accepts the
#: connection but is not a Dask scheduler hung the client for over two minutes).
DASK_CONNECT_TIMEOUT_S = 10.0


def _connect_timeout() -> float:
    """:data:`DASK_CONNECT_TIMEOUT_S`, or Dask's ``distributed.comm.timeouts.connect`` if
    that is shorter."""
    try:
        import dask
        from dask.utils import parse_timedelta

        cfg = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
        return min(float(DASK_CONNECT_TIMEOUT_S), float(cfg))
    except Exception:  # noqa: BLE001 - a missing or odd setting: the default
        return float(DASK_CONNECT_TIMEOUT_S)


def _probe_scheduler(address: str, timeout: float) -> None:
    """Ask ``address`` for its identity within ``timeout`` seconds; raise TimeoutError or
    OSError unless a Dask scheduler answers (``Client`` itself can wait for minutes on a
    server that accepts the connection and stays silent)."""
    import asyncio

    from distributed.comm import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> Any:
        return await asyncio.wait_for(ask(), timeout)

    from concurrent.futures import ThreadPoolExecutor

    try:
        # in a thread of its own, so that it also works under a running event loop (Jupyter)
        with ThreadPoolExecutor(1) as ex:
            reply = ex.submit(asyncio.run, bounded()).result()
    except asyncio.TimeoutError:
        raise TimeoutError(f"no answer within {timeout:g} s") from None
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise OSError(f"the server there is not a Dask scheduler (it answered "
                      f"{type(reply).__name__})")


def _dask_executor(tasks, preps, lowerer, opt, on_done, *, client, scheduler, workers, fp):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a test dependency
        raise DesignError("executor='dask' needs dask.distributed: "
                          "pip install 'simcore[dask]'") from exc
    own_cluster = own_client = None
    try:
        if client is None:
            if scheduler is not None:
                try:
                    _probe_scheduler(scheduler, _connect_timeout())
                    client = own_client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError, ValueError, TypeError, MemoryError) as exc:
                    # MemoryError: a server that is not Dask answers bytes that Dask's
                    # protocol reads as a frame length of exabytes
                    raise DesignError(
                        f"scheduler {scheduler!r}: cannot connect to a Dask scheduler there: "
                        f"no Dask scheduler answered there within "
                        f"{_connect_timeout():g} s ({type(exc).__name__}: {exc}); check "
                        "the address (tcp://HOST:PORT of a running dask scheduler)") from None
            else:
                n = int(workers or os.cpu_count() or 1)
                own_cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
                client = own_client = Client(own_cluster)
        nthreads = client.nthreads()
        opt.threads = max(1, min(nthreads.values())) if nthreads else 1
        # the prepared tables and the scenario go to every worker once, not once per task
        pf = {tid: client.scatter(p, broadcast=True, hash=False) for tid, p in preps.items()}
        lf = client.scatter(lowerer, broadcast=True, hash=False)
        futs = [client.submit(_compute_chunk, cid, start, ovs, tids, pf, lf, opt, pure=False,
                              key=f"simcore-sweep-{fp[:12]}-{cid}")
                for cid, start, ovs, tids in tasks]
        try:
            for fut in as_completed(futs):
                on_done(fut.result())
                fut.release()
        except BaseException:
            client.cancel(futs)
            raise
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
