"""Signed requests from the simulator to the application, shaped like Twilio's (protocols.md §1.5, §1.8)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urldefrag, urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from koban.fakes.twilio.resources import API_VERSION, SimCall

# Twilio's default webhook budget (connect 5 s, total 15 s): a slow app sees the same failures here.
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


def call_params(call: SimCall) -> dict[str, str]:
    """The parameters Twilio sends on every voice webhook for a call."""
    params = {
        "CallSid": call.sid,
        "AccountSid": call.account_sid,
        "From": call.from_,
        "To": call.to,
        "Caller": call.from_,
        "Called": call.to,
        "CallStatus": call.status,
        "ApiVersion": API_VERSION,
        "Direction": "outbound-api",
        "FromCountry": "",
        "ToCountry": "",
    }
    if call.answered_by is not None:
        params["AnsweredBy"] = call.answered_by
    return params


def status_params(call: SimCall, status: str, sequence: int, now: datetime) -> dict[str, str]:
    params = call_params(call)
    params.update(
        CallStatus=status,
        SequenceNumber=str(sequence),
        Timestamp=now.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
        CallbackSource="call-progress-events",
    )
    if status in {"completed", "busy", "no-answer", "failed", "canceled"}:
        seconds = call.duration or 0
        params["CallDuration"] = str(seconds)
        params["Duration"] = str(-(-seconds // 60))  # billed minutes, rounded up
        params["SipResponseCode"] = {
            "completed": "200",
            "busy": "486",
            "no-answer": "487",
            "canceled": "487",
        }.get(status, "500")
    return params


class Signer:
    """Posts form webhooks signed with the account's auth token, the way Twilio does."""

    def __init__(self, session: aiohttp.ClientSession, auth_token: str) -> None:
        self.session = session
        self.validator = RequestValidator(auth_token)

    async def send(self, url: str, method: str, params: Mapping[str, str]) -> tuple[int, str, str]:
        """Returns (status, content type, body); status 0 when the app could not be reached."""
        # Fragments carry Twilio connection overrides (#ct=...&rt=...): never part of the request.
        url = urldefrag(url).url
        method = method.upper()
        if method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            headers = {"X-Twilio-Signature": self.validator.compute_signature(target, {})}
            kw: dict[str, Any] = {}
        else:
            target = url
            headers = {"X-Twilio-Signature": self.validator.compute_signature(url, dict(params))}
            kw = {"data": dict(params)}
        headers["User-Agent"] = "TwilioProxy/1.1"
        try:
            async with self.session.request(
                method, target, headers=headers, timeout=WEBHOOK_TIMEOUT, allow_redirects=False, **kw
            ) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 0, "", f"{type(exc).__name__}: {exc}"
