""" "How this store works": the tiers of the seed's architecture, drawn with this deployment's components."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.engine import make_url

from myclothes.settings import Settings
from myclothes.web.deps import shop_of
from myclothes.web.pages.render import page

CART_STORES = {
    "memory": "in this web process's memory: fastest, lost when the process dies, so the load balancer must send a "
    "shopper back to the same process (stickiness).",
    "cookie": "encrypted in the shopper's own cookie (under 4 KB): no server keeps it, any process can answer.",
    "redis": "in Redis, with only a session id in the cookie: any process can answer, and Redis replicates it to "
    "another zone.",
    "sql": "in the relational database, with only a session id in the cookie: any process can answer, durable as "
    "orders are.",
}


@dataclass(frozen=True)
class Tier:
    name: str
    here: str  # this deployment's component
    why: str  # the pattern, in two sentences


def tiers(settings: Settings, behind_balancer: bool) -> list[Tier]:
    """The tiers from the shopper's browser to the data, as this process is configured."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        database = "SQLite, one file beside this process (the embedded default)"
    else:
        replicas = len(settings.database_replica_urls)
        database = f"PostgreSQL: writes to the primary, reads to {replicas} replica endpoint(s)"
    if settings.redis_sentinels:
        redis = f"Redis primary and replicas, found through {len(settings.redis_sentinels)} Sentinels"
    elif settings.redis_url:
        redis = "one Redis server"
    else:
        redis = "none"
    return [
        Tier(
            "Client",
            "your browser",
            "Pages are rendered on the server and work without JavaScript. The cookie "
            "holds a random session id (or, with the cookie store, the encrypted cart).",
        ),
        Tier(
            "Load balancer",
            "a load balancer in front (it forwarded this request)"
            if behind_balancer
            else "none: you reached this process directly",
            "The only public entry: it spreads requests over the web processes and stops sending to one that fails "
            "its health check. A whole zone can go and the others carry on.",
        ),
        Tier(
            "Web tier",
            f"{settings.instance} in zone {settings.zone}",
            "Web processes keep no shopper state of their own (except with the memory cart store), so any of them "
            "can answer any request and more can be added under load.",
        ),
        Tier("Cart and session store", settings.cart_store, "The cart is kept " + CART_STORES[settings.cart_store]),
        Tier(
            "Catalog cache",
            {"redis": f"Redis ({redis})", "memory": "this process's memory", "none": "none"}.get(
                settings.cache, settings.cache
            ),
            "Cache-aside: a product page is read from the cache, and from the database only on a miss, which then "
            "fills the cache. A change in the admin evicts the product everywhere.",
        ),
        Tier(
            "Database",
            database,
            "Writes go to the primary; reads go to replicas, except a shopper's reads right after their own write "
            "(read-your-writes). A standby in another zone takes over when the primary fails.",
        ),
    ]


@get("/how-it-works", include_in_schema=False)
async def how_it_works(request: Request[Any, Any, Any]) -> Template:
    settings = shop_of(request).settings
    behind = "x-forwarded-for" in request.headers
    return await page(request, "how.html", tiers=tiers(settings, behind))


handlers = [how_it_works]
