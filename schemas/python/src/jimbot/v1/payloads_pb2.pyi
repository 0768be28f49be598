from jimbot.v1 import game_state_pb2 as _game_state_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionTest(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("version", "uptime", "headless", "game_state")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    HEADLESS_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    version: str
    uptime: float
    headless: bool
    game_state: str
    def __init__(self, version: _Optional[str] = ..., uptime: _Optional[float] = ..., headless: _Optional[bool] = ..., game_state: _Optional[str] = ...) -> None: ...

class MoneyChanged(_message.Message):
    __slots__ = ("old_value", "new_value", "difference")
    OLD_VALUE_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    old_value: float
    new_value: float
    difference: float
    def __init__(self, old_value: _Optional[float] = ..., new_value: _Optional[float] = ..., difference: _Optional[float] = ...) -> None: ...

class ScoreChanged(_message.Message):
    __slots__ = ("old_chips", "new_chips", "old_mult", "new_mult")
    OLD_CHIPS_FIELD_NUMBER: _ClassVar[int]
    NEW_CHIPS_FIELD_NUMBER: _ClassVar[int]
    OLD_MULT_FIELD_NUMBER: _ClassVar[int]
    NEW_MULT_FIELD_NUMBER: _ClassVar[int]
    old_chips: float
    new_chips: float
    old_mult: float
    new_mult: float
    def __init__(self, old_chips: _Optional[float] = ..., new_chips: _Optional[float] = ..., old_mult: _Optional[float] = ..., new_mult: _Optional[float] = ...) -> None: ...

class HandPlayed(_message.Message):
    __slots__ = ("hands_remaining", "hand_number")
    HANDS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    hands_remaining: float
    hand_number: float
    def __init__(self, hands_remaining: _Optional[float] = ..., hand_number: _Optional[float] = ...) -> None: ...

class CardsDiscarded(_message.Message):
    __slots__ = ("discards_remaining",)
    DISCARDS_REMAINING_FIELD_NUMBER: _ClassVar[int]
    discards_remaining: float
    def __init__(self, discards_remaining: _Optional[float] = ...) -> None: ...

class JokersChanged(_message.Message):
    __slots__ = ("old_count", "new_count", "jokers")
    OLD_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    JOKERS_FIELD_NUMBER: _ClassVar[int]
    old_count: float
    new_count: float
    jokers: _containers.RepeatedCompositeFieldContainer[_game_state_pb2.Joker]
    def __init__(self, old_count: _Optional[float] = ..., new_count: _Optional[float] = ..., jokers: _Optional[_Iterable[_Union[_game_state_pb2.Joker, _Mapping]]] = ...) -> None: ...

class RoundChanged(_message.Message):
    __slots__ = ("ante", "round")
    ANTE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ante: float
    round: float
    def __init__(self, ante: _Optional[float] = ..., round: _Optional[float] = ...) -> None: ...

class PhaseChanged(_message.Message):
    __slots__ = ("old_phase", "new_phase")
    OLD_PHASE_FIELD_NUMBER: _ClassVar[int]
    NEW_PHASE_FIELD_NUMBER: _ClassVar[int]
    old_phase: str
    new_phase: str
    def __init__(self, old_phase: _Optional[str] = ..., new_phase: _Optional[str] = ...) -> None: ...

class RoundComplete(_message.Message):
    __slots__ = ("ante", "round", "score", "money")
    ANTE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MONEY_FIELD_NUMBER: _ClassVar[int]
    ante: float
    round: float
    score: float
    money: float
    def __init__(self, ante: _Optional[float] = ..., round: _Optional[float] = ..., score: _Optional[float] = ..., money: _Optional[float] = ...) -> None: ...

class JokerTrigger(_message.Message):
    __slots__ = ("joker_name", "context_flag", "context_text", "timestamp")
    JOKER_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FLAG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_TEXT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    joker_name: str
    context_flag: bool
    context_text: str
    timestamp: float
    def __init__(self, joker_name: _Optional[str] = ..., context_flag: _Optional[bool] = ..., context_text: _Optional[str] = ..., timestamp: _Optional[float] = ...) -> None: ...

class Scoring(_message.Message):
    __slots__ = ("hand_eval_start", "joker_trigger", "hand_eval_complete", "score_update", "mult_update", "chips_update")
    HAND_EVAL_START_FIELD_NUMBER: _ClassVar[int]
    JOKER_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    HAND_EVAL_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    SCORE_UPDATE_FIELD_NUMBER: _ClassVar[int]
    MULT_UPDATE_FIELD_NUMBER: _ClassVar[int]
    CHIPS_UPDATE_FIELD_NUMBER: _ClassVar[int]
    hand_eval_start: HandEvalStart
    joker_trigger: ScoringJokerTrigger
    hand_eval_complete: HandEvalComplete
    score_update: ScoreUpdate
    mult_update: MultUpdate
    chips_update: ChipsUpdate
    def __init__(self, hand_eval_start: _Optional[_Union[HandEvalStart, _Mapping]] = ..., joker_trigger: _Optional[_Union[ScoringJokerTrigger, _Mapping]] = ..., hand_eval_complete: _Optional[_Union[HandEvalComplete, _Mapping]] = ..., score_update: _Optional[_Union[ScoreUpdate, _Mapping]] = ..., mult_update: _Optional[_Union[MultUpdate, _Mapping]] = ..., chips_update: _Optional[_Union[ChipsUpdate, _Mapping]] = ...) -> None: ...

class HandEvalStart(_message.Message):
    __slots__ = ("starting_score", "ante", "round", "hand_number")
    STARTING_SCORE_FIELD_NUMBER: _ClassVar[int]
    ANTE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    starting_score: float
    ante: float
    round: float
    hand_number: float
    def __init__(self, starting_score: _Optional[float] = ..., ante: _Optional[float] = ..., round: _Optional[float] = ..., hand_number: _Optional[float] = ...) -> None: ...

class ScoringJokerTrigger(_message.Message):
    __slots__ = ("joker", "score_contribution", "current_total", "timestamp")
    JOKER_FIELD_NUMBER: _ClassVar[int]
    SCORE_CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    joker: ScoringJoker
    score_contribution: float
    current_total: float
    timestamp: float
    def __init__(self, joker: _Optional[_Union[ScoringJoker, _Mapping]] = ..., score_contribution: _Optional[float] = ..., current_total: _Optional[float] = ..., timestamp: _Optional[float] = ...) -> None: ...

class ScoringJoker(_message.Message):
    __slots__ = ("name", "numeric_id", "text_id", "position")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUMERIC_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    numeric_id: float
    text_id: str
    position: float
    def __init__(self, name: _Optional[str] = ..., numeric_id: _Optional[float] = ..., text_id: _Optional[str] = ..., position: _Optional[float] = ...) -> None: ...

class HandEvalComplete(_message.Message):
    __slots__ = ("starting_score", "final_score", "total_delta", "joker_triggers", "ante", "round", "hand_number")
    STARTING_SCORE_FIELD_NUMBER: _ClassVar[int]
    FINAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DELTA_FIELD_NUMBER: _ClassVar[int]
    JOKER_TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    ANTE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    HAND_NUMBER_FIELD_NUMBER: _ClassVar[int]
    starting_score: float
    final_score: float
    total_delta: float
    joker_triggers: float
    ante: float
    round: float
    hand_number: float
    def __init__(self, starting_score: _Optional[float] = ..., final_score: _Optional[float] = ..., total_delta: _Optional[float] = ..., joker_triggers: _Optional[float] = ..., ante: _Optional[float] = ..., round: _Optional[float] = ..., hand_number: _Optional[float] = ...) -> None: ...

class ScoreUpdate(_message.Message):
    __slots__ = ("previous_score", "new_score", "delta", "total_hand_delta", "context", "timestamp")
    PREVIOUS_SCORE_FIELD_NUMBER: _ClassVar[int]
    NEW_SCORE_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    TOTAL_HAND_DELTA_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    previous_score: float
    new_score: float
    delta: float
    total_hand_delta: float
    context: str
    timestamp: float
    def __init__(self, previous_score: _Optional[float] = ..., new_score: _Optional[float] = ..., delta: _Optional[float] = ..., total_hand_delta: _Optional[float] = ..., context: _Optional[str] = ..., timestamp: _Optional[float] = ...) -> None: ...

class MultUpdate(_message.Message):
    __slots__ = ("mult_before", "mult_after", "delta", "source", "timestamp")
    MULT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MULT_AFTER_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    mult_before: float
    mult_after: float
    delta: float
    source: str
    timestamp: float
    def __init__(self, mult_before: _Optional[float] = ..., mult_after: _Optional[float] = ..., delta: _Optional[float] = ..., source: _Optional[str] = ..., timestamp: _Optional[float] = ...) -> None: ...

class ChipsUpdate(_message.Message):
    __slots__ = ("chips_before", "chips_after", "delta", "source", "timestamp")
    CHIPS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CHIPS_AFTER_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    chips_before: float
    chips_after: float
    delta: float
    source: str
    timestamp: float
    def __init__(self, chips_before: _Optional[float] = ..., chips_after: _Optional[float] = ..., delta: _Optional[float] = ..., source: _Optional[str] = ..., timestamp: _Optional[float] = ...) -> None: ...

class LearningDecision(_message.Message):
    __slots__ = ("request_id", "game_state", "available_actions", "time_limit_ms")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GAME_STATE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_MS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    game_state: _game_state_pb2.GameState
    available_actions: _containers.RepeatedScalarFieldContainer[str]
    time_limit_ms: float
    def __init__(self, request_id: _Optional[str] = ..., game_state: _Optional[_Union[_game_state_pb2.GameState, _Mapping]] = ..., available_actions: _Optional[_Iterable[str]] = ..., time_limit_ms: _Optional[float] = ...) -> None: ...

class ErrorReport(_message.Message):
    __slots__ = ("message", "context_json", "stack_trace")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    STACK_TRACE_FIELD_NUMBER: _ClassVar[int]
    message: str
    context_json: bytes
    stack_trace: str
    def __init__(self, message: _Optional[str] = ..., context_json: _Optional[bytes] = ..., stack_trace: _Optional[str] = ...) -> None: ...

class Diagnostic(_message.Message):
    __slots__ = ("available_functions", "g_exists", "g_funcs_exists", "g_game_exists", "g_state_number", "g_state_text")
    AVAILABLE_FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    G_EXISTS_FIELD_NUMBER: _ClassVar[int]
    G_FUNCS_EXISTS_FIELD_NUMBER: _ClassVar[int]
    G_GAME_EXISTS_FIELD_NUMBER: _ClassVar[int]
    G_STATE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    G_STATE_TEXT_FIELD_NUMBER: _ClassVar[int]
    available_functions: _containers.RepeatedScalarFieldContainer[str]
    g_exists: bool
    g_funcs_exists: bool
    g_game_exists: bool
    g_state_number: float
    g_state_text: str
    def __init__(self, available_functions: _Optional[_Iterable[str]] = ..., g_exists: _Optional[bool] = ..., g_funcs_exists: _Optional[bool] = ..., g_game_exists: _Optional[bool] = ..., g_state_number: _Optional[float] = ..., g_state_text: _Optional[str] = ...) -> None: ...
