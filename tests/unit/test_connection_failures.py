"""Which database errors mean "the primary cannot be reached" (StoreUnavailable, 503) and which are bugs."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError

from myclothes.db.engine import is_connection_failure
from myclothes.domain.errors import Conflict


class _Orig(Exception):
    def __init__(self, sqlstate: str | None = None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def _wrapped(kind: type[DBAPIError], cause: BaseException) -> DBAPIError:
    try:
        raise kind("statement", {}, _Orig(getattr(cause, "sqlstate", None))) from cause
    except DBAPIError as error:
        return error


def test_lost_refused_and_timed_out_connections_are_failures_of_the_primary() -> None:
    assert is_connection_failure(ConnectionResetError("reset by peer"))
    assert is_connection_failure(TimeoutError())
    assert is_connection_failure(OSError("connect call failed"))
    assert is_connection_failure(asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle"))
    assert is_connection_failure(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert is_connection_failure(asyncpg.InterfaceError("connection is closed"))
    assert is_connection_failure(_wrapped(InterfaceError, asyncpg.InterfaceError("connection is closed")))
    assert is_connection_failure(_wrapped(OperationalError, OSError("server closed the connection")))
    standby = asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction")
    assert is_connection_failure(_wrapped(DBAPIError, standby))
    shutdown = asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
    assert is_connection_failure(_wrapped(DBAPIError, shutdown))


def test_bad_queries_and_constraint_violations_are_not() -> None:
    unique = asyncpg.exceptions.UniqueViolationError("duplicate key")
    assert not is_connection_failure(_wrapped(IntegrityError, unique))
    assert not is_connection_failure(_wrapped(ProgrammingError, asyncpg.exceptions.UndefinedTableError("no table")))
    assert not is_connection_failure(ValueError("bad input"))
    try:
        try:
            raise _wrapped(IntegrityError, unique)
        except IntegrityError:
            raise Conflict("this checkout was already submitted") from None
    except Conflict as conflict:
        assert not is_connection_failure(conflict)
