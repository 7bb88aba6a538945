"""The MyClothes stack: the seed's picture, one construct per tier."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from myclothes_cdk.cache import REDIS_PORT, StoreCache
from myclothes_cdk.database import DATABASE_NAME, StoreDatabase
from myclothes_cdk.dns import StoreDomain
from myclothes_cdk.load_balancer import StoreLoadBalancer
from myclothes_cdk.network import Network
from myclothes_cdk.settings import DeploySettings
from myclothes_cdk.web_tier import WebSettings, WebTier


class MyClothesStack(Stack):
    """Route 53 -> ALB -> Auto Scaling web tier -> RDS PostgreSQL (+ replicas) and ElastiCache Redis."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network = Network(self, "Network")

        domain = None
        if settings.domain_name and settings.hosted_zone_id and settings.hosted_zone_name:
            domain = StoreDomain(
                self,
                "Domain",
                domain_name=settings.domain_name,
                hosted_zone_id=settings.hosted_zone_id,
                hosted_zone_name=settings.hosted_zone_name,
                certificate_arn=settings.certificate_arn,
            )
        certificate = domain.certificate if domain else None
        if certificate is None and settings.certificate_arn:
            certificate = StoreDomain.imported_certificate(self, settings.certificate_arn)
        load_balancer = StoreLoadBalancer(self, "LoadBalancer", network=network, certificate=certificate)

        database = StoreDatabase(
            self,
            "Database",
            network=network,
            read_replicas=settings.read_replicas,
            instance_type=settings.database_instance_type,
        )
        cache = (
            StoreCache(self, "Cache", network=network, node_type=settings.cache_node_type)
            if settings.uses_redis
            else None
        )

        web = WebTier(
            self,
            "Web",
            network=network,
            load_balancer=load_balancer,
            settings=WebSettings(
                app_package=settings.app_package,
                cart_store=settings.cart_store,
                cache=settings.cache,
                cookie_secure=load_balancer.serves_https,
                database_host=database.primary.db_instance_endpoint_address,
                database_port=database.primary.db_instance_endpoint_port,
                database_name=DATABASE_NAME,
                database_replica_hosts=[replica.db_instance_endpoint_address for replica in database.replicas],
                database_secret=database.credentials_secret,
                redis_host=cache.primary_endpoint if cache else None,
                redis_port=str(REDIS_PORT) if cache else None,
                redis_token_secret=cache.auth_token if cache else None,
            ),
            instance_type=settings.instance_type,
            min_capacity=settings.min_capacity,
            max_capacity=settings.max_capacity,
            sticky_sessions=settings.sticky_sessions,
        )
        database.allow_from(web.group)
        if cache:
            cache.allow_from(web.group)

        scheme = "https" if load_balancer.serves_https else "http"
        if domain:
            domain.point_at(load_balancer.alb)
            CfnOutput(self, "StoreUrl", value=f"{scheme}://{settings.domain_name}/")
        else:
            CfnOutput(self, "StoreUrl", value=f"{scheme}://{load_balancer.alb.load_balancer_dns_name}/")
