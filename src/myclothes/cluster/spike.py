"""The load-spike drill: the autoscaler runs while the shopper load steps up and back down.

The web tier starts at the policy's minimum, the ramp measures what it carries, and the load then steps from 20% of
one web process's share of that capacity to 120% of it and back to 20% (:data:`PHASES`). The autoscaler
(cluster/autoscale.py, with cooldowns short enough for CI) runs in a thread of the drill's process beside the load
generator. Every failed request is attributed: one in flight while a web process was being drained or had just
been added, and answered by that process or by no process at all (a transport error, the balancer's own 503)
before a queue or client timeout, was caused by scaling. After the load the web tier goes back to its size before
the drill and every acknowledged cart line and order is read back, as in the other drills.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from pathlib import Path
from typing import Any

from myclothes.cluster.autoscale import TARGET_CPU, Autoscaler, Policy, PrometheusCpu
from myclothes.cluster.capacity import measure_capacity
from myclothes.cluster.criteria import judge
from myclothes.cluster.load import OPS, Load
from myclothes.cluster.manager import Cluster
from myclothes.cluster.report import load_figures, op_figures, percentile, write_report
from myclothes.cluster.shoppers import Sample

MINIMUM = 2
# (share of one web process's capacity, share of the duration) for each step of the load. Not higher: at 1.6 (0.8 of
# the measured capacity) the load generator, on the same two cores as four web processes, fell behind reading the
# answers and measured its own backlog as a 28 s p99 while the web tier answered in milliseconds.
PHASES = ((0.2, 0.15), (1.2, 0.35), (0.2, 0.5))
# A drained process counts from ``drain`` until it stopped, plus this; an added one for this long after it took
# traffic (a cold process: connection pools, caches), the web tier's request deadline.
GRACE_S = 1.0
COLD_S = 5.0
# A failure no process answered that waited this long had waited out HAProxy's queue (``timeout queue 2s``, then a
# 503) or the shopper's 3 s timeout: the tier was at capacity, which is load, not scaling. A drain that left a
# request in flight is caught by its own criterion (``in_flight_left``).
QUEUE_TIMEOUT_S = 2.0


MAXIMUM = 4  # on two cores a fifth web process adds no core, it takes CPU from the load generator
RATE_WINDOW_S = 10.0  # myclothes:web_cpu:rate10s: after the ramp, wait until the metric no longer remembers it


def spike_policy(slots: int) -> Policy:
    """Short cooldowns and a short scale-in stretch, so that a drill of about a minute sees both directions."""
    maximum = min(MAXIMUM, slots)
    return Policy(MINIMUM, maximum, TARGET_CPU, scale_out_cooldown_s=8, scale_in_cooldown_s=8, scale_in_after_s=8)


async def run_load_spike(
    cluster: Cluster, load: Load, duration: float, rate: float | None, report_dir: Path
) -> dict[str, Any]:
    """Run the drill on a prepared load (``rate``: one web process's capacity; None: measure it); the report."""
    before = len(cluster.running_web())
    policy = spike_policy(len(cluster.topology.of_kind("web")))
    await asyncio.to_thread(cluster.scale, policy.minimum)
    capacity, steps = (None, []) if rate is not None else await measure_capacity(load)
    await asyncio.sleep(RATE_WINDOW_S)
    per_process = rate if rate is not None else max(5.0, round((capacity or 0) / policy.minimum, 1))
    lines: list[str] = []
    scaler = Autoscaler(cluster, policy, PrometheusCpu(cluster.topology.prometheus_url), lines.append)
    stop = threading.Event()
    scaling = asyncio.create_task(asyncio.to_thread(scaler.run, stop))
    load.started = time.monotonic()
    load.lag_ms.clear()
    first = len(load.samples)
    running, phases = [], []
    for share, part in PHASES:
        phases.append({"at_s": round(load.now(), 2), "rps": round(share * per_process, 1), "seconds": part * duration})
        running.append(asyncio.create_task(load.run(share * per_process, part * duration)))
        await asyncio.sleep(part * duration)
    await asyncio.gather(*running)
    end_t = load.now()
    stop.set()
    await scaling
    await asyncio.to_thread(cluster.scale, before)
    await load.settle()
    lost_cart, lost_orders = await load.verify()
    samples = load.samples[first:]
    events = [_event(e, load.started) for e in scaler.events]
    caused = scaling_failures(samples, events)
    report: dict[str, Any] = {
        "drill": "load-spike",
        "fault": "load steps " + " -> ".join(f"{p['rps']}" for p in phases) + " req/s",
        "cart_store": cluster.topology.cart_store,
        "duration_s": duration,
        "capacity_rps": capacity,
        "offered_rps": round(max(share for share, _ in PHASES) * per_process, 1),
        "per_process_rps": per_process,
        **load_figures(
            samples, duration, (load.acknowledged_cart_writes, lost_cart), (load.acknowledged_orders, lost_orders)
        ),
        "scaling_failures": len(caused),
        "scaling_failed_requests": [f"{s.t:.2f} s {s.path} -> {s.status} {s.served_by}" for s in caused][:20],
        "p99_ms": round(percentile([s.latency_ms for s in samples], 0.99), 1),
        "policy": vars(policy),
        "phases": phases,
        "scale_events": events,
        "web_count": web_count(policy.minimum, events, end_t),
        "fault_at_s": phases[1]["at_s"],
        "heal_at_s": phases[-1]["at_s"],
        "generator_lag_p99_ms": round(percentile(load.lag_ms, 0.99), 1),
        "capacity_steps": steps,
        "autoscaler_log": lines,
        "lost_carts": sorted({email for email, _ in load.lost_cart_lines}),
        "ops": {op: op_figures([s for s in samples if s.op == op], None, (0.0, end_t)) for op in OPS},
    }
    report["passed"], report["criteria"] = judge(report)
    write_report(report, samples, OPS, report_dir)
    return report


def _event(event: dict[str, Any], started: float) -> dict[str, Any]:
    """One scaling as the report gives it: seconds since the load started."""
    changes = [
        {**c, "began": round(c["began"] - started, 2), "ended": round(c["ended"] - started, 2)}
        for c in event["changes"]
    ]
    at = min((c["began"] for c in changes), default=0.0)
    return {
        "at_s": at,
        "action": event["action"],
        "from": event["current"],
        "to": event["count"],
        "metric": round(event["metric"] or 0.0, 3),
        "reason": event["reason"],
        "changes": changes,
    }


def scaling_failures(samples: list[Sample], events: list[dict[str, Any]]) -> list[Sample]:
    """Failed requests in flight while a process was drained or just added, answered by that process, or by no
    process and sooner than a queue or client timeout."""
    windows = []
    for event in events:
        for change in event["changes"]:
            if change["action"] == "drained":
                windows.append((change["name"], change["began"], change["ended"] + GRACE_S))
            else:
                windows.append((change["name"], change["ended"], change["ended"] + COLD_S))
    return [
        s
        for s in samples
        if not s.ok
        and any(
            (s.served_by == name or (not s.served_by and s.latency_ms < QUEUE_TIMEOUT_S * 1000))
            and s.t <= until
            and s.t + s.latency_ms / 1000 >= since
            for name, since, until in windows
        )
    ]


def web_count(start: int, events: list[dict[str, Any]], end_t: float) -> list[list[float]]:
    """``[seconds, web processes taking traffic]`` at each change: an added one from ``ready``, a drained one from
    ``drain``."""
    steps = sorted(
        (c["ended"], 1) if c["action"] == "added" else (c["began"], -1) for e in events for c in e["changes"]
    )
    points, count = [[0.0, float(start)]], start
    for t, delta in steps:
        count += delta
        points.append([max(0.0, t), float(count)])
    points.append([math.ceil(end_t), float(count)])
    return points
