"""Attaching to a running ebbtide by URL, and close() honouring shutdown.workers."""

from __future__ import annotations

import pytest
from distributed import Client

from ebbtide import EbbtideCluster, EbbtideError

from conftest import gone, wait_for, worker_processes

FAST = {"adaptive": {"interval": "500ms", "waitCount": 2}, "cluster": {"memoryLimit": "1GiB"}}


def test_attach_by_url_steers_the_same_cluster_and_leaves_it_running_unless_asked_to_shut_it_down():
    with EbbtideCluster(FAST) as owner:
        attached = EbbtideCluster(url=owner.url)
        assert attached.name == owner.name
        assert attached.scheduler_address == owner.scheduler_address
        assert attached.process is None and attached.shutdown_on_close is False
        attached.scale(1)
        wait_for(lambda: len(owner.scheduler_info["workers"]) == 1, 60, "the worker scale(1) asked for")
        wait_for(lambda: (owner.ebbtide_status or {}).get("mode") == "manual", 30, "the owner to see manual mode")
        attached.close()
        assert owner.process.running
        assert owner.ebbtide_status["mode"] == "manual"

        # Asked to (as KubeCluster(shutdown_on_close=True)): POST /api/shutdown, as SIGTERM does.
        stopper = EbbtideCluster.from_url(owner.url, shutdown_on_close=True)
        address = owner.scheduler_address
        stopper.close()
        assert owner.process.proc.wait(30) == 0
        assert any("received POST /api/shutdown: shutting down (shutdown.workers stop)" in line for line in owner.process.stdout)
        wait_for(lambda: worker_processes(address) == [], 30, "the worker to be stopped")
    assert owner.status.name == "closed"


def test_close_honours_shutdown_workers_keep_and_the_next_cluster_adopts_the_workers(dask_scheduler):
    keep = {**FAST, "scheduler": {"type": "dask", "address": dask_scheduler}, "cluster": {"name": "kept", "memoryLimit": "1GiB"}, "shutdown": {"workers": "keep"}}
    with EbbtideCluster(keep) as cluster:
        assert cluster.scheduler is None  # the config names its scheduler
        assert cluster.name == "kept"
        cluster.scale(1)
        wait_for(lambda: len(cluster.scheduler_info["workers"]) == 1, 60, "one worker")
        [worker] = worker_processes(dask_scheduler)
    assert cluster.process.proc.returncode == 0
    assert any("left 1 worker(s) running for the next ebbtide: kept-0" in line for line in cluster.process.stdout)
    assert not gone(worker.pid)
    with Client(dask_scheduler) as client:
        assert [w["name"] for w in client.scheduler_info()["workers"].values()] == ["kept-0"]

    # The next ebbtide of cluster "kept" adopts it; with shutdown.workers stop its close retires it.
    stop = {**keep, "shutdown": {"workers": "stop"}}
    with EbbtideCluster(stop) as again:
        assert "kept-0" in again.plan
        assert any("adopted 1 existing worker(s) of cluster kept: kept-0" in line for line in again.process.stdout)
    wait_for(lambda: gone(worker.pid), 30, "the adopted worker to be stopped")


def test_with_a_dashboard_token_every_request_and_the_stream_carry_it():
    secured = {**FAST, "dashboard": {"token": "s3cret-token"}}
    with EbbtideCluster(secured) as cluster:
        cluster.scale(1)  # an API call with the token read from the config
        wait_for(lambda: len(cluster.scheduler_info["workers"]) == 1, 60, "one worker")
        # The decision stream (its own connection) carries it too: the repr follows ebbtide.
        wait_for(lambda: any("manual: scale(1)" in str(e["decision"]["explanation"].get("rule")) for e in cluster.decisions), 30, "the manual decision in the stream")
        with pytest.raises(EbbtideError) as e:
            EbbtideCluster(url=cluster.url)
        assert e.value.code == "CONFIG_INVALID" and "needs its dashboard.token" in str(e.value)
        attached = EbbtideCluster(url=cluster.url, token="s3cret-token")
        assert attached.ebbtide_status["mode"] == "manual"
        attached.close()
