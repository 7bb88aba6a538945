"""The image the Deployment runs: multi-stage, non-root, health-checked, serving on 8000.

No container engine runs on CI, so the Dockerfile is checked as text here, not built.
"""

from __future__ import annotations

import re

from k8s_manifests import K8S_DIR

DOCKERFILE = K8S_DIR.parent / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_build_and_runtime_are_separate_stages() -> None:
    stages = [argument for keyword, argument in instructions() if keyword == "FROM"]
    assert len(stages) >= 2
    assert any("--from=build" in argument for keyword, argument in instructions() if keyword == "COPY")


def test_installs_the_project_from_the_repository_root() -> None:
    runs = " ".join(argument for keyword, argument in instructions() if keyword == "RUN")
    assert "pip install ." in runs


def test_runs_as_a_non_root_user_matching_the_pod_security_context() -> None:
    users = [argument for keyword, argument in instructions() if keyword == "USER"]
    assert users and users[-1].split(":")[0] == "10001"


def test_health_check_and_command() -> None:
    found = dict(instructions())
    assert "/healthz" in found["HEALTHCHECK"]
    assert found["CMD"] == '["myclothes", "serve", "--host", "0.0.0.0", "--port", "8000"]'
