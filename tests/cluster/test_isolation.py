"""The cluster in network namespaces: security groups observed, zone partitions and Sentinel quorum under load, and
a teardown that leaves nothing behind (even after `cluster up` was killed halfway).

Needs root (namespaces, nftables). In CI (``CI`` set) a missing prerequisite fails the module; elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.cluster.test_cluster_drills import assert_nothing_left, cluster_dir, drill, everything, myclothes
from tests.conftest import artifacts_dir

from myclothes.cluster import firewall, network
from myclothes.cluster.manager import Cluster
from myclothes.cluster.topology import Topology
from myclothes.processes import pid_alive, wait_gone, wait_until

if os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("nft")):
    reason = "needs root, iproute2 and nftables (apt-get install -y iproute2 nftables)"
    if os.environ.get("CI"):
        pytest.fail(f"CI: the isolation tests {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

TIERS = {"haproxy": "lb", "prometheus": "lb", "web": "web"}  # every other kind lives in the data tier


def tier(kind: str) -> str:
    return TIERS.get(kind, "data")


@pytest.fixture(scope="module")
def isolated() -> Iterator[Cluster]:
    directory = cluster_dir()
    result = myclothes("cluster", "up", "--isolate", "--dir", str(directory), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    cluster = Cluster.open(directory)
    yield cluster
    cluster.down()
    assert network.leftovers(cluster.topology.net()) == []
    # every process's log, for a failed criterion (the reports are already in test-artifacts/cluster-drills)
    shutil.copytree(directory / "logs", artifacts_dir() / "cluster-isolated-logs", dirs_exist_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def targets(cluster: Cluster) -> list[tuple[str, str, str, str, int]]:
    """Every listening service: (node, tier, service, address, port); spare web slots run nothing."""
    t = cluster.topology
    found = []
    for node in t.nodes:
        if not node.enabled:
            continue
        for service, port in t.node_services(node).items():
            address = t.lb_address if service == "shop" else t.address(node)  # Prometheus's is lb_address too
            found.append((node.name, tier(node.kind), service, address, port))
    return found


def matrix(cluster: Cluster, sources: dict[str, str | None]) -> list[tuple[str, str, bool, bool]]:
    """(source, target, expected, observed) for every source namespace (None: the host) and service."""
    t = cluster.topology
    rows: list[tuple[str, str, bool, bool]] = []
    for source, ns in sources.items():
        source_tier = source.split("-")[0]
        services = targets(cluster)

        def probe(target: tuple[str, str, str, str, int], ns: str | None = ns) -> bool:
            return cluster.threads.call(ns, lambda: network.can_connect(target[3], target[4], timeout=1.0))

        with ThreadPoolExecutor(8) as pool:
            observed = list(pool.map(probe, services))
        for (name, target_tier, service, _address, port), seen in zip(services, observed, strict=True):
            node_ns = t.netns(t.node(name)) if t.isolated else None
            same_place = ns == node_ns and (ns is not None or not t.isolated)
            expected = same_place or firewall.allowed(source_tier, target_tier, service)
            rows.append((source, f"{name} {service}:{port}", expected, seen))
    return rows


def print_matrix(title: str, rows: list[tuple[str, str, bool, bool]]) -> None:
    sources = list(dict.fromkeys(r[0] for r in rows))
    cells = {(r[0], r[1]): ("open" if r[3] else "-") + ("" if r[2] == r[3] else " !") for r in rows}
    width = max(len(r[1]) for r in rows)
    print(f"\n{title} (open = a connection opened within 1 s; ! = differs from the security groups)")
    print(" " * width + " | " + " | ".join(s.ljust(6) for s in sources))
    for target in dict.fromkeys(r[1] for r in rows):
        print(target.ljust(width) + " | " + " | ".join(cells[(s, target)].ljust(max(6, len(s))) for s in sources))


def test_status_json_gives_every_node_its_namespace_and_address(isolated: Cluster) -> None:
    result = myclothes("cluster", "status", "--json", "--dir", str(isolated.topology.directory))
    status = json.loads(result.stdout)
    plan = isolated.topology.net()
    assert status["isolated"] is True and status["lb_url"].startswith(f"http://{plan.lb_public}:")
    for node in status["nodes"]:
        assert node["netns"] in plan.namespaces and node["address"].startswith(plan.subnet.rsplit(".", 1)[0])
        assert node["healthy"] or node["role"] == "spare", node
    nodes = {n["name"]: n for n in status["nodes"]}
    assert nodes["pg-b"]["netns"] == plan.ns("data-b") and nodes["web-1"]["netns"] == plan.ns("web-a")
    assert nodes["haproxy"]["netns"] == plan.ns("lb")


def test_reachability_matrix_matches_the_security_groups_exactly(isolated: Cluster) -> None:
    plan = isolated.topology.net()
    sources: dict[str, str | None] = {"host": None}
    sources |= {ns.removeprefix(plan.cluster_id + "-"): ns for ns in plan.namespaces}
    began = time.monotonic()
    rows = matrix(isolated, sources)
    print_matrix(f"isolated cluster: {len(sources)} sources x {len(rows) // len(sources)} services", rows)
    wrong = [r for r in rows if r[2] != r[3]]
    assert wrong == []
    # from the host, only the load balancer's port and, for operators, Prometheus's
    assert sorted(r[1].split()[1].split(":")[0] for r in rows if r[0] == "host" and r[3]) == ["prometheus", "shop"]
    assert time.monotonic() - began < 60  # every forbidden path gave up within its 1 s


def test_zone_partition_cuts_the_primaries_zone_and_loses_nothing(isolated: Cluster) -> None:
    report = drill(isolated, "zone-partition")
    print(json.dumps({k: report[k] for k in ("timeline_s", "partitioned_zone", "max_primaries")}, indent=2))
    assert report["passed"], report["criteria"]
    assert report["expected_failovers"] == {"pg": 1, "redis": 1}  # a fresh cluster: both primaries in zone a
    assert all(value is not None for value in report["timeline_s"].values()), report["timeline_s"]
    assert report["lost_cart_writes"] == 0 and report["lost_orders"] == 0 and report["max_primaries"] <= 1
    assert network.partitioned(isolated.topology.net()) == []  # healed


def test_sentinel_quorum_fails_over_with_one_sentinel_lost_and_refuses_writes_with_two(isolated: Cluster) -> None:
    report = drill(isolated, "sentinel-quorum")
    print(json.dumps(report["quorum"], indent=2))
    assert report["passed"], report["criteria"]
    assert report["quorum"]["answers_with_two_sentinels_lost"]["cart-write"].get("503", 0) > 0
    assert report["lost_cart_writes"] == 0 and report["lost_orders"] == 0


def test_down_removes_every_namespace_link_route_and_process(isolated: Cluster) -> None:
    pids, _ports = everything(isolated)
    plan = isolated.topology.net()
    assert set(plan.namespaces) <= set(network.namespaces())
    result = myclothes("cluster", "down", "--dir", str(isolated.topology.directory))
    assert result.returncode == 0, result.stderr[-2000:]
    assert [p for p in pids if pid_alive(p)] == []
    assert network.leftovers(plan) == []


def test_down_cleans_up_after_up_was_killed_halfway() -> None:
    directory = cluster_dir()
    up = subprocess.Popen(
        [sys.executable, "-m", "myclothes.cli", "cluster", "up", "--isolate", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed once the namespaces exist and the data tier is starting inside them.
        wait_until(lambda: (directory / "logs" / "etcd-a.log").exists(), 120, "up to start processes")
    finally:
        up.send_signal(signal.SIGKILL)
        wait_gone(up.pid, 10)
    cluster = Cluster.open(directory)
    plan = cluster.topology.net()
    assert network.leftovers(plan) != []  # the crash left namespaces (and processes) behind
    result = myclothes("cluster", "down", "--dir", str(directory))
    assert result.returncode == 0, result.stderr[-2000:]
    assert network.leftovers(plan) == []
    assert not pid_alive(cluster.supervisor.supervisord_pid())
    shutil.rmtree(directory, ignore_errors=True)


def test_isolation_refuses_clearly_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    topology = Topology.plan(Path("/tmp/never-created"), zones=3, web_per_zone=1, cart_store="redis")
    topology.network = {"cluster_id": "mc0000", "subnet": "10.213.0.0/24"}
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeError, match="--isolate needs root"):
        Cluster.up(Path("/tmp/never-created"), isolate=True)
    with pytest.raises(RuntimeError, match="`cluster down` needs root"):
        Cluster(topology).down()
    assert not Path("/tmp/never-created").exists()


def test_shared_loopback_mode_lets_everything_reach_everything() -> None:
    """The contrast: without --isolate every process shares 127.0.0.1, and anything on the host reaches all."""
    directory = cluster_dir()
    result = myclothes("cluster", "up", "--dir", str(directory), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    cluster = Cluster.open(directory)
    try:
        rows = matrix(cluster, {"host": None})
        print_matrix(f"shared loopback: host x {len(rows)} services", rows)
        assert all(expected and seen for _, _, expected, seen in rows)
    finally:
        pids, ports = everything(cluster)
        cluster.down()
        assert_nothing_left(pids, ports)
        shutil.rmtree(directory, ignore_errors=True)
