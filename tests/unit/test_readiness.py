"""Readiness: concurrent, bounded checks; one round per second whatever the number of callers; the verdicts."""

from __future__ import annotations

import asyncio
import time

from myclothes.web.health import Readiness, ReadinessReport


class Probe:
    """A dependency check that counts its calls and answers after ``delay_s`` (or fails)."""

    def __init__(self, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.delay_s = delay_s
        self.error = error
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error


async def test_a_storm_of_checks_costs_one_probe_per_dependency() -> None:
    probes = {"database_primary": Probe(0.05), "cart_store": Probe(0.05)}
    readiness = Readiness(probes)  # type: ignore[arg-type]
    reports = await asyncio.gather(*(readiness.report() for _ in range(500)))
    assert all(report.ready and report.can_write for report in reports)
    assert [probe.calls for probe in probes.values()] == [1, 1]
    await readiness.report()
    assert [probe.calls for probe in probes.values()] == [1, 1]  # cached


async def test_the_report_is_kept_for_its_ttl_then_checked_again() -> None:
    now = [100.0]
    probe = Probe()
    readiness = Readiness({"database_primary": probe}, ttl_s=1.0, clock=lambda: now[0])  # type: ignore[dict-item]
    await readiness.report()
    now[0] += 0.9
    await readiness.report()
    assert probe.calls == 1
    now[0] += 0.2
    await readiness.report()
    assert probe.calls == 2


async def test_checks_run_concurrently_and_a_hung_one_is_bounded_and_not_piled_up() -> None:
    hung, slow = Probe(delay_s=30), Probe(delay_s=0.3)
    readiness = Readiness({"database_primary": hung, "database_replica": slow}, timeout_s=0.5, ttl_s=0.0)  # type: ignore[dict-item]
    started = time.monotonic()
    report = await readiness.report()
    assert time.monotonic() - started < 0.7  # not 0.3 + 0.5: concurrently
    assert report.checks == {"database_primary": "timeout", "database_replica": "ok"}
    assert report.ready and not report.can_write
    await readiness.report()
    assert hung.calls == 1  # still running: the next round waits on it rather than starting another


async def test_a_failing_check_names_the_error() -> None:
    readiness = Readiness({"cart_store": Probe(error=ConnectionError("refused"))})  # type: ignore[dict-item]
    assert (await readiness.report()).checks == {"cart_store": "error: ConnectionError"}


def test_ready_needs_one_database_endpoint_and_writing_needs_the_primary_and_the_cart_store() -> None:
    down = "error: TimeoutError"
    assert ReadinessReport({"database_primary": down, "database_replica": "ok", "cart_store": down}).ready
    assert ReadinessReport({"database_primary": "ok", "database_replica": down, "cart_store": "ok"}).ready
    assert not ReadinessReport({"database_primary": down, "database_replica": down, "cart_store": "ok"}).ready
    assert not ReadinessReport({"database_primary": down, "cart_store": "ok", "cache": "ok"}).ready
    assert ReadinessReport({"database_primary": "ok", "cart_store": "ok", "cache": down}).can_write
    assert not ReadinessReport({"database_primary": "ok", "cart_store": down}).can_write
    assert not ReadinessReport({"database_primary": down, "database_replica": "ok", "cart_store": "ok"}).can_write
