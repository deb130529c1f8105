"""The small interface every inbound source implements (the registry is ``registry.py``).

A source is pure: it gets the request (already authenticated and size-checked by the edge) and
returns the normalised events, or raises ``PayloadError`` naming what is wrong (the edge answers 4xx).
Adding a vendor is a module plus one line in ``registry.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from koban.domain.alerts import AlertEvent


class PayloadError(ValueError):
    """The payload cannot be understood. ``field`` is a JSON-path-ish pointer to the culprit."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def as_dict(self) -> dict[str, Any]:
        # detail is koban's error shape (api/errors.py); error, the same text, is what ingest
        # answered before it and senders' scripts may read.
        out: dict[str, Any] = {"detail": self.message, "error": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """What a source sees of an HTTP request: raw body, parsed JSON (if any), headers, query."""

    body: bytes
    json: Any
    headers: Mapping[str, str]
    query: Mapping[str, str]
    received_at: datetime
    path_params: Mapping[str, str] = field(default_factory=dict)


class Source(Protocol):
    kind: ClassVar[str]

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        """Normalise one delivery into zero or more events. Raise PayloadError on bad input."""
        ...
