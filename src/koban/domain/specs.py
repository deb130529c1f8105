"""The shapes the pure decisions read: who can be paged, how, and which policy a service uses.

Declared here, as read-only protocols, so the domain depends on nothing above it: the config model
(``koban.config``) satisfies them as it is, and a test can pass plain objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol


class PersonSpec(Protocol):
    @property
    def notify(self) -> Sequence[str]: ...


class RotationSpec(Protocol):
    @property
    def members(self) -> Sequence[str]: ...
    @property
    def shift(self) -> float | None: ...
    @property
    def start(self) -> datetime | None: ...


class TargetSpec(Protocol):
    @property
    def person(self) -> str | None: ...
    @property
    def rotation(self) -> str | None: ...
    @property
    def schedule(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def via(self) -> Sequence[str]: ...
    @property
    def mode(self) -> str: ...


class StepSpec(Protocol):
    @property
    def notify(self) -> Sequence[TargetSpec]: ...
    @property
    def escalate_after(self) -> float: ...
    @property
    def label(self) -> str: ...


class PolicySpec(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def steps(self) -> Sequence[StepSpec]: ...
    @property
    def repeat(self) -> int: ...
    @property
    def repeat_for(self) -> float | None: ...


class RouteMatchSpec(Protocol):
    @property
    def severity(self) -> Sequence[str]: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


class RouteSpec(Protocol):
    @property
    def match(self) -> RouteMatchSpec: ...
    @property
    def policy(self) -> str | None: ...
    @property
    def suppress(self) -> bool: ...


class ServiceSpec(Protocol):
    @property
    def policy(self) -> str | None: ...
    @property
    def routes(self) -> Sequence[RouteSpec]: ...
