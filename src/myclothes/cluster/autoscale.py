"""Auto scaling of the web tier like an ASG target-tracking policy, reading the cluster's Prometheus.

The metric is the web tier's CPU: ``myclothes:web_cpu:rate10s`` (CPU seconds per second of each web process over
10 s) summed over the running processes, divided by how many run. The desired count is
``ceil(current * metric / target)``, clamped to ``[minimum, maximum]``; a scale-out waits ``scale_out_cooldown_s``
after the last one; a scale-in needs the desired count below the current one for ``scale_in_after_s`` without a
break, waits ``scale_in_cooldown_s`` after any change, and goes only as far down as the highest count wanted
during that stretch (Kubernetes' HPA calls it the stabilisation window). docs/cluster.md says why CPU.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import httpx

from myclothes.cluster.operations import SlotChange
from myclothes.processes import PROBE

# CPU cores per web process: about three times an idle process's (0.035-0.045: health checks, scrapes), reached at
# about half of what two processes carry on two cores (docs/cluster.md, *Auto scaling*, has the measurements).
TARGET_CPU = 0.12


@dataclass(frozen=True)
class Policy:
    """What the controller keeps: ``target`` CPU cores per web process, between ``minimum`` and ``maximum``."""

    minimum: int
    maximum: int
    target: float
    scale_out_cooldown_s: float = 30.0
    scale_in_cooldown_s: float = 60.0
    scale_in_after_s: float = 60.0  # the metric must stay below target this long before a scale-in

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum:
            raise ValueError(f"need 1 <= min <= max (min {self.minimum}, max {self.maximum})")
        if self.target <= 0:
            raise ValueError("the target must be positive")


@dataclass(frozen=True)
class Decision:
    """One evaluation: the metric per process, the count wanted (clamped), and what the controller does."""

    at: float  # the controller's clock
    current: int
    metric: float | None
    desired: int
    action: str  # "out", "in" or "hold"
    reason: str

    @property
    def count(self) -> int:
        """The count to run after this decision."""
        return self.current if self.action == "hold" else self.desired


class TargetTracking:
    """The decision logic alone: give it the current count and the metric, it says what to run (no I/O)."""

    def __init__(self, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.last_out: float | None = None
        self.last_change: float | None = None
        self.below_since: float | None = None  # start of the current stretch of wanting fewer processes
        self.highest_below = 0  # the most processes wanted during that stretch

    def _since(self, moment: float | None, now: float) -> float:
        return math.inf if moment is None else now - moment

    def decide(self, current: int, metric: float | None) -> Decision:
        """Evaluate once; a decision to scale starts the cooldowns (the caller carries it out)."""
        p, now = self.policy, self.clock()
        bounded = min(max(current, p.minimum), p.maximum)
        if bounded != current:  # first bring the count within the bounds, whatever the metric says
            action = "out" if bounded > current else "in"
            return self._done(Decision(now, current, metric, bounded, action, f"outside [{p.minimum}, {p.maximum}]"))
        if metric is None:
            self.below_since = None
            return Decision(now, current, None, current, "hold", "no metric")
        wanted = math.ceil(round(current * metric / p.target, 6))  # round: 2 x 0.3 / 0.2 is 3.0000000000000004
        desired = min(max(wanted, p.minimum), p.maximum)
        if desired > current:
            self.below_since = None
            wait = p.scale_out_cooldown_s - self._since(self.last_out, now)
            if wait > 0:
                return Decision(now, current, metric, desired, "hold", f"scale-out cooldown, {wait:.0f} s left")
            return self._done(Decision(now, current, metric, desired, "out", f"above target ({wanted} wanted)"))
        if desired == current:
            self.below_since = None
            reason = "at target" if wanted == desired else f"{wanted} wanted, within [{p.minimum}, {p.maximum}]"
            return Decision(now, current, metric, desired, "hold", reason)
        if self.below_since is None:
            self.below_since, self.highest_below = now, desired
        self.highest_below = max(self.highest_below, desired)
        below = now - self.below_since
        if below < p.scale_in_after_s:
            return Decision(now, current, metric, desired, "hold", f"below target for {below:.0f} s")
        wait = p.scale_in_cooldown_s - self._since(self.last_change, now)
        if wait > 0:
            return Decision(now, current, metric, desired, "hold", f"scale-in cooldown, {wait:.0f} s left")
        stretch = f"below target for {below:.0f} s, at most {self.highest_below} wanted"
        return self._done(Decision(now, current, metric, self.highest_below, "in", stretch))

    def _done(self, decision: Decision) -> Decision:
        if decision.action != "hold":
            self.last_change = decision.at
            self.below_since = None
            if decision.action == "out":
                self.last_out = decision.at
        return decision


class MetricSource(Protocol):
    def read(self, instances: list[str]) -> float | None:
        """The metric per process over ``instances`` (the running web processes); None if unknown."""


@dataclass
class PrometheusCpu:
    """CPU cores per web process from the cluster's Prometheus (the recording rule ``myclothes:web_cpu:rate10s``)."""

    url: str
    timeout: float = 1.0

    def read(self, instances: list[str]) -> float | None:
        if not instances:
            return None
        selector = "|".join(instances)
        query = f'sum(myclothes:web_cpu:rate10s{{instance=~"{selector}"}})'
        try:
            answer = PROBE.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=self.timeout).json()
        except (httpx.HTTPError, ValueError):
            return None
        result = answer.get("data", {}).get("result", [])
        return float(result[0]["value"][1]) / len(instances) if result else None


class Scaler(Protocol):
    """What the autoscaler needs of the cluster (``cluster.manager.Cluster``)."""

    def scale(self, count: int) -> list[SlotChange]: ...

    def running_web(self) -> list[str]: ...


@dataclass
class Autoscaler:
    """Evaluate the policy every ``interval_s`` and scale the cluster's web tier; each decision is one log line."""

    cluster: Scaler
    policy: Policy
    source: MetricSource
    log: Callable[[str], None] = print
    interval_s: float = 1.0
    events: list[dict[str, Any]] = field(default_factory=list)  # each scaling: the decision and the slots changed

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set (Ctrl-C, SIGTERM, the end of a drill)."""
        controller = TargetTracking(self.policy)
        while not stop.is_set():
            running = self.cluster.running_web()
            decision = controller.decide(len(running), self.source.read(running))
            metric = None if decision.metric is None else round(decision.metric, 3)
            line: dict[str, Any] = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "event": "autoscale",
                "action": decision.action,
                "web": decision.current,
                "desired": decision.desired,
                "cpu_per_process": metric,
                "target": self.policy.target,
                "reason": decision.reason,
            }
            if decision.action != "hold":
                try:
                    changes = self.cluster.scale(decision.count)
                except (RuntimeError, OSError) as error:  # a process that would not start: try again next time
                    line["error"] = str(error).splitlines()[0]
                else:
                    changed = [asdict(c) for c in changes]
                    self.events.append({**asdict(decision), "count": decision.count, "changes": changed})
                    line["changes"] = [f"{c.action} {c.name} in {c.ended - c.began:.1f} s" for c in changes]
            self.log(json.dumps(line))
            stop.wait(self.interval_s)
