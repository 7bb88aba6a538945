"""The web tier: an Auto Scaling Group over three zones running `myclothes serve` with its settings."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template
from cdk_template import flatten, logical_id, only, resources, user_data

SETTINGS = (
    "MYCLOTHES_DATABASE_URL",
    "MYCLOTHES_DATABASE_REPLICA_URLS",
    "MYCLOTHES_REDIS_URL",
    "MYCLOTHES_CART_STORE",
    "MYCLOTHES_CACHE",
    "MYCLOTHES_SECRET_KEYS",
    "MYCLOTHES_COOKIE_SECURE",
    "MYCLOTHES_ZONE",
    "MYCLOTHES_INSTANCE",
)


def test_group_keeps_three_instances_over_three_zones(production: Template) -> None:
    _, group = only(production, "AWS::AutoScaling::AutoScalingGroup")
    assert int(group["Properties"]["MinSize"]) >= 3
    subnet_ids = {logical_id(subnet) for subnet in group["Properties"]["VPCZoneIdentifier"]}
    subnets = resources(production, "AWS::EC2::Subnet")
    zones = {subnets[subnet]["Properties"]["AvailabilityZone"] for subnet in subnet_ids}
    assert len(subnet_ids) == 3 and len(zones) == 3
    assert all(
        {"Key": "aws-cdk:subnet-type", "Value": "Private"} in subnets[subnet]["Properties"]["Tags"]
        for subnet in subnet_ids
    )


def test_group_uses_the_launch_template_and_the_load_balancer_health_check(production: Template) -> None:
    template_id, _ = only(production, "AWS::EC2::LaunchTemplate")
    _, group = only(production, "AWS::AutoScaling::AutoScalingGroup")
    assert logical_id(group["Properties"]["LaunchTemplate"]["LaunchTemplateId"]) == template_id
    assert group["Properties"]["HealthCheckType"] == "ELB"
    assert len(group["Properties"]["TargetGroupARNs"]) == 1


def test_instances_require_imdsv2_and_encrypted_disks(production: Template) -> None:
    production.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": Match.object_like(
                {
                    "MetadataOptions": {"HttpTokens": "required"},
                    "BlockDeviceMappings": [Match.object_like({"Ebs": Match.object_like({"Encrypted": True})})],
                }
            )
        },
    )


def test_target_tracking_on_requests_and_cpu(production: Template) -> None:
    metrics = {
        policy["Properties"]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]
        for policy in resources(production, "AWS::AutoScaling::ScalingPolicy").values()
        if policy["Properties"]["PolicyType"] == "TargetTrackingScaling"
    }
    assert metrics == {"ALBRequestCountPerTarget", "ASGAverageCPUUtilization"}


def test_a_new_launch_template_version_starts_an_instance_refresh(production: Template) -> None:
    template_id, _ = only(production, "AWS::EC2::LaunchTemplate")
    (refresh,) = resources(production, "Custom::AWS").values()
    update = flatten(refresh["Properties"]["Update"])
    assert '"action":"startInstanceRefresh"' in update
    assert '"SkipMatching":true' in update
    assert f'"Fn::GetAtt": ["{template_id}", "LatestVersionNumber"]' in update


def test_instances_run_the_app_with_every_setting(production: Template) -> None:
    script = user_data(production)
    assert "myclothes serve --host 0.0.0.0 --port 8000" in script
    assert "pip install 'myclothes'" in script
    for setting in SETTINGS:
        assert setting in script, setting
    assert "MYCLOTHES_CART_STORE=redis" in script
    assert "MYCLOTHES_COOKIE_SECURE=true" in script


def test_settings_carry_the_writer_replica_and_redis_endpoints(production: Template) -> None:
    script = user_data(production)
    primary = [
        name
        for name, db in resources(production, "AWS::RDS::DBInstance").items()
        if "SourceDBInstanceIdentifier" not in db["Properties"]
    ]
    replicas = [
        name
        for name, db in resources(production, "AWS::RDS::DBInstance").items()
        if "SourceDBInstanceIdentifier" in db["Properties"]
    ]
    redis_id, _ = only(production, "AWS::ElastiCache::ReplicationGroup")
    assert f'DATABASE_HOST={{"Fn::GetAtt": ["{primary[0]}", "Endpoint.Address"]}}' in script
    for replica in replicas:
        assert f'"Fn::GetAtt": ["{replica}", "Endpoint.Address"]' in script
    assert f'REDIS_HOST={{"Fn::GetAtt": ["{redis_id}", "PrimaryEndPoint.Address"]}}' in script


def test_memory_carts_run_without_redis_and_without_secure_cookies_on_plain_http(memory_carts: Template) -> None:
    script = user_data(memory_carts)
    assert "MYCLOTHES_CART_STORE=memory" in script
    assert "MYCLOTHES_CACHE=memory" in script
    assert "MYCLOTHES_COOKIE_SECURE=false" in script
    assert "REDIS_HOST=" not in script


def test_instances_may_read_exactly_their_secrets(production: Template) -> None:
    secrets = set(resources(production, "AWS::SecretsManager::Secret"))
    readable: set[str] = set()
    for policy in resources(production, "AWS::IAM::Policy").values():
        if not any("InstanceRole" in logical_id(role) for role in policy["Properties"].get("Roles", [])):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in statement["Action"]:
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                readable |= {logical_id(target) for target in targets}
    assert readable == secrets
