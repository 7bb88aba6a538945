"""Liveness and readiness for the load balancer."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from myclothes.web.deps import shop_of


@get("/healthz", include_in_schema=True, tags=["health"], sync_to_thread=False)
def healthz(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "instance": shop_of(request).settings.instance}


@get("/readyz", tags=["health"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The process can serve: the database answers (503 otherwise).

    The cart store's state is reported too, but does not make the instance unready: without it the catalog still
    serves and cart actions answer 503, which beats taking every instance out of the load balancer.
    """
    shop = shop_of(request)
    checks: dict[str, str] = {}
    for name, probe in (("database", shop.database.ping), ("cart_store", shop.cart_store.ping)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as error:  # any failure means "not ready", reported, never raised
            checks[name] = f"error: {type(error).__name__}"
    ready = checks["database"] == "ok"
    return Response(
        {"status": "ready" if ready else "not ready", "checks": checks, "instance": shop.settings.instance},
        status_code=200 if ready else 503,
    )
