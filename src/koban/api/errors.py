"""The one shape of every error koban's HTTP API answers (4xx and 5xx, REST and ingest alike).

``{"detail": "<what is wrong, for a person>"}``, plus optional fields some answers add. ``detail``
is FastAPI's own field: every ``HTTPException``, every 401/403 of the guards and FastAPI's request
validation already answer it, and the clients and tests written against koban read it; problem+json
(RFC 9457) would have renamed it in every answer for no gain a client here could use. ``detail`` is
always text: a 422 from request validation says every issue in it (``body.id: ...; body.steps: ...``)
and lists them apart in ``issues`` (one ``Issue`` per field), so a client reads one shape.

The ingest routes answered ``{"error": ...}`` before this shape was fixed; they now answer
``detail`` too and keep ``error`` (the same text) so the alert senders' scripts that read it go on
working. Vendor-compatible answers keep their vendor's shape (``/v2/enqueue`` answers PagerDuty's
``{"status", "message", "errors"}``), documented on that operation.
"""

from __future__ import annotations

from typing import Any

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

    detail: str = Field(description="What is wrong, in words")
    issues: list[Issue] | None = Field(None, description="422 from validation: each field's problem")
    field: str | None = Field(None, description="Ingest 422: the JSON path of the culprit")
    retry_after: int | None = Field(None, description="429: seconds to wait (also in Retry-After)")
    error: str | None = Field(None, description="Ingest answers only: the same text as detail (deprecated)")


def error_body(detail: str, **extra: object) -> dict[str, object]:
    """An error answer's JSON, for code that builds its response itself."""
    return {"detail": detail, **extra}


def _where(issue: Any) -> str:
    if not isinstance(issue, dict):
        return str(issue)
    loc = ".".join(str(p) for p in issue.get("loc", ()))
    msg = str(issue.get("msg", "")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def shaped(detail: Any, **extra: object) -> dict[str, object]:
    """Any ``detail`` (text, or a list of issues as FastAPI and some handlers raise it) in the one
    shape: text in ``detail``, the list kept in ``issues``."""
    if isinstance(detail, list):
        return {
            "detail": "; ".join(_where(i) for i in detail) or "invalid request",
            "issues": detail,
            **extra,
        }
    return {"detail": str(detail), **extra}
