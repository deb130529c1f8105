"""Alertmanager ``webhook_config`` (body version 4) → one event per member alert.

All alerts of one delivery share ``group_key`` (Alertmanager's groupKey, hashed when long), so the
group is one incident; each member is deduplicated by its fingerprint. Resolved members become
RESOLVE events. Unknown top-level and per-alert fields are ignored (newer versions add some).

Settings: ``severity_label`` (default ``severity``), ``default_severity`` (default ``critical``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.sources import _fields as f
from koban.sources.base import InboundRequest, PayloadError

GROUP_KEY_LIMIT = 200
# Top-level fields kept on every event so the timeline shows where the alert came from.
_CONTEXT_FIELDS = ("receiver", "status", "externalURL", "groupLabels", "commonLabels", "truncatedAlerts")


class AlertmanagerSource:
    kind: ClassVar[str] = "alertmanager"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        return parse_group_body(request.json, settings, request.received_at, extra_links=())


def parse_group_body(
    body: Any,
    settings: Mapping[str, Any],
    received_at: datetime,
    *,
    extra_links: tuple[str, ...],
    context_fields: tuple[str, ...] = _CONTEXT_FIELDS,
    vendor: str = "Alertmanager",
) -> list[AlertEvent]:
    """Shared by Alertmanager and Grafana, whose bodies differ only in extra fields."""
    top = f.as_object(body, "")
    alerts = f.as_list(top.get("alerts"), "alerts")
    group_key_raw = f.optional_str(top, "groupKey")
    group_key = f.bounded_key(group_key_raw, GROUP_KEY_LIMIT, "am:") if group_key_raw else None
    common_annotations = f.string_map(top.get("commonAnnotations"), "commonAnnotations")
    context = {name: top[name] for name in context_fields if name in top}
    if group_key_raw:
        context["groupKey"] = group_key_raw
    return [
        _parse_alert(
            f.as_object(raw, f.join("alerts", i)),
            f.join("alerts", i),
            settings=settings,
            received_at=received_at,
            group_key=group_key,
            common_annotations=common_annotations,
            context=context,
            extra_links=extra_links,
            vendor=vendor,
        )
        for i, raw in enumerate(alerts)
    ]


def _parse_alert(
    alert: Mapping[str, Any],
    where: str,
    *,
    settings: Mapping[str, Any],
    received_at: datetime,
    group_key: str | None,
    common_annotations: Mapping[str, str],
    context: Mapping[str, Any],
    extra_links: tuple[str, ...],
    vendor: str,
) -> AlertEvent:
    labels = f.string_map(alert.get("labels"), f.join(where, "labels"), required=True)
    annotations = f.string_map(alert.get("annotations"), f.join(where, "annotations"))
    starts_at = f.parse_time(alert.get("startsAt"), f.join(where, "startsAt"))
    ends_at = f.parse_time(alert.get("endsAt"), f.join(where, "endsAt"))
    status = f.optional_str(alert, "status", where)
    if status not in (None, "firing", "resolved"):
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved'", f.join(where, "status"))
    if status is None:
        # Older senders omit per-alert status; a past endsAt is how Alertmanager itself decides.
        status = "resolved" if ends_at is not None and ends_at <= received_at else "firing"
    fingerprint = f.optional_str(alert, "fingerprint", where) or f.label_fingerprint(labels)
    resolved = status == "resolved"
    details: dict[str, Any] = {**context, "annotations": annotations, "startsAt": alert.get("startsAt")}
    for name, value in alert.items():
        # Vendor extras (Grafana's values, valueString, ruleUID...) are kept; the big ones are not.
        if name not in ("labels", "annotations", "status", "fingerprint", "embeddedImage"):
            details.setdefault(name, value)
    return AlertEvent(
        dedup_key=fingerprint,
        action=AlertAction.RESOLVE if resolved else AlertAction.TRIGGER,
        severity=alert_severity(labels, settings),
        summary=alert_summary(labels, annotations, common_annotations),
        source=labels.get("instance") or labels.get("job") or str(context.get("receiver") or ""),
        details=details,
        labels=labels,
        links=_links(alert, annotations, context, extra_links, vendor),
        group_key=group_key,
        occurred_at=(ends_at or received_at) if resolved else starts_at,
        # Firing alerts carry Go's zero time; a firing alert with a real endsAt may expire on its own.
        ends_at=ends_at or (received_at if resolved else None),
    )


def alert_severity(labels: Mapping[str, str], settings: Mapping[str, Any]) -> Severity:
    label = str(settings.get("severity_label") or "severity")
    return f.severity_or(labels.get(label), f.settings_severity(settings))


def alert_summary(
    labels: Mapping[str, str], annotations: Mapping[str, str], common: Mapping[str, str] | None = None
) -> str:
    for candidate in (annotations.get("summary"), annotations.get("description"), labels.get("alertname")):
        if candidate:
            return candidate[:1024]
    common = common or {}
    return (common.get("summary") or common.get("description") or "Alert")[:1024]


def _links(
    alert: Mapping[str, Any],
    annotations: Mapping[str, str],
    context: Mapping[str, Any],
    extra: tuple[str, ...],
    vendor: str,
) -> tuple[Mapping[str, str], ...]:
    links: list[Mapping[str, str]] = []
    for name, text in (("generatorURL", "Source"), *((e, e) for e in extra)):
        href = alert.get(name)
        if isinstance(href, str) and href:
            links.append({"href": href, "text": text})
    if annotations.get("runbook_url"):
        links.append({"href": annotations["runbook_url"], "text": "Runbook"})
    external = context.get("externalURL")
    if isinstance(external, str) and external:
        links.append({"href": external, "text": vendor})
    return tuple(links)
