"""cfn-lint passes on the synthesized templates (suppressed checks are explained in docs/deploy.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

# W3010: the zones are pinned through CDK context on purpose (so each tier gets one subnet per zone).
# W3005: CDK adds DependsOn entries that a Ref/GetAtt already implies; harmless and not ours to edit.
SUPPRESSED = ["W3010", "W3005"]


def cfn_lint() -> str:
    beside_python = Path(sys.executable).with_name("cfn-lint")
    found = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed: pip install -r deploy/requirements.txt"
    return found


@pytest.mark.parametrize("shape", ["production", "memory_carts", "largest"])
def test_cfn_lint_passes(shape: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    template: Template = request.getfixturevalue(shape)
    path = tmp_path / f"{shape}.template.json"
    path.write_text(json.dumps(template.to_json(), indent=1))
    result = subprocess.run(
        [cfn_lint(), "--ignore-checks", *SUPPRESSED, "--", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
