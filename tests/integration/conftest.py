from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from tests.support.client import PASSWORD, ShopClient
from tests.support.server import ShopServer


@pytest.fixture(scope="session")
def admin_email(live_server: ShopServer) -> str:
    email = "admin@example.com"
    result = subprocess.run(
        [sys.executable, "-m", "myclothes.cli", "admin", "create-user", email, "--password", PASSWORD],
        env=live_server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
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
    product = shop.post(
        "/api/admin/products",
        json={
            "category": "t-shirts",
            "name": "Plentiful Tee",
            "price": 1500,
            "sizes": ["S", "M", "L"],
            "colours": ["white"],
            "stock": 1000,
        },
    )
    assert product.status_code == 201, product.text
    shop.close()
    return [v["sku"] for v in product.json()["variants"]]
