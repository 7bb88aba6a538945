"""What the use cases call out to besides storage: password hashing, the message bus, payments."""

from __future__ import annotations

from typing import Protocol

from myclothes.domain.events import Event
from myclothes.domain.payments import CardPayment


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """False for a wrong password, and for ``None`` (unknown account) after the same work."""
        ...


class EventPublisher(Protocol):
    """Hands what changed to its subscribers (the message bus); called after the change committed."""

    async def publish(self, *events: Event) -> None: ...


class PaymentGateway(Protocol):
    """Authorizes a card payment; raises ``InvalidInput`` for malformed card fields, ``PaymentDeclined``."""

    async def authorize(self, card_number: str, card_expiry: str, card_cvc: str) -> CardPayment: ...
