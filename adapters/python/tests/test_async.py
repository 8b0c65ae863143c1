"""The asynchronous API: await the cluster, adapt and get_logs; an asynchronous Client; and the
calls dask-labextension makes (construct with asynchronous=True, await, adapt/scale unawaited)."""

from __future__ import annotations

import asyncio

from distributed import Client

from ebbtide import EbbtideCluster

from conftest import until

FAST = {"adaptive": {"interval": "500ms"}, "cluster": {"memoryLimit": "1GiB"}}


def test_async_with_cluster_and_client():
    async def main():
        async with EbbtideCluster(FAST, asynchronous=True) as cluster:
            adaptive = await cluster.adapt(minimum=0, maximum=2)
            assert (adaptive.minimum, adaptive.maximum) == (0, 2)
            async with Client(cluster, asynchronous=True) as client:
                assert await client.submit(lambda x: x * 2, 21) == 42
            await cluster.scale(1)
            assert cluster.ebbtide_status["mode"] == "manual"
            logs = await cluster.get_logs(scheduler=False, workers=False)
            assert "adaptive scaling" in logs["ebbtide"]
        assert cluster.status.name == "closed"
        return cluster

    cluster = asyncio.run(main())
    assert cluster.process.proc.returncode == 0


def test_what_dask_labextension_does():
    async def main():
        cluster = await EbbtideCluster(FAST, asynchronous=True)
        try:
            # labextension reads the bounds from what adapt returns, without awaiting it.
            adaptive = cluster.adapt(minimum=1, maximum=3)
            assert (adaptive.minimum, adaptive.maximum) == (1, 3)
            await adaptive
            assert cluster.ebbtide_status["adaptive"]["minimum"] == 1
            assert cluster._adaptive is adaptive
            # minimum 1: a worker comes without any work.
            await until(lambda: len(cluster.scheduler.workers) >= 1, 60, "the minimum's worker")
            assert sum(ws.memory_limit for ws in cluster.scheduler.workers.values()) == 2**30
            cluster.scale(2)  # not awaited either
            await until(lambda: len(cluster.scheduler_info["workers"]) >= 2, 60, "two workers")
            assert cluster.ebbtide_status["mode"] == "manual"
        finally:
            await cluster.close()
        return cluster

    cluster = asyncio.run(main())
    assert cluster.status.name == "closed" and cluster.process.proc.returncode == 0
