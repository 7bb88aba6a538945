"""The two hottest read-only answers, given in pure ASGI in front of Litestar, byte for byte as its handlers give them.

- ``GET /healthz``: the same bytes every time, encoded once. It needs no session and no CSRF token (its handler is
  excluded from CSRF), so nothing but the edge runs.
- ``GET /api/products/{slug}`` from a shopper without a session cookie (a first visit, a crawler, a cache in front
  of us): the catalog's answer, encoded once per cached product and stock badges (``CatalogService`` hands back the
  same object until either changes) instead of on every request. What the full stack does for such a request is
  done here too: read-your-writes starts from no position (``track_session_lsn(None)``), a CSRF cookie is minted
  when the request has none the first key signed (``RotatingCSRFMiddleware``), the request runs under the request
  deadline (``RequestDeadlineMiddleware``) and errors answer as ``web/errors.py`` answers them on /api.

Everything else goes to Litestar: a shopper with a session (their session holds their read-your-writes position,
and its idle expiry slides), a store that keeps state in cookies (the ``cookie`` cart store), a query string,
another method, a path Litestar would refuse or redirect. The fast lane only ever answers what the full stack
would; ``tests/unit/web/test_fastlane.py`` checks the two against each other. Through Litestar's routing,
signature model, dependency injection and three middlewares these two answers cost 2-3x more (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.middleware.csrf import generate_csrf_token

from myclothes.domain.cart import CartView
from myclothes.domain.errors import ShopError
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.api.schemas import CartAdd, CartSet, EncodedCart
from myclothes.web.csrf import cookie_names, scope_cookies, set_cookie_header, verified_token
from myclothes.web.deadline import RequestDeadlineMiddleware
from myclothes.web.errors import RETRY_AFTER_S, api_problem

if TYPE_CHECKING:
    from myclothes.bootstrap import Shop

log = logging.getLogger("myclothes.web")
ASGICall = Callable[[Any, Any, Any], Awaitable[None]]
PRODUCTS = "/api/products/"
PRODUCT_ROUTE = "/api/products/{slug}"  # the route labels Litestar's router gives (the metrics' ``route``)
CART = "/api/cart"
CART_ITEMS = "/api/cart/items"
CART_ITEM = "/api/cart/items/"
CART_ITEM_ROUTE = "/api/cart/items/{sku}"
BODY_MAX = 16 * 1024  # a cart write's JSON is tens of bytes; a larger body is Litestar's to judge
CartAction = Callable[[ShopperCart, Any], Awaitable[CartView]]
ENCODED_KEPT = 4096  # products whose encoded answer is kept
JSON = (b"content-type", b"application/json")
UNEXPECTED = "Something went wrong on our side. Please try again."
_encode = msgspec.json.Encoder().encode


class FastLane:
    """Answers ``/healthz`` and a guest's product JSON, or says it will not (``route`` returns None)."""

    def __init__(self, shop: Shop, deadline: RequestDeadlineMiddleware) -> None:
        settings = shop.settings
        self.shop = shop
        self.deadline = deadline
        self.session_cookie, self.csrf_cookie = cookie_names(settings.cookie_secure)
        self.first_key = settings.secret_keys[:1]
        self._set_csrf = set_cookie_header(self.csrf_cookie, settings.cookie_secure)
        # A store that keeps state in cookies (the ``cookie`` cart store) reads and rewrites them on every answer.
        self.stateless_client = shop.client_state is None
        health = _encode({"status": "ok", "instance": settings.instance})
        self._health_start = _start(200, [JSON, (b"content-length", str(len(health)).encode())])
        self._health_body = {"type": "http.response.body", "body": health}
        self._encoded: dict[str, tuple[object, bytes]] = {}  # slug -> (the catalog's answer, its JSON)
        self.full: ASGICall | None = None  # Litestar, for a cart write whose body it must judge (set by the app)
        self._session_cookie = set_cookie_header(self.session_cookie, settings.cookie_secure)
        self._encoded_cart = EncodedCart()  # a cart's answer, each line's item encoded once

    def route(self, scope: Any) -> ASGICall | None:
        """The fast answer for this request, or None: Litestar answers it."""
        if scope.get("query_string"):
            return None
        path, method = scope["path"], scope["method"]
        if path == "/healthz" and method == "GET":
            scope["path_template"] = "/healthz"
            return self._healthz
        if not self.stateless_client:
            return None
        if path.startswith(PRODUCTS) and method == "GET":
            slug = path[len(PRODUCTS) :]
            if slug and "/" not in slug and "\x00" not in slug:
                cookies = scope_cookies(scope)
                if self.session_cookie not in cookies:
                    scope["path_template"] = PRODUCT_ROUTE
                    scope["fast_lane"] = (slug, cookies.get(self.csrf_cookie))
                    return self._product
            return None
        if path.startswith(CART):
            return self._cart_route(scope, path)
        return None

    def _cart_route(self, scope: Any, path: str) -> ASGICall | None:
        method = scope["method"]
        if method == "GET" and path == CART:
            scope["path_template"] = CART
            return self._cart_view
        if method == "POST" and path == CART_ITEMS and self._unsafe_allowed(scope):
            scope["path_template"] = CART_ITEMS
            scope["fast_lane"] = (CartAdd, _add)
            return self._cart_write
        if method == "PUT" and path.startswith(CART_ITEM) and self._unsafe_allowed(scope):
            sku = path[len(CART_ITEM) :]
            if sku and "/" not in sku and "\x00" not in sku:
                scope["path_template"] = CART_ITEM_ROUTE
                scope["fast_lane"] = (CartSet, _setter(sku))
                return self._cart_write
        return None

    def _unsafe_allowed(self, scope: Any) -> bool:
        """A JSON body and the CSRF token in both the cookie and the header, signed with a configured key and the
        same; anything else is Litestar's to refuse (403, 415, 400) in its words."""
        token = content_type = None
        for key, value in scope["headers"]:
            if key == b"x-csrftoken":
                token = value
            elif key == b"content-type":
                content_type = value
        if token is None or content_type != b"application/json":
            return False
        cookie = scope_cookies(scope).get(self.csrf_cookie)
        secrets = self.shop.settings.secret_keys
        if cookie is None or (signed := verified_token(cookie, secrets)) is None:
            return False
        return verified_token(token.decode("latin-1"), secrets) == signed

    async def _healthz(self, scope: Any, receive: Any, send: Any) -> None:
        await send(dict(self._health_start, headers=list(self._health_start["headers"])))
        await send(self._health_body)

    async def _product(self, scope: Any, receive: Any, send: Any) -> None:
        slug, csrf = scope["fast_lane"]
        extra: list[tuple[bytes, bytes]] = []
        if csrf is None or verified_token(csrf, self.first_key) is None:
            extra.append(self._set_csrf(generate_csrf_token(self.first_key[0]), None))
        answered = False

        async def lookup(scope: Any, receive: Any, send: Any) -> None:
            nonlocal answered
            self.shop.database.track_session_lsn(None)
            try:
                body = await self._product_json(slug)
            except ShopError as error:
                status, problem = api_problem(error)
                answered = True
                await _answer(send, status, _encode(problem), extra)
                return
            answered = True
            await _answer(send, 200, body, extra)

        await self._bounded(scope, receive, send, lookup, extra, lambda: answered)

    async def _cart_view(self, scope: Any, receive: Any, send: Any) -> None:
        cookies = scope_cookies(scope)
        csrf = cookies.get(self.csrf_cookie)
        extra: list[tuple[bytes, bytes]] = []
        if csrf is None or verified_token(csrf, self.first_key) is None:
            extra.append(self._set_csrf(generate_csrf_token(self.first_key[0]), None))
        await self._with_cart(scope, receive, send, cookies, _view, None, extra, with_cart=True)

    async def _cart_write(self, scope: Any, receive: Any, send: Any) -> None:
        kind, action = scope["fast_lane"]
        chunks, body, more = [], b"", True
        while more and len(body) <= BODY_MAX:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            data = None if more else msgspec.json.decode(body, type=kind)
        except msgspec.MsgspecError:
            data = None
        if data is None:  # too large or not what the document types: Litestar answers it
            assert self.full is not None
            await self.full(scope, _replay(chunks, receive), send)
            return
        await self._with_cart(scope, receive, send, scope_cookies(scope), action, data, [], with_cart=False)

    async def _with_cart(
        self,
        scope: Any,
        receive: Any,
        send: Any,
        cookies: dict[str, str],
        action: CartAction,
        data: Any,
        extra: list[tuple[bytes, bytes]],
        with_cart: bool,
    ) -> None:
        """What ``SessionMiddleware`` and a cart handler do: open the session, act on the cart, save the session
        (and set its cookie) before the answer starts, errors answered as on /api, all under the deadline."""
        sessions = self.shop.sessions
        session_id = cookies.get(self.session_cookie)
        answered = False

        async def act(scope: Any, receive: Any, send: Any) -> None:
            nonlocal answered
            # a cart write starts from this process's copy of the session and carries its guard (one round trip)
            session = await sessions.open(session_id, with_cart=with_cart, guarded=not with_cart)
            scope["state"]["shopper"] = session
            status = 200
            try:
                view = await action(ShopperCart(self.shop.carts, sessions, session), data)
                body = self._encoded_cart(view)
            except ShopError as error:
                status, problem = api_problem(error)
                body = _encode(problem)
            cookie = await sessions.save(session, had_cookie=session_id is not None)
            headers = extra if cookie is None else [self._session_cookie(cookie.value, cookie.max_age), *extra]
            answered = True
            await _answer(send, status, body, headers)

        await self._bounded(scope, receive, send, act, extra, lambda: answered)

    async def _bounded(
        self, scope: Any, receive: Any, send: Any, app: ASGICall, extra: list[tuple[bytes, bytes]], answered: Any
    ) -> None:
        """Run ``app`` under the request deadline; answer 503 if it passes first, 500 for an unexpected error."""
        try:
            await self.deadline.handle(scope, receive, send, app)
        except ShopError as error:  # the deadline passed before an answer (StoreUnavailable)
            if not answered():
                status, problem = api_problem(error)
                await _answer(send, status, _encode(problem), extra)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not answered():
                await _answer(send, 500, _encode({"status_code": 500, "detail": UNEXPECTED}), extra)

    async def _product_json(self, slug: str) -> bytes:
        answer = await self.shop.catalog.product(slug)
        kept = self._encoded.get(slug)
        if kept is not None and kept[0] is answer:
            return kept[1]
        body = _encode(answer)
        if len(self._encoded) >= ENCODED_KEPT:
            self._encoded.clear()
        self._encoded[slug] = (answer, body)
        return body


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


async def _answer(send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [JSON, (b"content-length", str(len(body)).encode()), *extra]
    if status in RETRY_AFTER_S:
        headers.append((b"retry-after", str(RETRY_AFTER_S[status]).encode()))
    await send(_start(status, headers))
    await send({"type": "http.response.body", "body": body})


async def _view(cart: ShopperCart, _data: None) -> CartView:
    return await cart.view()


async def _add(cart: ShopperCart, data: CartAdd) -> CartView:
    return await cart.add(data.sku, data.quantity)


def _setter(sku: str) -> CartAction:
    async def set_quantity(cart: ShopperCart, data: CartSet) -> CartView:
        return await cart.set_quantity(sku, data.quantity)

    return set_quantity


def _replay(chunks: list[Any], receive: Any) -> Any:
    """``receive`` giving back the body messages already read, then the client's own."""
    pending = list(chunks)

    async def replayed() -> Any:
        return pending.pop(0) if pending else await receive()

    return replayed
