"""Request ids and structured logs: one JSON line per request, every log line carrying the request's id.

The load balancer names each request (HAProxy's ``unique-id-format``, sent as ``X-Request-ID``); a web process
takes that id when it looks like one (letters, digits and ``.:_-``, up to 64 characters) and makes its own
otherwise, returns it in ``X-Request-ID`` and logs, as the answer starts, one line: id, method, route, status,
duration (until the answer's headers), instance, zone, cart store. Everything logged while the request runs (a
warning, an error with its traceback) carries the same ``request_id``, so the id a shopper reads from a response
finds every line about it. Logs are JSON lines on standard error, rendered by structlog (stdlib loggers included).

The per-request line is the hottest log call there is: ``web/edge.py`` builds it and encodes it with msgspec, in
the same JSON shape as every other line, and ``write_line`` writes it, instead of the standard library's records,
handlers and formatter. Ids made here are a random per-process prefix and a counter (32 hex
digits, unique across processes) instead of a ``uuid4`` and its system call per request.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import re
import sys
from collections.abc import Callable
from typing import Any

import structlog
from litestar import Request
from litestar.types import Scope

from myclothes.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_PREFIX = os.urandom(8).hex()
_COUNTER = itertools.count(1)


def _new_prefix() -> None:
    """A forked worker names its requests with a prefix of its own (a spawned one imports this module anew)."""
    global _PREFIX
    _PREFIX = os.urandom(8).hex()


os.register_at_fork(after_in_child=_new_prefix)


def _line_writer() -> Callable[[bytes], None]:
    """How the per-request line reaches the current standard error: on its descriptor, the lines of one turn of the
    event loop in one ``write`` system call (no buffer kept past that turn, so a killed process loses at most the
    lines of the turn it was killed in), or the stream itself when it has none (a test's capture)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        stream = sys.stderr

        def to_stream(line: bytes) -> None:
            stream.write(line.decode() + "\n")
            stream.flush()

        return to_stream
    return _TurnWriter(fd)


class _TurnWriter:
    """Lines gathered while the event loop runs one turn's callbacks and written together once they are done.

    Under load, one turn completes several requests: 32-connection bench runs wrote 9-10 lines per call on the cart
    paths and 30 on ``/healthz``, where each line was one ``write`` system call of its own. Outside an event loop a
    line is written at once; lines left at exit are written by an ``atexit`` hook."""

    def __init__(self, fd: int, write: Callable[[int, memoryview], int] = os.write) -> None:
        self.fd = fd
        self.write = write
        self.pending: list[bytes] = []
        atexit.register(self.flush)

    def __call__(self, line: bytes) -> None:
        pending = self.pending
        pending.append(line)
        if len(pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no event loop: now
                self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        pending.append(b"")
        data = memoryview(b"\n".join(pending))
        while data:
            data = data[self.write(self.fd, data) :]


write_line = _line_writer()


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
    global write_line
    write_line = _line_writer()
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
