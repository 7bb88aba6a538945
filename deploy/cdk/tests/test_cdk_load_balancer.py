"""The Application Load Balancer: HTTPS with a redirect from HTTP, /readyz checks, stickiness only for memory carts."""

from __future__ import annotations

from aws_cdk.assertions import Match, Template
from cdk_configurations import CERTIFICATE_ARN
from cdk_template import only, resources


def attributes(template: Template) -> dict[str, str]:
    _, group = only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    return {item["Key"]: item["Value"] for item in group["Properties"]["TargetGroupAttributes"]}


def test_load_balancer_is_internet_facing_in_the_public_subnets(production: Template) -> None:
    _, alb = only(production, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Properties"]["Scheme"] == "internet-facing"
    assert all("Public" in subnet["Ref"] or "public" in subnet["Ref"] for subnet in alb["Properties"]["Subnets"])
    assert len(alb["Properties"]["Subnets"]) == 3


def test_https_listener_serves_the_given_certificate(production: Template) -> None:
    production.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": CERTIFICATE_ARN}]},
    )


def test_http_redirects_to_https(production: Template) -> None:
    production.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                Match.object_like(
                    {
                        "Type": "redirect",
                        "RedirectConfig": Match.object_like(
                            {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
                        ),
                    }
                )
            ],
        },
    )


def test_without_certificate_plain_http_forwards_to_the_web_tier(memory_carts: Template) -> None:
    (listener,) = resources(memory_carts, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert listener["Properties"]["Port"] == 80
    assert listener["Properties"]["DefaultActions"][0]["Type"] == "forward"


def test_target_group_checks_readiness_on_the_app_port(production: Template) -> None:
    production.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Port": 8000, "Protocol": "HTTP", "HealthCheckPath": "/readyz", "Matcher": {"HttpCode": "200"}},
    )


def test_no_stickiness_when_carts_live_outside_the_web_tier(production: Template) -> None:
    assert attributes(production)["stickiness.enabled"] == "false"


def test_duration_cookie_stickiness_for_the_memory_cart_store(memory_carts: Template) -> None:
    found = attributes(memory_carts)
    assert found["stickiness.enabled"] == "true"
    assert found["stickiness.type"] == "lb_cookie"
    assert int(found["stickiness.lb_cookie.duration_seconds"]) > 0
