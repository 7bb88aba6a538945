"""Configuration files for every process of the cluster, generated fresh from the topology."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from myclothes import processes
from myclothes.cluster import monitoring
from myclothes.cluster.network import exec_prefix
from myclothes.cluster.topology import Node, Topology
from myclothes.processes import balancer_config

PG_BIN = "/usr/lib/postgresql/15/bin"
REDIS_SERVICE = "myclothes"
DATABASE = "myclothes"

# Failover timing, the tightest that did not flap in a 10-minute soak at half the measured capacity (docs/cluster.md).
# Patroni requires loop_wait + 2 * retry_timeout <= ttl; an etcd or PostgreSQL stall shorter than retry_timeout
# never demotes the leader.
PATRONI_TTL_S = 6
PATRONI_LOOP_WAIT_S = 1
PATRONI_RETRY_TIMEOUT_S = 2
# Sentinel: a primary that has not answered PING for this long is subjectively down; 2 of 3 agreeing start the
# failover, and the new primary takes writes about 1.3 s later.
SENTINEL_DOWN_AFTER_MS = 1500
SENTINEL_FAILOVER_TIMEOUT_MS = 5000
SENTINEL_QUORUM = 2


def web_environment(topology: Topology, node: Node) -> dict[str, str]:
    """The ``MYCLOTHES_*`` settings of one web process: writer and reader through HAProxy, Redis through Sentinel."""
    pw = topology.secrets
    sentinels = ",".join(f"{topology.address(s)}:{s.port}" for s in topology.of_kind("sentinel"))
    lb = topology.address(topology.of_kind("haproxy")[0])
    # Isolated, HAProxy reaches the web tier from its namespace's address, not loopback: trust its X-Forwarded-For.
    proxies = {"MYCLOTHES_TRUSTED_PROXIES": f"{lb}/32"} if topology.isolated else {}
    return {
        **proxies,
        "MYCLOTHES_DATA_DIR": str(topology.directory / node.name),
        "MYCLOTHES_DATABASE_URL": f"postgresql+asyncpg://app:{pw['app']}@{lb}:{topology.pg_primary_port}/{DATABASE}",
        "MYCLOTHES_DATABASE_REPLICA_URLS": (
            f"postgresql+asyncpg://app:{pw['app']}@{lb}:{topology.pg_replica_port}/{DATABASE}"
        ),
        "MYCLOTHES_REDIS_SENTINELS": sentinels,
        "MYCLOTHES_REDIS_SERVICE": REDIS_SERVICE,
        "MYCLOTHES_REDIS_URL": f"redis://:{pw['redis']}@127.0.0.1/0",
        "MYCLOTHES_CART_STORE": topology.cart_store,
        "MYCLOTHES_CACHE": "memory",
        "MYCLOTHES_INSTANCE": node.name,
        "MYCLOTHES_ZONE": node.zone,
        "MYCLOTHES_SECRET_KEYS": pw["secret_key"],
        # Every drill registers its 64 shoppers from the host's one address, several drills an hour: the limit
        # stays on (login limits keep their defaults), sized for that.
        "MYCLOTHES_REGISTER_IP_MAX_PER_HOUR": "2000",
    }


def etcd_command(topology: Topology, node: Node) -> str:
    """The etcd member of one zone; peers and clients on the zone's data address (loopback unless isolated)."""
    initial = ",".join(f"{n.name}=http://{topology.address(n)}:{n.extra_port}" for n in topology.of_kind("etcd"))
    at = topology.address(node)
    return (
        f"etcd --name {node.name} --data-dir {topology.directory / node.name}"
        f" --listen-client-urls http://{at}:{node.port} --advertise-client-urls http://{at}:{node.port}"
        f" --listen-peer-urls http://{at}:{node.extra_port}"
        f" --initial-advertise-peer-urls http://{at}:{node.extra_port}"
        f" --initial-cluster {initial} --initial-cluster-token myclothes --initial-cluster-state new"
    )


def patroni_config(topology: Topology, node: Node) -> str:
    """Patroni for one PostgreSQL member: synchronous_mode, scram, separate admin and replication roles."""
    pw = topology.secrets
    home = topology.directory / node.name
    at = topology.address(node)
    config = {
        "scope": "myclothes",
        "name": node.name,
        "restapi": {"listen": f"{at}:{node.extra_port}", "connect_address": f"{at}:{node.extra_port}"},
        "etcd3": {"hosts": [f"{topology.address(n)}:{n.port}" for n in topology.of_kind("etcd")]},
        "bootstrap": {
            "dcs": {
                # The leader key lives TTL_S after the leader's last renewal: a dead leader is replaced within it.
                "ttl": PATRONI_TTL_S,
                "loop_wait": PATRONI_LOOP_WAIT_S,
                "retry_timeout": PATRONI_RETRY_TIMEOUT_S,
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": True,
                "postgresql": {
                    "use_pg_rewind": True,
                    "parameters": {
                        "wal_level": "replica",
                        "hot_standby": "on",
                        "wal_log_hints": "on",
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "password_encryption": "scram-sha-256",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, "no-sync", {"auth": "scram-sha-256"}],
            "pg_hba": [
                "local all all trust",
                f"host replication replicator {topology.clients} scram-sha-256",
                f"host all all {topology.clients} scram-sha-256",
            ],
        },
        "postgresql": {
            "listen": f"{at}:{node.port}",
            "connect_address": f"{at}:{node.port}",
            "data_dir": str(home / "data"),
            "bin_dir": PG_BIN,
            "pgpass": str(home / "pgpass"),
            "authentication": {
                "superuser": {"username": "admin", "password": pw["admin"]},
                "replication": {"username": "replicator", "password": pw["replicator"]},
                "rewind": {"username": "admin", "password": pw["admin"]},
            },
            "parameters": {"unix_socket_directories": str(home)},
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }
    return yaml.safe_dump(config, sort_keys=False)


def redis_config(topology: Topology, node: Node, replica_of: int | None) -> str:
    """A password-protected Redis that refuses writes without one replica attached."""
    pw = topology.secrets["redis"]
    lines = [
        f"port {node.port}",
        f"bind {topology.address(node)}",
        f"dir {topology.directory / node.name}",
        'save ""',
        "appendonly no",
        "daemonize no",
        f"requirepass {pw}",
        f"masterauth {pw}",
        "min-replicas-to-write 1",
        # A primary cut off from its replicas refuses writes once their last acknowledgement is this old (seconds):
        # the isolated side of a partition stops taking writes that the majority side's new primary never sees.
        "min-replicas-max-lag 3",
        "repl-diskless-sync-delay 0",
    ]
    if replica_of:
        lines.append(f"replicaof {redis_address(topology, replica_of)} {replica_of}")
    return "\n".join(lines) + "\n"


def redis_address(topology: Topology, port: int) -> str:
    """The address of the Redis listening on ``port``."""
    return topology.address(next(n for n in topology.of_kind("redis") if n.port == port))


def sentinel_options(topology: Topology) -> list[tuple[str, str]]:
    """What every Sentinel sets for the service besides ``monitor`` (config file and ``SENTINEL SET`` alike)."""
    return [
        ("auth-pass", topology.secrets["redis"]),
        ("down-after-milliseconds", str(SENTINEL_DOWN_AFTER_MS)),
        ("failover-timeout", str(SENTINEL_FAILOVER_TIMEOUT_MS)),
        ("parallel-syncs", "1"),
    ]


def sentinel_config(topology: Topology, node: Node, primary_port: int) -> str:
    """One Sentinel (quorum 2 of 3), generated fresh per cluster since Sentinel rewrites it."""
    primary = (redis_address(topology, primary_port), primary_port)
    where = (node.port, topology.address(node), topology.directory / node.name)
    return processes.sentinel_config(*where, REDIS_SERVICE, primary, SENTINEL_QUORUM, sentinel_options(topology))


def haproxy_config(topology: Topology) -> str:
    """The only public port (web, see :mod:`myclothes.processes.haproxy`), plus the database writer and reader
    ports chosen by Patroni's health checks.

    The writer port cuts a demoted primary's sessions (``shutdown-sessions``); the reader port does not, since a
    standby just promoted still answers reads correctly.
    """
    web = topology.of_kind("web")
    front = balancer_config(
        topology.directory / "haproxy.sock",
        f"{topology.lb_address}:{topology.lb_port}",
        {n.name: f"{topology.address(n)}:{n.port}" for n in web},
        sticky=topology.cart_store == "memory",
        disabled={n.name for n in web if not n.enabled},
    )
    pg_servers = "\n".join(
        f"  server {n.name} {topology.address(n)}:{n.port} check port {n.extra_port}"
        for n in topology.of_kind("postgres")
    )
    internal = topology.address(topology.of_kind("haproxy")[0])
    return f"""{front}
listen pg_primary
  bind {internal}:{topology.pg_primary_port}
  mode tcp
  timeout client 30m
  timeout server 30m
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
{pg_servers}

listen pg_replica
  bind {internal}:{topology.pg_replica_port}
  mode tcp
  timeout client 30m
  timeout server 30m
  balance roundrobin
  option httpchk GET /replica
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
{pg_servers}
""" + haproxy_metrics_frontend(topology)


def haproxy_metrics_frontend(topology: Topology) -> str:
    """HAProxy's built-in Prometheus exporter on the balancer's internal address, for Prometheus beside it only."""
    balancer = topology.of_kind("haproxy")[0]
    return f"""
frontend metrics
  bind {topology.address(balancer)}:{balancer.extra_port}
  http-request use-service prometheus-exporter if {{ path /metrics }}
  http-request deny deny_status 404
"""


def _program(name: str, command: str, logs: Path, **options: str) -> str:
    settings = {
        "command": command,
        "autostart": "false",
        "autorestart": "false",
        "startsecs": "0",
        "stopasgroup": "true",
        "killasgroup": "true",
        "stopwaitsecs": "15",
        "redirect_stderr": "true",
        "stdout_logfile": str(logs / f"{name}.log"),
        "stdout_logfile_maxbytes": "20MB",
        "umask": "077",  # what a process writes (Sentinel's rewritten config, Redis dumps) only its owner reads
        **options,
    }
    return f"[program:{name}]\n" + "\n".join(f"{k}={v}" for k, v in settings.items()) + "\n"


def supervisord_config(topology: Topology) -> str:
    """supervisord runs every process; only web processes restart by themselves (the Auto Scaling Group's job)."""
    d = topology.directory
    logs = d / "logs"
    parts = [
        f"[unix_http_server]\nfile={d / 'supervisor.sock'}\nchmod=0700\n",
        f"[supervisord]\nlogfile={logs / 'supervisord.log'}\npidfile={d / 'supervisord.pid'}\n"
        f"childlogdir={logs}\nnodaemon=true\n",
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{d / 'supervisor.sock'}\n",
    ]
    for node in topology.nodes:
        home = d / node.name
        # Isolated: each program starts inside its namespace (``ip netns exec`` then execs it, so the PID is the
        # program's own). Entering a namespace needs root, so Patroni drops to postgres after it (setpriv execs too).
        inside = " ".join(exec_prefix(topology.netns(node)))
        prefix = f"{inside} " if inside else ""
        options: dict[str, str] = {}
        if node.kind == "etcd":
            command = etcd_command(topology, node)
        elif node.kind == "postgres":
            command = f"patroni {home / 'patroni.yml'}"
            if inside:
                command = f"setpriv --reuid=postgres --regid=postgres --init-groups {command}"
            else:
                options["user"] = "postgres"
        elif node.kind == "redis":
            command = f"redis-server {home / 'redis.conf'}"
        elif node.kind == "sentinel":
            command = f"redis-sentinel {home / 'sentinel.conf'}"
        elif node.kind == "haproxy":
            command = f"haproxy -db -f {d / 'haproxy.cfg'}"
        elif node.kind == "prometheus":
            command = monitoring.prometheus_command(topology, node)
        elif node.kind in monitoring.EXPORTERS:
            command, secret = monitoring.exporter_program(topology, node)
            options["environment"] = ",".join(f'{k}="{v}"' for k, v in secret.items())
        else:
            env = ",".join(f'{k}="{v}"' for k, v in web_environment(topology, node).items())
            command = f"{sys.executable} -m myclothes.cli serve --host {topology.address(node)} --port {node.port}"
            options = {
                "environment": env,
                "autorestart": "true",
                "startsecs": "1",
                "startretries": "100",
                "stopwaitsecs": "5",
            }
        parts.append(_program(node.name, prefix + command, logs, **options))
    return "\n".join(parts)
