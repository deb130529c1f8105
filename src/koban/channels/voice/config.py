"""TwilioSettings from a channel's configuration, the ``KOBAN_TWILIO_*`` environment and koban's own settings.

Pure (the environment is passed in). Secrets belong in the environment rather than in YAML, so each
of account, tokens, caller id and API URL may come from either; the channel's own value wins.
``public_url`` is koban's, and the URL-token secrets are derived from koban's signing key, so a
voice channel needs nothing but an account to work.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from koban.channels.voice.settings import TwilioSettings

ENV = {
    "account_sid": "KOBAN_TWILIO_ACCOUNT_SID",
    "auth_tokens": "KOBAN_TWILIO_AUTH_TOKENS",  # comma-separated: the new token first during rotation
    "from_number": "KOBAN_TWILIO_FROM_NUMBER",
    "api_base_url": "KOBAN_TWILIO_API_BASE_URL",
}
# Channel keys read at send time from Notification.config, not settings of the account.
MESSAGE_KEYS = frozenset({"voice_template", "sms_template"})
_FIELDS = frozenset(f.name for f in fields(TwilioSettings))


def token_secret(signing_key: bytes) -> str:
    """A key for URL tokens and SMS codes, separate from every other use of the signing key."""
    return hmac.new(signing_key, b"koban-twilio-v1", hashlib.sha256).hexdigest()


def settings_from_config(
    channel: Mapping[str, Any], *, public_url: str, signing_key: bytes, env: Mapping[str, str]
) -> TwilioSettings:
    values: dict[str, Any] = {}
    for name, var in ENV.items():
        if env.get(var):
            raw = env[var]
            values[name] = [t.strip() for t in raw.split(",") if t.strip()] if name == "auth_tokens" else raw
    given = dict(channel)
    if "auth_token" in given:  # one token is the common case; the plural is for rotation
        given["auth_tokens"] = [given.pop("auth_token"), *given.pop("auth_tokens", [])]
    unknown = set(given) - _FIELDS - MESSAGE_KEYS
    if unknown:
        raise ValueError(f"unknown Twilio channel settings: {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in given.items() if k in _FIELDS})
    values.setdefault("public_url", public_url)
    values.setdefault("token_secrets", [token_secret(signing_key)])
    missing = [n for n in ("account_sid", "auth_tokens", "from_number") if not values.get(n)]
    if missing:
        hints = ", ".join(f"{n} (or {ENV[n]})" for n in missing)
        raise ValueError(f"Twilio channel needs {hints}")
    return TwilioSettings.from_mapping(values)
