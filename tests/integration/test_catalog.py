"""Browsing the catalog over real HTTP against a real SQLite file."""

from __future__ import annotations

from myclothes.client import ShopClient


def test_seeded_catalog_has_at_least_120_products_in_6_categories(client: ShopClient) -> None:
    categories = client.get("/api/categories").json()
    assert len(categories) >= 6
    assert sum(c["product_count"] for c in categories) >= 120
    assert client.get("/api/products").json()["total"] >= 120


def test_filter_by_category_size_colour_and_price(client: ShopClient) -> None:
    page = client.get(
        "/api/products",
        params={"category": "hoodies", "size": "M", "colour": "navy", "min_price": 1000, "max_price": 20000},
    ).json()
    assert page["total"] >= 1
    for card in page["items"]:
        product = client.get(f"/api/products/{card['slug']}").json()
        assert product["category"] == "hoodies"
        assert any(v["size"] == "M" and v["colour"] == "navy" for v in product["variants"])
        assert 1000 <= product["price"] <= 20000


def test_sort_by_price_both_ways(client: ShopClient) -> None:
    ascending = [p["price"] for p in client.get("/api/products", params={"sort": "price_asc"}).json()["items"]]
    descending = [p["price"] for p in client.get("/api/products", params={"sort": "price_desc"}).json()["items"]]
    assert ascending == sorted(ascending)
    assert descending == sorted(descending, reverse=True)
    assert ascending[0] < descending[0]


def test_text_search_matches_names(client: ShopClient) -> None:
    page = client.get("/api/products", params={"q": "Cotton"}).json()
    assert page["total"] > 0
    assert all("cotton" in p["name"].lower() for p in page["items"])
    assert client.get("/api/products", params={"q": "zzzz-nothing"}).json()["total"] == 0


def test_search_treats_like_wildcards_literally(client: ShopClient) -> None:
    assert client.get("/api/products", params={"q": "%"}).json()["total"] == 0
    assert client.get("/api/products", params={"q": "_"}).json()["total"] == 0


def test_pagination_covers_every_product_once(client: ShopClient) -> None:
    first = client.get("/api/products", params={"per_page": 50, "page": 1}).json()
    slugs = []
    for number in range(1, first["pages"] + 1):
        slugs += [
            p["slug"] for p in client.get("/api/products", params={"per_page": 50, "page": number}).json()["items"]
        ]
    assert len(slugs) == len(set(slugs)) == first["total"]


def test_product_has_variants_with_sku_size_colour_price_stock(client: ShopClient) -> None:
    slug = client.get("/api/products").json()["items"][0]["slug"]
    product = client.get(f"/api/products/{slug}").json()
    assert product["variants"]
    for variant in product["variants"]:
        assert set(variant) >= {"sku", "size", "colour", "price", "stock"}
        assert isinstance(variant["price"], int) and variant["price"] > 0


def test_bad_catalog_parameters_are_4xx_with_the_field(client: ShopClient) -> None:
    for params, field in (
        ({"page": 0}, "page"),
        ({"per_page": 1000}, "per_page"),
        ({"sort": "random"}, "sort"),
        ({"min_price": -1}, "min_price"),
        ({"min_price": 500, "max_price": 100}, "min_price"),
    ):
        response = client.get("/api/products", params=params)
        assert response.status_code == 400, params
        assert field in response.json()["detail"]
    response = client.get("/api/products", params={"page": "abc"})
    assert response.status_code == 400
    assert "page" in response.json()["detail"]


def test_unknown_product_is_404_json_and_page(client: ShopClient) -> None:
    assert client.get("/api/products/no-such-thing").status_code == 404
    page = client.get("/products/no-such-thing")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_product_images_are_svgs_drawn_in_the_colour(client: ShopClient) -> None:
    response = client.get("/images/hoodie/navy.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in response.text and "#1f2f5c" in response.text
