"""Every error becomes a clear response in one place: JSON on /api, a friendly page elsewhere. Never a traceback."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Message, Scope

from myclothes.domain.errors import (
    AuthenticationRequired,
    Conflict,
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PaymentDeclined,
    ShopError,
    StoreUnavailable,
    TooManyAttempts,
)
from myclothes.web.requestlog import served

log = logging.getLogger("myclothes.web")

STATUS: dict[type[ShopError], int] = {
    InvalidInput: 400,
    AuthenticationRequired: 401,
    InvalidCredentials: 401,
    PaymentDeclined: 402,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyAttempts: 429,
    StoreUnavailable: 503,
}
# How long a client should wait before trying again: a failover (Redis Sentinel, Patroni) completes in a few
# seconds; failed-login limits last much longer.
RETRY_AFTER_S = {429: 60, 503: 2}
TITLES = {
    400: "That did not look right",
    401: "Please log in",
    402: "Payment declined",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "That could not be done",
    413: "Too large",
    429: "Too many attempts",
    503: "Temporarily unavailable",
}


def status_of(error: ShopError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api") or "application/json" in request.headers.get("accept", "").split(",")[0]


def _validation_problem(error: ValidationException) -> tuple[str, dict[str, Any] | None]:
    """The decoder's complaints as one sentence, and the field at fault when there is one."""
    problems, fields = [], []
    for item in error.extra or []:
        if isinstance(item, dict):
            key = item.get("key")
            message = re.sub(
                r"matching regex .*", "in the form the API document gives", str(item.get("message", "invalid"))
            )
            problems.append(f"{key}: {message}" if key else message)
            if key:
                fields.append(str(key))
    detail = "; ".join(problems) if problems else str(error.detail)
    return detail, {"field": fields[0]} if fields else None


def _respond(
    request: Request[Any, Any, Any], status: int, detail: str, extra: dict[str, Any] | None = None
) -> Response[Any]:
    if is_api(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail}
        if extra:
            body.update(extra)
        return Response(body, status_code=status, media_type=MediaType.JSON)
    return Template(
        template_name="error.html",
        context={
            "status": status,
            "title": TITLES.get(status, "Something went wrong"),
            "detail": detail,
            "served": served(request),
        },
        status_code=status,
    )


def shop_error_handler(request: Request[Any, Any, Any], error: ShopError) -> Response[Any]:
    status = status_of(error)
    if status == 401 and not is_api(request) and request.method == "GET":
        return Redirect(f"/account/login?next={quote(request.url.path)}")
    extra = {"field": error.field} if error.field else None
    return _respond(request, status, problem_detail(error), extra)


def problem_detail(error: ShopError) -> str:
    """What an error answer says: the field's name and the message when the error names a field."""
    return str(error) if error.field else error.message


def api_problem(error: ShopError) -> tuple[int, dict[str, Any]]:
    """The status and the JSON body of an error on /api (what ``shop_error_handler`` answers there)."""
    status = status_of(error)
    body: dict[str, Any] = {"status_code": status, "detail": problem_detail(error)}
    if error.field:
        body["field"] = error.field
    return status, body


async def add_retry_after(message: Message, _scope: Scope) -> None:
    """A ``before_send`` hook: every 429 and 503, whoever rendered it (a page re-shown with its error included),
    says when to try again."""
    if message["type"] == "http.response.start" and message["status"] in RETRY_AFTER_S:
        headers = MutableScopeHeaders.from_message(message)
        if "retry-after" not in headers:
            headers["retry-after"] = str(RETRY_AFTER_S[message["status"]])


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    if status >= 500:
        log.error("http error %s on %s %s: %s", status, request.method, request.url.path, error.detail)
        return _respond(request, status, "Something went wrong on our side. Please try again.")
    if isinstance(error, ValidationException):
        return _respond(request, status, *_validation_problem(error))
    detail = str(error.detail)
    if status == 403 and "CSRF" in detail:
        detail = "Your form expired or the request lacked its CSRF token; reload the page and try again."
    response = _respond(request, status, detail)
    if error.headers:
        response.headers.update(error.headers)
    return response


def unexpected_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ShopError: shop_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
