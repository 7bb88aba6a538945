"""The test card gateway: any Luhn-valid, unexpired card pays, except the one documented declined number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from myclothes.domain.payments import CardPayment, authorize


class LuhnTestGateway:
    """Charges nothing: the card rules of ``domain/payments.py`` decide."""

    def __init__(self, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.today = today

    async def authorize(self, card_number: str, card_expiry: str, card_cvc: str) -> CardPayment:
        return authorize(card_number, card_expiry, card_cvc, self.today())
