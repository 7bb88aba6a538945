"""The HTTP server's protocol: uvicorn's httptools protocol, with an answer's head and body sent in one write.

uvicorn writes an answer in two calls to the transport: the status line and headers when the app sends
``http.response.start``, the body when it sends ``http.response.body``. Both transports (asyncio's and uvloop's)
try to send on every write when nothing is queued, so a small answer costs two ``send`` system calls, two TCP
segments and, on the client, two wake-ups. ``CoalescingTransport`` holds a write until the next one in the same
turn of the event loop and sends both as one; a write that no second write follows goes out when the loop turns
(``call_soon``), so nothing waits for more than one turn and the order of bytes is never changed. ``close``,
``write_eof`` and ``abort`` see the held bytes first (sent, or dropped with an abort), as they would have seen them
queued in the transport.

``myclothes serve`` (and through it every web process of the cluster) and ``myclothes bench`` run uvicorn with
``http=CoalescingHttpToolsProtocol``; everything else about uvicorn (parsing, keep-alive, pipelining, flow control,
limits) is its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Above this, two buffers are sent as they are rather than copied into one: the copy would cost more than the
# system call it saves.
JOIN_AT_MOST = 64 * 1024


class CoalescingTransport:
    """A transport's stand-in that joins a write with the next one in the same loop turn."""

    __slots__ = ("_flush", "_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            if data:
                self._held = bytes(data)
                self._flush = self._loop.call_soon(self.flush)
            return
        self._held = None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if len(held) + len(data) <= JOIN_AT_MOST:
            self._transport.write(held + data)
        else:
            self._transport.write(held)
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what is held now (the loop calls this one turn after a write no other write followed)."""
        held, self._held = self._held, None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if held is not None:
            self._transport.write(held)

    def held_bytes(self) -> int:
        return 0 if self._held is None else len(self._held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self.held_bytes()

    # Everything else is the transport's own: reading, flow control, extra info, protocol switches.
    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stand_in = CoalescingTransport(transport, self.loop)  # type: ignore[arg-type]
        super().connection_made(stand_in)  # type: ignore[arg-type]


# The import path uvicorn's ``http`` setting (and its ``--http`` option) takes.
PROTOCOL = f"{__name__}:{CoalescingHttpToolsProtocol.__name__}"
