"""Starts a real nats-server, jimbot-gateway and jimbot-coordinator on free
ports for the example's tests, and stops them afterwards (also on failure).

The binaries come from `target/debug` (or `$CARGO_TARGET_DIR/debug`);
`scripts/test-clients.sh` builds them first.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
NATS_SERVER = ROOT / ".tools" / "venv" / "bin" / "nats-server"
START_DEADLINE = 60.0
STOP_DEADLINE = 15.0


@dataclass
class Stack:
    nats_url: str
    gateway_url: str
    coordinator_grpc: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it first (scripts/test-clients.sh does)")
    return path


class Processes:
    """Started processes, stopped in reverse order: the services drain into a
    NATS that is still running."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *command: str) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()
        self.running.append((name, process))

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-4000:]

    def wait_until(self, name: str, ready, what: str) -> None:
        process = dict(self.running)[name]
        deadline = time.monotonic() + START_DEADLINE
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log(name)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name}: not {what} after {START_DEADLINE:.0f} s:\n{self.log(name)}")
            time.sleep(0.05)  # polling interval of the readiness check

    def stop_all(self) -> None:
        for _, process in reversed(self.running):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_DEADLINE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.running.clear()


def accepts_connections(port: int):
    def check() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    return check


def health_ready(url: str):
    def check() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    return check


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    processes = Processes(tmp)
    try:
        nats_port = free_port()
        processes.start(
            "nats-server",
            str(binary(NATS_SERVER)),
            "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd", str(tmp / "jetstream"),
        )
        processes.wait_until("nats-server", accepts_connections(nats_port), "listening")
        nats_url = f"nats://127.0.0.1:{nats_port}"

        gateway_http, gateway_grpc = free_port(), free_port()
        processes.start(
            "jimbot-gateway",
            str(binary(TARGET / "debug" / "jimbot-gateway")),
            "--http-addr", f"127.0.0.1:{gateway_http}",
            "--grpc-addr", f"127.0.0.1:{gateway_grpc}",
            "--nats-url", nats_url,
        )
        coordinator_http, coordinator_grpc = free_port(), free_port()
        processes.start(
            "jimbot-coordinator",
            str(binary(TARGET / "debug" / "jimbot-coordinator")),
            "--http-addr", f"127.0.0.1:{coordinator_http}",
            "--grpc-addr", f"127.0.0.1:{coordinator_grpc}",
            "--nats-url", nats_url,
            "--config", str(ROOT / "coordinator" / "config" / "dev.toml"),
        )
        gateway_url = f"http://127.0.0.1:{gateway_http}"
        processes.wait_until("jimbot-gateway", health_ready(gateway_url), "ready")
        processes.wait_until(
            "jimbot-coordinator", health_ready(f"http://127.0.0.1:{coordinator_http}"), "ready"
        )
        yield Stack(
            nats_url=nats_url,
            gateway_url=gateway_url,
            coordinator_grpc=f"127.0.0.1:{coordinator_grpc}",
        )
    finally:
        processes.stop_all()
