"""Deployment settings read from CDK context (``cdk.json`` or ``cdk synth -c key=value``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

CART_STORES = ("memory", "cookie", "redis", "sql")
CACHES = ("none", "memory", "redis")
MAX_READ_REPLICAS = 15


class ContextSource(Protocol):
    """Anything that answers ``try_get_context`` (a construct's ``node``)."""

    def try_get_context(self, key: str) -> Any: ...


@dataclass(frozen=True)
class DeploySettings:
    """What one MyClothes deployment on AWS looks like.

    Every field maps to one context key of the same name; see docs/deploy.md.
    """

    cart_store: str = "redis"
    cache: str = "redis"
    read_replicas: int = 2
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    certificate_arn: str | None = None
    app_package: str = "myclothes"
    instance_type: str = "t3.small"
    min_capacity: int = 3
    max_capacity: int = 12
    database_instance_type: str = "t4g.medium"
    cache_node_type: str = "cache.t4g.small"

    def __post_init__(self) -> None:
        if self.cart_store not in CART_STORES:
            raise ValueError(f"cart_store must be one of {CART_STORES}, got {self.cart_store!r}")
        if self.cache not in CACHES:
            raise ValueError(f"cache must be one of {CACHES}, got {self.cache!r}")
        if not 0 <= self.read_replicas <= MAX_READ_REPLICAS:
            raise ValueError(f"read_replicas must be 0..{MAX_READ_REPLICAS}, got {self.read_replicas}")
        if self.min_capacity < 3:
            raise ValueError("min_capacity must be at least 3 (one web instance per Availability Zone)")
        if self.max_capacity < self.min_capacity:
            raise ValueError("max_capacity must not be below min_capacity")
        if self.domain_name and not (self.hosted_zone_id and self.hosted_zone_name):
            raise ValueError("domain_name needs hosted_zone_id and hosted_zone_name")

    @property
    def uses_redis(self) -> bool:
        """ElastiCache is deployed only when the cart store or the cache lives in Redis."""
        return "redis" in (self.cart_store, self.cache)

    @property
    def sticky_sessions(self) -> bool:
        """The ``memory`` cart store lives in one process, so a shopper must keep hitting it."""
        return self.cart_store == "memory"

    @property
    def serves_https(self) -> bool:
        """HTTPS is on when a certificate is given or can be issued for the store's domain."""
        return bool(self.certificate_arn or self.domain_name)

    @classmethod
    def from_context(cls, context: ContextSource) -> DeploySettings:
        """Build the settings from context; values given with ``-c`` arrive as strings."""
        values: dict[str, Any] = {}
        for name, field in cls.__dataclass_fields__.items():
            raw = context.try_get_context(name)
            if raw is None or raw == "":
                continue
            values[name] = int(raw) if field.type == "int" else str(raw)
        return cls(**values)
