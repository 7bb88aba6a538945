"""One server process we start and own: started until its readiness probe answers, one log file, stopped by PID."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from myclothes.processes.pids import stop_process
from myclothes.processes.probes import wait_until

LOG_TAIL_LINES = 40


class Process:
    """A server process: ``argv`` run with ``env`` (default: ours) in ``cwd``, its output appended to ``log``.

    ``user``/``group`` run it as another account (PostgreSQL refuses to run as root); ``new_session`` detaches it
    from our process group (a Ctrl-C meant for us does not reach it). Used as a context manager it is stopped on the
    way out: ``with Process(...).start(ready): ...``.
    """

    def __init__(
        self,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        user: str | None = None,
        group: str | None = None,
        new_session: bool = False,
    ) -> None:
        self.argv = list(argv)
        self.log_path = log
        self.env = env
        self.cwd = cwd
        self.user = user
        self.group = group
        self.new_session = new_session
        self.name = log.stem
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], object], timeout: float = 30.0) -> Process:
        """Start the process and poll ``ready()`` until it is true.

        RuntimeError with the log's last lines if the process exits first, or if it is not ready within ``timeout``
        seconds (then it is stopped first).
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            popen = self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                user=self.user,
                group=self.group,
                extra_groups=[] if self.user else None,  # not root's supplementary groups
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.new_session,
            )
        try:
            wait_until(lambda: self.exited() or ready(), timeout, f"{self.name} to be ready")
        except RuntimeError as timed_out:
            self.stop()
            raise RuntimeError(self._with_log_tail(str(timed_out))) from None
        if self.exited():
            raise RuntimeError(self._with_log_tail(f"{self.name} exited with code {popen.returncode}"))
        return self

    def exited(self) -> bool:
        """True once a started process has ended."""
        return self.popen is not None and self.popen.poll() is not None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """``sig`` (SIGTERM: a clean shutdown), then SIGKILL after ``timeout`` seconds; returns once it is gone."""
        stop_process(self.popen, sig, timeout)

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def log(self) -> str:
        """Everything the process has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _with_log_tail(self, message: str) -> str:
        tail = self.log().splitlines()[-LOG_TAIL_LINES:]
        return "\n".join([message, f"last lines of {self.log_path}:", *tail])

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
