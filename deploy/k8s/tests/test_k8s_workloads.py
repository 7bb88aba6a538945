"""Workloads: probes, resources and a locked-down security context everywhere; the web tier as the issue asks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from k8s_manifests import OVERLAYS, VARIANTS, WEB, Manifest, named, of_kind, pod_specs, variant_id

Docs = Callable[[str, str | None], list[Manifest]]


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_every_container_has_probes_and_resources(variant: tuple[str, str | None], docs: Docs) -> None:
    workloads = pod_specs(docs(*variant))
    assert workloads
    for workload, spec in workloads:
        for container in spec["containers"]:
            where = f"{workload}/{container['name']}"
            assert "readinessProbe" in container, where
            assert "livenessProbe" in container, where
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{workload}/{container['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), where


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_every_container_runs_non_root_on_a_read_only_root(variant: tuple[str, str | None], docs: Docs) -> None:
    for workload, spec in pod_specs(docs(*variant)):
        assert spec["securityContext"]["runAsNonRoot"] is True, workload
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", workload
        assert spec["automountServiceAccountToken"] is False, workload
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, workload
            assert context["allowPrivilegeEscalation"] is False, workload
            assert context["capabilities"]["drop"] == ["ALL"], workload


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_runs_three_replicas_spread_over_zones(overlay: str, docs: Docs) -> None:
    web = named(docs(overlay, None), "Deployment", "web")
    spec = web["spec"]["template"]["spec"]
    assert web["spec"]["replicas"] == 3
    zone_spread = [c for c in spec["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone_spread and zone_spread[0]["labelSelector"]["matchLabels"] == WEB
    assert zone_spread[0]["whenUnsatisfiable"] == "DoNotSchedule"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_serves_checks_health_and_writes_only_to_scratch_volumes(overlay: str, docs: Docs) -> None:
    spec = named(docs(overlay, None), "Deployment", "web")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == ["myclothes", "serve", "--host", "0.0.0.0", "--port", "8000"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    scratch = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
    mounts = {mount["mountPath"] for mount in container["volumeMounts"] if mount["name"] in scratch}
    assert mounts == {"/var/lib/myclothes", "/tmp"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_has_an_autoscaler_and_a_disruption_budget(overlay: str, docs: Docs) -> None:
    rendered = docs(overlay, None)
    hpa = named(rendered, "HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert hpa["spec"]["minReplicas"] >= 3 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    pdb = named(rendered, "PodDisruptionBudget", "web")
    assert pdb["spec"]["selector"]["matchLabels"] == WEB
    assert pdb["spec"]["minAvailable"] >= 2


def test_local_data_stores_are_replicated_and_budgeted(docs: Docs) -> None:
    rendered = docs("local", None)
    redis = named(rendered, "StatefulSet", "redis")
    assert redis["spec"]["replicas"] == 3
    assert {c["name"] for c in redis["spec"]["template"]["spec"]["containers"]} == {"redis", "sentinel"}
    postgres = named(rendered, "StatefulSet", "postgres")
    assert postgres["spec"]["replicas"] == 2
    assert {pdb["metadata"]["name"] for pdb in of_kind(rendered, "PodDisruptionBudget")} == {"web", "redis", "postgres"}
