"""Real `myclothes serve` processes on free non-standard ports, for integration and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from myclothes.processes import Process, children, free_port, frozen, http_ok, stop_process

__all__ = ["ShopServer", "children", "free_port", "frozen", "stop_process"]


class ShopServer:
    """One `myclothes serve` process with its own data directory and log file."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = {
            **os.environ,
            "MYCLOTHES_DATA_DIR": str(data_dir),
            "MYCLOTHES_INSTANCE": f"test-{self.port}",
            "MYCLOTHES_LOGIN_IP_MAX_PER_WINDOW": "100000",
            "MYCLOTHES_REGISTER_IP_MAX_PER_HOUR": "100000",  # every test shopper comes from 127.0.0.1
            **(env or {}),
        }
        self.log_path = data_dir / f"server-{self.port}.log"
        self.process = Process(
            [sys.executable, "-m", "myclothes.cli", "serve", "--port", str(self.port)], self.log_path, env=self.env
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ShopServer:
        self.process.start(lambda: http_ok(f"{self.url}/readyz", timeout=1.0), timeout)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        self.process.stop(sig, timeout)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``myclothes *args`` against this server's settings (its database); the finished command."""
        return subprocess.run(
            [sys.executable, "-m", "myclothes.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def create_admin(self, email: str, password: str) -> None:
        """An admin account on this server's database (`myclothes admin create-user`)."""
        result = self.cli("admin", "create-user", email, "--password", password, timeout=60)
        assert result.returncode == 0, result.stderr

    def log(self) -> str:
        return self.process.log()

    def __enter__(self) -> ShopServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
