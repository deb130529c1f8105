"""The fake Slack for ``koban demo``: a child process on a free port, and the settings that point at it."""

from __future__ import annotations

import os

from koban.fakes.lifeline import start_child

SIGNING_SECRET = "demo-slack-signing-secret"  # only ever signs clicks between two local processes
FIRST_TS = "1700000001.000001"  # the fake numbers messages from here: the first page's ts


def start_fake_slack(koban_url: str) -> str:
    """Start it (killed when the demo exits), point koban's Slack channels at it; returns its URL."""
    from koban.testing.ports import free_port

    port = free_port()
    args = ["--port", str(port), "--signing-secret", SIGNING_SECRET]
    start_child(
        "koban.fakes.slack", [*args, "--interactivity-url", f"{koban_url}/integrations/slack/interactivity"]
    )
    url = f"http://127.0.0.1:{port}"
    os.environ.setdefault("KOBAN_SLACK_API_BASE_URL", f"{url}/api/")
    os.environ.setdefault("KOBAN_SLACK_SIGNING_SECRET", SIGNING_SECRET)
    return url


def click_hint(url: str) -> str:
    return (
        f"  Slack (fake): {url}/_fake/messages; click Acknowledge on the first message as bob:\n"
        f"    curl -s -X POST {url}/_fake/click -H 'Content-Type: application/json' \\\n"
        f'      -d \'{{"message_ts": "{FIRST_TS}", "action_id": "ack", "user_id": "U0BOB"}}\'\n'
    )
