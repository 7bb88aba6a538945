"""The server's write coalescing (web/server.py): an answer's head and body leave in one write, nothing is
reordered, delayed past one loop turn or lost on close; and uvicorn over it still speaks HTTP/1.1 correctly
(streaming, HEAD, pipelining, ``Connection: close``, large bodies) on both event loops."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvicorn
import uvloop

from myclothes.web.server import JOIN_AT_MOST, CoalescingHttpToolsProtocol, CoalescingTransport


class RecordingTransport:
    """A fake transport: what was written, in order, and whether it was closed or aborted."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.events.append("write")

    def close(self) -> None:
        self.events.append("close")

    def abort(self) -> None:
        self.events.append("abort")

    def write_eof(self) -> None:
        self.events.append("eof")

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return "close" in self.events


async def stand_in() -> tuple[CoalescingTransport, RecordingTransport]:
    recording = RecordingTransport()
    return CoalescingTransport(recording, asyncio.get_running_loop()), recording  # type: ignore[arg-type]


async def test_a_head_and_a_body_written_in_one_turn_leave_in_one_write() -> None:
    transport, recording = await stand_in()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert recording.writes == []
    transport.write(b"ok")
    assert recording.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    await asyncio.sleep(0)
    assert len(recording.writes) == 1


async def test_a_lone_write_leaves_when_the_loop_turns() -> None:
    transport, recording = await stand_in()
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.get_write_buffer_size() == 25
    await asyncio.sleep(0)
    assert recording.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    assert transport.get_write_buffer_size() == 0


async def test_many_writes_keep_their_order_and_pair_up() -> None:
    transport, recording = await stand_in()
    for chunk in (b"a", b"b", b"c", bytearray(b"d"), memoryview(b"e")):
        transport.write(chunk)
    await asyncio.sleep(0)
    assert b"".join(recording.writes) == b"abcde"
    assert recording.writes == [b"ab", b"cd", b"e"]


async def test_a_held_buffer_is_copied_so_the_writer_may_reuse_its_own() -> None:
    transport, recording = await stand_in()
    buffer = bytearray(b"head")
    transport.write(buffer)
    buffer[:] = b"XXXX"
    await asyncio.sleep(0)
    assert recording.writes == [b"head"]


async def test_large_bodies_are_not_copied_into_one_buffer() -> None:
    transport, recording = await stand_in()
    body = b"x" * JOIN_AT_MOST
    transport.write(b"head")
    transport.write(body)
    assert recording.writes == [b"head", body]


async def test_close_and_write_eof_send_what_is_held_first_and_abort_drops_it() -> None:
    transport, recording = await stand_in()
    transport.write(b"last answer")
    transport.close()
    assert recording.events == ["write", "close"]
    assert recording.writes == [b"last answer"]

    transport, recording = await stand_in()
    transport.write(b"bytes")
    transport.write_eof()
    assert recording.events == ["write", "eof"]

    transport, recording = await stand_in()
    transport.write(b"never sent")
    transport.abort()
    await asyncio.sleep(0)
    assert recording.events == ["abort"]


async def test_empty_writes_send_nothing() -> None:
    transport, recording = await stand_in()
    transport.write(b"")
    await asyncio.sleep(0)
    assert recording.writes == []


# --- uvicorn over the stand-in, on real sockets ---------------------------------------------------------------


async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    if scope["type"] != "http":
        return
    request = await receive()
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    body = b"y" * 300_000 if path == "/large" else b"echo:" + request["body"]
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def run_on(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    (uvloop.run if loop_name == "uvloop" else asyncio.run)(main())


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = dict(line.lower().split(b": ", 1) for line in lines[1:] if line)
    if headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
        return lines[0], headers, body
    length = int(headers.get(b"content-length", b"0"))
    return lines[0], headers, await reader.readexactly(length)


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_uvicorn_over_the_stand_in_answers_every_kind_of_request(loop_name: str) -> None:
    async def main() -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, http=CoalescingHttpToolsProtocol, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # Three pipelined requests in one segment: answered in order, on one connection.
            writer.write(
                b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nfirst"
                b"GET /stream HTTP/1.1\r\nhost: t\r\n\r\n"
                b"HEAD /echo HTTP/1.1\r\nhost: t\r\n\r\n"
            )
            status, _, body = await read_answer(reader)
            assert (status, body) == (b"HTTP/1.1 200 OK", b"echo:first")
            status, headers, body = await read_answer(reader)
            assert headers[b"transfer-encoding"] == b"chunked"
            assert body == b"one,two,three"
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 5" in head
            # A large body arrives whole.
            writer.write(b"GET /large HTTP/1.1\r\nhost: t\r\n\r\n")
            _, _, body = await read_answer(reader)
            assert body == b"y" * 300_000
            # Connection: close: the whole answer, then the end of the stream.
            writer.write(b"POST /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: 4\r\n\r\nlast")
            _, headers, body = await read_answer(reader)
            assert body == b"echo:last" and headers[b"connection"] == b"close"
            assert await asyncio.wait_for(reader.read(), 5) == b""
            writer.close()
        finally:
            server.should_exit = True
            await serving

    run_on(loop_name, main)


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_a_small_answer_is_one_write_on_the_socket(loop_name: str) -> None:
    """Counted below the stand-in, on the event loop's real transport."""
    writes: list[int] = []

    class Counting(CoalescingHttpToolsProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            real_write = transport.write  # type: ignore[attr-defined]

            def write(data: bytes) -> None:
                writes.append(len(data))
                real_write(data)

            class Proxy:
                def __getattr__(self, name: str) -> Any:
                    return write if name == "write" else getattr(transport, name)

            super().connection_made(Proxy())  # type: ignore[arg-type]

    async def main() -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, http=Counting, lifespan="off", log_level="warning"))
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for n in range(3):
                writer.write(b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 1\r\n\r\n%d" % n)
                _, _, body = await read_answer(reader)
                assert body == b"echo:%d" % n
            writer.close()
        finally:
            server.should_exit = True
            await serving

    run_on(loop_name, main)
    assert len(writes) == 3, writes
