"""Checks, through Prometheus's HTTP API, that it scrapes `just up`'s services.

Called by deploy/tests/prometheus-scrape.sh once `just up` and Prometheus are
starting. Waits (with deadlines, never fixed sleeps) for the services to be
ready, sends the gateway real BalatroMCP bodies, then checks:

- every target of prometheus.local.yml is up (gateway, coordinator, analytics);
- the key series exist: jimbot_build_info of each service, nats_connected = 1
  for each, the gateway's HTTP and event counters (the events just sent are
  counted as stored), the latency histograms, the coordinator's capacity, analytics'
  consumer position;
- every alert rule evaluates without error, and none of the service alerts is
  pending or firing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SERVICES = {
    "gateway": ("jimbot-gateway", "http://127.0.0.1:8080"),
    "coordinator": ("jimbot-coordinator", "http://127.0.0.1:8082"),
    "analytics": ("jimbot-analytics", "http://127.0.0.1:8081"),
}
# Alerts that must be quiet while everything runs (NatsDown and the exporter's
# series are not scraped locally; see prometheus.local.yml).
QUIET_ALERTS = {"ServiceDown", "ServiceLostNats", "GatewayHigh5xxRate"}


class CheckFailed(Exception):
    pass


def http(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(what: str, timeout: float, attempt: Callable[[], T | None]) -> T:
    """Calls `attempt` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        try:
            result = attempt()
            if result is not None:
                return result
            last_error = "condition not met"
        except (OSError, ValueError, KeyError, CheckFailed) as error:
            last_error = str(error)
        time.sleep(0.25)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})")


def query(prometheus: str, expr: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = http(url)
    answer = json.loads(body)
    if status != 200 or answer.get("status") != "success":
        raise CheckFailed(f"query {expr!r} failed: {status} {body[:200]!r}")
    return answer["data"]["result"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--up-log", required=True, type=Path)
    parser.add_argument("--up-pid", required=True, type=int)
    parser.add_argument("--fixture", required=True, type=Path)
    parser.add_argument("--batch-fixture", required=True, type=Path)
    args = parser.parse_args()
    prometheus = args.prometheus

    def up_is_ready() -> bool | None:
        try:
            os.kill(args.up_pid, 0)
        except ProcessLookupError:
            raise SystemExit("just up exited before it was ready") from None
        return True if "JimBot is up" in args.up_log.read_text(errors="replace") else None

    # The binaries are built already (prometheus-scrape.sh); this is start-up.
    wait_for("just up", 120, up_is_ready)
    print("prometheus-scrape: services up")
    wait_for("Prometheus ready", 60, lambda: True if http(f"{prometheus}/-/ready")[0] == 200 else None)

    gateway = SERVICES["gateway"][1]
    # A session of its own: `just up` keeps its store between runs, and the
    # same events in the same session would be duplicates, not stored.
    session = f"scrape-test-{time.time_ns()}"
    for path, fixture in (
        (f"/s/{session}/api/v1/events", args.fixture),
        (f"/s/{session}/api/v1/events/batch", args.batch_fixture),
    ):
        status, body = http(
            gateway + path, fixture.read_bytes(), {"Content-Type": "application/json"}
        )
        if status != 202:
            raise CheckFailed(f"gateway answered {status} to {fixture.name}: {body[:300]!r}")
    sent = 1 + len(json.loads(args.batch_fixture.read_bytes())["events"])

    def targets_up() -> dict[str, str] | None:
        _, body = http(f"{prometheus}/api/v1/targets?state=active")
        targets = json.loads(body)["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if set(health) != set(SERVICES):
            raise CheckFailed(f"targets are {sorted(health)}, expected {sorted(SERVICES)}")
        return health if all(h == "up" for h in health.values()) else None

    wait_for("every target up", 60, targets_up)
    print(f"prometheus-scrape: targets up: {', '.join(sorted(SERVICES))}")

    def series_present() -> bool | None:
        build = {r["metric"]["job"]: r["metric"].get("service") for r in query(prometheus, "jimbot_build_info")}
        expected = {job: name for job, (name, _) in SERVICES.items()}
        if build != expected:
            raise CheckFailed(f"jimbot_build_info: {build}, expected {expected}")
        connected = {r["metric"]["job"] for r in query(prometheus, "nats_connected == 1")}
        if connected != set(SERVICES):
            raise CheckFailed(f"nats_connected is 1 only for {sorted(connected)}")
        for expr in (
            'http_requests_total{job="gateway", route="/s/{session}/api/v1/events/batch", status="202"}',
            "http_request_duration_seconds_bucket",
            "http_requests_in_flight",
            'gateway_publish_ack_seconds_count{job="gateway"}',
            'coordinator_capacity{job="coordinator"}',
            'analytics_consumer_pending{job="analytics"}',
        ):
            if not query(prometheus, expr):
                raise CheckFailed(f"no series for {expr}")
        stored = query(prometheus, 'sum(gateway_events_total{job="gateway", outcome="stored"})')
        if not stored or float(stored[0]["value"][1]) < sent:
            raise CheckFailed(f"gateway_events_total stored: {stored}, expected at least {sent}")
        return True

    wait_for("the key series", 60, series_present)
    print("prometheus-scrape: key series present (build info, nats_connected, HTTP and event counters, histograms, coordinator capacity, analytics consumer)")

    def rules_evaluated() -> bool | None:
        _, body = http(f"{prometheus}/api/v1/rules")
        rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
        if not rules:
            raise CheckFailed("no rules loaded")
        if any(r.get("lastEvaluation", "").startswith("0001-") for r in rules):
            return None
        broken = {r["name"]: r.get("lastError") for r in rules if r.get("health") != "ok"}
        if broken:
            raise CheckFailed(f"rules that do not evaluate: {broken}")
        active = {r["name"]: r.get("state") for r in rules if r["name"] in QUIET_ALERTS and r.get("state") != "inactive"}
        if active:
            raise CheckFailed(f"alerts active while everything runs: {active}")
        return True

    wait_for("every rule evaluated", 60, rules_evaluated)
    print("prometheus-scrape: every alert rule evaluates; service alerts quiet")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as failure:
        print(f"prometheus-scrape: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
