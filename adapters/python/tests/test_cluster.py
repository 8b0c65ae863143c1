"""EbbtideCluster driving ebbtide up: a burst, Client(cluster), what a notebook shows, logs, close."""

from __future__ import annotations

import sys
import time
from html.parser import HTMLParser

import pytest
from distributed import Client

from ebbtide import EbbtideCluster
from ebbtide.html import mode_text

import fake_ipywidgets
from conftest import gone, wait_for, worker_processes

# Quick ticks so a test sees a scale-down within seconds (Dask's defaults are 1 s and 3 ticks).
FAST = {"adaptive": {"interval": "500ms", "waitCount": 2}, "cluster": {"memoryLimit": "1GiB"}}


def tasks():
    """The test's task functions as a notebook's travel: by value. The workers cannot import this
    module, and Dask 2026 pickles a function they could import by reference; one defined in a
    function is pickled by value (cloudpickle)."""

    def nap_inc(x):
        time.sleep(0.5)
        return x + 1

    return nap_inc


nap_inc = tasks()


def started_workers(cluster) -> set[str]:
    return {n for e in cluster.decisions for n in ((e["decision"].get("outcome") or {}).get("started") or [])}


def test_a_burst_scales_up_results_come_back_idle_scales_to_zero_and_close_leaves_no_process():
    with EbbtideCluster(FAST) as cluster:
        cluster.adapt(minimum=0, maximum=4)
        client = Client(cluster)
        try:
            address = cluster.scheduler_address
            ebbtide_pid = cluster.process.pid
            assert cluster.ebbtide_status["adaptive"]["minimum"] == 0 and cluster.ebbtide_status["adaptive"]["maximum"] == 4

            futures = client.map(nap_inc, range(40))
            assert client.gather(futures) == list(range(1, 41))
            # 40 half-second tasks on an empty cluster: Dask's heuristic wants 4 workers at once.
            started = started_workers(cluster)
            assert 2 <= len(started) <= 4, started
            assert max(e["decision"]["inputs"]["workers"] for e in cluster.decisions if "inputs" in e["decision"]) <= 4

            del futures  # nothing is held now: idle workers are retired
            wait_for(lambda: not cluster.scheduler_info["workers"] and not cluster.plan, 60, "the cluster to scale to 0")
            downs = [e for e in cluster.decisions if (e["decision"].get("outcome") or {}).get("status") == "scaled-down"]
            assert downs and {n for e in downs for n in e["decision"]["outcome"]["stopped"]} == started
        finally:
            client.close()

    assert cluster.status.name == "closed"
    assert gone(ebbtide_pid)
    assert cluster.process.proc.returncode == 0
    assert worker_processes(address) == []
    assert cluster.scheduler.status.name == "closed"


class Html(HTMLParser):
    """Collects an HTML fragment's text and the classes of its elements, and checks it nests."""

    VOID = {"br", "hr", "img", "input", "meta", "link"}

    def __init__(self, text: str):
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.by_class: dict[str, list[str]] = {}
        self._open: list[tuple[str, list[str]]] = []
        self.feed(text)
        self.close()
        assert self.stack == [], f"unclosed tags: {self.stack}"

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        self._open.append((tag, classes))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        self._open.pop()

    def handle_data(self, data):
        self.text.append(data)
        for _tag, classes in self._open:
            for c in classes:
                self.by_class.setdefault(c, []).append(data)

    def of(self, cls: str) -> str:
        return "".join(self.by_class.get(cls, [])).strip()

    def rows(self, cls: str) -> int:
        return sum(1 for _ in self.by_class.get(cls, []))


@pytest.fixture(scope="module")
def live():
    cluster = EbbtideCluster(FAST)
    client = Client(cluster)
    try:
        yield cluster, client
    finally:
        client.close()
        cluster.close()


def test_repr_and_html_repr_render_and_follow_ebbtide_live(live):
    cluster, _client = live
    cluster.adapt(minimum=0, maximum=4)
    assert repr(cluster).startswith(f"EbbtideCluster({cluster.name}, '{cluster.scheduler_address}', workers=")
    assert repr(cluster).endswith(", adaptive within [0, 4])")
    page = Html(cluster._repr_html_())
    text = "".join(page.text)
    assert "EbbtideCluster" in text and cluster.name in text
    assert page.of("ebbtide-mode") == "adaptive within [0, 4]"

    # scale(1): manual mode; the stream of decisions updates what the repr shows, nothing else is called.
    cluster.scale(1)
    wait_for(lambda: len(cluster.scheduler_info["workers"]) == 1, 60, "one worker")
    wait_for(lambda: Html(cluster._repr_html_()).of("ebbtide-connected") == "1", 30, "the HTML repr to count the worker")
    page = Html(cluster._repr_html_())
    assert page.of("ebbtide-mode") == "manual: holding 1 worker(s)"
    assert page.of("ebbtide-requested") == "1" and page.of("ebbtide-target") == "1"
    decisions = page.of("ebbtide-decisions")
    assert "scale up to 1 (scaled-up): manual: scale(1) holds the cluster at 1 worker(s)" in decisions
    assert cluster.url + "/" in cluster._repr_html_()
    assert repr(cluster).endswith("workers=1, threads=1, memory=1.00 GiB, manual: holding 1 worker(s))")
    scaling = Html(cluster._scaling_status())
    assert "Scaling mode: manual: holding 1 worker(s) (ebbtide)" in "".join(scaling.text)


def test_get_logs_returns_ebbtides_log_and_each_workers_output(live):
    cluster, client = live
    cluster.scale(1)
    wait_for(lambda: len(cluster.scheduler_info["workers"]) == 1, 60, "one worker")
    assert client.submit(nap_inc, 1).result() == 2
    [(address, info)] = cluster.scheduler_info["workers"].items()
    name = str(info["name"])
    logs = cluster.get_logs()
    assert set(logs) >= {"Cluster", "ebbtide", "Scheduler", name}
    assert f"worker process started event=worker.started worker={name}" in logs["ebbtide"]
    assert "Start worker at:" in logs[name] and address in logs[name]
    assert "Cluster" in logs and "ebbtide at http://127.0.0.1:" in logs["Cluster"]
    # By address too, as Dask's get_logs takes them; only what was asked for.
    only = cluster.get_logs(cluster=False, scheduler=False, workers=[address])
    assert list(only) == [name]
    assert "Start worker at:" in only[name]


def test_scheduler_info_dashboard_link_and_the_dask_hooks(live):
    cluster, client = live
    assert cluster.scheduler_address == cluster.ebbtide_status["scheduler"]["address"]
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert cluster.scheduler_info["id"] == client.scheduler_info()["id"]
    link = cluster.dashboard_link
    try:
        import bokeh  # noqa: F401

        assert link.endswith("/status") and link.startswith("http://127.0.0.1:")
    except ImportError:
        assert link == cluster.url + "/"  # no Dask dashboard without bokeh: ebbtide's page
    # What dask-labextension and Client read: the cluster's name and type on the scheduler,
    # scaling support, the adaptive bounds.
    wait_for(
        lambda: (client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.get_metadata(["cluster-manager-info"], default={})) or {}).get("name") == cluster.name,
        30,
        "the cluster info on the scheduler",
    )
    meta = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.get_metadata(["cluster-manager-info"], default={}))
    assert meta["type"] == "ebbtide.cluster.EbbtideCluster"
    assert cluster._supports_scaling
    adaptive = cluster.adapt(minimum=0, maximum=3, interval="500ms", wait_count=2, target_duration="4s")
    assert (adaptive.minimum, adaptive.maximum, adaptive.interval, adaptive.wait_count, adaptive.target_duration) == (0, 3, 0.5, 2, 4)
    assert cluster._adaptive is adaptive and adaptive.periodic_callback
    assert mode_text(cluster.ebbtide_status) == "adaptive within [0, 3]"
    # Adaptive.stop() as in Dask: no more adapting, the workers there are held.
    adaptive.stop()
    assert cluster.ebbtide_status["mode"] == "manual"
    assert cluster._adaptive is None
    cluster.adapt(minimum=0, maximum=4)
    assert cluster.ebbtide_status["mode"] == "adaptive"


def test_the_notebook_widget_follows_ebbtide_live_and_its_buttons_scale_and_adapt(live, monkeypatch):
    """Dask's own widget code (Cluster._widget) over ipywidgets' classes: its periodic refresh
    shows ebbtide's mode, counts and decisions; Scale and Adapt go to ebbtide."""
    cluster, _client = live
    monkeypatch.setitem(sys.modules, "ipywidgets", fake_ipywidgets)
    monkeypatch.delattr(cluster, "_cached_widget", raising=False)
    tab = cluster._widget()
    try:
        status, scaling = tab.children
        scale_status, accordion = scaling.children
        (request, scale), (minimum, maximum, adapt) = (box.children for box in accordion.children)
        request.value = 2
        scale.click()
        # Nothing but the widget's own refresh (every distributed.deploy.cluster-repr-interval) updates these.
        wait_for(lambda: Html(status.value).of("ebbtide-connected") == "2", 60, "the widget to show 2 workers")
        assert Html(status.value).of("ebbtide-mode") == "manual: holding 2 worker(s)"
        assert "scale up to 2 (scaled-up): manual: scale(2) holds the cluster at 2 worker(s)" in Html(status.value).of("ebbtide-decisions")
        wait_for(lambda: "Workers: 2" in scale_status.value, 30, "the scaling tab to count 2 workers")
        minimum.value, maximum.value = 0, 3
        adapt.click()
        wait_for(lambda: "Scaling mode: adaptive within [0, 3] (ebbtide)" in scale_status.value, 30, "the scaling tab to say adaptive")
        assert cluster.ebbtide_status["adaptive"]["maximum"] == 3
    finally:
        cluster.periodic_callbacks.pop("cluster-repr").stop()
