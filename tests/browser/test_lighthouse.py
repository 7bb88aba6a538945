"""Lighthouse 12 (npm, pinned in package-lock.json) with Debian's Chromium and its default mobile emulation, on the
home page, a listing and a product page: every category scores at least 95. The JSON and HTML reports are kept in
test-artifacts/lighthouse/."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from tests.browser.checks import ROOT
from tests.conftest import artifacts_dir
from tests.support.chromium import CHROMIUM
from tests.support.server import ShopServer

pytestmark = pytest.mark.browser

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MINIMUM = 0.95
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"


@pytest.fixture(scope="module")
def pages(live_server: ShopServer) -> dict[str, str]:
    listing = httpx.get(f"{live_server.url}/api/products", params={"category": "hoodies", "per_page": 1}).json()
    return {
        "home": "/",
        "listing": "/products?category=hoodies",
        "product": f"/products/{listing['items'][0]['slug']}",
    }


def lighthouse(url: str, name: str) -> dict[str, Any]:
    if not LIGHTHOUSE.exists():
        pytest.fail(f"{LIGHTHOUSE} is missing: run `npm ci` in {ROOT} (scripts/test does it)")
    folder = artifacts_dir() / "lighthouse"
    folder.mkdir(exist_ok=True)
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--output=json",
        "--output=html",
        f"--output-path={folder / name}",
    ]
    result = subprocess.run(
        command, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"lighthouse failed on {url}:\n{result.stderr[-3000:]}"
    return dict(json.loads((folder / f"{name}.report.json").read_text()))


def shortfalls(report: dict[str, Any], category: str) -> list[str]:
    """The audits that cost the category points, for the failure message."""
    audits = [report["audits"][ref["id"]] for ref in report["categories"][category]["auditRefs"] if ref["weight"] > 0]
    return [
        f"{audit['id']} ({audit['score']}): {audit.get('displayValue') or audit['title']}"
        for audit in audits
        if audit["score"] is not None and audit["score"] < 1
    ]


@pytest.mark.parametrize("name", ["home", "listing", "product"])
def test_lighthouse_on_a_phone_scores_at_least_95_in_every_category(
    name: str, pages: dict[str, str], live_server: ShopServer
) -> None:
    report = lighthouse(live_server.url + pages[name], name)
    assert report["configSettings"]["formFactor"] == "mobile"
    scores = {category: report["categories"][category]["score"] for category in CATEGORIES}
    (artifacts_dir() / "lighthouse" / f"{name}.scores.json").write_text(json.dumps(scores, indent=1))
    low = {category: score for category, score in scores.items() if score is None or score < MINIMUM}
    assert not low, f"{name} ({pages[name]}): {low}\n" + "\n".join(
        f"{category}: {shortfalls(report, category)}" for category in low
    )
