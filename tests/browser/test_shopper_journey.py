"""A shopper's whole journey in real Chromium, with a screenshot of every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.conftest import artifacts_dir
from tests.support.client import unique_email
from tests.support.server import ShopServer

pytestmark = pytest.mark.browser


def shot(page: Page, name: str) -> None:
    folder = artifacts_dir() / "screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_browse_pick_add_register_address_checkout_history(page: Page, live_server: ShopServer) -> None:
    base = live_server.url
    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Clothes for every day")
    shot(page, "01-home")

    # Browse and filter.
    page.get_by_role("navigation").get_by_role("link", name="Hoodies").first.click()
    expect(page).to_have_url(re.compile(r"/products\?category=hoodies"))
    page.select_option("select[name=size]", "M")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_test_id("result-count")).to_contain_text("products")
    shot(page, "02-filtered-list")

    # Open a product and pick a size and colour that is in stock.
    page.locator("a.card").first.click()
    expect(page.locator("h1")).to_be_visible()
    product_name = page.locator("h1").inner_text()
    choice = page.locator("label.variant.in_stock input[name=sku]").first
    colour = choice.get_attribute("data-colour")
    choice.check()
    expect(page.locator("#product-image")).to_have_attribute("src", re.compile(f"/{colour}\\.svg$"))
    page.fill("input[name=quantity]", "2")
    shot(page, "03-product")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").first).to_contain_text("Added to your cart")
    expect(page.get_by_test_id("cart-count")).to_have_text("2")

    # The cart shows the line; change the quantity.
    page.get_by_role("link", name=re.compile("^Cart")).click()
    expect(page.locator("table.cart")).to_contain_text(product_name)
    page.locator("table.cart input[name=quantity]").first.fill("3")
    page.get_by_role("button", name="Update").first.click()
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    shot(page, "04-cart")

    # Register: the guest cart comes along.
    page.get_by_role("link", name="Register").click()
    page.fill("input[name=name]", "Browser Shopper")
    page.fill("input[name=email]", unique_email("browser"))
    page.fill("input[name=password]", "a long browser password")
    shot(page, "05-register")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome to MyClothes")
    expect(page.get_by_test_id("cart-count")).to_have_text("3")

    # Add an address in the address book.
    page.goto(base + "/account/addresses")
    page.fill("input[name=full_name]", "Browser Shopper")
    page.fill("input[name=line1]", "1 Chromium Way")
    page.fill("input[name=city]", "Seoul")
    page.fill("input[name=postal_code]", "04524")
    page.fill("input[name=country]", "KR")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator("li.address")).to_contain_text("1 Chromium Way")
    shot(page, "06-addresses")

    # Check out with the test card.
    page.get_by_role("link", name=re.compile("^Cart")).click()
    page.get_by_role("link", name="Check out").click()
    expect(page.locator("h1")).to_have_text("Checkout")
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    shot(page, "07-checkout")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator(".confirmation")).to_contain_text("is placed")
    expect(page.locator("address")).to_contain_text("1 Chromium Way")
    expect(page.get_by_test_id("cart-count")).to_have_text("0")
    order_heading = page.locator("h1").inner_text()
    shot(page, "08-order-confirmation")

    # The order is in the history.
    page.get_by_role("link", name="Orders").first.click()
    order_number = order_heading.split("#")[1]
    expect(page.locator("table.orders")).to_contain_text(f"#{order_number}")
    shot(page, "09-order-history")


def test_declined_card_and_errors_are_shown_in_the_page(page: Page, live_server: ShopServer) -> None:
    base = live_server.url
    page.goto(base + "/products/no-such-product")
    expect(page.locator("h1")).to_have_text("Page not found")
    page.goto(base + "/account/register")
    page.fill("input[name=name]", "X")
    page.fill("input[name=email]", unique_email("browser"))
    page.fill("input[name=password]", "a long browser password")
    page.get_by_role("button", name="Create account").click()
    page.goto(base + "/products")
    page.locator("a.card").first.click()
    page.locator("label.variant.in_stock input[name=sku]").first.check()
    page.get_by_role("button", name="Add to cart").click()
    page.goto(base + "/checkout")
    page.fill("input[name=full_name]", "X")
    page.fill("input[name=line1]", "2 Decline St")
    page.fill("input[name=city]", "Busan")
    page.fill("input[name=postal_code]", "48058")
    page.fill("input[name=country]", "KR")
    page.get_by_role("button", name="Save address").click()
    page.fill("input[name=card_number]", "4000 0000 0000 0002")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    shot(page, "10-declined")
