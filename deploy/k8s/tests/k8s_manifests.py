"""Render the kustomize trees with kubectl and read the resulting manifests, for the Kubernetes tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

K8S_DIR = Path(__file__).resolve().parents[1]
OVERLAYS = ("local", "aws")
CART_STORE_COMPONENTS = ("cart-store-redis", "cart-store-sql", "cart-store-cookie", "cart-store-memory")
# Each overlay as committed, and each overlay with every cart-store component laid over it.
VARIANTS: tuple[tuple[str, str | None], ...] = tuple(
    (overlay, component) for overlay in OVERLAYS for component in (None, *CART_STORE_COMPONENTS)
)
WEB = {"app.kubernetes.io/name": "myclothes", "app.kubernetes.io/component": "web"}

Manifest = dict[str, Any]


def variant_id(variant: tuple[str, str | None]) -> str:
    overlay, component = variant
    return overlay if component is None else f"{overlay}+{component}"


def kubectl() -> str:
    found = shutil.which("kubectl")
    assert found, "kubectl is needed to render the kustomize trees"
    return found


def kustomize(path: Path) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str, component: str | None) -> str:
    """Rendered YAML of an overlay, optionally with a cart-store component added on top.

    kustomize refuses absolute paths, so the wrapping kustomization names both by relative path.
    """
    overlay_dir = K8S_DIR / "overlays" / overlay
    if component is None:
        return kustomize(overlay_dir)
    with tempfile.TemporaryDirectory(prefix="myclothes-kustomize-") as scratch:
        wrapper = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(overlay_dir, scratch)],
            "components": [os.path.relpath(K8S_DIR / "components" / component, scratch)],
        }
        (Path(scratch) / "kustomization.yaml").write_text(yaml.safe_dump(wrapper))
        return kustomize(Path(scratch))


def manifests(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def of_kind(docs: list[Manifest], *kinds: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] in kinds]


def named(docs: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    return found


def config(docs: list[Manifest]) -> dict[str, str]:
    """Data of the web tier's (hash-suffixed) settings ConfigMap."""
    (found,) = [doc for doc in of_kind(docs, "ConfigMap") if doc["metadata"]["name"].startswith("myclothes-config-")]
    return dict(found["data"])


def pod_specs(docs: list[Manifest]) -> list[tuple[str, Manifest]]:
    """(workload name, pod spec) for every Deployment and StatefulSet."""
    return [
        (f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"])
        for doc in of_kind(docs, "Deployment", "StatefulSet")
    ]
