"""ElastiCache Redis: carts and the catalog cache, Multi-AZ with automatic failover."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from myclothes_cdk.network import Network

REDIS_PORT = 6379


class StoreCache(Construct):
    """A Redis replication group: one primary and two replicas, one node per Availability Zone.

    If the primary fails, ElastiCache promotes a replica and moves the primary endpoint to it.
    Traffic is TLS only, data is encrypted at rest, and clients must present the AUTH token kept
    in Secrets Manager. Only the web tier's security group may connect.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        node_type: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="MyClothes Redis: only from the web tier",
            allow_all_outbound=False,
        )
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            description="MyClothes Redis AUTH token",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True,
                password_length=64,
            ),
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "SubnetGroup",
            description="MyClothes Redis: isolated subnets",
            subnet_ids=network.vpc.select_subnets(subnet_type=network.data_subnets.subnet_type).subnet_ids,
        )
        zones = network.vpc.availability_zones
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_description="MyClothes carts and catalog cache",
            engine="redis",
            engine_version="7.1",
            cache_node_type=node_type,
            num_cache_clusters=len(zones),
            preferred_cache_cluster_a_zs=zones,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            port=REDIS_PORT,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            snapshot_retention_limit=1,
            auto_minor_version_upgrade=True,
        )

    @property
    def primary_endpoint(self) -> str:
        """The primary's DNS name; it follows a failover."""
        return self.replication_group.attr_primary_end_point_address

    def allow_from(self, peer: ec2.IConnectable) -> None:
        """Let ``peer`` (the web tier) connect to Redis."""
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(REDIS_PORT), "Redis from web")
