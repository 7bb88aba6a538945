"""The cluster's metrics server: Prometheus, its exporters, its scrape targets and its recording rules (text only).

Prometheus runs next to HAProxy (isolated: in the ``lb`` namespace, whose address the web tier trusts for
``/metrics``) and scrapes every second: the web processes (a file_sd targets file ``cluster scale`` rewrites),
HAProxy's built-in exporter, one Redis and one PostgreSQL exporter beside each server, Patroni's and etcd's own
``/metrics``. The recording rules are what the dashboard and the autoscaler read (docs/operations.md lists them).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from myclothes.cluster.topology import Node, Topology

HOME = "prometheus"  # under the cluster directory: config, rules, web targets, data
CONFIG = "prometheus.yml"
RULES = "rules.yml"
WEB_TARGETS = "web-targets.json"
RETENTION = "2h"
SCRAPE_INTERVAL = "1s"  # the dashboard refreshes every 1-2 s
EXPORTER_INTERVAL = "5s"  # Redis, PostgreSQL, Patroni, etcd: at 1 s they cost a fifth of a core (docs/operations.md)
EXPORTERS = ("redis-exporter", "pg-exporter")
WINDOW = "10s"  # every rate: ten scrapes

# Operation classes by route template (the ``route`` label of the web tier's metrics).
OPERATIONS = {
    "browse": r"/|/products|/products/\{slug:str\}|/api/products.*|/api/categories",
    "cart": r"/cart(/.*)?|/api/cart(/.*)?",
    "login": r"/api/auth/.*|/account/(login|logout|register)",
    "checkout": r"/checkout|/orders.*|/api/checkout|/api/orders.*",
}


def _rule(record: str, expr: str, **labels: str) -> dict[str, Any]:
    return {"record": record, "expr": expr, **({"labels": labels} if labels else {})}


def recording_rules() -> str:
    """The rules file: per route, per operation class, cart store, cache, replica lag and what an autoscaler reads.

    Names follow ``level:metric:operations``; every rate is over :data:`WINDOW`.
    """
    w = WINDOW
    web = 'job="web"'
    per_route = [
        _rule("myclothes:http_requests:rate10s", f"sum by (route) (rate(myclothes_http_requests_total{{{web}}}[{w}]))"),
        # Every route that was requested has an error rate, 0 when none failed, so its ratio is 0 rather than absent.
        _rule(
            "myclothes:http_errors:rate10s",
            f'sum by (route) (rate(myclothes_http_requests_total{{{web},status=~"5.."}}[{w}]))'
            " or (myclothes:http_requests:rate10s * 0)",
        ),
        _rule("myclothes:http_errors:ratio_rate10s", "myclothes:http_errors:rate10s / myclothes:http_requests:rate10s"),
        _rule(
            "myclothes:http_request_seconds_bucket:rate10s",
            f"sum by (route, le) (rate(myclothes_http_request_seconds_bucket{{{web}}}[{w}]))",
        ),
        _rule(
            "myclothes:http_latency_p99:seconds_10s",
            "histogram_quantile(0.99, myclothes:http_request_seconds_bucket:rate10s)",
        ),
    ]
    per_operation = []
    for operation, routes in OPERATIONS.items():
        match = f"{{route=~`{routes}`}}"  # PromQL anchors a regex at both ends
        per_operation += [
            _rule(
                "myclothes:operation_requests:rate10s",
                f"sum(myclothes:http_requests:rate10s{match})",
                operation=operation,
            ),
            _rule(
                "myclothes:operation_errors:ratio_rate10s",
                f"sum(myclothes:http_errors:rate10s{match}) / sum(myclothes:http_requests:rate10s{match})",
                operation=operation,
            ),
            _rule(
                "myclothes:operation_latency_p99:seconds_10s",
                f"histogram_quantile(0.99, sum by (le) (myclothes:http_request_seconds_bucket:rate10s{match}))",
                operation=operation,
            ),
        ]
    stores = [
        _rule(
            "myclothes:cart_ops:rate10s",
            f"sum by (store, op, result) (rate(myclothes_cart_ops_total{{{web}}}[{w}]))",
        ),
        _rule(
            "myclothes:cache_hits:ratio_rate10s",
            f'sum(rate(myclothes_cache_requests_total{{{web},result=~"hit|negative_hit"}}[{w}]))'
            f" / sum(rate(myclothes_cache_requests_total{{{web}}}[{w}]))",
        ),
        # Bytes of WAL each standby has still to replay, as the leader's pg_stat_replication sees it.
        _rule(
            "myclothes:pg_replica_lag:bytes",
            'max by (member) (label_replace(pg_stat_replication_pg_wal_lsn_diff{job="postgres"},'
            ' "member", "$1", "application_name", "(.*)"))',
        ),
        # More than one would be split brain; none, a failover in progress.
        _rule("myclothes:pg_primaries:count", 'sum(patroni_primary{job="patroni"})'),
        _rule("myclothes:redis_primaries:count", 'count(redis_instance_info{job="redis",role="master"}) or vector(0)'),
    ]
    capacity = [
        _rule("myclothes:web_cpu:rate10s", f"rate(process_cpu_seconds_total{{{web}}}[{w}])"),
        _rule(
            "myclothes:web_sessions:current",
            'label_replace(sum by (server) (haproxy_server_current_sessions{job="haproxy",proxy="web"}),'
            ' "instance", "$1", "server", "(.*)")',
        ),
        _rule(
            "myclothes:web_queue:current",
            'label_replace(sum by (server) (haproxy_server_current_queue{job="haproxy",proxy="web"}),'
            ' "instance", "$1", "server", "(.*)")',
        ),
        _rule("myclothes:web_backend_queue:current", 'sum(haproxy_backend_current_queue{job="haproxy",proxy="web"})'),
    ]
    groups = [
        {"name": "myclothes-requests", "interval": SCRAPE_INTERVAL, "rules": per_route + per_operation},
        {"name": "myclothes-stores-and-capacity", "interval": SCRAPE_INTERVAL, "rules": stores + capacity},
    ]
    return yaml.safe_dump({"groups": groups}, sort_keys=False, width=200)


def _targets(topology: Topology, nodes: list[Node], port: str = "port") -> list[dict[str, Any]]:
    """One file_sd/static target group per node, labelled ``instance`` (the node, or the server an exporter reads:
    ``redis-a``, not ``redis-exporter-a``) and ``zone``."""
    return [
        {
            "targets": [f"{topology.address(n)}:{getattr(n, port)}"],
            "labels": {"instance": served(topology, n).name if n.kind in EXPORTERS else n.name, "zone": n.zone},
        }
        for n in nodes
    ]


def web_targets(topology: Topology) -> str:
    """The web job's targets file: the slots ``cluster scale`` has enabled (Prometheus re-reads it by itself)."""
    return json.dumps(_targets(topology, [n for n in topology.of_kind("web") if n.enabled]), indent=2)


def prometheus_config(topology: Topology) -> str:
    """Scrape every tier every second (exporters every :data:`EXPORTER_INTERVAL`); evaluate the rules as often."""
    home = topology.directory / HOME
    balancer = topology.of_kind("haproxy")
    jobs: list[dict[str, Any]] = [
        {"job_name": "web", "file_sd_configs": [{"files": [str(home / WEB_TARGETS)]}]},
        {"job_name": "haproxy", "static_configs": _targets(topology, balancer, "extra_port")},
    ]
    for job, kind, port in (
        ("redis", "redis-exporter", "port"),
        ("postgres", "pg-exporter", "port"),
        ("patroni", "postgres", "extra_port"),
        ("etcd", "etcd", "port"),
    ):
        targets = _targets(topology, topology.of_kind(kind), port)
        jobs.append({"job_name": job, "scrape_interval": EXPORTER_INTERVAL, "static_configs": targets})
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL, "evaluation_interval": "1s"},
        "rule_files": [str(home / RULES)],
        "scrape_configs": jobs,
    }
    return yaml.safe_dump(config, sort_keys=False)


def prometheus_command(topology: Topology, node: Node) -> str:
    home = topology.directory / HOME
    return (
        f"prometheus --config.file={home / CONFIG} --storage.tsdb.path={home / 'data'}"
        f" --storage.tsdb.retention.time={RETENTION} --web.listen-address={topology.address(node)}:{node.port}"
        " --log.level=warn"
    )


def served(topology: Topology, exporter: Node) -> Node:
    """The Redis or PostgreSQL node an exporter reads (the one of its zone)."""
    return topology.node(f"{'redis' if exporter.kind == 'redis-exporter' else 'pg'}-{exporter.zone}")


def exporter_program(topology: Topology, node: Node) -> tuple[str, dict[str, str]]:
    """The command and environment of one exporter; the password goes in the environment, not on the command line."""
    server = served(topology, node)
    at = f"{topology.address(server)}:{server.port}"
    listen = f"{topology.address(node)}:{node.port}"
    if node.kind == "redis-exporter":
        command = f"prometheus-redis-exporter -redis.addr redis://{at} -web.listen-address {listen}"
        return command, {"REDIS_PASSWORD": topology.secrets["redis"]}
    dsn = f"postgresql://monitor:{topology.secrets['monitor']}@{at}/postgres?sslmode=disable"
    command = f"prometheus-postgres-exporter --web.listen-address={listen} --disable-settings-metrics --log.level=warn"
    return command, {"DATA_SOURCE_NAME": dsn}
