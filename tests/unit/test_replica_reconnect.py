"""A read whose replica connection breaks is repeated once on a new connection to the same address (fakes)."""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from myclothes.db.replica_reads import READ_RETRY_WINDOW_S, ReplicaConnection
from myclothes.db.replicas import Replica
from myclothes.domain.errors import StoreUnavailable


class Connection:
    def __init__(self, fails: bool) -> None:
        self.fails = fails
        self.dialect = None
        self.closed = False

    async def start(self) -> None:
        return None

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if self.fails:
            raise OperationalError(statement, parameters, ConnectionResetError("cut by the balancer"))
        return f"rows of {statement}"

    async def rollback(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True


class Engine:
    """Hands out the scripted connections in order."""

    def __init__(self, *fails: bool) -> None:
        self.connections = [Connection(f) for f in fails]
        self.handed = 0

    def connect(self) -> Connection:
        self.handed += 1
        return self.connections.pop(0)


class Database:
    """The parts of SqlDatabase a replica connection calls; the primary is down, as during a failover."""

    def __init__(self) -> None:
        self.failed: list[Replica] = []

    def replica_failed(self, replica: Replica, error: BaseException) -> None:
        self.failed.append(replica)

    def primary_known_down(self) -> bool:
        return True

    @staticmethod
    async def _release(connection: Connection) -> None:
        await connection.close()


def replica_with(engine: Engine) -> Replica:
    return Replica(name="replicas", engine=engine, probe=None)  # type: ignore[arg-type]


async def test_a_cut_replica_connection_is_read_again_on_a_new_one_without_the_primary() -> None:
    engine = Engine(False)  # the balancer sends the new connection to a standby that answers
    replica, database = replica_with(engine), Database()
    async with AsyncExitStack() as stack:
        reader = ReplicaConnection(Connection(fails=True), replica, database, stack)  # type: ignore[arg-type]
        assert await reader.execute("SELECT 1") == "rows of SELECT 1"
        assert await reader.execute("SELECT 2") == "rows of SELECT 2"  # the unit goes on on the new connection
    assert database.failed == [] and engine.handed == 1


async def test_during_a_failover_a_read_waits_a_moment_for_a_standby_rather_than_failing() -> None:
    engine = Engine(True, True, False)  # the balancer has no standby for two tries, then one answers
    replica, database = replica_with(engine), Database()
    async with AsyncExitStack() as stack:
        reader = ReplicaConnection(Connection(fails=True), replica, database, stack)  # type: ignore[arg-type]
        assert await reader.execute("SELECT 1") == "rows of SELECT 1"
    assert database.failed == [] and engine.handed == 3


async def test_when_no_standby_answers_within_the_window_the_replica_leaves_rotation_and_the_read_is_unavailable() -> (
    None
):
    engine = Engine(*[True] * 20)
    replica, database = replica_with(engine), Database()
    async with AsyncExitStack() as stack:
        reader = ReplicaConnection(Connection(fails=True), replica, database, stack)  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await reader.execute("SELECT 1")
        assert time.monotonic() - started <= READ_RETRY_WINDOW_S + 0.1  # bounded: then a 503 with Retry-After
        tries = engine.handed
        with pytest.raises(StoreUnavailable):  # the waiting happens once per unit, not once per statement
            await reader.execute("SELECT 2")
    assert database.failed == [replica, replica] and engine.handed == tries and 2 <= tries <= 6
