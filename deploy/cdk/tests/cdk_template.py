"""Small readers over a synthesized CloudFormation template, shared by the CDK tests."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

Resource = dict[str, Any]


def resources(template: Template, resource_type: str) -> dict[str, Resource]:
    """Logical id -> resource, for every resource of ``resource_type``."""
    return {name: dict(resource) for name, resource in template.find_resources(resource_type).items()}


def only(template: Template, resource_type: str) -> tuple[str, Resource]:
    """The single resource of ``resource_type`` (fails if there is not exactly one)."""
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def logical_id(reference: Any) -> str:
    """The logical id behind ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}``."""
    if "Ref" in reference:
        return str(reference["Ref"])
    return str(reference["Fn::GetAtt"][0])


def flatten(value: Any) -> str:
    """A template value as text, with references shown as JSON: for searching in joined strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flatten(part) for part in parts)
    if isinstance(value, dict) and "Fn::Base64" in value:
        return flatten(value["Fn::Base64"])
    return json.dumps(value, sort_keys=True)


def user_data(template: Template) -> str:
    """The web instances' boot script."""
    _, launch_template = only(template, "AWS::EC2::LaunchTemplate")
    return flatten(launch_template["Properties"]["LaunchTemplateData"]["UserData"])


def security_group_id(template: Template, description_start: str) -> str:
    """Logical id of the security group whose description starts with ``description_start``."""
    matches = [
        name
        for name, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if group["Properties"]["GroupDescription"].startswith(description_start)
    ]
    assert len(matches) == 1, f"expected one security group '{description_start}...', found {matches}"
    return matches[0]


def ingress_rules(template: Template) -> set[tuple[str, str, int, int]]:
    """Every ingress rule as (group, source, from port, to port); source is a CIDR or a group id."""
    rules: set[tuple[str, str, int, int]] = set()
    for name, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            source = rule.get("CidrIp") or rule.get("CidrIpv6") or logical_id(rule["SourceSecurityGroupId"])
            rules.add((name, source, rule["FromPort"], rule["ToPort"]))
    for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        props = rule["Properties"]
        source = props.get("CidrIp") or props.get("CidrIpv6") or logical_id(props["SourceSecurityGroupId"])
        rules.add((logical_id(props["GroupId"]), source, props["FromPort"], props["ToPort"]))
    return rules


def egress_rules(template: Template) -> set[tuple[str, str, int, int]]:
    """Every real egress rule as (group, destination, from port, to port).

    CDK marks a group with no egress by a placeholder rule to 255.255.255.255/32; it is left out.
    """
    rules: set[tuple[str, str, int, int]] = set()
    for name, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupEgress", []):
            if rule.get("CidrIp") == "255.255.255.255/32":
                continue
            destination = rule.get("CidrIp") or rule.get("CidrIpv6") or logical_id(rule["DestinationSecurityGroupId"])
            rules.add((name, destination, rule["FromPort"], rule["ToPort"]))
    for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values():
        props = rule["Properties"]
        destination = props.get("CidrIp") or props.get("CidrIpv6") or logical_id(props["DestinationSecurityGroupId"])
        rules.add((logical_id(props["GroupId"]), destination, props["FromPort"], props["ToPort"]))
    return rules
