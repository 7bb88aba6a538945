"""The cluster's generated configuration and the drills' arithmetic, without starting anything."""

from __future__ import annotations

from pathlib import Path

import yaml

from myclothes.cluster import configs
from myclothes.cluster.drills import Event, _error_window, _judge, _recovery
from myclothes.cluster.topology import PORT_RANGE, SPARE_WEB_SLOTS, Topology


def plan(tmp_path: Path, cart_store: str = "redis") -> Topology:
    return Topology.plan(tmp_path, zones=3, web_per_zone=1, cart_store=cart_store)


def test_plan_puts_one_member_of_each_data_service_in_every_zone_and_spare_web_slots(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    for kind in ("etcd", "postgres", "redis", "sentinel"):
        assert [n.zone for n in topology.of_kind(kind)] == ["a", "b", "c"]
    web = topology.of_kind("web")
    assert len(web) == 3 + SPARE_WEB_SLOTS
    assert [n.enabled for n in web] == [True] * 3 + [False] * SPARE_WEB_SLOTS
    ports = [n.port for n in topology.nodes] + [topology.pg_primary_port, topology.pg_replica_port]
    assert len(set(ports)) == len(ports)
    assert not {80, 5432, 6379, 2379} & set(ports)
    assert all(PORT_RANGE[0] <= port < PORT_RANGE[1] for port in ports)  # never an ephemeral (outgoing) port


def test_topology_survives_a_round_trip_through_state_json(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    topology.save()
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert Topology.load(tmp_path) == topology


def test_haproxy_uses_cookie_stickiness_only_for_the_memory_cart_store(tmp_path: Path) -> None:
    redis_cfg = configs.haproxy_config(plan(tmp_path))
    memory_cfg = configs.haproxy_config(plan(tmp_path, "memory"))
    assert "cookie SERVERID" not in redis_cfg and "cookie SERVERID" in memory_cfg
    for text in (redis_cfg, memory_cfg):
        assert "option httpchk GET /readyz" in text and "option redispatch" in text and "retries 2" in text
        assert "GET /primary" in text and "GET /replica" in text and "level admin" in text
        assert text.count(" disabled\n") == 2 * SPARE_WEB_SLOTS  # each slot and its unchecked backup twin
        assert text.count(" backup") == 3 + SPARE_WEB_SLOTS


def test_patroni_runs_synchronous_mode_with_scram_and_separate_roles(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    config = yaml.safe_load(configs.patroni_config(topology, topology.of_kind("postgres")[0]))
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert all("scram-sha-256" in line for line in config["bootstrap"]["pg_hba"] if line.startswith("host"))
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"]["username"] == "admin" and auth["replication"]["username"] == "replicator"
    assert len(config["etcd3"]["hosts"]) == 3


def test_redis_requires_a_password_and_a_replica_for_writes(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    text = configs.redis_config(topology, topology.of_kind("redis")[1], replica_of=1234)
    assert f"requirepass {topology.secrets['redis']}" in text
    assert "min-replicas-to-write 1" in text and "replicaof 127.0.0.1 1234" in text
    sentinel = configs.sentinel_config(topology, topology.of_kind("sentinel")[0], 1234)
    assert "127.0.0.1 1234 2" in sentinel and "auth-pass" in sentinel


def test_web_processes_reach_the_database_through_haproxy_and_redis_through_sentinel(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    env = configs.web_environment(topology, topology.of_kind("web")[0])
    assert f":{topology.pg_primary_port}/" in env["MYCLOTHES_DATABASE_URL"]
    assert f":{topology.pg_replica_port}/" in env["MYCLOTHES_DATABASE_REPLICA_URLS"]
    assert len(env["MYCLOTHES_REDIS_SENTINELS"].split(",")) == 3
    assert env["MYCLOTHES_ZONE"] == "a" and env["MYCLOTHES_INSTANCE"] == "web-1"


def test_recovery_is_measured_from_the_fault_to_the_first_success_after_the_last_failure() -> None:
    events = [Event(1, "checkout", True), Event(5.5, "checkout", False), Event(9, "checkout", False)]
    events += [Event(12, "checkout", True), Event(13, "browse", False)]
    assert _recovery(events, ("checkout",), fault_t=5.0) == 7.0
    assert _recovery(events, ("cart-add",), fault_t=5.0) == 0.0
    assert _recovery(events[:3], ("checkout",), fault_t=5.0) == float("inf")
    assert _error_window(events, fault_t=5.0) == 7.5


def test_pg_failover_fails_on_two_primaries_and_memory_web_kill_reports_instead_of_failing() -> None:
    base = {"lost_cart_writes": 0, "lost_orders": 0, "error_window_s": 0.5, "recovery_s": 9.0, "max_primaries": 1}
    assert _judge("pg-failover", {**base, "cart_store": "redis"})[0]
    assert not _judge("pg-failover", {**base, "cart_store": "redis", "max_primaries": 2})[0]
    assert not _judge("web-kill", {**base, "cart_store": "redis", "lost_cart_writes": 1})[0]
    passed, criteria = _judge("web-kill", {**base, "cart_store": "memory", "lost_cart_writes": 3})
    assert passed and "3 cart lines lost" in criteria[0]
