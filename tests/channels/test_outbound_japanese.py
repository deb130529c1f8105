"""What koban sends reads in the recipient's language: Japanese for a ``ja-JP`` person, through the
outbound catalogue (core/i18n.py); English output is unchanged (each channel's own tests)."""

from __future__ import annotations

from koban.channels.base import Recipient
from koban.channels.email.render import build_email
from koban.channels.slack.message import build_message, timeline_text
from koban.channels.sms.replies import ReplyError, parse_reply
from tests.channels.factories import make_incident, make_notification

ALICE_JA = Recipient(address="alice@example.com", person="alice", name="Alice", language="ja-JP")


def test_an_email_to_a_japanese_reader_is_in_japanese() -> None:
    incident = make_incident(status="acknowledged", acknowledged_by="bob", acknowledged_via="voice")
    n = make_notification({}, incident=incident, links={"resolve": "https://r"}, recipient=ALICE_JA)
    mail = build_email(n, "koban@example.com", "example.com", 0.0)
    text, html = (part.get_content() for part in mail.iter_parts())
    assert mail["Subject"] == "[確認済み] DB down (インシデント 42)"
    assert "サービス:  db" in text and "対応者 bob 経由 voice" in text and "  解決する: https://r" in text
    assert "koban でインシデント 42 を開く" in html


def test_a_task_email_to_a_japanese_reader_says_start_and_done_in_japanese() -> None:
    task = make_incident(details={"kind": "task"})
    n = make_notification({}, incident=task, links={"acknowledge": "https://a"}, recipient=ALICE_JA)
    mail = build_email(n, "koban@example.com", "example.com", 0.0)
    assert mail["Subject"] == "[作業] DB down (作業 42)"
    assert "開始する: https://a" in next(iter(mail.iter_parts())).get_content()


def test_a_slack_message_for_a_japanese_reader_is_in_japanese() -> None:
    incident = make_incident(alert_count=3)
    n = make_notification({}, incident=incident, recipient=ALICE_JA, step=1)
    message = build_message(n)
    assert message["text"] == "[CRITICAL] DB down (インシデント 42)"
    facts = message["attachments"][0]["blocks"][0]["text"]["text"]
    assert facts == "サービス: *db* · 状態: *triggered* · 発生元: db-1 · アラート 3 件"
    buttons = message["attachments"][0]["blocks"][-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["確認する", "解決する", "次の担当者へ"]
    assert timeline_text(n) == ":rotating_light: エスカレーションしました (ステップ 2): Alice に通知します"


def test_an_sms_reply_error_can_be_told_in_japanese() -> None:
    try:
        parse_reply("hello", ["secret"])
    except ReplyError as exc:
        assert str(exc).startswith("Reply with 1 <code>")  # what the routes answer today (no language)
        assert (
            exc.text("ja-JP") == "確認は「1 <コード>」、解決は「3 <コード>」と返信してください (例: 1 42K)。"
        )
    else:
        raise AssertionError("a reply without a code was accepted")
