"""The metrics server's generated configuration, checked by Prometheus's own promtool (nothing is started)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from myclothes.cluster import configs, monitoring
from myclothes.cluster.topology import Topology

if not shutil.which("promtool"):
    pytest.skip("needs promtool (apt-get install -y prometheus)", allow_module_level=True)


def written(tmp_path: Path) -> Topology:
    """A planned cluster with Prometheus's files where ``cluster up`` writes them."""
    topology = Topology.plan(tmp_path, zones=3, web_per_zone=1, cart_store="redis")
    home = tmp_path / monitoring.HOME
    home.mkdir()
    (home / monitoring.RULES).write_text(monitoring.recording_rules())
    (home / monitoring.CONFIG).write_text(monitoring.prometheus_config(topology))
    (home / monitoring.WEB_TARGETS).write_text(monitoring.web_targets(topology))
    return topology


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_config_and_the_recording_rules(tmp_path: Path) -> None:
    written(tmp_path)
    home = tmp_path / monitoring.HOME
    rules = promtool("check", "rules", str(home / monitoring.RULES))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = promtool("check", "config", str(home / monitoring.CONFIG))
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_tier_is_a_job_and_only_running_web_slots_are_targets(tmp_path: Path) -> None:
    topology = written(tmp_path)
    config = yaml.safe_load((tmp_path / monitoring.HOME / monitoring.CONFIG).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"web", "haproxy", "redis", "postgres", "patroni", "etcd"}
    assert config["global"]["scrape_interval"] == "1s" and config["global"]["evaluation_interval"] == "1s"
    web = json.loads(monitoring.web_targets(topology))
    assert [group["labels"]["instance"] for group in web] == ["web-1", "web-2", "web-3"]  # not the spare slots
    topology.node("web-4").enabled = True
    assert len(json.loads(monitoring.web_targets(topology))) == 4
    # an exporter's series are named after the server it reads
    assert [g["labels"]["instance"] for g in jobs["redis"]["static_configs"]] == ["redis-a", "redis-b", "redis-c"]
    assert [g["labels"]["instance"] for g in jobs["postgres"]["static_configs"]] == ["pg-a", "pg-b", "pg-c"]
    pg_a = topology.node("pg-a")
    assert jobs["patroni"]["static_configs"][0]["targets"] == [f"127.0.0.1:{pg_a.extra_port}"]


def test_haproxy_serves_its_own_metrics_only_on_a_separate_internal_frontend(tmp_path: Path) -> None:
    topology = written(tmp_path)
    text = configs.haproxy_config(topology)
    metrics = text.split("frontend metrics")[1]
    balancer = topology.node("haproxy")
    assert f"bind 127.0.0.1:{balancer.extra_port}" in metrics
    assert "use-service prometheus-exporter if { path /metrics }" in metrics
    assert "deny deny_status 404 if { path /metrics }" in text.split("frontend shop")[1]  # never on the shop port


def test_exporters_get_their_passwords_from_the_environment_not_the_command_line(tmp_path: Path) -> None:
    topology = written(tmp_path)
    supervisor = configs.supervisord_config(topology)
    for name in ("redis-exporter-a", "pg-exporter-a"):
        program = supervisor.split(f"[program:{name}]")[1].split("[program:")[0]
        command = next(line for line in program.splitlines() if line.startswith("command="))
        assert topology.secrets["redis"] not in command and topology.secrets["monitor"] not in command
    assert f'REDIS_PASSWORD="{topology.secrets["redis"]}"' in supervisor
    assert f"postgresql://monitor:{topology.secrets['monitor']}@" in supervisor  # pg_monitor, not the superuser


def expect(rule: str, **by_label: dict[str, float]) -> dict[str, Any]:
    """A ``promql_expr_test``: ``rule{label="value"}`` equals each number given, 20 s into the series."""
    [(label, values)] = by_label.items()
    selector = "|".join(values)
    samples = [{"labels": f'{rule}{{{label}="{value}"}}', "value": number} for value, number in values.items()]
    return {"expr": f"{rule}{{{label}=~`{selector}`}}", "eval_time": "20s", "exp_samples": samples}


def test_the_rules_classify_routes_into_operations_and_count_errors_and_p99(tmp_path: Path) -> None:
    """``promtool test rules``: series in, recorded values out, evaluated by Prometheus's own engine."""
    written(tmp_path)
    requests = 'myclothes_http_requests_total{job="web",instance="web-1",route="%s",status="%s"}'
    per_second = "0+%dx30"
    cart = "/api/cart/items/{sku:str}"
    series = [
        {"series": requests % (cart, "200"), "values": per_second % 9},
        {"series": requests % (cart, "503"), "values": per_second % 1},
        {"series": requests % ("/products/{slug:str}", "200"), "values": per_second % 5},
        {"series": requests % ("/api/auth/login", "200"), "values": per_second % 2},
    ]
    bucket = 'myclothes_http_request_seconds_bucket{job="web",instance="web-1",route="%s",le="%s"}'
    # every cart request took between 25 and 50 ms: p99 interpolates to 25 + 0.99 * 25 ms
    for le, rate in (("0.025", 0), ("0.05", 10), ("+Inf", 10)):
        series.append({"series": bucket % (cart, le), "values": per_second % rate})
    tests = {
        "rule_files": [str(tmp_path / monitoring.HOME / monitoring.RULES)],
        "evaluation_interval": "1s",
        "tests": [
            {
                "interval": "1s",
                "input_series": series,
                "alert_rule_test": [],
                "promql_expr_test": [
                    expect("myclothes:operation_requests:rate10s", operation={"cart": 10, "browse": 5, "login": 2}),
                    expect(
                        "myclothes:operation_errors:ratio_rate10s", operation={"cart": 0.1, "browse": 0, "login": 0}
                    ),
                    expect("myclothes:operation_latency_p99:seconds_10s", operation={"cart": 0.04975}),
                    expect("myclothes:http_errors:ratio_rate10s", route={"/products/{slug:str}": 0}),
                ],
            }
        ],
    }
    path = tmp_path / "rules_test.yml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
