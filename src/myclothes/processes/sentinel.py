"""A Redis Sentinel's configuration file: written fresh for each start, since Sentinel rewrites it as it learns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def sentinel_config(
    port: int,
    bind: str,
    directory: Path,
    service: str,
    primary: tuple[str, int],
    quorum: int,
    options: Sequence[tuple[str, str]],
) -> str:
    """A Sentinel on ``bind:port`` watching ``service`` at ``primary`` (host, port); ``quorum`` Sentinels must agree
    it is down; ``options`` are the service's other settings (``down-after-milliseconds`` ...), as in ``SENTINEL SET``.
    """
    host, primary_port = primary
    lines = [
        f"port {port}",
        f"bind {bind}",
        f"dir {directory}",
        f"sentinel monitor {service} {host} {primary_port} {quorum}",
    ]
    lines += [f"sentinel {name} {service} {value}" for name, value in options]
    return "\n".join(lines) + "\n"
