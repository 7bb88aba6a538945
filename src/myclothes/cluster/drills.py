"""Failure drills: open-loop shopper load through the load balancer, one injected fault, a heal, a full read-back.

Every fault drill (and ``soak``) first measures what the cluster can carry (``--rate auto``: a short ramp) and then
offers half of it, injects its fault a quarter of the way in, heals after the load, retries every checkout whose
outcome was unknown, and reads every acknowledged cart line and order back. The same service-level criteria
(cluster/criteria.py) apply to every drill. ``load-spike`` injects no fault: it steps the load up and down under the
autoscaler (cluster/spike.py) and is held to criteria of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from myclothes.cluster.capacity import measure_capacity
from myclothes.cluster.criteria import judge
from myclothes.cluster.faults import Fault, Timeline, Watch, inject, lose_quorum
from myclothes.cluster.load import OPS, Load
from myclothes.cluster.manager import Cluster
from myclothes.cluster.report import (
    error_window_s,
    fault_window,
    load_figures,
    op_figures,
    percentile,
    recovery_s,
    write_report,
)
from myclothes.cluster.spike import run_load_spike
from myclothes.processes import http_ok, wait_until

FAULT_DRILLS = ("web-kill", "redis-failover", "pg-failover", "zone-outage", "zone-partition", "sentinel-quorum")
DRILLS = (*FAULT_DRILLS, "soak", "load-spike")
FAULT_AT = 0.25  # share of the load's duration before the fault
QUORUM_LOST_AT = 0.6  # sentinel-quorum: when the second Sentinel (and the new primary) go


def run_drill(
    cluster: Cluster, drill: str, zone: str | None, duration: float, rate: float | None, report_dir: Path
) -> dict[str, Any]:
    """Run one drill end to end (``rate`` None: measure the capacity and offer half); write and return the report."""
    return asyncio.run(_run(cluster, drill, zone, duration, rate, report_dir))


async def _run(
    cluster: Cluster, drill: str, zone: str | None, duration: float, rate: float | None, report_dir: Path
) -> dict[str, Any]:
    if drill == "zone-partition" and not cluster.topology.isolated:
        raise RuntimeError("zone-partition needs a cluster started with `cluster up --isolate`")
    lb = cluster.topology.lb_url
    await asyncio.to_thread(wait_until, lambda: http_ok(f"{lb}/readyz"), 60, "the store behind the load balancer")
    admin = (f"drill-admin-{uuid.uuid4().hex[:8]}@example.com", secrets.token_urlsafe(18))
    await asyncio.to_thread(cluster.app_command, "admin", "create-user", admin[0], stdin=admin[1] + "\n")
    load = Load(lb)
    try:
        await load.setup(admin)
        if drill == "load-spike":  # no fault: the autoscaler under a stepped load (cluster/spike.py)
            return await run_load_spike(cluster, load, duration, rate, report_dir)
        capacity, steps = (None, []) if rate is not None else await measure_capacity(load)
        offered = rate if rate is not None else max(10.0, round(0.5 * (capacity or 0), 1))
        watch = Watch(cluster)
        watching = asyncio.create_task(watch.run())
        load.started = time.monotonic()
        load.lag_ms.clear()
        running = asyncio.create_task(load.run(offered, duration))
        fault: Fault | None = None
        fault_t = None
        timeline: Timeline | None = None
        quorum: dict[str, Any] = {}
        if drill != "soak":
            await asyncio.sleep(duration * FAULT_AT)
            if drill == "zone-partition":
                timeline = await asyncio.to_thread(Timeline, cluster, zone)
                zone = timeline.zone
            fault_t = load.now()
            fault = await asyncio.to_thread(inject, cluster, drill, zone)
            if timeline is not None:
                timeline.fault_t = time.monotonic()
                timing = asyncio.create_task(timeline.run())
            if drill == "sentinel-quorum":
                await asyncio.sleep(duration * (QUORUM_LOST_AT - FAULT_AT))
                quorum = {"lost_at_s": round(load.now(), 2), **await asyncio.to_thread(lose_quorum, cluster)}
        samples = await running
        end_t = load.now()
        if quorum:
            quorum["primary_port_at_end"] = await asyncio.to_thread(cluster.redis_primary_port)
        heal_t = None
        if fault and fault.to_heal:
            heal_t = load.now()
            if timeline is not None:
                timeline.healed()
            await asyncio.to_thread(cluster.heal)
        if timeline is not None:
            await timeline.until_rejoined(timing)
        await asyncio.to_thread(wait_until, lambda: http_ok(f"{lb}/readyz"), 60, "the store after healing")
        await load.settle()
        lost_cart, lost_orders = await load.verify()
        watch.stop()
        await watching
    finally:
        await load.close()
    judged, judged_end = samples, end_t
    if quorum:  # the figures and windows cover the first step; the second is judged on how writes were refused
        lost_t = quorum["lost_at_s"]
        quorum["answers_with_two_sentinels_lost"] = {
            op: op_figures([s for s in samples if s.op == op and s.t >= lost_t], None, (lost_t, end_t))["statuses"]
            for op in OPS
        }
        judged, judged_end = [s for s in samples if s.t < lost_t], lost_t
    window = fault_window(judged, fault_t, judged_end)
    report: dict[str, Any] = {
        "drill": drill,
        "fault": fault.description if fault else "none (soak)",
        "cart_store": cluster.topology.cart_store,
        "duration_s": duration,
        "capacity_rps": capacity,
        "offered_rps": offered,
        **load_figures(
            samples, duration, (load.acknowledged_cart_writes, lost_cart), (load.acknowledged_orders, lost_orders)
        ),
        "error_window_s": error_window_s([s for s in judged if window[0] <= s.t <= window[1]]),
        "recovery_s": recovery_s(judged, fault_t) if fault_t is not None else 0.0,
        "max_primaries": watch.max_primaries,
        "pg_failovers": watch.pg_failovers,
        "redis_failovers": watch.redis_failovers,
        "expected_failovers": {"pg": fault.pg_failovers, "redis": fault.redis_failovers} if fault else None,
        "fault_at_s": round(fault_t, 2) if fault_t is not None else None,
        "heal_at_s": round(heal_t, 2) if heal_t is not None else None,
        "window_s": [round(window[0], 2), round(window[1], 2)],
        "generator_skipped": load.skipped,
        "generator_lag_p99_ms": round(percentile(load.lag_ms, 0.99), 1),  # the generator itself falling behind
        "capacity_steps": steps,
        "lost_carts": sorted({email for email, _ in load.lost_cart_lines}),
        "lost_order_ids": [{"customer": email, "order": order} for email, order in load.lost_orders],
        "ops": {op: op_figures([s for s in judged if s.op == op], fault_t, window) for op in OPS},
    }
    if timeline is not None:
        report["partitioned_zone"] = timeline.zone
        report["timeline_s"] = timeline.events
    if quorum:
        report["quorum"] = quorum
    report["passed"], report["criteria"] = judge(report)
    write_report(report, samples, OPS, report_dir)
    return report
