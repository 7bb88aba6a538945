"""Process control through supervisord: one supervisor per cluster, every process a program of it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class Supervisor:
    """Start, stop, signal and inspect the cluster's processes (supervisord + supervisorctl, by PID)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = directory / "supervisord.conf"
        self.socket = directory / "supervisor.sock"

    def launch(self, timeout: float = 15.0) -> int:
        """Start supervisord detached from this command (its own session); return its PID when it answers."""
        log = (self.directory / "logs" / "supervisord.out").open("ab")
        process = subprocess.Popen(
            ["supervisord", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"supervisord exited; see {self.directory / 'logs'}")
            if self.socket.exists() and self.ctl("pid").returncode == 0:
                return process.pid
            time.sleep(0.1)
        raise RuntimeError("supervisord did not answer")

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
        """``{program: (STATE, pid)}``; pid 0 when not running."""
        result = self.ctl("status")
        states: dict[str, tuple[str, int]] = {}
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            pid = 0
            if "pid" in parts:
                pid = int(parts[parts.index("pid") + 1].rstrip(","))
            states[parts[0]] = (parts[1], pid)
        return states

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


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has disappeared (a SIGKILLed process can stay a zombie for about a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)
