"""The VPC: three Availability Zones, each with a public, a private and an isolated subnet."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

AZ_COUNT = 3


class Network(Construct):
    """VPC over three Availability Zones.

    - public subnets: the load balancer (and the NAT gateways);
    - private subnets (egress through NAT): the web instances, which install the app and call AWS APIs;
    - isolated subnets (no route out): PostgreSQL and Redis.

    One NAT gateway per zone so that losing a zone never cuts the other zones off.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=AZ_COUNT,
            nat_gateways=AZ_COUNT,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="web", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )

    @property
    def public_subnets(self) -> ec2.SubnetSelection:
        """Subnets for the internet-facing load balancer."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)

    @property
    def web_subnets(self) -> ec2.SubnetSelection:
        """Subnets for the web tier."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        """Subnets for the database and the cache."""
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
