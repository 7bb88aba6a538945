"""The product page's variant picker: colour swatches and size buttons as accessible radio groups, stock and price
per colour, the picture following the colour, clear messages (also when the browser's checks are bypassed), the
confirmation after adding, and the whole form working without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from tests.browser.checks import PageChecks
from tests.browser.conftest import DESKTOP, context_options, open_page
from tests.support.server import ShopServer

from myclothes.client import ShopClient

pytestmark = pytest.mark.browser

TIMES = "\N{MULTIPLICATION SIGN}"  # between quantity and name in the confirmation

SIZES = ["S", "M", "L", "XL"]
COLOURS = ["navy", "red", "white"]
PRICE = 4000


@pytest.fixture(scope="module")
def picker_product(live_server: ShopServer, browser_admin: str) -> dict[str, Any]:
    """A hoodie whose variants show every state: red M sold out, navy L two left, navy XL dearer, white sold out."""
    admin = ShopClient(live_server.url)
    assert admin.login(browser_admin).status_code == 200
    product = admin.create_product(
        "Picker Test Hoodie",
        category="hoodies",
        description="A hoodie made for the picker's tests.",
        price=PRICE,
        sizes=SIZES,
        colours=COLOURS,
        stock=30,
    )
    sku = {(v["colour"], v["size"]): v["sku"] for v in product["variants"]}
    changes = [(sku["red", "M"], {"stock": 0}), (sku["navy", "L"], {"stock": 2}), (sku["navy", "XL"], {"price": 4500})]
    changes += [(sku["white", size], {"stock": 0}) for size in SIZES]
    for variant, change in changes:
        assert admin.patch(f"/api/admin/variants/{variant}", json=change).status_code == 200
    admin.close()
    return {"slug": product["slug"], "name": product["name"], "sku": sku}


@pytest.fixture
def product_page(page: Page, live_server: ShopServer, picker_product: dict[str, Any]) -> Page:
    page.goto(f"{live_server.url}/products/{picker_product['slug']}")
    return page


def size_radio(page: Page, size: str) -> Any:
    return page.locator(f"input[name=size][value='{size}']")


def test_colours_and_sizes_are_labelled_radio_groups(product_page: Page) -> None:
    colours = product_page.get_by_role("group", name="Colour")
    expect(colours.get_by_role("radio")).to_have_count(3)
    expect(colours.get_by_role("radio", name="navy")).to_be_checked()  # the first colour in stock
    expect(colours.get_by_role("radio", name=re.compile(r"^white\W+sold out$"))).to_be_visible()
    sizes = product_page.get_by_role("group", name="Size")
    expect(sizes.get_by_role("radio")).to_have_count(4)
    expect(sizes.get_by_role("radio", name=re.compile(r"^L\W+2 left$"))).to_be_visible()
    expect(sizes.get_by_role("radio", name=re.compile(r"^XL\W+\$45\.00$"))).to_be_visible()
    expect(sizes.get_by_role("radio", name="M", exact=True)).to_be_visible()
    for radio in product_page.locator("input[type=radio]").all():  # every radio is at least a thumb wide
        box = radio.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box


def test_arrow_keys_change_the_colour_and_the_picture_with_a_visible_focus_ring(product_page: Page) -> None:
    navy = product_page.get_by_role("radio", name="navy")
    navy.focus()
    product_page.keyboard.press("ArrowRight")
    red = product_page.get_by_role("radio", name="red")
    expect(red).to_be_checked()
    expect(red).to_be_focused()
    expect(product_page.locator("#product-image")).to_have_attribute("src", re.compile(r"/red\.svg$"))
    expect(product_page.locator("#product-image")).to_have_attribute("alt", "Picker Test Hoodie in red")
    ring = product_page.locator(f"label[for={red.get_attribute('id')}]")
    assert ring.evaluate("(label) => getComputedStyle(label).outlineStyle") == "solid"
    # In red, M is sold out: the arrow keys step over it.
    size_radio(product_page, "S").check()
    expect(size_radio(product_page, "M")).to_be_disabled()
    size_radio(product_page, "S").focus()
    product_page.keyboard.press("ArrowRight")
    expect(size_radio(product_page, "L")).to_be_checked()


def test_size_buttons_show_each_colours_stock_and_price(product_page: Page) -> None:
    option = product_page.locator(".size-option")
    expect(option.filter(has=size_radio(product_page, "L"))).to_have_class(re.compile("state-low"))
    expect(option.filter(has=size_radio(product_page, "L"))).to_contain_text("2 left")
    expect(option.filter(has=size_radio(product_page, "XL"))).to_contain_text("$45.00")
    size_radio(product_page, "XL").check()
    expect(product_page.get_by_test_id("price")).to_have_text("$45.00")  # the price of what is picked
    product_page.get_by_role("radio", name="red").check()
    expect(option.filter(has=size_radio(product_page, "M"))).to_have_class(re.compile("state-sold_out"))
    expect(option.filter(has=size_radio(product_page, "M"))).to_contain_text("Sold out")
    expect(option.filter(has=size_radio(product_page, "L"))).not_to_contain_text("left")
    expect(option.filter(has=size_radio(product_page, "XL"))).not_to_contain_text("$")
    expect(product_page.get_by_test_id("price")).to_have_text("$40.00")
    product_page.get_by_role("radio", name=re.compile("^white")).check()
    expect(product_page.locator("input[name=size]:not(:disabled)")).to_have_count(0)
    expect(size_radio(product_page, "XL")).not_to_be_checked()
    expect(product_page.locator("#picker-problem")).to_contain_text("sold out in white")


def test_adding_names_the_line_and_links_to_the_cart(product_page: Page, picker_product: dict[str, Any]) -> None:
    product_page.get_by_role("radio", name="red").check()
    size_radio(product_page, "L").check()
    product_page.fill("input[name=quantity]", "2")
    product_page.get_by_role("button", name="Add to cart").click()
    confirmation = product_page.get_by_role("status").filter(has_text="Added to your cart")
    expect(confirmation).to_contain_text(f"2 {TIMES} Picker Test Hoodie — red, size L")
    expect(product_page.get_by_role("radio", name="red")).to_be_checked()  # the picker keeps the choice
    expect(size_radio(product_page, "L")).to_be_checked()
    confirmation.get_by_role("link", name=re.compile(r"^View cart \(\d+\)$")).click()
    expect(product_page).to_have_url(re.compile(r"/cart$"))
    expect(product_page.locator(f".cart-line[data-sku='{picker_product['sku']['red', 'L']}']")).to_contain_text(
        "red, size L"
    )


def test_missing_choice_and_bad_quantity_are_explained_before_sending(product_page: Page) -> None:
    url = product_page.url
    product_page.get_by_role("button", name="Add to cart").click()
    expect(product_page.locator("#picker-problem")).to_have_text("Choose a size first.")
    expect(size_radio(product_page, "S")).to_be_focused()
    assert product_page.url == url
    size_radio(product_page, "M").check()
    for wrong in ("0", "100", "2.5"):
        product_page.fill("input[name=quantity]", wrong)
        product_page.get_by_role("button", name="Add to cart").click()
        expect(product_page.locator("#quantity-problem")).to_have_text(
            "The quantity must be a whole number from 1 to 99."
        )
        expect(product_page.locator("input[name=quantity]")).to_be_focused()
    assert product_page.url == url
    PageChecks(DESKTOP, phone=False, start=30)(product_page, "picker-problems")


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("", "Could not update the cart: choose a size first"),
        ("form.querySelector('input[name=colour]:checked').checked = false;", "choose a colour first"),
        ("form.querySelector('input[name=size][value=M]').checked = true; form.quantity.value = '-1';", "1 to 99"),
        ("form.querySelector('input[name=size][value=M]').checked = true; form.quantity.value = '100';", "1 to 99"),
        (
            "form.querySelector('input[name=size][value=M]').checked = true; "
            "form.quantity.type = 'text'; form.quantity.value = 'two';",
            "the quantity must be a whole number from 1 to 99",
        ),
        (
            "form.querySelector('input[value=red]').checked = true; "
            "const m = form.querySelector('input[name=size][value=M]'); m.disabled = false; m.checked = true;",
            "red, size M is sold out",
        ),
    ],
    ids=["no-size", "no-colour", "quantity-negative", "quantity-too-big", "quantity-not-a-number", "sold-out"],
)
def test_the_server_explains_what_a_form_without_browser_checks_lacks(
    product_page: Page, prepare: str, message: str
) -> None:
    count = product_page.get_by_test_id("cart-count").inner_text()
    product_page.evaluate(f"() => {{ const form = document.getElementById('picker'); {prepare} form.submit(); }}")
    product_page.wait_for_load_state("load")
    problem = product_page.locator("#picker-problem, #quantity-problem").filter(has_text=message)
    expect(problem).to_have_count(1)
    expect(problem).to_have_attribute("role", "alert")
    expect(product_page.get_by_test_id("cart-count")).to_have_text(count)


@pytest.fixture
def no_script_page(browser: Browser, playwright: Playwright) -> Iterator[Page]:
    context = browser.new_context(**context_options(playwright, "iphone-se"), java_script_enabled=False)
    yield open_page(context)
    context.close()


def test_the_picker_works_without_javascript(
    no_script_page: Page, live_server: ShopServer, picker_product: dict[str, Any]
) -> None:
    page = no_script_page
    page.goto(f"{live_server.url}/products/{picker_product['slug']}")
    page.get_by_role("radio", name="red").tap()
    size_radio(page, "L").tap()
    page.fill("input[name=quantity]", "3")
    page.get_by_role("button", name="Add to cart").tap()
    expect(page.get_by_role("status")).to_contain_text(f"3 {TIMES} Picker Test Hoodie — red, size L")
    # A size sold out in the chosen colour is refused by the server, with the reason next to the sizes.
    page.get_by_role("radio", name="red").tap()
    size_radio(page, "M").tap()
    page.get_by_role("button", name="Add to cart").tap()
    expect(page.locator("#picker-problem")).to_contain_text("red, size M is sold out")
    expect(page.get_by_role("radio", name="red")).to_be_checked()
    page.get_by_role("link", name=re.compile("^Cart")).tap()
    expect(page.locator(f".cart-line[data-sku='{picker_product['sku']['red', 'L']}']")).to_contain_text("red, size L")
