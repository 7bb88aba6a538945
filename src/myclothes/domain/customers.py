"""Customers and their address book."""

from __future__ import annotations

import re
from dataclasses import dataclass

from myclothes.domain.errors import InvalidInput
from myclothes.domain.text import WHITESPACE

EMAIL_PATTERN = (  # no whitespace or NUL in the local part (spelled out: domain/text.py)
    f"[^@{WHITESPACE}\\x00]{{1,64}}@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?(?:\\.[A-Za-z0-9-]{{1,63}})+"
)
EMAIL_RE = re.compile(f"^{EMAIL_PATTERN}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 200
MAX_ADDRESSES = 20


def normalize_email(email: str, *, validate: bool = True) -> str:
    """An e-mail address as the shop keys accounts by it: trimmed and lower-cased.

    Registration validates it (``InvalidInput``); a login only looks it up (``validate=False``: a malformed
    address is just an unknown account, cut to the longest that could exist).
    """
    value = (email or "").strip()
    if not validate:
        return value.lower()[:254]
    if len(value) > 254 or not EMAIL_RE.match(value):  # checked before lower-casing, which can lengthen it
        raise InvalidInput("is not a valid e-mail address", field="email")
    return value.lower()


def validate_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise InvalidInput(f"must be at least {PASSWORD_MIN} characters", field="password")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"must be at most {PASSWORD_MAX} characters", field="password")


def validate_name(name: str, field: str = "name") -> str:
    value = (name or "").strip()
    if not 1 <= len(value) <= 100:
        raise InvalidInput("must be 1 to 100 characters", field=field)
    return value


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    email: str
    name: str
    is_admin: bool = False
    sessions_valid_from: float = 0.0  # a session logged in before this (epoch seconds) is no longer valid


@dataclass(frozen=True, slots=True)
class AddressFields:
    """An address as entered: validated by :meth:`cleaned`."""

    full_name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    phone: str = ""
    is_default: bool = False

    def cleaned(self) -> AddressFields:
        full_name = validate_name(self.full_name, "full_name")
        line1 = _text(self.line1, "line1", 1, 200)
        line2 = _text(self.line2, "line2", 0, 200)
        city = _text(self.city, "city", 1, 100)
        postal_code = _text(self.postal_code, "postal_code", 1, 20)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]*", postal_code):
            raise InvalidInput("may contain only letters, digits, spaces and hyphens", field="postal_code")
        country = _text(self.country, "country", 2, 2).upper()
        if not country.isalpha():
            raise InvalidInput("must be a two-letter country code such as US or KR", field="country")
        phone = _text(self.phone, "phone", 0, 30)
        if phone and not re.fullmatch(r"\+?[0-9 ()-]{5,30}", phone):
            raise InvalidInput("must contain digits, spaces, ()- and an optional leading +", field="phone")
        return AddressFields(full_name, line1, city, postal_code, country, line2, phone, bool(self.is_default))


@dataclass(frozen=True, slots=True)
class Address:
    id: int
    full_name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    country: str
    phone: str
    is_default: bool

    def lines(self) -> list[str]:
        """The address as printed on a label."""
        parts = [self.full_name, self.line1, self.line2, f"{self.postal_code} {self.city}", self.country, self.phone]
        return [part for part in parts if part]


def _text(value: str, field: str, low: int, high: int) -> str:
    text = (value or "").strip()
    if not low <= len(text) <= high:
        if low == high:
            raise InvalidInput(f"must be exactly {low} characters", field=field)
        raise InvalidInput("is required" if low and not text else f"must be {low} to {high} characters", field=field)
    return text


POSTAL_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


def postal_fields(address: AddressFields | Address) -> dict[str, str]:
    """The address as written on a parcel (what an order keeps as ``ship_to``), in label order."""
    return {name: getattr(address, name) for name in POSTAL_FIELDS}
