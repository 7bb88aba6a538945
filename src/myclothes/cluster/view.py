"""What a cluster is doing right now, asked the way an operator would: each node from its own network namespace."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from myclothes.cluster import configs, monitoring, network
from myclothes.cluster.supervisor import Supervisor
from myclothes.cluster.topology import Node, Topology
from myclothes.processes import PROBE, http_ok, listening

T = TypeVar("T")


class ClusterView:
    """Readiness, roles and status of one cluster's nodes (reads only; ``ClusterOperations`` changes things)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.supervisor = Supervisor(topology.directory)
        self.threads = network.NamespaceThreads()

    def inside(self, node: Node, probe: Callable[[], T]) -> T:
        """Run ``probe`` from the node's own network namespace (an operator on that instance), or here."""
        return self.threads.call(self.topology.netns(node), probe)

    def url(self, node: Node, port: int, path: str) -> str:
        return f"http://{self.topology.address(node)}:{port}{path}"

    def ready(self, node: Node) -> bool:
        """Is this node doing its job (not merely alive)?"""
        if node.kind == "etcd":
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/health")))
        if node.kind == "postgres":
            return self.inside(node, lambda: http_ok(self.url(node, node.extra_port, "/health")))
        if node.kind in ("redis", "sentinel"):
            return self.inside(node, lambda: self.redis_client(node).ping() is True)
        if node.kind == "haproxy":
            return listening(node.port, self.topology.lb_address)
        if node.kind == "prometheus":
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/-/ready")))
        if node.kind in monitoring.EXPORTERS:  # its landing page: /metrics would query the server
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/")))
        return self.inside(node, lambda: http_ok(self.url(node, node.port, "/readyz")))

    def redis_client(self, node: Node) -> redis.Redis:
        """A client for one Redis or Sentinel; call it through :meth:`inside` (its sockets open on first use)."""
        password = self.topology.secrets["redis"] if node.kind == "redis" else None
        return redis.Redis(
            host=self.topology.address(node),
            port=node.port,
            password=password,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )

    def redis_primary_port(self) -> int | None:
        """The Redis primary most answering Sentinels name (a cut-off or restarted Sentinel can be out of date)."""
        votes: dict[int, int] = {}
        for sentinel in self.topology.of_kind("sentinel"):
            try:
                _host, port = self.ask(sentinel, "SENTINEL", "get-master-addr-by-name", configs.REDIS_SERVICE)
                votes[int(port)] = votes.get(int(port), 0) + 1
            except (redis.RedisError, TypeError, ValueError):
                continue
        return max(votes, key=lambda port: votes[port]) if votes else None

    def ask(self, node: Node, *command: str) -> Any:
        """One command to a Redis or Sentinel, from its own namespace."""
        return self.inside(node, lambda: self.redis_client(node).execute_command(*command))

    def _patroni(self, node: Node, path: str) -> Any:
        """GET one Patroni REST endpoint's JSON, from the member's own namespace."""
        url = self.url(node, node.extra_port, path)
        return self.inside(node, lambda: PROBE.get(url, timeout=0.5).json())

    def redis_role(self, node: Node) -> str:
        """What one Redis says it is (``master``/``slave``), asked from its own namespace; ``-`` if it is down."""
        try:
            role = self.ask(node, "ROLE")
            return role[0].decode() if isinstance(role[0], bytes) else str(role[0])
        except (redis.RedisError, IndexError):
            return "-"

    def pg_members(self) -> dict[str, dict[str, Any]]:
        """Patroni's view of the members (``role``, ``state``, ``lag``), the leader's first (a member cut off from
        etcd keeps an old view), else the first REST API that answers."""
        leader = self.pg_leader()
        members = self.topology.of_kind("postgres")
        for node in sorted(members, key=lambda n: n is not leader):
            try:
                data = self._patroni(node, "/cluster")
                return {m["name"]: m for m in data.get("members", [])}
            except (httpx.HTTPError, ValueError):
                continue
        return {}

    def pg_own_role(self, node: Node) -> str:
        """What one Patroni says its PostgreSQL is (``primary``/``replica``), asked from its own namespace."""
        try:
            role = self._patroni(node, "/patroni").get("role", "-")
        except (httpx.HTTPError, ValueError):
            return "-"
        return "primary" if role in ("master", "primary") else str(role)

    def pg_leader(self) -> Node | None:
        """The PostgreSQL member whose Patroni answers 200 on ``/primary``."""
        for node in self.topology.of_kind("postgres"):
            if self.claims_primary(node):
                return node
        return None

    def claims_primary(self, node: Node, timeout: float = 0.5) -> bool:
        url = self.url(node, node.extra_port, "/primary")
        return self.inside(node, lambda: http_ok(url, timeout))

    def primaries(self) -> list[str]:
        """Every PostgreSQL member that claims to be primary right now (more than one would be split brain)."""
        return [n.name for n in self.topology.of_kind("postgres") if self.claims_primary(n, 0.3)]

    def status(self) -> dict[str, Any]:
        """The documented ``status --json`` document, plus replication lag where it applies."""
        states = self.supervisor.states()
        members = self.pg_members()
        nodes = []
        for node in self.topology.nodes:
            state, pid = states.get(node.name, ("STOPPED", 0))
            running = state == "RUNNING"
            role, lag = "-", None
            if node.kind == "postgres" and node.name in members:
                member = members[node.name]
                role = {"leader": "primary", "sync_standby": "standby"}.get(member["role"], "replica")
                lag = member.get("lag") if role != "primary" else 0
            elif node.kind == "postgres" and running:
                role = self.pg_own_role(node)  # not in the leader's view: cut off, or not yet rejoined
            elif node.kind == "redis" and running:
                # Each Redis's own word: a cut-off old primary still says master (and refuses writes).
                role = {"master": "primary", "slave": "replica"}.get(self.redis_role(node), "-")
            elif node.kind == "web" and not node.enabled:
                role = "spare"
            nodes.append(
                {
                    "name": node.name,
                    "kind": node.kind,
                    "zone": node.zone,
                    "role": role,
                    "pid": pid,
                    "port": node.port,
                    "healthy": running and self.ready(node),
                    "lag": lag,
                    "netns": self.topology.netns(node),
                    "address": self.topology.address(node),
                }
            )
        return {
            "lb_url": self.topology.lb_url,
            "prometheus_url": self.topology.prometheus_url,
            "isolated": self.topology.isolated,
            "nodes": nodes,
        }

    def postmaster_pid(self, node: Node) -> int:
        try:
            return int((self.topology.directory / node.name / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def haproxy(self, command: str) -> str:
        """One command on HAProxy's admin socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(self.topology.directory / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def running_web(self) -> list[str]:
        """The web slots that take traffic (``cluster scale`` enables and disables them)."""
        return [n.name for n in self.topology.of_kind("web") if n.enabled]

    def web_sessions(self) -> dict[str, int]:
        """Requests HAProxy has in flight to (``scur``) or queued for (``qcur``) each web server, from ``show stat``."""
        lines = self.haproxy("show stat").splitlines()
        if not lines or not lines[0].startswith("# "):
            raise RuntimeError(f"unexpected answer to `show stat`: {lines[:1]}")
        header = lines[0][2:].split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {
            row["svname"]: int(row["scur"] or 0) + int(row["qcur"] or 0)
            for row in rows
            if row["pxname"] == "web" and row["svname"] not in ("FRONTEND", "BACKEND")
        }
