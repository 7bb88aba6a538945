"""What every answer gets, routed or not, in one pure-ASGI pass around the whole app (``StoreApp.__call__``).

- the request's id (the load balancer's when usable, else one made here), bound for every log line of the request
  and returned in ``X-Request-ID``;
- one JSON log line per request, written as the answer starts (whoever reads the id finds the line);
- the security headers, ``X-Served-By``, and the request counter and latency histogram (one child per route and
  status, looked up once).

These were three Litestar middlewares and four ``before_send`` hooks, each wrapping ``send`` and walking the
headers on its own; together they cost more than the handler on the cheapest paths (docs/performance.md). The line
is built and encoded here (msgspec) in the shape every other log line has (``requestlog.configure_logging``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog

from myclothes.settings import Settings
from myclothes.web import requestlog
from myclothes.web.observability import HTTP_REQUESTS, HTTP_SECONDS
from myclothes.web.security import SecurityHeaders

ASGICall = Callable[[Any, Any, Any], Awaitable[None]]
_encode = msgspec.json.Encoder().encode


class _RequestLine(msgspec.Struct):
    """The request's log line, its keys in the order of every other line's (a struct encodes in half a dict's time)."""

    event: str
    method: str | None
    route: str
    status: int | None
    duration_ms: float
    instance: str
    zone: str
    cart_store: str
    request_id: str
    level: str
    logger: str
    timestamp: str


class _Clock:
    """UTC ISO 8601 timestamps with microseconds, as structlog's for the other lines; the date and time of day are
    formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"


class Edge:
    """The per-request work around the app, with everything that does not change per request prepared once."""

    def __init__(self, settings: Settings) -> None:
        self.instance, self.zone, self.cart_store = settings.instance, settings.zone, settings.cart_store
        self._timestamp = _Clock()
        self.security = SecurityHeaders(settings.cookie_secure)
        self.served_by = (b"x-served-by", settings.instance.encode("latin-1"))
        self._counters: dict[tuple[str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any, app: ASGICall) -> None:
        started = time.perf_counter()
        request_id = requestlog.request_id_of(scope)
        answered: list[int] = []

        async def edge_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                answered.append(status)
                headers = self.security.apply(message.get("headers", ()), scope["path"])
                headers.append((requestlog.REQUEST_ID_HEADER_BYTES, request_id.encode()))
                headers.append(self.served_by)
                message["headers"] = headers
                self._log(scope, request_id, status, started)
                self._count(scope.get("path_template") or "unmatched", status)
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, edge_send)
        finally:
            if not answered:
                self._log(scope, request_id, None, started)  # the client went away, or the request was cut off
            route = scope.get("path_template") or "unmatched"
            histogram = self._histograms.get(route)
            if histogram is None:
                histogram = self._histograms[route] = HTTP_SECONDS.labels(route=route)
            histogram.observe(time.perf_counter() - started)
            structlog.contextvars.reset_contextvars(**bound)

    def _count(self, route: str, status: int) -> None:
        key = (route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = HTTP_REQUESTS.labels(route=route, status=str(status))
        counter.inc()

    def _log(self, scope: Any, request_id: str, status: int | None, started: float) -> None:
        line = _RequestLine(
            "request",
            scope.get("method"),
            scope.get("path_template") or "unmatched",
            status,
            round((time.perf_counter() - started) * 1000, 2),
            self.instance,
            self.zone,
            self.cart_store,
            request_id,
            "info",
            "myclothes.request",
            self._timestamp(),
        )
        requestlog.write_line(_encode(line))
