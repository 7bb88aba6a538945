"""The local multi-zone cluster: bring it up, tear it down (its state: view.py; changing it: operations.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from myclothes.cluster import configs, monitoring, network
from myclothes.cluster.operations import MONITORING, ClusterOperations, write_private
from myclothes.cluster.report import SYSTEM_PYTHON
from myclothes.cluster.topology import Topology
from myclothes.processes import listening, pid_alive, wait_gone, wait_until

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


class Cluster(ClusterOperations):
    """One cluster directory: bring it up and tear it down (inspection and operations are inherited)."""

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

    def _start_data_tier(self) -> None:
        t = self.topology
        self._start_processes(t.of_kind("etcd"))
        postgres = t.of_kind("postgres")
        self._start_processes(postgres[:1])
        wait_until(lambda: self.pg_leader() is not None, 60, "the first PostgreSQL leader")
        self._start_processes(postgres[1:])
        self._start_processes(t.of_kind("redis"))
        self._start_processes(t.of_kind("sentinel"))

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
            pid = self.postmaster_pid(node)
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
