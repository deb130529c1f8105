"""PagerDuty Events API v2 forwarding (see docs/integrations/pagerduty.md)."""

from koban.channels.pagerduty.channel import PagerDutyChannel
from koban.channels.pagerduty.events import build_event, dedup_key

__all__ = ["PagerDutyChannel", "build_event", "dedup_key"]
