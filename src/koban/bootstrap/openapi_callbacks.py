"""The vendor callback routes in the OpenAPI document: Twilio's webhooks and Slack's clicks.

They are plain Starlette routes (the vendor signs a form body; FastAPI's models add nothing), so
FastAPI does not see them; this describes them by hand, as ``app.py`` does the ingest routes. Each
is called by the vendor only: every request must carry the vendor's signature header over the
exact body (and, for Twilio, the URL with its single-use ``t`` token), else 401/403.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from koban.bootstrap.wiring.twilio import PATHS, PREFIX
from koban.channels.slack.interactivity import SlackDeps

FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    },
}
SLACK_PATH = next(f.default for f in fields(SlackDeps) if f.name == "path")
XML = {"text/xml": {"schema": {"type": "string"}}}
TOKEN = {
    "name": "t",
    "in": "query",
    "required": True,
    "description": "koban's signed, expiring token naming the delivery (from the URL koban gave Twilio)",
    "schema": {"type": "string"},
}


def _header(name: str, why: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "description": why, "schema": {"type": "string"}}


TWILIO_SIGNATURE = _header("X-Twilio-Signature", "Twilio's HMAC-SHA1 over the public URL and the form")
TWILIO: dict[str, tuple[str, dict[str, Any]]] = {
    "/voice/twiml": ("The call's script (TwiML): the page and its key menu", {"200": XML}),
    "/voice/gather": ("A key pressed on the call: 1 acknowledge, 2 pass on, 3 resolve", {"200": XML}),
    "/voice/status": ("Call progress (ringing, answered, completed...): settles the delivery", {"204": None}),
    "/sms/inbound": ("An SMS reply: '1 <code>' acknowledges, '3 <code>' resolves", {"200": XML}),
}
TWILIO_ERRORS = {
    "400": "The form lacks a field Twilio always sends",
    "403": "Signature or token missing, forged, expired or already used",
    "404": "No Twilio channel is configured",
    "415": "Not a form body",
}


def _answers(ok: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, content in ok.items():
        answers[status] = {"description": "Answered to the vendor"}
        if content:
            answers[status]["content"] = content
    answers.update({status: {"description": why} for status, why in errors.items()})
    return answers


def document_callbacks(spec: dict[str, Any]) -> None:
    paths = spec.setdefault("paths", {})
    for path in PATHS:
        summary, ok = TWILIO[path]
        params = [TWILIO_SIGNATURE] if path == "/sms/inbound" else [TOKEN, TWILIO_SIGNATURE]
        paths[PREFIX + path] = {
            "post": {
                "tags": ["callbacks"],
                "summary": f"Twilio: {summary}",
                "operationId": "twilio_" + path.strip("/").replace("/", "_"),
                "parameters": params,
                "requestBody": FORM,
                "responses": _answers(ok, TWILIO_ERRORS),
                "security": [],
            }
        }
    paths[str(SLACK_PATH)] = {
        "post": {
            "tags": ["callbacks"],
            "summary": "Slack: a button clicked on a koban message (acknowledge, resolve, escalate)",
            "operationId": "slack_interactivity",
            "parameters": [
                _header("X-Slack-Signature", "Slack's v0 HMAC-SHA256 over timestamp and body"),
                _header("X-Slack-Request-Timestamp", "Unix seconds; over 5 minutes old is refused"),
            ],
            "requestBody": FORM,
            "responses": _answers(
                {"200": None},
                {"401": "Signature missing, forged or stale", "404": "No Slack channel is configured"},
            ),
            "security": [],
        }
    }
