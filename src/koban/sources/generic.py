"""Generic JSON webhook: a documented default shape, or a user mapping of sandboxed expressions.

Default shape (one object, or a JSON list of them)::

    {"dedup_key": "db-1/disk", "action": "trigger", "severity": "warning",
     "summary": "Disk 95% on db-1", "source": "db-1", "details": {...},
     "labels": {"team": "db"}, "links": [{"href": "https://...", "text": "Graph"}],
     "timestamp": "2024-05-01T01:02:03Z"}

``summary`` is required. ``action`` is trigger/acknowledge/resolve; instead of ``action`` a
``status`` may say firing/problem/down (trigger), resolved/ok/up (resolve) or acknowledged.
Without ``dedup_key`` the key is a hash of source + summary + labels, so re-sends dedup.

Settings: ``mapping`` (see generic_mapping.py and docs/integrations/generic.md),
``items_path`` (dotted path to the list of alerts in the body), ``default_severity``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.sources import _fields as f
from koban.sources.base import InboundRequest, PayloadError
from koban.sources.generic_mapping import CompiledMapping, compile_mapping

_STATUS = {
    **dict.fromkeys(("trigger", "triggered", "firing", "problem", "down", "alerting", "critical"), "trigger"),
    **dict.fromkeys(("resolve", "resolved", "ok", "up", "recovered", "closed", "normal"), "resolve"),
    **dict.fromkeys(("acknowledge", "acknowledged", "ack"), "acknowledge"),
}


class GenericSource:
    kind: ClassVar[str] = "generic"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        mapping = compile_mapping(settings["mapping"]) if settings.get("mapping") else None
        path = mapping.items_path if mapping and mapping.items_path else _path(settings.get("items_path"))
        items, prefix = _items(request.json, path)
        default = f.settings_severity(settings)
        events = []
        for i, item in enumerate(items):
            where = f"{prefix}[{i}]" if prefix is not None else ""
            if mapping is None:
                events.append(_default_shape(f.as_object(item, where), where, default))
            else:
                events.append(_mapped(mapping, item, request, where, default))
        return events


def _path(raw: Any) -> tuple[str, ...]:
    return tuple(p for p in str(raw or "").split(".") if p)


def _items(body: Any, path: tuple[str, ...]) -> tuple[list[Any], str | None]:
    """The alerts of one delivery, and the pointer prefix errors should use (None: single object)."""
    node = body
    for depth, part in enumerate(path):
        node = f.as_object(node, ".".join(path[:depth]) or "").get(part)
    if isinstance(node, list):
        return node, ".".join(path)
    if path:
        raise PayloadError(f"{'.'.join(path)} must be a JSON array", ".".join(path))
    return [node], None


def _action(value: Any, where: str) -> AlertAction:
    key = str(value or "trigger").strip().lower()
    if key not in _STATUS:
        raise PayloadError(f"{where} must be trigger, acknowledge or resolve (got {key[:40]!r})", where)
    return AlertAction(_STATUS[key])


def _severity(value: Any, where: str, default: Severity) -> Severity:
    # Lenient on purpose: an unexpected severity word must not turn a page into a 4xx.
    return f.severity_or(None if value is None else str(value), default)


def _default_shape(item: Mapping[str, Any], where: str, default: Severity) -> AlertEvent:
    summary = item.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise PayloadError(f"{f.join(where, 'summary')} is required", f.join(where, "summary"))
    action_field = "action" if "action" in item else "status"
    raw_labels = f.as_object(
        item.get("labels") if item.get("labels") is not None else {}, f.join(where, "labels")
    )
    labels = {str(k): str(v) for k, v in raw_labels.items()}
    source = str(item.get("source") or "")
    dedup = item.get("dedup_key") or f.stable_hash([source, summary, labels])
    return AlertEvent(
        dedup_key=f.bounded_key(str(dedup)),
        action=_action(item.get(action_field), f.join(where, action_field)),
        severity=_severity(item.get("severity"), f.join(where, "severity"), default),
        summary=summary[:1024],
        source=source,
        details=dict(f.as_object(item.get("details") or {}, f.join(where, "details"))),
        labels=labels,
        links=_links(item.get("links"), f.join(where, "links")),
        occurred_at=f.parse_time(item.get("timestamp"), f.join(where, "timestamp")),
    )


def _links(value: Any, where: str) -> tuple[Mapping[str, str], ...]:
    links = []
    for i, link in enumerate(f.as_list(value or [], where)):
        if isinstance(link, str):
            links.append({"href": link, "text": link})
        elif isinstance(link, Mapping) and isinstance(link.get("href"), str):
            links.append({"href": link["href"], "text": str(link.get("text") or link["href"])})
        else:
            raise PayloadError(f"{where}[{i}] must be a URL or {{href, text}}", f"{where}[{i}].href")
    return tuple(links)


def _mapped(
    mapping: CompiledMapping, item: Any, request: InboundRequest, where: str, default: Severity
) -> AlertEvent:
    context: dict[str, Any] = {}
    if isinstance(item, Mapping):
        context.update({k: v for k, v in item.items() if isinstance(k, str) and k.isidentifier()})
    context.update(item=item, alert=item, body=request.json, headers=request.headers, query=request.query)
    dedup = mapping.evaluate("dedup_key", context, where)
    summary = mapping.evaluate("summary", context, where)
    labels = mapping.evaluate_labels(context, where) or {}
    if not summary:
        summary = item.get("summary") if isinstance(item, Mapping) else None
    if not summary:
        raise PayloadError(f"mapping produced no summary for {where or 'the body'}", f.join(where, "summary"))
    source = str(mapping.evaluate("source", context, where) or "")
    if dedup in (None, ""):
        dedup = f.stable_hash([source, str(summary), labels])
    action = AlertAction.TRIGGER
    if mapping.evaluate("resolve", context, where):
        action = AlertAction.RESOLVE
    elif mapping.evaluate("acknowledge", context, where):
        action = AlertAction.ACKNOWLEDGE
    details = mapping.evaluate("details", context, where)
    return AlertEvent(
        dedup_key=f.bounded_key(str(dedup)),
        action=action,
        severity=_severity(mapping.evaluate("severity", context, where), f.join(where, "severity"), default),
        summary=str(summary)[:1024],
        source=source,
        details=dict(details) if isinstance(details, Mapping) else {"payload": item},
        labels=labels,
    )
