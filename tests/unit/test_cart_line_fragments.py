"""The cart page's lines, rendered once per distinct line (``web/pages/fragments.py``): what each shopper sees is
what rendering the line for them would give, their own CSRF input in both of its forms."""

from __future__ import annotations

import re

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from myclothes.domain.cart import PricedLine
from myclothes.domain.catalog import format_price
from myclothes.web.app import PAGES
from myclothes.web.pages.fragments import CSRF_SLOT, LineFragments


def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(PAGES / "templates"), autoescape=True)
    environment.filters["price"] = format_price
    return environment


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="_csrf_token" value="{token}" />'


LINE = PricedLine("TEE-NAVY-M", "Navy tee", "navy-tee", "M", "Navy", 1999, 2, 10)


def test_each_shopper_gets_their_own_csrf_input_in_both_forms_of_a_kept_line() -> None:
    environment = _environment()
    lines = LineFragments(environment)
    first, second = lines(LINE, _csrf("a" * 64)), lines(LINE, _csrf("b" * 64))  # the second is the kept one
    assert isinstance(first, Markup)
    assert first.count(_csrf("a" * 64)) == 2 and "b" * 64 not in first
    assert second.count(_csrf("b" * 64)) == 2 and "a" * 64 not in second
    direct = environment.get_template("cart_line.html").render(line=LINE, csrf=Markup(_csrf("b" * 64)))
    assert str(second) == direct  # what rendering it for that shopper gives
    assert 'data-sku="TEE-NAVY-M"' in second and "$39.98" in second and 'value="2"' in second


def test_a_changed_line_is_rendered_anew() -> None:
    lines = LineFragments(_environment())
    assert 'value="2"' in lines(LINE, _csrf("a"))
    changed = PricedLine(LINE.sku, LINE.name, LINE.slug, LINE.size, LINE.colour, 2499, 3, LINE.stock)
    again = lines(changed, _csrf("a"))
    assert 'value="3"' in again and "$74.97" in again and "$39.98" not in again


def test_a_name_that_looks_like_the_slot_is_escaped_and_splits_nothing() -> None:
    hostile = PricedLine("X-1", f"Tee {CSRF_SLOT} <b>bold</b>", "tee", "M", "Navy", 1000, 1, 5)
    shown = LineFragments(_environment())(hostile, _csrf("t" * 64))
    assert shown.count(_csrf("t" * 64)) == 2  # only the template's own slots
    assert "&lt;csrf-input&gt;" in shown and "<b>" not in shown
    assert not re.search(r"<csrf-input>", str(shown))
