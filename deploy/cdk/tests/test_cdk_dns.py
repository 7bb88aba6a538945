"""Route 53 alias to the load balancer, and the certificate: given by ARN or issued by ACM."""

from __future__ import annotations

from aws_cdk.assertions import Template
from cdk_configurations import HOSTED_ZONE_ID
from cdk_template import flatten, logical_id, only


def test_alias_record_sends_the_domain_to_the_load_balancer(production: Template) -> None:
    alb_id, _ = only(production, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    _, record = only(production, "AWS::Route53::RecordSet")
    props = record["Properties"]
    assert props["Type"] == "A"
    assert props["Name"] == "shop.example.com."
    assert props["HostedZoneId"] == HOSTED_ZONE_ID
    assert logical_id(props["AliasTarget"]["HostedZoneId"]) == alb_id
    assert f'"Fn::GetAtt": ["{alb_id}", "DNSName"]' in flatten(props["AliasTarget"]["DNSName"])


def test_a_given_certificate_is_used_as_is(production: Template) -> None:
    production.resource_count_is("AWS::CertificateManager::Certificate", 0)


def test_without_a_certificate_arn_acm_issues_one_validated_in_the_zone(largest: Template) -> None:
    _, certificate = only(largest, "AWS::CertificateManager::Certificate")
    props = certificate["Properties"]
    assert props["DomainName"] == "shop.example.com"
    assert props["ValidationMethod"] == "DNS"
    assert props["DomainValidationOptions"] == [{"DomainName": "shop.example.com", "HostedZoneId": HOSTED_ZONE_ID}]
    cert_id, _ = only(largest, "AWS::CertificateManager::Certificate")
    largest.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443, "Certificates": [{"CertificateArn": {"Ref": cert_id}}]}
    )


def test_no_record_without_a_domain(memory_carts: Template) -> None:
    memory_carts.resource_count_is("AWS::Route53::RecordSet", 0)
