"""Rotating MYCLOTHES_SECRET_KEYS does not break the forms of shoppers already on the site, and with Secure cookies
the session and CSRF cookies carry the __Host- prefix. Real server processes (a restart with the new keys)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from tests.support.server import ShopServer

from myclothes.client import ShopClient

OLD_KEY = "old-key-" + "o" * 40
NEW_KEY = "new-key-" + "n" * 40


def _form_token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_a_cookie_signed_with_a_retired_key_still_posts_and_is_reissued_with_the_new_key(tmp_path: Path) -> None:
    with ShopServer(tmp_path, {"MYCLOTHES_SECRET_KEYS": OLD_KEY}) as server:
        shopper = ShopClient(server.url)
        old_cookie = shopper.csrf
        assert old_cookie
    # the operator rotates: the new key first, the old one kept for the browsers that still hold its cookies
    with ShopServer(tmp_path, {"MYCLOTHES_SECRET_KEYS": f"{NEW_KEY},{OLD_KEY}"}, port=server.port) as server:
        # an API call with the old cookie and header still passes CSRF (it fails later, on its own merits)
        response = shopper.post("/api/cart/items", json={"sku": "NO-SUCH-SKU", "quantity": 1})
        assert response.status_code != 403, response.text
        # the next page re-issues the cookie, signed with the new key, and its form carries the new token
        page = shopper.get("/account/login")
        assert page.status_code == 200
        new_cookie = shopper.csrf
        assert new_cookie and new_cookie != old_cookie
        assert _form_token(page.text) == new_cookie
        assert shopper.form("/account/login", {"email": "nobody@example.com", "password": "x" * 12}).status_code != 403

    # once the old key is dropped, its cookies are worth nothing: refused on a POST, replaced on a GET
    with ShopServer(tmp_path, {"MYCLOTHES_SECRET_KEYS": NEW_KEY}, port=server.port) as server:
        stale = httpx.Client(base_url=server.url)
        stale.cookies.set("csrftoken", old_cookie)
        refused = stale.post("/api/cart/items", json={"sku": "X", "quantity": 1}, headers={"X-CSRFToken": old_cookie})
        assert refused.status_code == 403
        reissued = stale.get("/api/categories").headers["set-cookie"]
        assert reissued.startswith("csrftoken=") and old_cookie not in reissued


def test_forged_cookies_are_replaced_not_reused_as_the_pages_token(live_server: ShopServer) -> None:
    page = httpx.get(f"{live_server.url}/account/login", cookies={"csrftoken": "f" * 80})
    assert _form_token(page.text) != "f" * 80
    assert page.headers["set-cookie"].startswith(f"csrftoken={_form_token(page.text)};")


def test_secure_cookies_carry_the_host_prefix(tmp_path: Path) -> None:
    with ShopServer(tmp_path, {"MYCLOTHES_COOKIE_SECURE": "true"}) as server:
        response = httpx.get(f"{server.url}/api/categories")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-csrftoken=")
        assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_probes_metrics_and_static_files_mint_no_token(live_server: ShopServer) -> None:
    """Answers that never carry a form skip the CSRF middleware: no token minted, no cookie set."""
    for path in ("/healthz", "/readyz", "/metrics", "/static/shop.css"):
        response = httpx.get(f"{live_server.url}{path}")
        assert response.status_code == 200, path
        assert "csrftoken" not in response.headers.get("set-cookie", ""), path
    for path in ("/", "/api/categories", "/products"):
        assert httpx.get(f"{live_server.url}{path}").headers["set-cookie"].startswith("csrftoken="), path
