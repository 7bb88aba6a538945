"""X-Served-By on every response, Prometheus request metrics, and /metrics."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from myclothes.web.csrf import NO_CSRF_COOKIE
from myclothes.web.security import may_read_metrics

HTTP_REQUESTS = Counter("myclothes_http_requests_total", "HTTP requests", ["route", "status"])
HTTP_SECONDS = Histogram(
    "myclothes_http_request_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def route_of(scope: Scope) -> str:
    """The route's template (``/products/{slug:str}``), the label every request metric is kept by."""
    return scope.get("path_template") or "unmatched"


def served_by(instance: str) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook: every response, routed or not, says which instance served it, and is counted.

    Each (route, status) counter child is looked up once and kept: ``labels()`` takes a lock and builds a tuple on
    every call, a measurable share of the cheapest requests."""
    counters: dict[tuple[str, int], Counter] = {}
    header = (b"x-served-by", instance.encode("latin-1"))

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), header]
            key = (route_of(scope), message["status"])
            counter = counters.get(key)
            if counter is None:
                counter = counters[key] = HTTP_REQUESTS.labels(route=key[0], status=str(key[1]))
            counter.inc()

    return hook


class LatencyMiddleware(ASGIMiddleware):
    """Observes how long routed requests take (one histogram child per route, looked up once)."""

    def __init__(self) -> None:
        self._histograms: dict[str, Histogram] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        try:
            await next_app(scope, receive, send)
        finally:
            route = route_of(scope)
            histogram = self._histograms.get(route)
            if histogram is None:
                histogram = self._histograms[route] = HTTP_SECONDS.labels(route=route)
            histogram.observe(time.perf_counter() - started)


@get("/metrics", include_in_schema=False, sync_to_thread=False, opt=NO_CSRF_COOKIE)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus metrics, for a scraper inside the trusted range only (see ``security.may_read_metrics``)."""
    if not may_read_metrics(request):
        raise NotFoundException()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
