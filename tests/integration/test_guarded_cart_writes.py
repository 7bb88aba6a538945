"""A cart write without reading the session first: the session store's copy of the session plus a guard the cart's
write checks (Redis: in its script, one round trip; sql: in the upsert's conditions, two statements), on a real
Redis, SQLite, PostgreSQL and real server processes. The write must never land in a cart the stored session no
longer points to."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from tests.support.postgres import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

from myclothes.carts.redis import RedisCartStore
from myclothes.carts.sql import SqlCartStore
from myclothes.client import ShopClient
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.domain.cart import CartLine
from myclothes.domain.errors import Conflict
from myclothes.ports import SessionChanged, SessionRecord, SessionState
from myclothes.sessions.redis import RedisSessionStore
from myclothes.sessions.sql import SqlSessionStore


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


async def test_a_redis_that_forgot_the_scripts_still_runs_them(redis_server: RedisServer) -> None:
    """A restarted or newly promoted Redis has no cached scripts: the first call loads its script and goes on."""
    client = Redis.from_url(redis_server.url)
    sessions, carts = RedisSessionStore(client), RedisCartStore(client, 3600, 86400)
    now = time.time()
    try:
        await sessions.save(SessionRecord("forgot-1", SessionState(guest_cart="g:forgot-1"), now, now + 3600))
        assert await carts.add("g:forgot-1", "SKU-A", 1) == [CartLine("SKU-A", 1)]
        await client.script_flush()
        assert await carts.add("g:forgot-1", "SKU-A", 2) == [CartLine("SKU-A", 3)]
        await client.script_flush()
        found, guess = await sessions.load_with_cart("forgot-1", now)
        assert found is not None and guess is not None and guess.lines == [CartLine("SKU-A", 3)]
    finally:
        await client.delete(RedisSessionStore.key("forgot-1"), RedisCartStore.key("g:forgot-1"))
        await client.aclose()


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: the embedded SQLite file, or a real PostgreSQL (its ``json`` text is what a guard
    compares, so both are checked)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('guarded-sql') / 'shop.db'}"
        upgrade(url)
        yield url
        return
    with PostgresCluster(standbys=0) as cluster:
        url = cluster.create_database("guarded")
        upgrade(url)
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[SqlDatabase]:
    database = SqlDatabase(database_url)
    yield database
    await database.dispose()


def _statements() -> float:
    return REGISTRY.get_sample_value("myclothes_db_queries_total", {"role": "primary"}) or 0.0


async def test_a_guarded_sql_add_is_two_statements_and_refused_once_the_session_changed(
    database: SqlDatabase,
) -> None:
    sessions, elsewhere = SqlSessionStore(database), SqlSessionStore(database)  # two processes' copies
    carts = SqlCartStore(database)
    now = time.time()
    cart = f"g:guarded-{now}"
    await elsewhere.save(SessionRecord("sql-guarded-1", SessionState(guest_cart=cart), now, now + 3600))
    first, guard = await sessions.load_guarded("sql-guarded-1", now)  # not seen yet: read, and no guard
    assert first is not None and guard is None
    found, guard = await sessions.load_guarded("sql-guarded-1", now)  # now from this process's copy
    assert found is not None and found.state.guest_cart == cart and guard is not None

    before = _statements()
    assert await carts.add_guarded(guard, cart, "SKU-A", 2) == [CartLine("SKU-A", 2)]
    assert _statements() - before == 2  # the guarded upsert and the cart's lines: no read of the session
    assert await carts.set_quantity_guarded(guard, cart, "SKU-A", 3) == [CartLine("SKU-A", 3)]
    with pytest.raises(Conflict):  # a refusal is still a refusal, not "the session changed"
        await carts.add_guarded(guard, cart, "SKU-A", 97)

    # another instance logs the shopper in: the session now points to the account's cart
    await elsewhere.save(SessionRecord("sql-guarded-1", SessionState(customer_id=7), now, now + 3600))
    with pytest.raises(SessionChanged):
        await carts.add_guarded(guard, cart, "SKU-A", 1)
    with pytest.raises(SessionChanged):
        await carts.set_quantity_guarded(guard, cart, "SKU-A", 9)
    with pytest.raises(SessionChanged):
        await carts.set_quantity_guarded(guard, cart, "SKU-A", 0)
    with pytest.raises(SessionChanged):  # even where the unguarded add would be refused
        await carts.add_guarded(guard, cart, "SKU-A", 99)
    assert await carts.lines(cart) == [CartLine("SKU-A", 3)]  # nothing written

    # this instance reads it again (its copy is refreshed by the read), and the next guard holds
    assert (await sessions.load("sql-guarded-1", now)).state.customer_id == 7  # type: ignore[union-attr]
    _, fresh = await sessions.load_guarded("sql-guarded-1", now)
    assert fresh is not None
    account = f"c:7-{now}"
    assert await carts.add_guarded(fresh, account, "SKU-B", 1) == [CartLine("SKU-B", 1)]

    await elsewhere.delete("sql-guarded-1")  # logged out elsewhere
    with pytest.raises(SessionChanged):
        await carts.add_guarded(fresh, account, "SKU-B", 1)
    assert await carts.lines(account) == [CartLine("SKU-B", 1)]


async def test_a_sql_session_this_process_saved_is_guarded_by_the_text_it_wrote(database: SqlDatabase) -> None:
    sessions, carts = SqlSessionStore(database), SqlCartStore(database)
    now = time.time()
    cart = f"g:sql-guarded-2-{now}"
    state = SessionState(guest_cart=cart, flashes=["Added: Café crème hoodie — size M"])  # not ASCII
    await sessions.save(SessionRecord("sql-guarded-2", state, now, now + 3600))
    saved, held = await sessions.load_guarded("sql-guarded-2", now)  # the copy is what the save wrote
    assert saved is not None and saved.state == state and held is not None
    before = _statements()
    assert await carts.add_guarded(held, cart, "SKU-C", 1) == [CartLine("SKU-C", 1)]  # the row holds that text
    assert _statements() - before == 2
    expired, guard = await sessions.load_guarded("sql-guarded-2", now + 7200)  # its copy has expired
    assert expired is None and guard is None
    await SqlSessionStore(database).save(SessionRecord("sql-guarded-2", SessionState(customer_id=3), now, now + 3600))
    with pytest.raises(SessionChanged):  # saved by another process: this copy's guard no longer holds
        await carts.add_guarded(held, cart, "SKU-C", 1)
    assert await carts.lines(cart) == [CartLine("SKU-C", 1)]


@pytest.fixture(scope="module", params=["redis", "sql"])
def two_instances(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[tuple[ShopServer, ShopServer]]:
    """Two server processes sharing the cart and session store (sql: one SQLite file)."""
    data = tmp_path_factory.mktemp("guarded")
    env = {
        "MYCLOTHES_CART_STORE": request.param,
        "MYCLOTHES_REDIS_URL": redis_server.url,
        "MYCLOTHES_DATA_DIR": str(data),
    }
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


def test_after_a_logout_on_another_instance_an_old_tabs_add_form_never_reaches_the_account_cart(
    two_instances: tuple[ShopServer, ShopServer],
) -> None:
    """The cart page's forms start from the copy too (``web/session.py``): a write lands in a new guest cart, and a
    form that fails before any write (an unknown SKU) shows its problem without bringing the session back."""
    first, second = two_instances
    slugs = [p["slug"] for p in httpx.get(f"{first.url}/api/products", params={"per_page": 2}).json()["items"]]
    variants = [httpx.get(f"{first.url}/api/products/{slug}").json()["variants"] for slug in slugs]
    sku, late = (next(v["sku"] for v in found if v["stock"] >= 3) for found in variants)

    shopper = ShopClient(first.url)
    email = shopper.register()["email"]
    assert shopper.form("/cart/add", {"sku": sku, "quantity": "1"}).status_code == 303
    assert "Added" in shopper.get("/cart").text  # the notice, kept in the session, shown once
    old_tab = ShopClient(first.url)
    old_tab.http.cookies = httpx.Cookies(shopper.http.cookies)
    assert _on(shopper, second).logout().status_code in (200, 204)  # destroyed by instance 2

    refused = old_tab.form("/cart/add", {"sku": "NO-SUCH-SKU", "quantity": "1"})  # instance 1, from its copy
    assert refused.status_code == 303
    assert old_tab.get("/api/account").status_code == 401  # not logged in again by the problem's notice
    assert old_tab.form("/cart/add", {"sku": late, "quantity": "1"}).status_code == 303
    assert [line["sku"] for line in old_tab.cart().json()["items"]] == [late]  # a guest's new cart

    again = ShopClient(second.url)
    assert again.login(email).status_code == 200
    assert [line["sku"] for line in again.cart().json()["items"]] == [sku]
    for client in (shopper, old_tab, again):
        client.close()
