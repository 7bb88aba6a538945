"""What a drill does to the cluster and what it watches meanwhile: the injected faults, the data tier's leaders
(split brain, failovers) and, for a partition, when each side noticed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import redis

from myclothes.cluster.manager import Cluster
from myclothes.cluster.topology import Node


@dataclass
class Fault:
    description: str
    to_heal: list[str]
    pg_failovers: int  # how many PostgreSQL leader changes the fault should cause
    redis_failovers: int
    zone: str | None = None  # zone-partition: the zone cut off


class Watch:
    """Polls the data tier during the drill: primaries at once (split brain) and leader changes (failovers)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.max_primaries = 0
        self.pg_failovers = 0
        self.redis_failovers = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        leaders: list[Any] = [None, None]  # [confirmed, candidate]
        redis: list[Any] = [None, None]
        while not self._stop.is_set():
            primaries = await asyncio.to_thread(self.cluster.primaries)
            self.max_primaries = max(self.max_primaries, len(primaries))
            leader = primaries[0] if len(primaries) == 1 else None
            port = await asyncio.to_thread(self.cluster.redis_primary_port)
            self.pg_failovers += _changed(leaders, leader)
            self.redis_failovers += _changed(redis, port)
            await asyncio.sleep(0.3)

    def stop(self) -> None:
        self._stop.set()


def _changed(state: list[Any], seen: Any) -> int:
    """Count a new value once it was seen twice in a row (a poll that caught a moment of transition is noise)."""
    confirmed, candidate = state
    if seen is None or seen == confirmed:
        state[1] = None
        return 0
    if seen != candidate:
        state[1] = seen
        return 0
    state[0], state[1] = seen, None
    return 0 if confirmed is None else 1


def inject(cluster: Cluster, drill: str, zone: str | None) -> Fault:
    """Inject the drill's fault."""
    t = cluster.topology
    if drill == "web-kill":
        web = next((n for n in t.of_kind("web") if n.enabled), None)
        assert web is not None, "no web process running"
        cluster.kill(web.name)
        return Fault(f"SIGKILL {web.name} (supervisord restarts it)", [], 0, 0)
    if drill == "redis-failover":
        node = _redis_primary(cluster)
        cluster.kill(node.name)
        return Fault(f"SIGKILL Redis primary {node.name}", [node.name], 0, 1)
    if drill == "pg-failover":
        leader = cluster.pg_leader()
        assert leader is not None, "no PostgreSQL leader"
        cluster.kill(leader.name)
        return Fault(f"SIGKILL Patroni and postmaster of leader {leader.name}", [leader.name], 1, 0)
    if drill == "sentinel-quorum":
        primary = _redis_primary(cluster)
        sentinel = next((n for n in t.of_kind("sentinel") if n.zone != primary.zone), None)
        assert sentinel is not None, "every Sentinel in the primary's zone"
        cluster.kill(sentinel.name)
        cluster.kill(primary.name)
        # the restart of the Sentinels on heal restores the quorum, which promotes the last Redis (a second failover)
        return Fault(f"SIGKILL {sentinel.name}, then Redis primary {primary.name}", [sentinel.name, primary.name], 0, 2)
    leader = cluster.pg_leader()
    zone = zone or (leader.zone if leader else t.zones[0])
    redis_port = cluster.redis_primary_port()
    redis_zone = next((n.zone for n in t.of_kind("redis") if n.port == redis_port), None)
    pg_moves, redis_moves = int(leader is not None and leader.zone == zone), int(redis_zone == zone)
    if drill == "zone-partition":
        cluster.partition(zone)
        return Fault(f"zone {zone} cut off the network (processes running)", [zone], pg_moves, redis_moves, zone)
    to_heal = cluster.fail_zone(zone)
    return Fault(f"zone {zone} down (every process in it SIGKILLed)", to_heal, pg_moves, redis_moves)


def _redis_primary(cluster: Cluster) -> Node:
    """The Redis primary the Sentinels name; RuntimeError if none (never StopIteration: this runs in threads, and
    a StopIteration raised into an asyncio future leaves the future pending forever)."""
    port = cluster.redis_primary_port()
    for node in cluster.topology.of_kind("redis"):
        if node.port == port:
            return node
    raise RuntimeError("no Sentinel names a Redis primary")


def lose_quorum(cluster: Cluster) -> dict[str, Any]:
    """sentinel-quorum, second step: one more Sentinel and the current Redis primary die; one Sentinel is left."""
    primary = _redis_primary(cluster)
    states = cluster.supervisor.states()
    alive = [n for n in cluster.topology.of_kind("sentinel") if states.get(n.name, ("", 0))[0] == "RUNNING"]
    cluster.kill(alive[0].name)
    cluster.kill(primary.name)
    return {"sentinel": alive[0].name, "primary": primary.name, "primary_port": primary.port}


class Timeline:
    """zone-partition: when the cut-off primaries stop taking writes, the majority side has new ones, and (after
    the heal) the old primaries are replicas again; seconds since the fault, or since the heal for rejoins."""

    PROBE_KEY = "myclothes:drill:partition-probe"

    def __init__(self, cluster: Cluster, zone: str | None) -> None:
        self.cluster = cluster
        t = cluster.topology
        self.old_pg = cluster.pg_leader()
        self.old_redis = _redis_primary(cluster)
        self.zone = zone or (self.old_pg.zone if self.old_pg else t.zones[0])
        self.others = [n for n in t.of_kind("postgres") if n.zone != self.zone]
        self.events: dict[str, float | None] = dict.fromkeys(
            (
                "redis_refuses_writes",
                "redis_new_primary",
                "pg_demoted",
                "pg_new_primary",
                "pg_rejoined",
                "redis_rejoined",
            )
        )
        self.fault_t = time.monotonic()
        self.heal_t: float | None = None
        self._stop = asyncio.Event()

    def _seen(self, event: str, since: float) -> None:
        if self.events[event] is None:
            self.events[event] = round(time.monotonic() - since, 2)

    def _poll(self) -> None:
        """One round of probes, each only until its event was seen (this runs in the load generator's process)."""
        c, old_redis, events = self.cluster, self.old_redis, self.events
        if old_redis.zone == self.zone and events["redis_refuses_writes"] is None:
            try:
                c.ask(old_redis, "SET", self.PROBE_KEY, "1")
            except redis.ResponseError:  # NOREPLICAS: no replica acknowledged within min-replicas-max-lag
                self._seen("redis_refuses_writes", self.fault_t)
            except redis.RedisError:
                pass
        if events["redis_new_primary"] is None:
            primary = c.redis_primary_port()
            others = [n for n in c.topology.of_kind("redis") if n.port == primary and n is not old_redis]
            if others and c.redis_role(others[0]) == "master":
                self._seen("redis_new_primary", self.fault_t)
        if events["pg_demoted"] is None and self.old_pg is not None and not c.claims_primary(self.old_pg):
            self._seen("pg_demoted", self.fault_t)
        if events["pg_new_primary"] is None and any(c.claims_primary(n) for n in self.others):
            self._seen("pg_new_primary", self.fault_t)
        if self.heal_t is None:
            return
        old_pg = self.old_pg
        if (
            events["pg_rejoined"] is None
            and old_pg is not None
            and c.pg_own_role(old_pg) == "replica"
            and c.pg_members().get(old_pg.name, {}).get("state") in ("streaming", "running")
        ):
            self._seen("pg_rejoined", self.heal_t)
        if events["redis_rejoined"] is None:
            role = c.ask(old_redis, "ROLE")
            if role[0] == b"slave" and role[3] == b"connected":
                self._seen("redis_rejoined", self.heal_t)

    async def run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._poll)
            if self.heal_t is not None and None not in (self.events["pg_rejoined"], self.events["redis_rejoined"]):
                return
            await asyncio.sleep(0.25)

    def healed(self) -> None:
        self.heal_t = time.monotonic()

    async def until_rejoined(self, task: asyncio.Task[None], timeout: float = 60.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), timeout)
        self._stop.set()
        await task
