"""Starting ``ebbtide up`` for a config: the command, the effective config, what the cluster object
adds to it, and the process itself."""

from __future__ import annotations

import asyncio
import collections
import ctypes
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from .errors import EbbtideError

# `up` prints this once its control API answers (docs/dashboard.md; the token is never printed).
DASHBOARD_LINE = re.compile(r"^dashboard at (https?://\S+?)/?(?:\s|$)")
# How ebbtide reports an error on stderr: `error[CODE]: message`, then `  hint: ...` lines.
ERROR_LINE = re.compile(r"^error\[([A-Z_]+)\]: (.*)$")


def find_command(ebbtide: str | Sequence[str] | None) -> list[str]:
    """The argv prefix that runs ebbtide: as given (a path, a command line, or a list), else
    ``ebbtide`` on PATH."""
    if ebbtide is None:
        found = shutil.which("ebbtide")
        if not found:
            raise EbbtideError(
                "USAGE",
                "the ebbtide command is not on PATH: install ebbtide (npm install in the ebbtide repository puts it in "
                "node_modules/.bin), or pass EbbtideCluster(..., ebbtide='/path/to/ebbtide')",
            )
        return [found]
    if isinstance(ebbtide, str):
        if os.path.exists(os.path.expanduser(ebbtide)):
            return [os.path.expanduser(ebbtide)]
        argv = shlex.split(ebbtide)
    else:
        argv = [str(a) for a in ebbtide]
    if not argv or not (shutil.which(argv[0]) or os.path.exists(argv[0])):
        raise EbbtideError("USAGE", f"ebbtide={ebbtide!r}: no such command")
    return argv


def _jsonable(value: Any) -> Any:
    """A config value as ebbtide reads it: infinity is "inf" (JSON has none)."""
    if isinstance(value, float) and math.isinf(value) and value > 0:
        return "inf"
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def nest(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict, nested: dotted keys (``{"adaptive.maximum": 4}``, as ``dask.config.set``
    takes them) become sections."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str):
            raise TypeError(f"config: keys must be strings, got {key!r}")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"config: {key!r} is inside {part!r}, which is also given a value")
        leaf = parts[-1]
        if isinstance(value, Mapping):
            merged = node.setdefault(leaf, {})
            if not isinstance(merged, dict):
                raise ValueError(f"config: {key!r} is given both a value and a section")
            for k, v in nest(value).items():
                merged[k] = v
        else:
            if isinstance(node.get(leaf), dict):
                raise ValueError(f"config: {key!r} is given both a value and a section")
            node[leaf] = value
    return _jsonable(out)


def token_of(config: Mapping[str, Any] | None, path: str | None, env: Mapping[str, str]) -> str:
    """``dashboard.token`` as ebbtide will see it (``ebbtide config`` never prints it): the
    environment wins over the file, as in ebbtide."""
    if env.get("EBBTIDE_DASHBOARD_TOKEN"):
        return env["EBBTIDE_DASHBOARD_TOKEN"]
    data: Any = config
    if data is None and path:
        import yaml  # a dependency of dask; JSON is YAML too

        with open(path) as f:
            data = yaml.safe_load(f) or {}
    section = (data or {}).get("dashboard") or {}
    return str(section.get("token") or "") if isinstance(section, Mapping) else ""


async def effective_config(command: list[str], path: str | None, env: Mapping[str, str], cwd: str) -> dict[str, dict[str, Any]]:
    """``ebbtide config --json``: every key's value and where it came from (default, file, env).
    A bad config is ebbtide's own error, raised before anything starts."""
    argv = [*command, "config", "--json", *(["-c", path] if path else [])]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)

    try:
        done = await asyncio.get_running_loop().run_in_executor(None, run)
    except OSError as e:
        raise EbbtideError("USAGE", f"cannot run {argv[0]}: {e}") from e
    if done.returncode != 0:
        raise ebbtide_error(done.stderr, f"ebbtide config exited with code {done.returncode}")
    try:
        return json.loads(done.stdout)
    except ValueError as e:
        raise EbbtideError("USAGE", f"{' '.join(argv)} did not print JSON: is {command[0]} ebbtide?") from e


def ebbtide_error(stderr: str, fallback: str) -> EbbtideError:
    """The ``error[CODE]: message`` ebbtide printed (with its hint), as an EbbtideError."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        m = ERROR_LINE.match(line.strip())
        if m:
            rest = [l.strip() for l in lines[i + 1 : i + 4] if l.startswith("  ")]
            return EbbtideError(m.group(1), " ".join([m.group(2), *rest]))
    tail = "\n".join(lines[-20:])
    return EbbtideError("EBBTIDE_EXITED", f"{fallback}{': ' + tail if tail else ''}")


def worker_command(python: str, loopback: bool) -> list[str]:
    """A real Dask worker, named by ebbtide, run by this very Python (no nanny: ebbtide is the
    process manager). On a scheduler of this machine it binds loopback only."""
    cmd = [python, "-m", "distributed.cli.dask_worker", "{scheduler}", "--name", "{name}",
           "--nthreads", "{nthreads}", "--memory-limit", "{memoryLimit}", "--no-nanny"]
    if loopback:
        cmd += ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    return cmd


def is_loopback(address: str) -> bool:
    """A scheduler address only this machine can reach (``tcp://127.0.0.1:8786``, ``localhost:8786``)."""
    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def value(config: Mapping[str, Any], key: str) -> Any:
    return config[key]["value"]


def is_default(config: Mapping[str, Any], key: str) -> bool:
    return config[key]["source"] == "default"


@dataclass
class LaunchPlan:
    """What the cluster object adds to the user's config (only keys the config leaves at their
    defaults), as environment variables of ``ebbtide up``."""

    own_scheduler: bool
    name: str
    env: dict[str, str] = field(default_factory=dict)
    shutdown_workers: str = "stop"
    shutdown_timeout: float = 30.0


def plan_launch(config: Mapping[str, Any], name: str | None, generated_name: str, scheduler_host: str = "127.0.0.1") -> LaunchPlan:
    """Checks the effective config fits a Dask cluster object, and plans the additions: a Dask
    scheduler of our own when none is named, the local backend running Dask workers, a free
    dashboard port, a cluster name. Errors say what to change."""
    from dask.utils import parse_timedelta

    stype, address = value(config, "scheduler.type"), value(config, "scheduler.address")
    if stype == "embedded" and not is_default(config, "scheduler.type"):
        raise ValueError(
            "scheduler.type embedded is ebbtide's own scheduler, which Dask clients cannot connect to: "
            "leave scheduler.type out (EbbtideCluster then starts a Dask scheduler) or set scheduler.type dask with scheduler.address"
        )
    if stype not in ("embedded", "dask"):
        raise ValueError(f"scheduler.type {stype!r}: EbbtideCluster drives a Dask scheduler (scheduler.type dask, or leave it out)")
    own = stype == "embedded" or not address
    btype = value(config, "backend.type")
    if own and btype != "local" and is_loopback(f"tcp://{scheduler_host}:0"):
        raise ValueError(
            f"backend.type {btype} starts workers on other machines, which cannot reach the Dask scheduler EbbtideCluster "
            "starts on 127.0.0.1: give scheduler.address of a scheduler they can reach, or scheduler_options={'host': ...} "
            "with an address of this machine they can reach"
        )
    if value(config, "dashboard.enabled") is False:
        raise ValueError("dashboard.enabled false: EbbtideCluster talks to ebbtide through its control API, which the dashboard serves")
    configured = value(config, "cluster.name")
    if name is not None and not is_default(config, "cluster.name") and name != configured:
        raise ValueError(f"name={name!r} but the config says cluster.name {configured!r}: give one of them")
    workers = value(config, "shutdown.workers")
    if own and workers == "keep":
        raise ValueError(
            "shutdown.workers keep leaves the workers for the next ebbtide, but the Dask scheduler EbbtideCluster starts "
            "ends with it: run a Dask scheduler yourself and give scheduler.address, or use shutdown.workers stop"
        )
    plan = LaunchPlan(
        own_scheduler=own,
        name=configured if not is_default(config, "cluster.name") else (name or generated_name),
        shutdown_workers=workers,
        shutdown_timeout=parse_timedelta(value(config, "shutdown.timeout"), default="seconds"),
    )
    if own:
        plan.env["EBBTIDE_SCHEDULER_TYPE"] = "dask"
    if is_default(config, "cluster.name"):
        plan.env["EBBTIDE_CLUSTER_NAME"] = plan.name
    if is_default(config, "dashboard.port"):
        plan.env["EBBTIDE_DASHBOARD_PORT"] = "0"  # any free port: several clusters on one machine
    if btype == "local" and is_default(config, "backend.local.command"):
        plan.env["EBBTIDE_BACKEND_LOCAL_COMMAND"] = json.dumps(worker_command(sys.executable, loopback=own or is_loopback(address)))
        if is_default(config, "adaptive.maximum"):
            # Local worker processes: no more than this machine has cores, as LocalCluster does.
            plan.env["EBBTIDE_ADAPTIVE_MAXIMUM"] = str(os.cpu_count() or 1)
    return plan


def _die_with_parent():
    """On Linux the ebbtide process is sent SIGTERM when the thread that started it ends (a
    killed notebook kernel), so it shuts down cleanly instead of driving a cluster nobody owns."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent went between fork and prctl
            os._exit(1)

    return preexec


class UpProcess:
    """A running ``ebbtide up``: its output kept (the last lines), its dashboard URL once printed."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: str):
        self.argv = argv
        self.stdout: collections.deque[str] = collections.deque(maxlen=1000)
        self.stderr: collections.deque[str] = collections.deque(maxlen=1000)
        self.url: str | None = None
        self._ready = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
            # Its own session: Ctrl-C in the user's terminal interrupts their Python, not the cluster.
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
        self._threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), name=f"ebbtide-up-{self.proc.pid}-out", daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), name=f"ebbtide-up-{self.proc.pid}-err", daemon=True),
        ]
        for t in self._threads:
            t.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def _read(self, stream, lines: collections.deque, watch: bool) -> None:
        for line in stream:
            line = line.rstrip("\n")
            lines.append(line)
            if watch and self.url is None:
                m = DASHBOARD_LINE.match(line)
                if m:
                    self.url = m.group(1)
                    self._settle()
        stream.close()
        if watch:
            self._settle()  # stdout closed: the process is gone

    def _settle(self) -> None:
        with self._lock:
            self._ready.set()
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(lambda f=fut: f.done() or f.set_result(None))
            except RuntimeError:
                pass  # that loop is closed

    async def wait_ready(self, timeout: float) -> str:
        """The dashboard URL, once ``up`` printed it; its own error if it exited first."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._lock:
            if self._ready.is_set():
                fut.set_result(None)
            else:
                self._waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise EbbtideError(
                "UP_TIMEOUT",
                f"ebbtide up did not print its dashboard URL within {timeout:g}s (is the scheduler reachable?); its log ends with:\n"
                + "\n".join(list(self.stderr)[-15:]),
            ) from None
        if self.url is None:
            code = await self.wait(30)
            raise ebbtide_error("\n".join(self.stderr), f"ebbtide up exited with code {code} before it was ready")
        return self.url

    def terminate(self) -> None:
        if self.running:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    async def wait(self, timeout: float) -> int | None:
        """The exit code (its output read to the end), or None when it is still running after
        ``timeout`` seconds. Polled on the loop, not waited for in an executor thread: at
        interpreter exit (atexit closes open clusters) executors take no more work."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.proc.poll() is None:
            if loop.time() > deadline:
                return None
            await asyncio.sleep(0.05)
        while any(t.is_alive() for t in self._threads) and loop.time() < deadline + 5:
            await asyncio.sleep(0.01)
        return self.proc.returncode

    def kill(self) -> None:
        if self.running:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
