"""Drill reports: report.json, report.md and a PNG of throughput and errors over time."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"


def per_second(events: list[Any]) -> tuple[list[int], list[int], list[int]]:
    """Seconds, acknowledged requests per second, failed requests per second."""
    last = int(max((e.t for e in events), default=0)) + 1
    ok, failed = [0] * last, [0] * last
    for event in events:
        (ok if event.ok else failed)[int(event.t)] += 1
    return list(range(last)), ok, failed


def write_report(report: dict[str, Any], events: list[Any], directory: Path) -> None:
    """Write the three report files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if isinstance(v, float) and math.isinf(v) else v) for k, v in report.items()}
    (directory / "report.json").write_text(json.dumps(clean, indent=2))
    fields = [k for k in clean if k not in ("criteria", "lost_carts", "responses")]
    lines = [
        f"# Drill `{report['drill']}`: {'PASSED' if report['passed'] else 'FAILED'}",
        "",
        f"Fault: {report['fault']} at {report['fault_at_s']} s; healed at {report['heal_at_s']} s.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {clean[k]} |" for k in fields),
        "",
        "## Criteria",
        *(f"- {c}" for c in report["criteria"]),
        "",
        "![throughput and errors](throughput.png)",
        "",
    ]
    if report["lost_carts"]:
        lines += ["## Carts that lost acknowledged lines", *(f"- {email}" for email in report["lost_carts"]), ""]
    (directory / "report.md").write_text("\n".join(lines))
    _plot(report, events, directory / "throughput.png")


PLOT_SCRIPT = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
data = json.load(sys.stdin)
figure, axes = plt.subplots(figsize=(8, 3.5))
axes.plot(data["seconds"], data["ok"], label="acknowledged req/s", color="tab:green")
axes.plot(data["seconds"], data["failed"], label="failed req/s", color="tab:red")
axes.axvline(data["fault"], color="black", linestyle="--", label="fault")
axes.axvline(data["heal"], color="tab:blue", linestyle=":", label="heal")
axes.set_xlabel("seconds")
axes.set_ylabel("requests per second")
axes.set_title(data["title"])
axes.legend(loc="upper right", fontsize="small")
figure.tight_layout()
figure.savefig(data["path"], dpi=90)
"""


def _plot(report: dict[str, Any], events: list[Any], path: Path) -> None:
    """Draw the PNG with the system Python's matplotlib (Debian python3-matplotlib), outside the app's venv."""
    seconds, ok, failed = per_second(events)
    data = {
        "seconds": seconds,
        "ok": ok,
        "failed": failed,
        "fault": report["fault_at_s"],
        "heal": report["heal_at_s"],
        "title": f"drill {report['drill']} ({'passed' if report['passed'] else 'FAILED'})",
        "path": str(path),
    }
    subprocess.run([SYSTEM_PYTHON, "-c", PLOT_SCRIPT], input=json.dumps(data), text=True, check=True)
