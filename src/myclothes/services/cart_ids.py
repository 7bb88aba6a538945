"""The cart-id policy: which cart a shopper's session points to, and what login and logout do to it. The composition
root picks one with the cart store: ``AccountCarts``, or ``BrowserCarts`` when the cart lives in the browser."""

from __future__ import annotations

from typing import Protocol

from myclothes.ports import SessionState


class CartIds(Protocol):
    """The cart-id policy: which cart a session's shopper has, and what login and logout do to it."""

    def cart_of(self, state: SessionState) -> str | None:
        """The cart's key, or None while the shopper has none."""
        ...

    def to_merge_at_login(self, state: SessionState) -> str | None:
        """The cart to merge into the account's when this session logs in."""
        ...

    def to_empty_at_logout(self, state: SessionState) -> str | None:
        """The cart to empty when this session logs out."""
        ...


class AccountCarts:
    """The cart follows the account (``c:<id>``); a guest gets ``g:<random>``, merged into the account's at login."""

    def cart_of(self, state: SessionState) -> str | None:
        if state.customer_id is not None:
            return f"c:{state.customer_id}"
        return state.guest_cart

    def to_merge_at_login(self, state: SessionState) -> str | None:
        return state.guest_cart if state.customer_id is None else None

    def to_empty_at_logout(self, state: SessionState) -> str | None:
        return None


class BrowserCarts:
    """The cart belongs to the browser (kept in its cookie), whoever is logged in: login keeps it as it is, logout
    empties it (a shared computer must not hand the next person the last one's cart)."""

    CART_ID = "browser"

    def cart_of(self, state: SessionState) -> str | None:
        return self.CART_ID

    def to_merge_at_login(self, state: SessionState) -> str | None:
        return None

    def to_empty_at_logout(self, state: SessionState) -> str | None:
        return self.CART_ID if state.customer_id is not None else None
