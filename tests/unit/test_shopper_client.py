"""The shopper client's core without a server: cookies follow Set-Cookie, the CSRF token is echoed, calls are built."""

from __future__ import annotations

import httpx

from myclothes.client import api
from myclothes.client.aio import send
from myclothes.client.cookies import cookie_header, csrf_field, csrf_header, no_cookie_jar, take_cookies


def test_shopper_cookies_follow_set_cookie_including_deletions() -> None:
    cookies: dict[str, str] = {}
    take_cookies(cookies, ["csrftoken=abc; Path=/", "s=1; Path=/"])
    assert cookies == {"csrftoken": "abc", "s": "1"}
    take_cookies(cookies, ["s=; Max-Age=0; Path=/", 'q="2"; Path=/'])
    assert cookies == {"csrftoken": "abc", "q": "2"}
    take_cookies(cookies, ["q=2; expires=Thu, 01 Jan 1970 00:00:00 GMT"])
    assert cookies == {"csrftoken": "abc"}


def test_the_csrf_token_is_echoed_from_either_cookie_name() -> None:
    assert csrf_header({"csrftoken": "t"}) == {"X-CSRFToken": "t"}
    assert csrf_field({"__Host-csrftoken": "h"}) == {"_csrf_token": "h"}
    assert csrf_header({}) == {"X-CSRFToken": ""}
    assert cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"


def test_checkout_carries_the_idempotency_key_and_the_test_card() -> None:
    call = api.checkout(7, "key-1", card_cvc="999")
    assert (call.method, call.path, call.headers) == ("POST", "/api/checkout", {"Idempotency-Key": "key-1"})
    assert call.json == {"address_id": 7, **api.CARD, "card_cvc": "999"} and call.unsafe
    assert not api.cart().unsafe and api.set_quantity("SKU-1", 0).label == "PUT /api/cart/items/SKU-1"


async def test_a_shared_client_sends_each_shoppers_cookies_and_keeps_what_the_store_sets() -> None:
    seen: list[httpx.Request] = []

    def store(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers=[("set-cookie", "myclothes_session=s2; Path=/")], json={})

    cookies = {"csrftoken": "tok", "myclothes_session": "s1"}
    shared = httpx.AsyncClient(base_url="http://shop", transport=httpx.MockTransport(store), cookies=no_cookie_jar())
    async with shared as http:
        await send(http, cookies, api.add_to_cart("SKU-1", 2))
        await send(http, cookies, api.cart())
        await send(http, None, api.products(page=2))
    add, read, browse = seen
    assert add.headers["cookie"] == "csrftoken=tok; myclothes_session=s1" and add.headers["x-csrftoken"] == "tok"
    assert read.headers["cookie"] == "csrftoken=tok; myclothes_session=s2" and "x-csrftoken" not in read.headers
    assert "cookie" not in browse.headers and browse.url.params["page"] == "2"
    assert cookies == {"csrftoken": "tok", "myclothes_session": "s2"}
