"""`myclothes bench` runs end to end and writes its JSON (speed goals are read from its output, never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_measures_a_store_against_the_bare_baseline(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "myclothes.cli",
            "bench",
            "cart-add:memory",
            "--duration",
            "1",
            "--connections",
            "4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    names = [r["scenario"] for r in report["results"]]
    assert names == ["bare", "cart-add:memory"]
    for result in report["results"]:
        assert result["rps"] > 0 and result["requests"] > 0 and result["errors"] == 0
    assert report["results"][0]["ratio_to_bare"] == 1.0
    assert "vs bare" in done.stdout


def test_bench_refuses_unknown_scenarios() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "myclothes.cli", "bench", "nope"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "unknown scenario" in done.stdout
