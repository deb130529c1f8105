"""Outbound webhook channel (see docs/integrations/webhook.md)."""

from koban.channels.webhook.channel import WebhookChannel
from koban.channels.webhook.signing import sign, verify_signature

__all__ = ["WebhookChannel", "sign", "verify_signature"]
