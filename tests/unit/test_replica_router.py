"""The replica router's verdicts, with the probes' answers scripted (no database)."""

from __future__ import annotations

from typing import Any

from myclothes.db.replicas import Replica, ReplicaRouter


class ScriptedRouter(ReplicaRouter):
    """Answers the primary's and the replica's probes from attributes instead of a database."""

    primary_lsn: str | None = "0/100"
    replay_lsn: str = "0/100"

    async def _scalar(self, engine: Any, sql: str) -> object:
        if self.primary_lsn is None:
            raise ConnectionRefusedError("primary gone")
        return self.primary_lsn

    async def _row(self, engine: Any, sql: str) -> tuple[object, ...]:
        return (True, self.replay_lsn)


def router(max_lag_s: float) -> ScriptedRouter:
    replica = Replica(name="replica", engine=None, probe=None)  # type: ignore[arg-type]
    return ScriptedRouter(primary_probe=None, replicas=[replica], max_lag_s=max_lag_s)  # type: ignore[arg-type]


async def test_a_standby_behind_the_dead_primary_stays_in_rotation_however_long_the_primary_is_gone() -> None:
    shop = router(max_lag_s=0.0)
    await shop.probe_once()
    assert shop.replicas[0].healthy
    shop.primary_lsn, shop.replay_lsn = "0/200", "0/100"  # the primary wrote; the standby has not replayed it
    await shop.probe_once()
    assert not shop.replicas[0].healthy  # a live primary ahead of it: the standby is lagging
    shop.primary_lsn = None  # the primary dies; what the standby lacks can never arrive from it now
    await shop.probe_once()
    assert shop.replicas[0].healthy and not shop.primary_reachable
    assert shop.choose(None)[0] is shop.replicas[0]  # reads keep a replica instead of the dead primary


class BalancedProbe:
    """A replica address that is a balancer: a new connection reaches another standby."""

    def __init__(self) -> None:
        self.disposed = 0

    async def dispose(self) -> None:
        self.disposed += 1


class PromotedBehindTheBalancer(ScriptedRouter):
    """The probe's connection leads to a node just promoted; a fresh connection reaches a standby."""

    async def _row(self, engine: Any, sql: str) -> tuple[object, ...]:
        return (True, self.replay_lsn) if engine.disposed else (False, None)


async def test_a_probe_that_finds_a_promoted_node_reconnects_and_the_replica_comes_back() -> None:
    probe = BalancedProbe()
    replica = Replica(name="replica", engine=None, probe=probe)  # type: ignore[arg-type]
    shop = PromotedBehindTheBalancer(primary_probe=None, replicas=[replica], max_lag_s=1.0)  # type: ignore[arg-type]
    await shop.probe_once()
    assert not replica.healthy and replica.reason == "not a standby (promoted?)"
    assert probe.disposed == 1  # the connection to the promoted node is dropped...
    await shop.probe_once()
    assert replica.healthy  # ...and the next round, on a new connection, finds a standby
