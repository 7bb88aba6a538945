"""Flame graphs of the store's hot paths: each scenario of ``myclothes bench`` served as the bench serves it (one
uvicorn worker pinned to core 0, wrk on core 1), sampled by py-spy at 500 Hz while wrk drives it.

    .venv/bin/python benchmarks/flamegraphs.py [scenario ...] [--out DIR] [--seconds N]

Writes DIR/<scenario>.svg (a flame graph) and DIR/<scenario>.txt (collapsed stacks, for grep and diff) for each
scenario (default: healthz, catalog-product:redis, cart-add:redis, cart-view:redis, cart-add:sql). The SVGs are
large and not checked in; docs/performance.md says what they showed. Needs py-spy (in the dev extra) and wrk.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from myclothes.bench.command import _redis
from myclothes.bench.harness import drive, serve
from myclothes.bench.scenarios import all_scenarios

DEFAULT = ["healthz", "catalog-product:redis", "cart-add:redis", "cart-view:redis", "cart-add:sql"]


def profile(name: str, out: Path, seconds: int, redis_url: str) -> None:
    scenario = all_scenarios(redis_url)[name]
    with tempfile.TemporaryDirectory(prefix="myclothes-flame-") as tmp, serve(scenario, Path(tmp)) as (url, pid):
        script = scenario.prepare(url) if scenario.prepare else None
        target = url + scenario.path
        drive(target, script, 2, 32, Path(tmp), name + "-warmup")
        load = threading.Thread(target=drive, args=(target, script, seconds + 3, 32, Path(tmp), name))
        load.start()
        stem = out / name.replace(":", "-")
        for form, suffix in (("flamegraph", ".svg"), ("raw", ".txt")):
            subprocess.run(
                ["py-spy", "record", "-p", str(pid), "-r", "500", "-d", str(seconds // 2), "-f", form, "-o", f"{stem}{suffix}"],
                check=True,
                capture_output=True,
            )
        load.join()
    print(f"{name}: {stem}.svg")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", default=DEFAULT)
    parser.add_argument("--out", default="test-artifacts/flamegraphs")
    parser.add_argument("--seconds", type=int, default=12)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="myclothes-flame-redis-") as tmp:
        redis_url, redis_process = _redis(Path(tmp))
        try:
            for name in args.scenarios:
                profile(name, out, args.seconds, redis_url)
        finally:
            if redis_process is not None:
                redis_process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
