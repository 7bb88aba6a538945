"""The cluster's generated configuration and the drills' arithmetic, without starting anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from myclothes.cluster import configs
from myclothes.cluster.capacity import OVERLOAD_SETTLE_S, measure_capacity
from myclothes.cluster.criteria import judge
from myclothes.cluster.faults import _changed
from myclothes.cluster.load import Sample
from myclothes.cluster.report import error_window_s, fault_window, op_figures, percentile, recovery_s
from myclothes.cluster.topology import SPARE_WEB_SLOTS, Topology
from myclothes.processes import PORT_RANGE
from myclothes.processes.haproxy import WEB_MAXCONN


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
        assert "option httpchk GET /readyz" in text and "option redispatch 1" in text and "retries 3" in text
        assert "GET /primary" in text and "GET /replica" in text and "level admin" in text
        assert text.count(" disabled\n") == SPARE_WEB_SLOTS


def test_haproxy_fails_fast_over_to_another_web_process_and_keeps_no_unchecked_backup(tmp_path: Path) -> None:
    text = configs.haproxy_config(plan(tmp_path))
    assert "timeout connect 250ms" in text  # a dead or partitioned backend costs at most 250 ms per try
    assert "observe layer4 error-limit 1 on-error mark-down" in text  # a refused connection takes it out at once
    assert " backup" not in text  # a server without checks could be a dead zone's process
    web_servers = [line for line in text.splitlines() if line.strip().startswith("server web-")]
    assert web_servers and all(" check" in line for line in web_servers)


def test_haproxy_bounds_each_web_process_and_queues_the_rest_briefly(tmp_path: Path) -> None:
    text = configs.haproxy_config(plan(tmp_path))
    backend = text.split("\nbackend web")[1].split("listen ")[0]
    assert f"default-server maxconn {WEB_MAXCONN} " in backend  # excess requests wait in HAProxy's queue
    assert "timeout queue 2s" in text  # ... for at most 2 s, then a 503 with no work done
    assert "option abortonclose" in text  # a shopper who gave up is not served to nobody


def test_patroni_runs_synchronous_mode_with_scram_and_separate_roles(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    config = yaml.safe_load(configs.patroni_config(topology, topology.of_kind("postgres")[0]))
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert dcs["ttl"] <= 6  # a dead leader is replaced within ttl: the checkout error window stays under 12 s
    assert all("scram-sha-256" in line for line in config["bootstrap"]["pg_hba"] if line.startswith("host"))
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"]["username"] == "admin" and auth["replication"]["username"] == "replicator"
    assert len(config["etcd3"]["hosts"]) == 3


def test_redis_requires_a_password_and_a_replica_for_writes(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    primary = topology.of_kind("redis")[0].port
    text = configs.redis_config(topology, topology.of_kind("redis")[1], replica_of=primary)
    assert f"requirepass {topology.secrets['redis']}" in text
    assert "min-replicas-to-write 1" in text and f"replicaof 127.0.0.1 {primary}" in text
    assert "min-replicas-max-lag 3" in text  # a cut-off primary refuses writes within about 4 s
    sentinel = configs.sentinel_config(topology, topology.of_kind("sentinel")[0], primary)
    assert f"127.0.0.1 {primary} 2" in sentinel and "auth-pass" in sentinel
    assert "down-after-milliseconds myclothes 1500" in sentinel  # cart writes back within the 3 s window, no flapping


def test_web_processes_reach_the_database_through_haproxy_and_redis_through_sentinel(tmp_path: Path) -> None:
    topology = plan(tmp_path)
    env = configs.web_environment(topology, topology.of_kind("web")[0])
    assert f":{topology.pg_primary_port}/" in env["MYCLOTHES_DATABASE_URL"]
    assert f":{topology.pg_replica_port}/" in env["MYCLOTHES_DATABASE_REPLICA_URLS"]
    assert len(env["MYCLOTHES_REDIS_SENTINELS"].split(",")) == 3
    assert env["MYCLOTHES_ZONE"] == "a" and env["MYCLOTHES_INSTANCE"] == "web-1"


def sample(t: float, op: str, status: int, latency_ms: float = 10.0) -> Sample:
    return Sample(t, op, status, latency_ms)


def test_recovery_is_measured_from_the_fault_to_the_first_success_after_the_last_failure() -> None:
    samples = [sample(1, "checkout", 201), sample(5.5, "checkout", 503), sample(9, "checkout", 0)]
    samples += [sample(12, "checkout", 201)]
    assert recovery_s(samples, fault_t=5.0) == 7.0
    assert recovery_s(samples[:1], fault_t=5.0) == 0.0
    assert recovery_s(samples[:3], fault_t=5.0) == float("inf")
    assert error_window_s(samples) == 3.5
    assert error_window_s(samples[:2]) == 0.0  # one failure is no window


def test_a_4xx_is_an_answer_and_a_5xx_or_no_answer_is_a_failure() -> None:
    assert sample(0, "cart-write", 409).ok and sample(0, "login", 401).ok
    assert not sample(0, "checkout", 503).ok and not sample(0, "browse", 0).ok


def test_the_fault_window_runs_until_every_operation_recovered_plus_five_seconds() -> None:
    samples = [sample(10, "browse", 200), sample(11, "cart-write", 503), sample(12.5, "cart-write", 200)]
    samples += [sample(13, "checkout", 503), sample(19, "checkout", 201), sample(40, "browse", 200)]
    assert fault_window(samples, fault_t=10.0, end_t=60.0) == (10.0, 24.0)
    assert fault_window(samples, fault_t=None, end_t=60.0) == (0.0, 60.0)
    assert fault_window(samples[:4], fault_t=10.0, end_t=60.0) == (10.0, 60.0)  # never recovered: to the end


def test_per_operation_figures_count_availability_latency_and_answers_inside_the_window() -> None:
    samples = [sample(t, "browse", 200, latency_ms=float(t)) for t in range(1, 101)]
    samples += [sample(50.5, "browse", 503, latency_ms=900.0), sample(200, "browse", 200)]
    figures = op_figures(samples, fault_t=50.0, window=(0.0, 150.0))
    assert figures["sent"] == 101 and figures["ok"] == 100
    assert figures["availability"] == round(100 / 101, 5)
    assert figures["p99_ms"] == 100.0 and figures["p50_ms"] == 51.0
    assert figures["statuses"] == {"200": 100, "503": 1}
    assert figures["recovery_s"] == 1.0
    assert percentile([], 0.99) == 0.0 and percentile([5.0], 0.5) == 5.0


def report(**changes: object) -> dict[str, object]:
    op = {"sent": 100, "ok": 100, "availability": 1.0, "p50_ms": 5.0, "p99_ms": 50.0, "error_window_s": 0.0}
    base: dict[str, object] = {
        "drill": "pg-failover",
        "cart_store": "redis",
        "ops": {name: dict(op) for name in ("browse", "cart-read", "cart-write", "login", "checkout")},
        "server_errors_500": 0,
        "lost_cart_writes": 0,
        "lost_orders": 0,
        "max_primaries": 1,
        "pg_failovers": 1,
        "redis_failovers": 0,
        "expected_failovers": {"pg": 1, "redis": 0},
        "acknowledged_cart_writes": 10,
        "acknowledged_orders": 2,
    }
    return {**base, **changes}


def passes(op: str, figure: str, value: float, **changes: object) -> bool:
    """Does a drill pass whose ``op`` measured ``value`` for ``figure``, all else fine?"""
    r: dict[str, Any] = report(**changes)
    r["ops"][op][figure] = value
    return judge(r)[0]


def test_every_drill_is_held_to_the_same_service_level_criteria() -> None:
    assert judge(report())[0]
    assert not judge(report(max_primaries=2))[0]
    assert not judge(report(server_errors_500=1))[0]
    assert not judge(report(lost_orders=1))[0]
    assert not judge(report(pg_failovers=2))[0]  # a second failover is flapping
    assert not passes("browse", "p99_ms", 1500.0)
    assert not passes("browse", "availability", 0.99)
    assert not passes("cart-write", "error_window_s", 3.5)
    assert not passes("checkout", "error_window_s", 12.5)


def test_a_partition_may_slow_browsing_to_1_5_s_at_p99_a_kill_only_to_1_s() -> None:
    assert passes("browse", "p99_ms", 1400.0, drill="zone-partition")
    assert not passes("browse", "p99_ms", 1600.0, drill="zone-partition")
    assert not passes("browse", "p99_ms", 1090.0, drill="zone-outage")


def test_a_partition_of_the_etcd_leaders_zone_may_hold_checkout_off_for_14_s_a_kill_for_12() -> None:
    assert passes("checkout", "error_window_s", 13.5, drill="zone-partition")
    assert not passes("checkout", "error_window_s", 14.5, drill="zone-partition")
    assert not passes("checkout", "error_window_s", 12.5, drill="zone-outage")


def test_with_one_sentinel_already_lost_the_redis_failover_may_take_a_second_longer_but_no_more() -> None:
    quorum = {"drill": "sentinel-quorum", "pg_failovers": 0, "expected_failovers": {"pg": 0, "redis": 0}}
    assert passes("cart-write", "error_window_s", 3.5, **quorum)  # both surviving Sentinels must agree on a leader
    assert not passes("cart-write", "error_window_s", 4.5, **quorum)
    outage = {"drill": "zone-outage", "redis_failovers": 1, "expected_failovers": {"pg": 1, "redis": 1}}
    assert passes("cart-write", "error_window_s", 3.5, **outage)  # the zone's Sentinel died with the primary
    assert not passes("cart-write", "error_window_s", 4.5, **outage)
    assert not passes("cart-read", "error_window_s", 3.5, drill="redis-failover")  # three Sentinels: 3 s


def test_memory_cart_store_web_kill_reports_lost_lines_instead_of_failing() -> None:
    passed, criteria = judge(report(drill="web-kill", cart_store="memory", lost_cart_writes=3))
    assert passed and any("3 cart lines lost" in c for c in criteria)
    assert not judge(report(drill="web-kill", lost_cart_writes=3))[0]


def test_a_failover_is_counted_once_its_new_primary_was_seen_twice_in_a_row() -> None:
    state: list[object] = [None, None]
    seen = ["a", "a", "b", "a", "a", None, "c", "c", "c"]
    assert sum(_changed(state, value) for value in seen) == 1  # a -> c; the lone "b" was a moment of transition


def test_the_balancer_forwards_the_client_address_and_never_serves_metrics(tmp_path: Path) -> None:
    text = configs.haproxy_config(plan(tmp_path))
    frontend = text.split("frontend shop")[1].split("backend web")[0]
    assert "option forwardfor" in frontend  # the per-IP login limit sees the shopper, not HAProxy
    assert "http-request deny deny_status 404 if { path /metrics }" in frontend
    env = configs.web_environment(plan(tmp_path), plan(tmp_path).of_kind("web")[0])
    assert not any(key.startswith("MYCLOTHES_LOGIN_") for key in env)  # the default limits hold in the cluster


def test_the_replica_port_keeps_its_sessions_when_a_standby_is_promoted(tmp_path: Path) -> None:
    text = configs.haproxy_config(plan(tmp_path))
    primary = text.split("listen pg_primary")[1].split("listen pg_replica")[0]
    replica = text.split("listen pg_replica")[1]
    assert "on-marked-down shutdown-sessions" in primary  # a demoted primary must not keep its writers
    assert "shutdown-sessions" not in replica  # a promoted standby still serves its readers (no burst of 503s)


class ScriptedLoad:
    """Carries every rate up to ``limit``; the first step misses ``first_misses`` times (a cold generator)."""

    def __init__(self, limit: float, first_misses: int = 0) -> None:
        self.limit, self.first_misses = limit, first_misses
        self.lag_ms: list[float] = []
        self.offered: list[float] = []
        self.settled: list[float] = []

    async def run(self, rate: float, duration: float) -> list[Sample]:
        self.offered.append(rate)
        cold = len(self.offered) <= self.first_misses
        slow = rate > self.limit or cold
        return [sample(0, "browse", 200, 900.0 if slow else 20.0) for _ in range(int(rate * duration))]

    async def drain(self, settle_s: float = 0.0) -> float:
        self.settled.append(settle_s)
        return settle_s


async def test_the_capacity_ramp_gives_a_cold_first_step_a_second_try_and_refines_after_the_first_miss() -> None:
    load = ScriptedLoad(limit=200, first_misses=1)
    capacity, steps = await measure_capacity(load, start=50, factor=1.5, step_s=1)  # type: ignore[arg-type]
    assert load.offered[:2] == [50, 50]  # the cold first step is tried again, not halved to 25
    assert capacity == 168.8 and [s["carried"] for s in steps][-2:] == [False, False]  # 253 missed, 210 too
    # every overloaded step waits out the web tier's request deadline before probing (its queued work must end)
    assert [s["drained_s"] for s in steps if not s["carried"]] == [OVERLOAD_SETTLE_S] * 3
    always_slow = ScriptedLoad(limit=30)
    assert (await measure_capacity(always_slow, start=50, factor=1.5, step_s=1))[0] == 25  # type: ignore[arg-type]
