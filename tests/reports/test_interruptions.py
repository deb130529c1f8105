from datetime import datetime
from zoneinfo import ZoneInfo

from koban.reports.interruptions import interruptions, slot
from koban.reports.records import PageRecord, Period, PersonInfo


def local(tz: str, *a: int) -> float:
    return datetime(*a, tzinfo=ZoneInfo(tz)).timestamp()


PEOPLE = {
    "alice": PersonInfo("alice", "Alice", "Europe/Paris"),
    "bob": PersonInfo("bob", "Bob", "Asia/Tokyo"),
}


def page(person, at, channel_type="voice"):
    return PageRecord(1, person, f"ch-{channel_type}", channel_type, at)


def test_slots_are_the_recipients_own_hours():
    tz = "Europe/Paris"
    assert slot(local(tz, 2026, 3, 4, 10, 0), tz) == ("business", None)  # Wednesday
    assert slot(local(tz, 2026, 3, 4, 8, 30), tz) == ("evening_weekend", None)
    assert slot(local(tz, 2026, 3, 4, 19, 0), tz) == ("evening_weekend", None)
    assert slot(local(tz, 2026, 3, 7, 12, 0), tz) == ("evening_weekend", None)  # Saturday
    assert slot(local(tz, 2026, 3, 4, 22, 0), tz) == ("sleep", "2026-03-04")
    assert slot(local(tz, 2026, 3, 5, 7, 59), tz) == ("sleep", "2026-03-04")  # the same night


def test_calls_and_sms_interrupt_email_does_not():
    at = local("Europe/Paris", 2026, 3, 4, 23, 0)
    pages = [page("alice", at), page("alice", at + 60, "sms"), page("alice", at + 120, "email")]
    r = interruptions(pages, PEOPLE, Period(at - 1, at + 3600))
    (alice,) = r["people"]
    assert (alice["pages"], alice["interruptions"], alice["sleep"]) == (3, 2, 2)
    assert alice["by_channel"] == {"email": 1, "sms": 1, "voice": 1}
    assert alice["nights"] == ["2026-03-04"] and alice["nights_woken"] == 1


def test_one_instant_is_sleep_for_one_person_and_business_for_another():
    at = local("Asia/Tokyo", 2026, 3, 4, 10, 0)  # 02:00 in Paris
    r = interruptions([page("alice", at), page("bob", at)], PEOPLE, Period(at - 1, at + 1))
    alice, bob = r["people"]
    assert (alice["sleep"], bob["business"]) == (1, 1)
    assert r["total"]["sleep"] == 1 and r["total"]["business"] == 1


def test_a_person_deleted_since_keeps_their_id_in_utc_and_pages_to_no_one_are_only_totalled():
    at = local("UTC", 2026, 3, 4, 23, 0)
    r = interruptions([page("gone", at), page(None, at, "slack")], PEOPLE, Period(at - 1, at + 1))
    (gone,) = r["people"]
    assert (gone["person"], gone["known"], gone["timezone"], gone["sleep"]) == ("gone", False, "UTC", 1)
    assert r["total"]["pages_to_no_one"] == 1 and r["total"]["pages"] == 2
