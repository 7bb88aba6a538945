#!/usr/bin/env python3
"""CDK entry point: ``cdk synth`` / ``cdk deploy`` run this (see cdk.json and docs/deploy.md)."""

from __future__ import annotations

import os

import aws_cdk as cdk
from myclothes_cdk.settings import DeploySettings
from myclothes_cdk.stack import MyClothesStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Assemble the MyClothes stack in ``app`` (a new one by default) from its context."""
    app = app or cdk.App()
    settings = DeploySettings.from_context(app.node)
    env = cdk.Environment(
        account=app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION"),
    )
    MyClothesStack(
        app,
        app.node.try_get_context("stack_name") or "MyClothes",
        settings=settings,
        env=env,
        description="MyClothes online store: Route 53, ALB, Auto Scaling web tier, RDS PostgreSQL, ElastiCache Redis",
    )
    return app


if __name__ == "__main__":
    build_app().synth()
