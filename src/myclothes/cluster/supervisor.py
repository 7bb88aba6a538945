"""Process control through supervisord: one supervisor per cluster, every process a program of it."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import xmlrpc.client
from pathlib import Path
from typing import Any, cast

from myclothes.processes import Process, pid_alive, wait_gone


class Supervisor:
    """Start, stop, signal and inspect the cluster's processes (supervisord + supervisorctl, by PID)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = directory / "supervisord.conf"
        self.socket = directory / "supervisor.sock"

    def launch(self, timeout: float = 15.0) -> int:
        """Start supervisord detached from this command (its own session); return its PID when it answers."""
        supervisord = Process(
            ["supervisord", "-c", str(self.config)], self.directory / "logs" / "supervisord.out", new_session=True
        )
        supervisord.start(lambda: self.socket.exists() and self.ctl("pid").returncode == 0, timeout)
        return supervisord.pid

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run one supervisorctl command against this cluster."""
        return subprocess.run(
            ["supervisorctl", "-c", str(self.config), *args], capture_output=True, text=True, timeout=timeout
        )

    def start(self, *names: str) -> None:
        """Start programs (returns once supervisord considers them started)."""
        result = self.ctl("start", *names)
        if "ERROR" in result.stdout and "already started" not in result.stdout:
            raise RuntimeError(f"supervisorctl start {' '.join(names)}: {result.stdout.strip()}")

    def stop(self, *names: str) -> None:
        """Stop programs gracefully (SIGTERM to the group, SIGKILL after stopwaitsecs)."""
        self.ctl("stop", *names)

    def states(self) -> dict[str, tuple[str, int]]:
        """``{program: (STATE, pid)}``; pid 0 when not running; empty when supervisord does not answer.

        Asked over supervisord's XML-RPC socket (what supervisorctl speaks): ``supervisorctl status`` is a Python
        process per call, about 0.15 s of CPU, and the status of a dashboard or a drill's watcher is asked often.
        """
        rpc = xmlrpc.client.ServerProxy("http://supervisord/RPC2", transport=_UnixSocketTransport(self.socket))
        try:
            infos = cast(list[dict[str, Any]], rpc.supervisor.getAllProcessInfo())
        except (OSError, xmlrpc.client.Error):
            return {}
        return {info["name"]: (info["statename"], info["pid"]) for info in infos}

    def pid(self, name: str) -> int:
        """The PID of a running program, 0 if it is not running."""
        return self.states().get(name, ("", 0))[1]

    def supervisord_pid(self) -> int:
        """supervisord's own PID from its pidfile, 0 if none."""
        pidfile = self.directory / "supervisord.pid"
        try:
            return int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return 0

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop every program, then supervisord itself; wait until its PID is gone."""
        pid = self.supervisord_pid()
        if not pid or not pid_alive(pid):
            return
        self.ctl("stop", "all", timeout=timeout)
        self.ctl("shutdown", timeout=timeout)
        if not wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)


class _UnixSocketConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: Path) -> None:
        super().__init__("supervisord", timeout=10)
        self.socket_path = socket_path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.socket_path))


class _UnixSocketTransport(xmlrpc.client.Transport):
    """XML-RPC over a UNIX socket (supervisord's ``[unix_http_server]``)."""

    def __init__(self, socket_path: Path) -> None:
        super().__init__()
        self.socket_path = socket_path

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        return _UnixSocketConnection(self.socket_path)
