"""The fast lane (``web/fastlane.py``) answers exactly what the full Litestar stack answers, on a real server.

A query string sends the same request through Litestar (the fast lane never takes one, and the handlers ignore
unknown parameters), so each pair below is the same request answered both ways."""

from __future__ import annotations

import re

import httpx
import pytest
from litestar.middleware.csrf import generate_csrf_token
from tests.support.server import ShopServer

from myclothes.client import ShopClient

VARYING = {"date", "x-request-id", "set-cookie"}  # per request by nature
KEY = "fast-lane-key-" + "k" * 40
OLD_KEY = "fast-lane-old-" + "o" * 40


def _both(server: ShopServer, path: str, cookies: dict[str, str] | None = None) -> tuple[httpx.Response, ...]:
    with (
        httpx.Client(base_url=server.url, cookies=cookies) as fast,
        httpx.Client(base_url=server.url, cookies=cookies) as full,
    ):
        return fast.get(path), full.get(path, params={"via": "litestar"})


def _same(fast: httpx.Response, full: httpx.Response) -> None:
    assert fast.status_code == full.status_code
    assert fast.content == full.content
    fixed = lambda r: sorted((k, v) for k, v in r.headers.multi_items() if k not in VARYING)  # noqa: E731
    assert fixed(fast) == fixed(full)
    cookie = lambda r: re.sub(r"=[0-9a-f]{128};", "=<token>;", r.headers.get("set-cookie", ""))  # noqa: E731
    assert cookie(fast) == cookie(full)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> ShopServer:
    with ShopServer(tmp_path_factory.mktemp("fast"), {"MYCLOTHES_SECRET_KEYS": f"{KEY},{OLD_KEY}"}) as running:
        yield running


def _slug(server: ShopServer) -> str:
    return str(httpx.get(f"{server.url}/api/products", params={"per_page": 1}).json()["items"][0]["slug"])


def test_healthz_is_answered_as_litestar_answers_it(server: ShopServer) -> None:
    fast, full = _both(server, "/healthz")
    assert fast.status_code == 200 and fast.json()["status"] == "ok"
    assert "set-cookie" not in fast.headers and fast.headers["x-served-by"]
    _same(fast, full)


@pytest.mark.parametrize("case", ["no cookie", "valid cookie", "retired key's cookie", "forged cookie"])
def test_a_guests_product_and_its_csrf_cookie_are_answered_as_litestar_answers_them(
    server: ShopServer, case: str
) -> None:
    slug = _slug(server)
    cookies = None
    if case != "no cookie":
        minted = httpx.get(f"{server.url}/api/categories").cookies["csrftoken"]
        cookies = {"csrftoken": {"valid cookie": minted, "forged cookie": "f" * 128}.get(case, "")}
        if case == "retired key's cookie":
            cookies["csrftoken"] = generate_csrf_token(OLD_KEY)  # still verifies, and is re-issued on a GET
    fast, full = _both(server, f"/api/products/{slug}", cookies)
    assert fast.status_code == 200 and fast.json()["slug"] == slug
    assert ("set-cookie" in fast.headers) == (case != "valid cookie")  # a cookie the first key signed is kept
    _same(fast, full)


@pytest.mark.parametrize("slug", ["no-such-product", "caf%C3%A9", "%20spaced%20"])
def test_unknown_products_answer_the_same_404(server: ShopServer, slug: str) -> None:
    fast, full = _both(server, f"/api/products/{slug}")
    assert fast.status_code == 404 and fast.json()["field"] == "slug"
    _same(fast, full)


def test_requests_the_fast_lane_does_not_take_are_still_answered_by_litestar(server: ShopServer) -> None:
    slug = _slug(server)
    assert httpx.get(f"{server.url}/api/products/{slug}/").status_code in (200, 404)  # Litestar's own rules
    assert httpx.get(f"{server.url}/api/products/a%00b").status_code == 400
    assert httpx.head(f"{server.url}/healthz").status_code in (200, 405)
    assert httpx.post(f"{server.url}/healthz").status_code in (403, 405)


def test_a_price_change_reaches_the_fast_lane_and_a_shopper_with_a_session_reads_their_writes(
    server: ShopServer,
) -> None:
    admin = ShopClient(server.url)
    server.create_admin("fast-admin@example.com", "correct horse battery")
    assert admin.login("fast-admin@example.com", "correct horse battery").status_code == 200
    slug = _slug(server)
    guest = httpx.get(f"{server.url}/api/products/{slug}").json()  # the fast lane encodes and keeps it
    sku, price = guest["variants"][0]["sku"], guest["variants"][0]["price"]
    changed = admin.patch(f"/api/admin/variants/{sku}", json={"price": price + 1})
    assert changed.status_code == 200, changed.text
    assert admin.get(f"/api/products/{slug}").json()["variants"][0]["price"] == price + 1  # via Litestar
    assert httpx.get(f"{server.url}/api/products/{slug}").json()["variants"][0]["price"] == price + 1
    admin.close()


def test_fast_answers_are_counted_under_their_routes(server: ShopServer) -> None:
    def count(route: str) -> float:
        text = httpx.get(f"{server.url}/metrics").text
        pattern = rf'myclothes_http_requests_total{{route="{re.escape(route)}",status="200"}} ([0-9.e+]+)'
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = (count("/healthz"), count("/api/products/{slug}"))
    httpx.get(f"{server.url}/healthz")
    httpx.get(f"{server.url}/api/products/{_slug(server)}")
    assert (count("/healthz"), count("/api/products/{slug}")) == (before[0] + 1, before[1] + 1)


def _shopper(server: ShopServer) -> httpx.Client:
    """A guest with a CSRF cookie, sending its token as the API asks."""
    shopper = httpx.Client(base_url=server.url)
    token = shopper.get("/api/categories").cookies["csrftoken"]
    shopper.headers["x-csrftoken"] = token
    return shopper


def _masked(response: httpx.Response) -> list[str]:
    """Set-Cookie with the values (random ids, tokens) and a second's drift of Max-Age masked."""
    cookies = response.headers.get_list("set-cookie")
    return sorted(re.sub(r"=[^;]+;", "=<v>;", re.sub(r"Max-Age=\d+", "Max-Age", c), count=1) for c in cookies)


def _alike(fast: httpx.Response, full: httpx.Response) -> None:
    assert fast.status_code == full.status_code, (fast.text, full.text)
    request_id = rb"request <code>[0-9a-f]{32}</code>"  # an error page's footer names its request
    assert re.sub(request_id, b"", fast.content) == re.sub(request_id, b"", full.content)
    fixed = lambda r: sorted((k, v) for k, v in r.headers.multi_items() if k not in VARYING)  # noqa: E731
    assert fixed(fast) == fixed(full)
    assert _masked(fast) == _masked(full)


def _skus(server: ShopServer, n: int) -> list[str]:
    product = httpx.get(f"{server.url}/api/products/{_slug(server)}").json()
    return [v["sku"] for v in product["variants"] if v["stock"] >= 5][:n]


def test_cart_writes_and_views_are_answered_as_litestar_answers_them(server: ShopServer) -> None:
    sku, other = _skus(server, 2)
    fast, full = _shopper(server), _shopper(server)  # two guests doing the same things, one through each lane
    first = fast.post("/api/cart/items", json={"sku": sku, "quantity": 2})
    assert first.status_code == 200 and first.json()["count"] == 2
    assert "myclothes_session=" in first.headers["set-cookie"]  # the first add makes the guest's session
    _alike(first, full.post("/api/cart/items?via=litestar", json={"sku": sku, "quantity": 2}))
    _alike(
        fast.post("/api/cart/items", json={"sku": other}),
        full.post("/api/cart/items?via=litestar", json={"sku": other}),
    )
    _alike(fast.put(f"/api/cart/items/{sku}", json={"quantity": 5}),
           full.put(f"/api/cart/items/{sku}?via=litestar", json={"quantity": 5}))  # fmt: skip
    _alike(fast.get("/api/cart"), full.get("/api/cart?via=litestar"))
    assert fast.get("/api/cart").json()["count"] == 6
    _alike(fast.put(f"/api/cart/items/{other}", json={"quantity": 0}),
           full.put(f"/api/cart/items/{other}?via=litestar", json={"quantity": 0}))  # fmt: skip
    assert [line["sku"] for line in fast.get("/api/cart").json()["items"]] == [sku]
    fast.close()
    full.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/cart/items", {"sku": "NO-SUCH-SKU", "quantity": 1}),  # the store's 404, in the fast lane
        ("POST", "/api/cart/items", {"sku": "{sku}", "quantity": 100}),  # out of range: Litestar's 400
        ("POST", "/api/cart/items", {"sku": "{sku}", "quantity": "2"}),  # a string: the strict decoder's 400
        ("POST", "/api/cart/items", {"quantity": 1}),  # missing sku
        ("POST", "/api/cart/items", b"{not json"),
        ("PUT", "/api/cart/items/{sku}", {"quantity": -1}),
        ("PUT", "/api/cart/items/NO-SUCH-SKU", {"quantity": 3}),
        ("PUT", "/api/cart/items/{sku}", {"quantity": 99, "extra": "x" * 20_000}),  # larger than the lane reads
    ],
)
def test_refused_cart_writes_answer_the_same_error(server: ShopServer, method: str, path: str, body: object) -> None:
    sku = _skus(server, 1)[0]
    answers = []
    for suffix in ("", "?via=litestar"):
        shopper = _shopper(server)
        if isinstance(body, bytes):
            kwargs: dict[str, object] = {"content": body, "headers": {"content-type": "application/json"}}
        else:
            kwargs = {"json": {k: (v.replace("{sku}", sku) if isinstance(v, str) else v) for k, v in body.items()}}
        answers.append(shopper.request(method, path.replace("{sku}", sku) + suffix, **kwargs))
        shopper.close()
    fast, full = answers
    assert 400 <= fast.status_code < 500 or fast.status_code == 200
    _alike(fast, full)


def test_a_cart_write_without_its_csrf_token_is_refused(server: ShopServer) -> None:
    sku = _skus(server, 1)[0]
    shopper = _shopper(server)
    del shopper.headers["x-csrftoken"]
    refused = shopper.post("/api/cart/items", json={"sku": sku, "quantity": 1})
    assert refused.status_code == 403
    forged = shopper.post("/api/cart/items", json={"sku": sku}, headers={"x-csrftoken": "f" * 128})
    assert forged.status_code == 403
    assert shopper.get("/api/cart").json()["count"] == 0
    shopper.close()


def test_concurrent_fast_lane_adds_sum_exactly(server: ShopServer) -> None:
    import concurrent.futures

    sku = _skus(server, 1)[0]
    shopper = _shopper(server)
    assert shopper.post("/api/cart/items", json={"sku": sku, "quantity": 1}).status_code == 200
    cookies, headers = dict(shopper.cookies), dict(shopper.headers)

    def add(_: int) -> int:
        with httpx.Client(base_url=server.url, cookies=cookies, headers=headers) as same_shopper:
            return same_shopper.post("/api/cart/items", json={"sku": sku, "quantity": 1}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(add, range(40)))
    assert statuses == [200] * 40
    assert shopper.get("/api/cart").json()["count"] == 41
    shopper.close()


def _browser(server: ShopServer) -> httpx.Client:
    """A guest's browser: a CSRF cookie from a page, forms sent with the token in their hidden field."""
    browser = httpx.Client(base_url=server.url)
    browser.get("/api/categories")
    return browser


def _post_form(browser: httpx.Client, path: str, fields: dict[str, str]) -> httpx.Response:
    return browser.post(path, data={**fields, "_csrf_token": browser.cookies["csrftoken"]})


def _picker_fields(server: ShopServer) -> dict[str, str]:
    slug = _slug(server)
    variant = next(v for v in httpx.get(f"{server.url}/api/products/{slug}").json()["variants"] if v["stock"] >= 5)
    return {"product": slug, "colour": variant["colour"], "size": variant["size"], "next": f"/products/{slug}"}


def _notices(page: str) -> list[str]:
    """What a page tells of the last change: flashes, the add-to-cart confirmation, a problem."""
    found = re.findall(r'<(?:p|section) class="(?:flash|added|error)"[^>]*>(.*?)</(?:p|section)>', page, re.S)
    found += re.findall(r'role="alert"[^>]*>(.*?)<', page, re.S)
    return found


def test_the_add_to_cart_form_is_answered_as_litestar_answers_it(server: ShopServer) -> None:
    sku, other = _skus(server, 2)
    fast, full = _browser(server), _browser(server)  # two guests doing the same things, one through each lane
    steps = [
        {"sku": sku, "quantity": "2"},  # the guest's first add makes the session
        {"sku": other},  # no quantity: one
        {**_picker_fields(server), "quantity": "1"},  # the product page's picker, back to the product
        {"sku": "NO-SUCH-SKU", "quantity": "1"},  # refused: told on the next page
        {"sku": sku, "quantity": "many"},
        {"sku": sku, "quantity": "100"},
        {"product": _slug(server), "colour": "No such colour", "size": "M", "next": "/cart?from=picker"},
        {"sku": sku, "next": "https://elsewhere.example/"},  # never off the shop
    ]
    for fields in steps:
        answer = _post_form(fast, "/cart/add", fields)
        assert answer.status_code == 303, answer.text
        _alike(answer, _post_form(full, "/cart/add?via=litestar", fields))
        page, page_full = fast.get(answer.headers["location"]), full.get(answer.headers["location"])
        assert page.status_code == page_full.status_code == 200
        assert _notices(page.text) and _notices(page.text) == _notices(
            page_full.text
        )  # the same confirmation or problem
        assert _notices(fast.get("/cart").text) == []  # shown once
        full.get("/cart")
    assert fast.get("/api/cart").json() == full.get("/api/cart").json()
    assert fast.get("/api/cart").json()["count"] == 5
    assert _notices(fast.get("/cart").text) == []
    fast.close()
    full.close()


@pytest.mark.parametrize(
    "case", ["no token", "forged token", "another cookie's token", "field twice", "json", "NUL", "too large"]
)
def test_forms_the_lane_does_not_take_are_answered_by_litestar(server: ShopServer, case: str) -> None:
    sku = _skus(server, 1)[0]
    answers = []
    for suffix in ("", "?via=litestar"):
        browser = _browser(server)
        token = browser.cookies["csrftoken"]
        path = "/cart/add" + suffix
        if case == "no token":
            answers.append(browser.post(path, data={"sku": sku}))
        elif case == "forged token":
            answers.append(browser.post(path, data={"sku": sku, "_csrf_token": "f" * 128}))
        elif case == "another cookie's token":
            answers.append(browser.post(path, data={"sku": sku, "_csrf_token": _browser(server).cookies["csrftoken"]}))
        elif case == "field twice":
            body = f"sku={sku}&sku=NO-SUCH-SKU&_csrf_token={token}"
            answers.append(
                browser.post(path, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
            )
        elif case == "json":
            answers.append(browser.post(path, json={"sku": sku, "_csrf_token": token}))
        elif case == "NUL":
            answers.append(browser.post(path, data={"sku": sku + "\x00", "_csrf_token": token}))
        else:
            answers.append(browser.post(path, data={"sku": sku, "next": "/" + "n" * 20_000, "_csrf_token": token}))
        added = browser.get("/api/cart").json()["count"]
        assert added == (1 if case == "too large" else 0)  # refused, or the last "sku" (unknown) taken
        browser.close()
    fast, full = answers
    assert fast.status_code == {"field twice": 303, "NUL": 400, "too large": 303}.get(case, 403)
    _alike(fast, full)


def test_concurrent_form_adds_sum_exactly(server: ShopServer) -> None:
    import concurrent.futures

    sku = _skus(server, 1)[0]
    browser = _browser(server)
    assert _post_form(browser, "/cart/add", {"sku": sku}).status_code == 303
    cookies = dict(browser.cookies)

    def add(_: int) -> int:
        with httpx.Client(base_url=server.url, cookies=cookies) as same_shopper:
            return _post_form(same_shopper, "/cart/add", {"sku": sku, "quantity": "1"}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(add, range(40)))
    assert statuses == [303] * 40
    assert browser.get("/api/cart").json()["count"] == 41
    browser.close()
