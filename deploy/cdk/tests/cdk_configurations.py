"""The deployment shapes the CDK tests synthesize, with a fixed account, region and zones."""

from __future__ import annotations

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ZONES = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
HOSTED_ZONE_ID = "Z0123456789ABCDEFGHIJ"
CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555"

DOMAIN = {"domain_name": "shop.example.com", "hosted_zone_id": HOSTED_ZONE_ID, "hosted_zone_name": "example.com"}
# The production shape: Redis carts and cache, two replicas (cdk.json), a domain with a given certificate.
PRODUCTION = {**DOMAIN, "certificate_arn": CERTIFICATE_ARN}
# Stateful web tier: carts in process memory, no Redis at all, no replica, no domain (plain HTTP).
MEMORY_CARTS = {"cart_store": "memory", "cache": "memory", "read_replicas": 0}
# The largest database (15 replicas) and a certificate issued by ACM for the domain.
LARGEST = {**DOMAIN, "read_replicas": 15}
