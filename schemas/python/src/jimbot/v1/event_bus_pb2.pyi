import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jimbot.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeadLetterReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_REASON_UNSPECIFIED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_INVALID_BODY: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_INVALID_EVENT: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_TOO_LARGE: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_OTHER: _ClassVar[DeadLetterReason]

class StartPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    START_POLICY_UNSPECIFIED: _ClassVar[StartPolicy]
    START_POLICY_NEW: _ClassVar[StartPolicy]
    START_POLICY_ALL: _ClassVar[StartPolicy]
    START_POLICY_SEQUENCE: _ClassVar[StartPolicy]
    START_POLICY_TIME: _ClassVar[StartPolicy]
DEAD_LETTER_REASON_UNSPECIFIED: DeadLetterReason
DEAD_LETTER_REASON_INVALID_BODY: DeadLetterReason
DEAD_LETTER_REASON_INVALID_EVENT: DeadLetterReason
DEAD_LETTER_REASON_TOO_LARGE: DeadLetterReason
DEAD_LETTER_REASON_OTHER: DeadLetterReason
START_POLICY_UNSPECIFIED: StartPolicy
START_POLICY_NEW: StartPolicy
START_POLICY_ALL: StartPolicy
START_POLICY_SEQUENCE: StartPolicy
START_POLICY_TIME: StartPolicy

class PublishRequest(_message.Message):
    __slots__ = ("session", "event", "mod_json")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MOD_JSON_FIELD_NUMBER: _ClassVar[int]
    session: str
    event: _event_pb2.Event
    mod_json: bytes
    def __init__(self, session: _Optional[str] = ..., event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., mod_json: _Optional[bytes] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: PublishResult
    def __init__(self, result: _Optional[_Union[PublishResult, _Mapping]] = ...) -> None: ...

class PublishBatchRequest(_message.Message):
    __slots__ = ("session", "batch", "mod_json")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    MOD_JSON_FIELD_NUMBER: _ClassVar[int]
    session: str
    batch: _event_pb2.EventBatch
    mod_json: bytes
    def __init__(self, session: _Optional[str] = ..., batch: _Optional[_Union[_event_pb2.EventBatch, _Mapping]] = ..., mod_json: _Optional[bytes] = ...) -> None: ...

class PublishBatchResponse(_message.Message):
    __slots__ = ("results", "batch_id", "body_dead_lettered")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PublishResult]
    batch_id: str
    body_dead_lettered: DeadLettered
    def __init__(self, results: _Optional[_Iterable[_Union[PublishResult, _Mapping]]] = ..., batch_id: _Optional[str] = ..., body_dead_lettered: _Optional[_Union[DeadLettered, _Mapping]] = ...) -> None: ...

class PublishResult(_message.Message):
    __slots__ = ("index", "event_id", "msg_id", "stored", "duplicate", "dead_lettered")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    index: int
    event_id: str
    msg_id: str
    stored: Stored
    duplicate: Duplicate
    dead_lettered: DeadLettered
    def __init__(self, index: _Optional[int] = ..., event_id: _Optional[str] = ..., msg_id: _Optional[str] = ..., stored: _Optional[_Union[Stored, _Mapping]] = ..., duplicate: _Optional[_Union[Duplicate, _Mapping]] = ..., dead_lettered: _Optional[_Union[DeadLettered, _Mapping]] = ...) -> None: ...

class Stored(_message.Message):
    __slots__ = ("stream", "sequence")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    stream: str
    sequence: int
    def __init__(self, stream: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class Duplicate(_message.Message):
    __slots__ = ("stream", "sequence")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    stream: str
    sequence: int
    def __init__(self, stream: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class DeadLettered(_message.Message):
    __slots__ = ("reason", "detail", "stream", "sequence")
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    reason: DeadLetterReason
    detail: str
    stream: str
    sequence: int
    def __init__(self, reason: _Optional[_Union[DeadLetterReason, str]] = ..., detail: _Optional[str] = ..., stream: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("sessions", "event_types", "subject_pattern")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_PATTERN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedScalarFieldContainer[str]
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    subject_pattern: str
    def __init__(self, sessions: _Optional[_Iterable[str]] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ..., subject_pattern: _Optional[str] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("filter", "start_policy", "start_sequence", "start_time")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    START_POLICY_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    filter: EventFilter
    start_policy: StartPolicy
    start_sequence: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, filter: _Optional[_Union[EventFilter, _Mapping]] = ..., start_policy: _Optional[_Union[StartPolicy, str]] = ..., start_sequence: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("event", "stream", "sequence", "subject", "stored_at")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STORED_AT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    stream: str
    sequence: int
    subject: str
    stored_at: _timestamp_pb2.Timestamp
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., stream: _Optional[str] = ..., sequence: _Optional[int] = ..., subject: _Optional[str] = ..., stored_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: StoredEvent
    def __init__(self, event: _Optional[_Union[StoredEvent, _Mapping]] = ...) -> None: ...

class RunRef(_message.Message):
    __slots__ = ("session", "run_id")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    session: str
    run_id: str
    def __init__(self, session: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class SequenceRange(_message.Message):
    __slots__ = ("from_sequence", "to_sequence")
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TO_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    from_sequence: int
    to_sequence: int
    def __init__(self, from_sequence: _Optional[int] = ..., to_sequence: _Optional[int] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("since", "until")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReplayRequest(_message.Message):
    __slots__ = ("session", "run", "sequence_range", "time_range", "event_types")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_RANGE_FIELD_NUMBER: _ClassVar[int]
    TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    session: str
    run: RunRef
    sequence_range: SequenceRange
    time_range: TimeRange
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    def __init__(self, session: _Optional[str] = ..., run: _Optional[_Union[RunRef, _Mapping]] = ..., sequence_range: _Optional[_Union[SequenceRange, _Mapping]] = ..., time_range: _Optional[_Union[TimeRange, _Mapping]] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ...) -> None: ...

class ReplayResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: StoredEvent
    def __init__(self, event: _Optional[_Union[StoredEvent, _Mapping]] = ...) -> None: ...
