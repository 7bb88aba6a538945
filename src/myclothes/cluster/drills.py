"""Failure drills: open-loop shopper load through the load balancer, one injected fault, a heal, a full read-back.

Every drill first measures what the cluster can carry (``--rate auto``: a short ramp) and then offers half of it,
injects its fault a quarter of the way in, heals after the load, retries every checkout whose outcome was unknown,
and reads every acknowledged cart line and order back. The same service-level criteria apply to every drill.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myclothes.cluster.load import OPS, Load, measure_capacity
from myclothes.cluster.manager import Cluster, http_ok, wait_until
from myclothes.cluster.report import error_window_s, fault_window, op_figures, recovery_s, write_report

FAULT_DRILLS = ("web-kill", "redis-failover", "pg-failover", "zone-outage")
DRILLS = (*FAULT_DRILLS, "soak")
FAULT_AT = 0.25  # share of the load's duration before the fault


@dataclass
class Fault:
    description: str
    to_heal: list[str]
    pg_failovers: int  # how many PostgreSQL leader changes the fault should cause
    redis_failovers: int


class Watch:
    """Polls the data tier during the drill: primaries at once (split brain) and leader changes (failovers)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.max_primaries = 0
        self.pg_failovers = 0
        self.redis_failovers = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        leaders: list[Any] = [None, None]  # [confirmed, candidate]
        redis: list[Any] = [None, None]
        while not self._stop.is_set():
            primaries = await asyncio.to_thread(self.cluster.primaries)
            self.max_primaries = max(self.max_primaries, len(primaries))
            leader = primaries[0] if len(primaries) == 1 else None
            port = await asyncio.to_thread(self.cluster.redis_primary_port)
            self.pg_failovers += _changed(leaders, leader)
            self.redis_failovers += _changed(redis, port)
            await asyncio.sleep(0.3)

    def stop(self) -> None:
        self._stop.set()


def _changed(state: list[Any], seen: Any) -> int:
    """Count a new value once it was seen twice in a row (a poll that caught a moment of transition is noise)."""
    confirmed, candidate = state
    if seen is None or seen == confirmed:
        state[1] = None
        return 0
    if seen != candidate:
        state[1] = seen
        return 0
    state[0], state[1] = seen, None
    return 0 if confirmed is None else 1


def _inject(cluster: Cluster, drill: str, zone: str | None) -> Fault:
    """Inject the drill's fault."""
    t = cluster.topology
    if drill == "web-kill":
        web = next(n for n in t.of_kind("web") if n.enabled)
        cluster.kill(web.name)
        return Fault(f"SIGKILL {web.name} (supervisord restarts it)", [], 0, 0)
    if drill == "redis-failover":
        port = cluster.redis_primary_port()
        node = next(n for n in t.of_kind("redis") if n.port == port)
        cluster.kill(node.name)
        return Fault(f"SIGKILL Redis primary {node.name}", [node.name], 0, 1)
    if drill == "pg-failover":
        leader = cluster.pg_leader()
        assert leader is not None, "no PostgreSQL leader"
        cluster.kill(leader.name)
        return Fault(f"SIGKILL Patroni and postmaster of leader {leader.name}", [leader.name], 1, 0)
    leader = cluster.pg_leader()
    zone = zone or (leader.zone if leader else t.zones[0])
    redis_port = cluster.redis_primary_port()
    redis_zone = next((n.zone for n in t.of_kind("redis") if n.port == redis_port), None)
    to_heal = cluster.fail_zone(zone)
    return Fault(
        f"zone {zone} down (every process in it SIGKILLed)",
        to_heal,
        int(leader is not None and leader.zone == zone),
        int(redis_zone == zone),
    )


def run_drill(
    cluster: Cluster, drill: str, zone: str | None, duration: float, rate: float | None, report_dir: Path
) -> dict[str, Any]:
    """Run one drill end to end (``rate`` None: measure the capacity and offer half); write and return the report."""
    return asyncio.run(_run(cluster, drill, zone, duration, rate, report_dir))


async def _run(
    cluster: Cluster, drill: str, zone: str | None, duration: float, rate: float | None, report_dir: Path
) -> dict[str, Any]:
    lb = cluster.topology.lb_url
    await asyncio.to_thread(wait_until, lambda: http_ok(f"{lb}/readyz"), 60, "the store behind the load balancer")
    admin = (f"drill-admin-{uuid.uuid4().hex[:8]}@example.com", secrets.token_urlsafe(18))
    await asyncio.to_thread(cluster.app_command, "admin", "create-user", admin[0], stdin=admin[1] + "\n")
    load = Load(lb)
    try:
        await load.setup(admin)
        capacity, steps = (None, []) if rate is not None else await measure_capacity(load)
        offered = rate if rate is not None else max(10.0, round(0.5 * (capacity or 0), 1))
        watch = Watch(cluster)
        watching = asyncio.create_task(watch.run())
        load.started = time.monotonic()
        running = asyncio.create_task(load.run(offered, duration))
        fault: Fault | None = None
        fault_t = None
        if drill != "soak":
            await asyncio.sleep(duration * FAULT_AT)
            fault_t = load.now()
            fault = await asyncio.to_thread(_inject, cluster, drill, zone)
        samples = await running
        end_t = load.now()
        heal_t = None
        if fault and fault.to_heal:
            heal_t = load.now()
            await asyncio.to_thread(cluster.heal)
        await asyncio.to_thread(wait_until, lambda: http_ok(f"{lb}/readyz"), 60, "the store after healing")
        await load.settle()
        lost_cart, lost_orders = await load.verify()
        watch.stop()
        await watching
    finally:
        await load.close()
    window = fault_window(samples, fault_t, end_t)
    report: dict[str, Any] = {
        "drill": drill,
        "fault": fault.description if fault else "none (soak)",
        "cart_store": cluster.topology.cart_store,
        "duration_s": duration,
        "capacity_rps": capacity,
        "offered_rps": offered,
        "sent_rps": round(len(samples) / duration, 1),
        "requests": len(samples),
        "acknowledged_cart_writes": load.acknowledged_cart_writes,
        "lost_cart_writes": lost_cart,
        "acknowledged_orders": load.acknowledged_orders,
        "lost_orders": lost_orders,
        "errors": sum(1 for s in samples if not s.ok),
        "server_errors_500": sum(1 for s in samples if s.status == 500),
        "error_window_s": error_window_s([s for s in samples if window[0] <= s.t <= window[1]]),
        "recovery_s": recovery_s(samples, fault_t) if fault_t is not None else 0.0,
        "max_primaries": watch.max_primaries,
        "pg_failovers": watch.pg_failovers,
        "redis_failovers": watch.redis_failovers,
        "expected_failovers": {"pg": fault.pg_failovers, "redis": fault.redis_failovers} if fault else None,
        "fault_at_s": round(fault_t, 2) if fault_t is not None else None,
        "heal_at_s": round(heal_t, 2) if heal_t is not None else None,
        "window_s": [round(window[0], 2), round(window[1], 2)],
        "generator_skipped": load.skipped,
        "capacity_steps": steps,
        "lost_carts": sorted({email for email, _ in load.lost_cart_lines}),
        "ops": {op: op_figures([s for s in samples if s.op == op], fault_t, window) for op in OPS},
    }
    report["passed"], report["criteria"] = judge(report)
    write_report(report, samples, OPS, report_dir)
    return report


def judge(r: dict[str, Any]) -> tuple[bool, list[str]]:
    """The service-level criteria every drill is held to; (passed, each criterion with its outcome)."""
    ops = r["ops"]
    browse = ops["browse"]
    checks: list[tuple[str, bool]] = [
        (f"browse availability {browse['availability']:.2%} >= 99.5%", browse["availability"] >= 0.995),
        (f"browse p99 {browse['p99_ms']:.0f} ms <= 1000 ms", browse["p99_ms"] <= 1000),
    ]
    for op in ("cart-read", "cart-write"):
        checks.append((f"{op} error window {ops[op]['error_window_s']} s <= 3 s", ops[op]["error_window_s"] <= 3))
    checkout = ops["checkout"]
    checks.append((f"checkout error window {checkout['error_window_s']} s <= 12 s", checkout["error_window_s"] <= 12))
    checks.append((f"no 500 answers ({r['server_errors_500']})", r["server_errors_500"] == 0))
    if r["cart_store"] == "memory" and r["drill"] == "web-kill":
        checks.append((f"memory cart store: {r['lost_cart_writes']} cart lines lost (reported, expected)", True))
    else:
        checks.append((f"0 acknowledged cart writes lost ({r['lost_cart_writes']})", r["lost_cart_writes"] == 0))
    checks.append((f"0 acknowledged orders lost ({r['lost_orders']})", r["lost_orders"] == 0))
    checks.append((f"never two primaries (max {r['max_primaries']})", r["max_primaries"] <= 1))
    expected = r["expected_failovers"] or {"pg": 0, "redis": 0}
    checks.append(
        (
            f"no spurious failover (PostgreSQL {r['pg_failovers']} <= {expected['pg']},"
            f" Redis {r['redis_failovers']} <= {expected['redis']})",
            r["pg_failovers"] <= expected["pg"] and r["redis_failovers"] <= expected["redis"],
        )
    )
    checks.append(
        (
            f"acknowledged work to verify ({r['acknowledged_cart_writes']} cart writes, "
            f"{r['acknowledged_orders']} orders)",
            r["acknowledged_cart_writes"] > 0,
        )
    )
    return all(ok for _, ok in checks), [f"{'PASS' if ok else 'FAIL'}: {text}" for text, ok in checks]
