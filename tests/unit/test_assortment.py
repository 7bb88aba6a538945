"""The seeded catalog is deterministic and well-formed; images are our own SVGs."""

from __future__ import annotations

from xml.etree import ElementTree

from myclothes.domain.assortment import CATEGORIES, seed_product
from myclothes.domain.garments import PALETTE, SHAPES, colour_hex, draw_garment


def test_product_i_is_always_the_same_product() -> None:
    assert seed_product(41) == seed_product(41)
    assert seed_product(41) != seed_product(42)


def test_first_120_products_cover_every_category_with_unique_slugs_and_skus() -> None:
    products = [seed_product(i) for i in range(120)]
    assert {p.category for p in products} == {c[0] for c in CATEGORIES}
    assert len({p.slug for p in products}) == 120
    skus = [v.sku for p in products for v in p.variants]
    assert len(skus) == len(set(skus))
    for product in products:
        assert len({v.size for v in product.variants}) >= 3
        assert len({v.colour for v in product.variants}) >= 2
        assert all(v.price > 0 and v.stock >= 0 for v in product.variants)


def test_every_garment_draws_valid_svg_in_its_colour() -> None:
    for garment in SHAPES:
        svg = draw_garment(garment, "navy")
        root = ElementTree.fromstring(svg)
        assert root.tag.endswith("svg")
        assert PALETTE["navy"] in svg


def test_unknown_colours_get_a_stable_colour_and_are_escaped() -> None:
    assert colour_hex("chartreuse") == colour_hex("chartreuse")
    assert colour_hex("chartreuse").startswith("#") and len(colour_hex("chartreuse")) == 7
    assert "<script>" not in draw_garment("tshirt", "red", label="<script>")
