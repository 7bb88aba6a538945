"""Read-your-writes over a real primary and a hot standby that applies WAL 2 s late (recovery_min_apply_delay).

1,000 write-then-read sequences (address edits and orders) through the shop's services, 25 shoppers at once, each
carrying its session's WAL position from one request to the next the way the web session does: every read sees
its own write, while reads with nothing to wait for keep going to the replica.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from tests.integration.data_tier.conftest import fallbacks, fresh_database, queries, shop_for
from tests.support.postgres import PostgresCluster
from tests.support.tcp_proxy import TcpProxy

from myclothes.client import CARD
from myclothes.domain.catalog import CatalogQuery
from myclothes.domain.customers import AddressFields

SHOPPERS = 25
SEQUENCES = 1000


@pytest.fixture(scope="module")
def delayed_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(standbys=1, apply_delay="2s").start()
    yield cluster
    cluster.stop()


def _address(line1: str) -> AddressFields:
    return AddressFields("Ada Lovelace", line1, "London", "N1 9GU", "GB")


async def test_every_shopper_sees_their_own_writes_while_other_reads_use_the_replica(
    delayed_cluster: PostgresCluster,
) -> None:
    url = await fresh_database(delayed_cluster)
    shop = shop_for(delayed_cluster, url, replica_max_lag_s=30.0)  # the 2 s delay is tolerated: it stays in rotation
    database = shop.database
    try:
        skus = []
        for card in (await shop.catalog.search(CatalogQuery(per_page=5))).items:
            skus += [v.sku for v in (await shop.catalog.product(card.slug)).variants]
        for sku in skus:
            await shop.admin.update_variant(sku, None, 100_000)
        shoppers = []
        for number in range(SHOPPERS):
            position = database.track_session_lsn(None)
            customer = await shop.accounts.register(f"ryw-{number}@example.com", "correct horse battery", "Ryw")
            address = await shop.accounts.add_address(customer.id, _address("1 First Street"))
            shoppers.append((customer.id, address.id, position.lsn))

        # Without the session's position a read right after a write goes to the replica, which has not applied it.
        await shop.accounts.update_address(shoppers[0][0], shoppers[0][1], _address("Unseen Lane"))
        database.track_session_lsn(None)  # a request that forgot the session's position
        untracked = [a.line1 for a in await shop.accounts.addresses(shoppers[0][0])]
        assert "Unseen Lane" not in untracked, "the replica should lag 2 s, else this test proves nothing"

        replica_before, behind_before = queries("replica"), fallbacks("behind_session")
        failures: list[str] = []
        done = 0

        async def shopper(index: int) -> None:
            nonlocal done
            customer_id, address_id, lsn = shoppers[index]
            cart_id = f"c:{customer_id}"
            for step in range(SEQUENCES // SHOPPERS):
                position = database.track_session_lsn(lsn)  # the session middleware restores it per request
                if step % 2 == 0:
                    line1 = f"{step} Step Street"
                    await shop.accounts.update_address(customer_id, address_id, _address(line1))
                    lsn = position.lsn  # ... and stores it back in the session after the response
                    database.track_session_lsn(lsn)  # the next request
                    seen = [a.line1 for a in await shop.accounts.addresses(customer_id)]
                    if seen != [line1]:
                        failures.append(f"shopper {index} step {step}: addresses {seen}")
                else:
                    await shop.carts.add(cart_id, skus[(index + step) % len(skus)], 1)
                    order, created = await shop.checkout.place_order(
                        customer_id, cart_id, address_id, **CARD, idempotency_key=f"ryw-order-{index}-{step}"
                    )
                    lsn = position.lsn
                    database.track_session_lsn(lsn)
                    history = [o.id for o in await shop.checkout.orders(customer_id)]
                    if not created or order.id not in history:
                        failures.append(f"shopper {index} step {step}: order {order.id} not in {history}")
                    elif (await shop.checkout.order(customer_id, order.id)).total != order.total:
                        failures.append(f"shopper {index} step {step}: order {order.id} differs")
                done += 1

        async def browser(stop: asyncio.Event) -> int:
            reads = 0
            database.track_session_lsn(None)  # a shopper who wrote nothing: any replica will do
            while not stop.is_set():
                await shop.catalog.categories()
                await shop.catalog.search(CatalogQuery(sort="price_asc"))
                reads += 1
            return reads

        started = time.monotonic()
        stop = asyncio.Event()
        browsing = asyncio.create_task(browser(stop))
        await asyncio.gather(*(asyncio.create_task(shopper(i)) for i in range(SHOPPERS)))
        stop.set()
        browsed = await browsing
        elapsed = time.monotonic() - started

        assert done == SEQUENCES
        assert failures == [], failures[:5]
        replica_reads = queries("replica") - replica_before
        assert browsed > 0 and replica_reads >= browsed, (browsed, replica_reads)
        assert fallbacks("behind_session") - behind_before >= SEQUENCES // 2  # the replica was behind: RYW mattered
        print(f"\n{SEQUENCES} write-then-read sequences in {elapsed:.1f} s; {browsed} browse rounds, "
              f"{replica_reads:.0f} replica statements")  # fmt: skip
    finally:
        await database.dispose()


async def test_a_replica_address_balanced_over_standbys_still_reads_your_writes() -> None:
    """In the cluster the replica address is HAProxy over every standby: the router's probe reaches one of them, a
    read's new connection may reach another that is behind (a rejoined old primary catching up). The read must check
    the standby it reached, not trust the probe's."""
    with PostgresCluster(standbys=2) as cluster:
        ahead, behind = cluster.standbys
        behind.set_conf(recovery_min_apply_delay="3s")
        url = await fresh_database(cluster, products=5)
        balancer = TcpProxy(ahead.port).start()
        name = url.rsplit("/", 1)[1]
        replica_url = f"postgresql+asyncpg://postgres@127.0.0.1:{balancer.port}/{name}"
        shop = shop_for(cluster, url, database_replica_urls=(replica_url,), replica_max_lag_s=30.0)
        database = shop.database
        try:
            position = database.track_session_lsn(None)
            customer = await shop.accounts.register("balanced@example.com", "correct horse battery", "Balanced")
            await shop.accounts.add_address(customer.id, _address("Just Written Road"))
            router = database.router  # type: ignore[attr-defined]
            await router.start()
            for _ in range(100):  # the probe (its connection reaches the standby that is ahead) sees the write
                await router.probe_once()
                if router.choose(position.value) == (router.replicas[0], True):
                    break
                await asyncio.sleep(0.05)
            balancer.target = ("127.0.0.1", behind.port)  # new connections now reach the standby 3 s behind
            database.track_session_lsn(position.lsn)
            seen = [a.line1 for a in await shop.accounts.addresses(customer.id)]
            assert seen == ["Just Written Road"]
        finally:
            await database.dispose()
            balancer.stop()
