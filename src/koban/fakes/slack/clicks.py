"""Building and signing the block_actions request Slack sends when a button is clicked (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def iter_buttons(message: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button in the message, top-level blocks and attachments alike."""
    blocks = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or []:
        blocks.extend(attachment.get("blocks") or [])
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if element.get("type") == "button":
                    yield str(block.get("block_id", "")), element


def block_actions_payload(
    message: Mapping[str, Any],
    action_id: str,
    user_id: str,
    *,
    user_name: str,
    response_url: str,
    action_ts: str,
) -> dict[str, Any]:
    found = next(((b, e) for b, e in iter_buttons(message) if e.get("action_id") == action_id), None)
    if found is None:
        raise LookupError(f"no button {action_id!r} on message {message.get('ts')}")
    block_id, button = found
    channel, ts = message["channel"], message["ts"]
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": "T0FAKE"},
        "api_app_id": "A0FAKE",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{action_ts}.fake",
        "team": {"id": "T0FAKE", "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel},
        "message": {"type": "message", "ts": ts, "text": message.get("text", ""), "blocks": []},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "text": button.get("text"),
                "value": button.get("value"),
                "action_ts": action_ts,
            }
        ],
    }


def signed_form(payload: Mapping[str, Any], secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The form body Slack posts and its signing headers."""
    body = urlencode({"payload": json.dumps(payload)}).encode("utf-8")
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None  # None only when no timestamp is given
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }
    return body, headers
