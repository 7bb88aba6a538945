"""Liveness, readiness and "can write", for load balancers and operators.

- ``GET /healthz``: the process is up (liveness; restart it if not).
- ``GET /readyz``: the process can serve reads, which is what the load balancer checks: 200 whenever at least one
  database endpoint (the primary or a read replica) answers. It never depends on the primary alone, on the cart
  and session store or on the cache: without them the catalog still serves and what needs them answers 503, which
  beats taking every instance out of the pool at once because a shared primary is failing over.
- ``GET /readyz/write``: 200 only when the primary and the cart store take writes.

Both report every dependency. The checks run concurrently, each bounded by ``CHECK_TIMEOUT_S``, and the result
is kept for ``REPORT_TTL_S``: a storm of health checks costs one probe per dependency. A probe that outlives its
bound is not cancelled (an interrupted database handshake could spoil a pooled connection): it finishes on its own
and the next rounds wait on it instead of starting another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from litestar import Request, Response, get

from myclothes.web.csrf import NO_CSRF_COOKIE
from myclothes.web.deps import shop_of

if TYPE_CHECKING:
    from myclothes.bootstrap import Shop

CHECK_TIMEOUT_S = 0.5
REPORT_TTL_S = 1.0
OK = "ok"

Probe = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    checks: dict[str, str]  # dependency -> "ok", "timeout" or "error: <kind>"

    @property
    def ready(self) -> bool:
        """Reads can be served: some database endpoint answers."""
        return OK in (self.checks.get("database_primary"), self.checks.get("database_replica"))

    @property
    def can_write(self) -> bool:
        """Orders, accounts and carts can be changed: the primary and the cart store answer."""
        return self.checks.get("database_primary") == OK and self.checks.get("cart_store") == OK


class Readiness:
    """Checks the shop's dependencies concurrently, each bounded; one round serves every caller for ``ttl_s``."""

    def __init__(
        self,
        probes: dict[str, Probe],
        timeout_s: float = CHECK_TIMEOUT_S,
        ttl_s: float = REPORT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probes = probes
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.clock = clock
        self._report: ReadinessReport | None = None
        self._checked_at = 0.0
        self._round: asyncio.Future[ReadinessReport] | None = None
        self._running: dict[str, asyncio.Future[object]] = {}

    async def report(self) -> ReadinessReport:
        if self._report is not None and self.clock() - self._checked_at < self.ttl_s:
            return self._report
        if self._round is None or self._round.done():
            self._round = asyncio.ensure_future(self._check_all())
        return await asyncio.shield(self._round)

    async def _check_all(self) -> ReadinessReport:
        names = list(self.probes)
        outcomes = await asyncio.gather(*(self._check(name) for name in names))
        self._report = ReadinessReport(dict(zip(names, outcomes, strict=True)))
        self._checked_at = self.clock()
        return self._report

    async def _check(self, name: str) -> str:
        probe = self._running.get(name)
        if probe is None or probe.done():
            probe = asyncio.ensure_future(self.probes[name]())
            probe.add_done_callback(_retrieve)
            self._running[name] = probe
        done, _ = await asyncio.wait({probe}, timeout=self.timeout_s)
        if not done:
            return "timeout"
        if probe.cancelled():
            return "error: cancelled"
        error = probe.exception()
        return OK if error is None else f"error: {type(error).__name__}"


def probes_for(shop: Shop) -> dict[str, Probe]:
    """What this shop depends on: the database primary, its replicas (if any), the cart store, a remote cache."""
    probes: dict[str, Probe] = {"database_primary": shop.database.ping_primary}
    if shop.database.has_replicas:
        probes["database_replica"] = shop.database.ping_replica
    probes["cart_store"] = shop.cart_store.ping
    if shop.remote_cache is not None:
        probes["cache"] = shop.remote_cache.ping
    return probes


def _retrieve(task: asyncio.Future[object]) -> None:
    if not task.cancelled():
        task.exception()


def readiness_of(request: Request[Any, Any, Any]) -> Readiness:
    return cast(Readiness, request.app.state["readiness"])


def _body(request: Request[Any, Any, Any], report: ReadinessReport) -> dict[str, Any]:
    return {
        "status": "ready" if report.ready else "not ready",
        "can_write": report.can_write,
        "checks": report.checks,
        "instance": shop_of(request).settings.instance,
    }


@get("/healthz", include_in_schema=True, tags=["health"], sync_to_thread=False, opt=NO_CSRF_COOKIE)
def healthz(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The process is up (liveness)."""
    return {"status": "ok", "instance": shop_of(request).settings.instance}


@get("/readyz", tags=["health"], opt=NO_CSRF_COOKIE)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The process can serve reads: a database endpoint (primary or replica) answers; 503 otherwise.

    The body reports every dependency and ``can_write``. Checked at most once a second, each check within 0.5 s.
    """
    report = await readiness_of(request).report()
    return Response(_body(request, report), status_code=200 if report.ready else 503)


@get("/readyz/write", tags=["health"], opt=NO_CSRF_COOKIE)
async def readyz_write(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The process can take writes: the database primary and the cart store answer; 503 otherwise."""
    report = await readiness_of(request).report()
    return Response(_body(request, report), status_code=200 if report.can_write else 503)
