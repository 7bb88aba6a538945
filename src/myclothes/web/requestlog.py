"""Request ids and structured logs: one JSON line per request, every log line carrying the request's id.

The load balancer names each request (HAProxy's ``unique-id-format``, sent as ``X-Request-ID``); a web process
takes that id when it looks like one (letters, digits and ``.:_-``, up to 64 characters) and makes its own
otherwise, returns it in ``X-Request-ID`` and logs, as the answer starts, one line: id, method, route, status,
duration (until the answer's headers), instance, zone, cart store. Everything logged while the request runs (a
warning, an error with its traceback) carries the same ``request_id``, so the id a shopper reads from a response
finds every line about it. Logs are JSON lines on standard error, rendered by structlog (stdlib loggers included).

The per-request line is the hottest log call there is: it goes through structlog's own fast path (a filtering
bound logger writing bytes, rendered by msgspec) instead of the standard library's records, handlers and formatter,
in the same JSON shape as every other line. Ids made here are a random per-process prefix and a counter (32 hex
digits, unique across processes) instead of a ``uuid4`` and its system call per request.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import msgspec
import structlog
from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send

from myclothes.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
log = structlog.get_logger("myclothes.request")
_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def _new_prefix() -> None:
    """A forked worker names its requests with a prefix of its own (a spawned one imports this module anew)."""
    global _PREFIX
    _PREFIX = os.urandom(8).hex()


os.register_at_fork(after_in_child=_new_prefix)


def _add_name(_logger: object, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["logger"] = "myclothes.request"
    return event


def _request_logger() -> Any:
    """The per-request line's logger on the current standard error: structlog's fast path, with the keys of every
    other line (``configure_logging`` makes it, as it makes the standard library's handler)."""
    stream = getattr(sys.stderr, "buffer", None)
    logger: Any = structlog.BytesLogger(stream) if stream is not None else structlog.PrintLogger(sys.stderr)

    def render(_logger: object, _name: str, event: MutableMapping[str, Any]) -> bytes | str:
        encoded = msgspec.json.encode(event)
        return encoded if stream is not None else encoded.decode()

    return structlog.wrap_logger(
        logger,
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _add_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            render,
        ],
        cache_logger_on_first_use=True,
    )


lines = _request_logger()


def new_request_id() -> str:
    """32 hex digits: this process's random prefix and its request count."""
    return f"{_PREFIX}{next(_COUNTER):016x}"


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on standard error for structlog and the standard library's loggers alike."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    global lines
    lines = _request_logger()
    for noisy in ("uvicorn.error", "uvicorn"):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = True


def request_id_of(scope: Scope) -> str:
    """The request's id: the load balancer's when it sent a usable one, else one made here (kept in the scope)."""
    state = scope.setdefault("state", {})
    found = state.get("request_id")
    if found is None:
        given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), "")
        found = given if given and _ACCEPTED_ID.fullmatch(given) else new_request_id()
        state["request_id"] = found
    return str(found)


class RequestLogMiddleware(ASGIMiddleware):
    """Binds the request id for every log line of the request, and logs the request once when it is answered."""

    def __init__(self, settings: Settings) -> None:
        self.fields = {"instance": settings.instance, "zone": settings.zone, "cart_store": settings.cart_store}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = request_id_of(scope)
        started = time.perf_counter()
        logged = False

        def log_request(status: int | None) -> None:
            lines.info(
                "request",
                method=scope.get("method"),
                route=scope.get("path_template") or scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                **self.fields,
            )

        async def send_wrapper(message: Message) -> None:
            nonlocal logged
            if message["type"] == "http.response.start":
                logged = True
                log_request(message["status"])  # before the answer leaves: whoever has the id finds the line
            await send(message)

        scope["state"]["request_logged"] = True
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            if not logged:
                log_request(None)  # no answer started (the client went away, or the request was cut off)
            structlog.contextvars.reset_contextvars(**bound)


def request_id_header(settings: Settings) -> BeforeMessageSendHookHandler:
    """A ``before_send`` hook: every answer, routed or not, names its request id; one that no route took (the
    router's 404 and 405, which no middleware sees) is logged here, without a duration."""
    fields = {"instance": settings.instance, "zone": settings.zone, "cart_store": settings.cart_store}

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            request_id = request_id_of(scope)
            message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER_BYTES, request_id.encode())]
            if not scope["state"].get("request_logged"):
                lines.info(
                    "request",
                    request_id=request_id,
                    method=scope.get("method"),
                    route="unmatched",
                    status=message["status"],
                    duration_ms=None,
                    **fields,
                )

    return hook


def served(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    """What the page footer tells the shopper about the architecture that answered (None before the shop is up)."""
    shop = request.app.state.get("shop")
    if shop is None:
        return None
    settings: Settings = shop.settings
    return {
        "instance": settings.instance,
        "zone": settings.zone,
        "cart_store": settings.cart_store,
        "cache": settings.cache,
        "request_id": request_id_of(request.scope),
    }
