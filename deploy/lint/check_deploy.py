"""Checks of the deploy files that the tools themselves do not make.

Run by scripts/lint-deploy.sh with the project's virtualenv (PyYAML):

    .tools/venv/bin/python deploy/lint/check_deploy.py

Each check names the file and what is wrong; the exit status is 1 when any
check failed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
problems: list[str] = []


def problem(path: Path, message: str) -> None:
    problems.append(f"{path.relative_to(ROOT)}: {message}")


def load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        problem(path, f"not YAML: {error}")
        return None


# Images with nothing but their binary (FROM scratch): no command can run in
# them, so they cannot have a health check, and are waited for as started.
NO_HEALTH_CHECK_POSSIBLE = {"nats-exporter"}


def check_compose() -> None:
    path = ROOT / "docker-compose.yml"
    compose = load_yaml(path)
    if not isinstance(compose, dict):
        return
    services = compose.get("services", {})
    for name, service in services.items():
        if "mem_limit" not in service:
            problem(path, f"service {name} has no mem_limit")
        health = service.get("healthcheck")
        if name not in NO_HEALTH_CHECK_POSSIBLE and (not health or health.get("disable")):
            problem(path, f"service {name} has no health check")
        depends = service.get("depends_on", {})
        if isinstance(depends, list):
            problem(path, f"service {name}: depends_on without conditions")
            continue
        for dependency, condition in depends.items():
            wanted = "service_started" if dependency in NO_HEALTH_CHECK_POSSIBLE else "service_healthy"
            if condition.get("condition") != wanted:
                problem(path, f"service {name} waits for {dependency} without {wanted}")
        if "build" in service and "image" not in service:
            problem(path, f"service {name} is built but names no image")
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                problem(path, f"service {name} publishes {port} beyond 127.0.0.1")
    expected_profiles = {"nats-2": ["cluster"], "nats-3": ["cluster"], "memgraph": ["full"]}
    for name, profiles in expected_profiles.items():
        if services.get(name, {}).get("profiles") != profiles:
            problem(path, f"service {name} should be in profiles {profiles}")
    if services.get("memgraph", {}).get("mem_limit") != "10g":
        problem(path, "memgraph should be limited to 10g")

    # Every variable the compose file reads is documented in .env.example,
    # and .env.example documents nothing the file does not read.
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", path.read_text()))
    example = ROOT / ".env.example"
    documented = set(re.findall(r"^([A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    compose_own = {"COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"}
    for name in sorted(used - documented):
        problem(example, f"{name} is used by docker-compose.yml but not documented")
    for name in sorted(documented - used - compose_own):
        problem(example, f"{name} is documented but docker-compose.yml does not use it")


def check_grafana() -> None:
    provisioning = ROOT / "deploy/grafana/provisioning/datasources"
    datasource_uids = set()
    for path in sorted(provisioning.glob("*.yml")):
        config = load_yaml(path) or {}
        datasource_uids |= {d.get("uid") for d in config.get("datasources", [])}
    uids: dict[str, Path] = {}
    for path in sorted((ROOT / "deploy/grafana/dashboards").glob("*.json")):
        try:
            dashboard = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            problem(path, f"not JSON: {error}")
            continue
        uid = dashboard.get("uid")
        if not uid or not dashboard.get("title"):
            problem(path, "a dashboard needs a uid and a title")
        elif uid in uids:
            problem(path, f"uid {uid} is also used by {uids[uid].name}")
        else:
            uids[uid] = path
        if dashboard.get("id") not in (None, 0):
            problem(path, "a provisioned dashboard must not carry a database id")
        for panel in all_panels(dashboard.get("panels", [])):
            for source in [panel.get("datasource")] + [
                t.get("datasource") for t in panel.get("targets", [])
            ]:
                uid = source.get("uid") if isinstance(source, dict) else None
                if uid and not uid.startswith("$") and uid not in datasource_uids | {"-- Grafana --", "grafana"}:
                    problem(path, f"panel {panel.get('title')!r} uses unknown datasource {uid}")
    if not uids:
        problems.append("deploy/grafana/dashboards: no dashboard")


def all_panels(panels: list[dict]) -> list[dict]:
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(all_panels(panel.get("panels", [])))
    return found


def check_kubernetes() -> None:
    directory = ROOT / "deploy/k8s"
    kustomization = load_yaml(directory / "kustomization.yaml") or {}
    for resource in kustomization.get("resources", []):
        if not (directory / resource).is_file():
            problem(directory / "kustomization.yaml", f"resource {resource} does not exist")
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if not path.is_file():
            continue
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except yaml.YAMLError as error:
            problem(path, f"not YAML: {error}")
            continue
        for document in documents:
            if document.get("kind") == "Deployment":
                check_deployment(path, document)


def check_deployment(path: Path, deployment: dict) -> None:
    name = deployment["metadata"]["name"]
    template = deployment["spec"]["template"]
    annotations = template["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true":
        problem(path, f"{name}: not annotated for Prometheus")
    security = template["spec"].get("securityContext", {})
    if not security.get("runAsNonRoot"):
        problem(path, f"{name}: pods must run as non-root")
    for container in template["spec"]["containers"]:
        ports = {p["containerPort"] for p in container.get("ports", [])}
        if int(annotations.get("prometheus.io/port", 0)) not in ports:
            problem(path, f"{name}: prometheus.io/port is not a container port")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe not in container:
                problem(path, f"{name}: no {probe}")
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/health/ready":
            problem(path, f"{name}: readiness must be /health/ready")
        resources = container.get("resources", {})
        if not resources.get("requests") or "memory" not in resources.get("limits", {}):
            problem(path, f"{name}: needs resource requests and a memory limit")


def check_prometheus() -> None:
    directory = ROOT / "deploy/prometheus"
    compose_jobs = jobs(directory / "prometheus.yml")
    local_jobs = jobs(directory / "prometheus.local.yml")
    for job in sorted(compose_jobs - local_jobs - {"nats", "prometheus"}):
        problem(directory / "prometheus.local.yml", f"job {job} of prometheus.yml is missing")
    rules = load_yaml(directory / "alerts.yml") or {}
    alerts = {r["alert"] for g in rules.get("groups", []) for r in g.get("rules", []) if "alert" in r}
    tests = load_yaml(directory / "alerts.test.yml") or {}
    tested = {
        case["alertname"]
        for test in tests.get("tests", [])
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    for alert in sorted(alerts - tested):
        problem(directory / "alerts.test.yml", f"alert {alert} has no test in which it fires")


def jobs(path: Path) -> set[str]:
    config = load_yaml(path) or {}
    return {job["job_name"] for job in config.get("scrape_configs", [])}


def main() -> int:
    check_compose()
    check_grafana()
    check_kubernetes()
    check_prometheus()
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
