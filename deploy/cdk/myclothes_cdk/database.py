"""RDS PostgreSQL: a Multi-AZ primary (synchronous standby in another zone) plus read replicas."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from myclothes_cdk.network import Network

DATABASE_NAME = "myclothes"
MASTER_USER = "myclothes"
POSTGRES_PORT = 5432


class StoreDatabase(Construct):
    """The relational database for accounts, orders, the catalog (and the ``sql`` cart store).

    The primary is Multi-AZ: RDS keeps a synchronous standby in a second zone and fails over to
    it by DNS. Read replicas (0-15) are spread over the zones; the web tier reads from them.
    Storage is encrypted, backups are kept seven days, and the master password lives in Secrets
    Manager. Only the web tier's security group may connect.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        read_replicas: int,
        instance_type: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="MyClothes PostgreSQL: only from the web tier",
            allow_all_outbound=False,
        )
        self.credentials_secret = secretsmanager.Secret(
            self,
            "Credentials",
            description="MyClothes PostgreSQL master credentials",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"username": "{MASTER_USER}"}}',
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=40,
            ),
        )
        self.primary = rds.DatabaseInstance(
            self,
            "Primary",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_9),
            instance_type=ec2.InstanceType(instance_type),
            vpc=network.vpc,
            vpc_subnets=network.data_subnets,
            security_groups=[self.security_group],
            credentials=rds.Credentials.from_secret(self.credentials_secret),
            database_name=DATABASE_NAME,
            port=POSTGRES_PORT,
            multi_az=True,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=50,
            max_allocated_storage=500,
            backup_retention=Duration.days(7),
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            auto_minor_version_upgrade=True,
            cloudwatch_logs_exports=["postgresql"],
            publicly_accessible=False,
        )
        zones = network.vpc.availability_zones
        self.replicas = [
            rds.DatabaseInstanceReadReplica(
                self,
                f"Replica{index + 1}",
                source_database_instance=self.primary,
                instance_type=ec2.InstanceType(instance_type),
                vpc=network.vpc,
                vpc_subnets=network.data_subnets,
                security_groups=[self.security_group],
                availability_zone=zones[(index + 1) % len(zones)],
                auto_minor_version_upgrade=True,
                publicly_accessible=False,
                removal_policy=RemovalPolicy.DESTROY,
            )
            for index in range(read_replicas)
        ]

    def allow_from(self, peer: ec2.IConnectable) -> None:
        """Let ``peer`` (the web tier) connect to the primary and every replica."""
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(POSTGRES_PORT), "PostgreSQL from web")
