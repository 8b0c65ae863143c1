"""``cluster.adapt(...)``: Dask's ``Adaptive`` keyword arguments, as ebbtide's ``POST /api/adapt``.

Nothing adapts in the Python process: ebbtide's loop does (as dask-kubernetes' operator does for
``KubeCluster.adapt``), so the cluster keeps adapting whatever the notebook is doing. What
``adapt`` returns is a handle with the settings ebbtide confirmed.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from dask.utils import parse_bytes, parse_timedelta

# Dask's Adaptive(...) keywords that ebbtide has no equivalent for, and what to use instead.
UNSUPPORTED = {
    "worker_key": "ebbtide groups workers by its config key workerKey (none, host or label:<name>)",
    "Adaptive": "ebbtide adapts in its own loop; a client-side Adaptive class is not used",
}


def whole(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (isinstance(v, float) and not v.is_integer()):
        raise ValueError(f"{name}: expected a whole number >= 0, got {v!r}")
    return int(v)


def adapt_body(kwargs: Mapping[str, Any], per_worker: tuple[int | None, int | None]) -> dict[str, Any]:
    """The request body for ``POST /api/adapt`` from Dask's keywords. ``per_worker`` is
    (threads, memory bytes) of one worker, for the ``*_cores`` / ``*_memory`` bounds."""
    nthreads, memory = per_worker
    body: dict[str, Any] = {}
    minimum, maximum = kwargs.get("minimum"), kwargs.get("maximum")
    for key in kwargs:
        if key in UNSUPPORTED:
            raise TypeError(f"adapt({key}=...): {UNSUPPORTED[key]}")
        if key not in ("minimum", "maximum", "minimum_cores", "maximum_cores", "minimum_memory", "maximum_memory", "wait_count", "interval", "target_duration"):
            raise TypeError(
                f"adapt() got an unexpected keyword argument {key!r} (EbbtideCluster.adapt takes minimum, maximum, "
                "minimum_cores, maximum_cores, minimum_memory, maximum_memory, interval, wait_count, target_duration)"
            )
    if minimum is not None:
        body["minimum"] = whole("minimum", minimum)
    if maximum is not None:
        body["maximum"] = "inf" if isinstance(maximum, float) and math.isinf(maximum) else whole("maximum", maximum)

    def per(kind: str, size: int | None) -> int:
        if not size:
            raise ValueError(f"adapt(..._{kind}=...): the size of one worker is not known yet (no worker and no cluster.{'nthreads' if kind == 'cores' else 'memoryLimit'} in the config); give minimum/maximum in workers")
        return size

    # As Dask's Adaptive: the worker bounds are tightened by the cores and memory bounds.
    if kwargs.get("minimum_cores") is not None:
        body["minimum"] = max(body.get("minimum", 0), math.ceil(kwargs["minimum_cores"] / per("cores", nthreads)))
    if kwargs.get("minimum_memory") is not None:
        body["minimum"] = max(body.get("minimum", 0), math.ceil(parse_bytes(kwargs["minimum_memory"]) / per("memory", memory)))
    for key, kind, size in (("maximum_cores", "cores", nthreads), ("maximum_memory", "memory", memory)):
        if kwargs.get(key) is not None:
            amount = kwargs[key] if kind == "cores" else parse_bytes(kwargs[key])
            cap = int(amount // per(kind, size))
            current = body.get("maximum")
            body["maximum"] = cap if current in (None, "inf") else min(current, cap)
    if kwargs.get("wait_count") is not None:
        body["waitCount"] = whole("wait_count", kwargs["wait_count"])
    for key, api in (("interval", "interval"), ("target_duration", "targetDuration")):
        if kwargs.get(key) is not None:
            seconds = parse_timedelta(kwargs[key], default="seconds")
            if not seconds or seconds <= 0:
                raise ValueError(f"{key}: expected a duration > 0, got {kwargs[key]!r}")
            body[api] = seconds
    return body


class EbbtideAdaptive:
    """What ``EbbtideCluster.adapt`` returns: the settings ebbtide runs with (``minimum``,
    ``maximum``, ``interval``, ``wait_count``, ``target_duration``; seconds and worker counts).

    In an asynchronous cluster it is awaitable (the request is on its way when ``adapt``
    returns; awaiting it raises what ebbtide refused). ``stop()`` ends adaptive scaling as
    Dask's ``Adaptive.stop()`` does: the workers there now are held (``scale`` to that count).
    """

    def __init__(self, cluster: Any, request: Any = None):
        self._cluster = cluster
        self._request = request
        self.minimum: int | None = None
        self.maximum: float | int | None = None
        self.interval: float | None = None
        self.wait_count: int | None = None
        self.target_duration: float | None = None

    def _update(self, status: Mapping[str, Any]) -> None:
        a = status.get("adaptive") or {}
        self.minimum = a.get("minimum")
        self.maximum = math.inf if a.get("maximum") == "inf" else a.get("maximum")
        self.interval = a.get("interval")
        self.wait_count = a.get("waitCount")
        self.target_duration = a.get("targetDuration")

    @property
    def periodic_callback(self) -> bool:
        """Dask's ``Adaptive`` has a running callback while it adapts; here: ebbtide is adaptive."""
        return self._cluster._adaptive is self and not self._cluster._ebbtide_stopped

    def stop(self) -> Any:
        return self._cluster._stop_adapting(self)

    def __await__(self):
        async def _():
            if self._request is not None:
                await self._request
            return self

        return _().__await__()

    def __repr__(self) -> str:
        return f"<EbbtideAdaptive minimum={self.minimum} maximum={self.maximum} interval={self.interval} wait_count={self.wait_count} target_duration={self.target_duration}>"
