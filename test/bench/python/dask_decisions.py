#!/usr/bin/python3
"""Times Dask's own scaling decision on states shaped like ebbtide's decision benchmark.

Builds an unstarted distributed.Scheduler (no sockets: its HTTP server is stopped at once),
adds W one-thread workers and T tasks through the scheduler's own WorkerState/TaskState
bookkeeping, then times adaptive_target() followed by workers_to_close(target=...) -- the
scheduler-side work of one Adaptive tick. Prints one JSON object per scenario on stdout.

usage: /usr/bin/python3 dask_decisions.py W:T [W:T ...]
"""
import gc
import json
import statistics
import sys
import time

from distributed import Scheduler
from distributed.core import Status
from distributed.scheduler import WorkerState

LIMIT = 8 * 2**30


def scheduler():
    s = Scheduler(dashboard=False, dashboard_address="127.0.0.1:0", validate=False)
    s.http_server.stop()
    return s


def workers(s, n):
    out = []
    for i in range(n):
        address = f"tcp://10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:9000"
        ws = WorkerState(address=address, status=Status.running, pid=i, name=f"w-{i}", nthreads=1,
                         memory_limit=LIMIT, local_directory="/nonexistent", nanny="",
                         server_id=f"s-{i}", scheduler=s)
        ws.nbytes = (i * 7919) % (64 * 2**20)
        s.workers[address] = ws
        s.running.add(ws)
        s.aliases[ws.name] = address
        s.total_nthreads += 1
        out.append(ws)
    return out


def processing(s, prefix, count, on, duration):
    for i in range(count):
        ts = s.new_task(f"{prefix}-{i}", None, "released")
        if i == 0:
            ts.prefix.duration_average = duration
        ws = on[i % len(on)]
        ws.add_to_processing(ts)
        ts.processing_on = ws
        ts.state = "processing"


def tick(s):
    target = s.adaptive_target()
    if target < len(s.workers):
        s.workers_to_close(target=target, attribute="name")
    return target


def main():
    for spec in sys.argv[1:]:
        W, T = (int(x) for x in spec.split(":"))
        for scenario in ("busy", "half_idle"):
            s = scheduler()
            wss = workers(s, W)
            if scenario == "busy":
                processing(s, "work", T, wss, 0.5)
            else:
                processing(s, "work", T, wss[: W // 2], 0.001)
            reps = 31 if T <= 100_000 else 11
            times = []
            for _ in range(reps):
                gc.disable()
                t0 = time.perf_counter()
                target = tick(s)
                times.append(time.perf_counter() - t0)
                gc.enable()
            times.sort()
            print(json.dumps({"workers": W, "tasks": T, "scenario": scenario, "target": target,
                              "median_ms": statistics.median(times) * 1e3,
                              "p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))] * 1e3}), flush=True)
            del s, wss
            gc.collect()


if __name__ == "__main__":
    main()
