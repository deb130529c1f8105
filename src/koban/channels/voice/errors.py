"""Twilio failures classified at the edge: permanent (stop and say why), transient, or in doubt."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioRestException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from koban.channels.base import DeliveryResult, DeliveryStatus

# Codes that will fail the same way every time: the escalation moves on and shows the reason.
PERMANENT_REASONS = {
    20003: "Twilio rejected the account SID / auth token",
    20404: "Twilio resource not found",
    21205: "the TwiML URL is invalid",
    21210: "the caller number (From) is not verified on this Twilio account",
    21211: "the phone number is not valid",
    21212: "the caller number (From) is not valid",
    21214: "the phone number cannot be reached",
    21215: "Twilio geo permissions do not allow calling this number",
    21216: "the phone number is blocked by Twilio",
    21217: "the phone number does not appear to be valid",
    21219: "the phone number is not verified (trial accounts may only call verified numbers)",
    21401: "the phone number is not valid",
    21408: "Twilio geo permissions do not allow this destination",
    21606: "the From number cannot send SMS",
    21608: "the phone number is not verified (trial account)",
    21610: "the recipient unsubscribed from SMS (STOP)",
    21612: "the phone number cannot receive SMS from this number",
    21614: "the phone number is not a mobile number",
}
RATE_LIMITED = 20429
RATE_LIMIT_BACKOFF = 5.0  # Twilio sends no Retry-After on 20429; koban adds its own backoff on top


def classify_rest_error(exc: TwilioRestException) -> DeliveryResult:
    code = exc.code if isinstance(exc.code, int) else exc.status
    if code == RATE_LIMITED or exc.status == 429:
        return DeliveryResult.transient(f"Twilio {code}: too many requests", retry_after=RATE_LIMIT_BACKOFF)
    if exc.status >= 500:
        return DeliveryResult.transient(f"Twilio HTTP {exc.status} (code {code})")
    reason = PERMANENT_REASONS.get(code) or (exc.msg or "request rejected").split(": ", 1)[-1]
    # The code travels in meta so koban can tell a bad number (the person's contact) from a bad account.
    return DeliveryResult(
        DeliveryStatus.PERMANENT, error=f"Twilio {code}: {reason}", meta={"twilio_code": code}
    )


# Codes that say the *callee's number* is unusable: recorded on the person's contact, skipped until changed.
CONTACT_CODES = frozenset(
    {21211, 21214, 21215, 21216, 21217, 21219, 21401, 21408, 21608, 21610, 21612, 21614}
)


def _never_sent(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


def classify_transport_error(exc: requests.RequestException) -> DeliveryResult:
    """No HTTP answer: TRANSIENT if the request never left, IN_DOUBT if Twilio may have placed the call."""
    if _never_sent(exc):
        return DeliveryResult.transient(f"cannot reach Twilio: {type(exc).__name__}")
    return DeliveryResult.in_doubt(f"no answer from Twilio after sending: {type(exc).__name__}")
