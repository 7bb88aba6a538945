"""Pure domain rules: payments, cart quantities and merges, customers, catalog queries."""

from __future__ import annotations

import datetime as dt

import pytest

from myclothes.domain.cart import CartLine, describe_merge, merge_lines, validate_quantity
from myclothes.domain.catalog import CatalogQuery, format_price, slugify, stock_state
from myclothes.domain.customers import AddressFields, normalize_email, validate_password
from myclothes.domain.errors import InvalidInput, PaymentDeclined
from myclothes.domain.payments import DECLINED_CARD, authorize, luhn_valid

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize("number", ["4242424242424242", "5555555555554444", "378282246310005", "4000000000000002"])
def test_luhn_accepts_valid_test_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234567812345678", "", "abcd"])
def test_luhn_rejects_invalid_numbers(number: str) -> None:
    assert not luhn_valid(number)


def test_authorize_returns_the_last_four_digits() -> None:
    assert authorize("4242 4242 4242 4242", "11/26", "123", TODAY).last4 == "4242"


def test_the_documented_card_is_always_declined() -> None:
    with pytest.raises(PaymentDeclined):
        authorize(DECLINED_CARD, "12/30", "123", TODAY)


@pytest.mark.parametrize(
    ("number", "expiry", "cvc", "field"),
    [
        ("4242", "12/30", "123", "card_number"),
        ("4242424242424241", "12/30", "123", "card_number"),
        ("4242424242424242", "10/26", "123", "card_expiry"),
        ("4242424242424242", "00/30", "123", "card_expiry"),
        ("4242424242424242", "1230", "123", "card_expiry"),
        ("4242424242424242", "12/30", "12a", "card_cvc"),
    ],
)
def test_authorize_names_the_bad_field(number: str, expiry: str, cvc: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        authorize(number, expiry, cvc, TODAY)
    assert error.value.field == field


@pytest.mark.parametrize("quantity", [0, 100, -3, True, 1.5])
def test_quantity_must_be_1_to_99(quantity: object) -> None:
    with pytest.raises(InvalidInput):
        validate_quantity(quantity)  # type: ignore[arg-type]


def test_zero_is_allowed_where_it_means_remove() -> None:
    assert validate_quantity(0, allow_zero=True) == 0


def test_merge_sums_and_caps_at_99() -> None:
    merged, changes = merge_lines([CartLine("A", 2), CartLine("B", 80)], [CartLine("B", 30), CartLine("C", 1)])
    assert {line.sku: line.quantity for line in merged} == {"A": 2, "B": 99, "C": 1}
    assert [(c.sku, c.added, c.capped) for c in changes] == [("A", 2, False), ("B", 69, True)]
    messages = describe_merge(changes, {"A": "Tee", "B": "Hoodie"})
    assert messages == ["Tee: added 2 from your guest cart (now 2).", "Hoodie: quantity capped at 99 (now 99)."]


def test_stock_states() -> None:
    assert [stock_state(n) for n in (0, 1, 5, 6)] == ["sold_out", "low", "low", "in_stock"]


def test_prices_and_slugs() -> None:
    assert format_price(123456) == "$1,234.56"
    assert format_price(5) == "$0.05"
    assert slugify("  Classic Tee! (Blue) ") == "classic-tee-blue"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"page": 0}, "page"),
        ({"per_page": 101}, "per_page"),
        ({"sort": "x"}, "sort"),
        ({"min_price": 10, "max_price": 5}, "min_price"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_catalog_query_validation(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        CatalogQuery(**kwargs)
    assert error.value.field == field


def test_email_is_normalized_and_validated() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ("ada", "ada@", "@example.com", "a b@example.com", "ada@example"):
        with pytest.raises(InvalidInput):
            normalize_email(bad)


def test_password_length() -> None:
    validate_password("x" * 10)
    with pytest.raises(InvalidInput):
        validate_password("x" * 9)


def test_address_is_cleaned() -> None:
    cleaned = AddressFields(" Ada ", " 1 Main St ", "London", "N1 9GU", "gb").cleaned()
    assert (cleaned.full_name, cleaned.line1, cleaned.country) == ("Ada", "1 Main St", "GB")
    with pytest.raises(InvalidInput) as error:
        AddressFields("Ada", "1 Main", "London", "N1", "G1").cleaned()
    assert error.value.field == "country"
