"""Response security headers, the client's address behind trusted proxies, and who may read /metrics.

- Every response carries a Content-Security-Policy that allows script only from the shop's own origin (no inline
  script anywhere), forbids framing (``frame-ancestors 'none'``), plus ``X-Content-Type-Options: nosniff``, a
  ``Referrer-Policy`` and, when cookies are Secure (so the shop is on HTTPS), HSTS.
- ``X-Forwarded-For`` is believed only when the peer is a configured proxy (``MYCLOTHES_TRUSTED_PROXIES``, default
  loopback): the client is the right-most address in the chain that is not itself a trusted proxy. A shopper who
  sends the header straight to a web process changes nothing.
- ``/metrics`` answers only a direct peer inside ``MYCLOTHES_TRUSTED_PROXIES`` (the Prometheus scraper's range) and
  never a request relayed by a proxy, so the public load balancer cannot serve it even though it is a trusted
  peer itself (and HAProxy refuses the path at the edge as well).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",  # colour swatches set their colour in a style attribute; no <style>
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The Swagger UI (only with MYCLOTHES_API_DOCS=true, a developer's setting) loads from a CDN and starts inline.
API_DOCS_UI = "/schema/swagger"
API_DOCS_CDN = "https://cdn.jsdelivr.net"
API_DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {API_DOCS_CDN}; style-src 'self' 'unsafe-inline' "
    f"{API_DOCS_CDN}; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
DEFAULT_TRUSTED_PROXIES = ("127.0.0.0/8", "::1/128")


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Networks from addresses or CIDR blocks; raises ValueError naming the bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IP address or network") from error
    return tuple(networks)


class SecurityHeaders:
    """The security headers every response carries (routed or not, errors included; ``web/edge.py`` adds them); one
    a handler set itself is replaced. Encoded once; each answer's headers are walked once."""

    def __init__(self, hsts: bool) -> None:
        fixed = [
            ("content-security-policy", CONTENT_SECURITY_POLICY),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            ("x-frame-options", "DENY"),
        ]
        if hsts:
            fixed.append(("strict-transport-security", HSTS))
        self.encoded = [(name.encode(), value.encode()) for name, value in fixed]
        self.for_docs = [
            (name, API_DOCS_POLICY.encode() if name == b"content-security-policy" else value)
            for name, value in self.encoded
        ]
        self.names = frozenset(name for name, _ in self.encoded)

    def apply(self, headers: Iterable[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        """``headers`` without any security header of the handler's, then ours."""
        names = self.names
        kept = [header for header in headers if header[0].lower() not in names]
        kept.extend(self.for_docs if path.startswith(API_DOCS_UI) else self.encoded)
        return kept


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address: the peer, unless it is a trusted proxy that says whom it relays for."""
    if not peer:
        return "unknown"
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not hop:
            continue
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed chain: fall back to what we know for sure
    return peer


def trusted_proxies_of(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[Network, ...]:
    state = connection.app.state
    proxies: tuple[Network, ...] = state.get("trusted_proxies") or parse_networks(DEFAULT_TRUSTED_PROXIES)
    return proxies


def may_read_metrics(request: Request[Any, Any, Any]) -> bool:
    """A direct scrape from inside the trusted range, never one relayed by a proxy."""
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    peer = request.client.host if request.client else ""
    return _trusted(peer, trusted_proxies_of(request))
