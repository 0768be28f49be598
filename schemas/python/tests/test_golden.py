"""Cross-language golden vectors (see docs/clients.md).

Decodes every event Rust wrote to schemas/golden/events/ and compares it
field by field with the values in events.json; encodes the events Rust
expects in schemas/golden/from-python/ (UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import timestamp_pb2

from jimbot.v1 import event_pb2, game_state_pb2, payloads_pb2

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
INDEX = json.loads((GOLDEN / "events.json").read_text(encoding="utf-8"))


def opt(message: Any, field: str) -> Any:
    """An optional field's value, or None when unset."""
    return getattr(message, field) if message.HasField(field) else None


def double(value: float | None) -> Any:
    """A double as Rust wrote it: a number, or "inf"/"-inf"/"nan"."""
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def game_state_fields(state: game_state_pb2.GameState) -> dict[str, Any]:
    return {
        "in_game": opt(state, "in_game"),
        "game_id": opt(state, "game_id"),
        "ante": double(opt(state, "ante")),
        "round": double(opt(state, "round")),
        "chips": double(opt(state, "chips")),
        "mult": double(opt(state, "mult")),
        "money": double(opt(state, "money")),
        "hands_remaining": double(opt(state, "hands_remaining")),
        "discards_remaining": double(opt(state, "discards_remaining")),
        "phase": opt(state, "phase"),
        "joker_names": [opt(j, "name") for j in state.jokers],
        "hand": [[opt(c, "rank"), opt(c, "suit")] for c in state.hand],
        "score_history_keys": sorted(state.score_history.keys()),
        "shop_item_keys": sorted(state.shop_items.keys()),
    }


def payload_fields(event: event_pb2.Event) -> Any:
    case = event.WhichOneof("payload")
    if case is None:
        return None
    p = getattr(event, case)
    if case == "game_state":
        return game_state_fields(p)
    if case == "heartbeat":
        return {
            "version": opt(p, "version"),
            "uptime": double(opt(p, "uptime")),
            "headless": opt(p, "headless"),
            "game_state": opt(p, "game_state"),
        }
    if case == "money_changed":
        return {
            "old_value": double(opt(p, "old_value")),
            "new_value": double(opt(p, "new_value")),
            "difference": double(opt(p, "difference")),
        }
    if case == "round_changed":
        return {"ante": double(opt(p, "ante")), "round": double(opt(p, "round"))}
    if case == "connection_test":
        return {"message": opt(p, "message")}
    if case == "score_changed":
        return {f: double(opt(p, f)) for f in ("old_chips", "new_chips", "old_mult", "new_mult")}
    if case == "hand_played":
        return {f: double(opt(p, f)) for f in ("hands_remaining", "hand_number")}
    if case == "cards_discarded":
        return {"discards_remaining": double(opt(p, "discards_remaining"))}
    if case == "jokers_changed":
        return {
            "old_count": double(opt(p, "old_count")),
            "new_count": double(opt(p, "new_count")),
            "joker_names": [opt(j, "name") for j in p.jokers],
        }
    if case == "phase_changed":
        return {"old_phase": opt(p, "old_phase"), "new_phase": opt(p, "new_phase")}
    if case == "round_complete":
        return {f: double(opt(p, f)) for f in ("ante", "round", "score", "money")}
    if case == "joker_trigger":
        return {"joker_name": opt(p, "joker_name"), "timestamp": double(opt(p, "timestamp"))}
    if case == "scoring":
        return {"detail_case": p.WhichOneof("detail")}
    return {}


def fields(event: event_pb2.Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "type": event_pb2.EventType.Name(event.type),
        "type_name": event.type_name,
        "source": opt(event, "source"),
        "session": event.session,
        "client_timestamp_ms": double(opt(event, "client_timestamp_ms")),
        "batch_id": event.batch_id,
        "batch_timestamp_ms": double(opt(event, "batch_timestamp_ms")),
        "has_received_at": event.HasField("received_at"),
        "version": double(opt(event, "version")),
        "priority": opt(event, "priority"),
        "subtype": opt(event, "subtype"),
        "initial": opt(event, "initial"),
        "debug": opt(event, "debug"),
        "has_changes": event.has_changes,
        "changes": [fields(change) for change in event.changes],
        "original_json_hex": event.original_json.hex(),
        "payload_from_data": event.payload_from_data,
        "payload_case": event.WhichOneof("payload"),
        "payload": payload_fields(event),
    }


def test_index_lists_every_vector_file() -> None:
    listed = sorted(entry["file"] for entry in INDEX["events"])
    on_disk = sorted(f"events/{p.name}" for p in (GOLDEN / "events").glob("*.binpb"))
    assert listed == on_disk
    assert len(listed) > 40


@pytest.mark.parametrize("entry", INDEX["events"], ids=lambda e: e["file"])
def test_rust_vector_decodes_to_the_expected_fields(entry: dict[str, Any]) -> None:
    data = (GOLDEN / entry["file"]).read_bytes()
    event = event_pb2.Event.FromString(data)
    assert fields(event) == entry["expected"]
    # Nothing the decoder skipped or lost: re-encoding gives Rust's bytes.
    assert event.SerializeToString(deterministic=True) == data


def test_a_truncated_vector_is_rejected() -> None:
    entry = INDEX["events"][0]
    data = (GOLDEN / entry["file"]).read_bytes()
    with pytest.raises(Exception, match="(?i)error parsing|truncated"):
        event_pb2.Event.FromString(data[: len(data) - 1])


# Field 99 (not in the schema), varint 1: what a newer additive schema adds.
UNKNOWN_FIELD = b"\x98\x06\x01"


def test_an_unknown_field_survives_decoding_and_re_encoding() -> None:
    data = (GOLDEN / INDEX["events"][0]["file"]).read_bytes() + UNKNOWN_FIELD
    event = event_pb2.Event.FromString(data)
    assert event.SerializeToString(deterministic=True) == data


@pytest.mark.parametrize(
    "garbage",
    [b"\xff", b"\x0a\x05ab", b"\x07"],
    ids=["bad-varint", "short-string", "bad-wire-type"],
)
def test_malformed_bytes_are_rejected(garbage: bytes) -> None:
    with pytest.raises(Exception, match="(?i)error parsing|truncated"):
        event_pb2.Event.FromString(garbage)


def client_events() -> dict[str, event_pb2.Event]:
    """The events Rust's golden test expects; the same values as its client_events()."""
    money = event_pb2.Event(
        event_id="client-money-1",
        type=event_pb2.EVENT_TYPE_MONEY_CHANGED,
        type_name="money_changed",
        source="BalatroMCP",
        session="golden",
        client_timestamp_ms=12345.5,
        batch_id="batch-\u00fc",
        version=1.0,
        priority="high",
        original_json=b'{"money":inf}\x00\xff',
        money_changed=payloads_pb2.MoneyChanged(old_value=4.0, new_value=9.0, difference=5.0),
    )
    state = event_pb2.Event(
        event_id="client-state-1",
        type=event_pb2.EVENT_TYPE_GAME_STATE,
        type_name="GAME_STATE",
        session="golden",
        received_at=timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5),
        initial=True,
        has_changes=True,
        changes=[
            event_pb2.Event(
                type=event_pb2.EVENT_TYPE_ROUND_CHANGED,
                type_name="round_changed",
                round_changed=payloads_pb2.RoundChanged(ante=2.0, round=3.0),
            )
        ],
        game_state=game_state_pb2.GameState(
            in_game=True,
            ante=2.0,
            money=-3.5,
            chips=1e300,
            mult=math.inf,
            jokers=[game_state_pb2.Joker(text_id="joker_1", name="J\u00f6ker \U0001f0cf", position=0.0)],
            score_history={"1": game_state_pb2.ScoreHistoryItem(label="Pair", amt=10.0)},
        ),
    )
    custom = event_pb2.Event(
        type=event_pb2.EVENT_TYPE_CUSTOM,
        type_name="mystery_event",
        session="golden",
    )
    return {"money_changed": money, "game_state": state, "custom": custom}


@pytest.mark.parametrize("name", ["money_changed", "game_state", "custom"])
def test_python_encoding_matches_the_committed_vector(name: str) -> None:
    data = client_events()[name].SerializeToString(deterministic=True)
    path = GOLDEN / "from-python" / f"{name}.binpb"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.read_bytes() == data, f"{path} is stale; rerun with UPDATE_GOLDEN=1"
