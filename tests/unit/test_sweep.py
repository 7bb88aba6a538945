"""A sweep runs in the background at most once per interval, never in the caller's path, and survives failures."""

from __future__ import annotations

import asyncio

import pytest
from tests.unit.fakes import ManualClock

from myclothes.db.sweep import Sweep


async def test_a_sweep_runs_at_most_once_per_interval_and_the_caller_does_not_wait() -> None:
    clock, runs, release = ManualClock(), [], asyncio.Event()

    async def purge() -> None:
        runs.append(clock.now)
        await release.wait()

    sweep = Sweep("test rows", purge, every_s=60, clock=clock)
    clock.now += 60  # past the first interval's random start, wherever it fell
    sweep.due()  # returns at once although the purge is still waiting
    await asyncio.sleep(0)
    assert runs == [1060.0]
    clock.now += 120
    sweep.due()  # due again, but the first is still running: not a second one beside it
    release.set()
    await sweep.wait()
    assert runs == [1060.0]
    clock.now += 30  # the refused call did not move the interval: due (60 s after the last start have passed)
    sweep.due()
    await sweep.wait()
    assert runs == [1060.0, 1210.0]
    clock.now += 59
    sweep.due()
    await sweep.wait()
    assert runs == [1060.0, 1210.0]


async def test_a_failed_sweep_is_logged_and_tried_again_an_interval_later(caplog: pytest.LogCaptureFixture) -> None:
    clock, runs = ManualClock(), []

    async def purge() -> None:
        runs.append(clock.now)
        if len(runs) == 1:
            raise ConnectionError("database gone")

    sweep = Sweep("test rows", purge, every_s=60, clock=clock)
    clock.now += 60
    sweep.due()
    await sweep.wait()  # the failure stays in the sweep
    assert "sweep of test rows failed" in caplog.text
    clock.now += 60
    sweep.due()
    await sweep.wait()
    assert runs == [1060.0, 1120.0]


def test_the_first_sweep_falls_somewhere_in_the_first_interval() -> None:
    starts = {Sweep("x", asyncio.sleep, every_s=60, clock=ManualClock())._next_at for _ in range(50)}
    assert all(1000 <= at <= 1060 for at in starts) and len(starts) > 1
