"""The asynchronous API: await the cluster, adapt and get_logs; an asynchronous Client."""

from __future__ import annotations

import asyncio

from distributed import Client

from ebbtide import EbbtideCluster


def test_async_with_cluster_and_client():
    async def main():
        async with EbbtideCluster({"adaptive": {"interval": "500ms"}, "cluster": {"memoryLimit": "1GiB"}}, asynchronous=True) as cluster:
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
