"""``EbbtideCluster``: a Dask cluster object whose workers ebbtide sizes and runs."""

from __future__ import annotations

import asyncio
import atexit
import collections
import importlib.util
import json
import logging
import math
import os
import shutil
import tempfile
import uuid
import weakref
from contextlib import suppress
from typing import Any, ClassVar, Mapping, Sequence

from distributed.core import Status, rpc
from distributed.deploy.cluster import Cluster
from distributed.objects import SchedulerInfo
from distributed.utils import Log, Logs

from . import html
from .adaptive import EbbtideAdaptive, adapt_body
from .control import ControlClient, check_url
from .errors import EbbtideError
from .launch import LaunchPlan, UpProcess, effective_config, find_command, nest, plan_launch, token_of, value

logger = logging.getLogger("ebbtide")

# History entries kept for the repr and the widget (the control API keeps adaptive.historyLength).
ENTRIES_KEPT = 50
# Seconds to wait for ebbtide to stop beyond its own shutdown.timeout (retiring idle workers is quick).
STOP_GRACE = 60.0


class EbbtideCluster(Cluster):
    """A Dask cluster whose workers ebbtide starts, sizes to the work and retires.

    ``EbbtideCluster(config)`` starts ``ebbtide up`` for ``config`` (a path to a YAML or JSON file,
    or a dict such as ``{"adaptive": {"maximum": 8}}``; dotted keys work too) and talks to it
    through its control API. With no scheduler in the config it first starts a Dask scheduler of
    its own in this process on 127.0.0.1 (as ``LocalCluster`` does) and points ebbtide at it; with
    the local backend's default command the workers are ``python -m distributed.cli.dask_worker
    ... --no-nanny`` run by this Python, at most one per core unless ``adaptive.maximum`` says
    otherwise. So ``EbbtideCluster()`` is an adaptive cluster of local Dask workers.

    ``EbbtideCluster(url="http://127.0.0.1:8790")`` attaches to a running ``ebbtide up`` instead
    (it must drive a Dask scheduler); ``close()`` then leaves it running unless
    ``shutdown_on_close=True``.

    Parameters
    ----------
    config : str, os.PathLike or dict, optional
        ebbtide's configuration (docs/configuration.md). Keys it leaves out keep ebbtide's
        defaults, except those the cluster object fills in: ``scheduler.type``/``address``
        (its own Dask scheduler), ``cluster.name``, ``dashboard.port`` (0: a free port),
        ``backend.local.command`` and ``adaptive.maximum`` (with the local backend).
    url : str, optional
        The dashboard URL of a running ``ebbtide up`` to attach to.
    token : str, optional
        ``dashboard.token``, when ebbtide was given one (read from the config or
        ``EBBTIDE_DASHBOARD_TOKEN`` when not given).
    ebbtide : str or list of str, optional
        The ebbtide command (default: ``ebbtide`` on PATH), e.g. ``["node", "/opt/ebbtide/bin/ebbtide.js"]``.
    name : str, optional
        ``cluster.name`` (default: ``ebbtide-`` and a random suffix, unless the config names one).
    env : dict, optional
        Extra environment variables for ``ebbtide up`` (``EBBTIDE_*`` ones are config too).
    cwd : str, optional
        Working directory of ``ebbtide up`` (and of the local backend's workers).
    scheduler_options : dict, optional
        Keyword arguments of the Dask ``Scheduler`` started when the config names none
        (default: host 127.0.0.1, a free port, the dashboard on 127.0.0.1:8787 when bokeh is installed).
    shutdown_on_close : bool, optional
        Ask ebbtide to shut down on ``close()`` (its ``shutdown.workers`` decides what happens to
        the workers). Default: True when this object started ebbtide (always), False when attached.
    start_timeout : float
        Seconds to wait for ``ebbtide up`` to answer.
    silence_logs : int or False
        Log level below which the in-process scheduler's log lines are not shown (as LocalCluster).
    asynchronous, loop, quiet
        As for every Dask cluster object.
    """

    _instances: ClassVar[weakref.WeakSet[EbbtideCluster]] = weakref.WeakSet()

    def __init__(
        self,
        config: str | os.PathLike | Mapping[str, Any] | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        ebbtide: str | Sequence[str] | None = None,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        scheduler_options: Mapping[str, Any] | None = None,
        shutdown_on_close: bool | None = None,
        start_timeout: float = 60,
        silence_logs: int | bool = logging.WARN,
        asynchronous: bool = False,
        loop: Any = None,
        quiet: bool = True,
    ):
        if loop is None and asynchronous:
            from tornado.ioloop import IOLoop

            loop = IOLoop.current()  # as SpecCluster: the caller's loop, which is running
        if config is not None and url is not None:
            raise ValueError("give a config (EbbtideCluster starts ebbtide up) or url= (it attaches to a running one), not both")
        if config is not None and not isinstance(config, (str, os.PathLike, Mapping)):
            raise TypeError(f"config: expected a file path or a dict, got {type(config).__name__}")
        if url is not None:
            check_url(url)
        elif shutdown_on_close is False:
            raise ValueError(
                "shutdown_on_close=False: an ebbtide started by EbbtideCluster ends with it; run `ebbtide up` yourself "
                "and attach with EbbtideCluster(url=...) to keep it running"
            )
        self._config = config
        self._url = url
        self._token = token
        self._ebbtide = ebbtide
        self._requested_name = name
        self._env = dict(env or {})
        self._cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
        self._scheduler_options = dict(scheduler_options or {})
        self.shutdown_on_close = shutdown_on_close if shutdown_on_close is not None else url is None
        self._start_timeout = start_timeout
        self._silence_logs = silence_logs
        self._silenced: list[tuple[logging.Handler, int]] = []

        self.scheduler = None  # the in-process Dask Scheduler, when this object started one
        self.process: UpProcess | None = None
        self._control: ControlClient | None = None
        self._plan: LaunchPlan | None = None
        self._effective: dict[str, Any] | None = None
        self._tmpdir: str | None = None
        self._scheduler_addr: str | None = None
        self._ebbtide_status: dict[str, Any] | None = None
        self._entries: collections.OrderedDict[int, dict[str, Any]] = collections.OrderedDict()
        self._last_tick = 0
        self._ebbtide_stopped = False
        self._ended: asyncio.Event | None = None  # made on the cluster's loop, in _start
        self._watch_task: asyncio.Task | None = None
        self._refreshing: asyncio.Task | None = None
        self._closing: asyncio.Future | None = None

        super().__init__(asynchronous=asynchronous, loop=loop, quiet=quiet, name=name or f"ebbtide-{uuid.uuid4().hex[:8]}")
        self._generated_name = self.name
        EbbtideCluster._instances.add(self)

        try:
            called_from_running_loop = getattr(loop, "asyncio_loop", None) is asyncio.get_running_loop()
        except RuntimeError:
            called_from_running_loop = asynchronous
        if not called_from_running_loop:
            self._loop_runner.start()
            try:
                self.sync(self._start)
            except BaseException:
                self._loop_runner.stop()
                raise

    @classmethod
    def from_url(cls, url: str, token: str | None = None, **kwargs: Any) -> EbbtideCluster:
        """Attach to a running ``ebbtide up`` (as ``KubeCluster.from_name``); ``close()`` leaves it running."""
        return cls(url=url, token=token, **kwargs)

    # ----------------------------------------------------------------------------- start

    def __await__(self):
        async def _():
            if self.status == Status.created:
                await self._start()
            return self

        return _().__await__()

    async def _start(self) -> None:
        while self.status == Status.starting:
            await asyncio.sleep(0.01)
        if self.status == Status.running:
            return
        if self.status in (Status.closed, Status.closing, Status.failed):
            raise ValueError(f"EbbtideCluster {self.name} is {self.status.name}")
        self.status = Status.starting
        self._ended = asyncio.Event()
        try:
            if self._url is not None:
                await self._attach()
            else:
                await self._launch()
            self.scheduler_comm = rpc(self._scheduler_addr)
            await self._refresh_status()
            await self._load_history()
            await self._start_cluster_info()
            self._watch_task = asyncio.ensure_future(self._watch())
            self._log(f"ebbtide at {self._control.url}/ drives Dask scheduler {self._scheduler_addr}")
        except BaseException:
            # Nothing it started is left: ebbtide is asked to stop (as on close), then the rest goes.
            self.status = Status.failed
            with suppress(Exception):
                await self._close()
            raise

    async def _start_cluster_info(self) -> None:
        """``Cluster._start``: Dask's worker-status subscription keeps ``scheduler_info`` current
        between ebbtide's ticks. A scheduler keeps only one such subscription, though (a plugin
        of a fixed name), so a second cluster object on it (attached by URL, from another
        notebook) silently ends the first one's: ``scheduler_info`` is also read again with
        ``identity`` after each decision, which keeps it right either way."""
        await super()._start()
        self._cluster_info["name"] = self.name

    def _update_worker_status(self, op, msg):
        if op == "remove":  # the identity read after a decision may have dropped it already
            self.scheduler_info["workers"].pop(msg, None)
        else:
            super()._update_worker_status(op, msg)

    def _config_path(self) -> str | None:
        if self._config is None:
            return None
        if isinstance(self._config, Mapping):
            self._tmpdir = tempfile.mkdtemp(prefix="ebbtide-cluster-")
            path = os.path.join(self._tmpdir, "ebbtide.json")
            with open(path, "w") as f:
                json.dump(nest(self._config), f, indent=2)
            return path
        path = os.path.abspath(os.path.expanduser(os.fspath(self._config)))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"config: no such file: {path}")
        return path

    async def _launch(self) -> None:
        command = find_command(self._ebbtide)
        path = self._config_path()
        env = {**os.environ, **self._env}
        self._effective = await effective_config(command, path, env, self._cwd)
        host = str(self._scheduler_options.get("host") or "127.0.0.1")
        self._plan = plan = plan_launch(self._effective, self._requested_name, self._generated_name, scheduler_host=host)
        self.name = plan.name
        env.update(plan.env)
        if plan.own_scheduler:
            self.scheduler = await self._start_scheduler()
            env["EBBTIDE_SCHEDULER_ADDRESS"] = self.scheduler.address
        token = self._token if self._token is not None else token_of(self._config if isinstance(self._config, Mapping) else None, path, env)
        argv = [*command, "up", *(["-c", path] if path else [])]
        self._log(f"starting {' '.join(argv)}")
        self.process = UpProcess(argv, env, self._cwd)
        url = await self.process.wait_ready(self._start_timeout)
        self._control = ControlClient(url, token)
        status = await self._control.get("/api/status")
        self._scheduler_addr = status["scheduler"]["address"] or (self.scheduler.address if self.scheduler else None)

    async def _start_scheduler(self):
        from distributed import Scheduler

        # Dask's HTTP server (its /metrics, and the dashboard's plots when bokeh is installed).
        options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "dashboard": _has_bokeh(), "dashboard_address": "127.0.0.1:8787"}
        options.update(self._scheduler_options)
        if self._silence_logs:
            self._silence(self._silence_logs)
        return await Scheduler(**options)

    def _silence(self, level: int) -> None:
        """As LocalCluster(silence_logs=...): the scheduler's INFO lines stay out of the notebook."""
        for handler in logging.getLogger("distributed").handlers:
            if isinstance(handler, logging.StreamHandler):
                self._silenced.append((handler, handler.level))
                handler.setLevel(level)

    async def _attach(self) -> None:
        self._control = ControlClient(self._url, self._token if self._token is not None else os.environ.get("EBBTIDE_DASHBOARD_TOKEN"))
        status = await self._control.get("/api/status")
        scheduler = status.get("scheduler") or {}
        if scheduler.get("type") != "dask":
            raise ValueError(
                f"the ebbtide at {self._control.url} drives a scheduler of type {scheduler.get('type')!r}, which Dask clients "
                "cannot connect to: EbbtideCluster attaches to an ebbtide with scheduler.type dask"
            )
        self._scheduler_addr = scheduler.get("address")
        self.name = status["cluster"]

    # ----------------------------------------------------------------------------- live state

    async def _refresh_status(self) -> None:
        """ebbtide's status and the scheduler's identity, read together (after every decision)."""
        self._ebbtide_status, identity = await asyncio.gather(self._control.get("/api/status"), self.scheduler_comm.identity())
        self.scheduler_info = SchedulerInfo(identity)
        mode = self._ebbtide_status.get("mode")
        if mode == "adaptive" and not isinstance(self._adaptive, EbbtideAdaptive):
            self._adaptive = EbbtideAdaptive(self)
        elif mode == "manual":
            self._adaptive = None
        if isinstance(self._adaptive, EbbtideAdaptive):
            self._adaptive._update(self._ebbtide_status)

    async def _load_history(self) -> None:
        history = await self._control.get("/api/decisions", since=self._last_tick)
        for entry in history.get("decisions", [])[-ENTRIES_KEPT:]:
            self._keep(entry)

    def _keep(self, entry: dict[str, Any]) -> None:
        self._entries[entry["id"]] = entry
        self._entries.move_to_end(entry["id"])
        while len(self._entries) > ENTRIES_KEPT:
            self._entries.popitem(last=False)
        self._last_tick = max(self._last_tick, entry.get("tick", 0))

    def _on_event(self, event: str, ident: str | None, data: str) -> None:
        if event == "decision":
            try:
                self._keep(json.loads(data))
            except (ValueError, KeyError):
                return
            if self._refreshing is None or self._refreshing.done():
                self._refreshing = asyncio.ensure_future(self._refresh_quietly())
        elif event == "end":
            self._ebbtide_stopped = True
            self._ended.set()

    async def _refresh_quietly(self) -> None:
        with suppress(EbbtideError, OSError):
            await self._refresh_status()

    async def _watch(self) -> None:
        """Follows ebbtide's decision stream (reconnecting from the last tick) until it ends."""
        delay = 0.5
        while not self._ended.is_set() and self.status not in (Status.closing, Status.closed):
            try:
                await self._control.stream_decisions(self._last_tick, self._on_event)
                delay = 0.5
            except EbbtideError as e:
                logger.debug("decision stream: %s; reconnecting in %ss", e, delay)
            if self._ended.is_set() or self.status in (Status.closing, Status.closed):
                break
            if self.process is not None and not self.process.running:
                self._ebbtide_stopped = True
                self._ended.set()
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    @property
    def url(self) -> str | None:
        """ebbtide's dashboard and control API (``http://127.0.0.1:PORT``)."""
        return self._control.url if self._control else None

    @property
    def ebbtide_status(self) -> dict[str, Any] | None:
        """The last ``GET /api/status`` (refreshed on every decision)."""
        return self._ebbtide_status

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """The last decision history entries received, oldest first (docs/dashboard.md)."""
        return list(self._entries.values())

    @property
    def dashboard_link(self) -> str:
        """Dask's dashboard; ebbtide's page instead when there is none: no HTTP server, or our own
        scheduler's without bokeh (its /status would be a 404)."""
        link = super().dashboard_link
        if link and (self.scheduler is None or _has_bokeh()):
            return link
        return f"{self.url}/" if self.url else link

    @property
    def plan(self) -> set[str]:
        return set((self._ebbtide_status or {}).get("plan") or [])

    @property
    def requested(self) -> set[str]:
        return set((self._ebbtide_status or {}).get("requested") or [])

    # ----------------------------------------------------------------------------- scaling

    def _run(self, coro) -> Any:
        """Sync mode: run it and return its result. Asynchronous: start it and return an awaitable
        (a failure nobody awaits is logged)."""
        if self.asynchronous:
            task = asyncio.ensure_future(coro)
            task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or logger.warning("ebbtide request failed: %s", t.exception()))
            return task

        async def run():
            return await coro

        return self.sync(run)

    def _per_worker(self) -> tuple[int | None, int | None]:
        """Threads and memory limit of one worker: from the config, else from a connected worker."""
        if self._effective is not None:
            from dask.utils import parse_bytes

            return int(value(self._effective, "cluster.nthreads")), parse_bytes(value(self._effective, "cluster.memoryLimit")) or None
        for w in self.scheduler_info.get("workers", {}).values():
            return w.get("nthreads"), w.get("memory_limit") or None
        return None, None

    def scale(self, n: int = 0, memory: str | int | None = None, cores: int | None = None) -> Any:
        """Hold the cluster at ``n`` workers (manual mode, until ``adapt``), or enough for
        ``memory`` / ``cores`` as Dask's ``SpecCluster.scale``; a shrink still retires through the
        scheduler first (results are moved)."""
        from dask.utils import parse_bytes

        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n: expected a whole number >= 0, got {n!r}")
        nthreads, mem = self._per_worker()
        if memory is not None:
            if not mem:
                raise ValueError("scale(memory=...): the memory of one worker is not known (cluster.memoryLimit is 0): give n")
            n = max(n, math.ceil(parse_bytes(memory) / mem))
        if cores is not None:
            if not nthreads:
                raise ValueError("scale(cores=...): the threads of one worker are not known yet: give n")
            n = max(n, math.ceil(cores / nthreads))
        return self._run(self._scale(n))

    async def _scale(self, n: int) -> dict[str, Any]:
        answer = await self._control.post("/api/scale", {"n": n})
        self._log(f"scale({n}): manual mode")
        await self._refresh_quietly()
        return answer

    def adapt(self, minimum: int | None = None, maximum: int | float | None = None, **kwargs: Any) -> EbbtideAdaptive:
        """Adaptive scaling within ``[minimum, maximum]``, run by ebbtide (Dask's
        ``cluster.adapt``). Also takes Dask's ``interval``, ``wait_count``, ``target_duration``,
        ``minimum_cores``/``maximum_cores`` and ``minimum_memory``/``maximum_memory``; anything
        left out keeps its current value. Returns the settings in force (awaitable when
        asynchronous)."""
        if "Adaptive" in kwargs and kwargs["Adaptive"] is None:
            kwargs.pop("Adaptive")
        body = adapt_body({"minimum": minimum, "maximum": maximum, **kwargs}, self._per_worker())
        handle = EbbtideAdaptive(self)
        # What is asked for, at once (dask-labextension reads the bounds without awaiting);
        # then what ebbtide confirms.
        handle._update({"adaptive": {**((self._ebbtide_status or {}).get("adaptive") or {}), **body}})  # the API's names are the status's
        request = self._run(self._adapt(body, handle))
        if self.asynchronous:
            handle._request = request
        return handle

    async def _adapt(self, body: dict[str, Any], handle: EbbtideAdaptive) -> EbbtideAdaptive:
        await self._control.post("/api/adapt", body)
        self._log(f"adapt({', '.join(f'{k}={v}' for k, v in body.items())})")
        self._adaptive = handle
        await self._refresh_quietly()
        return handle

    def _stop_adapting(self, handle: EbbtideAdaptive) -> Any:
        """Dask's ``Adaptive.stop()``: no more adapting; the workers planned now are held."""
        if self._adaptive is not handle or self.status != Status.running:
            return None
        return self.scale(len(self.plan))

    def _scaling_status(self) -> str:
        return html.scaling_rows(self._ebbtide_status, len(self.scheduler_info.get("workers", {})), self._entries.values())

    # ----------------------------------------------------------------------------- logs

    async def _get_logs(self, cluster=True, scheduler=True, workers=True, lines: int | None = None):
        logs = Logs()
        if cluster:
            logs["Cluster"] = Log("\n".join(line[1] for line in self._cluster_manager_logs))
            own = await self._control.get("/api/logs", lines=lines)
            logs["ebbtide"] = Log("\n".join(own.get("lines", [])))
        if scheduler and self.scheduler_comm is not None:
            with suppress(OSError):
                got = await self.scheduler_comm.get_logs()
                logs["Scheduler"] = Log("\n".join(line for _level, line in got))
        if workers:
            by_address = {a: str(w.get("name")) for a, w in self.scheduler_info.get("workers", {}).items()}
            if workers is True:
                names = await self._worker_names()
            else:
                names = [by_address.get(w, w) for w in workers]
            missing = []
            for name in names:
                try:
                    out = await self._control.get("/api/logs", worker=name, lines=lines)
                    logs[name] = Log("\n".join(out.get("lines", [])))
                except EbbtideError as e:
                    if e.code == "NOT_FOUND":
                        continue  # gone long ago: ebbtide no longer knows it
                    if e.code != "NOT_IMPLEMENTED":
                        raise
                    missing.append(name)
            if missing and self.scheduler_comm is not None:
                # A backend that keeps no worker output: Dask's in-memory worker logs instead.
                addresses = [a for a, n in by_address.items() if n in missing]
                d = await self.scheduler_comm.worker_logs(workers=addresses)
                for address, got in d.items():
                    logs[by_address.get(address, address)] = Log("\n".join(line for _level, line in got))
        return logs

    async def _worker_names(self) -> list[str]:
        """This cluster's workers: connected or starting now, and those started earlier in the history."""
        table = await self._control.get("/api/workers")
        names = [w["name"] for w in table.get("workers", []) if w.get("managed", True)]
        for entry in self._entries.values():
            for name in ((entry.get("decision") or {}).get("outcome") or {}).get("started") or []:
                if name not in names:
                    names.append(name)
        return names

    def get_logs(self, cluster=True, scheduler=True, workers=True, lines: int | None = None):
        """Logs by name: ``Cluster`` (this object), ``ebbtide`` (ebbtide's own log), ``Scheduler``,
        and each worker's output by worker name (``workers`` may list names or addresses)."""
        return self.sync(self._get_logs, cluster=cluster, scheduler=scheduler, workers=workers, lines=lines)

    # ----------------------------------------------------------------------------- close

    def close(self, timeout: float | None = None) -> Any:
        try:
            return super().close(timeout)
        finally:
            if not self.asynchronous and not self._in_loop():
                self._loop_runner.stop()

    def _in_loop(self) -> bool:
        try:
            return getattr(self.loop, "asyncio_loop", None) is asyncio.get_running_loop()
        except RuntimeError:
            return False

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()

    async def _close(self) -> None:
        if self.status == Status.closed:
            return
        if self._closing is not None:
            await self._closing
            return
        self._closing = asyncio.get_running_loop().create_future()
        try:
            self.status = Status.closing
            if self.shutdown_on_close and self._control is not None:
                await self._shutdown_ebbtide()
            # Base Cluster._close stops an Adaptive; ours is ebbtide's, which is done.
            self._adaptive = None
            await super()._close()
        finally:
            await self._teardown()
            self.status = Status.closed
            self._closing.set_result(None)

    async def _shutdown_ebbtide(self) -> None:
        """Asks ebbtide to shut down (POST /api/shutdown: its shutdown.workers decides what
        happens to the workers) and waits until it has: the process exits, or (attached) the
        decision stream ends. The scheduler stays up meanwhile: the workers retire through it."""
        owned = self.process is not None
        if owned and not self.process.running:
            return
        try:
            answer = await self._control.post("/api/shutdown", {})
            self._log(f"ebbtide shutting down (shutdown.workers {answer.get('workers')})")
        except EbbtideError as e:
            if not owned:
                logger.warning("could not shut ebbtide down at %s: %s", self._control.url, e)
                return
            self.process.terminate()  # its API does not answer: the same shutdown, by signal
        limit = (self._plan.shutdown_timeout if self._plan else 30.0) + STOP_GRACE
        if owned:
            code = await self.process.wait(limit)
            if code is None:
                logger.error("ebbtide up (pid %s) did not stop within %ss; killing it (its workers may be left running)", self.process.pid, limit)
                self.process.kill()
                code = await self.process.wait(10)
            if code == 3:
                logger.warning("ebbtide stopped workers that still held results nothing else held: they are lost (see get_logs()['ebbtide'])")
            self._ebbtide_stopped = True
            return
        # Attached: done when its decision stream ends, or (the stream was not connected) when
        # its server no longer answers.
        waits = [asyncio.ensure_future(self._ended.wait()), asyncio.ensure_future(self._until_unreachable())]
        try:
            done, _ = await asyncio.wait(waits, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                logger.warning("ebbtide at %s did not finish shutting down within %ss", self._control.url, limit)
        finally:
            for w in waits:
                w.cancel()

    async def _until_unreachable(self) -> None:
        while True:
            try:
                await self._control.get("/healthz")
            except EbbtideError as e:
                if e.code == "DASHBOARD_UNREACHABLE":
                    return
            await asyncio.sleep(0.5)

    async def _teardown(self) -> None:
        """Whatever this object started goes: the stream, a still-running ebbtide up, the scheduler, the temp folder."""
        if self._control is not None:
            self._control.close()  # ends the decision stream's read, whatever its task is doing
        for task in (self._watch_task, self._refreshing):
            if task is not None and not task.done():
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 10)
        if self.process is not None and self.process.running:
            self.process.terminate()
            if await self.process.wait((self._plan.shutdown_timeout if self._plan else 30.0) + STOP_GRACE) is None:
                self.process.kill()
                await self.process.wait(10)
        if self.scheduler is not None:
            with suppress(Exception):
                await self.scheduler.close()
        for handler, level in self._silenced:
            handler.setLevel(level)
        self._silenced = []
        if self._control is not None:
            self._control.close()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # ----------------------------------------------------------------------------- repr

    def __repr__(self) -> str:
        text = super().__repr__()
        status = self._ebbtide_status
        if status is None:
            return text
        extra = html.mode_text(status) + (", ebbtide stopped" if self._ebbtide_stopped else "")
        return f"{text[:-1]}, {extra})"

    def _repr_html_(self, cluster_status=None) -> str:
        ours = html.cluster_rows(self._ebbtide_status, self._entries.values(), self.url, self._ebbtide_stopped)
        return super()._repr_html_(cluster_status=ours + (cluster_status or ""))


def _has_bokeh() -> bool:
    return importlib.util.find_spec("bokeh") is not None


@atexit.register
def _close_clusters() -> None:
    """Clusters still open at exit shut their ebbtide down cleanly (as LocalCluster's do)."""
    for cluster in list(EbbtideCluster._instances):
        if cluster.status not in (Status.closed, Status.created) and not cluster.asynchronous:
            with suppress(Exception):
                cluster.close(timeout=120)
