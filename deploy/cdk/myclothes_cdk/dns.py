"""Route 53 and ACM: the store's domain name and its TLS certificate."""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct


class StoreDomain(Construct):
    """The shop's DNS name in an existing hosted zone, and the certificate the load balancer serves.

    The certificate is the one whose ARN is given, or else a new ACM certificate validated through
    the hosted zone. The hosted zone is referenced by id and name, so synthesis needs no AWS lookup.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        hosted_zone_id: str,
        hosted_zone_name: str,
        certificate_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain_name = domain_name
        self.zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=hosted_zone_id, zone_name=hosted_zone_name
        )
        self.certificate: acm.ICertificate
        if certificate_arn:
            self.certificate = self.imported_certificate(self, certificate_arn)
        else:
            self.certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=domain_name,
                validation=acm.CertificateValidation.from_dns(self.zone),
            )

    @staticmethod
    def imported_certificate(scope: Construct, certificate_arn: str) -> acm.ICertificate:
        """An existing ACM certificate, by ARN."""
        return acm.Certificate.from_certificate_arn(scope, "Certificate", certificate_arn)

    def point_at(self, load_balancer: elbv2.IApplicationLoadBalancer) -> route53.ARecord:
        """Create the alias record that sends the shop's domain to the load balancer."""
        return route53.ARecord(
            self,
            "Alias",
            zone=self.zone,
            record_name=self.domain_name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(load_balancer)),
        )
