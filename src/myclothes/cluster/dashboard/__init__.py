"""The operators' live dashboard (`myclothes cluster dashboard`): the zones' nodes and the Prometheus charts."""

from myclothes.cluster.dashboard.server import DEFAULT_PORT, serve

__all__ = ["DEFAULT_PORT", "serve"]
