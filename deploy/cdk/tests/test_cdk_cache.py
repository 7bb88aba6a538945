"""ElastiCache Redis: Multi-AZ with automatic failover, TLS, encryption at rest, AUTH; only when Redis is used."""

from __future__ import annotations

from aws_cdk.assertions import Template
from cdk_configurations import ZONES
from cdk_template import logical_id, only, resources


def test_replication_group_is_multi_az_with_automatic_failover(production: Template) -> None:
    _, group = only(production, "AWS::ElastiCache::ReplicationGroup")
    props = group["Properties"]
    assert props["Engine"] == "redis"
    assert props["MultiAZEnabled"] is True
    assert props["AutomaticFailoverEnabled"] is True
    assert props["NumCacheClusters"] == 3
    assert sorted(props["PreferredCacheClusterAZs"]) == ZONES


def test_redis_is_encrypted_and_needs_the_auth_token(production: Template) -> None:
    _, group = only(production, "AWS::ElastiCache::ReplicationGroup")
    props = group["Properties"]
    assert props["TransitEncryptionEnabled"] is True
    assert props["AtRestEncryptionEnabled"] is True
    token = props["AuthToken"]["Fn::Join"][1]
    assert token[0] == "{{resolve:secretsmanager:"
    assert logical_id(token[1]) in resources(production, "AWS::SecretsManager::Secret")


def test_redis_lives_in_the_isolated_subnets(production: Template) -> None:
    _, group = only(production, "AWS::ElastiCache::SubnetGroup")
    subnets = resources(production, "AWS::EC2::Subnet")
    assert len(group["Properties"]["SubnetIds"]) == 3
    for subnet in group["Properties"]["SubnetIds"]:
        assert {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in subnets[logical_id(subnet)]["Properties"]["Tags"]


def test_no_redis_when_neither_carts_nor_cache_use_it(memory_carts: Template) -> None:
    memory_carts.resource_count_is("AWS::ElastiCache::ReplicationGroup", 0)
