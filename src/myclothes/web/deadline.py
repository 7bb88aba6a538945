"""A deadline per request: whatever a request waits on, the shopper has an answer within ``REQUEST_DEADLINE_S``.

Each dependency call is bounded on its own (see ``redisconn.py``, ``carts/redis.py``, ``db/engine.py``); this is
the backstop for the sum of them. A request that has sent nothing when its deadline passes is cancelled and
answers 503 with ``Retry-After`` (JSON on /api, the error page elsewhere, through the usual error handlers); one
that has started its response is cut short, since its status line is already gone.
"""

from __future__ import annotations

import asyncio
import logging

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter

from myclothes.domain.errors import StoreUnavailable

log = logging.getLogger("myclothes.web.deadline")
DEADLINES_EXCEEDED = Counter("myclothes_request_deadline_exceeded_total", "Requests cut off by their deadline")
TOO_SLOW = "The shop is answering too slowly right now. Please try again in a few seconds."


class RequestDeadlineMiddleware(ASGIMiddleware):
    """Bounds every request to ``deadline_s`` seconds."""

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        deadline = asyncio.timeout(self.deadline_s)
        try:
            async with deadline:
                await next_app(scope, receive, send_started)
        except TimeoutError:
            if not deadline.expired():
                raise  # a timeout of the application's own, handled like any error
            DEADLINES_EXCEEDED.inc()
            log.warning("%s %s exceeded its %gs deadline", scope.get("method", ""), scope["path"], self.deadline_s)
            if not started:
                raise StoreUnavailable(TOO_SLOW) from None
