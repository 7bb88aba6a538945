"""Orders: an immutable snapshot of what was bought, at what price, shipped where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    name: str
    size: str
    colour: str
    unit_price: int
    quantity: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    status: str
    created_at: str
    total: int
    card_last4: str
    ship_to: dict[str, str]
    lines: tuple[OrderLine, ...] = ()

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)
