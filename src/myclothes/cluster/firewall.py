"""The cluster's security groups and the nftables tables rendered from them (text only; network.py applies them)."""

from __future__ import annotations

from dataclasses import dataclass

from myclothes.cluster.netplan import Plan

TABLE = "myclothes"


@dataclass(frozen=True)
class Rule:
    """Traffic a tier may open to another tier's services (replies are allowed by connection tracking)."""

    source: str  # host, lb, web, data
    destination: str
    services: tuple[str, ...]
    why: str


# The seed's security groups, the one description the nftables tables and docs/cluster.md are rendered from.
# Services name ports: shop (the LB's public port), web, pg-primary/pg-replica (HAProxy's database ports),
# postgres, patroni (its REST API), etcd, etcd-peer, redis, sentinel, prometheus, haproxy-metrics (HAProxy's
# exporter, reached only from its own namespace), redis-exporter, pg-exporter.
SECURITY_GROUPS: tuple[Rule, ...] = (
    Rule("host", "lb", ("shop",), "the only public entry: shoppers reach the load balancer"),
    Rule(
        "host",
        "lb",
        ("prometheus",),
        "operators read the metrics server (in the cloud: from behind the VPN, never on the internet-facing balancer)",
    ),
    Rule("lb", "web", ("web",), "HAProxy forwards to the web processes and checks /readyz"),
    Rule("web", "lb", ("pg-primary", "pg-replica"), "the web tier's database writer and reader are HAProxy ports"),
    Rule("lb", "data", ("postgres", "patroni"), "HAProxy asks Patroni who is primary and forwards to PostgreSQL"),
    Rule("web", "data", ("redis", "sentinel"), "carts and sessions in Redis, found through Sentinel"),
    Rule(
        "lb",
        "data",
        ("etcd", "patroni", "redis-exporter", "pg-exporter"),
        "Prometheus, beside HAProxy, scrapes etcd, Patroni and the Redis and PostgreSQL exporters",
    ),
    Rule(
        "data",
        "data",
        ("etcd", "etcd-peer", "postgres", "patroni", "redis", "sentinel"),
        "etcd peers, Patroni's leader race and streaming replication, Redis replication, Sentinel gossip",
    ),
)


def allowed(source: str, destination: str, service: str) -> bool:
    """May a process of tier ``source`` open a connection to ``service`` of tier ``destination``?"""
    return any(r.source == source and r.destination == destination and service in r.services for r in SECURITY_GROUPS)


def _set(items: list[str] | list[int]) -> str:
    return "{ " + ", ".join(str(item) for item in items) + " }"


def ruleset(plan: Plan, tier: str, services: dict[str, list[int]]) -> str:
    """The nftables table of one namespace of ``tier``: input default drop, admitting :data:`SECURITY_GROUPS`.

    Output is limited to the cluster's own /24 and loopback: nothing can leave even if a route appeared.
    """
    accepts = []
    for rule in SECURITY_GROUPS:
        if rule.destination != tier:
            continue
        ports = sorted({port for service in rule.services for port in services.get(service, [])})
        if ports:
            sources = _set(plan.tier_addresses(rule.source))
            accepts.append(
                f"    ip saddr {sources} tcp dport {_set(ports)} accept  # {rule.source} -> {rule.destination}"
            )
    return f"""table inet {TABLE} {{
  chain input {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
{chr(10).join(accepts)}
  }}
  chain output {{
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr {plan.subnet} accept
  }}
}}
"""


def fabric_ruleset(plan: Plan) -> str:
    """The fabric forwards only between the cluster's own addresses; ``partition`` holds the cuts of a partition."""
    return f"""table inet {TABLE} {{
  chain partition {{
  }}
  chain forward {{
    type filter hook forward priority 0; policy drop;
    jump partition
    ip saddr {plan.subnet} ip daddr {plan.subnet} accept
  }}
  chain input {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
  }}
}}
"""


def security_group_table() -> str:
    """:data:`SECURITY_GROUPS` as the Markdown table docs/cluster.md prints (a test keeps the two equal)."""
    lines = ["| from | to | services (TCP) | why |", "|---|---|---|---|"]
    for rule in SECURITY_GROUPS:
        lines.append(f"| {rule.source} | {rule.destination} | {', '.join(rule.services)} | {rule.why} |")
    return "\n".join(lines)
