"""The capacity ramp: rising open-loop rates until the store falls behind, before a drill picks its own rate."""

from __future__ import annotations

from typing import Protocol

from myclothes.cluster.report import percentile
from myclothes.cluster.shoppers import Sample

# After an overloaded ramp step the web processes still work through what it queued (password hashes run in threads
# and keep the cores busy while the event loop, and so a cheap probe, answers at once): a CI run started the drill
# on that backlog and browse p99 was 16.7 s before any fault. Every queued request ends within the web tier's
# request deadline (MYCLOTHES_REQUEST_DEADLINE_S, 5 s by default), so wait that out before probing.
OVERLOAD_SETTLE_S = 5.0


class Ramp(Protocol):
    """What the ramp needs of the load (``cluster.load.Load``)."""

    lag_ms: list[float]

    async def run(self, rate: float, duration: float) -> list[Sample]: ...

    async def drain(self, *, settle_s: float = 0.0) -> float: ...


async def measure_capacity(
    load: Ramp, start: float = 50.0, factor: float = 1.5, step_s: float = 2.5, ceiling: float = 3000.0
) -> tuple[float, list[dict[str, float]]]:
    """Offer rising rates until the store falls behind; the capacity is the last rate it carried.

    A step is carried when at least 99% of its requests succeed, their p99 stays under 250 ms and the generator
    sent 99% of its arrivals less than 50 ms late. After the first step that is not carried, one more step halfway
    back refines the figure (the very first step gets a second try: it also warms the generator and the store up).
    An overloaded step leaves work queued in the store, so the next step (and the measured
    run after the ramp) waits until the store answers promptly again. Returns the capacity and each step's figures.
    """
    steps: list[dict[str, float]] = []
    capacity = 0.0
    rate = start
    refining = False
    first_tries = 2  # the first step also warms the generator and the store up: one miss there is not a verdict
    while rate <= ceiling:
        load.lag_ms.clear()
        samples = await load.run(rate, step_s)
        ok = sum(1 for s in samples if s.ok)
        p99 = percentile([s.latency_ms for s in samples], 0.99)
        lag = percentile(load.lag_ms, 0.99)
        carried = bool(samples) and ok >= 0.99 * len(samples) and p99 <= 250 and lag <= 50
        steps.append(
            {
                "offered_rps": round(rate, 1),
                "achieved_rps": round(ok / step_s, 1),
                "p99_ms": round(p99, 1),
                "generator_lag_p99_ms": round(lag, 1),
                "carried": carried,
                "drained_s": round(await load.drain(settle_s=OVERLOAD_SETTLE_S), 1) if not carried else 0.0,
            }
        )
        if carried:
            capacity = max(capacity, rate)
        if refining:
            break
        if not carried and not capacity and first_tries > 1:
            first_tries -= 1
            continue
        if not carried:
            refining = True
            rate = (capacity + rate) / 2 if capacity else rate / 2
            continue
        rate *= factor
    await load.drain()
    return round(capacity, 1), steps
