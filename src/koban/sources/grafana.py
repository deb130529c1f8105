"""Grafana unified alerting webhook (body ``version: "1"``): Alertmanager's model plus extras.

Grafana embeds Alertmanager, so the body is parsed by the Alertmanager parser; this module adds
the links Grafana provides (silence, dashboard, panel, image) and keeps ``title``, ``message``,
``state`` and ``orgId`` in the details. ``state`` (``alerting``/``ok``) is only a summary of the
per-alert ``status`` values, which decide trigger vs resolve. Legacy (pre-8) dashboard alerting
bodies (``ruleId``, ``evalMatches``) are rejected with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from koban.domain.alerts import AlertEvent
from koban.sources import _fields as f
from koban.sources.alertmanager import parse_group_body
from koban.sources.base import InboundRequest, PayloadError

_LINKS = ("silenceURL", "dashboardURL", "panelURL", "imageURL")
_CONTEXT = (
    "receiver", "status", "state", "orgId", "title", "message", "externalURL",
    "groupLabels", "commonLabels", "truncatedAlerts",
)  # fmt: skip


class GrafanaSource:
    kind: ClassVar[str] = "grafana"

    def parse(self, request: InboundRequest, settings: Mapping[str, Any]) -> list[AlertEvent]:
        body = f.as_object(request.json, "")
        if "alerts" not in body and "evalMatches" in body:
            raise PayloadError(
                "legacy Grafana dashboard alerting is not supported; use unified alerting", "alerts"
            )
        state = body.get("state")
        if state is not None and state not in ("alerting", "ok"):
            raise PayloadError("state must be 'alerting' or 'ok'", "state")
        return parse_group_body(
            body,
            settings,
            request.received_at,
            extra_links=_LINKS,
            context_fields=_CONTEXT,
            vendor="Grafana",
        )
