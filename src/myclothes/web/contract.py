"""What the OpenAPI document promises about refusals: every status an operation can answer, with one error body.

Handlers name their operation's refusals with :func:`refusals`; the statuses every request can meet (a deadline or
an unreachable session store: 503) and those of unsafe methods (CSRF: 403; a body: 400, 413) come from the flags,
so no handler repeats them. OPTIONS answers name the same methods as the document (:func:`exact_allow`), and a JSON
body is held to its types strictly (:func:`strict_json_body`).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import Message, Scope

from myclothes.domain.errors import InvalidInput


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every JSON error: the status again, a sentence for people and, when one input is at fault, its name."""

    status_code: int
    detail: str
    field: str | None = None


WHY = {
    400: "The request breaks a rule of this document or of the shop; `field` names the input at fault.",
    401: "Log in first (or the session ended).",
    402: "The card was declined.",
    403: "Not allowed: an admin-only operation, or the CSRF token (cookie `csrftoken`, `__Host-csrftoken` on "
    "HTTPS, echoed in `X-CSRFToken`) is missing or wrong.",
    404: "No such thing, or it belongs to someone else.",
    409: "Valid, but the shop's state refuses it (stock, limits, an e-mail already registered, an empty cart).",
    413: "The request body is too large.",
    429: "Too many attempts; `Retry-After` says when to try again.",
    503: "A store the request needs is unreachable or the request ran out of time; `Retry-After` says when to retry.",
}


def refusals(*statuses: int, unsafe: bool = False, body: bool = False) -> dict[int, ResponseSpec]:
    """The error responses of one operation: ``statuses`` plus 503 for every request, 403 (CSRF) for an ``unsafe``
    method, 400 and 413 when it takes a ``body``."""
    every = {503, *statuses}
    if unsafe:
        every.add(403)
    if body:
        every |= {400, 413}
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=WHY.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in sorted(every)
    }


async def exact_allow(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: an OPTIONS answer's ``Allow`` lists every method of its path. (Litestar writes it when
    a path's first handler is registered and does not update it for the handlers added after.)"""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" in headers:
        routes = scope["litestar_app"].routes
        methods = {
            method for route in routes if route.path_format == scope["path_template"] for method in route.methods
        }
        headers["allow"] = ", ".join(sorted(methods))


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook for /api: a JSON body is decoded strictly against the handler's ``data`` type, as the
    document types it. (Litestar converts leniently: ``"2"`` would count as the integer 2 and ``0`` as false.)
    Malformed JSON is left to Litestar's own 400."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    try:
        msgspec.json.decode(await request.body(), type=data.annotation)
    except msgspec.ValidationError as error:
        message, _, path = str(error).partition(" - at `$")
        key = path.rstrip("`").lstrip(".")
        if missing := re.search(r"missing required field `([^`]+)`", message):
            key = f"{key}.{missing[1]}".lstrip(".")
        raise ValidationException(detail=message, extra=[{"key": key or None, "message": message}]) from None
    except msgspec.DecodeError:
        return


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook for the HTML pages: no path, query or form holds U+0000, which PostgreSQL cannot
    store or compare (the API states the same rule in its document)."""
    query = unquote_to_bytes(request.scope["query_string"])
    body = unquote_to_bytes(await request.body()) if request.method == "POST" else b""
    if "\x00" in request.scope["path"] or b"\x00" in query or b"\x00" in body:
        raise InvalidInput("text may not contain the NUL character (U+0000)")
