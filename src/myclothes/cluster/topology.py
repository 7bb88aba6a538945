"""The shape of a local cluster: zones, nodes, ports and secrets, kept in ``state.json`` in the cluster directory."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from myclothes.cluster.netplan import Plan
from myclothes.processes import free_port

ZONE_NAMES = ("a", "b", "c", "d", "e")
STATE_FILE = "state.json"
SPARE_WEB_SLOTS = 3  # pre-declared, disabled HAProxy slots that `cluster scale` fills at runtime


@dataclass
class Node:
    """One process of the cluster. ``port`` is its client port; ``extra_port`` the peer/REST port if any."""

    name: str
    kind: str  # web, haproxy, postgres, etcd, redis, sentinel, prometheus, redis-exporter, pg-exporter
    zone: str
    port: int
    extra_port: int = 0
    enabled: bool = True  # web slots beyond the current scale are disabled


@dataclass
class Topology:
    """Everything ``cluster up`` decided; later commands read it back from the cluster directory."""

    directory: Path
    zones: list[str]
    cart_store: str
    nodes: list[Node]
    lb_port: int
    pg_primary_port: int
    pg_replica_port: int
    secrets: dict[str, str] = field(default_factory=dict)
    network: dict[str, str] = field(default_factory=dict)  # isolated: {"cluster_id", "subnet"} of its namespaces

    @classmethod
    def plan(cls, directory: Path, zones: int, web_per_zone: int, cart_store: str) -> Topology:
        """Allocate ports and passwords for ``zones`` zones with ``web_per_zone`` web processes each."""
        names = list(ZONE_NAMES[:zones])
        nodes: list[Node] = []
        for zone in names:
            nodes.append(Node(f"etcd-{zone}", "etcd", zone, free_port(), free_port()))
            nodes.append(Node(f"pg-{zone}", "postgres", zone, free_port(), free_port()))
            nodes.append(Node(f"redis-{zone}", "redis", zone, free_port()))
            nodes.append(Node(f"sentinel-{zone}", "sentinel", zone, free_port()))
            nodes.append(Node(f"redis-exporter-{zone}", "redis-exporter", zone, free_port()))
            nodes.append(Node(f"pg-exporter-{zone}", "pg-exporter", zone, free_port()))
        active = zones * web_per_zone
        for index in range(active + SPARE_WEB_SLOTS):
            zone = names[index % zones]
            nodes.append(Node(f"web-{index + 1}", "web", zone, free_port(), enabled=index < active))
        balancer = Node("haproxy", "haproxy", "-", free_port(), extra_port=free_port())  # extra: its /metrics
        nodes += [balancer, Node("prometheus", "prometheus", "-", free_port())]
        passwords = {name: secrets.token_urlsafe(18) for name in ("admin", "replicator", "app", "monitor", "redis")}
        passwords["secret_key"] = secrets.token_urlsafe(48)
        return cls(directory.resolve(), names, cart_store, nodes, balancer.port, free_port(), free_port(), passwords)

    def node(self, name: str) -> Node:
        """The node called ``name``; KeyError names the known ones."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r}; known: {', '.join(n.name for n in self.nodes)}")

    def of_kind(self, kind: str) -> list[Node]:
        """Nodes of one kind, in zone order."""
        return [node for node in self.nodes if node.kind == kind]

    @property
    def isolated(self) -> bool:
        return bool(self.network)

    def net(self) -> Plan:
        """The namespaces and addresses of an isolated cluster."""
        if not self.network:
            raise RuntimeError(
                f"the cluster in {self.directory} shares the host's loopback (started without --isolate)"
            )
        return Plan(self.network["cluster_id"], self.network["subnet"], tuple(self.zones))

    def netns(self, node: Node) -> str | None:
        """The network namespace a node runs in (None: the host's)."""
        if not self.network:
            return None
        if node.kind in ("haproxy", "prometheus"):
            return self.net().ns("lb")
        return self.net().ns(f"{'web' if node.kind == 'web' else 'data'}-{node.zone}")

    def address(self, node: Node) -> str:
        """The address a node listens on (127.0.0.1 unless isolated; HAProxy's is the one the web tier uses,
        Prometheus's the public one, for operators on the host)."""
        if not self.network:
            return "127.0.0.1"
        net = self.net()
        if node.kind == "haproxy":
            return net.lb_internal
        if node.kind == "prometheus":
            return net.lb_public
        return net.web(node.zone) if node.kind == "web" else net.data(node.zone)

    @property
    def lb_address(self) -> str:
        """Where shoppers (the host) reach the load balancer."""
        return self.net().lb_public if self.network else "127.0.0.1"

    @property
    def clients(self) -> str:
        """The network the data tier accepts clients from (pg_hba)."""
        return self.network["subnet"] if self.network else "127.0.0.1/32"

    def services(self, ns: str) -> dict[str, list[int]]:
        """``{service: [ports]}`` of the nodes in namespace ``ns`` (the names ``SECURITY_GROUPS`` uses)."""
        found: dict[str, list[int]] = {}
        for node in self.nodes:
            if self.netns(node) != ns:
                continue
            for service, port in self.node_services(node).items():
                found.setdefault(service, []).append(port)
        return found

    def node_services(self, node: Node) -> dict[str, int]:
        """A node's listening ports by service name."""
        if node.kind == "haproxy":
            return {
                "shop": self.lb_port,
                "pg-primary": self.pg_primary_port,
                "pg-replica": self.pg_replica_port,
                "haproxy-metrics": node.extra_port,
            }
        if node.kind == "postgres":
            return {"postgres": node.port, "patroni": node.extra_port}
        if node.kind == "etcd":
            return {"etcd": node.port, "etcd-peer": node.extra_port}
        return {node.kind: node.port}

    @property
    def lb_url(self) -> str:
        return f"http://{self.lb_address}:{self.lb_port}"

    @property
    def prometheus_url(self) -> str:
        """Where operators (the host) reach Prometheus."""
        node = self.node("prometheus")
        return f"http://{self.address(node)}:{node.port}"

    def save(self) -> None:
        """Write ``state.json`` (mode 0600: it holds the passwords)."""
        data = asdict(self)
        data["directory"] = str(self.directory)
        path = self.directory / STATE_FILE
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)

    @classmethod
    def load(cls, directory: Path) -> Topology:
        """Read the topology of the cluster in ``directory``; FileNotFoundError if none was started there."""
        path = directory.resolve() / STATE_FILE
        if not path.exists():
            raise FileNotFoundError(f"no cluster in {directory} (run `myclothes cluster up --dir {directory}`)")
        data = json.loads(path.read_text())
        data["directory"] = Path(data["directory"])
        data["nodes"] = [Node(**node) for node in data["nodes"]]
        return cls(**data)
