"""The dashboard's charts: a fixed set of Prometheus range queries over the recording rules (cluster/monitoring.py).

The browser never sends PromQL: it asks for every panel at once and gets each one's series already aligned on one
time axis (uPlot's data shape), so the page stays small and the dashboard is the only thing it talks to.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import httpx

WINDOW_S = 300  # the last five minutes
STEP_S = 2
TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Panel:
    """One chart: a PromQL expression, the labels that name its series and the unit of its values."""

    id: str
    title: str
    unit: str
    query: str
    labels: tuple[str, ...] = ()


PANELS = (
    Panel("requests", "Requests per second", "req/s", "myclothes:operation_requests:rate10s", ("operation",)),
    Panel("errors", "Server errors (5xx)", "%", "100 * myclothes:operation_errors:ratio_rate10s", ("operation",)),
    Panel("p99", "p99 latency", "ms", "1000 * myclothes:operation_latency_p99:seconds_10s", ("operation",)),
    Panel(
        "carts", "Cart-store operations", "ops/s", "sum by (op, result) (myclothes:cart_ops:rate10s)", ("op", "result")
    ),
    Panel("cache", "Catalog cache hits", "%", "100 * myclothes:cache_hits:ratio_rate10s"),
    Panel("lag", "PostgreSQL replica lag", "bytes", "myclothes:pg_replica_lag:bytes", ("member",)),
    Panel("cpu", "Web CPU (1 = one core)", "cores", "myclothes:web_cpu:rate10s", ("instance",)),
)


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value  # a p99 with no requests is NaN


def aligned(panel: Panel, result: list[dict[str, Any]], times: list[int]) -> dict[str, Any]:
    """A ``query_range`` matrix as one time axis and one value list per series (None where a series has no point)."""
    index = {t: i for i, t in enumerate(times)}
    series: list[dict[str, Any]] = []
    for item in result:
        label = " ".join(item["metric"].get(name, "-") for name in panel.labels) or panel.title
        values: list[float | None] = [None] * len(times)
        for t, text in item["values"]:
            if round(t) in index:
                values[index[round(t)]] = _number(text)
        series.append({"label": label, "values": values})
    series.sort(key=lambda s: str(s["label"]))
    return {"id": panel.id, "title": panel.title, "unit": panel.unit, "times": times, "series": series}


class Metrics:
    """Reads every panel from one Prometheus; ``read()`` says ``available: false`` (never raises) when it is down."""

    def __init__(self, prometheus_url: str) -> None:
        self.prometheus_url = prometheus_url
        self.client = httpx.Client(trust_env=False, timeout=TIMEOUT_S)

    def query_range(self, query: str, start: int, end: int) -> list[dict[str, Any]]:
        response = self.client.get(
            f"{self.prometheus_url}/api/v1/query_range",
            params={"query": query, "start": start, "end": end, "step": STEP_S},
        )
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def read(self) -> dict[str, Any]:
        end = int(time.time()) // STEP_S * STEP_S
        start = end - WINDOW_S
        times = list(range(start, end + 1, STEP_S))
        try:
            panels = [aligned(p, self.query_range(p.query, start, end), times) for p in PANELS]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            return {"available": False, "error": f"{type(error).__name__}: {error}", "panels": []}
        return {"available": True, "panels": panels}
