"""Scheduled reports through the durable delivery path: the fake Slack and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from koban.config.model import ConfigFile
from koban.core.clock import FakeClock
from koban.db import schema as t
from koban.db.schema_reports import report_deliveries as rd
from koban.fakes.slack import FakeSlack
from tests.channels.email.test_channel import Mailbox, free_port
from tests.support.system import running_system

TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY_0930 = datetime(2026, 12, 7, 9, 30, tzinfo=TOKYO).timestamp()
LAST_WEEK = datetime(2026, 12, 2, 3, 0, tzinfo=TOKYO).timestamp()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def config(slack_base: str, smtp_port: int, language: str = "ja") -> ConfigFile:
    return ConfigFile.model_validate(
        {
            "people": [
                {
                    "id": "alice",
                    "name": "Alice",
                    "timezone": "Asia/Tokyo",
                    "contacts": {"email": "alice@example.test", "slack": "U_ALICE"},
                }
            ],  # fmt: skip
            "channels": [
                {
                    "id": "ops-slack",
                    "type": "slack",
                    "token": "xoxb-test",
                    "channel": "#ops",
                    "base_url": slack_base,
                    "timeout": 2,
                },
                {
                    "id": "mail",
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "security": "none",
                    "from": "koban@example.test",
                },
            ],  # fmt: skip
            "services": [{"id": "web"}],
            "report_schedules": [
                {
                    "id": "weekly",
                    "cron": "0 9 * * MON",
                    "timezone": "Asia/Tokyo",
                    "period": "week",
                    "reports": ["response", "interruptions"],
                    "language": language,
                    "send_to": [
                        {"channel": "ops-slack"},
                        {"channel": "mail", "person": "alice"},
                        {"channel": "mail", "address": "sre@example.test"},
                    ],
                }
            ],  # fmt: skip
        }
    )


async def seed_incident(k, created: float) -> None:
    async with k.db.begin() as conn:
        await conn.execute(
            sa.insert(t.incidents).values(
                id=1, service_id="web", incident_key="k1", status="resolved", severity="critical",
                summary="db down", created_at=created, updated_at=created + 600,
                acknowledged_at=created + 120, acknowledged_by="alice", resolved_at=created + 600,
            )
        )  # fmt: skip
        await conn.execute(
            sa.insert(t.timeline),
            [{"incident_id": 1, "at": created + 120, "kind": "acknowledged", "actor": "alice", "data": {}}],
        )


async def rows(k) -> list[tuple[str, str, int]]:
    async with k.db.read() as conn:
        q = sa.select(rd.c.key, rd.c.state, rd.c.attempts).order_by(rd.c.key)
        return [tuple(r) for r in await conn.execute(q)]


async def test_a_weekly_report_goes_to_slack_and_email_once_in_japanese_across_restarts(
    db_url, tmp_path, smtp
):
    box, port = smtp
    clock = FakeClock(MONDAY_0930)
    async with FakeSlack(clock=clock.now) as fake:
        cfg = config(fake.base_url, port)
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k:
            await seed_incident(k, LAST_WEEK)
            await k.reports.tick()
            await k.reports.tick()  # a second look queues nothing and sends nothing again
            assert [s for _, s, _ in await rows(k)] == ["sent", "sent", "sent"]
        # A restart (another instance, the same database) finds the period claimed.
        async with running_system(db_url, cfg, tmp_path, clock=clock) as k2:
            await k2.reports.tick()
            assert len(await rows(k2)) == 3
    assert len(fake.messages) == 1
    posted = fake.messages[0]
    assert posted["channel"] == FakeSlack._channel_id("#ops")
    assert posted["metadata"]["event_payload"]["key"].startswith("report:weekly:")
    assert "週次レポート" in posted["text"] and "2026-11-30 00:00" in posted["text"]
    body = "".join(b["text"]["text"] for b in posted["blocks"] if b["type"] == "section")
    assert "インシデント 1 件" in body and "確認までの時間 p50 2分" in body
    assert sorted(m["To"] for m in box.messages) == ["alice@example.test", "sre@example.test"]
    mail = box.messages[0]
    assert "週次レポート" in str(make_header(decode_header(mail["Subject"])))
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    assert "確認までの時間 p50 2分" in text.get_payload(decode=True).decode()


async def test_a_rate_limited_post_is_retried_later_and_still_sent_once(db_url, tmp_path, smtp):
    _, port = smtp
    clock = FakeClock(MONDAY_0930)
    async with (
        FakeSlack(clock=clock.now) as fake,
        running_system(db_url, config(fake.base_url, port, "en"), tmp_path, clock=clock) as k,
    ):
        fake.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=1)
        await k.reports.tick()
        slack = [r for r in await rows(k) if ":ops-slack:" in r[0]]
        assert [(s, n) for _, s, n in slack] == [("pending", 1)]
        await k.reports.tick()  # not due yet: nothing is sent early
        assert len(fake.messages) == 0
        clock.advance(120)
        await k.reports.tick()
        assert [(s, n) for k_, s, n in await rows(k) if ":ops-slack:" in k_] == [("sent", 2)]
    assert len(fake.messages) == 1
    assert fake.messages[0]["text"].startswith("koban weekly report: 2026-11-30 00:00 to 2026-12-07 00:00")


async def test_nothing_is_sent_before_the_first_firing_of_a_new_schedule_week(db_url, tmp_path, smtp):
    _, port = smtp
    clock = FakeClock(MONDAY_0930)
    async with (
        FakeSlack(clock=clock.now) as fake,
        running_system(db_url, config(fake.base_url, port, "en"), tmp_path, clock=clock) as k,
    ):
        await k.reports.tick()
        clock.advance(3 * 86400)  # Thursday: the same firing, the same period
        await k.reports.tick()
        assert len(await rows(k)) == 3
        clock.advance(4 * 86400)  # next Monday 09:30: the next week
        await k.reports.tick()
        assert len(await rows(k)) == 6
    assert len(fake.messages) == 2
