"""The example client against the real services (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest
from jimbot.v1 import coordinator_pb2 as coordinator
from jimbot.v1 import coordinator_pb2_grpc as coordinator_grpc
from jimbot.v1 import event_pb2

import jimbot_client_example as example

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "balatromcp"
BATCH = FIXTURES / "batch_startup.json"
EXAMPLE = Path(example.__file__)


def post_batch(stack, session: str, batch: Path = BATCH) -> dict:
    request = urllib.request.Request(
        f"{stack.gateway_url}/s/{session}/api/v1/events/batch",
        data=batch.read_bytes(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.loads(response.read())


def test_reads_and_decodes_a_sessions_events(stack):
    fixture = json.loads(BATCH.read_text())
    # Another session's events are stored first: the subject filter must skip them.
    post_batch(stack, "other-game")
    report = post_batch(stack, "game-1")
    assert report["totals"] == {"stored": 2, "duplicates": 0, "dead_lettered": 0}

    events = asyncio.run(example.read_session_events(stack.nats_url, "game-1", count=2))

    assert [subject for subject, _ in events] == [
        "jimbot.game.game-1.heartbeat",
        "jimbot.game.game-1.game_state",
    ]
    for (_, event), sent in zip(events, fixture["events"]):
        assert event.event_id == sent["event_id"]
        assert event.type_name == sent["type"]
        assert event.session == "game-1"
        assert event.batch_id == fixture["batch_id"]
        assert event.source == "BalatroMCP"
        # The mod's own clock value, as sent.
        assert event.client_timestamp_ms == sent["timestamp"]
        assert json.loads(event.original_json) == sent
    heartbeat, game_state = events[0][1], events[1][1]
    assert heartbeat.type == event_pb2.EVENT_TYPE_HEARTBEAT
    assert game_state.type == event_pb2.EVENT_TYPE_GAME_STATE
    assert game_state.WhichOneof("payload") == "game_state"
    sent_state = fixture["events"][1]["payload"]
    state = game_state.game_state
    assert state.hand_size == sent_state["hand_size"]
    assert state.round == sent_state["round"]
    assert state.discards_remaining == sent_state["discards_remaining"]
    assert [(card.rank, card.suit) for card in state.hand] == [
        (card["rank"], card["suit"]) for card in sent_state["hand"]
    ]


def test_a_resent_batch_is_read_once(stack):
    # The mod re-sends a batch after a failed request; a later batch marks
    # the end of what must be read.
    assert post_batch(stack, "game-5")["totals"]["stored"] == 2
    assert post_batch(stack, "game-5")["totals"] == {"stored": 0, "duplicates": 2, "dead_lettered": 0}
    later = FIXTURES / "batch_round_end.json"
    assert post_batch(stack, "game-5", later)["totals"]["stored"] == 4

    events = asyncio.run(example.read_session_events(stack.nats_url, "game-5", count=6))

    sent = json.loads(BATCH.read_text())["events"] + json.loads(later.read_text())["events"]
    assert [event.event_id for _, event in events] == [e["event_id"] for e in sent]


def test_reading_a_session_without_events_times_out(stack):
    import nats.errors

    with pytest.raises(nats.errors.TimeoutError):
        asyncio.run(example.read_session_events(stack.nats_url, "no-such-game", 1, timeout=0.5))


def test_the_command_line_runs_every_step(stack):
    post_batch(stack, "game-6")
    finished = subprocess.run(
        [
            sys.executable, str(EXAMPLE), "--session", "game-6", "--events", "2",
            "--nats-url", stack.nats_url, "--gateway-url", stack.gateway_url,
            "--coordinator-grpc", stack.coordinator_grpc,
        ],
        capture_output=True, text=True, timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    lines = finished.stdout.splitlines()
    ids = [e["event_id"] for e in json.loads(BATCH.read_text())["events"]]
    assert lines[0] == f"jimbot.game.game-6.heartbeat EVENT_TYPE_HEARTBEAT {ids[0]}"
    assert lines[1] == f"jimbot.game.game-6.game_state EVENT_TYPE_GAME_STATE {ids[1]}"
    assert json.loads(lines[2]) == {
        "session": "game-6", "queued": [{"line": "play_hand", "seq": 1, "duplicate": False}],
    }
    assert json.loads(lines[3]) == ["play_hand"]
    assert lines[4].startswith("NATS lease l-") and lines[5].startswith("gRPC lease l-")
    assert len(lines) == 6


@pytest.mark.parametrize(
    "session", ["", "a.>", "*", ">", "game 1", "Game-1", "a" * 65, "game\n1", "ä"]
)
def test_refuses_session_names_that_are_not_one_subject_token(session):
    with pytest.raises(ValueError, match="expected 1-64 characters"):
        example.session_subject(session)
    with pytest.raises(ValueError):
        example.queue_command("http://127.0.0.1:1", session, {"type": "play_hand"})


def test_queues_a_command_and_the_poll_takes_it(stack):
    answer = example.queue_command(stack.gateway_url, "game-2", {"type": "play_hand"})
    assert answer["session"] == "game-2"
    assert [(q["line"], q["duplicate"]) for q in answer["queued"]] == [("play_hand", False)]

    assert example.poll_commands(stack.gateway_url, "game-2") == ["play_hand"]
    # The poll removed it; another session's queue never held it.
    assert example.poll_commands(stack.gateway_url, "game-2") == []
    assert example.poll_commands(stack.gateway_url, "game-3") == []


def test_an_unknown_command_is_a_clear_error(stack):
    with pytest.raises(example.ClientError, match=r"400.*play_hand") as error:
        example.queue_command(stack.gateway_url, "game-4", {"type": "drop_tables"})
    assert "/s/game-4/api/v1/commands" in str(error.value)
    assert example.poll_commands(stack.gateway_url, "game-4") == []


def test_claude_api_leases_over_nats_and_grpc(stack):
    over_nats = asyncio.run(
        example.claude_api_lease_over_nats(stack.nats_url, "example/nats", "req-nats")
    )
    over_grpc = example.claude_api_lease_over_grpc(
        stack.coordinator_grpc, "example/grpc", "req-grpc"
    )

    for cycle, holder, request_id in [
        (over_nats, "example/nats", "req-nats"),
        (over_grpc, "example/grpc", "req-grpc"),
    ]:
        lease = cycle.granted
        assert lease.lease_id.startswith("l-")
        assert (lease.resource, lease.quantity, lease.holder, lease.request_id) == (
            "claude_api", 1, holder, request_id,
        )
        assert lease.fencing_token > 0
        assert lease.expires_at.ToDatetime() > lease.granted_at.ToDatetime()
        assert cycle.released.lease_id == lease.lease_id
        assert cycle.released.fencing_token == lease.fencing_token
    assert over_grpc.granted.fencing_token > over_nats.granted.fencing_token
    assert over_grpc.granted.lease_id != over_nats.granted.lease_id

    # Both leases are gone: none is listed any more.
    with grpc.insecure_channel(stack.coordinator_grpc) as channel:
        status = coordinator_grpc.ResourceCoordinatorStub(channel).Status(
            coordinator.StatusRequest(resources=["claude_api"]), timeout=5
        )
    [claude_api] = status.resources
    assert list(claude_api.leases) == []


def test_a_refused_release_is_a_clear_error(stack):
    with grpc.insecure_channel(stack.coordinator_grpc) as channel:
        answer = coordinator_grpc.ResourceCoordinatorStub(channel).Release(
            coordinator.ReleaseRequest(lease_id="l-999999", holder="example/grpc"), timeout=5
        )
    with pytest.raises(example.ClientError, match="NOT_FOUND"):
        example._released(answer)


def test_a_denial_is_a_clear_error(stack):
    request = example.claude_api_request("example/grpc", "req-denied")
    request.quantity = 0
    with grpc.insecure_channel(stack.coordinator_grpc) as channel:
        answer = coordinator_grpc.ResourceCoordinatorStub(channel).Acquire(request, timeout=5)
    with pytest.raises(example.ClientError, match="INVALID_QUANTITY"):
        example._granted(answer)


class Undecodable:
    """A request body the coordinator cannot decode."""

    def SerializeToString(self) -> bytes:
        return b"\xff\xff\xff"


def test_a_nats_service_error_is_a_clear_error(stack):
    async def call():
        import nats

        nc = await nats.connect(stack.nats_url)
        try:
            await example._nats_call(
                nc, "jimbot.coordinator.acquire", Undecodable(), coordinator.AcquireResponse
            )
        finally:
            await nc.close()

    with pytest.raises(example.ClientError, match="jimbot.coordinator.acquire: 400"):
        asyncio.run(call())
