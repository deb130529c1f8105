"""Pure classification of Slack answers (Web API and incoming webhooks) into DeliveryResults."""

from __future__ import annotations

from collections.abc import Mapping

from koban.channels.base import DeliveryResult
from koban.core.retry_after import retry_after_of

# Errors that will not fix themselves, with a hint for the person reading the incident. Unknown
# error codes are permanent too: Slack answers the same way to the same request.
PERMANENT_HINTS = {
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "invalid_auth": "the bot token is not valid",
    "not_authed": "no bot token was sent",
    "token_revoked": "the bot token was revoked",
    "invalid_token": "the webhook token was revoked",
    "no_service": "the incoming webhook was removed or disabled",
    "not_in_channel": "invite the koban bot to the channel",
    "account_inactive": "the bot user was deactivated",
    "missing_scope": "the bot token lacks the chat:write scope",
}
# Errors that say the configured channel/app/token is unusable for every message, not just this one:
# koban marks the channel broken. Destination errors count only when the destination is the
# channel's own (a person's DM that is gone says nothing about the channel).
CREDENTIAL_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "invalid_token", "no_service", "account_inactive"}
    | {"missing_scope"}
)
DESTINATION_ERRORS = frozenset({"channel_not_found", "is_archived", "channel_is_archived", "not_in_channel"})
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# chat.update cannot edit this message any more: post a fresh one instead.
GONE_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds, or an HTTP-date measured against the answer's own Date header (core/retry_after.py)."""
    return retry_after_of(headers)


def classify(
    status: int, error: str, headers: Mapping[str, str] | None = None, *, to_person: bool = False
) -> DeliveryResult:
    """``status`` is the HTTP status, ``error`` Slack's error code (JSON ``error`` or webhook body);
    ``to_person`` when the message went to a person's DM rather than the channel's own destination."""
    error = (error or "").strip()
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return DeliveryResult.transient(f"slack: rate limited ({error or status})", retry_after(headers))
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryResult.transient(f"slack: {error or f'HTTP {status}'}", retry_after(headers))
    hint = PERMANENT_HINTS.get(error)
    reason = f"slack: {error or f'HTTP {status}'}"
    text = f"{reason} ({hint})" if hint else reason
    if error in CREDENTIAL_ERRORS or (error in DESTINATION_ERRORS and not to_person):
        return DeliveryResult.broken(text)
    return DeliveryResult.permanent(text)
