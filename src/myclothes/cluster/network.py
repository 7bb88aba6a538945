"""Network isolation for the local cluster: one network namespace per tier and zone, security groups in nftables.

``cluster up --isolate`` builds, per cluster (names prefixed with its id, e.g. ``mc1a2b``)::

    host ──veth── lb ──veth── fabric ──┬── br-a ── web-a, data-a
    (shoppers)   (HAProxy)   (router)  ├── br-b ── web-b, data-b
                                       └── br-c ── web-c, data-c

Addresses come from one /24 of ``10.213.0.0/16`` per cluster; no namespace has a default route, NAT or a link to
a real interface. The host sees only the load balancer's public address. ``fabric`` routes between the zones'
bridges and the load balancer; its ``partition`` chain is where a zone is cut off. Every namespace carries one
nftables table rendered from the security groups in cluster/firewall.py (input: default drop).
"""

from __future__ import annotations

import ctypes
import os
import random
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from myclothes.cluster.firewall import TABLE, fabric_ruleset, ruleset
from myclothes.cluster.netplan import BLOCK, Plan

T = TypeVar("T")


def can_connect(address: str, port: int, timeout: float = 1.0) -> bool:
    """True if a TCP connection to ``address:port`` opens within ``timeout`` (from this thread's namespace)."""
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def choose_plan(zones: list[str]) -> Plan:
    """A fresh cluster id and a /24 of :data:`BLOCK` that no namespace or host address uses yet."""
    existing = set(namespaces())
    used = _run(["ip", "-4", "-o", "addr"]).stdout + _run(["ip", "-4", "route"]).stdout
    rng = random.SystemRandom()
    for _ in range(200):
        cluster_id = f"mc{rng.randrange(16**4):04x}"
        third = rng.randrange(256)
        subnet = f"{BLOCK.network_address + 256 * third}/24"
        if any(name.startswith(cluster_id + "-") for name in existing) or f"10.213.{third}." in used:
            continue
        return Plan(cluster_id, subnet, tuple(zones))
    raise RuntimeError("no free cluster id and /24 in 10.213.0.0/16")


def require_namespaces() -> None:
    """Refuse clearly when network namespaces cannot be used here."""
    if os.geteuid() != 0:
        raise RuntimeError("--isolate needs root (network namespaces and nftables); run as root or drop --isolate")
    missing = [tool for tool, package in (("ip", "iproute2"), ("nft", "nftables")) if not shutil.which(tool)]
    if missing:
        raise RuntimeError(f"--isolate needs {' and '.join(missing)}: apt-get install -y iproute2 nftables")
    if not os.path.isdir("/proc/self/ns") or not os.path.exists("/proc/self/ns/net"):
        raise RuntimeError("--isolate: this kernel offers no network namespaces")


def _run(args: list[str], stdin: str | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, input=stdin, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {result.stderr.strip()}")
    return result


def namespaces() -> list[str]:
    """Every named network namespace on the machine."""
    return [line.split()[0] for line in _run(["ip", "netns", "list"]).stdout.splitlines() if line.strip()]


def pids(ns: str) -> list[int]:
    """The processes running in namespace ``ns``."""
    return [int(pid) for pid in _run(["ip", "netns", "pids", ns]).stdout.split()]


def exec_prefix(ns: str | None) -> list[str]:
    """The command prefix that runs a program inside ``ns`` (nothing for the host)."""
    return ["ip", "netns", "exec", ns] if ns else []


def _ip(ns: str, *args: str) -> None:
    _run(["ip", "-n", ns, *args], check=True)


def create(plan: Plan, services: Callable[[str], dict[str, list[int]]]) -> None:
    """Build the namespaces, links, addresses, routes and every namespace's nftables table.

    ``services(ns)`` gives the ``{service: [ports]}`` listening in namespace ``ns`` (for :func:`ruleset`).
    """
    for ns in plan.namespaces:
        _run(["ip", "netns", "add", ns], check=True)
        _ip(ns, "link", "set", "lo", "up")
    fabric, lb = plan.ns("fabric"), plan.ns("lb")
    block = plan.subnet
    # The host may have a default route off the machine: the cluster's /24 is unreachable from it, except the
    # load balancer's public address over the host link (the more specific /30 below).
    _run(["ip", "route", "add", "unreachable", block], check=True)
    # host <-> lb
    _run(["ip", "link", "add", plan.host_link, "type", "veth", "peer", "name", "host", "netns", lb], check=True)
    _run(["ip", "addr", "add", f"{plan.host_address}/30", "dev", plan.host_link], check=True)
    _run(["ip", "link", "set", plan.host_link, "up"], check=True)
    _ip(lb, "addr", "add", f"{plan.lb_public}/30", "dev", "host")
    _ip(lb, "link", "set", "host", "up")
    # lb <-> fabric
    _ip(fabric, "link", "add", "lb", "type", "veth", "peer", "name", "fabric", "netns", lb)
    _ip(fabric, "addr", "add", f"{plan.fabric_lb_side}/28", "dev", "lb")
    _ip(fabric, "link", "set", "lb", "up")
    _ip(lb, "addr", "add", f"{plan.lb_internal}/28", "dev", "fabric")
    _ip(lb, "link", "set", "fabric", "up")
    _ip(lb, "route", "add", block, "via", plan.fabric_lb_side)
    # one bridge per zone in fabric, the zone's web and data namespaces on it
    for zone in plan.zones:
        bridge = f"br-{zone}"
        _ip(fabric, "link", "add", bridge, "type", "bridge")
        _ip(fabric, "addr", "add", f"{plan.gateway(zone)}/27", "dev", bridge)
        _ip(fabric, "link", "set", bridge, "up")
        for tier, address in (("web", plan.web(zone)), ("data", plan.data(zone))):
            ns = plan.ns(f"{tier}-{zone}")
            port = f"{zone}-{tier}"
            _ip(fabric, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip(fabric, "link", "set", port, "master", bridge)
            _ip(fabric, "link", "set", port, "up")
            _ip(ns, "addr", "add", f"{address}/27", "dev", "eth0")
            _ip(ns, "link", "set", "eth0", "up")
            _ip(ns, "route", "add", block, "via", plan.gateway(zone))
    # the fabric routes between its own links only (a per-namespace setting; the host's is untouched)
    _run([*exec_prefix(fabric), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], check=True)
    _run([*exec_prefix(fabric), "nft", "-f", "-"], stdin=fabric_ruleset(plan), check=True)
    for ns, tier in [(lb, "lb")] + [(plan.ns(f"{t}-{z}"), t) for z in plan.zones for t in ("web", "data")]:
        _run([*exec_prefix(ns), "nft", "-f", "-"], stdin=ruleset(plan, tier, services(ns)), check=True)


def destroy(plan: Plan) -> list[str]:
    """Remove every namespace (with its links, bridges and nftables table), the host link and the host route.

    Looks for what exists rather than what ``up`` finished, so it also cleans up after an ``up`` that crashed
    halfway. Returns what it removed.
    """
    removed = []
    for ns in namespaces():
        if ns.startswith(plan.cluster_id + "-"):
            _run(["ip", "netns", "del", ns], check=True)
            removed.append(f"netns {ns}")
    if _run(["ip", "link", "show", plan.host_link]).returncode == 0:
        _run(["ip", "link", "del", plan.host_link], check=True)
        removed.append(f"link {plan.host_link}")
    if _host_route(plan):
        _run(["ip", "route", "del", "unreachable", plan.subnet], check=True)
        removed.append(f"route unreachable {plan.subnet}")
    return removed


def _host_route(plan: Plan) -> bool:
    return bool(_run(["ip", "route", "show", "type", "unreachable", plan.subnet]).stdout.strip())


def leftovers(plan: Plan) -> list[str]:
    """Namespaces, the host link and the host route of ``plan`` still on the machine (none after :func:`destroy`)."""
    found = [f"netns {ns}" for ns in namespaces() if ns.startswith(plan.cluster_id + "-")]
    if _run(["ip", "link", "show", plan.host_link]).returncode == 0:
        found.append(f"link {plan.host_link}")
    if _host_route(plan):
        found.append(f"route unreachable {plan.subnet}")
    return found


def partition(plan: Plan, zone: str) -> None:
    """Drop every packet between ``zone`` and the rest (load balancer included); its processes keep running."""
    net = str(plan.zone_net(zone))
    fabric = exec_prefix(plan.ns("fabric"))
    for rule in (f"ip saddr {net} ip daddr != {net} drop", f"ip daddr {net} ip saddr != {net} drop"):
        _run([*fabric, "nft", f"add rule inet {TABLE} partition {rule}"], check=True)


def heal(plan: Plan) -> None:
    """Undo every partition."""
    _run([*exec_prefix(plan.ns("fabric")), "nft", f"flush chain inet {TABLE} partition"], check=True)


def partitioned(plan: Plan) -> list[str]:
    """Zones cut off right now."""
    listed = _run([*exec_prefix(plan.ns("fabric")), "nft", f"list chain inet {TABLE} partition"]).stdout
    return [zone for zone in plan.zones if f"ip saddr {plan.zone_net(zone)}" in listed]


_CLONE_NEWNET = 0x40000000


class NamespaceThreads:
    """Run Python callables inside a network namespace: one worker thread per namespace, moved there by ``setns``.

    A socket belongs to the namespace of the thread that created it, so a probe (HTTP, Redis) run here reaches a
    node the way an operator logged into that instance would, without forking ``ip netns exec`` per probe.
    """

    def __init__(self) -> None:
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def _pool(self, ns: str) -> ThreadPoolExecutor:
        with self._lock:
            if ns not in self._pools:
                self._pools[ns] = ThreadPoolExecutor(4, f"netns-{ns}", initializer=_enter, initargs=(ns,))
            return self._pools[ns]

    def call(self, ns: str | None, fn: Callable[[], T]) -> T:
        """``fn()`` in namespace ``ns`` (in this thread when ``ns`` is None)."""
        if ns is None:
            return fn()
        return self._pool(ns).submit(fn).result()


def _enter(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into {ns}")
    finally:
        os.close(fd)
