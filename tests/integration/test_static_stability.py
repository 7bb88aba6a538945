"""Static stability over real servers: a hung PostgreSQL primary or a hung Redis (SIGSTOP, so calls hang rather
than being refused) leaves the instance ready and browsing; what needs the missing dependency answers a fast 503
with a short Retry-After, never a 500, a 401 or a hang."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.support.postgres import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer, frozen

from myclothes.client import ADDRESS, ShopClient, unique_email

READYZ_BUDGET_S = 0.8  # each dependency check is bounded at ~0.5 s, and they run concurrently
REQUEST_DEADLINE_S = 2.0


@dataclass
class Stack:
    cluster: PostgresCluster
    redis: RedisServer
    server: ShopServer

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Primary + streaming standby, Redis for carts and sessions, one `myclothes serve` (no catalog cache, so
    browsing really reads the database)."""
    cluster = PostgresCluster(standbys=1).start()
    redis = RedisServer(tmp_path_factory.mktemp("redis")).start()
    env = {
        "MYCLOTHES_DATABASE_URL": cluster.url(),
        "MYCLOTHES_DATABASE_REPLICA_URLS": ",".join(cluster.replica_urls()),
        "MYCLOTHES_CART_STORE": "redis",
        "MYCLOTHES_REDIS_URL": redis.url,
        "MYCLOTHES_CACHE": "none",
        "MYCLOTHES_REQUEST_DEADLINE_S": str(REQUEST_DEADLINE_S),
    }
    server = ShopServer(tmp_path_factory.mktemp("web"), env)
    try:
        server.start()
        yield Stack(cluster, redis, server)
    finally:
        server.stop()
        redis.stop()
        cluster.stop()


@pytest.fixture
def healthy(stack: Stack) -> Iterator[Stack]:
    """The stack, and after the test (whatever it froze is resumed by then) writes work again."""
    yield stack
    _until(lambda: httpx.get(f"{stack.url}/readyz/write", timeout=2).status_code == 200, 30, "writes to recover")


@dataclass
class Shopper:
    client: ShopClient
    address_id: int
    sku: str


@pytest.fixture
def shopper(healthy: Stack) -> Iterator[Shopper]:
    """A logged-in shopper with an address, one line in the cart and one order placed."""
    client = ShopClient(healthy.url)
    client.register()
    sku = _sku(healthy.url)
    address_id = client.add_address()["id"]
    assert client.add(sku).status_code == 200
    assert client.checkout(address_id, str(uuid.uuid4())).status_code == 201
    assert client.add(sku).status_code == 200
    healthy.cluster.wait_replayed()
    yield Shopper(client, address_id, sku)
    client.close()


def _sku(url: str) -> str:
    slug = httpx.get(f"{url}/api/products", params={"per_page": 1}).json()["items"][0]["slug"]
    return next(v["sku"] for v in httpx.get(f"{url}/api/products/{slug}").json()["variants"] if v["stock"] > 50)


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _ready_once(url: str, condition: Callable[[dict], bool], what: str) -> dict:
    """Poll /readyz (each answer within budget) until its body satisfies ``condition``; return that body."""
    deadline = time.monotonic() + 5
    while True:
        response, took = _timed(lambda: httpx.get(f"{url}/readyz", timeout=5))
        assert took < READYZ_BUDGET_S, f"/readyz took {took:.2f} s"
        body = response.json()
        if condition(body):
            return {"status_code": response.status_code, **body}
        assert time.monotonic() < deadline, f"/readyz never reported {what}: {body}"
        time.sleep(0.2)


def _assert_fast_503(response: httpx.Response, took: float, budget_s: float) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert took < budget_s, f"took {took:.2f} s"
    assert 1 <= int(response.headers["retry-after"]) <= 5


def test_readiness_reports_every_dependency_and_whether_writes_can_be_taken(healthy: Stack) -> None:
    ready = httpx.get(f"{healthy.url}/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["can_write"] is True
    assert body["checks"] == {"database_primary": "ok", "database_replica": "ok", "cart_store": "ok"}
    assert httpx.get(f"{healthy.url}/readyz/write").status_code == 200
    assert "/readyz/write" in httpx.get(f"{healthy.url}/schema/openapi.json").json()["paths"]


def test_a_storm_of_health_checks_costs_one_probe(healthy: Stack) -> None:
    def queries() -> float:
        text = httpx.get(f"{healthy.url}/metrics").text
        return sum(float(v) for v in re.findall(r"^myclothes_db_queries_total\{[^}]*\} (\S+)$", text, re.M))

    before = queries()
    started = time.monotonic()
    with ThreadPoolExecutor(50) as pool, httpx.Client(limits=httpx.Limits(max_connections=50)) as http:
        statuses = list(pool.map(lambda _: http.get(f"{healthy.url}/readyz").status_code, range(200)))
    took = time.monotonic() - started
    assert statuses == [200] * 200
    rounds = 1 + int(took)  # one round per second at most (the cached report lasts 1 s)
    spent = queries() - before
    print(f"\n200 health checks in {took:.2f} s cost {spent:.0f} database queries")
    assert spent <= 2 * rounds  # two dependencies (primary, replica), one query each per round


def test_a_hung_primary_keeps_the_instance_ready_and_browsing_and_writes_answer_a_fast_503(
    healthy: Stack, shopper: Shopper
) -> None:
    guest = ShopClient(healthy.url)
    with healthy.cluster.primary.frozen():
        frozen_at = time.monotonic()
        first_write, first_took = _timed(lambda: shopper.client.post("/api/account/addresses", json=ADDRESS))
        _assert_fast_503(first_write, first_took, budget_s=REQUEST_DEADLINE_S + 0.5)
        print(f"\nfirst write after the primary hung: 503 in {first_took:.2f} s")

        body = _ready_once(healthy.url, lambda b: b["checks"]["database_primary"] != "ok", "the primary down")
        assert body["status_code"] == 200 and body["status"] == "ready", body
        assert body["checks"]["database_replica"] == "ok" and body["can_write"] is False
        assert httpx.get(f"{healthy.url}/readyz/write").status_code == 503

        for path in ("/api/products?q=hoodie", "/api/categories", "/products?sort=price_desc"):
            response, took = _timed(lambda p=path: guest.get(p))  # type: ignore[misc]
            assert response.status_code == 200 and took < 1.0, (path, response.status_code, took)
        for path in ("/api/account", "/api/orders", "/api/cart", "/account", "/products"):
            response, took = _timed(lambda p=path: shopper.client.get(p))  # type: ignore[misc]
            assert response.status_code == 200 and took < 1.0, (path, response.status_code, took)

        checkout, took = _timed(lambda: shopper.client.checkout(shopper.address_id, str(uuid.uuid4())))
        _assert_fast_503(checkout, took, budget_s=1.0)
        assert "try again" in checkout.json()["detail"]
        print(f"checkout with the primary hung for {time.monotonic() - frozen_at:.1f} s: 503 in {took:.3f} s")
        register, took = _timed(
            lambda: guest.post(
                "/api/auth/register", json={"email": unique_email(), "password": "x" * 12, "name": "New"}
            )
        )
        _assert_fast_503(register, took, budget_s=1.0)
        page, took = _timed(
            lambda: guest.form("/account/register", {"email": unique_email(), "password": "x" * 12, "name": "N"})
        )
        _assert_fast_503(page, took, budget_s=1.0)
        assert "text/html" in page.headers["content-type"]


def test_a_hung_session_store_serves_a_logged_in_shopper_as_a_guest_and_refuses_what_needs_them(
    healthy: Stack, shopper: Shopper
) -> None:
    with frozen(healthy.redis.pids()):
        for path in ("/", "/products", "/api/products", "/api/categories"):
            response, took = _timed(lambda p=path: httpx.get(f"{healthy.url}{p}"))  # type: ignore[misc]
            assert response.status_code == 200 and took < 0.5, (path, response.status_code, took)

        page, took = _timed(lambda: shopper.client.get("/products"))
        assert page.status_code == 200 and took < 1.5, took
        assert re.search(r'data-testid="cart-count">\?<', page.text)
        print(f"\nsession-bearing page with Redis hung: 200 in {took:.2f} s")

        for path in ("/api/orders", "/api/account", "/api/account/addresses", "/api/cart"):
            response, took = _timed(lambda p=path: shopper.client.get(p))  # type: ignore[misc]
            _assert_fast_503(response, took, budget_s=1.5)
        checkout, took = _timed(lambda: shopper.client.checkout(shopper.address_id, str(uuid.uuid4())))
        _assert_fast_503(checkout, took, budget_s=1.5)
        account, took = _timed(lambda: shopper.client.get("/account"))
        _assert_fast_503(account, took, budget_s=1.5)
        assert "text/html" in account.headers["content-type"]

        body = _ready_once(healthy.url, lambda b: b["checks"]["cart_store"] != "ok", "the cart store down")
        assert body["status_code"] == 200 and body["can_write"] is False
        assert httpx.get(f"{healthy.url}/readyz/write").status_code == 503
    _until(lambda: shopper.client.get("/api/orders").status_code == 200, 5, "the session to come back")


def test_when_no_database_endpoint_answers_the_instance_is_unready_and_requests_end_by_the_deadline(
    healthy: Stack,
) -> None:
    with healthy.cluster.primary.frozen(), healthy.cluster.standbys[0].frozen():
        response, took = _timed(lambda: httpx.get(f"{healthy.url}/api/products", params={"q": "scarf"}))
        _assert_fast_503(response, took, budget_s=REQUEST_DEADLINE_S + 0.5)
        body = _ready_once(healthy.url, lambda b: b["status"] != "ready", "not ready")
        assert body["status_code"] == 503
        assert body["checks"]["database_primary"] != "ok" and body["checks"]["database_replica"] != "ok"


def test_dependency_states_are_reported_in_the_body(tmp_path: Path) -> None:
    """With neither replicas nor Redis configured, only what exists is checked."""
    with ShopServer(tmp_path) as server:
        body = httpx.get(f"{server.url}/readyz").json()
    assert body["checks"] == {"database_primary": "ok", "cart_store": "ok"} and body["can_write"] is True
