import socket

import aiohttp
import pytest

from koban.channels.base import DeliveryStatus
from koban.channels.slack import SlackChannel
from koban.channels.slack.message import build_message
from koban.fakes.slack import WEBHOOK, FakeSlack
from koban.fakes.slack.clicks import iter_buttons
from tests.channels.factories import T0, make_incident, make_notification


@pytest.fixture
async def fake():
    async with FakeSlack(token="xoxb-test") as f:
        yield f


def bot(fake: FakeSlack, **extra):
    return {"token": "xoxb-test", "channel": "#alerts", "base_url": fake.base_url, **extra}


def action_ids(message) -> list[str]:
    return [button["action_id"] for _, button in iter_buttons(message)]


async def test_page_posts_block_kit_message_with_buttons_and_returns_channel_and_ts(fake):
    n = make_notification(bot(fake, on_call=["Alice"]), links={"acknowledge": "https://k.example/l/tok"})
    result = await SlackChannel().send(n)
    assert result.status is DeliveryStatus.SENT
    [message] = fake.messages
    assert result.meta == {"channel": message["channel"], "ts": message["ts"]}
    assert message["channel"].startswith("C")
    assert message["text"] == "[CRITICAL] DB down (incident 42)"
    assert message["attachments"][0]["color"] == "#E01E5A"
    assert action_ids(message) == ["ack", "resolve", "escalate", "link_acknowledge"]
    assert {b["value"] for _, b in iter_buttons(message)} == {
        "incident:42:0:0"
    }  # id, then the step and loop shown (replay-safe)
    rendered = str(message["attachments"])
    assert "runbooks.example/db" in rendered and "On call: Alice" in rendered
    assert "https://koban.example/incidents/42" in str(message["blocks"])


async def test_update_edits_the_message_in_place_and_replies_in_thread(fake):
    channel = SlackChannel()
    first = await channel.send(make_notification(bot(fake)))
    acked = make_incident(
        status="acknowledged", acknowledged_by="bob", acknowledged_via="slack", acknowledged_at=T0
    )
    second = await channel.send(
        make_notification(bot(fake), kind="update", incident=acked, previous=first.meta, key="inc42-upd-1")
    )
    assert second.status is DeliveryStatus.SENT and second.meta == first.meta
    original = fake.message(first.meta["ts"])
    assert len(original["updates"]) == 1
    assert "ack" not in action_ids(original) and "resolve" in action_ids(original)
    assert "Acknowledged by *bob* via slack at 2026-03-01 12:00 UTC" in str(original["attachments"])
    [reply] = fake.replies(first.meta["ts"])
    assert "Acknowledged by *bob*" in reply["text"]
    assert len(fake.messages) == 2  # the original and one thread reply, no new top-level message


async def test_resolved_update_turns_green_and_drops_buttons(fake):
    channel = SlackChannel()
    first = await channel.send(make_notification(bot(fake)))
    resolved = make_incident(status="resolved", resolved_at=T0)
    await channel.send(make_notification(bot(fake), kind="update", incident=resolved, previous=first.meta))
    message = fake.message(first.meta["ts"])
    assert message["attachments"][0]["color"] == "#2EB67D" and action_ids(message) == []


async def test_update_of_a_message_slack_lost_posts_a_new_one(fake):
    previous = {"channel": "C0GONE", "ts": "1.000001"}
    result = await SlackChannel().send(make_notification(bot(fake), kind="update", previous=previous))
    assert result.status is DeliveryStatus.SENT and result.meta["ts"] != "1.000001"
    assert len(fake.messages) == 1


async def test_rate_limit_is_transient_with_retry_after_then_succeeds(fake):
    fake.fail_next("chat.postMessage", status=429, retry_after=3)
    channel = SlackChannel()
    first = await channel.send(make_notification(bot(fake)))
    assert first.status is DeliveryStatus.TRANSIENT and first.retry_after == 3
    assert (await channel.send(make_notification(bot(fake)))).status is DeliveryStatus.SENT
    assert len(fake.messages) == 1


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "not_in_channel",
        "account_inactive",
    ],
)
async def test_permanent_slack_errors_stop_with_the_reason(fake, error):
    fake.fail_next("chat.postMessage", error=error)
    result = await SlackChannel().send(make_notification(bot(fake)))
    assert result.status is DeliveryStatus.PERMANENT and error in (result.error or "")


async def test_wrong_token_is_permanent(fake):
    result = await SlackChannel().send(make_notification(bot(fake, token="xoxb-wrong")))
    assert result.status is DeliveryStatus.PERMANENT and "invalid_auth" in (result.error or "")


async def test_server_error_is_transient(fake):
    fake.fail_next("chat.postMessage", status=500)
    assert (await SlackChannel().send(make_notification(bot(fake)))).status is DeliveryStatus.TRANSIENT


async def test_slow_slack_after_sending_is_in_doubt(fake):
    fake.fail_next("chat.postMessage", delay=1.0)
    result = await SlackChannel().send(make_notification(bot(fake, timeout=0.2)))
    assert result.status is DeliveryStatus.IN_DOUBT


async def test_unreachable_slack_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = {"token": "xoxb-test", "channel": "C1", "base_url": f"http://127.0.0.1:{port}/api/"}
    assert (await SlackChannel().send(make_notification(cfg))).status is DeliveryStatus.TRANSIENT


async def test_incoming_webhook_posts_the_message(fake):
    result = await SlackChannel().send(make_notification({"webhook_url": fake.webhook_url()}))
    assert result.status is DeliveryStatus.SENT
    [message] = fake.messages
    assert message["via"] == "webhook" and action_ids(message)[:3] == ["ack", "resolve", "escalate"]


async def test_incoming_webhook_update_posts_a_one_line_state_change(fake):
    acked = make_incident(status="acknowledged", acknowledged_by="bob", acknowledged_via="voice")
    cfg = {"webhook_url": fake.webhook_url()}
    await SlackChannel().send(make_notification(cfg, kind="update", incident=acked))
    assert fake.messages[0]["text"].startswith(":eyes: Acknowledged by *bob* via voice")


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, "channel_not_found", DeliveryStatus.PERMANENT),
        (404, "no_service", DeliveryStatus.PERMANENT),
        (410, "channel_is_archived", DeliveryStatus.PERMANENT),
        (403, "invalid_token", DeliveryStatus.PERMANENT),
        (429, "rate_limited", DeliveryStatus.TRANSIENT),
        (500, "rollup_error", DeliveryStatus.TRANSIENT),
    ],
)
async def test_incoming_webhook_errors_are_classified(fake, status, body, expected):
    fake.fail_next(WEBHOOK, status=status, error=body, retry_after=2 if status == 429 else None)
    result = await SlackChannel().send(make_notification({"webhook_url": fake.webhook_url()}))
    assert result.status is expected and body in (result.error or "")
    if status == 429:
        assert result.retry_after == 2


async def test_channel_without_token_or_webhook_is_permanent():
    result = await SlackChannel().send(make_notification({}))
    assert result.status is DeliveryStatus.PERMANENT


async def test_a_summary_past_slacks_limits_once_escaped_is_shortened_not_refused(fake):
    """2,000 '&' become 10,000 characters of '&amp;': over the 3,000 of a section, which Slack (and
    the fake, with slack_sdk's models) refuses as invalid_blocks. koban cuts it with an ellipsis."""
    long = make_incident(summary="R&D " * 500, source="&" * 4000)
    result = await SlackChannel().send(make_notification(bot(fake), incident=long))
    assert result.status is DeliveryStatus.SENT, result.error
    [message] = fake.messages
    heading = message["blocks"][0]["text"]["text"]
    assert len(heading) <= 3000 and heading.endswith("…>*")
    assert "&amp;" in heading and "&am…" not in heading  # never an escape cut in half
    assert all(len(b["text"]["text"]) <= 3000 for b in message["attachments"][0]["blocks"] if "text" in b)


async def test_the_fake_refuses_blocks_slack_would_refuse(fake):
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    bad = build_message(make_notification(bot(fake))) | {"blocks": [too_long]}
    async with aiohttp.ClientSession() as s:
        async with s.post(
            f"{fake.base_url}chat.postMessage",
            json={"channel": "#alerts", **bad},
            headers={"Authorization": "Bearer xoxb-test"},
        ) as resp:
            assert (await resp.json()) == {"ok": False, "error": "invalid_blocks"}
        async with s.post(fake.webhook_url(), json={"text": "x", "blocks": [too_long]}) as resp:
            assert (resp.status, await resp.text()) == (400, "invalid_blocks")
    assert fake.messages == []
