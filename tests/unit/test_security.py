"""Client address behind proxies, security headers and safe redirects, without a server."""

from __future__ import annotations

import pytest

from myclothes.web.pages.render import safe_next
from myclothes.web.security import (
    API_DOCS_POLICY,
    CONTENT_SECURITY_POLICY,
    SecurityHeaders,
    client_address,
    parse_networks,
)

LOOPBACK = parse_networks(["127.0.0.0/8", "::1/128"])
BALANCERS = parse_networks(["127.0.0.0/8", "10.0.0.0/16"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "proxies", "client"),
    [
        ("203.0.113.9", None, LOOPBACK, "203.0.113.9"),  # no proxy: the peer
        ("203.0.113.9", "198.51.100.1", LOOPBACK, "203.0.113.9"),  # a client cannot claim another address
        ("127.0.0.1", "198.51.100.1", LOOPBACK, "198.51.100.1"),  # HAProxy on loopback relays for the client
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", LOOPBACK, "198.51.100.1"),  # the spoofed left part is ignored
        ("10.0.3.4", "198.51.100.1, 10.0.1.1", BALANCERS, "198.51.100.1"),  # ALB then an in-VPC proxy
        ("127.0.0.1", "127.0.0.1", LOOPBACK, "127.0.0.1"),  # only trusted hops: the peer
        ("127.0.0.1", "not-an-address", LOOPBACK, "127.0.0.1"),  # malformed: what we know for sure
        ("::1", "2001:db8::7", LOOPBACK, "2001:db8::7"),
        (None, "198.51.100.1", LOOPBACK, "unknown"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop_and_only_a_trusted_peer_is_believed(
    peer: str | None, forwarded_for: str | None, proxies: tuple, client: str
) -> None:
    assert client_address(peer, forwarded_for, proxies) == client


async def _headers(hook_hsts: bool, path: str = "/") -> dict[str, str]:
    handlers = [(b"x-frame-options", b"SAMEORIGIN"), (b"content-type", b"text/html")]
    headers = {k.decode(): v.decode() for k, v in SecurityHeaders(hook_hsts).apply(handlers, path)}
    assert headers["x-frame-options"] == "DENY" and headers["content-type"] == "text/html"  # theirs replaced
    return headers


async def test_every_response_forbids_inline_script_framing_and_sniffing() -> None:
    headers = await _headers(False)
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    assert "frame-ancestors 'none'" in policy and policy == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in headers  # plain HTTP: HSTS would be ignored or lock a laptop out
    assert "max-age=" in (await _headers(True))["strict-transport-security"]


async def test_only_the_opt_in_api_docs_page_may_load_the_swagger_cdn() -> None:
    assert (await _headers(False, "/schema/swagger"))["content-security-policy"] == API_DOCS_POLICY
    assert "cdn" not in (await _headers(False, "/schema/openapi.json"))["content-security-policy"]


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "/a\r\nb", "cart"]
)
def test_safe_next_refuses_anything_that_can_leave_the_shop(target: str) -> None:
    assert safe_next(target) == "/"


def test_safe_next_keeps_a_path_on_the_shop() -> None:
    assert safe_next("/account/orders?page=2") == "/account/orders?page=2"
