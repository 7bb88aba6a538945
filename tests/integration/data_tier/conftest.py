"""Real PostgreSQL (primary + streaming standby) and Redis for the data-tier tests; helpers to count queries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from tests.support.postgres import PostgresCluster

from myclothes.bootstrap import Shop, build_shop
from myclothes.db.engine import SqlDatabase
from myclothes.db.migrate import upgrade
from myclothes.db.seed import seed_catalog
from myclothes.settings import Settings

_databases = itertools.count(1)


class QuickHasher:
    """Argon2 costs ~50 ms a hash; these tests are about the data tier, not passwords."""

    async def hash(self, password: str) -> str:
        return "plain:" + password

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return password_hash == "plain:" + password


def queries(role: str | None = None) -> float:
    """SQL statements counted so far in this process, for one role or both."""
    roles = [role] if role else ["primary", "replica"]
    return sum(REGISTRY.get_sample_value("myclothes_db_queries_total", {"role": r}) or 0.0 for r in roles)


def fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("myclothes_replica_fallbacks_total", {"reason": reason}) or 0.0


def cache_results(result: str) -> float:
    return REGISTRY.get_sample_value("myclothes_cache_requests_total", {"result": result}) or 0.0


async def fresh_database(cluster: PostgresCluster, products: int = 60) -> str:
    """A new migrated, seeded database on the cluster, replayed on every standby; return its primary URL."""
    url = cluster.create_database(f"shop{next(_databases)}")
    upgrade(url)
    database = SqlDatabase(url)
    try:
        await seed_catalog(database, products)
    finally:
        await database.dispose()
    cluster.wait_replayed()
    return url


def shop_for(cluster: PostgresCluster, url: str, **overrides: object) -> Shop:
    """The real composition root over the cluster (primary + its standbys as replicas)."""
    database = url.rsplit("/", 1)[1]
    values: dict[str, object] = {
        "database_url": url,
        "database_replica_urls": tuple(cluster.replica_urls(database)),
        "cart_store": "memory",
        "cache": "none",
        "secret_keys": ("a-test-secret-key-of-some-length",),
    }
    values.update(overrides)
    return build_shop(Settings(**values), hasher=QuickHasher())  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A primary and one streaming hot standby, shared by the data-tier tests that do not disturb them."""
    cluster = PostgresCluster(standbys=1).start()
    yield cluster
    cluster.stop()
