"""The balancer in front of the web tier, with a process that dies while it holds requests: HAProxy sends the GETs
it had passed to the dead process again to another one (``retry-on empty-response``), so a shopper browsing sees no
error; requests that change something are never replayed by the balancer."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from tests.support.haproxy import HAProxy
from tests.support.server import ShopServer, frozen


def test_gets_held_by_a_process_that_dies_are_answered_by_another(tmp_path: Path) -> None:
    doomed = ShopServer(tmp_path / "a", {"MYCLOTHES_INSTANCE": "web-a"})
    survivor = ShopServer(tmp_path / "b", {"MYCLOTHES_INSTANCE": "web-b"})
    with doomed, survivor, HAProxy(tmp_path / "lb", [doomed.port, survivor.port], sticky=False) as lb:
        assert {httpx.get(f"{lb.url}/healthz").headers["x-served-by"] for _ in range(4)} == {"web-a", "web-b"}
        with frozen([doomed.process.pid]), ThreadPoolExecutor(6) as pool:
            # round robin hands half of these to the frozen process, which accepts and never answers ...
            pending = [pool.submit(httpx.get, f"{lb.url}/api/products", timeout=10.0) for _ in range(6)]
            time.sleep(0.3)  # ... (the balancer has not marked it down yet) ...
            doomed.stop(signal.SIGKILL)  # ... until it dies holding them
            answers = [future.result() for future in pending]
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.headers["x-served-by"] for a in answers} == {"web-b"}
