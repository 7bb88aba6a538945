"""A real HAProxy in front of web processes, on free ports, with its admin socket; stopped by PID.

Its configuration is the cluster's (:func:`myclothes.processes.balancer_config`): the same checks, timeouts, bounds
and stickiness as in front of ``myclothes cluster``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from myclothes.processes import Process, balancer_config, free_port, listening

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


class HAProxy:
    def __init__(self, directory: Path, backends: list[int], sticky: bool) -> None:
        self.directory = directory
        self.backends = backends
        self.sticky = sticky
        self.port = free_port()
        self.process = Process([HAPROXY, "-db", "-f", str(directory / "haproxy.cfg")], directory / "haproxy.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = {f"s{i}": f"127.0.0.1:{port}" for i, port in enumerate(self.backends, start=1)}
        return balancer_config(self.directory / "admin.sock", f"127.0.0.1:{self.port}", servers, self.sticky)

    def start(self, timeout: float = 10.0) -> HAProxy:
        if not Path(HAPROXY).exists():
            raise RuntimeError("haproxy is not installed: apt-get install -y haproxy")
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "haproxy.cfg").write_text(self.config())
        self.process.start(lambda: listening(self.port), timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> HAProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
