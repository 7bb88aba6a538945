"""The dashboard's server side without a cluster: the probe cache, the panels' alignment, Prometheus down.
(Against a real cluster and in Chromium: tests/cluster/test_cluster_drills.py.)"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from myclothes.cluster.dashboard.metrics import PANELS, Metrics, aligned
from myclothes.cluster.dashboard.server import Cached, find_uplot
from myclothes.processes import free_port


def test_many_browsers_at_once_share_one_probe_and_a_second_later_there_is_a_new_one() -> None:
    calls: list[float] = []
    lock = threading.Lock()

    def probe() -> dict[str, Any]:
        with lock:
            calls.append(time.monotonic())
        time.sleep(0.2)  # a status probe takes a while; the other askers wait for it instead of probing too
        return {"status": len(calls)}

    cached = Cached(probe, max_age=0.5)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: cached.get(), range(6)))
    assert len(calls) == 1 and {a["status"] for a in answers} == {1} and answers[0]["took_ms"] >= 200
    time.sleep(0.6)
    assert cached.get()["status"] == 2


def test_a_range_query_is_aligned_on_the_window_with_gaps_and_nan_as_none() -> None:
    requests = next(p for p in PANELS if p.id == "requests")
    result = [
        {"metric": {"operation": "cart"}, "values": [[100, "2.5"], [104, "NaN"]]},
        {"metric": {"operation": "browse"}, "values": [[102, "7"]]},
    ]
    panel = aligned(requests, result, [100, 102, 104])
    assert panel["series"] == [
        {"label": "browse", "values": [None, 7.0, None]},
        {"label": "cart", "values": [2.5, None, None]},
    ]
    assert panel["unit"] == "req/s" and panel["times"] == [100, 102, 104]


def test_prometheus_down_makes_the_charts_unavailable_without_an_exception() -> None:
    answer = Metrics(f"http://127.0.0.1:{free_port()}").read()  # nothing listens there
    assert answer["available"] is False and answer["panels"] == []
    assert answer["error"].startswith("ConnectError")  # the page shows "metrics unavailable" and this reason


def test_uplot_is_served_from_the_repositorys_node_modules() -> None:
    assert find_uplot().parts[-3:] == ("node_modules", "uplot", "dist")
