import pytest

from koban.channels.base import DeliveryStatus
from koban.channels.pagerduty import PagerDutyChannel, build_event
from koban.fakes.pagerduty import FakePagerDuty
from tests.channels.factories import T0, make_incident, make_notification

KEY = "R" * 32


@pytest.fixture
async def pd():
    async with FakePagerDuty() as fake:
        yield fake


def cfg(pd: FakePagerDuty, **extra) -> dict:
    return {"routing_key": KEY, "url": pd.url, **extra}


async def test_page_triggers_an_alert_with_stable_dedup_key_severity_and_links(pd):
    result = await PagerDutyChannel().send(make_notification(cfg(pd)))
    assert result.status is DeliveryStatus.SENT and result.provider_ref == "koban-42"
    [event] = pd.events
    assert event["event_action"] == "trigger" and event["payload"]["severity"] == "critical"
    assert event["payload"]["source"] == "db-1" and event["payload"]["component"] == "db"
    assert {"href": "https://koban.example/incidents/42", "text": "koban incident 42"} in event["links"]
    assert pd.alert(KEY, "koban-42")["status"] == "triggered"


async def test_acknowledge_and_resolve_follow_the_incident_on_the_same_alert(pd):
    channel = PagerDutyChannel()
    await channel.send(make_notification(cfg(pd)))
    acked = make_incident(status="acknowledged", acknowledged_by="bob")
    await channel.send(make_notification(cfg(pd), kind="update", incident=acked))
    assert pd.alert(KEY, "koban-42")["status"] == "acknowledged"
    await channel.send(make_notification(cfg(pd), kind="update", incident=make_incident(status="resolved")))
    assert pd.alert(KEY, "koban-42")["status"] == "resolved"
    assert [e["event_action"] for e in pd.events] == ["trigger", "acknowledge", "resolve"]
    assert set(pd.events[1]) == {"routing_key", "event_action", "dedup_key", "received_at"}


async def test_repeated_trigger_is_one_alert(pd):
    channel = PagerDutyChannel()
    await channel.send(make_notification(cfg(pd)))
    await channel.reconcile(make_notification(cfg(pd)), "koban-42")
    assert len(pd.alerts) == 1 and pd.alert(KEY, "koban-42")["events"] == 2


@pytest.mark.parametrize(
    ("ours", "theirs"), [("warning", "warning"), ("info", "info"), ("weird", "critical")]
)
def test_severity_is_mapped(ours, theirs):
    event = build_event(make_notification({"routing_key": KEY}, incident=make_incident(severity=ours)))
    assert event["payload"]["severity"] == theirs
    assert event["payload"]["timestamp"] == T0.isoformat()


async def test_bad_routing_key_is_permanent_with_pagerdutys_reason(pd):
    result = await PagerDutyChannel().send(make_notification(cfg(pd, routing_key="short")))
    assert result.status is DeliveryStatus.PERMANENT
    assert "Length of 'routing_key' is incorrect" in (result.error or "")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(pd, status):
    pd.fail_next(1, status=status)
    assert (await PagerDutyChannel().send(make_notification(cfg(pd)))).status is DeliveryStatus.TRANSIENT


async def test_more_than_120_events_a_minute_is_throttled_and_transient():
    now = [1000.0]
    async with FakePagerDuty(clock=lambda: now[0]) as pd:
        channel = PagerDutyChannel()
        for _ in range(120):
            assert (await channel.send(make_notification(cfg(pd)))).status is DeliveryStatus.SENT
        throttled = await channel.send(make_notification(cfg(pd)))
        assert throttled.status is DeliveryStatus.TRANSIENT and "429" in (throttled.error or "")
        now[0] += 60
        assert (await channel.send(make_notification(cfg(pd)))).status is DeliveryStatus.SENT


async def test_missing_routing_key_is_permanent():
    assert (await PagerDutyChannel().send(make_notification({}))).status is DeliveryStatus.PERMANENT


async def test_an_incident_too_big_for_pagerduty_still_pages_without_its_details(pd):
    """PagerDuty refuses events over 512 KB and summaries over 1024 characters (so does the fake)."""
    huge = make_incident(summary="s" * 5000, details={"log": "x" * (600 * 1024)})
    result = await PagerDutyChannel().send(make_notification(cfg(pd), incident=huge))
    assert result.status is DeliveryStatus.SENT, result.error
    [event] = pd.events
    assert len(event["payload"]["summary"]) == 1024
    assert "512 KB" in event["payload"]["custom_details"]["koban"]
