"""Which database errors mean "the server could not be reached" (an outage, not a bad query).

A connection-class failure becomes the domain's ``StoreUnavailable`` at the adapter's boundary (``engine.py``); a
read that failed that way on a replica is repeated on the primary.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# Connection lost, server shutting down, or a standby cancelling a query that conflicts with recovery:
# a read can be repeated on the primary.
_RETRY_ON_PRIMARY_SQLSTATES = ("08", "57P", "40001")
# Connection exceptions, shutdown or not accepting connections yet, too many connections, and a write reaching a
# server that is (still, or again) a standby: the primary is failing over, the request may be repeated.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300", "25006")

WRITES_UNAVAILABLE = (
    "We cannot save changes right now (the database is switching over). Please try again in a few seconds."
)
READS_UNAVAILABLE = "The shop's database cannot be reached right now. Please try again in a few seconds."


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__]
        if not current.__suppress_context__:
            pending.append(current.__context__)


def is_connection_failure(error: BaseException) -> bool:
    """True when ``error`` says the database could not be reached or the connection was lost (not a bad query)."""
    for cause in _causes(error):
        if isinstance(cause, (OSError, asyncpg.InterfaceError, asyncpg.exceptions.PostgresConnectionError)):
            return True  # OSError covers TimeoutError, ConnectionResetError, refused connects
        if isinstance(cause, (OperationalError, InterfaceError)):
            return True
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if sqlstate and str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES):
            return True
    return False


def retry_on_primary(error: DBAPIError) -> bool:
    if error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError)):
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None) or ""
    return str(sqlstate).startswith(_RETRY_ON_PRIMARY_SQLSTATES)
