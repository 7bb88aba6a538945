"""What every page of a browser journey must pass: axe-core (no serious or critical violation), no horizontal
overflow, tap targets of at least 44 px on phones; and a full-page screenshot per profile as an artifact."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from tests.conftest import artifacts_dir

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAP = 44  # px, the smallest tap target on a phone
BLOCKING_IMPACTS = {"serious", "critical"}

# Elements whose right edge lies past the viewport, outside a container that scrolls sideways on purpose.
CUT_OFF_JS = """() => {
  const width = window.innerWidth;
  const scrolls = (e) => {
    for (let p = e.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === 'auto' || s.overflowX === 'scroll') return true;
    }
    return false;
  };
  const where = (e) => {
    const r = e.getBoundingClientRect();
    return `${e.tagName.toLowerCase()}.${e.className} [${Math.round(r.left)}, ${Math.round(r.right)}]`;
  };
  return [...document.body.querySelectorAll('*')].filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && (r.right > width + 0.5 || r.left < -0.5) && !scrolls(e)
      && !e.classList.contains('skip-link') && !e.closest('.sr-only');
  }).slice(0, 10).map(where);
}"""

# Controls smaller than TAP px either way. A link inside a sentence is exempt (WCAG 2.5.8's inline exception), and
# a radio or checkbox counts with its label (what the thumb hits).
SMALL_TARGETS_JS = """(tap) => {
  const visible = (e) => {
    const s = getComputedStyle(e);
    return s.visibility !== 'hidden' && s.display !== 'none' && e.getClientRects().length > 0
      && !e.closest('.sr-only');
  };
  const inSentence = (e) => e.tagName === 'A' && getComputedStyle(e).display === 'inline'
    && e.parentElement.textContent.trim().length > e.textContent.trim().length;
  const box = (e) => {
    let r = e.getBoundingClientRect();
    if ((e.type === 'radio' || e.type === 'checkbox') && e.labels && e.labels.length) {
      const l = e.labels[0].getBoundingClientRect();
      if (l.width * l.height > r.width * r.height) r = l;
    }
    return r;
  };
  const what = ([e, r]) => {
    const text = (e.textContent || e.value || '').trim().slice(0, 30);
    const name = e.name ? `[name=${e.name}]` : '';
    return `${e.tagName.toLowerCase()}${name} "${text}" ${Math.round(r.width)}x${Math.round(r.height)}`;
  };
  return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter((e) => visible(e) && !inSentence(e) && !e.classList.contains('skip-link'))
    .map((e) => [e, box(e)])
    .filter(([e, r]) => r.width < tap - 0.5 || r.height < tap - 0.5)
    .map(what);
}"""


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in {ROOT} (scripts/test does it)")
    return AXE_JS.read_text()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (injected from node_modules; nothing is downloaded).

    Evaluated through the DevTools protocol rather than added as an inline <script>, which the shop's
    Content-Security-Policy (script only from its own origin) rightly refuses."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"- {v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


@dataclass
class PageChecks:
    """Checks and screenshots for one profile's journey: ``test-artifacts/screenshots/<profile>/NN-name.png``."""

    profile: str
    phone: bool
    start: int = 0  # where this test's screenshot numbers start (several tests share a profile's folder)
    seen: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        folder = artifacts_dir() / "screenshots" / self.profile
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def __call__(self, page: Page, name: str) -> None:
        """Check the page and keep a screenshot of it, named ``NN-name``."""
        page.wait_for_load_state("load")
        label = f"{self.profile} · {name} · {page.url}"
        violations = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
        report = artifacts_dir() / "axe" / self.profile
        report.mkdir(parents=True, exist_ok=True)
        (report / f"{self.start + len(self.seen) + 1:02d}-{name}.json").write_text(json.dumps(violations, indent=1))
        assert not violations, f"axe: serious or critical violations on {label}:\n{describe(violations)}"
        assert_fits(page, label)
        if self.phone:
            small = page.evaluate(SMALL_TARGETS_JS, TAP)
            assert not small, f"tap targets under {TAP} px on {label}: {small}"
        self.seen.append(name)
        shoot(page, self.folder / f"{self.start + len(self.seen):02d}-{name}.png")


def assert_fits(page: Page, label: str) -> None:
    """Nothing wider than the screen: the page never scrolls sideways, nothing sticks out of it."""
    scroll_width, inner_width, viewport = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.documentElement.clientWidth]"
    )
    expected = page.viewport_size["width"] if page.viewport_size else inner_width
    assert inner_width == expected, f"the page zoomed out ({inner_width} px laid out on {expected} px): {label}"
    assert scroll_width <= inner_width, f"horizontal overflow {scroll_width} > {inner_width} px on {label}"
    assert viewport <= inner_width
    cut_off = page.evaluate(CUT_OFF_JS)
    assert not cut_off, f"cut off at {inner_width} px on {label}: {cut_off}"


def shoot(page: Page, path: Path) -> None:
    """A full-page screenshot with every lazy image loaded."""
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach((img) => { img.loading = 'eager'; })")
    # Polled from here: wait_for_function evaluates its predicate with eval(), which the shop's CSP refuses.
    deadline = time.monotonic() + 15
    while not page.evaluate("() => [...document.images].every((img) => img.complete)"):
        assert time.monotonic() < deadline, f"images still loading on {page.url}"
        page.wait_for_timeout(50)
    page.screenshot(path=str(path), full_page=True)
