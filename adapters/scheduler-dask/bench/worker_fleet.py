"""Many lightweight Dask workers in one process, for the scheduler-CPU benchmark.

Usage: python worker_fleet.py SCHEDULER_ADDRESS COUNT NAME_PREFIX LOCAL_DIR

Starts COUNT `distributed.Worker`s (one thread each, no nanny, no dashboard) on one asyncio
loop, prints `ready COUNT` on stdout once all of them registered, and runs until stdin closes.
To the scheduler they are ordinary workers: each registers, keeps a batched stream and
heartbeats at the interval the scheduler asks for. Only this process's own background work is
turned down (profiling, event-loop ticks, system and memory monitors), so that 250 workers fit in
one loop; nothing the scheduler sees differs from a real worker's.
"""

import asyncio
import logging
import sys

import dask

dask.config.set(
    {
        "distributed.worker.profile.enabled": False,
        "distributed.worker.profile.interval": "1h",
        "distributed.worker.profile.cycle": "2h",
        "distributed.admin.tick.interval": "1h",
        "distributed.admin.tick.limit": "3h",
        "distributed.admin.system-monitor.interval": "1h",
        "distributed.worker.memory.target": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": False,
        "distributed.comm.timeouts.connect": "120s",
        "distributed.worker.lifetime.duration": None,
    }
)

from distributed import Worker  # noqa: E402  (after the config it reads at import)

# A thousand workers' start-up lines would drown the benchmark's output.
logging.getLogger("distributed").setLevel(logging.WARNING)


async def main(address: str, count: int, prefix: str, local_dir: str) -> None:
    workers = [
        Worker(
            address,
            nthreads=1,
            name=f"{prefix}-{i}",
            host="127.0.0.1",
            memory_limit="4GiB",
            local_directory=local_dir,
            dashboard=False,
            validate=False,
        )
        for i in range(count)
    ]
    # A few at a time: hundreds of simultaneous registrations only queue up on the scheduler.
    for i in range(0, count, 25):
        await asyncio.gather(*workers[i : i + 25])
    print(f"ready {count}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await asyncio.gather(*(w.close(timeout=5) for w in workers), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
