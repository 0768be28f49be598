import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jimbot.v1 import command_pb2 as _command_pb2
from jimbot.v1 import game_state_pb2 as _game_state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LearningDecisionRequest(_message.Message):
    __slots__ = ("request_id", "session", "game_state", "available_actions", "time_limit", "source_event_id", "requested_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session: str
    game_state: _game_state_pb2.GameState
    available_actions: _containers.RepeatedScalarFieldContainer[str]
    time_limit: _duration_pb2.Duration
    source_event_id: str
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., session: _Optional[str] = ..., game_state: _Optional[_Union[_game_state_pb2.GameState, _Mapping]] = ..., available_actions: _Optional[_Iterable[str]] = ..., time_limit: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., source_event_id: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LearningDecisionResponse(_message.Message):
    __slots__ = ("request_id", "session", "commands", "action_probabilities", "value_estimate", "policy_version", "decided_at", "error")
    class ActionProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    ACTION_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    VALUE_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session: str
    commands: _containers.RepeatedCompositeFieldContainer[_command_pb2.Command]
    action_probabilities: _containers.ScalarMap[str, float]
    value_estimate: float
    policy_version: str
    decided_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, request_id: _Optional[str] = ..., session: _Optional[str] = ..., commands: _Optional[_Iterable[_Union[_command_pb2.Command, _Mapping]]] = ..., action_probabilities: _Optional[_Mapping[str, float]] = ..., value_estimate: _Optional[float] = ..., policy_version: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...
