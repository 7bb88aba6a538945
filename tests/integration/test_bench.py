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
            "cart-add:sql",
            "cart-form:sql",
            "cart-add:redis",
            "--duration",
            "1",
            "--connections",
            "4",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    results = {r["scenario"]: r for r in report["results"]}
    assert report["results"][0]["scenario"] == "bare"  # the baseline first, then the scenarios asked for
    assert set(results) == {"bare", "cart-add:sql", "cart-form:sql", "cart-add:redis"}
    bare, store, form, redis = (results[n] for n in ("bare", "cart-add:sql", "cart-form:sql", "cart-add:redis"))
    for result in report["results"]:
        assert result["rps"] > 0 and result["requests"] > 0 and result["errors"] == 0  # the form's 303s count as ok
        assert result["half_rate_p99_ms"] > 0  # each path measured again at half its rate
    # each path is a share of the bare ASGI baseline measured in the same run; a store's path is slower than bare
    assert store["ratio_to_bare"] == round(store["rps"] / bare["rps"], 3) and store["ratio_to_bare"] < 1
    # the statements each request sent are counted from the store's own metrics (none for the bare app)
    assert bare["db_queries_per_request"] is None and store["db_queries_per_request"] >= 1
    # and the round trips to Redis: the sql store makes none, the redis store one for the session and one per
    # cart operation (a Lua script)
    assert store["redis_round_trips_per_request"] == 0 and redis["redis_round_trips_per_request"] >= 1
    assert form["db_queries_per_request"] >= 1
    # the server's CPU time per request: more for a store's path than for the bare app
    assert 0 < bare["cpu_us_per_request"] < store["cpu_us_per_request"]
    assert "vs bare" in done.stdout and "cart-form:sql" in done.stdout and "cpu us/req" in done.stdout


def test_bench_refuses_unknown_scenarios() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "myclothes.cli", "bench", "nope"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "unknown scenario" in done.stdout
