"""Request bodies and response shapes of the JSON API."""

from __future__ import annotations

from typing import Any

import msgspec

from myclothes.domain.cart import CartView
from myclothes.domain.customers import Address, AddressFields, Customer, postal_fields
from myclothes.domain.orders import Order


class CartAdd(msgspec.Struct):
    sku: str
    quantity: int = 1


class CartSet(msgspec.Struct):
    quantity: int


class Register(msgspec.Struct):
    email: str
    password: str
    name: str


class Login(msgspec.Struct):
    email: str
    password: str


class PasswordChange(msgspec.Struct):
    current_password: str
    new_password: str


class AddressBody(msgspec.Struct):
    full_name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    phone: str = ""
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
    address_id: int
    card_number: str
    card_expiry: str
    card_cvc: str


class NewProduct(msgspec.Struct):
    category: str
    name: str
    price: int
    sizes: list[str]
    colours: list[str]
    description: str = ""
    stock: int = 0


class ProductChange(msgspec.Struct):
    name: str | None = None
    description: str | None = None


class VariantChange(msgspec.Struct):
    price: int | None = None
    stock: int | None = None


def cart_json(cart: CartView, **extra: Any) -> dict[str, Any]:
    return {
        "items": [
            {
                "sku": line.sku,
                "name": line.name,
                "slug": line.slug,
                "size": line.size,
                "colour": line.colour,
                "unit_price": line.unit_price,
                "quantity": line.quantity,
                "line_total": line.line_total,
            }
            for line in cart.items
        ],
        "count": cart.count,
        "total": cart.total,
        **extra,
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
