"""The async transport: many shoppers over one shared httpx.AsyncClient, each keeping its own cookies."""

from __future__ import annotations

import httpx

from myclothes.client.api import Call
from myclothes.client.cookies import cookie_header, csrf_header, no_cookie_jar, take_cookies


def cookieless_client(base_url: str, timeout: float, limits: httpx.Limits) -> httpx.AsyncClient:
    """An AsyncClient that keeps no cookies: ``send`` passes each shopper's own."""
    return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, cookies=no_cookie_jar())


async def send(http: httpx.AsyncClient, cookies: dict[str, str] | None, call: Call) -> httpx.Response:
    """Send ``call`` as the shopper holding ``cookies`` (None: a bare request), with the CSRF header when unsafe,
    and apply the answer's Set-Cookie to ``cookies``. Transport errors and timeouts raise, as httpx's do."""
    headers = dict(call.headers)
    if cookies:
        headers["Cookie"] = cookie_header(cookies)
        if call.unsafe:
            headers.update(csrf_header(cookies))
    response = await http.request(call.method, call.path, json=call.json, params=call.params, headers=headers)
    if cookies is not None:
        take_cookies(cookies, response.headers.get_list("set-cookie"))
    return response
