"""A real HAProxy in front of web processes, on free ports, with its admin socket; stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.support.server import free_port, stop_process

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


class HAProxy:
    def __init__(self, directory: Path, backends: list[int], sticky: bool) -> None:
        self.directory = directory
        self.backends = backends
        self.sticky = sticky
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(
            f"  server s{i} 127.0.0.1:{port} check" + (f" cookie s{i}" if self.sticky else "")
            for i, port in enumerate(self.backends, start=1)
        )
        stickiness = "  cookie SERVERID insert indirect nocache httponly\n" if self.sticky else ""
        return f"""global
  maxconn 4096
  stats socket {self.directory}/admin.sock level admin

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch

frontend shop
  bind 127.0.0.1:{self.port}
  default_backend web

backend web
  balance roundrobin
  option httpchk GET /readyz
  default-server inter 500ms fall 2 rise 2
{stickiness}{servers}
"""

    def start(self, timeout: float = 10.0) -> HAProxy:
        if not Path(HAPROXY).exists():
            raise RuntimeError("haproxy is not installed: apt-get install -y haproxy")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "haproxy.cfg"
        config.write_text(self.config())
        log = (self.directory / "haproxy.log").open("ab")
        self.process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {(self.directory / 'haproxy.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("haproxy did not listen")

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> HAProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
