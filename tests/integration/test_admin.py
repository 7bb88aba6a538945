"""Admin: products, prices and stock through the API and the admin page."""

from __future__ import annotations

from myclothes.client import ShopClient


def test_admin_creates_a_product_and_changes_price_and_stock(admin: ShopClient, client: ShopClient) -> None:
    product = admin.create_product(
        "Storm Shell", category="jackets", price=12900, sizes=["S", "M"], colours=["olive", "black"], stock=4
    )
    assert len(product["variants"]) == 4
    sku = product["variants"][0]["sku"]
    client.get(f"/api/products/{product['slug']}")  # warm the cache
    changed = admin.patch(f"/api/admin/variants/{sku}", json={"price": 9900, "stock": 7})
    assert changed.status_code == 200
    seen = client.get(f"/api/products/{product['slug']}").json()
    variant = next(v for v in seen["variants"] if v["sku"] == sku)
    assert (variant["price"], variant["stock"]) == (9900, 7)
    assert seen["price"] == 9900
    renamed = admin.patch(f"/api/admin/products/{product['slug']}", json={"name": "Storm Shell II"})
    assert renamed.json()["name"] == "Storm Shell II"


def test_admin_input_is_validated(admin: ShopClient) -> None:
    bad = admin.post(
        "/api/admin/products",
        json={
            "category": "nope",
            "name": "X",
            "price": 100,
            "sizes": ["M"],
            "colours": ["red"],
        },
    )
    assert bad.status_code == 400 and "category" in bad.json()["detail"]
    response = admin.patch("/api/admin/variants/NOPE", json={"price": 100})
    assert response.status_code == 404
    sku = admin.get("/api/products/" + admin.get("/api/products").json()["items"][0]["slug"]).json()["variants"][0][
        "sku"
    ]
    assert admin.patch(f"/api/admin/variants/{sku}", json={"stock": -1}).status_code == 400
    assert admin.patch(f"/api/admin/variants/{sku}", json={"price": 0}).status_code == 400


def test_non_admins_are_refused(client: ShopClient) -> None:
    assert client.post("/api/admin/products", json={}).status_code in (400, 401)
    client.register()
    response = client.patch("/api/admin/variants/ANY", json={"price": 100})
    assert response.status_code == 403
    assert client.get("/admin/products").status_code == 403


def test_admin_page_lists_and_updates_variants(admin: ShopClient) -> None:
    page = admin.get("/admin/products")
    assert page.status_code == 200 and "Create a product" in page.text
    sku = page.text.split('action="/admin/variants/')[1].split('"')[0]
    response = admin.form(f"/admin/variants/{sku}", {"price": "12.34", "stock": "3"})
    assert response.status_code == 303
    assert f"{sku} updated." in admin.get("/admin/products").text
    created = admin.form(
        "/admin/products",
        {
            "category": "skirts",
            "name": "Pleated Page Skirt",
            "price": "45.00",
            "sizes": "S, M",
            "colours": "pink",
            "stock": "5",
        },
    )
    assert created.status_code == 303
    assert admin.get("/api/products", params={"q": "Pleated Page"}).json()["total"] == 1
