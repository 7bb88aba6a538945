"""The primary failing over, as the web tier sees it through a proxy (HAProxy, RDS): connections refused with "no
server available", or lost around a COMMIT. Writes answer a fast 503 with a short Retry-After, never a 500; a
checkout whose outcome was unknown is retried with the same Idempotency-Key and yields the one order."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from tests.support.postgres import PostgresCluster
from tests.support.server import ShopServer
from tests.support.tcp_proxy import TcpProxy

from myclothes.client import ADDRESS, PASSWORD, ShopClient, unique_email


@dataclass
class Stack:
    proxy: TcpProxy
    server: ShopServer


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A PostgreSQL primary behind a TCP proxy; carts and sessions in memory, so only the database fails."""
    cluster = PostgresCluster(standbys=0).start()
    proxy = TcpProxy(cluster.primary.port).start()
    env = {
        "MYCLOTHES_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/myclothes",
        "MYCLOTHES_CART_STORE": "memory",
    }
    server = ShopServer(tmp_path_factory.mktemp("web"), env)
    try:
        server.start()
        yield Stack(proxy, server)
    finally:
        server.stop()
        proxy.stop()
        cluster.stop()


@pytest.fixture
def shopper(stack: Stack) -> Iterator[tuple[ShopClient, int, str]]:
    stack.proxy.refuse(False)
    client = ShopClient(stack.server.url)
    client.register()
    slug = client.get("/api/products", params={"per_page": 1}).json()["items"][0]["slug"]
    sku = next(v["sku"] for v in client.get(f"/api/products/{slug}").json()["variants"] if v["stock"] > 20)
    assert client.add(sku).status_code == 200
    yield client, int(client.add_address()["id"]), sku
    stack.proxy.refuse(False)
    client.close()


def _assert_fast_503(response: httpx.Response, took: float) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert took < 1.0, f"took {took:.2f} s"
    assert 1 <= int(response.headers["retry-after"]) <= 5
    if "json" in response.headers["content-type"]:
        assert "try again" in response.json()["detail"]


def test_with_no_primary_behind_the_proxy_writes_answer_a_fast_503_not_a_500(
    stack: Stack, shopper: tuple[ShopClient, int, str]
) -> None:
    client, address_id, _ = shopper
    guest = ShopClient(stack.server.url)
    stack.proxy.refuse()
    attempts = {
        "checkout": lambda: client.checkout(address_id, str(uuid.uuid4())),
        "address": lambda: client.post("/api/account/addresses", json=ADDRESS),
        "register": lambda: guest.post(
            "/api/auth/register", json={"email": unique_email(), "password": PASSWORD, "name": "New"}
        ),
        "login": lambda: guest.login(unique_email()),
        "register page": lambda: guest.form(
            "/account/register", {"email": unique_email(), "password": PASSWORD, "name": "New"}
        ),
    }
    for name, attempt in attempts.items():
        started = time.monotonic()
        response = attempt()
        took = time.monotonic() - started
        print(f"\n{name} with no primary: {response.status_code} in {took * 1000:.0f} ms")
        _assert_fast_503(response, took)
    stack.proxy.refuse(False)
    back = time.monotonic()
    while (placed := client.checkout(address_id, str(uuid.uuid4()))).status_code == 503:
        assert time.monotonic() - back < 3, "writes never came back"  # refused for a moment (PRIMARY_DOWN_HOLD_S)
        time.sleep(0.05)
    assert placed.status_code == 201, placed.text
    print(f"writes taken again {time.monotonic() - back:.2f} s after the primary came back")


def test_a_checkout_whose_commit_reply_was_lost_is_retried_safely_with_the_same_key(
    stack: Stack, shopper: tuple[ShopClient, int, str]
) -> None:
    client, address_id, _ = shopper
    key = str(uuid.uuid4())
    stack.proxy.lose_reply_to(b"COMMIT")
    lost = client.checkout(address_id, key)
    assert stack.proxy.lost_replies == 1, (lost.status_code, lost.text)
    assert lost.status_code == 503, lost.text
    assert 1 <= int(lost.headers["retry-after"]) <= 5
    time.sleep(int(lost.headers["retry-after"]))  # as a client honouring Retry-After would
    retry = client.checkout(address_id, key)
    assert retry.status_code in (200, 201), retry.text
    orders = client.get("/api/orders").json()
    assert [order["id"] for order in orders] == [retry.json()["id"]]  # the one order, placed once
    again = client.checkout(address_id, key)
    assert again.status_code == 200 and again.json()["id"] == retry.json()["id"]
