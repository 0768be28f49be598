import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_MEDIUM: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]

class DenialReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DENIAL_REASON_UNSPECIFIED: _ClassVar[DenialReason]
    DENIAL_REASON_UNKNOWN_RESOURCE: _ClassVar[DenialReason]
    DENIAL_REASON_INVALID_QUANTITY: _ClassVar[DenialReason]
    DENIAL_REASON_INVALID_DURATION: _ClassVar[DenialReason]
    DENIAL_REASON_TIMEOUT: _ClassVar[DenialReason]
    DENIAL_REASON_QUOTA_EXHAUSTED: _ClassVar[DenialReason]
    DENIAL_REASON_INSUFFICIENT_SYSTEM_MEMORY: _ClassVar[DenialReason]
    DENIAL_REASON_INVALID_ARGUMENT: _ClassVar[DenialReason]
    DENIAL_REASON_SHUTTING_DOWN: _ClassVar[DenialReason]

class LeaseFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEASE_FAILURE_REASON_UNSPECIFIED: _ClassVar[LeaseFailureReason]
    LEASE_FAILURE_REASON_NOT_FOUND: _ClassVar[LeaseFailureReason]
    LEASE_FAILURE_REASON_EXPIRED: _ClassVar[LeaseFailureReason]
    LEASE_FAILURE_REASON_NOT_HOLDER: _ClassVar[LeaseFailureReason]
    LEASE_FAILURE_REASON_INVALID_DURATION: _ClassVar[LeaseFailureReason]
    LEASE_FAILURE_REASON_PREEMPTED: _ClassVar[LeaseFailureReason]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_HIGH: Priority
PRIORITY_MEDIUM: Priority
PRIORITY_LOW: Priority
DENIAL_REASON_UNSPECIFIED: DenialReason
DENIAL_REASON_UNKNOWN_RESOURCE: DenialReason
DENIAL_REASON_INVALID_QUANTITY: DenialReason
DENIAL_REASON_INVALID_DURATION: DenialReason
DENIAL_REASON_TIMEOUT: DenialReason
DENIAL_REASON_QUOTA_EXHAUSTED: DenialReason
DENIAL_REASON_INSUFFICIENT_SYSTEM_MEMORY: DenialReason
DENIAL_REASON_INVALID_ARGUMENT: DenialReason
DENIAL_REASON_SHUTTING_DOWN: DenialReason
LEASE_FAILURE_REASON_UNSPECIFIED: LeaseFailureReason
LEASE_FAILURE_REASON_NOT_FOUND: LeaseFailureReason
LEASE_FAILURE_REASON_EXPIRED: LeaseFailureReason
LEASE_FAILURE_REASON_NOT_HOLDER: LeaseFailureReason
LEASE_FAILURE_REASON_INVALID_DURATION: LeaseFailureReason
LEASE_FAILURE_REASON_PREEMPTED: LeaseFailureReason

class AcquireRequest(_message.Message):
    __slots__ = ("resource", "quantity", "priority", "holder", "lease_duration", "wait_timeout", "request_id")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    resource: str
    quantity: int
    priority: Priority
    holder: str
    lease_duration: _duration_pb2.Duration
    wait_timeout: _duration_pb2.Duration
    request_id: str
    def __init__(self, resource: _Optional[str] = ..., quantity: _Optional[int] = ..., priority: _Optional[_Union[Priority, str]] = ..., holder: _Optional[str] = ..., lease_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., wait_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ("lease_id", "resource", "holder", "quantity", "priority", "fencing_token", "granted_at", "expires_at", "request_id", "device")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    resource: str
    holder: str
    quantity: int
    priority: Priority
    fencing_token: int
    granted_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    request_id: str
    device: str
    def __init__(self, lease_id: _Optional[str] = ..., resource: _Optional[str] = ..., holder: _Optional[str] = ..., quantity: _Optional[int] = ..., priority: _Optional[_Union[Priority, str]] = ..., fencing_token: _Optional[int] = ..., granted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class Denial(_message.Message):
    __slots__ = ("reason", "message", "retry_after")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    reason: DenialReason
    message: str
    retry_after: _duration_pb2.Duration
    def __init__(self, reason: _Optional[_Union[DenialReason, str]] = ..., message: _Optional[str] = ..., retry_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class AcquireResponse(_message.Message):
    __slots__ = ("granted", "denied")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    granted: Lease
    denied: Denial
    def __init__(self, granted: _Optional[_Union[Lease, _Mapping]] = ..., denied: _Optional[_Union[Denial, _Mapping]] = ...) -> None: ...

class RenewRequest(_message.Message):
    __slots__ = ("lease_id", "holder", "lease_duration")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_DURATION_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    holder: str
    lease_duration: _duration_pb2.Duration
    def __init__(self, lease_id: _Optional[str] = ..., holder: _Optional[str] = ..., lease_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class LeaseFailure(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: LeaseFailureReason
    message: str
    def __init__(self, reason: _Optional[_Union[LeaseFailureReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class RenewResponse(_message.Message):
    __slots__ = ("renewed", "failed")
    RENEWED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    renewed: Lease
    failed: LeaseFailure
    def __init__(self, renewed: _Optional[_Union[Lease, _Mapping]] = ..., failed: _Optional[_Union[LeaseFailure, _Mapping]] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("lease_id", "holder")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    holder: str
    def __init__(self, lease_id: _Optional[str] = ..., holder: _Optional[str] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ("released", "failed")
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    released: Lease
    failed: LeaseFailure
    def __init__(self, released: _Optional[_Union[Lease, _Mapping]] = ..., failed: _Optional[_Union[LeaseFailure, _Mapping]] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ("resources",)
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, resources: _Optional[_Iterable[str]] = ...) -> None: ...

class WaitingCount(_message.Message):
    __slots__ = ("priority", "requests", "quantity")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    priority: Priority
    requests: int
    quantity: int
    def __init__(self, priority: _Optional[_Union[Priority, str]] = ..., requests: _Optional[int] = ..., quantity: _Optional[int] = ...) -> None: ...

class ResourceStatus(_message.Message):
    __slots__ = ("resource", "unit", "capacity", "allocated", "available", "waiting", "leases", "next_available_in")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_AVAILABLE_IN_FIELD_NUMBER: _ClassVar[int]
    resource: str
    unit: str
    capacity: int
    allocated: int
    available: int
    waiting: _containers.RepeatedCompositeFieldContainer[WaitingCount]
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    next_available_in: _duration_pb2.Duration
    def __init__(self, resource: _Optional[str] = ..., unit: _Optional[str] = ..., capacity: _Optional[int] = ..., allocated: _Optional[int] = ..., available: _Optional[int] = ..., waiting: _Optional[_Iterable[_Union[WaitingCount, _Mapping]]] = ..., leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ..., next_available_in: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StatusResponse(_message.Message):
    __slots__ = ("resources", "at", "fencing_counter")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    FENCING_COUNTER_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[ResourceStatus]
    at: _timestamp_pb2.Timestamp
    fencing_counter: int
    def __init__(self, resources: _Optional[_Iterable[_Union[ResourceStatus, _Mapping]]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fencing_counter: _Optional[int] = ...) -> None: ...

class WatchStatusRequest(_message.Message):
    __slots__ = ("resources", "min_interval")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    MIN_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedScalarFieldContainer[str]
    min_interval: _duration_pb2.Duration
    def __init__(self, resources: _Optional[_Iterable[str]] = ..., min_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchStatusResponse(_message.Message):
    __slots__ = ("resources", "at", "fencing_counter")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    FENCING_COUNTER_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[ResourceStatus]
    at: _timestamp_pb2.Timestamp
    fencing_counter: int
    def __init__(self, resources: _Optional[_Iterable[_Union[ResourceStatus, _Mapping]]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fencing_counter: _Optional[int] = ...) -> None: ...

class CoordinatorEvent(_message.Message):
    __slots__ = ("kind", "at", "lease", "resource", "holder", "denial")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    DENIAL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    at: _timestamp_pb2.Timestamp
    lease: Lease
    resource: str
    holder: str
    denial: Denial
    def __init__(self, kind: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., resource: _Optional[str] = ..., holder: _Optional[str] = ..., denial: _Optional[_Union[Denial, _Mapping]] = ...) -> None: ...
