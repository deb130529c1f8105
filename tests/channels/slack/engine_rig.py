"""A running koban wired to the fake Slack: config, system and served integration routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from koban.bootstrap.system import System
from koban.catalog.snapshot import hash_key
from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.fakes.slack import FakeSlack
from koban.fakes.webhook_receiver import RecordingReceiver
from tests.channels.asgi import serve
from tests.support.factories import KEY
from tests.support.system import running_system

SECRET = "slack-signing-secret"
HOOK_SECRET = "s3cret"
PATH = "/integrations/slack/interactivity"
SLACK_IDS = {"alice": "U_ALICE", "bob": "U_BOB", "carol": "U_CAROL"}


def slack_config(
    slack_base: str,
    hook_url: str,
    *,
    steps: list[dict] | None = None,
    channel: str = "#alerts",
    languages: dict[str, str] | None = None,
) -> ConfigFile:
    """Step 1: the #alerts channel; step 2 (after 5 min): a webhook standing in for the phone calls."""
    people = [
        {
            "id": n,
            "name": n.title(),
            "language": (languages or {}).get(n, "en-US"),
            "contacts": {"slack": SLACK_IDS[n], "email": f"{n}@example.test"},
            "notify": ["slack"],
        }
        for n in SLACK_IDS
    ]
    steps = steps or [
        {"notify": [{"channel": "slack"}], "escalate_after": "5m"},
        {"notify": [{"channel": "hook"}], "escalate_after": "5m"},
    ]
    return ConfigFile.model_validate(
        {
            "people": people,
            "rotations": [{"id": "primary", "members": ["alice", "bob"]}],
            "channels": [
                {
                    "id": "slack",
                    "type": "slack",
                    "token": "xoxb-test",
                    "channel": channel,
                    "base_url": slack_base,
                    "signing_secret": SECRET,
                    "timeout": 2,
                },
                {"id": "hook", "type": "webhook", "url": hook_url, "secret": HOOK_SECRET},
            ],
            "policies": [{"id": "default", "steps": steps}],
            "services": [
                {
                    "id": "web",
                    "policy": "default",
                    "integrations": [{"id": "web-generic", "type": "generic", "key_hashes": [hash_key(KEY)]}],
                }
            ],
        }
    )


@dataclass
class SlackRig:
    k: System
    fake: FakeSlack
    hook: RecordingReceiver
    base: str  # where koban's integration routes are served


@asynccontextmanager
async def slack_rig(
    db_url: str,
    tmp_path: Any,
    *,
    steps: list[dict] | None = None,
    channel: str = "#alerts",
    languages: dict[str, str] | None = None,
) -> AsyncIterator[SlackRig]:
    from koban.bootstrap.mounts import integration_routes

    clock = FakeClock()
    async with (
        FakeSlack(signing_secret=SECRET, clock=clock.now) as fake,
        RecordingReceiver(HOOK_SECRET, clock=clock.now) as hook,
        running_system(
            db_url,
            slack_config(fake.base_url, hook.url, steps=steps, channel=channel, languages=languages),
            tmp_path,
            clock=clock,
        ) as k,
        serve(integration_routes(k)) as base,
    ):
        fake.interactivity_url = base + PATH
        yield SlackRig(k, fake, hook, base)
