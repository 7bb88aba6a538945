"""Every overlay renders, alone and with each cart-store component, and carries the right settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from k8s_manifests import (
    CART_STORE_COMPONENTS,
    K8S_DIR,
    OVERLAYS,
    VARIANTS,
    Manifest,
    config,
    kustomize,
    manifests,
    named,
    of_kind,
    variant_id,
)

Docs = Callable[[str, str | None], list[Manifest]]
SECRET_KEYS = {
    "MYCLOTHES_SECRET_KEYS",
    "MYCLOTHES_DATABASE_URL",
    "MYCLOTHES_DATABASE_REPLICA_URLS",
    "MYCLOTHES_REDIS_URL",
}


def test_base_renders_on_its_own() -> None:
    docs = manifests(kustomize(K8S_DIR / "base"))
    assert named(docs, "Deployment", "web")


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_variant_renders_into_one_namespace(variant: tuple[str, str | None], docs: Docs) -> None:
    rendered = docs(*variant)
    assert named(rendered, "Namespace", "myclothes")
    namespaced = [doc for doc in rendered if doc["kind"] != "Namespace"]
    assert namespaced and all(doc["metadata"]["namespace"] == "myclothes" for doc in namespaced)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_cart_store_follows_the_component(variant: tuple[str, str | None], docs: Docs) -> None:
    overlay, component = variant
    expected = (component or "cart-store-redis").removeprefix("cart-store-")
    assert config(docs(overlay, component))["MYCLOTHES_CART_STORE"] == expected


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_session_affinity_only_for_memory_carts(variant: tuple[str, str | None], docs: Docs) -> None:
    overlay, component = variant
    annotations = named(docs(overlay, component), "Ingress", "web")["metadata"].get("annotations", {})
    sticky = annotations.get("nginx.ingress.kubernetes.io/affinity") == "cookie"
    assert sticky == (component == "cart-store-memory")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_pods_read_the_generated_config_and_the_secret(overlay: str, docs: Docs) -> None:
    rendered = docs(overlay, None)
    config_map = next(
        doc["metadata"]["name"]
        for doc in of_kind(rendered, "ConfigMap")
        if doc["metadata"]["name"].startswith("myclothes-config-")
    )
    (container,) = named(rendered, "Deployment", "web")["spec"]["template"]["spec"]["containers"]
    sources = container["envFrom"]
    assert {"configMapRef": {"name": config_map}} in sources
    assert {"secretRef": {"name": "myclothes-secrets"}} in sources


def test_local_overlay_wires_sentinel_and_the_standby(docs: Docs) -> None:
    rendered = docs("local", None)
    settings = config(rendered)
    assert settings["MYCLOTHES_REDIS_SENTINELS"].count(":26379") == 3
    assert settings["MYCLOTHES_COOKIE_SECURE"] == "false"
    secret = named(rendered, "Secret", "myclothes-secrets")
    assert set(secret["stringData"]) == SECRET_KEYS
    assert "@postgres-primary:" in secret["stringData"]["MYCLOTHES_DATABASE_URL"]
    assert "@postgres-standby:" in secret["stringData"]["MYCLOTHES_DATABASE_REPLICA_URLS"]


def test_aws_overlay_commits_no_secret_and_uses_the_registry_image(docs: Docs) -> None:
    rendered = docs("aws", None)
    assert not [doc for doc in of_kind(rendered, "Secret") if doc["metadata"]["name"] == "myclothes-secrets"]
    assert not of_kind(rendered, "StatefulSet")
    (container,) = named(rendered, "Deployment", "web")["spec"]["template"]["spec"]["containers"]
    assert ".dkr.ecr." in container["image"]
    assert config(rendered)["MYCLOTHES_COOKIE_SECURE"] == "true"


def test_every_cart_store_has_a_component() -> None:
    stores = {path.name for path in (K8S_DIR / "components").iterdir() if path.name.startswith("cart-store-")}
    assert stores == set(CART_STORE_COMPONENTS)
