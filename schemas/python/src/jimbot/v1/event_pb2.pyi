import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jimbot.v1 import game_state_pb2 as _game_state_pb2
from jimbot.v1 import payloads_pb2 as _payloads_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_CONNECTION_TEST: _ClassVar[EventType]
    EVENT_TYPE_HEARTBEAT: _ClassVar[EventType]
    EVENT_TYPE_GAME_STATE: _ClassVar[EventType]
    EVENT_TYPE_MONEY_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_SCORE_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_HAND_PLAYED: _ClassVar[EventType]
    EVENT_TYPE_CARDS_DISCARDED: _ClassVar[EventType]
    EVENT_TYPE_JOKERS_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_ROUND_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_PHASE_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_ROUND_COMPLETE: _ClassVar[EventType]
    EVENT_TYPE_JOKER_TRIGGER: _ClassVar[EventType]
    EVENT_TYPE_SCORING: _ClassVar[EventType]
    EVENT_TYPE_LEARNING_DECISION: _ClassVar[EventType]
    EVENT_TYPE_ERROR: _ClassVar[EventType]
    EVENT_TYPE_DIAGNOSTIC: _ClassVar[EventType]
    EVENT_TYPE_CUSTOM: _ClassVar[EventType]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_CONNECTION_TEST: EventType
EVENT_TYPE_HEARTBEAT: EventType
EVENT_TYPE_GAME_STATE: EventType
EVENT_TYPE_MONEY_CHANGED: EventType
EVENT_TYPE_SCORE_CHANGED: EventType
EVENT_TYPE_HAND_PLAYED: EventType
EVENT_TYPE_CARDS_DISCARDED: EventType
EVENT_TYPE_JOKERS_CHANGED: EventType
EVENT_TYPE_ROUND_CHANGED: EventType
EVENT_TYPE_PHASE_CHANGED: EventType
EVENT_TYPE_ROUND_COMPLETE: EventType
EVENT_TYPE_JOKER_TRIGGER: EventType
EVENT_TYPE_SCORING: EventType
EVENT_TYPE_LEARNING_DECISION: EventType
EVENT_TYPE_ERROR: EventType
EVENT_TYPE_DIAGNOSTIC: EventType
EVENT_TYPE_CUSTOM: EventType

class Event(_message.Message):
    __slots__ = ("event_id", "type", "type_name", "source", "session", "client_timestamp_ms", "batch_id", "batch_timestamp_ms", "received_at", "version", "priority", "subtype", "initial", "debug", "changes", "has_changes", "original_json", "payload_from_data", "game_state", "heartbeat", "money_changed", "score_changed", "hand_played", "cards_discarded", "jokers_changed", "round_changed", "phase_changed", "round_complete", "joker_trigger", "scoring", "connection_test", "learning_decision", "error", "diagnostic")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SUBTYPE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_FIELD_NUMBER: _ClassVar[int]
    DEBUG_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    HAS_CHANGES_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_JSON_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FROM_DATA_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    MONEY_CHANGED_FIELD_NUMBER: _ClassVar[int]
    SCORE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    HAND_PLAYED_FIELD_NUMBER: _ClassVar[int]
    CARDS_DISCARDED_FIELD_NUMBER: _ClassVar[int]
    JOKERS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ROUND_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PHASE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ROUND_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    JOKER_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_TEST_FIELD_NUMBER: _ClassVar[int]
    LEARNING_DECISION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTIC_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: EventType
    type_name: str
    source: str
    session: str
    client_timestamp_ms: float
    batch_id: str
    batch_timestamp_ms: float
    received_at: _timestamp_pb2.Timestamp
    version: float
    priority: str
    subtype: str
    initial: bool
    debug: bool
    changes: _containers.RepeatedCompositeFieldContainer[Event]
    has_changes: bool
    original_json: bytes
    payload_from_data: bool
    game_state: _game_state_pb2.GameState
    heartbeat: _payloads_pb2.Heartbeat
    money_changed: _payloads_pb2.MoneyChanged
    score_changed: _payloads_pb2.ScoreChanged
    hand_played: _payloads_pb2.HandPlayed
    cards_discarded: _payloads_pb2.CardsDiscarded
    jokers_changed: _payloads_pb2.JokersChanged
    round_changed: _payloads_pb2.RoundChanged
    phase_changed: _payloads_pb2.PhaseChanged
    round_complete: _payloads_pb2.RoundComplete
    joker_trigger: _payloads_pb2.JokerTrigger
    scoring: _payloads_pb2.Scoring
    connection_test: _payloads_pb2.ConnectionTest
    learning_decision: _payloads_pb2.LearningDecision
    error: _payloads_pb2.ErrorReport
    diagnostic: _payloads_pb2.Diagnostic
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., type_name: _Optional[str] = ..., source: _Optional[str] = ..., session: _Optional[str] = ..., client_timestamp_ms: _Optional[float] = ..., batch_id: _Optional[str] = ..., batch_timestamp_ms: _Optional[float] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[float] = ..., priority: _Optional[str] = ..., subtype: _Optional[str] = ..., initial: _Optional[bool] = ..., debug: _Optional[bool] = ..., changes: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., has_changes: _Optional[bool] = ..., original_json: _Optional[bytes] = ..., payload_from_data: _Optional[bool] = ..., game_state: _Optional[_Union[_game_state_pb2.GameState, _Mapping]] = ..., heartbeat: _Optional[_Union[_payloads_pb2.Heartbeat, _Mapping]] = ..., money_changed: _Optional[_Union[_payloads_pb2.MoneyChanged, _Mapping]] = ..., score_changed: _Optional[_Union[_payloads_pb2.ScoreChanged, _Mapping]] = ..., hand_played: _Optional[_Union[_payloads_pb2.HandPlayed, _Mapping]] = ..., cards_discarded: _Optional[_Union[_payloads_pb2.CardsDiscarded, _Mapping]] = ..., jokers_changed: _Optional[_Union[_payloads_pb2.JokersChanged, _Mapping]] = ..., round_changed: _Optional[_Union[_payloads_pb2.RoundChanged, _Mapping]] = ..., phase_changed: _Optional[_Union[_payloads_pb2.PhaseChanged, _Mapping]] = ..., round_complete: _Optional[_Union[_payloads_pb2.RoundComplete, _Mapping]] = ..., joker_trigger: _Optional[_Union[_payloads_pb2.JokerTrigger, _Mapping]] = ..., scoring: _Optional[_Union[_payloads_pb2.Scoring, _Mapping]] = ..., connection_test: _Optional[_Union[_payloads_pb2.ConnectionTest, _Mapping]] = ..., learning_decision: _Optional[_Union[_payloads_pb2.LearningDecision, _Mapping]] = ..., error: _Optional[_Union[_payloads_pb2.ErrorReport, _Mapping]] = ..., diagnostic: _Optional[_Union[_payloads_pb2.Diagnostic, _Mapping]] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("batch_id", "source", "timestamp_ms", "events")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    source: str
    timestamp_ms: float
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, batch_id: _Optional[str] = ..., source: _Optional[str] = ..., timestamp_ms: _Optional[float] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...
