"""A shopper's whole journey in real Chromium, on a desktop window and on two phones (iPhone SE at 320 px, Pixel 7):
every page passes axe-core, fits the screen, has thumb-sized controls on phones, and is kept as a screenshot in
test-artifacts/screenshots/<profile>/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from tests.browser.checks import PageChecks
from tests.browser.conftest import DESKTOP
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, unique_email

pytestmark = pytest.mark.browser

TIMES = "\N{MULTIPLICATION SIGN}"  # between quantity and name in the confirmation


def press(locator: Locator, phone: bool) -> None:
    """A tap on a phone, a click elsewhere."""
    if phone:
        locator.tap()
    else:
        locator.click()


def log_out(page: Page, phone: bool) -> None:
    """On a wide screen from the header; on a phone from the account page (the header keeps account and cart)."""
    if phone:
        press(page.get_by_role("banner").get_by_role("link", name="Account"), phone)
        press(page.get_by_role("main").get_by_role("button", name="Log out"), phone)
    else:
        press(page.get_by_role("banner").get_by_role("button", name="Log out"), phone)
    expect(page.get_by_role("banner").get_by_role("link", name="Log in")).to_be_visible()


def pick_in_stock_variant(page: Page, phone: bool) -> tuple[str, str]:
    """Pick a colour other than the first when one has a size well in stock, then that size; return both."""
    colours = page.locator("input[name=colour]")
    for index in [*range(1, colours.count()), 0]:
        colour = colours.nth(index)
        press(colour, phone)
        name = colour.get_attribute("value") or ""
        expect(page.locator("#product-image")).to_have_attribute("src", re.compile(f"/{name}\\.svg$"))
        sizes = page.locator(".size-option.state-in_stock input[name=size]")
        if sizes.count():
            size = sizes.first
            press(size, phone)
            expect(size).to_be_checked()
            return name, size.get_attribute("value") or ""
    raise AssertionError("no colour of this product has a size in stock")


def test_browse_pick_add_register_address_checkout_history(
    profile_page: Page, profile: str, live_server: ShopServer, browser_admin: str
) -> None:
    page, phone, base = profile_page, profile != DESKTOP, live_server.url
    check = PageChecks(profile, phone)

    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Clothes for every day")
    check(page, "home")

    # Browse a category from the strip of chips, then filter (on a phone the filters open first).
    press(page.get_by_role("navigation", name="Categories").get_by_role("link", name="Hoodies"), phone)
    expect(page).to_have_url(re.compile(r"/products\?category=hoodies"))
    filters = page.locator("form.filters")
    if phone:
        expect(filters).to_be_hidden()
        press(page.locator("details.filters-panel > summary"), phone)
    expect(filters).to_be_visible()
    page.select_option("select[name=size]", "M")
    press(page.get_by_role("button", name="Apply"), phone)
    expect(page.get_by_test_id("result-count")).to_contain_text("products")
    expect(page.locator("details.filters-panel summary")).to_contain_text("2 active")
    check(page, "listing")

    # A product: colour swatches switch the picture, size buttons pick the size.
    press(page.locator("a.card").first, phone)
    expect(page.locator("h1")).to_be_visible()
    product_name = page.locator("h1").inner_text()
    colour, size = pick_in_stock_variant(page, phone)
    page.fill("input[name=quantity]", "2")
    check(page, "product")
    press(page.get_by_role("button", name="Add to cart"), phone)

    # The confirmation names the line and leads to the cart.
    added = page.locator(".added")
    expect(added).to_contain_text(f"2 {TIMES} {product_name} — {colour}, size {size}")
    expect(page.get_by_test_id("cart-count")).to_have_text("2")
    check(page, "added-to-cart")
    press(added.get_by_role("link", name=re.compile("^View cart")), phone)

    # The cart shows the line; change the quantity.
    expect(page).to_have_url(re.compile(r"/cart$"))
    line = page.locator(".cart-line").first
    expect(line).to_contain_text(product_name)
    line.locator("input[name=quantity]").fill("3")
    press(line.get_by_role("button", name="Update"), phone)
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    check(page, "cart")

    # Register (a phone gets there through "Log in"): the guest cart comes along.
    if phone:
        press(page.get_by_role("banner").get_by_role("link", name="Log in"), phone)
        press(page.get_by_role("link", name="Create an account"), phone)
    else:
        press(page.get_by_role("link", name="Register"), phone)
    email = unique_email("browser")
    page.fill("input[name=name]", "Browser Shopper")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    check(page, "register")
    press(page.get_by_role("button", name="Create account"), phone)
    expect(page.get_by_role("status").first).to_contain_text("Welcome to MyClothes")
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    expect(page.locator("h1")).to_have_text("Your account")
    check(page, "account")

    # The address book: add an address, then edit it.
    press(page.get_by_role("link", name="Address book", exact=True), phone)
    page.fill("input[name=full_name]", "Browser Shopper")
    page.fill("input[name=line1]", "1 Chromium Way")
    page.fill("input[name=city]", "Seoul")
    page.fill("input[name=postal_code]", "04524")
    page.fill("input[name=country]", "KR")
    press(page.get_by_role("button", name="Save address"), phone)
    expect(page.locator("li.address")).to_contain_text("1 Chromium Way")
    check(page, "addresses")
    press(page.locator("li.address").first.get_by_role("link", name=re.compile("^Edit")), phone)
    page.fill("input[name=line2]", "Flat 2")
    check(page, "address-edit")
    press(page.get_by_role("button", name="Save changes"), phone)
    expect(page.locator("li.address")).to_contain_text("Flat 2")

    # Check out with the test card.
    press(page.get_by_role("link", name=re.compile("^Cart")), phone)
    press(page.get_by_role("link", name="Check out"), phone)
    expect(page.locator("h1")).to_have_text("Checkout")
    page.fill("input[name=card_number]", "4242 4242 4242 4242")
    page.fill("input[name=card_expiry]", "12/39")
    page.fill("input[name=card_cvc]", "123")
    check(page, "checkout")
    press(page.get_by_role("button", name="Place order"), phone)
    expect(page.locator(".confirmation")).to_contain_text("is placed")
    expect(page.locator("address")).to_contain_text("1 Chromium Way")
    expect(page.get_by_test_id("cart-count")).to_have_text("0")
    order_number = page.locator("h1").inner_text().split("#")[1]
    check(page, "order")

    # The order is in the history.
    press(page.get_by_role("link", name="All orders"), phone)
    expect(page.get_by_test_id("orders")).to_contain_text(f"Order #{order_number}")
    check(page, "orders")

    # Log out and back in.
    log_out(page, phone)
    press(page.get_by_role("banner").get_by_role("link", name="Log in"), phone)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    check(page, "login")
    press(page.get_by_role("button", name="Log in"), phone)
    expect(page.get_by_role("status").first).to_contain_text("Welcome back")

    # The admin page, as an admin.
    log_out(page, phone)
    page.goto(base + "/account/login?next=/admin/products")
    page.fill("input[name=email]", browser_admin)
    page.fill("input[name=password]", PASSWORD)
    press(page.get_by_role("button", name="Log in"), phone)
    expect(page.locator("h1")).to_have_text("Products")
    press(page.locator("details.admin-product > summary").first, phone)
    variant = page.locator(".admin-variant").first
    variant.locator("input[name=stock]").fill("40")
    press(variant.get_by_role("button", name=re.compile("^Save")), phone)
    expect(page.get_by_role("status").first).to_contain_text("updated")
    check(page, "admin")

    # A page that does not exist.
    page.goto(base + "/products/no-such-product")
    expect(page.locator("h1")).to_have_text("Page not found")
    check(page, "error")

    assert len(check.seen) == 15, check.seen


def test_declined_card_and_errors_are_shown_in_the_page(page: Page, live_server: ShopServer) -> None:
    base = live_server.url
    check = PageChecks(DESKTOP, phone=False, start=20)
    page.goto(base + "/account/register")
    page.fill("input[name=name]", "X")
    page.fill("input[name=email]", unique_email("browser"))
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.goto(base + "/products")
    page.locator("a.card").first.click()
    pick_in_stock_variant(page, phone=False)
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
    check(page, "declined")
