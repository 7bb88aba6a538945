"""The shape of a local cluster: zones, nodes, ports and secrets, kept in ``state.json`` in the cluster directory."""

from __future__ import annotations

import json
import random
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

ZONE_NAMES = ("a", "b", "c", "d", "e")
STATE_FILE = "state.json"
SPARE_WEB_SLOTS = 3  # pre-declared, disabled HAProxy slots that `cluster scale` fills at runtime


PORT_RANGE = (20000, 32000)  # below the kernel's ephemeral range (32768+): no outgoing connection can take them
_taken: set[int] = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1, outside the ephemeral range and never a standard one (80, 5432, 6379, 2379).

    A port from the ephemeral range could be taken as the source port of some outgoing connection between
    ``cluster up`` planning it and the server binding it (seen: a Sentinel failing with "Address already in use").
    """
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(*PORT_RANGE)
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port


@dataclass
class Node:
    """One process of the cluster. ``port`` is its client port; ``extra_port`` the peer/REST port if any."""

    name: str
    kind: str  # web, haproxy, postgres, etcd, redis, sentinel
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
        active = zones * web_per_zone
        for index in range(active + SPARE_WEB_SLOTS):
            zone = names[index % zones]
            nodes.append(Node(f"web-{index + 1}", "web", zone, free_port(), enabled=index < active))
        nodes.append(Node("haproxy", "haproxy", "-", free_port()))
        passwords = {name: secrets.token_urlsafe(18) for name in ("admin", "replicator", "app", "redis")}
        passwords["secret_key"] = secrets.token_urlsafe(48)
        return cls(directory.resolve(), names, cart_store, nodes, nodes[-1].port, free_port(), free_port(), passwords)

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
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

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
