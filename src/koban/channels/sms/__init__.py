"""SMS pages and replies through Twilio (see docs/integrations/twilio.md)."""

from koban.channels.sms.channel import SmsChannel
from koban.channels.sms.replies import Reply, ReplyError, incident_code, page_text, parse_reply
from koban.channels.sms.routes import build_sms_routes

__all__ = [
    "Reply",
    "ReplyError",
    "SmsChannel",
    "build_sms_routes",
    "incident_code",
    "page_text",
    "parse_reply",
]
