"""Changing a running cluster: start and kill nodes, fail or cut off a zone, heal, scale the web tier."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from myclothes.cluster import configs, monitoring, network
from myclothes.cluster.topology import Node
from myclothes.cluster.view import ClusterView
from myclothes.processes import http_ok, pid_alive, wait_gone, wait_until

MONITORING = (*monitoring.EXPORTERS, "prometheus")  # started last: they watch the rest
# Sentinels before Redis: a Redis keeps no data on disk, so one that comes back while the Sentinels still name it
# primary must wait for them to promote a replica, or it would return empty as primary and its replicas would copy
# the emptiness (see ``_await_live_redis_primary``).
START_ORDER = ("etcd", "postgres", "sentinel", "redis", "haproxy", "web", *MONITORING)
# A drained web process is stopped at the latest after this long: no request outlives the web tier's deadline
# (MYCLOTHES_REQUEST_DEADLINE_S, 5 s by default).
DRAIN_TIMEOUT_S = 5.0
WARM_UP = ("/readyz/write", "/api/products", "/products")  # a write connection, a catalog read, a rendered page


@dataclass(frozen=True)
class SlotChange:
    """One web slot that ``scale`` filled or drained, with when (``time.monotonic()``) it began and ended."""

    name: str
    action: str  # "added" (started, ready, taking traffic) or "drained" (no new requests, then stopped)
    began: float
    ended: float
    in_flight_left: int = 0  # drained: sessions still open when the wait gave up (0: a clean drain)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: the cluster's configs hold passwords and the secret key."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT


class ClusterOperations(ClusterView):
    """The operator's actions on nodes and zones, each checked (a start waits until the node is ready)."""

    def _start_processes(self, nodes: list[Node], timeout: float = 90.0) -> None:
        """Start nodes (together) and wait until each is ready."""
        if not nodes:
            return
        for node in nodes:
            if node.kind == "postgres":
                self._wait_postmaster_gone(node)
            if node.kind == "redis":
                self._point_redis_at_primary(node)
        self.supervisor.start(*(n.name for n in nodes))
        for node in nodes:
            try:
                wait_until(lambda n=node: self.ready(n), timeout, f"{node.name} to be ready")
            except RuntimeError as error:
                log = self.topology.directory / "logs" / f"{node.name}.log"
                tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
                raise RuntimeError("\n".join([str(error), f"last lines of {log}:", *tail])) from None

    def _write_web_targets(self) -> None:
        """Replace Prometheus's web targets file in one rename (it re-reads the file when it changes)."""
        path = self.topology.directory / monitoring.HOME / monitoring.WEB_TARGETS
        staged = path.with_suffix(".tmp")
        staged.write_text(monitoring.web_targets(self.topology))
        staged.replace(path)

    def _wait_postmaster_gone(self, node: Node) -> None:
        pid = self.postmaster_pid(node)
        if pid:
            wait_gone(pid, 10)

    def _point_redis_at_primary(self, node: Node) -> None:
        """A restarted Redis joins as a replica of the current primary (Sentinel would take 10-15 s to do it)."""
        primary = self.redis_primary_port()
        if primary is None:
            return
        replica_of = None if primary == node.port else primary
        home = self.topology.directory / node.name
        write_private(home / "redis.conf", configs.redis_config(self.topology, node, replica_of))

    def kill(self, name: str) -> list[int]:
        """SIGKILL one node (for PostgreSQL: Patroni and the postmaster). Web processes are restarted by supervisord."""
        node = self.topology.node(name)
        pids = [self.supervisor.pid(name)]
        if node.kind == "postgres":
            pids.append(self.postmaster_pid(node))
        killed = []
        for pid in pids:
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        return killed

    def start(self, name: str) -> None:
        """Start one node again and wait until it is ready."""
        node = self.topology.node(name)
        self._start_processes([node])
        if node.kind == "web":
            self.haproxy(f"set server web/{node.name} state ready")

    def fail_zone(self, zone: str) -> list[str]:
        """Take a whole zone out at one instant: SIGKILL every process in it, then keep its web processes down.

        The PIDs are read first (one ``supervisorctl status``) and killed in one go, so the zone dies within
        microseconds rather than node by node; supervisord may respawn a killed web process, which ``stop`` ends
        before it has finished importing, so no web process of the zone answers again until ``heal``.
        """
        nodes = [n for n in self.topology.nodes if n.zone == zone]
        if not nodes:
            raise KeyError(f"no zone {zone!r}; zones: {', '.join(self.topology.zones)}")
        states = self.supervisor.states()
        pids = [states.get(n.name, ("", 0))[1] for n in nodes]
        pids += [self.postmaster_pid(n) for n in nodes if n.kind == "postgres"]
        for pid in pids:
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        webs = [n.name for n in nodes if n.kind == "web" and n.enabled]
        if webs:
            self.supervisor.stop(*webs)
        return [n.name for n in nodes]

    def partition(self, zone: str) -> None:
        """Cut ``zone`` off from the rest of the cluster (load balancer included); its processes keep running."""
        if zone not in self.topology.zones:
            raise KeyError(f"no zone {zone!r}; zones: {', '.join(self.topology.zones)}")
        network.partition(self.topology.net(), zone)

    def heal(self) -> list[str]:
        """Undo partitions, then start every enabled node that is not running, in dependency order."""
        if self.topology.isolated:
            network.heal(self.topology.net())
        states = self.supervisor.states()
        started = []
        for kind in START_ORDER:
            down = [
                n
                for n in self.topology.of_kind(kind)
                if n.enabled and states.get(n.name, ("STOPPED", 0))[0] != "RUNNING"
            ]
            if kind == "redis" and down:
                self._await_live_redis_primary(down)
            self._start_processes(down)
            started += [n.name for n in down]
        return started

    def _await_live_redis_primary(self, down: list[Node], natural_s: float = 6.0) -> None:
        """Before restarting Redis nodes: if the Sentinels still name one of them primary while a running replica
        has the data, get that replica promoted first (a Redis keeps nothing on disk and would come back empty).

        The Sentinels are given ``natural_s`` to fail over by themselves. After a long loss of quorum they will not:
        a restarted Sentinel refuses every replica whose link to the primary has been down longer than it has
        seen the primary down plus 10 x down-after (``-failover-abort-no-good-slave``), so the operator's step is
        taken instead: promote the running replica with the most replicated data and point every Sentinel at it.
        """
        dead = {n.port for n in down}
        if len(dead) == len(self.topology.of_kind("redis")):
            return  # nothing kept the data: the first one back is the primary
        try:
            wait_until(lambda: self.redis_primary_port() not in dead, natural_s, "Sentinel to promote a Redis")
        except RuntimeError:
            self._promote_by_hand([n for n in self.topology.of_kind("redis") if n.port not in dead])

    def _promote_by_hand(self, running: list[Node]) -> None:
        def offset(node: Node) -> int:
            info = self.inside(node, lambda: self.redis_client(node).info("replication"))
            return int(info.get("slave_repl_offset", info.get("master_repl_offset", 0)))

        primary = max(running, key=offset)
        self.ask(primary, "REPLICAOF", "NO", "ONE")
        for replica in running:
            if replica is not primary:
                self.ask(replica, "REPLICAOF", self.topology.address(primary), str(primary.port))
        service = configs.REDIS_SERVICE
        for sentinel in self.topology.of_kind("sentinel"):
            with contextlib.suppress(redis.RedisError):
                self.ask(sentinel, "SENTINEL", "REMOVE", service)
                address, port, quorum = self.topology.address(primary), str(primary.port), str(configs.SENTINEL_QUORUM)
                self.ask(sentinel, "SENTINEL", "MONITOR", service, address, port, quorum)
                for name, value in configs.sentinel_options(self.topology):
                    self.ask(sentinel, "SENTINEL", "SET", service, name, value)
        wait_until(lambda: self.redis_primary_port() == primary.port, 15, f"the Sentinels to name {primary.name}")

    def scale(self, count: int) -> list[SlotChange]:
        """Run exactly ``count`` web processes, filling or draining pre-declared HAProxy slots at runtime.

        Added slots start together and take traffic (``state ready``) once each answers ``/readyz`` and has served
        its first requests (:data:`WARM_UP`). Removed slots
        are drained first: ``state drain`` (no new request), a wait until HAProxy has no session open to them (at
        most :data:`DRAIN_TIMEOUT_S`), then ``maint`` and a graceful stop, so no request in flight fails.
        """
        slots = self.topology.of_kind("web")
        if not 1 <= count <= len(slots):
            raise ValueError(f"web=N must be between 1 and {len(slots)} (the pre-declared slots)")
        adding = [n for n in slots[:count] if not n.enabled]
        draining = [n for n in slots[count:] if n.enabled]
        changes = []
        if adding:
            began = time.monotonic()
            self._start_processes(adding)
            for node in adding:
                self._warm_up(node)
                self.haproxy(f"set server web/{node.name} state ready")
                node.enabled = True
            changes += [SlotChange(n.name, "added", began, time.monotonic()) for n in adding]
        if draining:
            began = time.monotonic()
            for node in draining:
                self.haproxy(f"set server web/{node.name} state drain")
            left = self._wait_drained([n.name for n in draining])
            for node in draining:
                self.haproxy(f"set server web/{node.name} state maint")
            self.supervisor.stop(*(n.name for n in draining))
            for node in draining:
                node.enabled = False
            changes += [SlotChange(n.name, "drained", began, time.monotonic(), left[n.name]) for n in draining]
        self.topology.save()
        self._write_web_targets()
        return changes

    def _warm_up(self, node: Node) -> None:
        """A new process's first requests open its database and Redis connections and render its first pages; make
        them here, before it takes traffic, so that no shopper's request pays for them."""
        urls = [self.url(node, node.port, path) for path in WARM_UP]
        self.inside(node, lambda: [http_ok(url, timeout=DRAIN_TIMEOUT_S) for url in urls])

    def _wait_drained(self, names: list[str], timeout: float = DRAIN_TIMEOUT_S) -> dict[str, int]:
        """Wait until HAProxy has no session open to (and none queued for) the named web servers; what is left."""
        deadline = time.monotonic() + timeout
        while True:
            busy = {name: n for name, n in self.web_sessions().items() if name in names}
            if not any(busy.values()) or time.monotonic() >= deadline:
                return {name: busy.get(name, 0) for name in names}
            time.sleep(0.05)
