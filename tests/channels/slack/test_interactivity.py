import asyncio
import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette

from koban.channels.actions import IncidentAction
from koban.channels.slack import SlackChannel, SlackDeps, build_routes, parse_click
from koban.fakes.slack import FakeSlack
from koban.fakes.slack.clicks import signed_form
from tests.channels.asgi import serve
from tests.channels.factories import make_notification
from tests.support.actions import RecordingActions

SECRET = "slack-signing-secret"
PATH = "/integrations/slack/interactivity"
PEOPLE = {"U_ALICE": "alice", "U_BOB": "bob"}


async def lookup(user_id: str) -> str | None:
    return PEOPLE.get(user_id)


def make_deps(actions: RecordingActions, **kw) -> SlackDeps:
    return SlackDeps(signing_secret=SECRET, actions=actions, person_for_user=lookup, **kw)


async def post_message(fake: FakeSlack) -> str:
    cfg = {"token": "xoxb-test", "channel": "#alerts", "base_url": fake.base_url}
    result = await SlackChannel().send(make_notification(cfg))
    return result.meta["ts"]


async def test_signed_click_acknowledges_as_the_mapped_person_and_tells_the_clicker():
    actions = RecordingActions()
    refreshed: list[tuple[int, str, str]] = []

    async def refresh(incident_id: int, channel_id: str, ts: str) -> None:
        refreshed.append((incident_id, channel_id, ts))

    async with (
        serve(build_routes(make_deps(actions, refresh=refresh))) as base,
        FakeSlack(signing_secret=SECRET, interactivity_url=base + PATH) as fake,
    ):
        ts = await post_message(fake)
        assert await fake.click(ts, "ack", "U_ALICE") == 200
        assert actions.calls == [(42, IncidentAction.ACKNOWLEDGE, "alice", "slack")]
        # The follow-ups run after the answer; give them a moment.
        for _ in range(100):
            if fake.responses and refreshed:
                break
            await asyncio.sleep(0.02)
        assert refreshed == [(42, fake.message(ts)["channel"], ts)]
        assert fake.responses[0]["body"]["response_type"] == "ephemeral"


@pytest.mark.parametrize(("action_id", "expected"), [("resolve", "resolve"), ("escalate", "escalate")])
async def test_resolve_and_escalate_buttons_map_to_their_actions(action_id, expected):
    actions = RecordingActions()
    async with (
        serve(build_routes(make_deps(actions, reply_to_clicker=False))) as base,
        FakeSlack(signing_secret=SECRET, interactivity_url=base + PATH) as fake,
    ):
        ts = await post_message(fake)
        assert await fake.click(ts, action_id, "U_BOB") == 200
    assert actions.calls == [(42, IncidentAction(expected), "bob", "slack")]


async def test_forged_signature_is_refused_and_changes_nothing():
    actions = RecordingActions()
    async with (
        serve(build_routes(make_deps(actions))) as base,
        FakeSlack(signing_secret=SECRET, interactivity_url=base + PATH) as fake,
    ):
        ts = await post_message(fake)
        assert await fake.click(ts, "ack", "U_ALICE", secret="not-the-secret") == 401
    assert actions.calls == []


async def test_stale_timestamp_is_refused_and_changes_nothing():
    actions = RecordingActions()
    async with (
        serve(build_routes(make_deps(actions))) as base,
        FakeSlack(signing_secret=SECRET, interactivity_url=base + PATH) as fake,
    ):
        ts = await post_message(fake)
        stale = int(time.time()) - 301
        assert await fake.click(ts, "ack", "U_ALICE", timestamp=stale) == 401
    assert actions.calls == []


def _asgi_client(deps: SlackDeps) -> httpx.AsyncClient:
    app = Starlette(routes=build_routes(deps))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://koban.test")


def _block_actions(action_id: str, value: str, user: str = "U_ALICE") -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "someone"},
        "container": {"type": "message", "channel_id": "C1", "message_ts": "1.000001"},
        "actions": [{"type": "button", "action_id": action_id, "value": value}],
    }


async def test_unknown_slack_user_acts_anonymously_with_a_note_by_default():
    actions = RecordingActions()
    body, headers = signed_form(
        _block_actions("ack", "incident:7", user="U_MALLORY"), SECRET, int(time.time())
    )
    async with _asgi_client(make_deps(actions)) as client:
        resp = await client.post(PATH, content=body, headers=headers)
    assert resp.status_code == 200
    assert actions.calls == [(7, IncidentAction.ACKNOWLEDGE, None, "slack")]


async def test_unknown_slack_user_is_refused_when_mapping_is_required():
    actions = RecordingActions()
    body, headers = signed_form(
        _block_actions("ack", "incident:7", user="U_MALLORY"), SECRET, int(time.time())
    )
    async with _asgi_client(make_deps(actions, require_known_user=True)) as client:
        resp = await client.post(PATH, content=body, headers=headers)
    assert resp.status_code == 200 and actions.calls == []


@pytest.mark.parametrize(
    "payload",
    [
        _block_actions("link_acknowledge", "incident:7"),  # url button: the link itself does the work
        _block_actions("ack", "service:7"),
        _block_actions("ack", "incident:seven"),
        {"type": "view_submission"},
    ],
)
async def test_clicks_that_are_not_ours_are_answered_and_ignored(payload):
    actions = RecordingActions()
    body, headers = signed_form(payload, SECRET, int(time.time()))
    async with _asgi_client(make_deps(actions)) as client:
        resp = await client.post(PATH, content=body, headers=headers)
    assert resp.status_code == 200 and actions.calls == []


def test_parse_click_reads_the_message_identity():
    body = urlencode({"payload": json.dumps(_block_actions("resolve", "incident:9"))}).encode()
    click = parse_click(body)
    assert click is not None
    assert (click.incident_id, click.action, click.channel_id, click.message_ts) == (
        9,
        IncidentAction.RESOLVE,
        "C1",
        "1.000001",
    )


# protocols.md §2.5: the slack_sdk test vector, checked through our endpoint with an injected clock.
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TS = "1531420618"
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.mark.parametrize(("offset", "status"), [(0, 200), (300, 200), (301, 401), (-301, 401)])
async def test_slack_sdk_signature_vector_is_accepted_only_within_five_minutes(offset, status):
    actions = RecordingActions()
    deps = SlackDeps(
        signing_secret=VECTOR_SECRET,
        actions=actions,
        person_for_user=lookup,
        clock=lambda: int(VECTOR_TS) + offset,
    )
    headers = {"X-Slack-Request-Timestamp": VECTOR_TS, "X-Slack-Signature": VECTOR_SIG}
    async with _asgi_client(deps) as client:
        resp = await client.post(PATH, content=VECTOR_BODY.encode(), headers=headers)
    assert resp.status_code == status and actions.calls == []
