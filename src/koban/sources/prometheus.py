"""Alertmanager ``POST /api/v2/alerts`` compatible ingest: a bare JSON list of postable alerts.

This is what Prometheus itself sends to an Alertmanager, so ``alertmanagers:`` can point at us.
The alert's identity is its label set (fingerprint = Alertmanager's label hash). An alert is
firing while ``endsAt`` is in the future; without ``endsAt`` it is firing until now +
``resolve_timeout`` (setting, seconds, default 300). Either way ``ends_at`` is on the event so
koban resolves alerts that stop being re-sent. ``endsAt`` ≤ receive time means resolved.

Settings: ``severity_label``, ``default_severity``, ``resolve_timeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent, Severity
from koban.sources import _fields as f
from koban.sources.alertmanager import alert_summary
from koban.sources.base import InboundRequest, PayloadError

DEFAULT_RESOLVE_TIMEOUT = timedelta(minutes=5)


class PrometheusSource:
    kind: ClassVar[str] = "prometheus"

    def check(self, body: Any, settings: Mapping[str, Any]) -> int | None:
        """The alert count when ``parse`` surely accepts ``body``; None when only ``parse`` can tell.

        The edge's fast path (the drain parses later): type checks without building events. It may
        say None for a valid body (``parse`` then decides); it must never vouch for an invalid one
        (tests/sources/test_prometheus_check.py holds it to that).
        """
        if type(body) is not list:
            return None
        for alert in body:
            if type(alert) is not dict:
                return None
            labels = alert.get("labels")
            if type(labels) is not dict or not labels or not _all_str(labels):
                return None
            annotations = alert.get("annotations")
            if annotations is not None and (type(annotations) is not dict or not _all_str(annotations)):
                return None
            generator = alert.get("generatorURL")
            if generator is not None and type(generator) is not str:
                return None
            starts, ends = alert.get("startsAt"), alert.get("endsAt")
            if (starts or ends) and not _times_ok(starts, ends):
                return None
        return len(body)

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        items = f.as_list(request.json, "")
        timeout = settings.get("resolve_timeout")
        resolve_timeout = timedelta(seconds=float(timeout)) if timeout else DEFAULT_RESOLVE_TIMEOUT
        now = request.received_at
        # Per request, not per alert (the drain parses floods of these): the settings' severity,
        # the default expiry, and each distinct time string and severity label value once.
        expires = now + resolve_timeout
        severity_label = str(settings.get("severity_label") or "severity")
        default_severity: Severity | None = None  # read with the first alert, as it always was
        severities: dict[str | None, Severity] = {}
        times: dict[Any, datetime | None] = {}
        isoformats: dict[datetime, str] = {}
        events = []
        for i, raw in enumerate(items):
            where = f"[{i}]"
            alert = f.as_object(raw, where)
            labels = f.string_map(alert.get("labels"), f"{where}.labels", required=True)
            if not labels:
                raise PayloadError(f"{where}.labels must not be empty", f"{where}.labels")
            annotations = f.string_map(alert.get("annotations"), f"{where}.annotations")
            starts_at = _time(times, alert.get("startsAt"), f"{where}.startsAt") or now
            ends_at = _time(times, alert.get("endsAt"), f"{where}.endsAt")
            if ends_at is not None and ends_at < starts_at:
                raise PayloadError(f"{where}.endsAt is before startsAt", f"{where}.endsAt")
            generator = f.optional_str(alert, "generatorURL", where)
            resolved = ends_at is not None and ends_at <= now
            if default_severity is None:
                default_severity = f.settings_severity(settings)
            level = labels.get(severity_label)
            severity = severities.get(level)
            if severity is None:
                severity = severities[level] = f.severity_or(level, default_severity)
            started = isoformats.get(starts_at)
            if started is None:
                started = isoformats[starts_at] = starts_at.isoformat()
            events.append(
                AlertEvent(
                    dedup_key=f.label_fingerprint(labels),
                    action=AlertAction.RESOLVE if resolved else AlertAction.TRIGGER,
                    severity=severity,
                    summary=alert_summary(labels, annotations),
                    source=labels.get("instance") or labels.get("job") or "prometheus",
                    details={"annotations": annotations, "startsAt": started},
                    labels=labels,
                    links=_links(generator, annotations),
                    occurred_at=ends_at if resolved else starts_at,
                    ends_at=ends_at or expires,
                )
            )
        return events


def _time(seen: dict[Any, datetime | None], value: Any, field: str) -> datetime | None:
    """``f.parse_time``, once per distinct string of a request (a rule's alerts share their times)."""
    if type(value) is not str:
        return f.parse_time(value, field)  # None, or the error naming the field
    try:
        return seen[value]
    except KeyError:
        parsed = seen[value] = f.parse_time(value, field)
        return parsed


def _all_str(values: Mapping[str, Any]) -> bool:
    for value in values.values():  # noqa: SIM110  (a plain loop: all() with a generator is 2x slower)
        if type(value) is not str:
            return False
    return True


def _times_ok(starts: Any, ends: Any) -> bool:
    """Both parse, and ``endsAt`` is not before a given ``startsAt`` (without one: parse decides)."""
    try:
        started = f.parse_time(starts, "startsAt")
        ended = f.parse_time(ends, "endsAt")
    except PayloadError:
        return False
    if ended is None:
        return True
    return started is not None and ended >= started


def _links(generator: str | None, annotations: Mapping[str, str]) -> tuple[Mapping[str, str], ...]:
    links = []
    if generator:
        links.append({"href": generator, "text": "Source"})
    if annotations.get("runbook_url"):
        links.append({"href": annotations["runbook_url"], "text": "Runbook"})
    return tuple(links)
