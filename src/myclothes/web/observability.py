"""X-Served-By on every response, Prometheus request metrics, and /metrics."""

from __future__ import annotations

import time

from litestar import Response, get
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

HTTP_REQUESTS = Counter("myclothes_http_requests_total", "HTTP requests", ["route", "status"])
HTTP_SECONDS = Histogram(
    "myclothes_http_request_seconds",
    "HTTP request latency",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class ServedByMiddleware(ASGIMiddleware):
    """Outermost: stamps X-Served-By, even on errors raised before routing."""

    def __init__(self, instance: str) -> None:
        self.header = instance.encode()

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["x-served-by"] = self.header.decode()
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            route = scope.get("path_template") or "unmatched"
            HTTP_REQUESTS.labels(route=route, status=str(status)).inc()
            HTTP_SECONDS.observe(time.perf_counter() - started)


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics() -> Response[bytes]:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
