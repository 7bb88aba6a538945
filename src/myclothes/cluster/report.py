"""Drill figures and reports: per-operation availability, latency and error windows; report.json, report.md, a PNG."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

SYSTEM_PYTHON = "/usr/bin/python3"
SETTLE_S = 5.0  # the fault window runs from the fault until recovery, plus this


class SampleLike(Protocol):
    t: float
    op: str
    status: int
    latency_ms: float
    path: str
    served_by: str

    @property
    def ok(self) -> bool: ...


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def recovery_s(samples: Sequence[SampleLike], fault_t: float) -> float:
    """Seconds from the fault until the first success after the last failure (0 if nothing failed)."""
    after = [s for s in samples if s.t >= fault_t]
    failures = [s.t for s in after if not s.ok]
    if not failures:
        return 0.0
    last = max(failures)
    later = [s.t for s in after if s.ok and s.t > last]
    return round(min(later) - fault_t, 2) if later else math.inf


def error_window_s(samples: Sequence[SampleLike]) -> float:
    """Seconds between the first and the last failed request (by when they were sent)."""
    failures = [s.t for s in samples if not s.ok]
    return round(max(failures) - min(failures), 2) if len(failures) > 1 else 0.0


def fault_window(samples: Sequence[SampleLike], fault_t: float | None, end_t: float) -> tuple[float, float]:
    """The stretch the per-operation figures cover: the fault until every operation recovered, plus 5 s."""
    if fault_t is None:
        return 0.0, end_t
    recovered = max(
        (recovery_s([s for s in samples if s.op == op], fault_t) for op in {s.op for s in samples}), default=0.0
    )
    if math.isinf(recovered):
        return fault_t, end_t
    return fault_t, min(end_t, fault_t + recovered + SETTLE_S)


def op_figures(samples: Sequence[SampleLike], fault_t: float | None, window: tuple[float, float]) -> dict[str, Any]:
    """One operation class's figures over the window (recovery counted from the fault)."""
    inside = [s for s in samples if window[0] <= s.t <= window[1]]
    ok = sum(1 for s in inside if s.ok)
    statuses: dict[str, int] = {}
    for s in inside:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    latencies = [s.latency_ms for s in inside]
    return {
        "sent": len(inside),
        "ok": ok,
        "availability": round(ok / len(inside), 5) if inside else 1.0,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "error_window_s": error_window_s(inside),
        "recovery_s": recovery_s(samples, fault_t) if fault_t is not None else 0.0,
        "statuses": dict(sorted(statuses.items())),
    }


def load_figures(
    samples: Sequence[SampleLike], duration: float, cart_writes: tuple[int, int], orders: tuple[int, int]
) -> dict[str, Any]:
    """What every drill reports of its load: sent, failed, and acknowledged then lost (``(acknowledged, lost)``)."""
    return {
        "sent_rps": round(len(samples) / duration, 1),
        "requests": len(samples),
        "acknowledged_cart_writes": cart_writes[0],
        "lost_cart_writes": cart_writes[1],
        "acknowledged_orders": orders[0],
        "lost_orders": orders[1],
        "errors": sum(1 for s in samples if not s.ok),
        "server_errors_500": sum(1 for s in samples if s.status == 500),
    }


def per_second(samples: Sequence[SampleLike], ops: Sequence[str]) -> dict[str, Any]:
    """For each second and operation: success ratio (None without requests) and p99 latency."""
    last = int(max((s.t for s in samples), default=0)) + 1
    buckets: dict[str, list[list[SampleLike]]] = {op: [[] for _ in range(last)] for op in ops}
    for s in samples:
        if s.op in buckets:
            buckets[s.op][int(s.t)].append(s)
    return {
        "seconds": list(range(last)),
        "success": {op: [sum(x.ok for x in b) / len(b) if b else None for b in rows] for op, rows in buckets.items()},
        "p99": {
            op: [percentile([x.latency_ms for x in b], 0.99) if b else None for b in rows]
            for op, rows in buckets.items()
        },
        "sent": [sum(len(rows[i]) for rows in buckets.values()) for i in range(last)],
    }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_report(report: dict[str, Any], samples: Sequence[SampleLike], ops: Sequence[str], directory: Path) -> None:
    """Write report.json, report.md, samples.csv (every request) and throughput.png into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "samples.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["t_s", "op", "status", "latency_ms", "request", "served_by"])
        writer.writerows([f"{s.t:.3f}", s.op, s.status, f"{s.latency_ms:.1f}", s.path, s.served_by] for s in samples)
    clean = _clean(report)
    (directory / "report.json").write_text(json.dumps(clean, indent=2))
    skip = ("criteria", "lost_carts", "ops", "capacity_steps", "passed")
    fields = [k for k in clean if k not in skip]
    fault = f"{report['fault']} at {report['fault_at_s']} s" if report.get("fault_at_s") is not None else "none"
    lines = [
        f"# Drill `{report['drill']}`: {'PASSED' if report['passed'] else 'FAILED'}",
        "",
        f"Fault: {fault}; healed at {report['heal_at_s']} s. Capacity {report['capacity_rps']} req/s, "
        f"offered {report['offered_rps']} req/s.",
        "",
        "## Per operation, over the fault window",
        "",
        "| operation | sent | ok | availability | p50 ms | p99 ms | error window s | recovery s | answers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for op, f in clean["ops"].items():
        answers = " ".join(f"{k}:{v}" for k, v in f["statuses"].items())
        lines.append(
            f"| {op} | {f['sent']} | {f['ok']} | {f['availability']:.2%} | {f['p50_ms']} | {f['p99_ms']} |"
            f" {f['error_window_s']} | {f['recovery_s']} | {answers} |"
        )
    lines += [
        "",
        "## Criteria",
        *(f"- {c}" for c in report["criteria"]),
        "",
        "## Figures",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {json.dumps(clean[k])} |" for k in fields),
        "",
        "![success rate and p99 per operation](throughput.png)",
        "",
    ]
    if report.get("scale_events") is not None:
        lines += ["## Scaling", "", "| at s | action | web | metric | slots | why |", "|---|---|---|---|---|---|"]
        for e in report["scale_events"]:
            slots = ", ".join(f"{c['action']} {c['name']} {c['began']}-{c['ended']} s" for c in e["changes"])
            lines.append(
                f"| {e['at_s']} | {e['action']} | {e['from']} -> {e['to']} | {e['metric']} | {slots} | {e['reason']} |"
            )
        lines.append("")
    if report["lost_carts"]:
        lines += ["## Carts that lost acknowledged lines", *(f"- {email}" for email in report["lost_carts"]), ""]
    (directory / "report.md").write_text("\n".join(lines))
    _plot(report, samples, ops, directory / "throughput.png")


PLOT_SCRIPT = """
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
data = json.load(sys.stdin)
web = data["web_count"]
rows = 3 if web else 2
figure, axes_list = plt.subplots(rows, 1, figsize=(9, 3 * rows), sharex=True)
top, bottom = axes_list[0], axes_list[1]
for op in data["ops"]:
    top.plot(data["seconds"], [None if v is None else 100 * v for v in data["success"][op]], label=op)
    bottom.plot(data["seconds"], data["p99"][op], label=op)
for axes in axes_list:
    if data["fault"] is not None:
        axes.axvline(data["fault"], color="black", linestyle="--", label=data["marks"][0])
    if data["heal"] is not None:
        axes.axvline(data["heal"], color="tab:blue", linestyle=":", label=data["marks"][1])
if web:
    counts = axes_list[2]
    counts.step([t for t, _ in web], [n for _, n in web], where="post", color="tab:red", label="web processes")
    counts.set_ylabel("web processes")
    counts.set_ylim(0, max(n for _, n in web) + 1)
    sent = counts.twinx()
    sent.plot(data["seconds"], data["sent"], color="tab:gray", alpha=0.6, label="requests sent per s")
    sent.set_ylabel("requests sent per s")
    counts.legend(loc="upper left", fontsize="small")
    sent.legend(loc="upper right", fontsize="small")
top.set_ylabel("success %")
top.set_ylim(-5, 105)
top.set_title(data["title"])
top.legend(loc="lower left", fontsize="small", ncol=4)
bottom.set_ylabel("p99 latency (ms)")
bottom.set_yscale("log")
axes_list[-1].set_xlabel("seconds since the load started (per second of sending)")
figure.tight_layout()
figure.savefig(data["path"], dpi=90)
"""


def _plot(report: dict[str, Any], samples: Sequence[SampleLike], ops: Sequence[str], path: Path) -> None:
    """Draw the PNG with the system Python's matplotlib (Debian python3-matplotlib), outside the app's venv."""
    series = per_second(samples, ops)
    data = {
        **series,
        "ops": list(ops),
        "fault": report.get("fault_at_s"),
        "heal": report.get("heal_at_s"),
        "marks": ["load up", "load down"] if "web_count" in report else ["fault", "heal"],
        "web_count": report.get("web_count"),
        "title": f"drill {report['drill']} at {report['offered_rps']} req/s"
        f" ({'passed' if report['passed'] else 'FAILED'})",
        "path": str(path),
    }
    subprocess.run([SYSTEM_PYTHON, "-c", PLOT_SCRIPT], input=json.dumps(data), text=True, check=True)
