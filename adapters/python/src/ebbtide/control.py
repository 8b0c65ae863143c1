"""A client of ebbtide's control API (docs/dashboard.md; the OpenAPI document at /api/openapi.json).

Asynchronous, on the cluster object's event loop, with Tornado's HTTP client (Tornado comes with
``distributed``), so it works the same under Dask 2022.12 and 2026.x and adds no dependency.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .errors import EbbtideError, EbbtideInputError

# Seconds for one request (and to open the decision stream, which then stays open).
REQUEST_TIMEOUT = 15.0


def check_url(url: str) -> str:
    """``http://host:port`` without a trailing slash; a clear error for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"url: expected the dashboard URL ebbtide up printed, such as http://127.0.0.1:8790, got {url!r}")
    return url.rstrip("/")


class SseParser:
    """Splits a server-sent event stream into ``(event, id, data)`` triples as chunks arrive."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, chunk: bytes) -> list[tuple[str, str | None, str]]:
        self._buffer += chunk.decode("utf-8", errors="replace").replace("\r\n", "\n")
        events = []
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            event, ident, data, any_field = "message", None, [], False
            for line in block.split("\n"):
                if not line or line.startswith(":"):
                    continue  # a comment (the server's keep-alive)
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                any_field = True
                if field == "event":
                    event = value
                elif field == "id":
                    ident = value
                elif field == "data":
                    data.append(value)
            if any_field:
                events.append((event, ident, "\n".join(data)))
        return events


def _raise_if_cancelling() -> None:
    """On Python 3.11, ``asyncio.wait_for`` can swallow a cancellation that arrives as its inner
    call completes; the task then still counts as cancelling. Honour it, or a cancelled stream
    would go on reading forever."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError()


class ControlClient:
    """GET/POST JSON against one running ebbtide, and follow its decision stream."""

    def __init__(self, url: str, token: str | None = None):
        self.url = check_url(url)
        self._token = token or ""
        self._http = AsyncHTTPClient(force_instance=True)
        self._streams: set[asyncio.StreamWriter] = set()

    def _headers(self, body: bool = False) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    async def get(self, path: str, **query: Any) -> Any:
        return await self._call("GET", path, query=query)

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._call("POST", path, body=body)

    async def _call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        q = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.url + path + (f"?{urlencode(q)}" if q else "")
        request = HTTPRequest(
            url,
            method=method,
            headers=self._headers(body is not None),
            body=json.dumps(body) if body is not None else None,
            request_timeout=REQUEST_TIMEOUT,
            connect_timeout=REQUEST_TIMEOUT,
        )
        try:
            response = await self._http.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as e:
            raise EbbtideError("DASHBOARD_UNREACHABLE", f"no ebbtide answers at {self.url}: {e}") from e
        text = response.body.decode("utf-8", errors="replace") if response.body else ""
        if response.code == 599:  # Tornado: no HTTP answer at all (refused, reset, timed out)
            raise EbbtideError("DASHBOARD_UNREACHABLE", f"no ebbtide answers at {self.url}: {response.error}")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        if response.code == 401:
            raise EbbtideError(
                "CONFIG_INVALID",
                f"ebbtide at {self.url} refused the request: {'wrong token' if self._token else 'it needs its dashboard.token'} (pass token=...)",
            )
        if response.code >= 400:
            err = parsed.get("error", {}) if isinstance(parsed, dict) else {}
            code = err.get("code") or f"HTTP_{response.code}"
            message = f"ebbtide at {self.url}: {err.get('message') or f'HTTP {response.code} for {method} {path}'}"
            raise (EbbtideInputError if response.code == 400 else EbbtideError)(code, message)
        if parsed is None and response.code != 204:
            raise EbbtideError("DASHBOARD_UNREACHABLE", f"{self.url} answered {path} with something other than JSON: is it an ebbtide dashboard?")
        return parsed

    async def stream_decisions(self, since: int, on_event: Callable[[str, str | None, str], None]) -> None:
        """Follows ``/api/decisions/stream`` from tick ``since``, calling ``on_event(event, id, data)``
        for each event, until the stream ends (returns) or fails (raises ``EbbtideError``).

        Read over a plain HTTP/1.0 connection of its own (the server then sends the stream
        unchunked and closes it at the end), so cancelling the task closes the socket at once.
        """
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=parts.scheme == "https" or None), REQUEST_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as e:
            raise EbbtideError("DASHBOARD_UNREACHABLE", f"the decision stream of {self.url} failed: {e!r}") from e
        self._streams.add(writer)
        try:
            _raise_if_cancelling()
            target = f"{parts.path.rstrip('/')}/api/decisions/stream?{urlencode({'since': since})}"
            headers = {"Host": parts.netloc, "Accept": "text/event-stream", **({"Authorization": f"Bearer {self._token}"} if self._token else {})}
            writer.write((f"GET {target} HTTP/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT)
            _raise_if_cancelling()
            status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            code = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
            if code != 200:
                raise EbbtideError("DASHBOARD_UNREACHABLE", f"the decision stream of {self.url} failed: {status_line}")
            parser = SseParser()
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                for event in parser.feed(chunk):
                    on_event(*event)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError) as e:
            raise EbbtideError("DASHBOARD_UNREACHABLE", f"the decision stream of {self.url} failed: {e!r}") from e
        finally:
            self._streams.discard(writer)
            writer.close()

    def close(self) -> None:
        """Closes the HTTP client and every open decision stream (a read on one then ends)."""
        for writer in list(self._streams):
            writer.close()
        self._streams.clear()
        self._http.close()
