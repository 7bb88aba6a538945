"""Starts the target under uvicorn (one worker, pinned to one core), drives it with wrk from the other core, and
reports requests/s, p50, p99 and the ratio to the bare-ASGI baseline measured in the same run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import httpx

from myclothes.processes import Process, free_port, http_ok
from myclothes.web.server import PROTOCOL

STORES = ("redis", "sql", "cookie", "memory")


@dataclass
class Result:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    ratio_to_bare: float | None = None
    db_queries_per_request: float | None = None
    redis_round_trips_per_request: float | None = None
    half_rate_p99_ms: float | None = None  # p99 when offered half of ``rps`` (wrk's delay(), per connection)
    # the server process's CPU time (user and system) per request; times requests/s it says whether the pinned
    # core was the limit (about 1 CPU second per second) or the server waited (on wrk, Redis, SQLite's thread)
    cpu_us_per_request: float | None = None


@dataclass
class Scenario:
    """One measured hot path: which app to serve, with which settings, and the wrk script that drives it."""

    name: str
    app: str  # "bare" or "store"
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[str], str] | None = None  # base URL -> wrk Lua script
    path: str = "/"
    workers: int = 1  # more than one: uvicorn's workers and wrk share the machine's cores (nothing pinned)


def _pin(core: int | None) -> list[str]:
    if core is None or not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(core)]


class Served(NamedTuple):
    url: str
    pid: int  # the uvicorn process (with one worker, the one that answers)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (``/proc/<pid>/stat``, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(scenario: Scenario, workdir: Path) -> Iterator[Served]:
    port = free_port()
    if scenario.app == "bare":
        target = ["myclothes.bench.bare:app"]
    else:
        # The protocol ``myclothes serve`` runs (web/server.py); the bare app keeps uvicorn's own.
        target = ["--factory", "--http", PROTOCOL, "myclothes.web.app:create_app"]
        data_dir = workdir / "data"
        env = {**os.environ, "MYCLOTHES_DATA_DIR": str(data_dir), **scenario.env}
        subprocess.run(
            [sys.executable, "-m", "myclothes.cli", "db", "seed", "--products", "120"],
            env=env,
            check=True,
            capture_output=True,
        )
    env = {
        **os.environ,
        "MYCLOTHES_DATA_DIR": str(workdir / "data"),
        "MYCLOTHES_INSTANCE": "bench",
        "MYCLOTHES_LOGIN_IP_MAX_PER_WINDOW": "1000000",
        "MYCLOTHES_REGISTER_IP_MAX_PER_HOUR": "1000000",
        **scenario.env,
    }
    url = f"http://127.0.0.1:{port}"
    server = Process(
        [*_pin(0 if scenario.workers == 1 else None), sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(scenario.workers), "--no-access-log", "--log-level", "warning"],
        workdir / f"{scenario.name.replace(':', '-')}.log",
        env=env,
    )  # fmt: skip
    ready = url + ("/" if scenario.app == "bare" else "/readyz")
    with server.start(lambda: http_ok(ready, timeout=1.0), timeout=30):
        assert server.popen is not None
        yield Served(url, server.popen.pid)  # taskset execs uvicorn: the same process


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """requests/s, p50 ms, p99 ms, requests, errors from ``wrk --latency`` output."""

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(_required(r"Requests/sec:\s+([\d.]+)", output))
    requests = int(_required(r"(\d+) requests in", output))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(g) for g in match.groups())
    return rps, ms("50"), ms("99"), requests, errors


def _required(pattern: str, output: str) -> str:
    """The first group of ``pattern`` in wrk's output; ValueError showing the output if wrk did not print it."""
    match = re.search(pattern, output)
    if match is None:
        raise ValueError(f"no {pattern!r} in the output of wrk:\n{output}")
    return match.group(1)


def drive(
    url: str,
    script: str | None,
    duration: float,
    connections: int,
    workdir: Path,
    name: str,
    pinned: bool = True,
    rate: float | None = None,
) -> Result:
    """wrk for ``duration`` over ``connections``; with ``rate``, each connection waits between requests so that
    together they offer about ``rate`` requests/s."""
    if not shutil.which("wrk"):
        raise RuntimeError("the benchmark needs wrk: apt-get install -y wrk")
    args = [
        *_pin(1 if pinned else None),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
    ]
    if rate:
        script = (script or "") + f"\ndelay = function() return {connections * 1000 / rate:.3f} end\n"
    if script:
        path = workdir / f"{name.replace(':', '-')}.lua"
        path.write_text(script)
        args += ["-s", str(path)]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    rps, p50, p99, requests, errors = parse_wrk(done.stdout)
    return Result(name, round(rps, 1), round(p50, 3), round(p99, 3), requests, errors)


def run(
    scenarios: list[Scenario],
    duration: float,
    connections: int,
    warmup: float = 2.0,
    half_rate: bool = True,
) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="myclothes-bench-") as tmp:
        for scenario in scenarios:
            workdir = Path(tmp) / scenario.name.replace(":", "-").replace("@", "-")
            workdir.mkdir()
            pinned = scenario.workers == 1
            with serve(scenario, workdir) as (url, pid):
                script = scenario.prepare(url) if scenario.prepare else None
                target = url + scenario.path
                drive(target, script, warmup, connections, workdir, scenario.name + "-warmup", pinned)
                store = scenario.app == "store"
                counted = store and pinned  # with several workers, /metrics is one worker's, not the run's
                before = _counted(url, DB_QUERIES) if counted else None
                trips = _counted(url, REDIS_TRIPS) if counted else None
                cpu = cpu_seconds(pid) if pinned else None
                result = drive(target, script, duration, connections, workdir, scenario.name, pinned)
                if cpu is not None and result.requests:
                    result.cpu_us_per_request = round((cpu_seconds(pid) - cpu) * 1e6 / result.requests, 1)
                if before is not None and trips is not None and result.requests:
                    result.db_queries_per_request = round((_counted(url, DB_QUERIES) - before) / result.requests, 4)
                    spent = _counted(url, REDIS_TRIPS) - trips
                    result.redis_round_trips_per_request = round(spent / result.requests, 3)
                if half_rate and result.rps > 0:
                    half = drive(target, script, duration, connections, workdir, scenario.name + "-half", pinned,
                                 rate=result.rps / 2)  # fmt: skip
                    result.half_rate_p99_ms = half.p99_ms
                results.append(result)
    bare = next((r.rps for r in results if r.scenario == "bare"), None)
    for result in results:
        result.ratio_to_bare = round(result.rps / bare, 3) if bare else None
    return results


DB_QUERIES = "myclothes_db_queries_total{"  # every SQL statement, every role
REDIS_TRIPS = "myclothes_redis_round_trips_total{"  # every request to Redis: stores, cache


def _counted(url: str, prefix: str) -> float:
    """The sum of a counter's series in the store's ``/metrics`` (with several workers: the one that answered)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def report(results: list[Result], json_path: Path | None, meta: dict[str, object]) -> str:
    head = f"{'scenario':<26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs bare':>8}"
    lines = [head + f" {'db q/req':>9} {'redis rt':>9} {'p99@half':>9} {'cpu us/req':>10}"]
    for r in results:
        ratio = f"{r.ratio_to_bare:.1%}" if r.ratio_to_bare is not None else "-"
        queries = f"{r.db_queries_per_request:.3f}" if r.db_queries_per_request is not None else "-"
        trips = f"{r.redis_round_trips_per_request:.2f}" if r.redis_round_trips_per_request is not None else "-"
        half = f"{r.half_rate_p99_ms:.2f}" if r.half_rate_p99_ms is not None else "-"
        cpu = f"{r.cpu_us_per_request:.1f}" if r.cpu_us_per_request is not None else "-"
        lines.append(
            f"{r.scenario:<26} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.errors:>7} {ratio:>8}"
            f" {queries:>9} {trips:>9} {half:>9} {cpu:>10}"
        )
    if json_path:
        json_path.write_text(json.dumps({**meta, "results": [asdict(r) for r in results]}, indent=2))
    return "\n".join(lines)
