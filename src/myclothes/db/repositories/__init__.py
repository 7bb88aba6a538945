"""Repositories over SQLAlchemy Core: the shop's queries, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from myclothes.db.repositories.base import WriteOnReader
from myclothes.db.repositories.catalog import SqlCatalogRepository
from myclothes.db.repositories.customers import SqlCustomerRepository
from myclothes.db.repositories.orders import SqlOrderRepository

__all__ = ["SqlUnitOfWork", "WriteOnReader"]


class SqlUnitOfWork:
    """The repositories over one connection (and, on a writer, one transaction)."""

    def __init__(self, connection: AsyncConnection, read_only: bool) -> None:
        self.connection = connection
        self.catalog = SqlCatalogRepository(connection, read_only)
        self.customers = SqlCustomerRepository(connection, read_only)
        self.orders = SqlOrderRepository(connection, read_only)
