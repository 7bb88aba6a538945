"""The `myclothes cluster ...` and `myclothes drill ...` commands."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from myclothes.cluster.autoscale import TARGET_CPU, Autoscaler, Policy, PrometheusCpu
from myclothes.cluster.dashboard import DEFAULT_PORT, serve
from myclothes.cluster.drills import DRILLS, run_drill
from myclothes.cluster.manager import Cluster

DEFAULT_DIR = "var/cluster"


def _table(status: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = [
        ("NODE", "KIND", "ZONE", "ROLE", "PID", "ADDRESS", "PORT", "NETNS", "HEALTHY", "LAG")
    ]
    for n in status["nodes"]:
        lag = "" if n["lag"] is None else str(n["lag"])
        cells = (n["name"], n["kind"], n["zone"], n["role"], n["pid"], n["address"], n["port"], n["netns"] or "-")
        rows.append((*map(str, cells), str(n["healthy"]), lag))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    urls = f"load balancer: {status['lb_url']}\nprometheus: {status['prometheus_url']}\n"
    return urls + "\n".join(lines)


def cmd_cluster(args: argparse.Namespace) -> int:
    """Dispatch one `cluster` action."""
    directory = Path(args.dir)
    action = args.cluster_command
    if action == "up":
        cluster = Cluster.up(directory, args.zones, args.web_per_zone, args.cart_store, args.isolate)
        print(_table(cluster.status()))
        return 0
    if action == "dashboard":
        serve(directory.resolve(), args.port)
        return 0
    cluster = Cluster.open(directory)
    if action == "status":
        status = cluster.status()
        print(json.dumps(status, indent=2) if args.json else _table(status))
    elif action == "down":
        cluster.down()
        print("cluster stopped: no process, no listening port left")
    elif action == "kill":
        print(f"killed {args.node}: pids {cluster.kill(args.node)}")
    elif action == "start":
        cluster.start(args.node)
        print(f"{args.node} is ready")
    elif action == "fail-zone":
        print(f"zone {args.zone} is down: {', '.join(cluster.fail_zone(args.zone))}")
    elif action == "partition":
        cluster.partition(args.zone)
        print(f"zone {args.zone} is cut off from the rest (its processes keep running); `cluster heal` undoes it")
    elif action == "heal":
        print(f"started: {', '.join(cluster.heal()) or 'nothing (all running)'}")
    elif action == "scale":
        kind, _, count = args.spec.partition("=")
        if kind != "web" or not count.isdigit():
            print("usage: cluster scale web=N")
            return 2
        cluster.scale(int(count))
        print(f"web tier at {count} processes")
    elif action == "autoscale":
        return _autoscale(cluster, args)
    return 0


def _autoscale(cluster: Cluster, args: argparse.Namespace) -> int:
    """Run the autoscaler in the foreground until Ctrl-C or SIGTERM; one JSON line per decision."""
    slots = len(cluster.topology.of_kind("web"))
    maximum = args.max or slots
    if maximum > slots:
        print(f"--max {maximum}: this cluster has {slots} web slots (topology SPARE_WEB_SLOTS)")
        return 2
    policy = Policy(
        args.min, maximum, args.target, args.scale_out_cooldown, args.scale_in_cooldown, args.scale_in_after
    )
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    Autoscaler(cluster, policy, PrometheusCpu(cluster.topology.prometheus_url), print, args.interval).run(stop)
    return 0


def _rate(value: str) -> float | None:
    """``auto`` (None: measure the capacity, offer half) or a positive number of requests per second."""
    if value == "auto":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be 'auto' or requests per second, e.g. 120") from None
    if not 0 < rate <= 10000:
        raise argparse.ArgumentTypeError("must be between 0 and 10000 requests per second")
    return rate


def cmd_drill(args: argparse.Namespace) -> int:
    """Run one failure drill against the cluster; exit 0 only if its criteria hold."""
    duration = args.duration or (600.0 if args.drill == "soak" else 30.0)
    report = run_drill(
        Cluster.open(Path(args.dir)),
        args.drill,
        zone=args.zone,
        duration=duration,
        rate=args.rate,
        report_dir=Path(args.report) if args.report else Path(args.dir) / "reports" / args.drill,
    )
    print(f"drill {args.drill}: {'PASSED' if report['passed'] else 'FAILED'}")
    print(f"capacity {report['capacity_rps']} req/s, offered {report['offered_rps']} req/s")
    for criterion in report["criteria"]:
        print(f"  {criterion}")
    return 0 if report["passed"] else 1


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `cluster` and `drill` subcommands."""
    cluster = commands.add_parser("cluster", help="a local multi-zone cluster (HAProxy, Patroni, Redis Sentinel)")
    actions = cluster.add_subparsers(dest="cluster_command", required=True)
    up = actions.add_parser("up", help="start the cluster")
    up.add_argument("--zones", type=int, default=3, choices=[3, 4, 5])
    up.add_argument("--web-per-zone", type=int, default=1)
    up.add_argument("--cart-store", default="redis", choices=["memory", "cookie", "redis", "sql"])
    up.add_argument(
        "--isolate",
        action="store_true",
        help="every tier and zone in its own network namespace behind the security-group rules (root)",
    )
    status = actions.add_parser("status", help="nodes, roles, health, replication lag")
    status.add_argument("--json", action="store_true")
    actions.add_parser("down", help="stop everything")
    actions.add_parser("kill", help="SIGKILL one node").add_argument("node")
    actions.add_parser("start", help="start one node again").add_argument("node")
    actions.add_parser("fail-zone", help="take a whole zone down").add_argument("zone")
    actions.add_parser("partition", help="cut a zone off the network (isolated clusters)").add_argument("zone")
    actions.add_parser("heal", help="undo partitions and start every stopped node")
    actions.add_parser("scale", help="scale the web tier: web=N").add_argument("spec")
    dashboard = actions.add_parser("dashboard", help="a live page of the zones' nodes and the metrics (127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    autoscale = actions.add_parser("autoscale", help="scale the web tier on its CPU until Ctrl-C (target tracking)")
    autoscale.add_argument("--min", type=int, default=2, help="fewest web processes (default 2)")
    autoscale.add_argument("--max", type=int, help="most web processes (default: every pre-declared slot)")
    autoscale.add_argument(
        "--target", type=float, default=TARGET_CPU, help=f"CPU cores per web process to keep (default {TARGET_CPU})"
    )
    autoscale.add_argument("--scale-out-cooldown", type=float, default=30.0, help="seconds between scale-outs")
    autoscale.add_argument("--scale-in-cooldown", type=float, default=60.0, help="seconds after any scaling")
    autoscale.add_argument("--scale-in-after", type=float, default=60.0, help="seconds below target before a scale-in")
    autoscale.add_argument("--interval", type=float, default=1.0, help="seconds between decisions")
    for action in actions.choices.values():
        action.add_argument("--dir", default=DEFAULT_DIR, help=f"cluster directory (default {DEFAULT_DIR})")
    cluster.set_defaults(func=cmd_cluster)

    drill = commands.add_parser("drill", help="break the cluster under shopper load and verify nothing was lost")
    drill.add_argument("drill", choices=list(DRILLS))
    drill.add_argument(
        "--zone", help="zone-outage, zone-partition: the zone to fail or cut off (default: the PostgreSQL leader's)"
    )
    drill.add_argument("--duration", type=float, help="seconds of load (default 30; soak 600)")
    drill.add_argument(
        "--rate",
        type=_rate,
        default=None,
        help="requests per second, or 'auto' (default): measure the capacity with a short ramp and offer half",
    )
    drill.add_argument("--report", help="report directory (default DIR/reports/DRILL)")
    drill.add_argument("--dir", default=DEFAULT_DIR, help=f"cluster directory (default {DEFAULT_DIR})")
    drill.set_defaults(func=cmd_drill)
