"""EbbtideCluster() with no arguments: its own Dask scheduler, local Dask workers of this Python."""

from __future__ import annotations

import os
import sys

from distributed import Client

from ebbtide import EbbtideCluster

from conftest import wait_for, worker_processes


def test_no_arguments_gives_an_adaptive_cluster_of_local_dask_workers():
    with EbbtideCluster() as cluster, Client(cluster) as client:
        assert cluster.name.startswith("ebbtide-")
        assert cluster.scheduler is not None and cluster.scheduler_address == cluster.scheduler.address
        status = cluster.ebbtide_status
        assert status["scheduler"]["type"] == "dask" and status["mode"] == "adaptive"
        # Local worker processes: at most one per core, as LocalCluster.
        assert status["adaptive"]["minimum"] == 0 and status["adaptive"]["maximum"] == (os.cpu_count() or 1)
        assert client.submit(lambda x: x + 1, 1).result() == 2
        [worker] = wait_for(lambda: worker_processes(cluster.scheduler_address), 30, "the worker process")
        cmd = worker.cmdline()
        assert os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)
        assert cmd[1:4] == ["-m", "distributed.cli.dask_worker", cluster.scheduler_address]
        assert "--no-nanny" in cmd and cmd[cmd.index("--host") + 1] == "127.0.0.1"
