import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KnowledgeUpdate(_message.Message):
    __slots__ = ("update_id", "source", "session", "upsert_nodes", "upsert_edges", "delete_nodes", "delete_edges", "produced_at")
    UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    UPSERT_NODES_FIELD_NUMBER: _ClassVar[int]
    UPSERT_EDGES_FIELD_NUMBER: _ClassVar[int]
    DELETE_NODES_FIELD_NUMBER: _ClassVar[int]
    DELETE_EDGES_FIELD_NUMBER: _ClassVar[int]
    PRODUCED_AT_FIELD_NUMBER: _ClassVar[int]
    update_id: str
    source: str
    session: str
    upsert_nodes: _containers.RepeatedCompositeFieldContainer[KnowledgeNode]
    upsert_edges: _containers.RepeatedCompositeFieldContainer[KnowledgeEdge]
    delete_nodes: _containers.RepeatedCompositeFieldContainer[KnowledgeNodeRef]
    delete_edges: _containers.RepeatedCompositeFieldContainer[KnowledgeEdge]
    produced_at: _timestamp_pb2.Timestamp
    def __init__(self, update_id: _Optional[str] = ..., source: _Optional[str] = ..., session: _Optional[str] = ..., upsert_nodes: _Optional[_Iterable[_Union[KnowledgeNode, _Mapping]]] = ..., upsert_edges: _Optional[_Iterable[_Union[KnowledgeEdge, _Mapping]]] = ..., delete_nodes: _Optional[_Iterable[_Union[KnowledgeNodeRef, _Mapping]]] = ..., delete_edges: _Optional[_Iterable[_Union[KnowledgeEdge, _Mapping]]] = ..., produced_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class KnowledgeNodeRef(_message.Message):
    __slots__ = ("label", "key")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    label: str
    key: str
    def __init__(self, label: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class KnowledgeNode(_message.Message):
    __slots__ = ("ref", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KnowledgeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KnowledgeValue, _Mapping]] = ...) -> None: ...
    REF_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    ref: KnowledgeNodeRef
    properties: _containers.MessageMap[str, KnowledgeValue]
    def __init__(self, ref: _Optional[_Union[KnowledgeNodeRef, _Mapping]] = ..., properties: _Optional[_Mapping[str, KnowledgeValue]] = ...) -> None: ...

class KnowledgeEdge(_message.Message):
    __slots__ = ("to", "relationship", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: KnowledgeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[KnowledgeValue, _Mapping]] = ...) -> None: ...
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    to: KnowledgeNodeRef
    relationship: str
    properties: _containers.MessageMap[str, KnowledgeValue]
    def __init__(self, to: _Optional[_Union[KnowledgeNodeRef, _Mapping]] = ..., relationship: _Optional[str] = ..., properties: _Optional[_Mapping[str, KnowledgeValue]] = ..., **kwargs) -> None: ...

class KnowledgeValue(_message.Message):
    __slots__ = ("string_value", "number_value", "int_value", "bool_value")
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    string_value: str
    number_value: float
    int_value: int
    bool_value: bool
    def __init__(self, string_value: _Optional[str] = ..., number_value: _Optional[float] = ..., int_value: _Optional[int] = ..., bool_value: _Optional[bool] = ...) -> None: ...
