from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.server import ShopServer

from myclothes.client import PASSWORD, ShopClient


@pytest.fixture(scope="session")
def admin_email(live_server: ShopServer) -> str:
    email = "admin@example.com"
    live_server.create_admin(email, PASSWORD)
    return email


@pytest.fixture
def admin(live_server: ShopServer, admin_email: str) -> Iterator[ShopClient]:
    shop = ShopClient(live_server.url)
    assert shop.login(admin_email).status_code == 200
    yield shop
    shop.close()


@pytest.fixture(scope="session")
def plentiful_skus(live_server: ShopServer, admin_email: str) -> list[str]:
    """SKUs with 1,000 in stock, so quantity rules (not stock) decide."""
    shop = ShopClient(live_server.url)
    assert shop.login(admin_email).status_code == 200
    product = shop.create_product("Plentiful Tee", sizes=["S", "M", "L"], colours=["white"], stock=1000)
    shop.close()
    return [v["sku"] for v in product["variants"]]
