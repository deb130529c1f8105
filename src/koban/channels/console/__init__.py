"""The console channel: writes each notification to the log (the demo, and a safe default)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from koban.channels.base import DeliveryResult, Notification

log = logging.getLogger("koban.notify")


class ConsoleChannel:
    kind: ClassVar[str] = "console"

    def __init__(self, settings: Mapping[str, Any], context: Any = None) -> None:
        self.prefix = str(settings.get("prefix", "NOTIFY"))
        self.lines: list[str] = []

    def render(self, n: Notification) -> str:
        who = n.recipient.person or n.recipient.name or n.channel
        inc = n.incident
        if n.kind == "notice":  # about a schedule, not an incident (paging/schedule_notices.py)
            return f"{self.prefix} {who}: {inc.summary}"
        if n.kind == "report":  # a scheduled report (reports/scheduled.py): its title, then its text
            return f"{self.prefix} {who}: {inc.summary}\n{inc.details.get('text', '')}"
        if n.kind == "update":
            return f"{self.prefix} {who}: incident #{inc.id} is now {inc.status} ({inc.summary})"
        return (
            f"{self.prefix} {who}: [{inc.severity.upper()}] #{inc.id} {inc.summary} "
            f"(service {inc.service}, step {n.step + 1}, loop {n.loop + 1})"
        )

    async def send(self, notification: Notification) -> DeliveryResult:
        line = self.render(notification)
        self.lines.append(line)
        log.warning(line)
        return DeliveryResult.sent(provider_ref=notification.key)

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        # A log line cannot be recalled or looked up: say it again rather than stay silent.
        return await self.send(notification)
