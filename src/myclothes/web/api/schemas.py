"""Request bodies and response shapes of the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import Parameter
from msgspec import Meta

from myclothes.domain.cart import MAX_QUANTITY, CartView, PricedLine
from myclothes.domain.catalog import PRICE_MAX, STOCK_MAX
from myclothes.domain.customers import (
    EMAIL_PATTERN,
    PASSWORD_MAX,
    PASSWORD_MIN,
    Address,
    AddressFields,
    Customer,
    postal_fields,
)
from myclothes.domain.orders import Order
from myclothes.domain.text import NO_NUL, NOT_SPACE, SPACE

# The request fields' rules, as the OpenAPI document states them and the decoder enforces them (400 naming the
# field). Text the shop trims must hold a non-blank character; patterns allowing whitespace around a value describe
# exactly what the domain accepts once it has trimmed it. Whitespace is spelled out (domain/text.py) so a pattern
# means the same to the fuzzer's regexes as to ours; a trailing newline, which Python's ``$`` lets through, is
# always whitespace around the value.
Plain = Annotated[str, Meta(pattern=NO_NUL)]
KEY = Parameter(pattern=NO_NUL)  # a path's slug or SKU
Sku = Annotated[str, Meta(min_length=1, max_length=40, pattern=NO_NUL)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_QUANTITY, description="1..99")]
Password = Annotated[str, Meta(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
Price = Annotated[int, Meta(ge=1, le=PRICE_MAX, description="integer cents")]
Stock = Annotated[int, Meta(gt=-1, le=STOCK_MAX)]  # gt=-1, not ge=0: Litestar leaves a zero bound out of the document


def text(high: int, *, required: bool = True) -> Meta:
    """Free text of at most ``high`` characters; ``required``: not blank."""
    if required:
        return Meta(min_length=1, max_length=high, pattern=rf"^[^\x00]*{NOT_SPACE}[^\x00]*$")
    return Meta(max_length=high, pattern=NO_NUL)


def trimmed(pattern: str) -> str:
    """``pattern`` (a value once trimmed), with any whitespace around it."""
    return f"^{SPACE}*(?:{pattern}){SPACE}*$"


class CartAdd(msgspec.Struct):
    sku: Sku
    quantity: Quantity = 1


class CartSet(msgspec.Struct):
    quantity: Annotated[int, Meta(gt=-1, le=MAX_QUANTITY, description="0 removes the line")]


class Register(msgspec.Struct):
    email: Annotated[str, Meta(max_length=254, pattern=trimmed(EMAIL_PATTERN), examples=["ada@example.com"])]
    password: Password
    name: Annotated[str, text(100)]


class Login(msgspec.Struct):
    email: Plain
    password: str


class PasswordChange(msgspec.Struct):
    current_password: str
    new_password: Annotated[Password, Meta(description="not the current password")]


# A phone number once trimmed: an optional +, then 5 to 30 of digits, spaces, ()- (first and last not a space).
PHONE = trimmed(r"(?:\+[0-9 ()-]{4,28}[0-9()-]|[0-9()-][0-9 ()-]{3,28}[0-9()-])?")


class AddressBody(msgspec.Struct):
    full_name: Annotated[str, text(100)]
    line1: Annotated[str, text(200)]
    city: Annotated[str, text(100)]
    postal_code: Annotated[str, Meta(max_length=20, pattern=trimmed("[A-Za-z0-9][A-Za-z0-9 -]*"))]
    country: Annotated[
        str, Meta(pattern=trimmed("[A-Za-z]{2}"), description="ISO 3166 two-letter code", examples=["GB"])
    ]
    line2: Annotated[str, text(200, required=False)] = ""
    phone: Annotated[str, Meta(max_length=30, pattern=PHONE)] = ""
    is_default: bool = False

    def fields(self) -> AddressFields:
        return AddressFields(
            self.full_name,
            self.line1,
            self.city,
            self.postal_code,
            self.country,
            self.line2,
            self.phone,
            self.is_default,
        )


class CheckoutBody(msgspec.Struct):
    address_id: Annotated[int, Meta(description="one of the customer's addresses")]
    card_number: Annotated[
        str, Meta(max_length=64, pattern=r"^[ -]*(?:[0-9][ -]*){12,19}$", description="12 to 19 digits, Luhn-valid")
    ]
    card_expiry: Annotated[
        str, Meta(pattern=trimmed(f"(?:0?[1-9]|1[0-2]){SPACE}*/{SPACE}*(?:[0-9]{{2}}|[0-9]{{4}})"), description="MM/YY")
    ]
    card_cvc: Annotated[str, Meta(pattern=trimmed("[0-9]{3,4}"))]


class NewProduct(msgspec.Struct):
    category: Annotated[str, Meta(pattern=NO_NUL, description="a category's slug (GET /api/categories)")]
    name: Annotated[str, text(120)]
    price: Price
    sizes: Annotated[list[Annotated[str, text(10)]], Meta(min_length=1, max_length=100)]
    colours: Annotated[list[Annotated[str, text(30)]], Meta(min_length=1, max_length=100)]
    description: Annotated[str, text(2000, required=False)] = ""
    stock: Stock = 0


class ProductChange(msgspec.Struct):
    name: Annotated[str, text(120)] | None = None
    description: Annotated[str, text(2000, required=False)] | None = None


class VariantChange(msgspec.Struct):
    price: Price | None = None
    stock: Stock | None = None


def cart_json(cart: CartView, **extra: Any) -> dict[str, Any]:
    return {"items": [_item_json(line) for line in cart.items], "count": cart.count, "total": cart.total, **extra}


class EncodedCart:
    """``cart_json`` encoded as JSON, byte for byte as msgspec encodes it, each line's item encoded once and kept.

    ``CartService`` hands back the same ``PricedLine`` object for a line whose quantity, price and stock have not
    changed, so most of a cart's lines are the same objects from one answer to the next; an item is kept by the
    object's identity (the cache holds the object, so its id cannot be reused while it is kept)."""

    def __init__(self, kept: int = 8192) -> None:
        self.kept = kept
        self._items: dict[int, tuple[PricedLine, bytes]] = {}
        self._encode = msgspec.json.Encoder().encode

    def __call__(self, cart: CartView) -> bytes:
        items = self._items
        parts = []
        count = total = 0  # ``cart.count`` and ``cart.total``, summed in the same pass
        for line in cart.items:
            known = items.get(id(line))
            if known is None or known[0] is not line:
                if len(items) >= self.kept:
                    items.clear()
                known = items[id(line)] = (line, self._encode(_item_json(line)))
            parts.append(known[1])
            count += line.quantity
            total += line.unit_price * line.quantity
        return b'{"items":[%b],"count":%d,"total":%d}' % (b",".join(parts), count, total)


def _item_json(line: PricedLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "slug": line.slug,
        "size": line.size,
        "colour": line.colour,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "line_total": line.line_total,
    }


def customer_json(customer: Customer) -> dict[str, Any]:
    return {"id": customer.id, "email": customer.email, "name": customer.name, "is_admin": customer.is_admin}


def address_json(address: Address) -> dict[str, Any]:
    return {"id": address.id, **postal_fields(address), "is_default": address.is_default}


def order_json(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status,
        "created_at": order.created_at,
        "total": order.total,
        "count": order.count,
        "card_last4": order.card_last4,
        "ship_to": order.ship_to,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "size": line.size,
                "colour": line.colour,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "line_total": line.line_total,
            }
            for line in order.lines
        ],
    }
