"""The local multi-zone cluster: bring it up, inspect it, break it, heal it, scale it, tear it down."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from myclothes.cluster import configs, monitoring, network
from myclothes.cluster.report import SYSTEM_PYTHON
from myclothes.cluster.supervisor import Supervisor
from myclothes.cluster.topology import Node, Topology
from myclothes.processes import PROBE, http_ok, listening, pid_alive, wait_gone, wait_until

BINARIES = {
    "etcd": "etcd-server",
    "etcdctl": "etcd-client",
    "patroni": "patroni",
    "redis-server": "redis-server",
    "redis-sentinel": "redis-sentinel",
    "haproxy": "haproxy",
    "supervisord": "supervisor",
    "prometheus": "prometheus",
    "prometheus-redis-exporter": "prometheus-redis-exporter",
    "prometheus-postgres-exporter": "prometheus-postgres-exporter",
}
MONITORING = (*monitoring.EXPORTERS, "prometheus")  # started last: they watch the rest
# Sentinels before Redis: a Redis keeps no data on disk, so one that comes back while the Sentinels still name it
# primary must wait for them to promote a replica, or it would return empty as primary and its replicas would copy
# the emptiness (see ``_await_live_redis_primary``).
START_ORDER = ("etcd", "postgres", "sentinel", "redis", "haproxy", "web", *MONITORING)
T = TypeVar("T")


def ensure_binaries(isolate: bool = False) -> None:
    """Install missing Debian packages when root; otherwise say exactly what to install."""
    wanted = {**BINARIES, "ip": "iproute2", "nft": "nftables"} if isolate else BINARIES
    missing = sorted({pkg for binary, pkg in wanted.items() if not shutil.which(binary)})
    if not Path(configs.PG_BIN, "postgres").exists():
        missing.append("postgresql-15")
    if subprocess.run([SYSTEM_PYTHON, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        missing.append("python3-matplotlib")  # the drill plots are drawn by the system Python
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"missing packages; run: apt-get install -y {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, env=env)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: the cluster's configs hold passwords and the secret key."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT


class Cluster:
    """Operations on one cluster directory."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.supervisor = Supervisor(topology.directory)
        self.threads = network.NamespaceThreads()

    def inside(self, node: Node, probe: Callable[[], T]) -> T:
        """Run ``probe`` from the node's own network namespace (an operator on that instance), or here."""
        return self.threads.call(self.topology.netns(node), probe)

    def url(self, node: Node, port: int, path: str) -> str:
        return f"http://{self.topology.address(node)}:{port}{path}"

    @classmethod
    def open(cls, directory: Path) -> Cluster:
        """The cluster previously started in ``directory``."""
        return cls(Topology.load(directory))

    # ----- bring up / tear down -------------------------------------------------------------------------------
    @classmethod
    def up(
        cls, directory: Path, zones: int = 3, web_per_zone: int = 1, cart_store: str = "redis", isolate: bool = False
    ) -> Cluster:
        """Start etcd, Patroni, Redis + Sentinel, HAProxy and the web tier, each step checked before the next.

        ``isolate``: every tier and zone in its own network namespace behind the security-group rules.
        """
        if isolate:
            network.require_namespaces()
        ensure_binaries(isolate)
        directory = directory.resolve()
        if (directory / "state.json").exists():
            existing = cls.open(directory)
            if pid_alive(existing.supervisor.supervisord_pid()):
                raise RuntimeError(f"a cluster is already running in {directory}; `cluster down` first")
            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)  # the postgres user must reach its data directories
        for parent in directory.parents:
            if not parent.stat().st_mode & 0o001:
                raise RuntimeError(f"{parent} is not reachable by the postgres user: chmod o+x it or use another --dir")
        topology = Topology.plan(directory, zones, web_per_zone, cart_store)
        (directory / "logs").mkdir(exist_ok=True)
        cluster = cls(topology)
        if isolate:
            plan = network.choose_plan(topology.zones)
            topology.network = {"cluster_id": plan.cluster_id, "subnet": plan.subnet}
        topology.save()  # before any namespace exists: `cluster down` finds them by id even if `up` dies next
        try:
            if isolate:
                network.create(topology.net(), topology.services)
            cluster._write_configs()
            cluster.supervisor.launch()
            cluster._start_data_tier()
            cluster._start_processes(topology.of_kind("haproxy"))
            cluster._prepare_database()
            cluster._start_processes([n for n in topology.of_kind("web") if n.enabled])
            for kind in MONITORING:
                cluster._start_processes(topology.of_kind(kind))
        except BaseException:
            cluster.down()
            raise
        return cluster

    def _write_configs(self) -> None:
        t = self.topology
        redis_nodes = t.of_kind("redis")
        primary = redis_nodes[0].port
        for node in t.nodes:
            home = t.directory / node.name
            home.mkdir(exist_ok=True)
            if node.kind == "postgres":
                write_private(home / "patroni.yml", configs.patroni_config(t, node))
                home.chmod(0o700)
                shutil.chown(home, "postgres", "postgres")
                shutil.chown(home / "patroni.yml", "postgres", "postgres")
            elif node.kind == "redis":
                replica_of = None if node.port == primary else primary
                write_private(home / "redis.conf", configs.redis_config(t, node, replica_of))
            elif node.kind == "sentinel":
                write_private(home / "sentinel.conf", configs.sentinel_config(t, node, primary))
        write_private(t.directory / "haproxy.cfg", configs.haproxy_config(t))
        prometheus = t.directory / monitoring.HOME
        (prometheus / monitoring.RULES).write_text(monitoring.recording_rules())
        (prometheus / monitoring.CONFIG).write_text(monitoring.prometheus_config(t))
        self._write_web_targets()
        write_private(t.directory / "supervisord.conf", configs.supervisord_config(t))  # holds the web's secrets

    def _write_web_targets(self) -> None:
        """Replace Prometheus's web targets file in one rename (it re-reads the file when it changes)."""
        path = self.topology.directory / monitoring.HOME / monitoring.WEB_TARGETS
        staged = path.with_suffix(".tmp")
        staged.write_text(monitoring.web_targets(self.topology))
        staged.replace(path)

    def _start_data_tier(self) -> None:
        t = self.topology
        self._start_processes(t.of_kind("etcd"))
        postgres = t.of_kind("postgres")
        self._start_processes(postgres[:1])
        wait_until(lambda: self.pg_leader() is not None, 60, "the first PostgreSQL leader")
        self._start_processes(postgres[1:])
        self._start_processes(t.of_kind("redis"))
        self._start_processes(t.of_kind("sentinel"))

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

    def _prepare_database(self) -> None:
        """Create the app role and database (as admin), then migrate and seed once through the writer port."""
        t = self.topology
        leader = self.pg_leader()
        assert leader is not None
        env = {**os.environ, "PGPASSWORD": t.secrets["admin"]}
        psql = [
            *network.exec_prefix(t.netns(leader)),
            f"{configs.PG_BIN}/psql",
            "-h",
            t.address(leader),
            "-p",
            str(leader.port),
            "-U",
            "admin",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        sql = f"CREATE ROLE app LOGIN PASSWORD '{t.secrets['app']}';"
        # The PostgreSQL exporters' role: reads the statistics views (pg_stat_replication included), nothing else.
        sql += f"CREATE ROLE monitor LOGIN PASSWORD '{t.secrets['monitor']}' IN ROLE pg_monitor;"
        subprocess.run([*psql, "-d", "postgres", "-c", sql], env=env, check=True, capture_output=True)
        subprocess.run(
            [*psql, "-d", "postgres", "-c", f"CREATE DATABASE {configs.DATABASE} OWNER app;"],
            env=env,
            check=True,
            capture_output=True,
        )
        self.app_command("db", "upgrade")
        self.app_command("db", "seed", "--products", "60")

    def app_command(self, *args: str, stdin: str | None = None) -> str:
        """Run one `myclothes` command with a web process's settings (the cluster's database and Redis)."""
        web = self.topology.of_kind("web")[0]
        web_env = {**os.environ, **configs.web_environment(self.topology, web)}
        command = [*network.exec_prefix(self.topology.netns(web)), sys.executable, "-m", "myclothes.cli", *args]
        result = subprocess.run(command, env=web_env, capture_output=True, text=True, input=stdin)
        if result.returncode != 0:
            raise RuntimeError(f"myclothes {args[0]} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def down(self) -> None:
        """Stop every process of the cluster and wait until none is left and no port listens.

        Isolated: then remove its namespaces (with their links, bridges and nftables tables) and the host's link,
        found by the cluster id, so this also cleans up after an ``up`` that died halfway.
        """
        if self.topology.isolated and os.geteuid() != 0:
            raise RuntimeError("this cluster runs in network namespaces: `cluster down` needs root")
        self.supervisor.shutdown()
        for node in self.topology.of_kind("postgres"):
            pid = self._postmaster_pid(node)
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                if not wait_gone(pid, 15):
                    os.kill(pid, signal.SIGKILL)
                    wait_gone(pid, 5)
        if self.topology.isolated:
            self._remove_namespaces()
            return
        ports = [self.topology.lb_port, self.topology.pg_primary_port, self.topology.pg_replica_port]
        ports += [port for n in self.topology.nodes for port in (n.port, n.extra_port) if port]
        wait_until(lambda: not any(listening(p) for p in ports), 15, "every port to close")

    def _remove_namespaces(self) -> None:
        """Wait until no process is left in the cluster's namespaces, then delete them and the host's link."""
        plan = self.topology.net()

        def empty() -> bool:
            present = set(network.namespaces())
            return not any(network.pids(ns) for ns in plan.namespaces if ns in present)

        wait_until(empty, 20, "every process in the cluster's namespaces to exit")
        network.destroy(plan)
        left = network.leftovers(plan)
        if left:
            raise RuntimeError(f"could not remove {', '.join(left)}")

    # ----- inspection ----------------------------------------------------------------------------------------
    def ready(self, node: Node) -> bool:
        """Is this node doing its job (not merely alive)?"""
        if node.kind == "etcd":
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/health")))
        if node.kind == "postgres":
            return self.inside(node, lambda: http_ok(self.url(node, node.extra_port, "/health")))
        if node.kind in ("redis", "sentinel"):
            return self.inside(node, lambda: self._redis(node).ping() is True)
        if node.kind == "haproxy":
            return listening(node.port, self.topology.lb_address)
        if node.kind == "prometheus":
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/-/ready")))
        if node.kind in monitoring.EXPORTERS:  # its landing page: /metrics would query the server
            return self.inside(node, lambda: http_ok(self.url(node, node.port, "/")))
        return self.inside(node, lambda: http_ok(self.url(node, node.port, "/readyz")))

    def _redis(self, node: Node) -> redis.Redis:
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
                _host, port = self._ask(sentinel, "SENTINEL", "get-master-addr-by-name", configs.REDIS_SERVICE)
                votes[int(port)] = votes.get(int(port), 0) + 1
            except (redis.RedisError, TypeError, ValueError):
                continue
        return max(votes, key=lambda port: votes[port]) if votes else None

    def _ask(self, node: Node, *command: str) -> Any:
        """One command to a Redis or Sentinel, from its own namespace."""
        return self.inside(node, lambda: self._redis(node).execute_command(*command))

    def _patroni(self, node: Node, path: str) -> Any:
        """GET one Patroni REST endpoint's JSON, from the member's own namespace."""
        url = self.url(node, node.extra_port, path)
        return self.inside(node, lambda: PROBE.get(url, timeout=0.5).json())

    def redis_role(self, node: Node) -> str:
        """What one Redis says it is (``master``/``slave``), asked from its own namespace; ``-`` if it is down."""
        try:
            role = self._ask(node, "ROLE")
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
            if self._claims_primary(node):
                return node
        return None

    def _claims_primary(self, node: Node, timeout: float = 0.5) -> bool:
        url = self.url(node, node.extra_port, "/primary")
        return self.inside(node, lambda: http_ok(url, timeout))

    def primaries(self) -> list[str]:
        """Every PostgreSQL member that claims to be primary right now (more than one would be split brain)."""
        return [n.name for n in self.topology.of_kind("postgres") if self._claims_primary(n, 0.3)]

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

    # ----- faults and repairs --------------------------------------------------------------------------------
    def _postmaster_pid(self, node: Node) -> int:
        try:
            return int((self.topology.directory / node.name / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def _wait_postmaster_gone(self, node: Node) -> None:
        pid = self._postmaster_pid(node)
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
            pids.append(self._postmaster_pid(node))
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
            self._haproxy(f"set server web/{node.name} state ready")

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
        pids += [self._postmaster_pid(n) for n in nodes if n.kind == "postgres"]
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
            info = self.inside(node, lambda: self._redis(node).info("replication"))
            return int(info.get("slave_repl_offset", info.get("master_repl_offset", 0)))

        primary = max(running, key=offset)
        self._ask(primary, "REPLICAOF", "NO", "ONE")
        for replica in running:
            if replica is not primary:
                self._ask(replica, "REPLICAOF", self.topology.address(primary), str(primary.port))
        service = configs.REDIS_SERVICE
        for sentinel in self.topology.of_kind("sentinel"):
            with contextlib.suppress(redis.RedisError):
                self._ask(sentinel, "SENTINEL", "REMOVE", service)
                address, port, quorum = self.topology.address(primary), str(primary.port), str(configs.SENTINEL_QUORUM)
                self._ask(sentinel, "SENTINEL", "MONITOR", service, address, port, quorum)
                for name, value in configs.sentinel_options(self.topology):
                    self._ask(sentinel, "SENTINEL", "SET", service, name, value)
        wait_until(lambda: self.redis_primary_port() == primary.port, 15, f"the Sentinels to name {primary.name}")

    def scale(self, count: int) -> None:
        """Run exactly ``count`` web processes, filling or draining pre-declared HAProxy slots at runtime."""
        slots = self.topology.of_kind("web")
        if not 1 <= count <= len(slots):
            raise ValueError(f"web=N must be between 1 and {len(slots)} (the pre-declared slots)")
        for index, node in enumerate(slots):
            if index < count and not node.enabled:
                self._start_processes([node])
                self._haproxy(f"set server web/{node.name} state ready")
                node.enabled = True
            elif index >= count and node.enabled:
                self._haproxy(f"set server web/{node.name} state drain")
                time.sleep(1.0)
                self._haproxy(f"set server web/{node.name} state maint")
                self.supervisor.stop(node.name)
                node.enabled = False
        self.topology.save()
        self._write_web_targets()

    def _haproxy(self, command: str) -> str:
        """One command on HAProxy's admin socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(self.topology.directory / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        return b"".join(chunks).decode()
