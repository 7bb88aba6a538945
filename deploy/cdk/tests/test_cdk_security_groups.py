"""Security groups as the seed orders them: only the load balancer is public; each tier admits only the one in front."""

from __future__ import annotations

from aws_cdk.assertions import Template
from cdk_template import egress_rules, ingress_rules, resources, security_group_id

ANYWHERE = {"0.0.0.0/0", "::/0"}


def groups(template: Template) -> dict[str, str]:
    return {
        "alb": security_group_id(template, "MyClothes load balancer"),
        "web": security_group_id(template, "MyClothes web tier"),
        "db": security_group_id(template, "MyClothes PostgreSQL"),
    }


def test_every_ingress_rule_is_one_the_seed_orders(production: Template) -> None:
    ids = {**groups(production), "cache": security_group_id(production, "MyClothes Redis")}
    assert ingress_rules(production) == {
        (ids["alb"], "0.0.0.0/0", 80, 80),
        (ids["alb"], "0.0.0.0/0", 443, 443),
        (ids["web"], ids["alb"], 8000, 8000),
        (ids["db"], ids["web"], 5432, 5432),
        (ids["cache"], ids["web"], 6379, 6379),
    }


def test_nothing_but_the_load_balancer_is_open_to_the_internet(production: Template, memory_carts: Template) -> None:
    for template in (production, memory_carts):
        alb = security_group_id(template, "MyClothes load balancer")
        public = {rule for rule in ingress_rules(template) if rule[1] in ANYWHERE}
        assert public and {group for group, *_ in public} == {alb}


def test_without_a_certificate_the_load_balancer_opens_only_http(memory_carts: Template) -> None:
    ids = groups(memory_carts)
    assert ingress_rules(memory_carts) == {
        (ids["alb"], "0.0.0.0/0", 80, 80),
        (ids["web"], ids["alb"], 8000, 8000),
        (ids["db"], ids["web"], 5432, 5432),
    }


def test_outbound_traffic_is_limited_to_the_next_tier(production: Template) -> None:
    ids = {**groups(production), "cache": security_group_id(production, "MyClothes Redis")}
    assert egress_rules(production) == {
        (ids["alb"], ids["web"], 8000, 8000),
        (ids["web"], ids["db"], 5432, 5432),
        (ids["web"], ids["cache"], 6379, 6379),
        # Package install and AWS APIs (Secrets Manager, SSM) through the NAT gateways.
        (ids["web"], "0.0.0.0/0", 443, 443),
    }


def test_database_and_cache_groups_send_nothing(production: Template) -> None:
    for description in ("MyClothes PostgreSQL", "MyClothes Redis"):
        group = resources(production, "AWS::EC2::SecurityGroup")[security_group_id(production, description)]
        (placeholder,) = group["Properties"]["SecurityGroupEgress"]
        assert placeholder["CidrIp"] == "255.255.255.255/32"


def test_the_vpc_default_security_group_is_stripped(production: Template) -> None:
    production.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
