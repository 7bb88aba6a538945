"""Clean-ups that writers trigger but never wait for: abandoned guest carts, expired sessions.

A ``Sweep`` runs its clean-up at most once every ``every_s`` per process, as a task of its own, when a writer calls
``due()``: the shopper's request neither waits on the clean-up's scan nor pays its statements (on SQLite a sweep
holds the one writer for the length of its ``DELETE``; at a fixed chance per write it did that ever more often as
traffic grew). The first sweep comes at a random point of the first interval, so processes started together do not
sweep together. A failed sweep is logged and tried again an interval later.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("myclothes.db.sweep")


class Sweep:
    def __init__(
        self,
        name: str,
        run: Callable[[], Awaitable[object]],
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.every_s = every_s
        self._run = run
        self._clock = clock
        self._next_at = clock() + random.uniform(0, every_s)
        self._task: asyncio.Task[None] | None = None

    def due(self) -> None:
        """Start the clean-up in the background if the interval has passed and none is running; returns at once."""
        now = self._clock()
        if now < self._next_at or (self._task is not None and not self._task.done()):
            return
        self._next_at = now + self.every_s
        self._task = asyncio.create_task(self._sweep(), name=f"sweep {self.name}")

    async def wait(self) -> None:
        """Until the sweep running now (if any) has finished (for tests and shutdown)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _sweep(self) -> None:
        try:
            await self._run()
        except Exception:  # a failed sweep leaves the rows for the next one
            log.warning("sweep of %s failed; next try in %.0f s", self.name, self.every_s, exc_info=True)
