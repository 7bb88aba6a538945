"""The VPC spans three Availability Zones with public, private and isolated subnets."""

from __future__ import annotations

from collections import defaultdict

from aws_cdk.assertions import Template
from cdk_configurations import ZONES
from cdk_template import resources


def subnets_by_type(template: Template) -> dict[str, list[dict]]:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for subnet in resources(template, "AWS::EC2::Subnet").values():
        tags = {tag["Key"]: tag["Value"] for tag in subnet["Properties"]["Tags"]}
        by_type[tags["aws-cdk:subnet-type"]].append(subnet["Properties"])
    return by_type


def test_each_tier_has_one_subnet_in_each_of_three_zones(production: Template) -> None:
    by_type = subnets_by_type(production)
    assert sorted(by_type) == ["Isolated", "Private", "Public"]
    for subnets in by_type.values():
        assert sorted(subnet["AvailabilityZone"] for subnet in subnets) == ZONES


def test_only_public_subnets_give_public_addresses(production: Template) -> None:
    for subnet_type, subnets in subnets_by_type(production).items():
        assert all(subnet["MapPublicIpOnLaunch"] == (subnet_type == "Public") for subnet in subnets)


def test_isolated_subnets_have_no_route_out(production: Template) -> None:
    routes = resources(production, "AWS::EC2::Route")
    # 3 public routes to the internet gateway + 3 private routes to the NAT gateway of their zone.
    assert len(routes) == 6
    assert sum("NatGatewayId" in route["Properties"] for route in routes.values()) == 3
    assert sum("GatewayId" in route["Properties"] for route in routes.values()) == 3


def test_one_nat_gateway_per_zone(production: Template) -> None:
    production.resource_count_is("AWS::EC2::NatGateway", 3)
