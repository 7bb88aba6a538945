"""Checkout: payment rules, atomic stock, idempotency, order snapshot and history."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.support.server import ShopServer

from myclothes.client import ShopClient


def _ready_customer(client: ShopClient, sku: str, quantity: int = 1) -> int:
    client.register()
    assert client.add(sku, quantity).status_code == 200
    return int(client.add_address()["id"])


def test_checkout_places_an_order_with_a_snapshot(client: ShopClient, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[3], 2)
    cart = client.get("/api/cart").json()
    response = client.checkout(address_id, str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["total"] == cart["total"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(skus[3], 2)]
    assert order["ship_to"]["city"] == "London"
    assert order["card_last4"] == "4242"
    assert client.get("/api/cart").json()["count"] == 0
    assert [o["id"] for o in client.get("/api/orders").json()] == [order["id"]]
    # The snapshot survives later changes to the address book.
    client.put(f"/api/account/addresses/{address_id}", json={**_address(), "city": "Paris"})
    assert client.get(f"/api/orders/{order['id']}").json()["ship_to"]["city"] == "London"


def _address() -> dict:
    from myclothes.client import ADDRESS

    return dict(ADDRESS)


def test_retried_checkout_creates_exactly_one_order(client: ShopClient, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[4])
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: client.checkout(address_id, key), range(5)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(client.get("/api/orders").json()) == 1


def test_checkout_needs_an_idempotency_key(client: ShopClient, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[5])
    response = client.post(
        "/api/checkout",
        json={"address_id": address_id, "card_number": "4242424242424242", "card_expiry": "12/39", "card_cvc": "123"},
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]


@pytest.mark.parametrize(
    ("card", "status", "field"),
    [
        ({"card_number": "4242 4242 4242 4241"}, 400, "card_number"),
        ({"card_number": "abc"}, 400, "card_number"),
        ({"card_expiry": "01/20"}, 400, "card_expiry"),
        ({"card_expiry": "13/30"}, 400, "card_expiry"),
        ({"card_cvc": "12"}, 400, "card_cvc"),
        ({"card_number": "4000 0000 0000 0002"}, 402, "declined"),
    ],
)
def test_bad_cards_are_refused_clearly(
    client: ShopClient, skus: list[str], card: dict, status: int, field: str
) -> None:
    address_id = _ready_customer(client, skus[6])
    response = client.checkout(address_id, str(uuid.uuid4()), **card)
    assert response.status_code == status
    assert field in response.json()["detail"]
    assert client.get("/api/orders").json() == []
    assert client.get("/api/cart").json()["count"] == 1


def test_checkout_with_empty_cart_or_foreign_address_is_refused(
    client: ShopClient, live_server: ShopServer, skus: list[str]
) -> None:
    client.register()
    address_id = client.add_address()["id"]
    empty = client.checkout(address_id, str(uuid.uuid4()))
    assert empty.status_code == 409 and "empty" in empty.json()["detail"]
    other = ShopClient(live_server.url)
    other.register()
    other.add(skus[0])
    response = other.checkout(address_id, str(uuid.uuid4()))
    assert response.status_code == 400 and "address_id" in response.json()["detail"]


def test_two_buyers_never_get_the_last_unit(admin: ShopClient, live_server: ShopServer) -> None:
    product = admin.create_product("Last One Shirt", category="shirts", price=5000, colours=["red"], stock=1)
    sku = product["variants"][0]["sku"]
    buyers = []
    for _ in range(6):
        buyer = ShopClient(live_server.url)
        buyer.register()
        assert buyer.add(sku).status_code == 200
        buyers.append((buyer, buyer.add_address()["id"]))
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda b: b[0].checkout(b[1], str(uuid.uuid4())), buyers))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409, 409]
    assert admin.get(f"/api/products/{product['slug']}").json()["variants"][0]["stock"] == 0


def test_other_customers_orders_are_404(client: ShopClient, live_server: ShopServer, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[7])
    order = client.checkout(address_id, str(uuid.uuid4())).json()
    intruder = ShopClient(live_server.url)
    intruder.register()
    assert intruder.get(f"/api/orders/{order['id']}").status_code == 404
    assert intruder.get(f"/orders/{order['id']}").status_code == 404


def test_checkout_form_double_submit_creates_one_order(client: ShopClient, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[8])
    page = client.get("/checkout")
    assert page.status_code == 200
    token = page.text.split('name="token" value="')[1].split('"')[0]
    form = {
        "token": token,
        "address_id": str(address_id),
        "card_number": "4242424242424242",
        "card_expiry": "12/39",
        "card_cvc": "123",
    }
    first = client.form("/checkout", form)
    second = client.form("/checkout", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    confirmation = client.get(first.headers["location"])
    assert "is placed" in confirmation.text
    assert len(client.get("/api/orders").json()) == 1
    order_id = first.headers["location"].split("/")[2].split("?")[0]
    assert f'href="/orders/{order_id}"' in client.get("/orders").text


def test_checkout_form_shows_declined_card(client: ShopClient, skus: list[str]) -> None:
    address_id = _ready_customer(client, skus[9])
    token = client.get("/checkout").text.split('name="token" value="')[1].split('"')[0]
    page = client.form(
        "/checkout",
        {
            "token": token,
            "address_id": str(address_id),
            "card_number": "4000000000000002",
            "card_expiry": "12/39",
            "card_cvc": "123",
        },
    )
    assert page.status_code == 402
    assert "declined" in page.text
