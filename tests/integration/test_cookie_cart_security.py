"""The cookie cart under attack: flipped bytes, oversize carts, rejected cookies counted and never a 5xx."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient


@pytest.fixture(scope="module")
def cookie_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopServer]:
    with ShopServer(tmp_path_factory.mktemp("cookie"), {"MYCLOTHES_CART_STORE": "cookie"}) as server:
        yield server


def _sealed_cart(server: ShopServer) -> tuple[str, str]:
    shop = ShopClient(server.url)
    slug = httpx.get(f"{server.url}/api/products").json()["items"][0]["slug"]
    variants = [v for v in httpx.get(f"{server.url}/api/products/{slug}").json()["variants"] if v["stock"] > 2]
    for variant in variants[:3]:
        assert shop.add(variant["sku"]).status_code == 200
    return shop.http.cookies["myclothes_cart"], shop.csrf


def test_a_thousand_single_byte_flips_are_a_thousand_empty_carts(cookie_server: ShopServer) -> None:
    sealed, _ = _sealed_cart(cookie_server)
    raw = bytearray(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
    rng = random.Random(7)
    forged = []
    for _ in range(1000):
        copy = bytearray(raw)
        copy[rng.randrange(len(copy))] ^= rng.randrange(1, 256)
        forged.append(base64.urlsafe_b64encode(bytes(copy)).rstrip(b"=").decode())
    intact = httpx.get(f"{cookie_server.url}/api/cart", cookies={"myclothes_cart": sealed}).json()
    assert intact["count"] == 3

    def read(value: str) -> tuple[int, int]:
        response = httpx.get(f"{cookie_server.url}/api/cart", cookies={"myclothes_cart": value})
        return response.status_code, response.json()["count"] if response.status_code == 200 else -1

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, forged))
    assert results == [(200, 0)] * 1000
    metrics = httpx.get(f"{cookie_server.url}/metrics").text
    line = next(
        m for m in metrics.splitlines() if m.startswith('myclothes_cart_cookie_rejected_total{reason="tampered"}')
    )
    assert float(line.split()[-1]) >= 1000


@pytest.mark.parametrize("value", ["", "x", "AAAA", "not base64 !!", "A" * 5000])
def test_truncated_or_garbage_cookies_are_empty_carts(cookie_server: ShopServer, value: str) -> None:
    response = httpx.get(f"{cookie_server.url}/api/cart", headers={"Cookie": f"myclothes_cart={value}"})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_a_cookie_from_another_shop_key_is_an_empty_cart(cookie_server: ShopServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with ShopServer(tmp_path, {"MYCLOTHES_CART_STORE": "cookie"}) as other_shop:
        foreign, _ = _sealed_cart(other_shop)
    response = httpx.get(f"{cookie_server.url}/api/cart", cookies={"myclothes_cart": foreign})
    assert response.json()["count"] == 0


def test_keys_rotate_without_emptying_carts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old, new = "old-secret-key-0123456789abcdef-0123", "new-secret-key-0123456789abcdef-0123"
    with ShopServer(tmp_path, {"MYCLOTHES_CART_STORE": "cookie", "MYCLOTHES_SECRET_KEYS": old}) as server:
        sealed, _ = _sealed_cart(server)
        port = server.port
    rotated = {"MYCLOTHES_CART_STORE": "cookie", "MYCLOTHES_SECRET_KEYS": f"{new},{old}"}
    with ShopServer(tmp_path, rotated, port=port) as server:
        assert httpx.get(f"{server.url}/api/cart", cookies={"myclothes_cart": sealed}).json()["count"] == 3
    with ShopServer(tmp_path, {"MYCLOTHES_CART_STORE": "cookie", "MYCLOTHES_SECRET_KEYS": new}, port=port) as server:
        assert httpx.get(f"{server.url}/api/cart", cookies={"myclothes_cart": sealed}).json()["count"] == 0


def test_an_add_that_would_overflow_4096_bytes_is_refused_and_the_cart_kept(
    cookie_server: ShopServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    admin_email = "cookie-admin@example.com"
    cookie_server.create_admin(admin_email, PASSWORD)
    admin = ShopClient(cookie_server.url)
    assert admin.login(admin_email).status_code == 200
    colours = [f"colour{n:02d}-with-a-very-long-name" for n in range(10)]
    sizes = [f"SIZE{n:02d}XXXX" for n in range(10)]
    product = admin.create_product(
        "Very Long SKU Shirt", category="shirts", price=1000, sizes=sizes, colours=colours, stock=50
    )
    shop = ShopClient(cookie_server.url)
    headers: list[str] = []
    refused = None
    for variant in product["variants"]:
        response = shop.add(variant["sku"])
        headers += response.headers.get_list("set-cookie")
        if response.status_code != 200:
            refused = response
            break
    assert refused is not None and refused.status_code == 409
    assert "no longer fits" in refused.json()["detail"]
    assert all(len(header) <= 4096 for header in headers)
    assert max(len(h) for h in headers if h.startswith("myclothes_cart=")) > 3500  # it really got close
    kept = shop.get("/api/cart").json()
    assert kept["count"] == len(kept["items"]) >= 60
