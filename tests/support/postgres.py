"""A real PostgreSQL primary and streaming hot standbys on free non-standard ports, stopped by PID.

The servers run as the ``postgres`` user from ``/usr/lib/postgresql/15/bin`` (``initdb --no-sync``, then
``pg_basebackup -R -X stream -c fast`` per standby). Data lives in a fresh directory under /tmp (pytest's own
tmp dirs are private to root), removed by :meth:`PostgresCluster.stop`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from myclothes.processes import Process, children, free_port, frozen, listening, wait_until

PG_BIN = Path(os.environ.get("MYCLOTHES_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"


def _as_postgres(*args: str, timeout: float = 60.0) -> None:
    result = subprocess.run(
        ["runuser", "-u", USER, "--", *args], capture_output=True, text=True, timeout=timeout, cwd="/"
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def psql_scalar(url: str, sql: str) -> str:
    """Run ``sql`` with psql against a ``postgresql+asyncpg://`` URL (as the test clusters build them)."""
    parsed = make_url(url)
    result = subprocess.run(
        [str(PG_BIN / "psql"), "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
         "-U", parsed.username or USER, "-d", parsed.database or "postgres", "-At", "-c", sql],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr}")
    return result.stdout.strip()


class PostgresNode:
    """One postgres server process (a primary or a standby) with its data directory and log file."""

    def __init__(self, name: str, data_dir: Path, port: int) -> None:
        self.name = name
        self.data_dir = data_dir
        self.port = port
        self.log_path = data_dir.parent / f"{name}.log"
        self.process = Process(
            [str(PG_BIN / "postgres"), "-D", str(data_dir)], self.log_path, cwd="/", user=USER, group=USER,
            new_session=True,
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> PostgresNode:
        self.process.start(self._accepts, timeout)
        return self

    def _accepts(self) -> bool:
        if not listening(self.port):
            return False
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-t", "1"],
            capture_output=True,
        )
        return result.returncode == 0

    def stop(self, fast: bool = True, timeout: float = 20.0) -> None:
        """Stop by PID: SIGINT (fast shutdown) or SIGTERM (smart), SIGKILL after ``timeout``."""
        self.process.stop(signal.SIGINT if fast else signal.SIGTERM, timeout)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP the postmaster, then (no backend can start any more) every child: the server hangs, connects
        and queries time out rather than fail; all resume on the way out."""
        with frozen([self.process.pid]), frozen(children(self.process.pid)):
            yield

    def reload(self) -> None:
        """Re-read the configuration (SIGHUP to the postmaster's PID)."""
        os.kill(self.process.pid, signal.SIGHUP)

    def set_conf(self, **settings: str) -> None:
        """Write ``settings`` to this node's override file (included last) and reload."""
        lines = "".join(f"{key} = '{value}'\n" for key, value in settings.items())
        (self.data_dir / "override.conf").write_text(lines)
        shutil.chown(self.data_dir / "override.conf", USER, USER)
        self.reload()

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", database,
             "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def log(self) -> str:
        return self.process.log()


class PostgresCluster:
    """A primary plus ``standbys`` streaming hot standbys; ``apply_delay`` sets recovery_min_apply_delay on them."""

    def __init__(self, standbys: int = 1, apply_delay: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="myclothes-pg-"))
        self.standby_count = standbys
        self.apply_delay = apply_delay
        self.primary = PostgresNode("primary", self.root / "primary", free_port())
        self.standbys: list[PostgresNode] = []

    def start(self) -> PostgresCluster:
        if not (PG_BIN / "postgres").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN}: apt-get install -y postgresql-15")
        shutil.chown(self.root, USER, USER)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.primary.data_dir), "--no-sync", "-A", "trust", "-U", USER,
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        with (self.primary.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n".join(
                    [
                        "listen_addresses = '127.0.0.1'",
                        f"unix_socket_directories = '{self.root}'",
                        "wal_level = replica",
                        "max_wal_senders = 10",
                        "hot_standby = on",
                        "hot_standby_feedback = on",
                        "max_connections = 300",
                        "shared_buffers = 64MB",
                        "fsync = off",
                        "full_page_writes = off",
                        "wal_receiver_status_interval = 1s",
                        "log_min_messages = warning",
                        f"port = {self.primary.port}",
                        "include_if_exists = 'override.conf'",
                        "",
                    ]
                )
            )
        self.primary.start()
        self.primary.psql("CREATE DATABASE myclothes")
        for number in range(1, self.standby_count + 1):
            standby = PostgresNode(f"standby{number}", self.root / f"standby{number}", free_port())
            _as_postgres(
                str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", USER,
                "-D", str(standby.data_dir), "-R", "-X", "stream", "-c", "fast",
            )  # fmt: skip
            with (standby.data_dir / "postgresql.conf").open("a") as conf:
                conf.write(f"\nport = {standby.port}\n")
            if self.apply_delay:
                (standby.data_dir / "override.conf").write_text(f"recovery_min_apply_delay = '{self.apply_delay}'\n")
                shutil.chown(standby.data_dir / "override.conf", USER, USER)
            standby.start()
            self.standbys.append(standby)

    def url(self, database: str = "myclothes") -> str:
        return self.primary.url(database)

    def replica_urls(self, database: str = "myclothes") -> list[str]:
        return [standby.url(database) for standby in self.standbys]

    def create_database(self, name: str) -> str:
        """A fresh database on the primary (replicated to every standby); return its URL."""
        self.primary.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Block until every standby has replayed everything the primary has written so far."""
        target = self.primary.psql("SELECT pg_current_wal_lsn()")
        replayed = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        for standby in self.standbys:
            wait_until(lambda node=standby: node.psql(replayed) == "t", timeout, f"{standby.name} to replay {target}")

    def stop(self) -> None:
        for standby in self.standbys:
            standby.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
