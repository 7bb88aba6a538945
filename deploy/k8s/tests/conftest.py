"""Render every kustomize variant once per test session, for the Kubernetes tests."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
# Lets the test modules import the ``k8s_manifests`` helper under any pytest import mode.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from k8s_manifests import Manifest, manifests, render  # noqa: E402


@pytest.fixture(scope="session")
def rendered() -> Callable[[str, str | None], str]:
    """``rendered(overlay, component)`` -> YAML text, rendered once per variant."""
    cache: dict[tuple[str, str | None], str] = {}

    def rendered(overlay: str, component: str | None = None) -> str:
        if (overlay, component) not in cache:
            cache[(overlay, component)] = render(overlay, component)
        return cache[(overlay, component)]

    return rendered


@pytest.fixture(scope="session")
def docs(rendered: Callable[[str, str | None], str]) -> Callable[[str, str | None], list[Manifest]]:
    """``docs(overlay, component)`` -> parsed manifests of that variant."""

    def docs(overlay: str, component: str | None = None) -> list[Manifest]:
        return manifests(rendered(overlay, component))

    return docs
