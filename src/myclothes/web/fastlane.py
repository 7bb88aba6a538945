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

from myclothes.domain.errors import ShopError
from myclothes.web.csrf import cookie_names, scope_cookies, set_cookie_header, verified_token
from myclothes.web.deadline import RequestDeadlineMiddleware
from myclothes.web.errors import RETRY_AFTER_S, api_problem

if TYPE_CHECKING:
    from myclothes.bootstrap import Shop

log = logging.getLogger("myclothes.web")
ASGICall = Callable[[Any, Any, Any], Awaitable[None]]
PRODUCTS = "/api/products/"
PRODUCT_ROUTE = "/api/products/{slug}"  # the route label Litestar's router gives (the metrics' ``route``)
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
        self.products = shop.client_state is None  # a cookie cart store reads and rewrites cookies on every answer
        health = _encode({"status": "ok", "instance": settings.instance})
        self._health_start = _start(200, [JSON, (b"content-length", str(len(health)).encode())])
        self._health_body = {"type": "http.response.body", "body": health}
        self._encoded: dict[str, tuple[object, bytes]] = {}  # slug -> (the catalog's answer, its JSON)

    def route(self, scope: Any) -> ASGICall | None:
        """The fast answer for this request, or None: Litestar answers it."""
        if scope["method"] != "GET" or scope.get("query_string"):
            return None
        path = scope["path"]
        if path == "/healthz":
            scope["path_template"] = "/healthz"
            return self._healthz
        if self.products and path.startswith(PRODUCTS):
            slug = path[len(PRODUCTS) :]
            if slug and "/" not in slug and "\x00" not in slug:
                cookies = scope_cookies(scope)
                if self.session_cookie not in cookies:
                    scope["path_template"] = PRODUCT_ROUTE
                    scope["fast_lane"] = (slug, cookies.get(self.csrf_cookie))
                    return self._product
        return None

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

        try:
            await self.deadline.handle(scope, receive, send, lookup)
        except ShopError as error:  # the deadline passed before an answer (StoreUnavailable)
            if not answered:
                status, problem = api_problem(error)
                await _answer(send, status, _encode(problem), extra)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error on GET %s", scope["path"])
            if not answered:
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
