"""The hottest answers, given in pure ASGI in front of Litestar, byte for byte as its handlers give them.

- ``GET /healthz``: the same bytes every time, encoded once. It needs no session and no CSRF token (its handler is
  excluded from CSRF), so nothing but the edge runs.
- ``GET /api/products/{slug}`` from a shopper without a session cookie (a first visit, a crawler, a cache in front
  of us): the catalog's answer, encoded once per cached product and stock badges (``CatalogService`` hands back the
  same object until either changes) instead of on every request. What the full stack does for such a request is
  done here too: read-your-writes starts from no position (``track_session_lsn(None)``), a CSRF cookie is minted
  when the request has none the first key signed (``RotatingCSRFMiddleware``), the request runs under the request
  deadline (``RequestDeadlineMiddleware``) and errors answer as ``web/errors.py`` answers them on /api.
- The cart API: ``GET /api/cart``, ``POST /api/cart/items``, ``PUT /api/cart/items/{sku}`` with the CSRF token in
  its header: the session opened (guarded for a write, one round trip), the cart changed and encoded
  (``EncodedCart``), the session saved, as ``SessionMiddleware`` and the handlers do.
- ``POST /cart/add``, the product page's add-to-cart form, as a browser sends it (urlencoded, the token in its
  hidden field): ``pages.cart.add_from_form`` (the handler's own code) between the session's open and save, then
  the 303. A refusal is told on the next page as the handler tells it; an outage, the deadline or a bug go to
  Litestar's error pages (``TRIED_AND_FAILED``), never tried twice.

Everything else goes to Litestar: a guest's product with a session (their session holds their read-your-writes
position, and its idle expiry slides), a store that keeps state in cookies (the ``cookie`` cart store), a query
string, another method, a body the lane does not read as Litestar would, a path Litestar would refuse or redirect.
The fast lane only ever answers what the full stack would; ``tests/integration/test_fast_lane.py`` checks the two
against each other (a query string sends the same request through Litestar). Through Litestar's routing, signature
model, dependency injection and three middlewares these answers cost up to 2-3x more (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar._parsers import parse_url_encoded_form_data
from litestar.middleware.csrf import generate_csrf_token
from litestar.utils import url_quote

from myclothes.domain.cart import CartView
from myclothes.domain.errors import ShopError
from myclothes.services.shopper_cart import ShopperCart
from myclothes.web.api.schemas import CartAdd, CartSet, EncodedCart
from myclothes.web.csrf import cookie_names, scope_cookies, set_cookie_header, verified_token
from myclothes.web.deadline import RequestDeadlineMiddleware
from myclothes.web.errors import RETRY_AFTER_S, api_problem
from myclothes.web.pages.cart import add_from_form
from myclothes.web.session import TRIED_AND_FAILED

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
FORM_ADD = "/cart/add"  # the product page's add-to-cart form
FORM_TYPE = b"application/x-www-form-urlencoded"  # what a browser sends it as
CartAction = Callable[[ShopperCart, Any], Awaitable[CartView]]
ENCODED_KEPT = 4096  # products whose encoded answer is kept
JSON = (b"content-type", b"application/json")
TEXT = (b"content-type", b"text/plain; charset=utf-8")  # a redirect's, as Litestar's ``Redirect`` gives it
UNEXPECTED = "Something went wrong on our side. Please try again."
_encode = msgspec.json.Encoder().encode


class FastLane:
    """Answers what the module docstring lists, or says it will not (``route`` returns None)."""

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
        if path == FORM_ADD and method == "POST" and (signed := self._form_csrf(scope)) is not None:
            scope["path_template"] = FORM_ADD
            scope["fast_lane"] = signed
            return self._form_add
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

    def _form_csrf(self, scope: Any) -> str | None:
        """A browser's form (urlencoded, no token header) with a CSRF cookie a configured key signed: the cookie's
        random part, which the form's ``_csrf_token`` must carry too; anything else is Litestar's to judge."""
        content_type = None
        for key, value in scope["headers"]:
            if key == b"x-csrftoken":
                return None
            if key == b"content-type":
                content_type = value
        cookie = scope_cookies(scope).get(self.csrf_cookie)
        if content_type != FORM_TYPE or cookie is None:
            return None
        return verified_token(cookie, self.shop.settings.secret_keys)

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
        chunks = await _read_body(receive)
        if chunks is None:
            return  # the client went away
        try:
            data = None if chunks[-1] is None else msgspec.json.decode(_joined(chunks), type=kind)
        except msgspec.MsgspecError:
            data = None
        if data is None:  # too large or not what the document types: Litestar answers it
            assert self.full is not None
            await self.full(scope, _replay(chunks, receive), send)
            return
        await self._with_cart(scope, receive, send, scope_cookies(scope), action, data, [], with_cart=False)

    async def _form_add(self, scope: Any, receive: Any, send: Any) -> None:
        """The add-to-cart form as ``SessionMiddleware``, the CSRF check and ``pages.cart.cart_add`` answer it: the
        session opened guarded, the add (or the refusal told on the next page), the session saved, 303 onwards.

        A form the lane does not read as Litestar would (a field sent twice, a body too large) or whose token does
        not match goes to Litestar as it came. An outage, the deadline or an unexpected error is answered by
        Litestar's error pages: the request goes there with what failed (``TRIED_AND_FAILED``), which
        ``SessionMiddleware`` raises at once, so nothing is tried twice."""
        assert self.full is not None
        chunks = await _read_body(receive)
        if chunks is None:
            return
        data = None if chunks[-1] is None else _form_fields(_joined(chunks))
        token = None if data is None else data.get("_csrf_token")
        if data is None or token is None or verified_token(token, self.shop.settings.secret_keys) != scope["fast_lane"]:
            await self.full(scope, _replay(chunks, receive), send)
            return
        sessions = self.shop.sessions
        session_id = scope_cookies(scope).get(self.session_cookie)
        answered = False

        async def act(scope: Any, receive: Any, send: Any) -> None:
            nonlocal answered
            session = await sessions.open(session_id, with_cart=False, guarded=True)
            scope["state"]["shopper"] = session
            to = await add_from_form(self.shop.catalog, ShopperCart(self.shop.carts, sessions, session), data)
            cookie = await sessions.save(session, had_cookie=session_id is not None)
            headers = [(b"location", url_quote(to).encode()), TEXT, (b"content-length", b"0")]
            if cookie is not None:
                headers.append(self._session_cookie(cookie.value, cookie.max_age))
            answered = True
            await send(_start(303, headers))
            await send({"type": "http.response.body", "body": b""})

        try:
            await self.deadline.handle(scope, receive, send, act)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if answered:
                raise
            scope[TRIED_AND_FAILED] = error
            await self.full(scope, _replay(chunks, receive), send)

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


async def _read_body(receive: Any) -> list[Any] | None:
    """The request's body messages, up to ``BODY_MAX`` bytes read, and a last ``None`` when there is more to read;
    None when the client went away."""
    chunks: list[Any] = []
    size, more = 0, True
    while more and size <= BODY_MAX:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message)
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    if more:
        chunks.append(None)
    return chunks


def _joined(chunks: list[Any]) -> bytes:
    return b"".join(message.get("body", b"") for message in chunks)


def _form_fields(body: bytes) -> dict[str, str] | None:
    """A urlencoded form's fields parsed as Litestar parses them; None when a field comes twice (Litestar's
    CSRF check and the handler would read different copies of it) or the body holds NUL (the pages' 400,
    ``contract.refuse_nul``)."""
    if b"\x00" in unquote_to_bytes(body):
        return None
    fields = parse_url_encoded_form_data(body)
    if any(not isinstance(value, str) for value in fields.values()):
        return None
    return fields  # type: ignore[return-value]


def _replay(chunks: list[Any], receive: Any) -> Any:
    """``receive`` giving back the body messages already read, then the client's own."""
    pending = [message for message in chunks if message is not None]

    async def replayed() -> Any:
        return pending.pop(0) if pending else await receive()

    return replayed
