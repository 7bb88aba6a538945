"""The test card gateway: Luhn-valid numbers pay, one documented number is always declined."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from myclothes.domain.errors import InvalidInput, PaymentDeclined

DECLINED_CARD = "4000000000000002"


def luhn_valid(number: str) -> bool:
    """The Luhn checksum over a string of digits."""
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class CardPayment:
    last4: str


def authorize(number: str, expiry: str, cvc: str, today: dt.date) -> CardPayment:
    """Validate the card fields and "charge" the card; raise InvalidInput or PaymentDeclined."""
    digits = re.sub(r"[ -]", "", number or "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise InvalidInput("must be 12 to 19 digits", field="card_number")
    if not luhn_valid(digits):
        raise InvalidInput("is not a valid card number (checksum)", field="card_number")
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry or "")
    if not match:
        raise InvalidInput("must look like MM/YY", field="card_expiry")
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        raise InvalidInput("month must be 01 to 12", field="card_expiry")
    if (year, month) < (today.year, today.month):
        raise InvalidInput("card has expired", field="card_expiry")
    if not re.fullmatch(r"\d{3,4}", (cvc or "").strip()):
        raise InvalidInput("must be 3 or 4 digits", field="card_cvc")
    if digits == DECLINED_CARD:
        raise PaymentDeclined("Your card was declined. Try another card.", field="card_number")
    return CardPayment(last4=digits[-4:])
