"""Shared pieces of the EbbtideCluster tests: the ebbtide command of this repository on PATH,
a private state folder for the local backend, waiting on conditions, and finding processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[3]

# The ebbtide of this checkout (npm install links it), unless one is on PATH already (npm test).
if shutil.which("ebbtide") is None and (ROOT / "node_modules" / ".bin" / "ebbtide").exists():
    os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"

# The local backend's state (worker logs, locks) in a folder of this run, not ~/.cache/ebbtide.
STATE_DIR = tempfile.mkdtemp(prefix="ebbtide-pytest-state-")
os.environ["EBBTIDE_BACKEND_LOCAL_STATE_DIR"] = STATE_DIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(STATE_DIR, ignore_errors=True)


def wait_for(condition, timeout: float = 60.0, what: str = "a condition"):
    """Polls ``condition`` until it is true (returns its value); fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


async def until(condition, timeout: float = 60.0, what: str = "a condition"):
    """``wait_for`` on an event loop: other tasks run meanwhile."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


def worker_processes(address: str) -> list[psutil.Process]:
    """The Dask worker processes (``python -m distributed.cli.dask_worker ADDRESS ...``) of a scheduler."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        cmd = p.info.get("cmdline") or []
        if "distributed.cli.dask_worker" in cmd and address in cmd and p.info.get("status") != psutil.STATUS_ZOMBIE:
            found.append(p)
    return found


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture(autouse=True)
def no_leftovers():
    """Every cluster a test opened is closed afterwards, and every process it started is gone,
    also when the test failed half-way (then they are killed)."""
    from ebbtide import EbbtideCluster

    before = set(map(id, EbbtideCluster._instances))
    yield
    for cluster in list(EbbtideCluster._instances):
        if id(cluster) in before:
            continue
        address = cluster.scheduler_address
        if cluster.status.name not in ("closed", "created"):
            try:
                cluster.close(timeout=120)
            except Exception:
                pass
        leftovers = worker_processes(address) if address.startswith("tcp://") else []
        if cluster.process is not None and not gone(cluster.process.pid):
            leftovers.append(psutil.Process(cluster.process.pid))
        for p in leftovers:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def dask_scheduler():
    """A Dask scheduler of this Python in a process of its own, on 127.0.0.1 (as a user runs one)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    address = None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "Scheduler at:" in line:
            address = line.split("Scheduler at:")[1].strip()
            break
    if address is None:
        proc.kill()
        raise AssertionError("the Dask scheduler did not start:\n" + "".join(lines))
    # Keep draining its log so it never blocks on a full pipe.
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    try:
        yield address
    finally:
        for p in worker_processes(address):
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        proc.kill()
        proc.wait(10)
