"""`myclothes cluster dashboard`: one page for operators, its JSON and its static files, on 127.0.0.1.

The standard library's threaded HTTP server, not Litestar: every answer comes from a blocking call (the cluster's
status probes, which run on namespace worker threads, and Prometheus range queries), there are five routes and no
middleware, so an ASGI server would only run these calls on a thread pool anyway.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from myclothes.cluster.dashboard.metrics import Metrics
from myclothes.cluster.topology import Topology
from myclothes.cluster.view import ClusterView

DEFAULT_PORT = 8765
CACHE_S = 1.0
STATIC = Path(__file__).parent / "static"
UPLOT_FILES = ("uPlot.iife.min.js", "uPlot.min.css")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'",  # uPlot sizes by style
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def find_uplot() -> Path:
    """uPlot's ``dist`` folder in the repository's node_modules (``npm ci`` installs it from package-lock.json)."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        dist = base / "node_modules" / "uplot" / "dist"
        if all((dist / name).is_file() for name in UPLOT_FILES):
            return dist
    raise RuntimeError("uPlot is not installed: run `npm ci` in the repository (it is in package-lock.json)")


class Cached:
    """The last answer of ``produce`` for ``max_age`` seconds, however many browsers ask.

    One caller produces at a time; the others wait for it and share its answer, so N open dashboards cost one
    round of probes per ``max_age``, not N.
    """

    def __init__(self, produce: Callable[[], dict[str, Any]], max_age: float = CACHE_S) -> None:
        self.produce = produce
        self.max_age = max_age
        self.lock = threading.Lock()
        self.value: dict[str, Any] = {}
        self.produced_at = float("-inf")

    def get(self) -> dict[str, Any]:
        with self.lock:
            if time.monotonic() - self.produced_at >= self.max_age:
                started = time.monotonic()
                value = self.produce()
                self.produced_at = time.monotonic()
                value["took_ms"] = round(1000 * (self.produced_at - started), 1)
                value["at"] = round(time.time(), 3)
                self.value = value
            return self.value


class ClusterStatus:
    """``Cluster.status()`` for the page; ``state.json`` is read again each time (``cluster scale`` changes it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.view = ClusterView(Topology.load(directory))

    def read(self) -> dict[str, Any]:
        try:
            self.view.topology = Topology.load(self.directory)
            return {"status": self.view.status()}
        except Exception as error:  # a cluster being torn down: the page says so and keeps asking
            return {"error": f"{type(error).__name__}: {error}"}


class Dashboard(ThreadingHTTPServer):
    """The dashboard's HTTP server: the page, ``/api/status``, ``/api/metrics``, uPlot from node_modules."""

    daemon_threads = True

    def __init__(self, directory: Path, port: int) -> None:
        status = ClusterStatus(directory)
        self.status = Cached(status.read)
        self.metrics = Cached(Metrics(status.view.topology.prometheus_url).read)
        self.files = {f"/static/{p.name}": p for p in STATIC.iterdir() if p.is_file()}
        uplot = find_uplot()
        self.files |= {f"/uplot/{name}": uplot / name for name in UPLOT_FILES}
        self.files["/"] = STATIC / "index.html"
        super().__init__(("127.0.0.1", port), DashboardHandler)


class DashboardHandler(BaseHTTPRequestHandler):
    server: Dashboard
    server_version = "myclothes-dashboard"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/api/status":
            self.send(HTTPStatus.OK, json.dumps(self.server.status.get()).encode(), "application/json")
        elif path == "/api/metrics":
            self.send(HTTPStatus.OK, json.dumps(self.server.metrics.get()).encode(), "application/json")
        elif path in self.server.files:
            file = self.server.files[path]
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self.send(HTTPStatus.OK, file.read_bytes(), kind)
        elif path == "/favicon.ico":
            self.send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self.send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a page closed while it was answered
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page polls twice every 1.5 s; errors still reach ``log_error``."""

    def log_error(self, format: str, *args: Any) -> None:
        super().log_message(format, *args)


def serve(directory: Path, port: int = DEFAULT_PORT) -> None:
    """Serve the dashboard of the cluster in ``directory`` on 127.0.0.1:``port`` until interrupted."""
    with Dashboard(directory, port) as server:
        print(f"dashboard of {directory} on http://127.0.0.1:{server.server_port}/ (Ctrl-C stops it)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
