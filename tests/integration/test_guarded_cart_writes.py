"""A cart write in one Redis round trip: the session store's copy of the session plus a guard the cart's script
checks, on a real Redis and real server processes. The write must never land in a cart the stored session no
longer points to."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

from myclothes.carts.redis import RedisCartStore
from myclothes.client import ShopClient
from myclothes.domain.cart import CartLine
from myclothes.ports import SessionChanged, SessionRecord, SessionState
from myclothes.sessions.redis import RedisSessionStore


def _trips() -> float:
    return REGISTRY.get_sample_value("myclothes_redis_round_trips_total", {"client": "stores"}) or 0.0


async def test_a_guarded_add_is_one_round_trip_and_refused_once_the_session_changed(
    redis_server: RedisServer,
) -> None:
    here, there = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)  # two processes' clients
    sessions, elsewhere = RedisSessionStore(here), RedisSessionStore(there)
    carts = RedisCartStore(here, 3600, 86400)
    now = time.time()
    record = SessionRecord("guarded-1", SessionState(guest_cart="g:guarded-1"), now, now + 3600)
    try:
        await sessions.save(record)
        before = _trips()
        found, guard = await sessions.load_guarded("guarded-1", now)
        assert found is not None and found.state.guest_cart == "g:guarded-1" and guard is not None
        lines = await carts.add_guarded(guard, "g:guarded-1", "SKU-A", 2)
        assert lines == [CartLine("SKU-A", 2)]
        assert _trips() - before == 1  # no read of the session: the script checked it

        # another instance logs the shopper in: the session now points to the account's cart
        await elsewhere.save(SessionRecord("guarded-1", SessionState(customer_id=7), now, now + 3600))
        with pytest.raises(SessionChanged):
            await carts.add_guarded(guard, "g:guarded-1", "SKU-A", 1)
        with pytest.raises(SessionChanged):
            await carts.set_quantity_guarded(guard, "g:guarded-1", "SKU-A", 9)
        assert await carts.lines("g:guarded-1") == [CartLine("SKU-A", 2)]  # nothing written

        # this instance reads it again (its copy is refreshed by the read), and the next guard holds
        assert (await sessions.load("guarded-1", now)).state.customer_id == 7  # type: ignore[union-attr]
        _, fresh = await sessions.load_guarded("guarded-1", now)
        assert fresh is not None
        assert await carts.add_guarded(fresh, "c:7", "SKU-B", 1) == [CartLine("SKU-B", 1)]

        await elsewhere.delete("guarded-1")  # logged out elsewhere
        with pytest.raises(SessionChanged):
            await carts.add_guarded(fresh, "c:7", "SKU-B", 1)
        assert await carts.lines("c:7") == [CartLine("SKU-B", 1)]
    finally:
        await here.delete(RedisCartStore.key("g:guarded-1"), RedisCartStore.key("c:7"))
        await here.aclose()
        await there.aclose()


async def test_a_session_this_process_has_not_seen_is_read_and_not_guarded(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url)
    now = time.time()
    try:
        await RedisSessionStore(client).save(SessionRecord("guarded-2", SessionState(), now, now + 3600))
        fresh_process = RedisSessionStore(client)
        before = _trips()
        found, guard = await fresh_process.load_guarded("guarded-2", now)
        assert found is not None and guard is None and _trips() - before == 1
        expired, guard = await fresh_process.load_guarded("guarded-2", now + 7200)  # its copy has expired
        assert expired is None and guard is None
    finally:
        await client.delete(RedisSessionStore.key("guarded-2"))
        await client.aclose()


@pytest.fixture(scope="module")
def two_instances(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[tuple[ShopServer, ShopServer]]:
    data = tmp_path_factory.mktemp("guarded")
    env = {"MYCLOTHES_CART_STORE": "redis", "MYCLOTHES_REDIS_URL": redis_server.url, "MYCLOTHES_DATA_DIR": str(data)}
    with ShopServer(data, env) as first, ShopServer(data, env) as second:
        yield first, second


def _on(client: ShopClient, server: ShopServer) -> ShopClient:
    """The same browser (its cookies), talking to another instance, as a balancer without stickiness sends it."""
    moved = ShopClient(server.url)
    moved.http.cookies = client.http.cookies
    return moved


def test_after_a_logout_on_another_instance_an_old_tabs_add_never_reaches_the_account_cart(
    two_instances: tuple[ShopServer, ShopServer],
) -> None:
    first, second = two_instances
    slugs = [p["slug"] for p in httpx.get(f"{first.url}/api/products", params={"per_page": 2}).json()["items"]]
    variants = [httpx.get(f"{first.url}/api/products/{slug}").json()["variants"] for slug in slugs]
    sku, late = (next(v["sku"] for v in found if v["stock"] >= 3) for found in variants)

    shopper = ShopClient(first.url)
    email = shopper.register()["email"]  # instance 1 saved the logged-in session, and keeps a copy
    assert shopper.add(sku).status_code == 200
    old_tab = httpx.Client(base_url=first.url, cookies=dict(shopper.http.cookies))
    old_tab.headers["x-csrftoken"] = shopper.csrf

    elsewhere = _on(shopper, second)
    assert elsewhere.logout().status_code in (200, 204)  # the session is destroyed, by instance 2
    answer = old_tab.post("/api/cart/items", json={"sku": late, "quantity": 1})  # instance 1, the old cookie
    assert answer.status_code == 200, answer.text
    assert [line["sku"] for line in answer.json()["items"]] == [late]  # a guest's new cart, not the account's

    again = ShopClient(second.url)
    assert again.login(email).status_code == 200
    assert [line["sku"] for line in again.cart().json()["items"]] == [sku]  # the late add is not in it
    for client in (shopper, elsewhere, again):
        client.close()
    old_tab.close()


def test_a_shoppers_adds_spread_over_two_instances_all_land_in_one_cart(
    two_instances: tuple[ShopServer, ShopServer],
) -> None:
    first, second = two_instances
    slug = httpx.get(f"{first.url}/api/products", params={"per_page": 1}).json()["items"][0]["slug"]
    sku = next(v["sku"] for v in httpx.get(f"{first.url}/api/products/{slug}").json()["variants"] if v["stock"] >= 20)
    shopper = ShopClient(first.url)
    shopper.register()
    other = _on(shopper, second)
    for n in range(10):  # each instance's copy goes stale whenever the other saves the session
        assert (shopper if n % 2 else other).add(sku).status_code == 200
    assert shopper.cart().json()["count"] == 10 and other.cart().json()["count"] == 10
    shopper.close()
    other.close()
