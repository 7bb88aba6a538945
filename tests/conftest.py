"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import ShopClient
from tests.support.redis_server import RedisServer
from tests.support.server import ShopServer


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopServer]:
    """One real `myclothes serve` on the embedded default (SQLite file), shared by a test session."""
    server = ShopServer(tmp_path_factory.mktemp("live"))
    server.start()
    yield server
    server.stop()


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
