from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from koban.config.model import ConfigFile
from koban.config.model_reports import ReportSchedule
from koban.config.references import check_references
from koban.reports.schedule_rules import due, period_before

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")


def at(zone: ZoneInfo, *fields: int) -> float:
    return datetime(*fields, tzinfo=zone).timestamp()


def sched(**kw) -> ReportSchedule:
    return ReportSchedule.model_validate({"id": "r", "send_to": [{"channel": "c"}], **kw})


def test_a_weekly_report_fired_on_monday_morning_covers_the_previous_monday_to_monday_in_its_zone():
    d = due(sched(cron="0 9 * * MON", timezone="Asia/Tokyo"), at(TOKYO, 2026, 12, 9, 15, 0))
    assert d is not None
    assert d.fired_at == at(TOKYO, 2026, 12, 7, 9, 0)
    assert (d.period.since, d.period.until) == (at(TOKYO, 2026, 11, 30), at(TOKYO, 2026, 12, 7))
    assert d.period.tz == "Asia/Tokyo"


def test_a_monthly_report_covers_the_last_full_calendar_month_across_a_dst_change():
    d = due(sched(cron="0 8 1 * *", timezone="Europe/Berlin", period="month"), at(BERLIN, 2026, 11, 3))
    assert d is not None
    # October 2026 in Berlin: 31 days and the hour the clocks went back.
    assert (d.period.since, d.period.until) == (at(BERLIN, 2026, 10, 1), at(BERLIN, 2026, 11, 1))
    assert d.period.until - d.period.since == 31 * 86400 + 3600


def test_only_the_latest_firing_counts_and_a_disabled_schedule_is_never_due():
    s = sched(cron="0 9 * * MON", timezone="Asia/Tokyo")
    later = due(s, at(TOKYO, 2026, 12, 21, 10))
    assert later is not None and later.period.since == at(TOKYO, 2026, 12, 14)
    assert due(sched(cron="0 9 * * MON", enabled=False), at(TOKYO, 2026, 12, 21, 10)) is None


def test_period_before_a_midnight_firing_is_the_week_that_just_ended():
    since, until = period_before(datetime(2026, 12, 7, 0, 0, tzinfo=TOKYO), "week")
    assert (since.day, until.day) == (30, 7)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ({"channel": "nope"}, "unknown channel 'nope'"),
        ({"channel": "phone"}, "a voice channel cannot take reports"),
        ({"channel": "mail"}, "an email channel needs an address or a person"),
        ({"channel": "mail", "person": "bob"}, "bob has no email contact"),
        ({"channel": "mail", "person": "zed"}, "unknown person 'zed'"),
        ({"channel": "mail", "address": "ops"}, "not an email address: 'ops'"),
    ],
)
def test_config_check_names_each_unreachable_report_recipient(target, problem):
    cfg = ConfigFile.model_validate(
        {
            "people": [{"id": "bob", "contacts": {"phone": "+15550100"}}],
            "channels": [
                {"id": "mail", "type": "email", "host": "127.0.0.1", "from": "k@example.test"},
                {"id": "phone", "type": "voice"},
            ],
            "report_schedules": [{"id": "weekly", "cron": "0 9 * * MON", "send_to": [target]}],
        }
    )
    assert any(msg.startswith(problem) for _, msg in check_references(cfg))


def test_a_bad_cron_zone_or_report_kind_is_refused_when_read():
    for bad in ({"cron": "61 * * * *"}, {"cron": "@daily", "timezone": "Mars/Base"},
                {"cron": "@daily", "reports": ["uptime"]}):  # fmt: skip
        with pytest.raises(ValueError):
            sched(**bad)
