"""The `myclothes bench` command."""

from __future__ import annotations

import argparse
import fnmatch
import platform
import shutil
import tempfile
from pathlib import Path

from myclothes.bench.harness import report, run
from myclothes.bench.scenarios import all_scenarios
from myclothes.processes import Process, free_port, listening


def _redis(tmp: Path) -> tuple[str, Process | None]:
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("the redis scenarios need redis-server (apt-get install -y redis-server) or --redis-url")
    port = free_port()
    redis = Process(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        tmp / "redis.log",
    )
    redis.start(lambda: listening(port), timeout=10)
    return f"redis://127.0.0.1:{port}/0", redis


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="myclothes-bench-redis-") as tmp:
        redis_url, redis_process = (args.redis_url, None) if args.redis_url else _redis(Path(tmp))
        try:
            scenarios = all_scenarios(redis_url)
            wanted = args.scenarios or list(scenarios)
            chosen = [
                name for name in scenarios if any(fnmatch.fnmatch(name, w) or name.startswith(w + ":") for w in wanted)
            ]
            unknown = [w for w in wanted if not any(fnmatch.fnmatch(n, w) or n.startswith(w + ":") for n in scenarios)]
            if unknown:
                print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(scenarios)}")
                return 2
            if "bare" not in chosen:
                chosen.insert(0, "bare")  # every run carries its own baseline
            results = run(
                [scenarios[name] for name in chosen],
                args.duration,
                args.connections,
                half_rate=not args.no_half_rate,
            )
        finally:
            if redis_process is not None:
                redis_process.stop()
    meta = {
        "server": "uvicorn (uvloop, httptools), 1 worker, pinned to core 0; wrk -t1 on core 1",
        "duration_s": args.duration,
        "connections": args.connections,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
    }
    print(report(results, Path(args.json) if args.json else None, meta))
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="measure hot paths against a bare-ASGI baseline (needs wrk)")
    bench.add_argument("scenarios", nargs="*", help="e.g. cart-add, cart-view:redis, 'cart-*' (default: all)")
    bench.add_argument("--json", help="write the results to this JSON file")
    bench.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    bench.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    bench.add_argument("--redis-url", help="use this Redis instead of starting one")
    bench.add_argument(
        "--no-half-rate", action="store_true", help="skip the second run of each scenario at half its rate (p99@half)"
    )
    bench.set_defaults(func=main)
