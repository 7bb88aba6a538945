"""NetworkPolicies: default deny; web only from the ingress controller; Redis and PostgreSQL only from web."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from k8s_manifests import VARIANTS, Manifest, of_kind, variant_id

Docs = Callable[[str, str | None], list[Manifest]]
INGRESS_CONTROLLER = "namespace ingress-nginx / app.kubernetes.io/name=ingress-nginx"
# Who may open connections to each tier (own kind: Redis replication + Sentinel, PostgreSQL streaming).
ALLOWED_IN = {
    "web": {(INGRESS_CONTROLLER, 8000)},
    "redis": {("web", 6379), ("web", 26379), ("redis", 6379), ("redis", 26379)},
    "postgres": {("web", 5432), ("postgres", 5432)},
}


def tier(selector: dict[str, Any]) -> str:
    labels = selector.get("matchLabels", {})
    return labels.get("app.kubernetes.io/component", "all pods") if labels else "all pods"


def peer(rule_peer: dict[str, Any]) -> str:
    if "ipBlock" in rule_peer:
        return rule_peer["ipBlock"]["cidr"]
    if "namespaceSelector" in rule_peer:
        namespace = rule_peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        pods = ",".join(f"{k}={v}" for k, v in rule_peer.get("podSelector", {}).get("matchLabels", {}).items())
        return f"namespace {namespace} / {pods or 'all pods'}"
    return tier(rule_peer["podSelector"])


def flows(policies: list[Manifest], direction: str) -> dict[str, set[tuple[str, int]]]:
    """tier -> {(peer, port)} allowed, from the ``ingress`` or ``egress`` rules of every policy."""
    key = "from" if direction == "ingress" else "to"
    allowed: dict[str, set[tuple[str, int]]] = {}
    for policy in policies:
        for rule in policy["spec"].get(direction, []):
            assert rule.get(key) and rule.get("ports"), f"{policy['metadata']['name']}: rule open to all"
            for rule_peer in rule[key]:
                for port in rule["ports"]:
                    allowed.setdefault(tier(policy["spec"]["podSelector"]), set()).add((peer(rule_peer), port["port"]))
    return allowed


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_default_deny_covers_every_pod_both_ways(variant: tuple[str, str | None], docs: Docs) -> None:
    policies = of_kind(docs(*variant), "NetworkPolicy")
    deny = [p for p in policies if p["metadata"]["name"] == "default-deny-all"]
    assert len(deny) == 1
    spec = deny[0]["spec"]
    assert spec["podSelector"] == {}
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in spec and "egress" not in spec


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_allowed_inbound_traffic_matches_the_tiers(variant: tuple[str, str | None], docs: Docs) -> None:
    assert flows(of_kind(docs(*variant), "NetworkPolicy"), "ingress") == ALLOWED_IN


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_allowed_outbound_traffic_matches_the_tiers(variant: tuple[str, str | None], docs: Docs) -> None:
    overlay, _ = variant
    outbound = flows(of_kind(docs(*variant), "NetworkPolicy"), "egress")
    dns = {("namespace kube-system / k8s-app=kube-dns", 53)}
    web = {("redis", 6379), ("redis", 26379), ("postgres", 5432)}
    if overlay == "aws":
        web |= {("10.0.0.0/16", 5432), ("10.0.0.0/16", 6379)}
    assert outbound == {
        "all pods": dns,
        "web": web,
        "redis": {("redis", 6379), ("redis", 26379)},
        "postgres": {("postgres", 5432)},
    }


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_every_workload_tier_is_reachable_only_through_a_policy(variant: tuple[str, str | None], docs: Docs) -> None:
    rendered = docs(*variant)
    tiers = {
        doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        for doc in of_kind(rendered, "Deployment", "StatefulSet")
    }
    assert tiers <= set(ALLOWED_IN)
