"""RDS PostgreSQL: Multi-AZ primary, replicas as many as the context asks, secrets, encryption, backups."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from cdk_configurations import ZONES
from cdk_template import logical_id, resources
from myclothes_cdk.settings import DeploySettings


def instances(template: Template) -> tuple[dict, list[dict]]:
    found = resources(template, "AWS::RDS::DBInstance").values()
    (primary,) = [db for db in found if "SourceDBInstanceIdentifier" not in db["Properties"]]
    replicas = [db for db in found if "SourceDBInstanceIdentifier" in db["Properties"]]
    return primary, replicas


def test_primary_is_multi_az_encrypted_and_backed_up(production: Template) -> None:
    primary, _ = instances(production)
    props = primary["Properties"]
    assert props["Engine"] == "postgres"
    assert props["MultiAZ"] is True
    assert props["StorageEncrypted"] is True
    assert props["BackupRetentionPeriod"] >= 7
    assert props["DeletionProtection"] is True
    assert props["PubliclyAccessible"] is False
    assert primary["DeletionPolicy"] == "Snapshot"


def test_master_credentials_come_from_secrets_manager(production: Template) -> None:
    primary, _ = instances(production)
    password = primary["Properties"]["MasterUserPassword"]["Fn::Join"][1]
    assert password[0].startswith("{{resolve:secretsmanager:")
    production.resource_count_is("AWS::SecretsManager::SecretTargetAttachment", 1)


@pytest.mark.parametrize(("shape", "expected"), [("memory_carts", 0), ("production", 2), ("largest", 15)])
def test_replica_count_follows_context(shape: str, expected: int, request: pytest.FixtureRequest) -> None:
    template: Template = request.getfixturevalue(shape)
    primary_id = next(
        name
        for name, db in resources(template, "AWS::RDS::DBInstance").items()
        if "SourceDBInstanceIdentifier" not in db["Properties"]
    )
    _, replicas = instances(template)
    assert len(replicas) == expected
    for replica in replicas:
        assert primary_id in str(replica["Properties"]["SourceDBInstanceIdentifier"])
        assert replica["Properties"]["PubliclyAccessible"] is False


def test_replicas_are_spread_over_the_zones(largest: Template) -> None:
    _, replicas = instances(largest)
    zones = [replica["Properties"]["AvailabilityZone"] for replica in replicas]
    assert set(zones) == set(ZONES)
    assert max(zones.count(zone) for zone in ZONES) == 5


def test_database_lives_in_the_isolated_subnets(production: Template) -> None:
    subnets = resources(production, "AWS::EC2::Subnet")
    for group in resources(production, "AWS::RDS::DBSubnetGroup").values():
        for subnet in group["Properties"]["SubnetIds"]:
            tags = subnets[logical_id(subnet)]["Properties"]["Tags"]
            assert {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in tags


@pytest.mark.parametrize("replicas", [-1, 16])
def test_replica_count_outside_0_to_15_is_refused(replicas: int) -> None:
    with pytest.raises(ValueError, match="read_replicas"):
        DeploySettings(read_replicas=replicas)
