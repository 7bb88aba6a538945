"""The autoscaler's target-tracking policy on a fake clock and fake metric readings, and the load-spike drill's
arithmetic (nothing is started)."""

from __future__ import annotations

import json
import threading

import pytest
from tests.unit.fakes import ManualClock

from myclothes.cluster.autoscale import Autoscaler, Policy, TargetTracking
from myclothes.cluster.criteria import judge
from myclothes.cluster.operations import SlotChange
from myclothes.cluster.shoppers import Sample
from myclothes.cluster.spike import scaling_failures, web_count


def tracking(**policy: float) -> tuple[TargetTracking, ManualClock]:
    settings = {"scale_out_cooldown_s": 30.0, "scale_in_cooldown_s": 60.0, "scale_in_after_s": 20.0, **policy}
    clock = ManualClock()
    return TargetTracking(Policy(2, 6, 0.25, **settings), clock), clock


def test_scale_out_asks_for_current_times_metric_over_target_rounded_up() -> None:
    controller, _ = tracking()
    decision = controller.decide(2, 0.4)  # 2 x 0.4 / 0.25 = 3.2
    assert (decision.action, decision.desired, decision.count) == ("out", 4, 4)


def test_desired_is_clamped_to_the_maximum_and_the_minimum() -> None:
    controller, clock = tracking(scale_in_after_s=0, scale_in_cooldown_s=0)
    assert controller.decide(2, 5.0).count == 6
    clock.now += 100
    decision = controller.decide(3, 0.0)
    assert (decision.action, decision.count) == ("in", 2)


def test_a_count_outside_the_bounds_is_corrected_at_once_even_without_a_metric() -> None:
    controller, _ = tracking()
    assert controller.decide(1, None).count == 2
    assert controller.decide(7, 0.1).count == 6
    assert controller.decide(3, None).action == "hold"


def test_a_second_scale_out_waits_for_the_scale_out_cooldown() -> None:
    controller, clock = tracking(scale_out_cooldown_s=30)
    assert controller.decide(2, 0.5).action == "out"
    clock.now += 10
    held = controller.decide(4, 0.5)
    assert held.action == "hold" and "scale-out cooldown" in held.reason and held.desired == 6
    clock.now += 20
    assert controller.decide(4, 0.5).count == 6


def test_exactly_at_target_holds() -> None:
    controller, _ = tracking()
    decision = controller.decide(4, 0.25)
    assert (decision.action, decision.desired, decision.reason) == ("hold", 4, "at target")


def test_scale_in_needs_the_metric_below_target_for_the_whole_stretch() -> None:
    controller, clock = tracking(scale_in_after_s=20, scale_in_cooldown_s=0)
    for _ in range(19):
        assert controller.decide(4, 0.1).action == "hold"
        clock.now += 1
    controller.decide(4, 0.3)  # one reading above target breaks the stretch
    clock.now += 1
    for _ in range(20):
        assert controller.decide(4, 0.1).action == "hold"
        clock.now += 1
    decision = controller.decide(4, 0.1)
    assert (decision.action, decision.count) == ("in", 2)


def test_scale_in_goes_only_as_far_as_the_most_processes_wanted_during_the_stretch() -> None:
    controller, clock = tracking(scale_in_after_s=10, scale_in_cooldown_s=0)
    for metric in (0.05, 0.2, 0.05):  # wants 2 (5 x 0.05 / 0.25 = 1, clamped), then 4, then 2
        controller.decide(5, metric)
        clock.now += 4
    decision = controller.decide(5, 0.05)
    assert (decision.action, decision.count) == ("in", 4)  # 5 x 0.2 / 0.25 = 4 was wanted once


def test_scale_in_waits_for_the_scale_in_cooldown_after_a_scale_out() -> None:
    controller, clock = tracking(scale_in_after_s=5, scale_in_cooldown_s=60)
    assert controller.decide(2, 0.5).action == "out"
    clock.now += 1
    for _ in range(58):
        decision = controller.decide(4, 0.05)
        assert decision.action == "hold"
        clock.now += 1
    assert "scale-in cooldown" in decision.reason
    clock.now += 1
    assert controller.decide(4, 0.05).count == 2


def test_no_metric_holds_and_restarts_the_scale_in_stretch() -> None:
    controller, clock = tracking(scale_in_after_s=10, scale_in_cooldown_s=0)
    controller.decide(4, 0.05)
    clock.now += 9
    assert controller.decide(4, None).action == "hold"
    clock.now += 2
    assert controller.decide(4, 0.05).action == "hold"  # the stretch began again


def test_the_policy_refuses_impossible_bounds() -> None:
    with pytest.raises(ValueError):
        Policy(3, 2, 0.25)
    with pytest.raises(ValueError):
        Policy(0, 2, 0.25)
    with pytest.raises(ValueError):
        Policy(1, 2, 0.0)


class FakeCluster:
    """A web tier that is only a count; ``scale`` records what it was asked."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked: list[int] = []

    def running_web(self) -> list[str]:
        return [f"web-{i + 1}" for i in range(self.count)]

    def scale(self, count: int) -> list[SlotChange]:
        self.asked.append(count)
        changes = [SlotChange(f"web-{i + 1}", "added", 1.0, 2.0) for i in range(self.count, count)]
        self.count = count
        return changes


class Readings:
    """Metric readings in turn; sets ``stop`` when they run out."""

    def __init__(self, stop: threading.Event, *values: float | None) -> None:
        self.stop, self.values = stop, list(values)
        self.seen: list[list[str]] = []

    def read(self, instances: list[str]) -> float | None:
        self.seen.append(instances)
        if len(self.values) == 1:
            self.stop.set()
        return self.values.pop(0)


def test_the_autoscaler_scales_the_cluster_and_logs_each_decision_as_one_json_line() -> None:
    stop = threading.Event()
    cluster, lines = FakeCluster(2), list[str]()
    readings = Readings(stop, 0.5, 0.2, None)
    policy = Policy(2, 6, 0.25, scale_out_cooldown_s=0, scale_in_cooldown_s=0, scale_in_after_s=0)
    scaler = Autoscaler(cluster, policy, readings, lines.append, interval_s=0)
    scaler.run(stop)
    assert cluster.asked == [4]  # 0.2 x 4 / 0.25 = 3.2 wants 4: hold; no metric: hold
    assert readings.seen[1] == ["web-1", "web-2", "web-3", "web-4"]
    logged = [json.loads(line) for line in lines]
    assert [line["action"] for line in logged] == ["out", "hold", "hold"]
    assert logged[0]["changes"] == ["added web-3 in 1.0 s", "added web-4 in 1.0 s"]
    assert scaler.events[0]["count"] == 4 and scaler.events[0]["changes"][0]["name"] == "web-3"


EVENTS = [
    {
        "action": "out",
        "at_s": 10.0,
        "from": 2,
        "to": 3,
        "changes": [{"name": "web-3", "action": "added", "began": 10.0, "ended": 12.0}],
    },
    {
        "action": "in",
        "at_s": 40.0,
        "from": 3,
        "to": 2,
        "changes": [{"name": "web-3", "action": "drained", "began": 40.0, "ended": 41.0}],
    },
]


def test_a_failure_is_blamed_on_scaling_only_if_in_flight_then_and_answered_by_that_process_or_none() -> None:
    blamed = [
        Sample(13.0, "browse", 502, 20, served_by="web-3"),  # the process just added, while cold
        Sample(39.9, "browse", 0, 150),  # a transport error (a reset) still in flight when the drain began
        Sample(41.5, "cart-read", 503, 10),  # the balancer's own 503 within a second of the stop
    ]
    spared = [
        Sample(11.0, "browse", 0, 100),  # before web-3 took traffic
        Sample(13.0, "browse", 503, 20, served_by="web-1"),  # another process's answer
        Sample(40.2, "browse", 503, 2001),  # waited out the balancer's queue: the tier was at capacity
        Sample(20.0, "browse", 0, 100),  # no scaling going on
        Sample(40.5, "browse", 200, 5, served_by="web-3"),  # not a failure
    ]
    assert scaling_failures([*blamed, *spared], EVENTS) == blamed


def test_the_web_count_steps_up_when_an_added_process_is_ready_and_down_when_draining_begins() -> None:
    assert web_count(2, EVENTS, 59.2) == [[0.0, 2.0], [12.0, 3.0], [40.0, 2.0], [60, 2.0]]


def test_load_spike_passes_only_with_a_scale_out_a_scale_in_and_no_failure_from_scaling() -> None:
    report = {
        "drill": "load-spike",
        "cart_store": "redis",
        "scale_events": EVENTS,
        "scaling_failures": 0,
        "server_errors_500": 0,
        "lost_cart_writes": 0,
        "lost_orders": 0,
        "acknowledged_cart_writes": 10,
        "acknowledged_orders": 2,
    }
    passed, criteria = judge(report)
    assert passed and "PASS: at least one scale-in (3->2 at 40.0 s)" in criteria
    assert not judge({**report, "scaling_failures": 1})[0]
    assert not judge({**report, "scale_events": EVENTS[:1]})[0]
    cut = [EVENTS[0], {**EVENTS[1], "changes": [{**EVENTS[1]["changes"][0], "in_flight_left": 1}]}]
    assert not judge({**report, "scale_events": cut})[0]
