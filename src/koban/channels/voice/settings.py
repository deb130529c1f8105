"""Twilio settings, parsed once into typed values (koban maps its own settings onto these)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from koban.channels.voice.retry import DEFAULT_RULES, RetryRule, parse_rules
from koban.channels.voice.script import VOICES

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str  # AC + 32 hex
    auth_tokens: tuple[str, ...]  # first authenticates REST calls; any one validates webhooks (rotation)
    from_number: str  # E.164 caller id, a Twilio number or verified caller id
    public_url: str  # origin Twilio reaches us at, e.g. https://oncall.example (signatures are over it)
    token_secrets: tuple[str, ...]  # HMAC keys for our URL tokens; first signs, any verifies
    api_base_url: str | None = None  # None = https://api.twilio.com; the simulator's URL in tests/demo
    path_prefix: str = "/twilio"  # where build_routes' routes are mounted
    ring_timeout: int = 30  # seconds to ring before no-answer
    gather_timeout: int = 6  # seconds to wait for a key after the message
    max_plays: int = 3  # first play + 2 repeats when no key is pressed, then hang up
    machine_detection: bool = True
    calls_per_second: float = 1.0
    request_timeout: float = 10.0
    twiml_token_ttl: int = 900  # queue + ring + talk time for the first TwiML fetch
    status_token_ttl: int = 7200  # callbacks keep coming until the call ends
    reconcile_window: int = 900  # how far back reconcile looks for a call placed before a crash
    overdue_after: int = 300  # after ring timeout + this with no final callback, ask the API and settle
    # A call that ended answered, with no key yet, waits this long for its key press before settling
    # as no-key: the Gather request and the completed callback race, and Twilio gives a webhook 15 s.
    late_key_grace: float = 15.0
    voices: Mapping[str, str] = field(default_factory=lambda: dict(VOICES))
    retry_rules: Mapping[str, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def __post_init__(self) -> None:
        problems = []
        if not _ACCOUNT_SID.match(self.account_sid):
            problems.append("account_sid must be AC followed by 32 hex digits")
        if not self.auth_tokens or not all(self.auth_tokens):
            problems.append("at least one auth token is required")
        if not _E164.match(self.from_number):
            problems.append("from_number must be E.164, e.g. +15005550006")
        if not self.public_url.startswith(("http://", "https://")):
            problems.append("public_url must be an absolute http(s) URL")
        if not self.token_secrets or any(len(s) < 16 for s in self.token_secrets):
            problems.append("token_secrets must hold at least one secret of 16+ characters")
        if not 5 <= self.ring_timeout <= 600:
            problems.append("ring_timeout must be between 5 and 600 seconds")
        if not 0 <= self.late_key_grace <= 60:
            problems.append("late_key_grace must be between 0 and 60 seconds")
        if self.max_plays < 1 or self.gather_timeout < 1 or self.calls_per_second <= 0:
            problems.append("max_plays, gather_timeout and calls_per_second must be positive")
        if problems:
            # Never echo the values: two of them are secrets.
            raise ValueError("invalid Twilio settings: " + "; ".join(problems))

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/") + self.path_prefix

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TwilioSettings:
        """From plain configuration (YAML/env): tokens and secrets may be one string or a list."""
        values = dict(data)
        for name in ("auth_tokens", "token_secrets"):
            raw = values.get(name, ())
            values[name] = (raw,) if isinstance(raw, str) else tuple(raw)
        if "retry_rules" in values:
            values["retry_rules"] = parse_rules(values["retry_rules"])
        return cls(**values)
