"""Which read replicas are in rotation: a background health loop that measures reachability and lag.

Every ``interval_s`` the loop samples the primary's WAL position (``pg_current_wal_lsn()``) and each replica's
replay position (``pg_last_wal_replay_lsn()``). A replica's lag is how long ago the primary first reached a
position the replica has not replayed yet (0 when it has replayed everything the primary had at the last
sample). A replica lagging more than ``max_lag_s``, unreachable, or no longer in recovery leaves the rotation;
it comes back on the first healthy probe. The probes use their own small engines, so they are not counted as
shop queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from myclothes.db.consistency import lsn_to_int

REPLICA_FALLBACKS = Counter(
    "myclothes_replica_fallbacks_total",
    "Reads not served where routing first sent them, by reason: to the primary (no_healthy_replica, "
    "behind_session, replica_error) or, while the primary cannot be reached, to a replica (primary_unreachable)",
    ["reason"],
)
log = logging.getLogger("myclothes.db.replicas")


def describe(url: str) -> str:
    """A replica's name for logs: host, port and database, never the password."""
    parsed = make_url(url)
    hosts = parsed.query.get("host")
    where = ",".join(hosts) if isinstance(hosts, tuple) else (hosts or f"{parsed.host}:{parsed.port or 5432}")
    return f"{where}/{parsed.database or ''}"


@dataclass(eq=False)
class Replica:
    """One read replica: the engine reads use, the probe engine the health loop uses, and its last verdict."""

    name: str
    engine: AsyncEngine
    probe: AsyncEngine
    healthy: bool = False
    replay_lsn: int = -1
    lag_s: float | None = None
    reason: str = "not probed yet"
    changed_at: float = field(default_factory=time.monotonic)


class ReplicaRouter:
    """Round-robin over the replicas in rotation, with read-your-writes by WAL position."""

    def __init__(
        self,
        primary_probe: AsyncEngine,
        replicas: list[Replica],
        max_lag_s: float,
        interval_s: float = 0.5,
        timeout_s: float = 1.0,
    ) -> None:
        self.primary_probe = primary_probe
        self.replicas = replicas
        self.max_lag_s = max_lag_s
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._samples: deque[tuple[float, int]] = deque()
        self._turn = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._first_round = asyncio.Event()
        self._none_left_logged = False
        self.primary_reachable = True  # the last probe of the primary answered (writes then stop waiting on it)

    async def start(self) -> None:
        """Start the health loop on first use and wait for its first round (so the first read is routed)."""
        if self._task is None:
            self._first_round = asyncio.Event()
            self._task = asyncio.create_task(self._loop(), name="replica-health")
        if not self._first_round.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_round.wait(), self.timeout_s * 3)

    async def close(self) -> None:
        """Stop the health loop and close the probe connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self.primary_probe.dispose()
        for replica in self.replicas:
            await replica.probe.dispose()

    async def _loop(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.probe_once()
            except Exception:  # the loop must survive anything; the next round tries again
                log.exception("replica health round failed")
            self._first_round.set()
            await asyncio.sleep(max(0.05, self.interval_s - (time.monotonic() - started)))

    async def probe_once(self) -> None:
        """One health round: sample the primary, then judge every replica."""
        now = time.monotonic()
        try:
            lsn = await self._scalar(self.primary_probe, "SELECT pg_current_wal_lsn()::text")
            self._samples.append((now, lsn_to_int(str(lsn))))
            if not self.primary_reachable:
                log.info("database primary answers again")
            self.primary_reachable = True
        except Exception as error:  # without the primary, lag is judged on the samples we have
            if self.primary_reachable:
                log.warning("database primary probe failed (%s): reads stay on the replicas", type(error).__name__)
            self.primary_reachable = False
        window = max(10.0, 4 * self.max_lag_s)
        while len(self._samples) > 1 and self._samples[0][0] < now - window:
            self._samples.popleft()
        await asyncio.gather(*(self._probe_replica(replica) for replica in self.replicas))
        in_rotation = sum(replica.healthy for replica in self.replicas)
        if in_rotation == 0 and not self._none_left_logged:
            log.warning("no read replica in rotation: reads go to the primary")
        elif in_rotation and self._none_left_logged:
            log.info("%d read replica(s) back in rotation", in_rotation)
        self._none_left_logged = in_rotation == 0

    async def _probe_replica(self, replica: Replica) -> None:
        try:
            row = await self._row(replica.probe, "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
        except Exception as error:
            self._judge(replica, False, f"unreachable: {type(error).__name__}")
            with contextlib.suppress(Exception):
                await replica.probe.dispose()  # start the next probe on a fresh connection
            return
        in_recovery, replay = row
        if not in_recovery or replay is None:
            self._judge(replica, False, "not a standby (promoted?)")
            # A replica address may be a balancer over the standbys (HAProxy's pg_replica, which keeps sessions on a
            # promoted node): a new connection reaches one that still is a standby. Kept, this probe saw the
            # promoted node for minutes and the replica stayed out of rotation; when the primary's zone was then
            # cut off, browsing had no database to read and answered 503 for a second.
            await replica.probe.dispose()
            return
        replica.replay_lsn = lsn_to_int(str(replay))
        replica.lag_s = self._lag(replica.replay_lsn)
        if not self.primary_reachable:
            # No primary: nothing newer can be replayed, and the lag figure only grows with the clock since the
            # last sample. A reachable standby is as fresh as any read can be, so it stays in rotation
            # (during a PostgreSQL failover, browsing carried on only once this was so).
            self._judge(replica, True, "primary unreachable: lag not judged")
        elif replica.lag_s > self.max_lag_s:
            self._judge(replica, False, f"lagging {replica.lag_s:.1f} s (limit {self.max_lag_s:g} s)")
        else:
            self._judge(replica, True, "healthy")

    def _lag(self, replay: int) -> float:
        if not self._samples or replay >= self._samples[-1][1]:
            return 0.0
        now = time.monotonic()
        for at, lsn in self._samples:
            if lsn > replay:
                return now - at
        return 0.0

    def _judge(self, replica: Replica, healthy: bool, reason: str) -> None:
        if healthy != replica.healthy:
            if healthy:
                log.info("replica %s back in rotation", replica.name)
            else:
                log.warning("replica %s leaves rotation: %s", replica.name, reason)
            replica.changed_at = time.monotonic()
        replica.healthy = healthy
        replica.reason = reason

    async def _row(self, engine: AsyncEngine, sql: str) -> tuple[object, ...]:
        """One row within ``timeout_s``. The query runs as a task of its own and is not cancelled when late (a
        cancelled query waits for its connection's cleanup, statement timeout included): the round moves on."""

        async def run() -> tuple[object, ...]:
            async with engine.connect() as connection:
                return tuple((await connection.execute(text(sql))).one())

        query = asyncio.ensure_future(run())
        done, _ = await asyncio.wait({query}, timeout=self.timeout_s)
        if not done:
            query.add_done_callback(_retrieve)
            raise TimeoutError(f"no answer within {self.timeout_s:g} s")
        return query.result()

    async def _scalar(self, engine: AsyncEngine, sql: str) -> object:
        return (await self._row(engine, sql))[0]

    def choose(self, min_lsn: int | None) -> tuple[Replica | None, bool]:
        """The replica for the next read and whether it is known to have replayed ``min_lsn``.

        None (counted as a fallback) when no replica is in rotation: the read goes to the primary.
        """
        healthy = [replica for replica in self.replicas if replica.healthy]
        if not healthy:
            REPLICA_FALLBACKS.labels(reason="no_healthy_replica").inc()
            return None, False
        start = next(self._turn) % len(healthy)
        ordered = healthy[start:] + healthy[:start]
        if min_lsn is None:
            return ordered[0], True
        for replica in ordered:
            if replica.replay_lsn >= min_lsn:
                return replica, True
        return ordered[0], False

    def mark_down(self, replica: Replica, error: BaseException) -> None:
        """Take a replica out of rotation now (a read failed on it); the health loop brings it back."""
        self._judge(replica, False, f"read failed: {type(error).__name__}: {error}"[:300])

    def status(self) -> list[dict[str, object]]:
        """Each replica's name, verdict, lag and reason (for logs, tests and operators)."""
        return [{"name": r.name, "healthy": r.healthy, "lag_s": r.lag_s, "reason": r.reason} for r in self.replicas]


def _retrieve(task: asyncio.Future[tuple[object, ...]]) -> None:
    """Done callback for a probe nobody waits for any more: collect its outcome so it is not logged as lost."""
    if not task.cancelled():
        task.exception()
