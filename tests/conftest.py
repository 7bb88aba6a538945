"""Fixtures shared by every test layer."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from myclothes.client import ShopClient
from tests.support.postgres import PostgresCluster
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer

TEST_DATABASES = ("sqlite", "postgresql", "postgresql+replica")


def test_database() -> str:
    """Which database the live server uses: ``MYCLOTHES_TEST_DATABASE`` (default sqlite; see TEST_DATABASES)."""
    choice = os.environ.get("MYCLOTHES_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if choice not in TEST_DATABASES:
        raise pytest.UsageError(f"MYCLOTHES_TEST_DATABASE must be one of {', '.join(TEST_DATABASES)}")
    return choice


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopServer]:
    """One real `myclothes serve` shared by a test session: on the embedded default (a SQLite file), or with
    ``MYCLOTHES_TEST_DATABASE=postgresql`` on a real PostgreSQL primary (``postgresql+replica``: plus a streaming
    standby the reads use). A missing PostgreSQL fails the run; it is never skipped."""
    choice = test_database()
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if choice != "sqlite":
            cluster = PostgresCluster(standbys=1 if choice == "postgresql+replica" else 0).start()
            stack.callback(cluster.stop)
            env["MYCLOTHES_DATABASE_URL"] = cluster.url()
            if cluster.standbys:
                env["MYCLOTHES_DATABASE_REPLICA_URLS"] = ",".join(cluster.replica_urls())
        server = ShopServer(tmp_path_factory.mktemp("live"), env)
        server.start()
        stack.callback(server.stop)
        yield server


@pytest.fixture
def client(live_server: ShopServer) -> Iterator[ShopClient]:
    shop = ShopClient(live_server.url)
    yield shop
    shop.close()


@pytest.fixture(scope="session")
def catalog(live_server: ShopServer) -> list[dict]:
    """A few seeded products with their variants, for tests that need real SKUs."""
    items = httpx.get(f"{live_server.url}/api/products", params={"per_page": 40}).json()["items"]
    return [httpx.get(f"{live_server.url}/api/products/{p['slug']}").json() for p in items]


def in_stock_skus(catalog: list[dict], minimum: int = 10) -> list[str]:
    return [v["sku"] for p in catalog for v in p["variants"] if v["stock"] >= minimum]


@pytest.fixture
def skus(catalog: list[dict]) -> list[str]:
    return in_stock_skus(catalog)


def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free port for the whole test session (tests use distinct keys or FLUSHDB)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
