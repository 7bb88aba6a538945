"""Inputs that used to reach a 500 (found by the OpenAPI fuzzer and a review) are 4xx naming the field, or 404 for an
id, on the API and on the HTML pages; the document and OPTIONS agree with what the server does."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.support.server import ShopServer

from myclothes.client import ADDRESS, ShopClient

INT4_ID = 2**31  # one past what a PostgreSQL integer column holds
HUGE_ID = 2**63  # one past what SQLite holds
HUGER_ID = 99999999999999999999


@pytest.mark.parametrize("address_id", [INT4_ID, HUGE_ID, HUGER_ID, 0, -1])
def test_an_address_id_the_database_cannot_hold_is_not_found(client: ShopClient, address_id: int) -> None:
    client.register()
    path = f"/api/account/addresses/{address_id}"
    assert client.get(path).status_code == 404
    assert (
        client.put(
            path, json={"full_name": "A", "line1": "1 Road", "city": "X", "postal_code": "1", "country": "GB"}
        ).status_code
        == 404
    )
    assert client.delete(path).status_code == 404
    assert client.get(f"/account/addresses/{address_id}/edit").status_code == 404


@pytest.mark.parametrize("order_id", [INT4_ID, HUGE_ID, HUGER_ID, 0])
def test_an_order_id_the_database_cannot_hold_is_not_found(client: ShopClient, order_id: int) -> None:
    client.register()
    assert client.get(f"/api/orders/{order_id}").json()["status_code"] == 404
    assert client.get(f"/orders/{order_id}").status_code == 404


def test_checkout_to_an_address_id_the_database_cannot_hold_names_the_field(
    client: ShopClient, skus: list[str]
) -> None:
    client.register()
    client.add(skus[0])
    response = client.checkout(HUGER_ID, str(uuid.uuid4()))
    assert response.status_code == 400 and response.json()["field"] == "address_id"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 2**62}, "page"),
        ({"page": HUGER_ID}, "page"),
        ({"min_price": "1e30"}, "min_price"),
        ({"max_price": 10**30}, "max_price"),
        ({"min_price": "nan"}, "min_price"),
        ({"per_page": 10**30}, "per_page"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_out_of_range_catalog_queries_are_400_with_the_field(client: ShopClient, params: dict, field: str) -> None:
    response = client.get("/api/products", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "params",
    [{"min_price": "nan"}, {"max_price": "inf"}, {"min_price": "1e30"}, {"page": HUGER_ID}, {"page": 2**62}],
)
def test_out_of_range_product_list_pages_are_400(client: ShopClient, params: dict) -> None:
    response = client.get("/products", params=params)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]


def test_admin_product_list_page_beyond_the_last_is_400(admin: ShopClient) -> None:
    assert admin.get("/admin/products", params={"page_number": HUGER_ID}).status_code == 400


def test_a_validation_error_names_its_field(client: ShopClient, skus: list[str]) -> None:
    response = client.add(skus[0], quantity=100)
    assert response.json() == {
        "status_code": 400,
        "detail": "quantity: Expected `int` <= 99",
        "field": "quantity",
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/cart/items", {"sku": "A\x00", "quantity": 1}, "sku"),
        ("PUT", "/api/cart/items/A%00", {"quantity": 1}, "sku"),
        ("GET", "/api/products/a%00", None, "slug"),
        ("GET", "/api/products?q=a%00", None, "q"),
        ("POST", "/api/auth/login", {"email": "a\x00@example.com", "password": "x"}, "email"),
        ("POST", "/api/auth/register", {"email": "a\x00@example.com", "password": "0123456789", "name": "A"}, "email"),
    ],
)
def test_text_holding_nul_is_400_with_the_field(
    client: ShopClient, method: str, path: str, body: dict | None, field: str
) -> None:
    response = client.send(method, path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def test_an_address_holding_nul_is_400_with_the_field(client: ShopClient) -> None:
    client.register()
    response = client.post("/api/account/addresses", json={**ADDRESS, "line1": "12\x00 Row"})
    assert response.status_code == 400 and response.json()["field"] == "line1"


@pytest.mark.parametrize("path", ["/products?q=a%00", "/products/a%00b", "/cart/add"])
def test_pages_refuse_nul(client: ShopClient, path: str) -> None:
    response = client.form(path, {"sku": "A\x00", "quantity": "1"}) if path == "/cart/add" else client.get(path)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]


def test_options_lists_every_method_of_the_path(client: ShopClient) -> None:
    response = client.http.options("/api/cart/items/ANY")
    assert response.status_code == 204
    assert response.headers["allow"] == "DELETE, OPTIONS, PUT"


def test_the_document_states_the_rules_and_every_refusal(live_server: ShopServer) -> None:
    document = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    add = document["paths"]["/api/cart/items"]["post"]
    assert set(add["responses"]) == {"200", "400", "403", "409", "413", "503"}
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"status_code", "detail", "field"}
    cart_add = document["components"]["schemas"]["CartAdd"]["properties"]
    assert (cart_add["quantity"]["minimum"], cart_add["quantity"]["maximum"]) == (1, 99)
    page = next(p for p in document["paths"]["/api/products"]["get"]["parameters"] if p["name"] == "page")
    assert page["schema"]["maximum"] == 10_000
