"""The isolated cluster's plan and rules, without creating anything: addresses, namespaces, nftables text, docs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from myclothes.cluster import configs, firewall, network
from myclothes.cluster.criteria import drill_checks
from myclothes.cluster.firewall import SECURITY_GROUPS
from myclothes.cluster.netplan import Plan
from myclothes.cluster.topology import Topology

ROOT = Path(__file__).resolve().parents[2]


def isolated(tmp_path: Path) -> Topology:
    topology = Topology.plan(tmp_path, zones=3, web_per_zone=1, cart_store="redis")
    topology.network = {"cluster_id": "mc1a2b", "subnet": "10.213.57.0/24"}
    return topology


def test_every_address_lies_in_the_clusters_own_block_and_no_two_namespaces_share_one(tmp_path: Path) -> None:
    plan = isolated(tmp_path).net()
    addresses = [plan.host_address, plan.lb_public, plan.lb_internal, plan.fabric_lb_side]
    addresses += [a for z in plan.zones for a in (plan.gateway(z), plan.web(z), plan.data(z))]
    assert len(set(addresses)) == len(addresses)
    assert all(ipaddress.ip_address(a) in plan.net for a in addresses)
    assert plan.net.subnet_of(network.BLOCK)  # type: ignore[arg-type]
    nets = [plan.zone_net(z) for z in plan.zones]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_namespaces_are_named_after_the_cluster_so_two_clusters_never_clash() -> None:
    plan = Plan("mc1a2b", "10.213.57.0/24", ("a", "b", "c"))
    assert plan.namespaces == [
        "mc1a2b-lb",
        "mc1a2b-fabric",
        "mc1a2b-web-a",
        "mc1a2b-data-a",
        "mc1a2b-web-b",
        "mc1a2b-data-b",
        "mc1a2b-web-c",
        "mc1a2b-data-c",
    ]
    assert all(len(name) <= 15 for name in [*plan.namespaces, plan.host_link])  # interface-name limit


def test_each_namespace_admits_only_what_the_security_groups_allow_and_drops_the_rest(tmp_path: Path) -> None:
    topology = isolated(tmp_path)
    plan = topology.net()
    rules = firewall.ruleset(plan, "web", topology.services(plan.ns("web-a")))
    assert "policy drop;" in rules and 'iif "lo" accept' in rules
    ports = sorted(n.port for n in topology.of_kind("web") if n.zone == "a")  # web-1 and its spare slot web-4
    assert f"ip saddr {{ {plan.lb_public}, {plan.lb_internal} }} tcp dport {{ {ports[0]}, {ports[1]} }}" in rules
    assert rules.count(" accept  #") == 1  # only the load balancer may open connections to a web process
    assert f"ip daddr {plan.subnet} accept" in rules  # nothing leaves the cluster's block
    data = firewall.ruleset(plan, "data", topology.services(plan.ns("data-a")))
    redis_a = topology.node("redis-a")
    web_sources = ", ".join(plan.tier_addresses("web"))
    assert f"ip saddr {{ {web_sources} }} tcp dport {{ " in data and str(redis_a.port) in data
    lb = firewall.ruleset(plan, "lb", topology.services(plan.ns("lb")))
    assert f"ip saddr {{ {plan.host_address} }} tcp dport {{ {topology.lb_port} }} accept" in lb


def test_the_fabric_forwards_only_inside_the_block_and_a_partition_is_its_own_chain(tmp_path: Path) -> None:
    plan = isolated(tmp_path).net()
    text = firewall.fabric_ruleset(plan)
    assert "chain partition" in text and "jump partition" in text
    assert f"ip saddr {plan.subnet} ip daddr {plan.subnet} accept" in text and "policy drop;" in text


def test_isolated_configs_listen_on_namespace_addresses_and_never_on_loopback(tmp_path: Path) -> None:
    topology = isolated(tmp_path)
    plan = topology.net()
    text = configs.haproxy_config(topology)
    assert f"bind {plan.lb_public}:{topology.lb_port}" in text
    assert f"bind {plan.lb_internal}:{topology.pg_primary_port}" in text
    env = configs.web_environment(topology, topology.node("web-2"))
    assert f"@{plan.lb_internal}:{topology.pg_primary_port}/" in env["MYCLOTHES_DATABASE_URL"]
    assert env["MYCLOTHES_REDIS_SENTINELS"].startswith(f"{plan.data('a')}:")
    supervisor = configs.supervisord_config(topology)
    assert f"command=ip netns exec {plan.ns('data-a')} setpriv --reuid=postgres" in supervisor
    assert "user=postgres" not in supervisor  # entering a namespace needs root; Patroni drops to postgres after
    assert f"command=ip netns exec {plan.ns('web-a')} " in supervisor
    assert f"host all all {plan.subnet} scram-sha-256" in configs.patroni_config(topology, topology.node("pg-b"))
    for node in topology.nodes:
        assert topology.address(node) != "127.0.0.1"


def test_docs_print_the_security_group_table_the_rules_are_rendered_from() -> None:
    assert firewall.security_group_table() in (ROOT / "docs" / "cluster.md").read_text()
    assert {rule.destination for rule in SECURITY_GROUPS} == {"lb", "web", "data"}


def test_partition_and_quorum_drills_hold_their_own_criteria() -> None:
    timeline = {"pg_demoted": 5.5, "pg_new_primary": 7.7, "pg_rejoined": 9.7}
    timeline |= {"redis_refuses_writes": 4.0, "redis_new_primary": 2.0, "redis_rejoined": None}
    checks = drill_checks({"timeline_s": timeline, "expected_failovers": {"pg": 1, "redis": 1}})
    assert [ok for _, ok in checks] == [True, True, True, True, True, False]  # the old Redis never rejoined
    quorum = {
        "primary": "redis-b",
        "primary_port": 2,
        "primary_port_at_end": 2,
        "answers_with_two_sentinels_lost": {"cart-write": {"200": 3, "503": 40, "0": 1}},
    }
    checks = drill_checks({"quorum": quorum})
    assert [ok for _, ok in checks] == [True, False]  # a write that hung is not a clean refusal
