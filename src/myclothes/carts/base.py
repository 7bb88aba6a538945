"""What every cart store shares: the contract's checks, made once."""

from __future__ import annotations

from myclothes.domain.cart import MAX_LINES, MAX_QUANTITY, validate_quantity
from myclothes.domain.errors import Conflict

LINE_LIMIT_MESSAGE = f"a cart holds at most {MAX_LINES} different items"
QUANTITY_LIMIT_MESSAGE = f"at most {MAX_QUANTITY} of one item per order"


def check_add(existing_quantity: int | None, line_count: int, quantity: int) -> int:
    """Validate an add against the line in the cart (None when absent); return the new quantity."""
    validate_quantity(quantity)
    if existing_quantity is None:
        if line_count >= MAX_LINES:
            raise Conflict(LINE_LIMIT_MESSAGE, field="sku")
        return quantity
    if existing_quantity + quantity > MAX_QUANTITY:
        raise Conflict(f"{QUANTITY_LIMIT_MESSAGE} (you have {existing_quantity})", field="quantity")
    return existing_quantity + quantity
