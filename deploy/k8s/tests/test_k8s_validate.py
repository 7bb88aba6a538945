"""kubernetes-validate --strict accepts every rendered variant against Kubernetes 1.32 schemas."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from k8s_manifests import VARIANTS, variant_id

KUBERNETES_VERSION = "1.32.0"


def validate(text: str) -> subprocess.CompletedProcess[str]:
    """Run the kubernetes-validate CLI on YAML given on standard input ('-')."""
    beside_python = Path(sys.executable).with_name("kubernetes-validate")
    command = str(beside_python) if beside_python.exists() else shutil.which("kubernetes-validate")
    assert command, "kubernetes-validate is not installed: pip install -r deploy/requirements.txt"
    return subprocess.run(
        [command, "--strict", "-k", KUBERNETES_VERSION, "--quiet", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_variant_is_valid_for_kubernetes_1_32(
    variant: tuple[str, str | None], rendered: Callable[[str, str | None], str]
) -> None:
    result = validate(rendered(*variant))
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    # A kind without a schema is only a warning for the tool; here it is a failure.
    assert "WARN" not in report and "ERROR" not in report, report


def test_validator_rejects_an_unknown_field() -> None:
    broken = """
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
  sessionAffinityy: ClientIP
"""
    assert validate(broken).returncode != 0
