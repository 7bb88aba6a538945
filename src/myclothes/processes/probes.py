"""Free ports and readiness probes: is it listening, does it answer 200, wait until a check holds."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable

import httpx

PORT_RANGE = (20000, 32000)  # below the kernel's ephemeral range (32768+): no outgoing connection can take them
_taken: set[int] = set()

# One client for every probe: ``httpx.get`` builds a client (and a TLS context) per call, ~22 ms of CPU that holds
# the GIL, which in a drill stalled the load generator's event loop ten times a second while the watcher polled.
PROBE = httpx.Client(trust_env=False, verify=False)


def free_port() -> int:
    """A free TCP port on 127.0.0.1, outside the ephemeral range and never a standard one (80, 5432, 6379, 2379).

    A port from the ephemeral range could be taken as the source port of some outgoing connection between
    choosing it and the server binding it (seen: a Sentinel failing with "Address already in use"). A port is
    handed out once per process, so two servers planned before either binds never get the same one.
    """
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(*PORT_RANGE)
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port


def wait_until(check: Callable[..., object], timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``check()`` until it is true (an exception counts as false); RuntimeError naming ``what`` after
    ``timeout`` seconds.

    ``check`` is called without arguments; it is typed ``Callable[..., object]`` so that a lambda binding a loop
    variable through a default (``lambda n=node: ready(n)``) is accepted.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on ``host``:``port``."""
    try:
        socket.create_connection((host, port), timeout=0.3).close()
        return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 0.5) -> bool:
    """True if GET ``url`` (plain HTTP, no proxy) answers 200."""
    try:
        return PROBE.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
