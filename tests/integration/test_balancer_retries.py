"""The balancer in front of the web tier, with a process that dies or goes silent while it holds requests: HAProxy
sends the GETs it had passed to it again to another one (``retry-on empty-response``, or ``response-timeout`` after
2 s for a silent one), so a shopper browsing sees no error; requests that change something are never replayed."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from tests.support.haproxy import HAProxy
from tests.support.server import ShopServer, frozen


@contextmanager
def two_behind_a_balancer(tmp_path: Path) -> Iterator[tuple[ShopServer, str]]:
    """Processes web-a and web-b behind HAProxy (round robin, no stickiness): (web-a, the balancer's URL)."""
    first = ShopServer(tmp_path / "a", {"MYCLOTHES_INSTANCE": "web-a"})
    second = ShopServer(tmp_path / "b", {"MYCLOTHES_INSTANCE": "web-b"})
    with first, second, HAProxy(tmp_path / "lb", [first.port, second.port], sticky=False) as lb:
        assert {httpx.get(f"{lb.url}/healthz").headers["x-served-by"] for _ in range(4)} == {"web-a", "web-b"}
        yield first, lb.url


def test_gets_held_by_a_process_that_dies_are_answered_by_another(tmp_path: Path) -> None:
    with two_behind_a_balancer(tmp_path) as (doomed, url), frozen([doomed.process.pid]), ThreadPoolExecutor(6) as pool:
        # round robin hands half of these to the frozen process, which accepts and never answers ...
        pending = [pool.submit(httpx.get, f"{url}/api/products", timeout=10.0) for _ in range(6)]
        time.sleep(0.3)  # ... (the balancer has not marked it down yet) ...
        doomed.stop(signal.SIGKILL)  # ... until it dies holding them
        answers = [future.result() for future in pending]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.headers["x-served-by"] for a in answers} == {"web-b"}


def test_gets_held_by_a_silent_process_are_answered_by_another_after_the_get_timeout(tmp_path: Path) -> None:
    """A process cut off by a partition neither answers nor resets: its GETs go to another after 2 s, not 15."""
    with two_behind_a_balancer(tmp_path) as (silent, url), frozen([silent.process.pid]), ThreadPoolExecutor(6) as pool:
        started = time.monotonic()
        pending = [pool.submit(httpx.get, f"{url}/api/products", timeout=10.0) for _ in range(6)]
        answers = [future.result() for future in pending]
        took = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.headers["x-served-by"] for a in answers} == {"web-b"}
    assert took < 4.0, f"the slowest GET took {took:.1f} s"  # 2 s on the silent process, then the survivor
