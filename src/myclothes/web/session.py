"""The session cookie: a random id (256 bits) in an HttpOnly, SameSite=Lax cookie. What the session means, and
when it is created, rotated or destroyed, is ``services/sessions.py``; this middleware only carries it."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from myclothes.ports import ClientStateCarrier
from myclothes.services.sessions import SessionService
from myclothes.web.csrf import cookie_names, scope_cookies, set_cookie_header

# Forms whose handlers change only the cart, through ``ShopperCart`` (which carries the guard), and notices.
GUARDED_FORMS = frozenset({"/cart/add", "/cart/update"})
# The scope key under which the fast lane (``web/fastlane.py``) hands Litestar a request it tried and failed on (an
# outage, the deadline, a bug): raised here at once, the error is answered by the usual handlers, nothing tried twice.
TRIED_AND_FAILED = "myclothes.tried_and_failed"


class SessionMiddleware(ASGIMiddleware):
    """Opens the shopper's session before the handler and saves it (and sets the cookie) before the response starts.

    With a client-side store (the cookie cart store) it also hands the request's cookies to the store and sends its
    ``Set-Cookie``. A request without a session cookie never touches the session store.
    """

    def __init__(self, sessions: SessionService, client_state: ClientStateCarrier | None, secure: bool) -> None:
        self.sessions = sessions
        self.client_state = client_state
        self.secure = secure
        self.cookie_name = cookie_names(secure)[0]  # __Host-myclothes_session when Secure
        self._cookie = set_cookie_header(self.cookie_name, secure)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        failed = scope.get(TRIED_AND_FAILED)
        if isinstance(failed, BaseException):
            raise failed
        cookies = scope_cookies(scope)
        session_id = cookies.get(self.cookie_name)
        # A GET shows the cart or its count (pages, the cart API): read it with the session when the store can.
        # The cart's add and quantity forms only write to the cart: they start from the store's copy, guarded.
        method = scope.get("method")
        guarded = method == "POST" and scope.get("path") in GUARDED_FORMS
        session = await self.sessions.open(session_id, with_cart=method == "GET", guarded=guarded)
        scope["state"]["shopper"] = session
        token = self.client_state.begin(cookies) if self.client_state else None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self.sessions.save(session, had_cookie=session_id is not None)
                if cookie is not None:
                    message["headers"] = [*message.get("headers", ()), self._cookie(cookie.value, cookie.max_age)]
                if self.client_state is not None:
                    headers = MutableScopeHeaders.from_message(message)
                    for header in self.client_state.set_cookie_headers():
                        headers.add("set-cookie", header)
            await send(message)

        try:
            await next_app(scope, receive, send_wrapper)
        finally:
            if self.client_state is not None:
                self.client_state.end(token)
