"""The one shape of every error koban's HTTP API answers (4xx and 5xx, REST and ingest alike).

``{"detail": "<what is wrong, for a person>"}``, plus optional fields some answers add. ``detail``
is FastAPI's own field: every ``HTTPException``, every 401/403 of the guards and FastAPI's request
validation already answer it, and the clients and tests written against koban read it; problem+json
(RFC 9457) would have renamed it in every answer for no gain a client here could use. A 422 from
request validation keeps FastAPI's list form (one ``Issue`` per field), documented as such.

The ingest routes answered ``{"error": ...}`` before this shape was fixed; they now answer
``detail`` too and keep ``error`` (the same text) so the alert senders' scripts that read it go on
working. Vendor-compatible answers keep their vendor's shape (``/v2/enqueue`` answers PagerDuty's
``{"status", "message", "errors"}``), documented on that operation.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Issue(BaseModel):
    """One problem of a request that failed validation: where (``loc``) and what (``msg``)."""

    model_config = ConfigDict(extra="allow")  # FastAPI adds ``input`` and ``ctx``

    loc: list[str | int]
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    """Every error answer. Fields other than ``detail`` appear only on the answers named."""

    model_config = ConfigDict(title="Error")

    detail: str | list[Issue] = Field(
        description="What is wrong, in words; a list of issues for a request that failed validation"
    )
    field: str | None = Field(None, description="Ingest 422: the JSON path of the culprit")
    retry_after: int | None = Field(None, description="429: seconds to wait (also in Retry-After)")
    error: str | None = Field(None, description="Ingest answers only: the same text as detail (deprecated)")


def error_body(detail: str, **extra: object) -> dict[str, object]:
    """An error answer's JSON, for code that builds its response itself."""
    return {"detail": detail, **extra}
