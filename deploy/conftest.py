"""Shared setup for the deploy tests (CDK and Kubernetes); runs before any of them is imported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent

# jsii starts Node when aws_cdk is first imported; quiet its end-of-life notice for the machine's Node.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# The CDK constructs are a plain package beside app.py, not installed: make them importable from
# any working directory and under any pytest import mode.
CDK_DIR = str(DEPLOY_DIR / "cdk")
if CDK_DIR not in sys.path:
    sys.path.insert(0, CDK_DIR)
