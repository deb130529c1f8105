"""A schedule notice reads as a message, not as an incident: Slack, email and SMS show its text (in
the reader's language) without incident facts, buttons or reply codes."""

from __future__ import annotations

from datetime import UTC, datetime

from koban.channels.base import IncidentView, Notification, Recipient
from koban.channels.email.render import build_email
from koban.channels.slack.message import build_message
from koban.channels.sms.replies import MAX_NOTICE, notice_text
from koban.schedules import wording

START = datetime(2027, 1, 14, 0, tzinfo=UTC).timestamp()


def notice(text: str) -> Notification:
    view = IncidentView(
        id=0,
        service="ops",
        summary=text,
        severity="info",
        status="notice",
        dedup_key="handoff:ops:1:alice:mail",
        created_at=datetime.fromtimestamp(START, UTC),
    )
    who = Recipient(address="alice@example.jp", person="alice", name="Alice", language="ja-JP")
    return Notification(
        key=view.dedup_key, kind="notice", incident=view, recipient=who, channel="c", config={}
    )


def test_a_japanese_handoff_on_slack_is_its_text_with_no_incident_facts_or_buttons():
    n = notice(wording.handoff("ja-JP", "ops", START, "Asia/Tokyo", ["#3 disk full"]))
    msg = build_message(n)
    assert msg["text"] == "ops のオンコール担当が 1月14日(木) 09:00 (Asia/Tokyo) からあなたになります"
    shown = str(msg["blocks"])
    assert "対応中のインシデント: #3 disk full" in shown
    assert "Service:" not in shown and "actions" not in shown and "attachments" not in msg


def test_a_gap_warning_by_email_has_its_headline_as_subject_and_its_text_as_body():
    text = wording.gap("en", "ops", START, START + 3600, "Asia/Tokyo")
    mail = build_email(notice(text), "koban@example.jp", "example.jp", START)
    assert mail["Subject"] == f"[koban] {text}"
    body = mail.get_body(("plain",))
    assert body is not None and text in body.get_content() and "Severity" not in body.get_content()


def test_a_handoff_by_sms_is_its_text_without_reply_codes_or_an_incident_age():
    text = wording.handoff("en", "ops", START, "Asia/Tokyo", None)
    sms = notice_text(notice(text))
    assert sms == f"[koban] {text}"
    long = notice_text(notice("x" * 5000))
    assert len(long) == MAX_NOTICE and long.endswith("…")
