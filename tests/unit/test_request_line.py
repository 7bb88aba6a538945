"""The per-request log line: every field, in the order of the other lines, with a UTC timestamp to the microsecond."""

from __future__ import annotations

import asyncio
import datetime
import os
import time

import msgspec
import pytest

from myclothes.settings import Settings
from myclothes.web import requestlog
from myclothes.web.edge import Edge, _Clock


def test_the_line_has_every_field_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[bytes] = []
    monkeypatch.setattr(requestlog, "write_line", written.append)
    edge = Edge(
        Settings.from_env({"MYCLOTHES_INSTANCE": "web-a1", "MYCLOTHES_ZONE": "a", "MYCLOTHES_CART_STORE": "sql"})
    )
    before = datetime.datetime.now(datetime.UTC)
    edge._log({"method": "POST", "path_template": "/api/cart/items"}, "ab" * 16, 201, time.perf_counter() - 0.0123)
    edge._log({"method": "GET"}, "cd" * 16, None, time.perf_counter())
    first, second = (msgspec.json.decode(line) for line in written)
    assert list(first) == [
        "event", "method", "route", "status", "duration_ms", "instance", "zone", "cart_store", "request_id", "level",
        "logger", "timestamp",
    ]  # fmt: skip
    assert {k: v for k, v in first.items() if k not in ("duration_ms", "timestamp")} == {
        "event": "request", "method": "POST", "route": "/api/cart/items", "status": 201, "instance": "web-a1",
        "zone": "a", "cart_store": "sql", "request_id": "ab" * 16, "level": "info", "logger": "myclothes.request",
    }  # fmt: skip
    assert 12.3 <= first["duration_ms"] < 1000
    stamped = datetime.datetime.fromisoformat(first["timestamp"])
    assert stamped.tzinfo == datetime.UTC and abs((stamped - before).total_seconds()) < 5
    assert (second["route"], second["status"]) == ("unmatched", None)


def test_the_clock_formats_each_second_once_and_every_microsecond(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_796_630_399.75]  # binary fractions: exact in a float
    monkeypatch.setattr(time, "time", lambda: now[0])
    clock = _Clock()
    assert clock() == "2026-12-07T07:59:59.750000Z"
    now[0] = 1_796_630_400.0
    assert clock() == "2026-12-07T08:00:00.000000Z"  # the next second (datetime's isoformat would drop the digits)
    now[0] = 1_796_630_400.015625
    assert clock() == "2026-12-07T08:00:00.015625Z"


async def test_the_lines_of_one_loop_turn_are_written_in_one_system_call() -> None:
    calls: list[int] = []
    read_end, write_end = os.pipe()

    def write(fd: int, data: memoryview) -> int:
        calls.append(len(data))  # offered; taken: 5 bytes (a short write, the rest must follow)
        return os.write(fd, data[:5])

    try:
        writer = requestlog._TurnWriter(write_end, write)
        for line in (b'{"a":1}', b'{"b":2}', b'{"c":3}'):
            writer(line)
        assert calls == []  # nothing written while the turn runs
        await asyncio.sleep(0)
        assert os.read(read_end, 100) == b'{"a":1}\n{"b":2}\n{"c":3}\n'
        assert calls == [24, 19, 14, 9, 4]  # the three lines offered in one call, then what it left
        writer(b'{"d":4}')
        writer.flush()  # what the exit hook does with a line still pending
        assert os.read(read_end, 100) == b'{"d":4}\n'
        await asyncio.sleep(0)
        assert writer.pending == []
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_line_written_outside_an_event_loop_is_written_at_once() -> None:
    read_end, write_end = os.pipe()
    try:
        requestlog._TurnWriter(write_end)(b'{"e":5}')
        assert os.read(read_end, 100) == b'{"e":5}\n'
    finally:
        os.close(read_end)
        os.close(write_end)
