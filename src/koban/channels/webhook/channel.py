"""Outbound webhook channel: signed JSON POST, idempotent by ``Idempotency-Key``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from koban.channels.base import DeliveryResult, Notification
from koban.channels.webhook.classify import classify_error, classify_response
from koban.channels.webhook.payload import TemplateProblem, render_body
from koban.channels.webhook.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from koban.core import outbound

# Headers the channel owns; user-configured extra headers cannot override them.
_RESERVED = {SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower(), "idempotency-key", "x-koban-delivery"}


def build_headers(config: Mapping[str, Any], key: str, body: bytes, now: float) -> dict[str, str]:
    """Pure: the request headers for one attempt at ``now``."""
    headers = {
        str(k): str(v) for k, v in (config.get("headers") or {}).items() if str(k).lower() not in _RESERVED
    }
    timestamp = str(int(now))
    headers.update(
        {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            "Idempotency-Key": key,
            "X-Koban-Delivery": key,
        }
    )
    secret = config.get("secret")
    if secret:
        headers[SIGNATURE_HEADER] = sign(str(secret), timestamp, body)
    return headers


class WebhookChannel:
    """Config keys (``Notification.config``): ``url`` (required), ``secret`` (signs requests),
    ``template`` (Jinja2 sandbox, must render JSON), ``headers`` (extra), ``timeout`` (seconds)."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    async def send(self, notification: Notification) -> DeliveryResult:
        config = notification.config
        url = config.get("url")
        if not url:
            return DeliveryResult.permanent("webhook channel has no url configured")
        try:
            body = render_body(notification, config.get("template"))
        except TemplateProblem as exc:
            return DeliveryResult.permanent(str(exc))
        headers = build_headers(config, notification.key, body, self._clock())
        timeout = float(config.get("timeout", outbound.DEFAULT_TIMEOUT))
        try:
            resp = await outbound.request("POST", str(url), headers=headers, body=body, timeout=timeout)
        except outbound.OutboundError as exc:
            return classify_error(exc)
        return classify_response(resp)

    async def reconcile(self, notification: Notification, provider_ref: str | None) -> DeliveryResult:
        # Receivers dedup on Idempotency-Key (documented contract), so resending is safe.
        return await self.send(notification)
