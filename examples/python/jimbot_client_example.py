"""A JimBot client in Python: read a session's game events from NATS, send a
command to the game through the gateway, and take a Claude API lease from the
coordinator over NATS and over gRPC.

Needs the generated package and its clients (docs/clients.md):

    pip install ./schemas/python nats-py grpcio

    python examples/python/jimbot_client_example.py --session game-1

`tests/test_jimbot_client_example.py` runs every function below against a real
nats-server, jimbot-gateway and jimbot-coordinator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc
import nats
from google.protobuf.duration_pb2 import Duration
from jimbot.v1 import coordinator_pb2 as coordinator
from jimbot.v1 import coordinator_pb2_grpc as coordinator_grpc
from jimbot.v1 import event_pb2

# The gateway's subject token for a session: anything else would be a NATS
# wildcard or separator and read other sessions' events.
SESSION_TOKEN = re.compile(r"[a-z0-9_-]{1,64}")


class ClientError(Exception):
    """A service refused a request; the message says why."""


def session_subject(session: str) -> str:
    """The subject filter of one session's game events: `jimbot.game.<session>.>`."""
    if not SESSION_TOKEN.fullmatch(session):
        raise ValueError(f"session {session!r}: expected 1-64 characters of [a-z0-9_-]")
    return f"jimbot.game.{session}.>"


async def read_session_events(
    nats_url: str, session: str, count: int, timeout: float = 10.0
) -> list[tuple[str, event_pb2.Event]]:
    """The first `count` game events of a session, in stream order, decoded.

    An ordered consumer is ephemeral: the server keeps no state for it after
    the subscription ends.
    """
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(session_subject(session), ordered_consumer=True)
        events = []
        try:
            while len(events) < count:
                msg = await sub.next_msg(timeout=timeout)
                events.append((msg.subject, event_pb2.Event.FromString(msg.data)))
        finally:
            await sub.unsubscribe()
        return events
    finally:
        await nc.close()


def _http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        raise ClientError(f"{method} {url}: {error.code} {error.read().decode(errors='replace')}") from None


def queue_command(gateway_url: str, session: str, command: dict) -> dict:
    """Queues a command (`{"type": ..., "payload": ...}`) for the game of a
    session; returns the gateway's answer (`{"session", "queued": [...]}`)."""
    session_subject(session)
    _, body = _http(
        "POST",
        f"{gateway_url}/s/{session}/api/v1/commands",
        json.dumps(command).encode(),
        {"Content-Type": "application/json"},
    )
    return json.loads(body)


def poll_commands(gateway_url: str, session: str) -> list[str]:
    """Takes the session's queued command lines, as the mod does (they are
    removed from the queue)."""
    session_subject(session)
    _, body = _http("GET", f"{gateway_url}/s/{session}/api/v1/commands/poll")
    return body.decode().splitlines()


def claude_api_request(holder: str, request_id: str) -> coordinator.AcquireRequest:
    """One Claude API call for a minute, answered at once (no waiting)."""
    return coordinator.AcquireRequest(
        resource="claude_api",
        quantity=1,
        priority=coordinator.PRIORITY_MEDIUM,
        holder=holder,
        lease_duration=Duration(seconds=60),
        wait_timeout=Duration(seconds=0),
        request_id=request_id,
    )


@dataclass
class LeaseCycle:
    """What the coordinator answered to an acquire and the release after it."""

    granted: coordinator.Lease
    released: coordinator.Lease


def _granted(answer: coordinator.AcquireResponse) -> coordinator.Lease:
    if answer.WhichOneof("outcome") != "granted":
        denied = answer.denied
        raise ClientError(
            f"denied ({coordinator.DenialReason.Name(denied.reason)}): {denied.message}"
        )
    return answer.granted


def _released(answer: coordinator.ReleaseResponse) -> coordinator.Lease:
    if answer.WhichOneof("outcome") != "released":
        failed = answer.failed
        raise ClientError(
            f"release failed ({coordinator.LeaseFailureReason.Name(failed.reason)}): {failed.message}"
        )
    return answer.released


async def _nats_call(nc, subject: str, request, response_type):
    reply = await nc.request(subject, request.SerializeToString(), timeout=5)
    # The coordinator answers a request it cannot use with an empty body and
    # the NATS service error headers.
    if reply.headers and "Nats-Service-Error" in reply.headers:
        code = reply.headers.get("Nats-Service-Error-Code", "?")
        raise ClientError(f"{subject}: {code} {reply.headers['Nats-Service-Error']}")
    return response_type.FromString(reply.data)


async def claude_api_lease_over_nats(nats_url: str, holder: str, request_id: str) -> LeaseCycle:
    """Acquires and releases a Claude API lease through the coordinator's NATS service."""
    nc = await nats.connect(nats_url)
    try:
        answer = await _nats_call(
            nc,
            "jimbot.coordinator.acquire",
            claude_api_request(holder, request_id),
            coordinator.AcquireResponse,
        )
        lease = _granted(answer)
        answer = await _nats_call(
            nc,
            "jimbot.coordinator.release",
            coordinator.ReleaseRequest(lease_id=lease.lease_id, holder=holder),
            coordinator.ReleaseResponse,
        )
        return LeaseCycle(granted=lease, released=_released(answer))
    finally:
        await nc.close()


def claude_api_lease_over_grpc(grpc_target: str, holder: str, request_id: str) -> LeaseCycle:
    """Acquires and releases a Claude API lease through the coordinator's gRPC API."""
    with grpc.insecure_channel(grpc_target) as channel:
        stub = coordinator_grpc.ResourceCoordinatorStub(channel)
        lease = _granted(stub.Acquire(claude_api_request(holder, request_id), timeout=5))
        answer = stub.Release(
            coordinator.ReleaseRequest(lease_id=lease.lease_id, holder=holder), timeout=5
        )
        return LeaseCycle(granted=lease, released=_released(answer))


async def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--session", default="default")
    parser.add_argument("--events", type=int, default=1, help="game events to read")
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--gateway-url", default="http://127.0.0.1:8080")
    parser.add_argument("--coordinator-grpc", default="127.0.0.1:50052")
    args = parser.parse_args()

    for subject, event in await read_session_events(args.nats_url, args.session, args.events):
        print(subject, event_pb2.EventType.Name(event.type), event.event_id)
    print(json.dumps(queue_command(args.gateway_url, args.session, {"type": "play_hand"})))
    print(json.dumps(poll_commands(args.gateway_url, args.session)))
    cycle = await claude_api_lease_over_nats(args.nats_url, "example/nats", "example-nats")
    print("NATS lease", cycle.granted.lease_id, "token", cycle.granted.fencing_token)
    cycle = claude_api_lease_over_grpc(args.coordinator_grpc, "example/grpc", "example-grpc")
    print("gRPC lease", cycle.granted.lease_id, "token", cycle.granted.fencing_token)


if __name__ == "__main__":
    asyncio.run(main())
