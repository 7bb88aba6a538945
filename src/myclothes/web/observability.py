"""The Prometheus request metrics (counted and timed in ``web/edge.py``) and /metrics."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
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


@get("/metrics", include_in_schema=False, sync_to_thread=False, opt=NO_CSRF_COOKIE)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus metrics, for a scraper inside the trusted range only (see ``security.may_read_metrics``)."""
    if not may_read_metrics(request):
        raise NotFoundException()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
