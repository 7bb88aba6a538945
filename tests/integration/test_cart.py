"""The cart over the API and the pages: add, change, remove, totals, limits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from myclothes.client import ShopClient


def test_anonymous_shopper_adds_changes_and_removes(client: ShopClient, skus: list[str]) -> None:
    first, second = skus[0], skus[1]
    cart = client.add(first, 2).json()
    assert cart["count"] == 2
    cart = client.add(second, 1).json()
    assert cart["count"] == 3
    line = next(item for item in cart["items"] if item["sku"] == first)
    assert line["line_total"] == line["unit_price"] * 2
    assert cart["total"] == sum(item["line_total"] for item in cart["items"])
    cart = client.put(f"/api/cart/items/{first}", json={"quantity": 5}).json()
    assert next(i for i in cart["items"] if i["sku"] == first)["quantity"] == 5
    cart = client.delete(f"/api/cart/items/{second}").json()
    assert [i["sku"] for i in cart["items"]] == [first]
    cart = client.put(f"/api/cart/items/{first}", json={"quantity": 0}).json()
    assert cart == {"items": [], "count": 0, "total": 0}


def test_adding_sums_quantities_on_one_line(client: ShopClient, skus: list[str]) -> None:
    client.add(skus[0], 1)
    cart = client.add(skus[0], 3).json()
    assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [(skus[0], 4)]


def test_bad_cart_input_is_a_clear_4xx(client: ShopClient, skus: list[str]) -> None:
    for body, status, field in (
        ({"sku": skus[0], "quantity": 0}, 400, "quantity"),
        ({"sku": skus[0], "quantity": 100}, 400, "quantity"),
        ({"sku": skus[0], "quantity": "two"}, 400, "quantity"),
        ({"sku": "NOPE-123", "quantity": 1}, 400, "sku"),
        ({"quantity": 1}, 400, "sku"),
    ):
        response = client.post("/api/cart/items", json=body)
        assert response.status_code == status, (body, response.text)
        assert field in response.json()["detail"], response.text
    malformed = client.post("/api/cart/items", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["status_code"] == 400


def test_a_line_never_exceeds_99(client: ShopClient, plentiful_skus: list[str]) -> None:
    sku = plentiful_skus[0]
    assert client.add(sku, 50).status_code == 200
    response = client.add(sku, 50)
    assert response.status_code == 409
    assert "99" in response.json()["detail"]
    assert client.get("/api/cart").json()["count"] == 50


def test_adds_beyond_the_stock_are_refused(client: ShopClient, catalog: list[dict]) -> None:
    variant = next(v for p in catalog for v in p["variants"] if 1 <= v["stock"] <= 5)
    response = client.add(variant["sku"], variant["stock"] + 1)
    assert response.status_code == 409
    assert "left in stock" in response.json()["detail"]
    assert client.get("/api/cart").json()["count"] == 0


def test_sold_out_variant_cannot_be_added(client: ShopClient, catalog: list[dict]) -> None:
    sold_out = next(v["sku"] for p in catalog for v in p["variants"] if v["stock"] == 0)
    response = client.add(sold_out)
    assert response.status_code == 409
    assert "sold out" in response.json()["detail"]


def test_concurrent_adds_of_one_sku_sum_exactly(client: ShopClient, catalog: list[dict]) -> None:
    sku = next(v["sku"] for p in catalog for v in p["variants"] if v["stock"] >= 50)
    client.add(sku, 1)  # creates the session and cart first
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _: client.add(sku, 1).status_code, range(30)))
    assert statuses == [200] * 30
    assert client.get("/api/cart").json()["count"] == 31


def test_cart_count_is_in_the_header_of_every_page(client: ShopClient, skus: list[str]) -> None:
    client.add(skus[0], 3)
    for path in ("/", "/products", "/cart", "/account/login"):
        page = client.get(path)
        assert 'data-testid="cart-count">3<' in page.text, path


def test_cart_forms_add_update_and_remove(client: ShopClient, skus: list[str]) -> None:
    response = client.form("/cart/add", {"sku": skus[0], "quantity": "2", "next": "/products"})
    assert response.status_code == 303 and response.headers["location"] == "/products"
    client.form("/cart/update", {"sku": skus[0], "quantity": "4"})
    assert client.get("/api/cart").json()["count"] == 4
    client.form("/cart/remove", {"sku": skus[0]})
    assert client.get("/api/cart").json()["count"] == 0


def test_cart_form_error_is_shown_not_500(client: ShopClient) -> None:
    response = client.form("/cart/add", {"sku": "NOPE", "quantity": "1", "next": "/cart"})
    assert response.status_code == 303
    page = client.get("/cart")
    assert "Could not update the cart" in page.text and "unknown SKU" in page.text


def test_off_site_next_is_ignored(client: ShopClient, skus: list[str]) -> None:
    response = client.form("/cart/add", {"sku": skus[0], "quantity": "1", "next": "https://evil.example/"})
    assert response.headers["location"] == "/cart"
