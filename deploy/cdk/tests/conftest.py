"""Synthesize the MyClothes stack offline, once per configuration, for the CDK tests."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

TESTS_DIR = Path(__file__).resolve().parent
CDK_DIR = TESTS_DIR.parent
# Lets the test modules import the small ``cdk_template`` helper under any pytest import mode.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from cdk_configurations import ACCOUNT, LARGEST, MEMORY_CARTS, PRODUCTION, REGION, ZONES  # noqa: E402

Synthesized = dict[str, Any]


def _load_app_module() -> Any:
    """Import deploy/cdk/app.py under a name that cannot clash with anything else called ``app``."""
    spec = importlib.util.spec_from_file_location("myclothes_cdk_app", CDK_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Synthesized]]:
    """Return ``synthesize(**context)`` -> CloudFormation template (dict), cached per context.

    Context is cdk.json's plus the overrides, with a fixed account, region and three zones, so
    nothing is looked up in AWS.
    """
    import aws_cdk as cdk

    app_module = _load_app_module()
    defaults = json.loads((CDK_DIR / "cdk.json").read_text())["context"]
    cache: dict[str, Synthesized] = {}

    def synthesize(**overrides: Any) -> Synthesized:
        key = json.dumps(overrides, sort_keys=True)
        if key not in cache:
            context = {
                **defaults,
                "account": ACCOUNT,
                "region": REGION,
                f"availability-zones:account={ACCOUNT}:region={REGION}": ZONES,
                **overrides,
            }
            outdir = tmp_path_factory.mktemp("cdk.out")
            app = app_module.build_app(cdk.App(context=context, outdir=str(outdir)))
            assembly = app.synth()
            (stack,) = assembly.stacks
            cache[key] = stack.template
        return cache[key]

    yield synthesize


@pytest.fixture(scope="session")
def production(synthesize: Callable[..., Synthesized]) -> Template:
    """The production configuration (see PRODUCTION)."""
    return Template.from_json(synthesize(**PRODUCTION))


@pytest.fixture(scope="session")
def memory_carts(synthesize: Callable[..., Synthesized]) -> Template:
    """The in-memory cart store configuration (see MEMORY_CARTS)."""
    return Template.from_json(synthesize(**MEMORY_CARTS))


@pytest.fixture(scope="session")
def largest(synthesize: Callable[..., Synthesized]) -> Template:
    """Fifteen read replicas and an ACM-issued certificate (see LARGEST)."""
    return Template.from_json(synthesize(**LARGEST))
