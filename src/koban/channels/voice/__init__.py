"""Phone calls through Twilio (see docs/integrations/twilio.md)."""

from koban.channels.voice.channel import VoiceChannel, call_request
from koban.channels.voice.client import close_client, make_client
from koban.channels.voice.deps import TwilioDeps
from koban.channels.voice.retry import DEFAULT_RULES, RetryRule, decide_retry
from koban.channels.voice.routes import build_routes
from koban.channels.voice.settings import TwilioSettings
from koban.channels.voice.settle import apply_event, end_key_wait, key_wait_over, settle_overdue_call
from koban.channels.voice.state import CallState, CallStateStore, MemoryCallStateStore
from koban.channels.voice.tokens import MemoryTokenStore, TokenStore

__all__ = [
    "DEFAULT_RULES",
    "CallState",
    "CallStateStore",
    "MemoryCallStateStore",
    "MemoryTokenStore",
    "RetryRule",
    "TokenStore",
    "TwilioDeps",
    "TwilioSettings",
    "VoiceChannel",
    "apply_event",
    "build_routes",
    "call_request",
    "close_client",
    "decide_retry",
    "end_key_wait",
    "key_wait_over",
    "make_client",
    "settle_overdue_call",
]
