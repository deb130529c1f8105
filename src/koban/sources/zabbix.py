"""Zabbix, through the webhook media type shipped in ``integrations/zabbix/``.

The media type posts every parameter as a string (protocols.md §5.4). One Zabbix problem is one
alert: ``dedup_key`` is ``{EVENT.ID}`` (the original problem's id, repeated in update and
recovery messages). How a message is classified:

* recovery: ``event_value == "0"`` or a ``recovery_event_id`` is present → RESOLVE;
* update: ``update_status == "1"`` → ACKNOWLEDGE when ``ack == "Yes"``, else nothing (comments and
  severity changes do not change the incident);
* otherwise a problem → TRIGGER (discovery/autoregistration/internal sources are one-shot problems).

A macro Zabbix could not resolve arrives literally (``{EVENT.RECOVERY.ID}``) and counts as missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.sources import _fields as f
from koban.sources.base import InboundRequest, PayloadError

# Same table as Zabbix's own PagerDuty media type: Not classified … Disaster.
NSEVERITY = {
    "0": Severity.INFO, "1": Severity.INFO, "2": Severity.WARNING,
    "3": Severity.WARNING, "4": Severity.ERROR, "5": Severity.CRITICAL,
}  # fmt: skip
_NAMED = {
    "not classified": "0", "information": "1", "warning": "2", "average": "3", "high": "4", "disaster": "5",
}  # fmt: skip


def value(body: Mapping[str, Any], name: str) -> str | None:
    """A parameter's value, or None when absent, empty or an unresolved ``{MACRO}``."""
    raw = body.get(name)
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or (text.startswith("{") and text.endswith("}") and not _is_json_object(text)):
        return None
    return text


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


class ZabbixSource:
    kind: ClassVar[str] = "zabbix"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        body = f.as_object(request.json, "")
        event_id = value(body, "event_id")
        if event_id is None:
            raise PayloadError("event_id is required (the {EVENT.ID} macro)", "event_id")
        action = classify(body)
        if action is None:
            return []
        host = value(body, "host") or ""
        subject = value(body, "subject") or value(body, "event_name") or f"Zabbix problem {event_id}"
        details = {k: v for k in body if (v := value(body, k)) is not None}
        return [
            AlertEvent(
                dedup_key=event_id,
                action=action,
                severity=severity(body, settings),
                summary=subject[:1024],
                source=host,
                details=details,
                labels=tags(body.get("tags")) | ({"host": host} if host else {}),
                links=_links(body, event_id),
            )
        ]


def classify(body: Mapping[str, Any]) -> AlertAction | None:
    if value(body, "event_value") == "0" or value(body, "recovery_event_id") is not None:
        return AlertAction.RESOLVE
    if value(body, "update_status") == "1":
        return AlertAction.ACKNOWLEDGE if (value(body, "ack") or "").lower() == "yes" else None
    return AlertAction.TRIGGER


def severity(body: Mapping[str, Any], settings: Mapping[str, Any]) -> Severity:
    numeric = value(body, "severity")
    if numeric in NSEVERITY:
        return NSEVERITY[numeric]
    named = (value(body, "severity_name") or "").lower()
    if named in _NAMED:
        return NSEVERITY[_NAMED[named]]
    return f.settings_severity(settings)


def tags(raw: Any) -> dict[str, str]:
    """``{EVENT.TAGSJSON}``: ``[{"tag": "scope", "value": "availability"}]``, as a string or a list."""
    if isinstance(raw, str):
        if not raw.strip() or raw.strip().startswith("{"):
            return {}
        try:
            raw = json.loads(raw)
        except ValueError:
            raise PayloadError("tags must be the JSON of {EVENT.TAGSJSON}", "tags") from None
    if raw is None:
        return {}
    out: dict[str, str] = {}
    for i, item in enumerate(f.as_list(raw, "tags")):
        tag = f.as_object(item, f"tags[{i}]")
        if tag.get("tag"):
            out[str(tag["tag"])] = str(tag.get("value") or "")
    return out


def _links(body: Mapping[str, Any], event_id: str) -> tuple[Mapping[str, str], ...]:
    base = value(body, "zabbix_url")
    trigger_id = value(body, "trigger_id")
    if not base or not trigger_id:
        return ()
    href = f"{base.rstrip('/')}/tr_events.php?triggerid={trigger_id}&eventid={event_id}"
    return ({"href": href, "text": "Zabbix"},)
