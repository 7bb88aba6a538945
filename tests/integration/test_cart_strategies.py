"""Each cart strategy over real HTTP: the same shopper behaviour, and each one's security properties."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient, api, in_stock_skus
from myclothes.client.cookies import cookie_header, csrf_header, take_cookies
from myclothes.sessions.hashed import stored_id

STORES = ["sql", "redis", "cookie", "memory"]
REDIS_DB = {"sql": 4, "redis": 5, "cookie": 6, "memory": 7}


def _redis_url(redis_server: RedisServer, store: str) -> str:
    return redis_server.url.rsplit("/", 1)[0] + f"/{REDIS_DB[store]}"


@pytest.fixture(scope="module", params=STORES)
def store_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[ShopServer]:
    store = request.param
    env = {"MYCLOTHES_CART_STORE": store, "MYCLOTHES_REDIS_URL": _redis_url(redis_server, store)}
    with ShopServer(tmp_path_factory.mktemp(f"store-{store}"), env) as server:
        yield server


def _store(server: ShopServer) -> str:
    return server.env["MYCLOTHES_CART_STORE"]


def _skus(server: ShopServer, count: int = 3) -> list[str]:
    return in_stock_skus(server.url, min_stock=20, products=10, most=count)


def _set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_guest_cart_add_change_remove(store_server: ShopServer) -> None:
    shop = ShopClient(store_server.url)
    a, b, _ = _skus(store_server)
    assert shop.add(a, 2).json()["count"] == 2
    assert shop.add(b, 1).json()["count"] == 3
    assert shop.put(f"/api/cart/items/{a}", json={"quantity": 5}).json()["count"] == 6
    assert shop.delete(f"/api/cart/items/{b}").json()["count"] == 5
    assert shop.get("/api/cart").json()["items"][0]["quantity"] == 5


def test_every_set_cookie_is_httponly_and_samesite(store_server: ShopServer) -> None:
    shop = ShopClient(store_server.url)
    a, _, _ = _skus(store_server)
    headers = _set_cookies(shop.http.get("/"))
    headers += _set_cookies(shop.add(a))
    headers += _set_cookies(
        shop.post(
            "/api/auth/register",
            json={"email": f"flags-{time.time_ns()}@example.com", "password": PASSWORD, "name": "Flags"},
        )
    )
    headers += _set_cookies(shop.post("/api/auth/logout"))
    assert headers
    for header in headers:
        assert "HttpOnly" in header, header
        assert "samesite=lax" in header.lower(), header
        assert "Secure" not in header


def test_login_keeps_the_cart_and_logout_destroys_the_session(store_server: ShopServer) -> None:
    shop = ShopClient(store_server.url)
    a, b, _ = _skus(store_server)
    email = shop.register()["email"]
    shop.add(a, 1)
    shop.post("/api/auth/logout")
    shop.add(b, 2)
    planted = shop.session_id
    assert shop.login(email).status_code == 200
    cart = {i["sku"]: i["quantity"] for i in shop.get("/api/cart").json()["items"]}
    if _store(store_server) == "cookie":
        assert cart == {b: 2}  # the cart belongs to the browser
    else:
        assert cart == {a: 1, b: 2}  # the guest cart merged into the account's
    if planted:  # fixation: the id planted before login is dead after it
        stale = httpx.get(f"{store_server.url}/api/account", cookies={"myclothes_session": planted})
        assert stale.status_code == 401
    session_id = shop.session_id
    shop.post("/api/auth/logout")
    stolen = httpx.get(f"{store_server.url}/api/account", cookies={"myclothes_session": session_id or ""})
    assert stolen.status_code == 401


def test_a_customers_cart_follows_them_to_a_new_browser_on_server_side_stores(store_server: ShopServer) -> None:
    shop = ShopClient(store_server.url)
    a, _, _ = _skus(store_server)
    email = shop.register()["email"]
    shop.add(a, 3)
    other = ShopClient(store_server.url)
    other.login(email)
    expected = 0 if _store(store_server) == "cookie" else 3
    assert other.get("/api/cart").json()["count"] == expected


def test_ten_thousand_forged_session_ids_create_no_record(store_server: ShopServer, redis_server: RedisServer) -> None:
    store = _store(store_server)

    def records() -> int:
        """Session records the store holds (the memory store's live in the process: none may be announced)."""
        if store == "memory":
            return 0
        if store == "redis":
            return int(redis_sync.Redis.from_url(_redis_url(redis_server, store)).dbsize())
        with sqlite3.connect(store_server.data_dir / "myclothes.db") as db:
            return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    before = records()

    async def forge() -> list[int]:
        limit = asyncio.Semaphore(32)
        async with httpx.AsyncClient(base_url=store_server.url, timeout=30) as http:

            async def one(n: int) -> int:
                async with limit:
                    for attempt in range(3):  # a kept-alive connection the server just closed is not the point here
                        try:
                            response = await http.get(
                                "/api/cart", headers={"Cookie": f"myclothes_session=forged{n:08d}x"}
                            )
                            break
                        except (httpx.ReadError, httpx.RemoteProtocolError):
                            if attempt == 2:
                                raise
                    issued = [
                        h
                        for h in response.headers.get_list("set-cookie")
                        if h.startswith("myclothes_session=") and not h.startswith('myclothes_session="";')
                    ]
                    return response.status_code if not issued else 500

            return list(await asyncio.gather(*(one(n) for n in range(10_000))))

    statuses = asyncio.run(forge())
    assert statuses.count(200) == 10_000
    assert records() == before


def test_cart_store_outage_keeps_the_catalog_and_answers_503(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as redis_server:
        env = {"MYCLOTHES_CART_STORE": "redis", "MYCLOTHES_REDIS_URL": redis_server.url}
        with ShopServer(tmp_path / "web", env) as server:
            shop = ShopClient(server.url)
            sku = _skus(server, 1)[0]
            assert shop.add(sku).status_code == 200
            redis_server.stop(kill=True)
            assert shop.get("/products").status_code == 200
            assert shop.get("/api/products").status_code == 200
            response = shop.add(sku)
            assert response.status_code == 503
            assert "temporarily unavailable" in response.json()["detail"]
            assert response.headers["retry-after"]
            page = shop.get("/cart")
            assert page.status_code == 503 and "Temporarily unavailable" in page.text
            for path in ("/cart/add", "/cart/add?via=litestar"):  # the form, in the fast lane and through Litestar
                form = shop.form(path, {"sku": sku, "quantity": "1"})
                assert form.status_code == 503 and "Temporarily unavailable" in form.text, form.text[:300]
                assert form.headers["retry-after"] and "myclothes_session" not in form.headers.get("set-cookie", "")
            deadline = time.monotonic() + 3  # readiness is checked at most once a second
            while (ready := shop.get("/readyz")).json()["checks"]["cart_store"] == "ok":
                assert time.monotonic() < deadline, ready.json()
                time.sleep(0.1)
            assert ready.status_code == 200 and ready.json()["checks"]["cart_store"].startswith("error")
            assert ready.json()["can_write"] is False and shop.get("/readyz/write").status_code == 503


def test_cookie_security_flag_is_set_when_configured(tmp_path: Path) -> None:
    with ShopServer(tmp_path, {"MYCLOTHES_CART_STORE": "cookie", "MYCLOTHES_COOKIE_SECURE": "true"}) as server:
        # httpx will not send Secure cookies over http, so pass them by hand.
        first = httpx.get(f"{server.url}/api/categories")
        cookies: dict[str, str] = {}
        take_cookies(cookies, _set_cookies(first))
        assert "__Host-csrftoken" in cookies  # Secure cookies carry the __Host- prefix
        add = api.add_to_cart(_skus(server, 1)[0])
        headers = {**csrf_header(cookies), "Cookie": cookie_header(cookies)}
        response = httpx.post(f"{server.url}{add.path}", json=add.json, headers=headers)
        headers = _set_cookies(first) + _set_cookies(response)
        assert any(h.startswith("myclothes_cart=") for h in headers)
        assert all("Secure" in h and "HttpOnly" in h for h in headers), headers


def test_a_write_that_raced_a_login_is_merged_not_lost(tmp_path: Path) -> None:
    with ShopServer(tmp_path) as server:
        shop = ShopClient(server.url)
        a, b, _ = _skus(server)
        email = shop.register()["email"]
        shop.post("/api/auth/logout")
        shop.add(a, 1)
        with sqlite3.connect(tmp_path / "myclothes.db") as db:
            row = db.execute("SELECT data FROM sessions WHERE id = ?", (stored_id(shop.session_id or ""),)).fetchone()
            data = json.loads(row[0])
        guest_cart = data["cart"]
        shop.login(email)
        # A request that loaded the guest session before the login finishes its add now, into the guest cart.
        with sqlite3.connect(tmp_path / "myclothes.db") as db:
            db.execute(
                "INSERT INTO cart_lines (cart_id, sku, quantity, added_at) VALUES (?, ?, 2, ?)",
                (guest_cart, b, time.time()),
            )
        cart = {i["sku"]: i["quantity"] for i in shop.get("/api/cart").json()["items"]}
        assert cart == {a: 1, b: 2}
