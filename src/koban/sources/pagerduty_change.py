"""PagerDuty Change Events (``POST /v2/change/enqueue``) → one ``ChangeEvent``.

Body: ``routing_key``, ``payload: {summary (required, ≤ 1024), timestamp?, source?,
custom_details?}``, ``links: [{href, text?}]?``. PagerDuty answers 202 ``{"message": "Change event
processed", "status": "success"}``, or 400 in the Events API's ``invalid event`` shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from koban.sources import _fields as f
from koban.sources.base import PayloadError

SUMMARY_LIMIT = 1024
LINKS_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    summary: str
    at: float  # the sender's timestamp, never later than the receipt
    source: str = ""
    custom_details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[Mapping[str, str], ...] = ()


def accepted_change_body() -> dict[str, Any]:
    return {"message": "Change event processed", "status": "success"}


def parse_change(body: Mapping[str, Any], received_at: datetime) -> ChangeEvent | list[str]:
    """The change event, or every problem found (PagerDuty lists them all in ``errors``)."""
    errors: list[str] = []
    payload = body.get("payload")
    if not isinstance(payload, Mapping):
        return ["'payload' is missing or not an object"]
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > SUMMARY_LIMIT:
        errors.append(f"'payload.summary' is longer than {SUMMARY_LIMIT} characters")
    at = received_at
    try:
        stamped = f.parse_time(payload.get("timestamp"), "payload.timestamp")
    except PayloadError as exc:
        errors.append(exc.message)
        stamped = None
    if stamped is not None and stamped < received_at:
        at = stamped  # a sender's clock that runs ahead is not trusted (as for alerts)
    source = payload.get("source", "")
    if not isinstance(source, str):
        errors.append("'payload.source' must be a string")
    details = payload.get("custom_details", {})
    if not isinstance(details, Mapping):
        details = {"details": details}
    links = _links(body.get("links"), errors)
    if errors:
        return errors
    assert isinstance(summary, str) and isinstance(source, str)
    return ChangeEvent(summary, at.timestamp(), source, dict(details), links)


def _links(raw: Any, errors: list[str]) -> tuple[Mapping[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append("'links' must be a list")
        return ()
    out = []
    for i, link in enumerate(raw[:LINKS_LIMIT]):
        href = link.get("href") if isinstance(link, Mapping) else None
        if not isinstance(href, str) or not href:
            errors.append(f"'links[{i}].href' is missing")
            continue
        text = link.get("text")
        out.append({"href": href, "text": text if isinstance(text, str) else href})
    return tuple(out)
