"""The web tier: identical, stateless MyClothes instances in an Auto Scaling Group over three zones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from myclothes_cdk.load_balancer import StoreLoadBalancer
from myclothes_cdk.network import Network

INSTANCE_FILES = Path(__file__).parent / "instance"
APP_DIR = "/opt/myclothes"
DATA_DIR = "/var/lib/myclothes"
PYTHON = "python3.11"
REQUESTS_PER_INSTANCE_PER_MINUTE = 3000
CPU_TARGET_PERCENT = 60


@dataclass(frozen=True)
class WebSettings:
    """Where the web tier finds its backing services, and the settings it runs with."""

    app_package: str
    cart_store: str
    cache: str
    cookie_secure: bool
    database_host: str
    database_port: str
    database_name: str
    database_replica_hosts: list[str]
    database_secret: secretsmanager.ISecret
    redis_host: str | None = None
    redis_port: str | None = None
    redis_token_secret: secretsmanager.ISecret | None = None


class WebTier(Construct):
    """Auto Scaling Group of MyClothes instances behind the load balancer.

    Each instance boots Amazon Linux 2023, installs the app into a virtualenv and runs
    ``myclothes serve --host 0.0.0.0 --port 8000`` under systemd with its settings as
    ``MYCLOTHES_*`` environment variables. Secrets are fetched from Secrets Manager at service start.
    The group keeps at least three instances (one per zone), scales on ALB requests per instance
    and on CPU, replaces instances that fail the load balancer's ``/readyz`` check, and rolls every
    launch-template change out with an instance refresh.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        load_balancer: StoreLoadBalancer,
        settings: WebSettings,
        instance_type: str,
        min_capacity: int,
        max_capacity: int,
        sticky_sessions: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="MyClothes web tier: only from the load balancer",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS out through NAT: package install and AWS APIs"
        )
        self.secret_keys = secretsmanager.Secret(
            self,
            "SecretKeys",
            description="MyClothes MYCLOTHES_SECRET_KEYS (comma list, first signs)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        )
        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        for secret in (settings.database_secret, self.secret_keys, settings.redis_token_secret):
            if secret is not None:
                secret.grant_read(role)

        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            instance_type=ec2.InstanceType(instance_type),
            security_group=self.security_group,
            role=role,
            user_data=self._user_data(settings, network.vpc.vpc_cidr_block),
            require_imdsv2=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(20, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
        )
        self.group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=network.vpc,
            vpc_subnets=network.web_subnets,
            launch_template=self.launch_template,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=Duration.minutes(5),
            ),
            default_instance_warmup=Duration.minutes(3),
        )
        load_balancer.route_to(self.group, sticky=sticky_sessions)
        self.group.scale_on_request_count(
            "RequestsPerInstance", target_requests_per_minute=REQUESTS_PER_INSTANCE_PER_MINUTE
        )
        self.group.scale_on_cpu_utilization("Cpu", target_utilization_percent=CPU_TARGET_PERCENT)
        self._refresh_instances_on_change()

    def _user_data(self, settings: WebSettings, vpc_cidr: str) -> ec2.UserData:
        """Boot script: install the app, write its settings, start it under systemd."""
        plain = {
            # The ALB's nodes live in the VPC: their X-Forwarded-For names the shopper (per-IP login limits).
            "MYCLOTHES_TRUSTED_PROXIES": vpc_cidr,
            "MYCLOTHES_CART_STORE": settings.cart_store,
            "MYCLOTHES_CACHE": settings.cache,
            "MYCLOTHES_COOKIE_SECURE": "true" if settings.cookie_secure else "false",
            "MYCLOTHES_DATA_DIR": DATA_DIR,
        }
        sources = {
            "AWS_REGION": Stack.of(self).region,
            "DATABASE_SECRET_ARN": settings.database_secret.secret_arn,
            "DATABASE_HOST": settings.database_host,
            "DATABASE_PORT": settings.database_port,
            "DATABASE_NAME": settings.database_name,
            "DATABASE_REPLICA_HOSTS": ",".join(settings.database_replica_hosts),
            "SECRET_KEYS_SECRET_ARN": self.secret_keys.secret_arn,
        }
        if settings.redis_host and settings.redis_port and settings.redis_token_secret:
            sources |= {
                "REDIS_HOST": settings.redis_host,
                "REDIS_PORT": settings.redis_port,
                "REDIS_TOKEN_SECRET_ARN": settings.redis_token_secret.secret_arn,
            }
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            f"dnf install -y {PYTHON} {PYTHON}-pip",
            f"id myclothes || useradd --system --home-dir {DATA_DIR} --shell /sbin/nologin myclothes",
            f"install -d -m 0750 -o myclothes -g myclothes {DATA_DIR}",
            f"{PYTHON} -m venv {APP_DIR}",
            f"{APP_DIR}/bin/pip install --upgrade pip",
            f"{APP_DIR}/bin/pip install '{settings.app_package}'",
            "install -d -m 0755 /etc/myclothes",
            _file("/etc/myclothes/settings.env", _env_lines(plain)),
            _file("/etc/myclothes/sources.env", _env_lines(sources)),
            _file(f"{APP_DIR}/render_settings.py", (INSTANCE_FILES / "render_settings.py").read_text()),
            _file("/etc/systemd/system/myclothes.service", (INSTANCE_FILES / "myclothes.service").read_text()),
            "systemctl daemon-reload",
            "systemctl enable --now myclothes.service",
        )
        return user_data

    def _refresh_instances_on_change(self) -> None:
        """Start an instance refresh whenever the launch template gets a new version.

        CloudFormation updates the group to the new version but leaves running instances alone;
        the refresh then replaces them, launching before terminating so capacity never drops.
        """
        group_name = self.group.auto_scaling_group_name
        cr.AwsCustomResource(
            self,
            "InstanceRefresh",
            on_create=cr.AwsSdkCall(
                service="AutoScaling",
                action="describeInstanceRefreshes",
                parameters={"AutoScalingGroupName": group_name},
                physical_resource_id=cr.PhysicalResourceId.of(self.launch_template.latest_version_number),
            ),
            on_update=cr.AwsSdkCall(
                service="AutoScaling",
                action="startInstanceRefresh",
                parameters={
                    "AutoScalingGroupName": group_name,
                    "Strategy": "Rolling",
                    "Preferences": {
                        "MinHealthyPercentage": 100,
                        "MaxHealthyPercentage": 200,
                        "InstanceWarmup": 180,
                        "SkipMatching": True,
                    },
                },
                physical_resource_id=cr.PhysicalResourceId.of(self.launch_template.latest_version_number),
            ),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["autoscaling:StartInstanceRefresh"],
                        resources=[self.group.auto_scaling_group_arn],
                    ),
                    iam.PolicyStatement(actions=["autoscaling:DescribeInstanceRefreshes"], resources=["*"]),
                ]
            ),
            install_latest_aws_sdk=False,
        )


def _env_lines(values: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in values.items())


def _file(path: str, content: str) -> str:
    """A shell command writing ``content`` verbatim to ``path`` (quoted heredoc: no expansion)."""
    return f"cat > {path} <<'MYCLOTHES_EOF'\n{content.rstrip()}\nMYCLOTHES_EOF"
