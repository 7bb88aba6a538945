"""Deployment settings from CDK context: defaults, strings from `-c`, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from myclothes_cdk.settings import DeploySettings


class Context:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def try_get_context(self, key: str) -> Any:
        return self.values.get(key)


def test_command_line_strings_become_typed_settings() -> None:
    settings = DeploySettings.from_context(
        Context(cart_store="memory", cache="memory", read_replicas="4", max_capacity="6")
    )
    assert (settings.cart_store, settings.read_replicas, settings.max_capacity) == ("memory", 4, 6)
    assert settings.sticky_sessions and not settings.uses_redis


def test_defaults_use_redis_and_no_stickiness() -> None:
    settings = DeploySettings.from_context(Context())
    assert settings.uses_redis and not settings.sticky_sessions and not settings.serves_https


@pytest.mark.parametrize(
    "values",
    [
        {"cart_store": "dynamodb"},
        {"cache": "memcached"},
        {"min_capacity": "2"},
        {"domain_name": "shop.example.com"},
    ],
)
def test_invalid_context_is_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        DeploySettings.from_context(Context(**values))
