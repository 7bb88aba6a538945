"""What every repository shares: its connection, and the guard that refuses writes through a reader unit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection


class WriteOnReader(RuntimeError):
    """A write was attempted through a reader unit: a routing bug."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def inserted_id(result: CursorResult[object]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])


class Repository:
    def __init__(self, connection: AsyncConnection, read_only: bool) -> None:
        self.connection = connection
        self.read_only = read_only
        self.postgres = connection.dialect.name == "postgresql"

    def _writing(self) -> AsyncConnection:
        if self.read_only:
            raise WriteOnReader(f"{type(self).__name__}: write attempted through a reader unit")
        return self.connection
