"""The alerting benchmark's pure parts: the Alertmanager configuration it writes and how it counts stalls."""
import json

from bench.alerting import STALL_MS, am_config, latency_summary


def test_one_receiver_config_sends_every_alert_at_once_as_its_own_group():
    config = json.loads(am_config("http://127.0.0.1:9/hook", 1))
    route = config["route"]
    assert route["group_by"] == ["..."] and route["group_wait"] == "0s" and route["receiver"] == "r0"
    assert "routes" not in route
    assert config["receivers"] == [{"name": "r0", "webhook_configs": [
        {"url": "http://127.0.0.1:9/hook/r0", "send_resolved": False}]}]


def test_fanout_config_routes_every_alert_to_every_receiver_at_its_own_path():
    config = json.loads(am_config("http://h/hook", 1000))
    routes = config["route"]["routes"]
    assert len(routes) == 1000 and all(r["continue"] is True for r in routes)
    urls = {c["url"] for r in config["receivers"] for c in r.get("webhook_configs", [])}
    assert len(urls) == 1000
    names = {r["name"] for r in config["receivers"]}
    assert {r["receiver"] for r in routes} | {config["route"]["receiver"]} <= names


def test_stalls_are_latencies_over_the_threshold_and_missing_alerts_are_counted_apart():
    summary = latency_summary([1.0, STALL_MS, STALL_MS + 0.1, 900.0], sent=6)
    assert summary["stalled"] == 2
    assert summary["missing"] == 2
    assert summary["p50"] == STALL_MS and summary["p99"] == 900.0
