"""The Application Load Balancer: the only thing reachable from the internet."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from myclothes_cdk.network import Network

WEB_PORT = 8000
STICKINESS = Duration.hours(1)


class StoreLoadBalancer(Construct):
    """Internet-facing ALB in the public subnets.

    With a certificate it listens on 443 and answers port 80 with a redirect to HTTPS; without one
    (a test deployment with no domain) it serves plain HTTP on 80. Its security group admits those
    ports from anywhere and may only talk to the web tier.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        certificate: acm.ICertificate | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="MyClothes load balancer: HTTP/HTTPS from anywhere",
            allow_all_outbound=False,
        )
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=network.vpc,
            vpc_subnets=network.public_subnets,
            internet_facing=True,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
        )
        self.serves_https = certificate is not None
        if certificate is not None:
            self.listener = self.alb.add_listener(
                "Https",
                port=443,
                certificates=[certificate],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                open=True,
            )
            self.alb.add_redirect(source_port=80, target_port=443)
        else:
            self.listener = self.alb.add_listener("Http", port=80, open=True)

    def route_to(self, web_tier: elbv2.IApplicationLoadBalancerTarget, *, sticky: bool) -> elbv2.ApplicationTargetGroup:
        """Send the shop's traffic to the web tier; ``sticky`` pins a shopper to one instance."""
        target_group = self.listener.add_targets(
            "Web",
            port=WEB_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[web_tier],
            health_check=elbv2.HealthCheck(
                path="/readyz",
                healthy_http_codes="200",
                interval=Duration.seconds(10),
                timeout=Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
            deregistration_delay=Duration.seconds(30),
            stickiness_cookie_duration=STICKINESS if sticky else None,
        )
        if not sticky:
            target_group.set_attribute("stickiness.enabled", "false")
        return target_group
