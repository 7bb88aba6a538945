"""Typed domain errors; ``web`` maps each to one HTTP status in one place."""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error a shopper can cause or meet."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(ShopError):
    """The request carries a value the shop cannot accept (names the field)."""


class NotFound(ShopError):
    """The thing does not exist, or belongs to someone else."""


class Conflict(ShopError):
    """The request is valid but the shop's state refuses it (sold out, line limit, empty cart)."""


class PaymentDeclined(ShopError):
    """The card was refused."""


class AuthenticationRequired(ShopError):
    """The shopper must log in first."""


class InvalidCredentials(ShopError):
    """Unknown e-mail or wrong password: one message for both."""


class TooManyAttempts(ShopError):
    """Too many failed logins; try later."""


class Forbidden(ShopError):
    """Logged in, but not allowed (admin only)."""


class StoreUnavailable(ShopError):
    """A backing store (cart/session store) cannot be reached right now."""
