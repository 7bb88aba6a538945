"""Names and addresses of one isolated cluster: its namespaces and the /24 they share (no side effects here)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

BLOCK = ipaddress.ip_network("10.213.0.0/16")


@dataclass(frozen=True)
class Plan:
    """Names and addresses of one isolated cluster (derived from its id and its /24, both kept in state.json)."""

    cluster_id: str  # "mc" + 4 hex digits
    subnet: str  # e.g. "10.213.57.0/24"
    zones: tuple[str, ...]

    @property
    def net(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def _at(self, offset: int) -> str:
        return str(self.net.network_address + offset)

    def ns(self, name: str) -> str:
        """The namespace called ``name`` (lb, fabric, web-a, data-a ...) of this cluster."""
        return f"{self.cluster_id}-{name}"

    @property
    def namespaces(self) -> list[str]:
        names = ["lb", "fabric", *(f"{tier}-{zone}" for zone in self.zones for tier in ("web", "data"))]
        return [self.ns(name) for name in names]

    @property
    def host_link(self) -> str:
        """The host's end of its veth to the load balancer (the only interface this code adds to the host)."""
        return f"{self.cluster_id}-h"

    # .0/30: host .1 - lb .2 ; .16/28: fabric .17 - lb .18 ; zone i: .32*(i+1)/27, gateway +1, web +2, data +3
    host_address = property(lambda self: self._at(1))
    lb_public = property(lambda self: self._at(2))
    fabric_lb_side = property(lambda self: self._at(17))
    lb_internal = property(lambda self: self._at(18))

    def zone_net(self, zone: str) -> ipaddress.IPv4Network:
        base = self.net.network_address + 32 * (self.zones.index(zone) + 1)
        return ipaddress.IPv4Network(f"{base}/27")

    def gateway(self, zone: str) -> str:
        return str(self.zone_net(zone).network_address + 1)

    def web(self, zone: str) -> str:
        return str(self.zone_net(zone).network_address + 2)

    def data(self, zone: str) -> str:
        return str(self.zone_net(zone).network_address + 3)

    def tier_addresses(self, tier: str) -> list[str]:
        """Source addresses of a tier as the other namespaces see them."""
        if tier == "host":
            return [self.host_address]
        if tier == "lb":
            return [self.lb_public, self.lb_internal]
        return [self.web(z) if tier == "web" else self.data(z) for z in self.zones]
