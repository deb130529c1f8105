"""Kibana alerting (Webhook connector) and Elasticsearch Watcher (webhook action).

Neither product has a fixed body: the user writes it. We document one body for each (see
docs/integrations/kibana.md) and accept exactly those shapes:

* Kibana rule action: ``{"rule_id", "rule_name", "alert_id", "action_group", ...}`` rendered from
  ``{{rule.id}}``, ``{{alert.id}}``, ``{{alert.actionGroup}}``... One alert = rule id + alert id
  (the alert id is the group value, e.g. a host, or the rule-type's default), stable across flaps.
  ``action_group == "recovered"`` (Kibana's recovery group) resolves it.
* Watcher: the whole execution context, ``{{#toJson}}ctx{{/toJson}}`` (has ``watch_id``). One
  alert per watch; ``ctx.metadata`` may set ``severity``, ``summary``, ``dedup_key`` and
  ``action`` (``resolve`` lets a second watch close the incident: Watcher has no recovery).

Settings: ``default_severity``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from koban.domain.alerts import AlertAction, AlertEvent
from koban.sources import _fields as f
from koban.sources.base import InboundRequest, PayloadError

RECOVERED_GROUP = "recovered"


class KibanaSource:
    kind: ClassVar[str] = "kibana"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        body = f.as_object(request.json, "")
        if "watch_id" in body:
            return [_watcher(body, settings)]
        if "rule_id" in body:
            return [_kibana_rule(body, settings)]
        raise PayloadError("expected a Kibana rule body (rule_id) or a Watcher context (watch_id)", "rule_id")


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise PayloadError(f"{name} is required", name)
    return str(value)


def _kibana_rule(body: Mapping[str, Any], settings: Mapping[str, Any]) -> AlertEvent:
    rule_id = _required(body, "rule_id")
    alert_id = str(body.get("alert_id") or rule_id)
    group = str(body.get("action_group") or "")
    rule_name = str(body.get("rule_name") or rule_id)
    summary = str(body.get("title") or body.get("message") or rule_name)
    links = []
    for name, text in (("rule_url", "Rule"), ("alert_details_url", "Alert details")):
        if isinstance(body.get(name), str) and body[name]:
            links.append({"href": body[name], "text": text})
    labels = {"rule": rule_name, "alert_id": alert_id}
    if body.get("space_id"):
        labels["space"] = str(body["space_id"])
    return AlertEvent(
        dedup_key=f.bounded_key(f"{rule_id}:{alert_id}", prefix="kb:"),
        action=AlertAction.RESOLVE if group == RECOVERED_GROUP else AlertAction.TRIGGER,
        severity=f.severity_or(_opt(body.get("severity")), f.settings_severity(settings)),
        summary=summary[:1024],
        source=str(body.get("source") or "kibana"),
        details=dict(body),
        labels={**labels, **_tags(body.get("tags"))},
        links=tuple(links),
        occurred_at=f.parse_time(body.get("date"), "date"),
    )


def _watcher(ctx: Mapping[str, Any], settings: Mapping[str, Any]) -> AlertEvent:
    watch_id = _required(ctx, "watch_id")
    metadata = f.as_object(ctx.get("metadata") or {}, "metadata")
    action = str(metadata.get("action") or "trigger").lower()
    if action not in ("trigger", "resolve"):
        raise PayloadError("metadata.action must be 'trigger' or 'resolve'", "metadata.action")
    hits = (ctx.get("payload") or {}).get("hits", {}) if isinstance(ctx.get("payload"), Mapping) else {}
    total = hits.get("total") if isinstance(hits, Mapping) else None
    if isinstance(total, Mapping):  # ES 7+: {"value": n, "relation": "eq"}
        total = total.get("value")
    summary = metadata.get("summary") or metadata.get("name") or f"Watch {watch_id} fired"
    if total is not None and not metadata.get("summary"):
        summary = f"{summary} ({total} hits)"
    return AlertEvent(
        dedup_key=str(metadata.get("dedup_key") or f"watch:{watch_id}"),
        action=AlertAction(action),
        severity=f.severity_or(_opt(metadata.get("severity")), f.settings_severity(settings)),
        summary=str(summary)[:1024],
        source="watcher",
        # The search payload can be huge; keep what identifies the run, not the hits themselves.
        details={k: ctx[k] for k in ("watch_id", "id", "execution_time", "trigger", "metadata") if k in ctx}
        | {"hits_total": total},
        labels={"watch_id": watch_id},
        occurred_at=f.parse_time(ctx.get("execution_time"), "execution_time"),
    )


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _tags(value: Any) -> dict[str, str]:
    """Kibana renders ``{{rule.tags}}`` as ``a,b`` (a real list works too); ``k:v`` tags become labels."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    labels: dict[str, str] = {}
    for tag in (str(t).strip() for t in items):
        if tag:
            name, _, val = tag.partition(":")
            labels[f"tag:{name}" if not val else name] = val or "true"
    return labels
