"""A hung primary (SIGSTOP) as the data tier sees it: reads carry on from a replica, read-your-writes included
(slightly stale rather than failed, counted), and writes fail fast with the domain's StoreUnavailable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from tests.integration.data_tier.conftest import fallbacks, fresh_database
from tests.support.postgres import PostgresCluster

from myclothes.db.consistency import track_session_lsn
from myclothes.db.engine import SqlDatabase
from myclothes.domain.errors import StoreUnavailable


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    # Its own cluster (this test hangs the primary); the standby applies WAL 4 s late, so it is behind every
    # fresh commit while staying in rotation (the lag limit below is larger).
    cluster = PostgresCluster(standbys=1, apply_delay="4s").start()
    yield cluster
    cluster.stop()


async def test_reads_fall_back_to_a_replica_and_writes_fail_fast_while_the_primary_hangs(
    cluster: PostgresCluster,
) -> None:
    url = await fresh_database(cluster)
    database = SqlDatabase(url, cluster.replica_urls(url.rsplit("/", 1)[1]), max_lag_s=30.0)
    assert database.router is not None
    try:
        async with database.reader() as uow:  # starts the health loop; the replica joins the rotation
            await uow.catalog.categories()
        position = track_session_lsn(None)
        async with database.writer() as uow:
            await uow.customers.record_login_failure("someone@example.com", "192.0.2.1", time.time())
        assert position.lsn is not None  # the replica has not applied this commit yet (4 s delay)
        before = fallbacks("primary_unreachable")
        with cluster.primary.frozen():
            first_read_s = await _timed_read(database)  # read-your-writes wants the primary: it does not answer
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                async with database.writer() as uow:
                    await uow.catalog.categories()
            first_write_s = time.monotonic() - started
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                async with database.writer() as uow:
                    await uow.catalog.categories()
            next_write_s = time.monotonic() - started
            next_read_s = await _timed_read(database)  # the primary is known down now: straight to the replica
        print(f"\nprimary hung: read-your-writes reads served by the replica in {first_read_s * 1000:.0f} ms, then")
        print(f"{next_read_s * 1000:.0f} ms; the first write failed in {first_write_s:.2f} s, the next in ")
        print(f"{next_write_s * 1000:.0f} ms")
        assert first_read_s < 1.0 and next_read_s < 0.1
        assert first_write_s < 2.5 and next_write_s < 0.1
        assert fallbacks("primary_unreachable") - before == 2
        await _until_writes_work(database)
    finally:
        await database.dispose()


async def _timed_read(database: SqlDatabase) -> float:
    started = time.monotonic()
    async with database.reader() as uow:
        assert await uow.catalog.categories()
    return time.monotonic() - started


async def _until_writes_work(database: SqlDatabase, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with database.writer() as uow:
                await uow.catalog.categories()
            return
        except StoreUnavailable:
            assert time.monotonic() < deadline, "writes never recovered"
            await asyncio.sleep(0.1)
