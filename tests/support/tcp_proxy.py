"""A TCP relay in front of a real server that can fail the way a database failover does, on demand.

- ``refuse()``: accept every connection and close it at once, as HAProxy does while no backend is up
  ("no server available").
- ``lose_reply_to(marker)``: forward the next client message containing ``marker`` (say ``b"COMMIT"``) to the
  server, then cut the connection before the server's answer comes back: the outcome is unknown to the client.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.support.server import free_port


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.refusing = False
        self.lost_replies = 0
        self._marker: bytes | None = None
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        self.drop_all()

    def refuse(self, on: bool = True) -> None:
        """Close every new connection at once (and, when turning it on, every open one)."""
        self.refusing = on
        if on:
            self.drop_all()

    def lose_reply_to(self, marker: bytes) -> None:
        """Arm: the next client message containing ``marker`` reaches the server, its reply never the client."""
        self._marker = marker

    def drop_all(self) -> None:
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, server))
            muted = threading.Event()
            threading.Thread(target=self._pump, args=(client, server, muted, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, muted, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, muted: threading.Event, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if not upstream and muted.is_set():
                    continue  # the server's answer is lost
                marker = self._marker
                cut = upstream and marker is not None and marker in data
                if cut:
                    self._marker = None
                    muted.set()  # before the message leaves: its answer must not slip through
                sink.sendall(data)
                if cut:
                    self.lost_replies += 1
                    time.sleep(0.2)  # the server acts on the message (commits) before the line is cut
                    break
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
