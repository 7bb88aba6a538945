"""Carts in the client's cookie: no server state at all.

The cookie value is ``base64url(version | nonce | AES-256-GCM(msgpack([expires_at, [[sku, qty], ...]])))``. The
key is derived (HKDF-SHA256) from each of ``MYCLOTHES_SECRET_KEYS``: the first encrypts, every one decrypts, so keys
rotate without emptying carts. The expiry is inside the authenticated plaintext. A tampered, truncated, expired or
foreign cookie reads as an empty cart, is logged once and counted in ``myclothes_cart_cookie_rejected_total``.

No ``Set-Cookie`` header ever exceeds 4096 bytes (name, value and attributes): an add that would overflow is refused
and the cart stays as it was. With seeded SKUs (15 to 21 characters) a full 100-line cart takes 2.5 to 3.3 KB of
header; with the longest possible SKUs (40 characters) 67 lines fit.

The cart belongs to the browser, not the account, and concurrent requests from one browser are last-writer-wins:
each response carries the cart as that request saw it.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from prometheus_client import Counter

from myclothes.carts.base import check_add
from myclothes.domain.cart import MAX_QUANTITY, CartLine, MergeChange, merge_lines, validate_quantity
from myclothes.domain.errors import Conflict

log = logging.getLogger("myclothes.carts.cookie")
COOKIE_NAME = "myclothes_cart"
MAX_SET_COOKIE = 4096
VERSION = b"\x01"
AAD = b"myclothes_cart:v1"
NONCE_BYTES = 12
REJECTED = Counter("myclothes_cart_cookie_rejected_total", "Cart cookies refused", ["reason"])
OVERSIZE_MESSAGE = "Your cart is full: it no longer fits in your browser's cookie. Remove an item first."


class CookieRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _derive(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"myclothes cart cookie v1").derive(
        secret.encode()
    )
    return AESGCM(key)


class CartCookieCodec:
    """Seals and opens cart cookies."""

    def __init__(self, secret_keys: tuple[str, ...], lifetime_s: int) -> None:
        if not secret_keys:
            raise ValueError("the cookie cart store needs at least one secret key")
        self._ciphers = [_derive(secret) for secret in secret_keys]
        self.lifetime_s = lifetime_s

    def seal(self, lines: list[CartLine], now: float) -> str:
        plaintext = msgspec.msgpack.encode([int(now + self.lifetime_s), [[line.sku, line.quantity] for line in lines]])
        nonce = os.urandom(NONCE_BYTES)
        sealed = VERSION + nonce + self._ciphers[0].encrypt(nonce, plaintext, AAD)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, value: str, now: float) -> list[CartLine]:
        """The cart in ``value``; raise :class:`CookieRejected` with ``tampered`` or ``expired``."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise CookieRejected("tampered") from None
        if len(raw) < 1 + NONCE_BYTES + 16 or raw[:1] != VERSION:
            raise CookieRejected("tampered")
        nonce, ciphertext = raw[1 : 1 + NONCE_BYTES], raw[1 + NONCE_BYTES :]
        for cipher in self._ciphers:
            try:
                plaintext = cipher.decrypt(nonce, ciphertext, AAD)
                break
            except InvalidTag:
                continue
        else:
            raise CookieRejected("tampered")
        try:
            expires_at, pairs = msgspec.msgpack.decode(plaintext, type=tuple[int, list[tuple[str, int]]])
        except msgspec.DecodeError:
            raise CookieRejected("tampered") from None
        if expires_at <= now:
            raise CookieRejected("expired")
        return [CartLine(sku, quantity) for sku, quantity in pairs]


def set_cookie_header(value: str, max_age: int, secure: bool) -> str:
    """The exact ``Set-Cookie`` value sent for a cart (used for the size guard, too)."""
    header = f"{COOKIE_NAME}={value}; Max-Age={max_age}; Path=/; SameSite=Lax; HttpOnly"
    return header + "; Secure" if secure else header


class CookieJar(Protocol):
    """Where the store finds the sealed cart of ``cart_id`` (a browser) and leaves the new one."""

    def load(self, cart_id: str) -> str | None: ...

    def save(self, cart_id: str, value: str | None) -> None: ...


@dataclass
class BrowserCart:
    """One request's cart cookie: what came in, what goes out."""

    incoming: str | None
    outgoing: str | None = None
    changed: bool = False
    lines: list[CartLine] | None = field(default=None)


_request_cart: contextvars.ContextVar[BrowserCart | None] = contextvars.ContextVar("cart_cookie", default=None)


class RequestJar:
    """The production jar: the cookie of the request being served (every cart id is this browser's cart)."""

    def load(self, cart_id: str) -> str | None:
        state = _request_cart.get()
        if state is None:
            return None
        return state.outgoing if state.changed else state.incoming

    def save(self, cart_id: str, value: str | None) -> None:
        state = _request_cart.get()
        if state is None:
            raise RuntimeError("cookie cart used outside a request")
        state.outgoing, state.changed = value, True


class CookieCartStore:
    name = "cookie"

    def __init__(self, codec: CartCookieCodec, secure: bool, jar: CookieJar | None = None) -> None:
        self.codec = codec
        self.secure = secure
        self.jar: CookieJar = jar or RequestJar()

    # -- the request boundary (ClientStateCarrier) --------------------------------------------------------------

    def begin(self, cookies: dict[str, str]) -> contextvars.Token[BrowserCart | None]:
        return _request_cart.set(BrowserCart(incoming=cookies.get(COOKIE_NAME)))

    def set_cookie_headers(self) -> list[str]:
        state = _request_cart.get()
        if state is None or not state.changed:
            return []
        if state.outgoing is None:
            return [set_cookie_header("", 0, self.secure)]
        return [set_cookie_header(state.outgoing, self.codec.lifetime_s, self.secure)]

    def end(self, token: contextvars.Token[BrowserCart | None]) -> None:
        _request_cart.reset(token)

    # -- CartStore ----------------------------------------------------------------------------------------------

    async def lines(self, cart_id: str) -> list[CartLine]:
        return self._read(cart_id)

    async def add(self, cart_id: str, sku: str, quantity: int, limit: int = MAX_QUANTITY) -> list[CartLine]:
        lines = self._read(cart_id)
        current = {line.sku: line.quantity for line in lines}
        new_quantity = check_add(current.get(sku), len(lines), quantity, limit)
        if sku in current:
            lines = [CartLine(s, new_quantity if s == sku else q) for s, q in current.items()]
        else:
            lines = [*lines, CartLine(sku, new_quantity)]
        return self._write(cart_id, lines)

    async def set_quantity(self, cart_id: str, sku: str, quantity: int) -> list[CartLine]:
        validate_quantity(quantity, allow_zero=True)
        lines = self._read(cart_id)
        current = {line.sku: line.quantity for line in lines}
        if quantity == 0:
            return self._write(cart_id, [line for line in lines if line.sku != sku])
        if sku not in current:
            check_add(None, len(lines), quantity)
            return self._write(cart_id, [*lines, CartLine(sku, quantity)])
        return self._write(cart_id, [CartLine(s, quantity if s == sku else q) for s, q in current.items()])

    async def remove(self, cart_id: str, sku: str) -> list[CartLine]:
        return await self.set_quantity(cart_id, sku, 0)

    async def clear(self, cart_id: str) -> None:
        self._write(cart_id, [])

    async def merge(self, source_id: str, target_id: str) -> list[MergeChange]:
        """Move one cookie's lines into another's. In the web tier a browser has one cart, so logging in keeps it
        as it is and never calls this with two different ids."""
        if source_id == target_id:
            return []
        source = self._read(source_id)
        if not source:
            return []
        merged, changes = merge_lines(source, self._read(target_id))
        self._write(target_id, merged)
        self._write(source_id, [])
        return changes

    async def ping(self) -> bool:
        """Nothing to reach: True when the current key seals a cart that opens again."""
        probe = [CartLine("PING", 1)]
        now = time.time()
        return self.codec.open(self.codec.seal(probe, now), now) == probe

    def _read(self, cart_id: str) -> list[CartLine]:
        value = self.jar.load(cart_id)
        if not value:
            return []
        try:
            return self.codec.open(value, time.time())
        except CookieRejected as rejected:
            REJECTED.labels(reason=rejected.reason).inc()
            log.warning("cart cookie rejected (%s): treated as an empty cart", rejected.reason)
            self.jar.save(cart_id, None)  # the bad cookie is replaced once, then never logged again
            return []

    def _write(self, cart_id: str, lines: list[CartLine]) -> list[CartLine]:
        if not lines:
            self.jar.save(cart_id, None)
            return []
        value = self.codec.seal(lines, time.time())
        if len(set_cookie_header(value, self.codec.lifetime_s, self.secure)) > MAX_SET_COOKIE:
            REJECTED.labels(reason="oversize").inc()
            raise Conflict(OVERSIZE_MESSAGE, field="sku")
        self.jar.save(cart_id, value)
        return lines
