"""Sweeps on a real dask.distributed LocalCluster (2 worker processes, 1 thread each):
the same numbers as the local engine, with the table scattered once per worker."""

from __future__ import annotations

import numpy as np
import pytest

import simcore as sc
from simcore.scenario import load

distributed = pytest.importorskip("distributed")

SMALL = {
    "schema": 1,
    "name": "small-import-cut",
    "table": {"dataset": "japan-2015-37"},
    "shocks": [{"kind": "import_cut", "product": "27", "origin": "CHN", "share": 0.6,
                "start": 0.0, "duration": 20.0}],
    "model": {"inventory_days": 3.0, "inventory_tau": 10.0, "dependency": 0.8,
              "import_origins": {"27": {"CHN": 0.5}}},
    "horizon": {"days": "auto", "tail_days": 30, "max_days": 400},
}


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as lc, Client(lc) as client:
        yield lc, client


@pytest.fixture(scope="module")
def small():
    return load(SMALL)


def test_dask_equals_local(cluster, small, tmp_path):
    _, client = cluster
    grid = {"shocks.0.share": [0.2, 0.5, 0.8, 1.0], "model.inventory_days": [1.0, 3.0, 9.0],
            "shocks.0.duration": [10.0, 60.0]}
    local = sc.sweep(small, grid=grid, chunk_size=5, sectors=True)
    from distributed import get_task_stream

    with get_task_stream(client) as ts:
        dist = sc.sweep(small, grid=grid, chunk_size=5, sectors=True, executor="dask",
                        client=client, out=tmp_path / "d")
    assert dist.attrs["executor"] == "dask" and dist.attrs["chunks_computed"] == 5
    assert dist.attrs["engine"] == "supply-chain"  # the model, as in every result
    for v in ("gdp_loss_total", "gdp_loss_share", "value_added_loss", "days", "recovered"):
        np.testing.assert_allclose(dist[v].values, local[v].values, rtol=1e-12, atol=0)
    tasks = [t for t in ts.data if str(t["key"]).startswith("simcore-sweep")]
    assert len(tasks) == 5
    assert len({t["worker"] for t in tasks}) == 2  # both workers took part


def test_dask_scheduler_address_and_sampled_design(cluster, small):
    lc, _ = cluster
    kw = dict(ranges={"shocks.0.share": (0.1, 1.0), "model.inventory_tau": (2.0, 30.0)},
              method="lhs", samples=12, seed=11, days=40, chunk_size=4)
    local = sc.sweep(small, **kw)
    dist = sc.sweep(small, **kw, executor="dask", scheduler=lc.scheduler_address)
    np.testing.assert_allclose(dist.gdp_loss_total, local.gdp_loss_total, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(dist["shocks.0.share"], local["shocks.0.share"])
