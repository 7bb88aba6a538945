"""A real server per database for the fuzzer, and a shopper per role signed in on it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from myclothes.client import PASSWORD, ShopClient, unique_email
from tests.support.postgres import PostgresCluster
from tests.support.server import ShopServer

ROLES = ("anonymous", "customer", "admin")


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def fuzzed_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopServer]:
    """One `myclothes serve` per database (PostgreSQL: a real primary), with an admin account."""
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        if request.param == "postgresql":
            cluster = PostgresCluster(standbys=0).start()
            stack.callback(cluster.stop)
            env["MYCLOTHES_DATABASE_URL"] = cluster.url()
        server = ShopServer(tmp_path_factory.mktemp(f"fuzz-{request.param}"), env).start()
        stack.callback(server.stop)
        server.database = request.param  # type: ignore[attr-defined]
        yield server


def signed_in(server: ShopServer, role: str) -> ShopClient:
    """A client holding the cookies of ``role``: anonymous (only a CSRF token), a new customer, or an admin."""
    shopper = ShopClient(server.url)
    if role == "customer":
        shopper.register()
    elif role == "admin":
        email = unique_email("admin")
        server.create_admin(email, PASSWORD)
        assert shopper.login(email).status_code == 200
    return shopper
