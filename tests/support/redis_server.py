"""A real redis-server on a free non-standard port, with its own directory; stopped by PID."""

from __future__ import annotations

import shutil
import signal
import socket
from pathlib import Path

from myclothes.processes import Process, free_port, listening, sentinel_config

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(
        self, directory: Path, port: int | None = None, password: str | None = None, replica_of: int | None = None
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.password = password
        self.replica_of = replica_of
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--repl-diskless-sync-delay", "0",
                "--dbfilename", f"dump-{self.port}.rdb"]  # fmt: skip
        if replica_of:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        if password:
            args += ["--requirepass", password, "--masterauth", password]
        self.process = Process(args, directory / f"redis-{self.port}.log")

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError("redis-server is not installed: apt-get install -y redis-server")
        self.process.start(self._answers_ping, timeout)
        return self

    def _answers_ping(self) -> bool:
        commands = [f"AUTH {self.password}", "PING"] if self.password else ["PING"]
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
            sock.sendall("".join(f"{command}\r\n" for command in commands).encode())
            reply = b""
            while reply.count(b"\r\n") < len(commands):
                chunk = sock.recv(100)
                if not chunk:
                    return False
                reply += chunk
        return reply.endswith(b"+PONG\r\n")

    def stop(self, kill: bool = False) -> None:
        self.process.stop(signal.SIGKILL if kill else signal.SIGTERM)

    def pids(self) -> list[int]:
        return [self.process.pid]

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class SentinelServer:
    """A redis-sentinel watching the primary ``service`` (quorum 2, down after 1 s), with a fresh config file."""

    def __init__(self, directory: Path, primary_port: int, service: str = "myclothes") -> None:
        self.directory = directory
        self.port = free_port()
        self.primary_port = primary_port
        self.service = service
        self.config = directory / f"sentinel-{self.port}.conf"
        self.process = Process([REDIS_SERVER, str(self.config), "--sentinel"], directory / f"sentinel-{self.port}.log")

    def start(self, timeout: float = 10.0) -> SentinelServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        options = [("down-after-milliseconds", "1000"), ("failover-timeout", "5000"), ("parallel-syncs", "1")]
        primary = ("127.0.0.1", self.primary_port)
        self.config.write_text(
            sentinel_config(self.port, "127.0.0.1", self.directory, self.service, primary, 2, options)
        )
        self.process.start(lambda: listening(self.port), timeout)
        return self

    def stop(self) -> None:
        self.process.stop()

    def pids(self) -> list[int]:
        return [self.process.pid]
