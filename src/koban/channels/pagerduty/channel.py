"""PagerDuty forwarding through the Events API v2.

Config keys (``Notification.config``): ``routing_key`` (required, the integration key), ``url``
(default ``https://events.pagerduty.com/v2/enqueue``), ``timeout`` (seconds), ``client`` (name shown).
"""

from __future__ import annotations

import json
from typing import ClassVar

from koban.channels.base import DeliveryResult, Notification
from koban.channels.pagerduty.events import build_event, classify
from koban.core import outbound

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"


class PagerDutyChannel:
    kind: ClassVar[str] = "pagerduty"

    async def send(self, notification: Notification) -> DeliveryResult:
        config = notification.config
        if not config.get("routing_key"):
            return DeliveryResult.permanent("pagerduty channel has no routing_key configured")
        body = json.dumps(build_event(notification)).encode("utf-8")
        try:
            resp = await outbound.request(
                "POST",
                str(config.get("url") or DEFAULT_URL),
                headers={"Content-Type": "application/json"},
                body=body,
                timeout=float(config.get("timeout", outbound.DEFAULT_TIMEOUT)),
            )
        except outbound.OutboundError as exc:
            # The dedup key makes a resend harmless, but say honestly that it may have arrived.
            if exc.sent:
                return DeliveryResult.in_doubt(f"pagerduty: {exc}")
            return DeliveryResult.transient(f"pagerduty: {exc}")
        return classify(resp)

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        # PagerDuty folds events with the same dedup_key into one alert: resending is safe.
        return await self.send(notification)
