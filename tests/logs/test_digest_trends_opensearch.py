"""A digest in a zone with DST (America/New_York, the Monday after the spring change), with its new
patterns and movers against the median of the same weekday of the last four weeks, computed here
from the generated data, and sent as an HTML email through a real SMTP server (aiosmtpd) in
Japanese while the Slack post of the same run is in English."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from koban.fakes.slack.server import FakeSlack
from koban.logs.digests import get_run, run_digest
from koban.testing.ports import free_port
from tests.logs.factories import config, doc, make_index

NY = ZoneInfo("America/New_York")
DAY = datetime(2027, 3, 15, tzinfo=NY)  # Monday; DST began on Sunday 2027-03-14
FIRE = datetime(2027, 3, 16, 8, 0, 30, tzinfo=NY)
WEEKLY = {
    "payment {n} failed": (3, 4, 5, 4),
    "timeout calling 10.0.0.{n}": (2, 2, 2, 2),
    "disk full on {n}": (6,) * 4,
}
TODAY = {"payment {n} failed": 10, "timeout calling 10.0.0.{n}": 2, "cache miss for {n}": 1}


def generated() -> list[dict]:
    docs = []
    for week, day in enumerate([DAY - timedelta(days=7 * k) for k in range(1, 5)]):
        for template, counts in WEEKLY.items():
            # 23:30 local: a week shifted by 168 hours instead of 7 local days would miss these.
            docs += [
                doc(day.replace(hour=23, minute=30), "ERROR", template.format(n=i))
                for i in range(counts[week])
            ]
        docs.append(doc(day - timedelta(minutes=30), "ERROR", "noise 1"))  # the evening before: never counted
    for template, count in TODAY.items():
        docs += [doc(DAY.replace(hour=0, minute=30), "ERROR", template.format(n=i)) for i in range(count)]
    return docs


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


async def test_new_patterns_and_movers_across_dst_are_mailed_in_japanese_and_posted_in_english(
    opensearch_url, db, smtp
):
    box, port = smtp
    index = await make_index(opensearch_url, generated())
    async with FakeSlack() as slack:
        cfg = config(
            opensearch_url,
            channels=[
                {"id": "team-slack", "type": "slack", "webhook_url": slack.webhook_url()},
                {
                    "id": "mail",
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "security": "none",
                    "from": "koban@example.test",
                },
            ],  # fmt: skip
            digests=[
                {
                    "id": "nightly",
                    "cluster": "local",
                    "index": index,
                    "window": "yesterday",
                    "schedule": {"cron": "0 8 * * *", "timezone": "America/New_York"},
                    "channels": ["team-slack", "mail"],
                    "language": "en",
                    "languages": {"mail": "ja"},
                    "email_to": ["ops@example.test"],
                    "new_pattern_days": 7,
                    "mover_weeks": 4,
                }
            ],  # fmt: skip
        )
        result = await run_digest(db, cfg, cfg.digests[0], FIRE)
        assert result is not None and result.status == "posted", result
        text = slack.messages[0]["text"]
    run = await get_run(db, "nightly", result.run_id)
    s = run["summary"]
    assert s["total"] == 13 and s["window_start"] == DAY.isoformat()
    assert s["new_patterns"] == ["cache miss for <N>"]
    # Medians of the same Monday over four weeks: payment 3,4,5,4 -> 4; disk full 6 -> 6; timeout 2.
    got = [(m["pattern"], m["count"], m["median"], m["change"]) for m in s["movers"]]
    assert got == [
        ("disk full on <N>", 0, 6.0, -6.0),
        ("payment <N> failed", 10, 4.0, 6.0),
        ("cache miss for <N>", 1, 0.0, 1.0),
    ]
    assert "New patterns (not seen in the previous 7 days)" in text
    assert "+6: `payment &lt;N&gt; failed`" in text  # Slack's control characters escaped

    (mail,) = box.messages
    assert mail["To"] == "ops@example.test" and "ログダイジェスト" in str(
        email.header.make_header(email.header.decode_header(mail["Subject"]))
    )
    html = (
        next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    )
    plain = (
        next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    assert (
        "新しいパターン" in plain
        and "cache miss for &lt;N&gt;" in html
        and "<code>payment &lt;N&gt; failed</code>" in html
    )
