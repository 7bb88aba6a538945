"""A deadline per request: whatever a request waits on, the shopper has an answer within ``REQUEST_DEADLINE_S``.

Each dependency call is bounded on its own (see ``redisconn.py``, ``carts/redis.py``, ``db/engine.py``); this is
the backstop for the sum of them. A request that has sent nothing when its deadline passes is cancelled and
answers 503 with ``Retry-After`` (JSON on /api, the error page elsewhere, through the usual error handlers); one
that has started its response is cut short, since its status line is already gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter

from myclothes.domain.errors import StoreUnavailable

log = logging.getLogger("myclothes.web.deadline")
DEADLINES_EXCEEDED = Counter("myclothes_request_deadline_exceeded_total", "Requests cut off by their deadline")
TOO_SLOW = "The shop is answering too slowly right now. Please try again in a few seconds."


class RequestDeadlineMiddleware(ASGIMiddleware):
    """Bounds every request to ``deadline_s`` seconds (give or take ``SWEEP_S``).

    One timer per process instead of one per request: requests are kept in the order they started (their deadlines
    are in the same order) and a sweep every ``SWEEP_S`` cancels those whose deadline passed. A request pays a dict
    insert and delete instead of an ``asyncio.timeout`` (a timer handle pushed on the loop's heap and cancelled); the
    throughput difference was within the noise of the bench (docs/performance.md). A cancellation the sweep did
    not send is passed on."""

    SWEEP_S = 0.1

    def __init__(self, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self._running: dict[asyncio.Task[Any], float] = {}  # in start order, so in deadline order
        self._expired: set[asyncio.Task[Any]] = set()
        self._sweeping: asyncio.AbstractEventLoop | None = None  # the loop a sweep is scheduled on

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        running = self._running
        while running:
            task, due = next(iter(running.items()))
            if due > now:
                break
            del running[task]
            self._expired.add(task)
            task.cancel()
        self._sweeping = loop if running else None
        if running:
            loop.call_later(self.SWEEP_S, self._sweep)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        self._running[task] = loop.time() + self.deadline_s
        if self._sweeping is not loop:
            self._sweeping = loop
            loop.call_later(self.SWEEP_S, self._sweep)
        try:
            await next_app(scope, receive, send_started)
        except asyncio.CancelledError:
            if task not in self._expired:
                raise  # cancelled from outside (the client left, the server stops)
            self._expired.discard(task)
            task.uncancel()
            DEADLINES_EXCEEDED.inc()
            log.warning("%s %s exceeded its %gs deadline", scope.get("method", ""), scope["path"], self.deadline_s)
            if not started:
                raise StoreUnavailable(TOO_SLOW) from None
        finally:
            self._running.pop(task, None)
            self._expired.discard(task)
