"""Mistakes get errors that say what to change, and a failed start leaves nothing running."""

from __future__ import annotations

import socket

import pytest

from ebbtide import EbbtideCluster, EbbtideError

from conftest import gone


def test_a_bad_config_key_is_ebbtides_own_error_before_anything_starts():
    before = set(map(id, EbbtideCluster._instances))
    with pytest.raises(EbbtideError) as e:
        EbbtideCluster({"adaptive": {"maximm": 4}})
    assert e.value.code == "CONFIG_INVALID"
    assert "adaptive.maximm: unknown key" in str(e.value) and "did you mean adaptive.maximum?" in str(e.value)
    [cluster] = [c for c in EbbtideCluster._instances if id(c) not in before]
    assert cluster.process is None and cluster.scheduler is None and cluster.status.name == "closed"


def test_ebbtides_own_scheduler_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="scheduler.type embedded is ebbtide's own scheduler, which Dask clients cannot connect to"):
        EbbtideCluster({"scheduler": {"type": "embedded"}})


def test_a_backend_on_other_machines_with_a_loopback_scheduler_is_refused():
    with pytest.raises(ValueError, match="backend.type kubernetes starts workers on other machines, which cannot reach the Dask scheduler"):
        EbbtideCluster({"backend": {"type": "kubernetes"}})


def test_keep_without_a_scheduler_of_ones_own_is_refused():
    with pytest.raises(ValueError, match="shutdown.workers keep leaves the workers for the next ebbtide"):
        EbbtideCluster({"shutdown": {"workers": "keep"}})


def test_other_mistakes_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="config: no such file"):
        EbbtideCluster(str(tmp_path / "nope.yaml"))
    with pytest.raises(EbbtideError, match="no such command") as e:
        EbbtideCluster(ebbtide=str(tmp_path / "not-ebbtide"))
    assert e.value.code == "USAGE"
    with pytest.raises(ValueError, match="not both"):
        EbbtideCluster({}, url="http://127.0.0.1:8790")
    with pytest.raises(ValueError, match="url: expected the dashboard URL"):
        EbbtideCluster(url="127.0.0.1:8790")
    with pytest.raises(ValueError, match="shutdown_on_close=False: an ebbtide started by EbbtideCluster ends with it"):
        EbbtideCluster({}, shutdown_on_close=False)
    with pytest.raises(ValueError, match="name='a' but the config says cluster.name 'b'"):
        EbbtideCluster({"cluster": {"name": "b"}}, name="a")


def test_attaching_where_nothing_answers_is_dashboard_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EbbtideError) as e:
        EbbtideCluster(url=f"http://127.0.0.1:{port}")
    assert e.value.code == "DASHBOARD_UNREACHABLE"


def test_ebbtide_up_failing_at_start_raises_its_error_and_leaves_no_process():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"scheduler": {"type": "dask", "address": f"tcp://127.0.0.1:{port}", "dask": {"maxStartAttempts": 1, "timeout": "2s"}}}
    before = set(map(id, EbbtideCluster._instances))
    with pytest.raises(EbbtideError) as e:
        EbbtideCluster(config)
    assert e.value.code == "SCHEDULER_UNREACHABLE", str(e.value)
    [cluster] = [c for c in EbbtideCluster._instances if id(c) not in before]
    assert cluster.status.name == "closed"
    assert gone(cluster.process.pid)
