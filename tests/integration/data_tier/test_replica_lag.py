"""Lag-aware routing over a real primary and hot standby: a lagging replica leaves the rotation within 5 s and
comes back; a stopped replica sends reads to the primary with zero errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from tests.integration.data_tier.conftest import fallbacks, fresh_database, queries
from tests.support.postgres import PostgresCluster

from myclothes.db.engine import SqlDatabase
from myclothes.domain.catalog import CatalogQuery


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(standbys=1).start()  # its own: this test delays and stops the standby
    yield cluster
    cluster.stop()


async def _until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_lagging_or_stopped_replica_leaves_rotation_and_reads_never_fail(cluster: PostgresCluster) -> None:
    url = await fresh_database(cluster)
    standby = cluster.standbys[0]
    database = SqlDatabase(url, [standby.url(url.rsplit("/", 1)[1])], max_lag_s=1.0)
    assert database.router is not None
    replica = database.router.replicas[0]
    errors: list[BaseException] = []
    reads = writes = 0
    stop = asyncio.Event()

    async def forever(action: Callable[[], Awaitable[None]], pause_s: float) -> None:
        while not stop.is_set():
            try:
                await action()
            except Exception as error:  # counted: the test requires none
                errors.append(error)
            await asyncio.sleep(pause_s)

    async def read() -> None:
        nonlocal reads
        async with database.reader() as uow:
            await uow.catalog.categories()
            await uow.catalog.search(CatalogQuery(category="hoodies", sort="price_asc"))
        reads += 1

    async def write() -> None:  # keeps WAL flowing, so a delayed standby falls behind
        nonlocal writes
        async with database.writer() as uow:
            await uow.customers.record_login_failure("lag@example.com", "127.0.0.1", time.time())
        writes += 1

    loops = [asyncio.create_task(forever(read, 0.005)), asyncio.create_task(forever(write, 0.05))]
    try:
        await _until(lambda: replica.healthy, 5)
        replica_before = queries("replica")
        await asyncio.sleep(0.5)
        assert queries("replica") > replica_before, "a healthy replica serves the reads"

        standby.set_conf(recovery_min_apply_delay="3s")
        removal_s = await _until(lambda: not replica.healthy, 5.0)
        assert "lagging" in replica.reason
        fallback_before = fallbacks("no_healthy_replica")
        await asyncio.sleep(0.3)
        assert fallbacks("no_healthy_replica") > fallback_before, "with no replica left, reads go to the primary"

        standby.set_conf()  # no delay: it catches up and returns
        return_s = await _until(lambda: replica.healthy, 10.0)

        stopped_at = time.monotonic()
        standby.stop()
        await _until(lambda: not replica.healthy, 5.0)
        unreachable_s = time.monotonic() - stopped_at
        reads_before = reads
        await asyncio.sleep(1.0)
        assert reads - reads_before > 20, "reads go on, from the primary"

        standby.start()
        back_s = await _until(lambda: replica.healthy, 10.0)
        print(
            f"\nlagging replica out after {removal_s:.2f} s, back {return_s:.2f} s after the delay was lifted; "
            f"stopped replica out after {unreachable_s:.2f} s, back {back_s:.2f} s after restart; "
            f"{reads} reads, {writes} writes, {len(errors)} errors"
        )
    finally:
        stop.set()
        await asyncio.gather(*loops)
        await database.dispose()
    assert errors == [], errors[:3]
    assert removal_s <= 5.0
