"""The simulator's records and the JSON shapes Twilio's REST API answers with (protocols.md §1.2-1.3)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"
TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21219: "The 'To' number {to} is not verified. Trial accounts may only call verified numbers.",
    21220: "Invalid parameter: {detail}",
    21201: "No 'To' number is specified",
    21213: "No 'From' number is specified",
    21205: "Url parameter is required.",
    21602: "Message body is required.",
}
ERROR_STATUS = {20003: 401, 20404: 404, 20429: 429}


def error_body(code: int, **fmt: Any) -> tuple[int, dict[str, Any]]:
    status = ERROR_STATUS.get(code, 400)
    message = ERROR_MESSAGES.get(code, "Error").format_map({"to": "", "path": "", "detail": "", **fmt})
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rfc2822(when: datetime | None) -> str | None:
    return format_datetime(when.astimezone(UTC), usegmt=False) if when else None


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class SimCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    params: dict[str, list[str]]  # the create request, as received
    status: str = "queued"
    created_at: datetime = field(default_factory=utcnow)
    # When the create request arrived, to the microsecond (created_at, like Twilio's, is to the
    # second): what tests and bench/wake_vs_prometheus.py time a page by.
    received_at: float = field(default_factory=time.time)
    updated_at: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    sequence: int = 0
    # What happened, for tests and the demo log.
    events: list[dict[str, Any]] = field(default_factory=list)
    spoken: list[dict[str, Any]] = field(default_factory=list)
    queued_for: float = 0.0  # simulated seconds waiting for a calls-per-second slot
    digits: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    hangup_requested: str | None = None  # status asked for by a REST update
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[0] if values else default

    @property
    def duration(self) -> int | None:
        if self.end_time is None:
            return None
        if self.answered_at is None:
            return 0
        return int((self.end_time - self.answered_at).total_seconds())

    def as_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        duration = self.duration
        return {
            "sid": self.sid,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.updated_at),
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": self.to,
            "from": self.from_,
            "from_formatted": self.from_,
            "phone_number_sid": None,
            "status": self.status,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            "duration": None if duration is None else str(duration),
            "price": None,
            "price_unit": "USD",
            "direction": "outbound-api",
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": uri + ".json",
            "subresource_uris": {
                "notifications": uri + "/Notifications.json",
                "recordings": uri + "/Recordings.json",
                "payments": uri + "/Payments.json",
                "events": uri + "/Events.json",
                "siprec": uri + "/Siprec.json",
                "streams": uri + "/Streams.json",
                "transcriptions": uri + "/Transcriptions.json",
                "user_defined_message_subscriptions": uri + "/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": uri + "/UserDefinedMessages.json",
            },
        }

    def inspect(self) -> dict[str, Any]:
        """The simulator's own view (GET /_sim/calls): the resource plus what was heard and pressed."""
        return {
            **self.as_json(),
            "url": self.param("Url"),
            "status_callback": self.param("StatusCallback"),
            "timeout": self.param("Timeout"),
            "machine_detection": self.param("MachineDetection"),
            "events": self.events,
            "spoken": self.spoken,
            "digits": self.digits,
            "errors": self.errors,
        }


@dataclass
class SimMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str = "queued"
    direction: str = "outbound-api"
    created_at: datetime = field(default_factory=utcnow)

    @property
    def num_segments(self) -> int:
        # GSM-7 fits 160 characters per segment, UCS-2 (e.g. Japanese) 70.
        per = 160 if self.body.isascii() else 70
        return max(1, -(-len(self.body) // per))

    def as_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created_at),
            "date_sent": None,
            "date_updated": rfc2822(self.created_at),
            "direction": self.direction,
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "status": self.status,
            "subresource_uris": {"media": uri + "/Media.json"},
            "to": self.to,
            "uri": uri + ".json",
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer for the next create request: an error code, or a late answer (in doubt)."""

    code: int | None = None
    delay: float = 0.0
