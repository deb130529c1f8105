from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from koban.channels.actions import IncidentAction
from koban.channels.base import DeliveryStatus
from koban.channels.sms import SmsChannel, build_sms_routes, incident_code, page_text, parse_reply
from koban.channels.sms.replies import ReplyError
from koban.channels.voice import MemoryCallStateStore, MemoryTokenStore, TwilioDeps, close_client
from koban.fakes.twilio import TwilioSimulator
from tests.channels.voice.support import (
    AUTH_TOKEN,
    SECRET,
    T0,
    make_notification,
    make_settings,
    serve,
)
from tests.support.actions import RecordingActions

SECRETS = (SECRET,)
CODE = incident_code(42, SECRETS)


def test_page_text_is_short_and_carries_the_reply_codes():
    text = page_text(make_notification(), SECRETS, T0 + timedelta(minutes=5))
    assert (
        text == f"[koban] CRITICAL db: Disk full (5 minutes ago). Reply 1 {CODE} to ack, 3 {CODE} to resolve."
    )
    ja = page_text(make_notification(language="ja-JP"), SECRETS, T0 + timedelta(minutes=5))
    assert f"「1 {CODE}」" in ja and "緊急" in ja and "5分" in ja


def test_page_text_carries_the_signed_acknowledge_link_when_there_is_one():
    n = replace(
        make_notification(), links={"acknowledge": "https://k.test/l/tok", "resolve": "https://k.test/l/r"}
    )
    text = page_text(n, SECRETS, T0 + timedelta(minutes=5))
    assert text.endswith(" Ack: https://k.test/l/tok") and f"Reply 1 {CODE}" in text


def test_a_calendar_task_by_sms_says_start_and_done_and_carries_both_links():
    task = make_notification().incident
    n = replace(
        make_notification(incident=replace(task, summary="Backup check", details={"kind": "task"})),
        links={"acknowledge": "https://k.test/l/a", "resolve": "https://k.test/l/r"},
    )
    text = page_text(n, SECRETS, T0 + timedelta(minutes=5))
    assert text == (
        f"[koban] TASK db: Backup check. Reply 1 {CODE} to start, 3 {CODE} when done. "
        "Start: https://k.test/l/a Done: https://k.test/l/r"
    )
    ja = page_text(replace(n, recipient=replace(n.recipient, language="ja-JP")), SECRETS, T0)
    assert "作業" in ja and "開始: https://k.test/l/a" in ja and "完了: https://k.test/l/r" in ja


@pytest.mark.parametrize(
    ("body", "action"),
    [
        (f"1 {CODE}", IncidentAction.ACKNOWLEDGE),
        (f"  ack {CODE.lower()} ", IncidentAction.ACKNOWLEDGE),
        (f"3 #{CODE}", IncidentAction.RESOLVE),
        (f"2 {CODE}", IncidentAction.ESCALATE),
        (
            "１ ４２" + chr(ord(CODE[-1]) + 0xFEE0),
            IncidentAction.ACKNOWLEDGE,
        ),  # full-width from a Japanese phone
    ],
)
def test_replies_parse_to_an_action_and_incident(body, action):
    reply = parse_reply(body, SECRETS)
    assert (reply.action, reply.incident_id) == (action, 42)


@pytest.mark.parametrize("body", ["", "ok", "1", "1 42", "9 " + CODE, "1 43" + CODE[-1], f"1 {CODE} extra"])
def test_unusable_replies_are_refused_with_a_helpful_message(body):
    with pytest.raises(ReplyError):
        parse_reply(body, SECRETS)


async def test_sms_is_sent_through_twilio_and_a_signed_reply_acknowledges():
    actions = RecordingActions()

    async def person_for_phone(number: str) -> str | None:
        return {"+15550000001": "alice"}.get(number)

    async def resolve(key: str):
        return None

    deps = TwilioDeps(
        make_settings(), actions, MemoryTokenStore(), MemoryCallStateStore(), resolve, person_for_phone
    )
    async with serve(build_sms_routes(deps)) as app_url, TwilioSimulator(AUTH_TOKEN, speed=50) as sim:
        deps.settings = make_settings(public_url=app_url, api_base_url=sim.url)
        sim.sms_url = f"{app_url}/twilio/sms/inbound"
        channel = SmsChannel(deps.settings, clock=lambda: (T0 + timedelta(minutes=1)).timestamp())
        try:
            result = await channel.send(make_notification())
        finally:
            close_client(channel.client)
        assert result.status is DeliveryStatus.SENT and result.provider_ref.startswith("SM")
        assert f"Reply 1 {CODE} to ack" in sim.messages[0].body
        status, body = await sim.reply_sms("+15550000001", f"1 {CODE}")
        assert status == 200 and "<Message>#42: acknowledge by alice</Message>" in body
        assert actions.calls == [(42, IncidentAction.ACKNOWLEDGE, "alice", "sms")]
        status, body = await sim.reply_sms("+15550000009", f"1 {CODE}")
        assert status == 200 and "not registered" in body and len(actions.calls) == 1
        status, body = await sim.reply_sms("+15550000001", "yes")
        assert status == 200 and "Reply with 1" in body and len(actions.calls) == 1


async def test_a_schedule_notice_is_sent_as_its_text_with_no_reply_codes():
    """A handoff message by SMS (docs/schedules.md): no incident to acknowledge, so no codes."""
    text = "You are on call in ops from Mon 18 Jan 10:00 (Asia/Tokyo)"
    view = replace(make_notification().incident, id=0, summary=text, status="notice", severity="info")
    async with TwilioSimulator(AUTH_TOKEN, speed=50) as sim:
        channel = SmsChannel(make_settings(api_base_url=sim.url), clock=lambda: T0.timestamp())
        try:
            result = await channel.send(make_notification(kind="notice", incident=view))
        finally:
            close_client(channel.client)
    assert result.status is DeliveryStatus.SENT
    assert [m.body for m in sim.messages] == [f"[koban] {text}"]


async def test_pass_on_by_sms_names_the_step_of_the_latest_sms_page_or_is_refused():
    actions = RecordingActions()
    pages = {(42, "alice"): (1, 0)}  # alice was texted at step 2; bob was never texted

    async def person_for_phone(number: str) -> str | None:
        return {"+15550000001": "alice", "+15550000002": "bob"}.get(number)

    async def last_sms_page(incident_id: int, person: str) -> tuple[int, int] | None:
        return pages.get((incident_id, person))

    async def resolve(key: str):
        return None

    deps = TwilioDeps(
        make_settings(),
        actions,
        MemoryTokenStore(),
        MemoryCallStateStore(),
        resolve,
        person_for_phone,
        last_sms_page=last_sms_page,
    )
    async with serve(build_sms_routes(deps)) as app_url, TwilioSimulator(AUTH_TOKEN, speed=50) as sim:
        deps.settings = make_settings(public_url=app_url, api_base_url=sim.url)
        sim.sms_url = f"{app_url}/twilio/sms/inbound"
        await sim.reply_sms("+15550000001", f"2 {CODE}")
        assert actions.calls == [(42, IncidentAction.ESCALATE, "alice", "sms")] and actions.seen == [(1, 0)]
        status, body = await sim.reply_sms("+15550000002", f"2 {CODE}")
        assert status == 200 and "not paged by SMS" in body and len(actions.calls) == 1
        assert [(who, why) for _, _, who, _, why in actions.refused] == [
            ("bob", "you were not paged by SMS for it, so it cannot be passed on by SMS")
        ]


async def test_a_japanese_persons_unusable_reply_is_answered_in_japanese():
    actions = RecordingActions()

    async def person_for_phone(number: str) -> str | None:
        return {"+15550000001": "hanako"}.get(number)

    async def resolve(key: str):
        return None

    deps = TwilioDeps(
        make_settings(), actions, MemoryTokenStore(), MemoryCallStateStore(), resolve, person_for_phone
    )
    deps.language_of = {"hanako": "ja-JP"}.get
    async with serve(build_sms_routes(deps)) as app_url, TwilioSimulator(AUTH_TOKEN, speed=50) as sim:
        deps.settings = make_settings(public_url=app_url, api_base_url=sim.url)
        sim.sms_url = f"{app_url}/twilio/sms/inbound"
        status, body = await sim.reply_sms("+15550000001", "はい")
        assert status == 200 and "確認は「1 &lt;コード&gt;」" in body and actions.calls == []
        status, body = await sim.reply_sms("+15550000001", "1 7X")
        assert status == 200 and "コード 7X は無効です" in body and actions.calls == []
