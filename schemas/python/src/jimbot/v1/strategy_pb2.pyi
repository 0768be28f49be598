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

class StrategyRequest(_message.Message):
    __slots__ = ("request_id", "session", "game_state", "question", "available_actions", "context", "deadline", "requested_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session: str
    game_state: _game_state_pb2.GameState
    question: str
    available_actions: _containers.RepeatedScalarFieldContainer[str]
    context: str
    deadline: _duration_pb2.Duration
    requested_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., session: _Optional[str] = ..., game_state: _Optional[_Union[_game_state_pb2.GameState, _Mapping]] = ..., question: _Optional[str] = ..., available_actions: _Optional[_Iterable[str]] = ..., context: _Optional[str] = ..., deadline: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StrategyResponse(_message.Message):
    __slots__ = ("request_id", "session", "strategy", "recommended_commands", "confidence", "reasoning", "model", "input_tokens", "output_tokens", "decided_at", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_COMMANDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    session: str
    strategy: str
    recommended_commands: _containers.RepeatedCompositeFieldContainer[_command_pb2.Command]
    confidence: float
    reasoning: str
    model: str
    input_tokens: int
    output_tokens: int
    decided_at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, request_id: _Optional[str] = ..., session: _Optional[str] = ..., strategy: _Optional[str] = ..., recommended_commands: _Optional[_Iterable[_Union[_command_pb2.Command, _Mapping]]] = ..., confidence: _Optional[float] = ..., reasoning: _Optional[str] = ..., model: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...
