"""Time to wake from an incident's timeline, alerts and deliveries (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from koban.domain.time_to_wake import as_json, time_to_wake

T = 1_900_000_000.0


def entry(at: float, kind: str, actor: str | None = None, via: str = "api", **data: object) -> dict:
    return {"at": T + at, "kind": kind, "actor": actor, "via": via, "data": data}


def test_a_probe_outage_counts_from_the_first_failed_probe_to_the_acknowledgement() -> None:
    timeline = [
        entry(-1.2, "probe.failed", via="koban.probes"),
        entry(0, "triggered"),
        entry(0.05, "notification.sent", "alice", "phone"),
        entry(2.0, "call.answered", "alice", "voice", answered_by="human"),
        entry(5.0, "key.pressed", "alice", "voice", digit="1"),
        entry(5.01, "acknowledged", "alice", "voice"),
    ]
    deliveries = [{"kind": "page", "channel_id": "phone", "person_id": "alice", "sent_at": T + 0.05}]
    w = time_to_wake(T, timeline, [], deliveries)
    assert (w.first_failure.at, w.first_failure.how) == (T - 1.2, "probe")
    assert w.first_page is not None and round(w.first_page.after, 3) == 1.25
    assert w.first_page.who == "alice" and w.first_page.how == "phone"
    assert w.first_reached is not None and w.first_reached.how == "call.answered"
    assert round(w.first_reached.after, 3) == 3.2
    assert w.acknowledged is not None and round(w.acknowledged.after, 3) == 6.21
    assert w.acknowledged.how == "voice" and w.acknowledged.who == "alice"


def test_a_source_alert_counts_from_its_starts_at_and_a_machine_is_nobody() -> None:
    alerts = [{"action": "trigger", "event": {"occurred_at": T - 60}}]
    timeline = [
        entry(1, "call.answered", "bob", "voice", answered_by="machine_start"),
        entry(3, "resolved", None, "alertmanager"),  # a source resolving is not a person
    ]
    w = time_to_wake(T, timeline, alerts, [])
    assert (w.first_failure.at, w.first_failure.how) == (T - 60, "alert")
    assert w.first_page is None and w.first_reached is None and w.acknowledged is None


def test_a_slack_click_reaches_a_person_and_a_future_start_is_bounded_by_creation() -> None:
    alerts = [{"action": "trigger", "event": {"occurred_at": T + 3600}}]  # the sender's clock is ahead
    timeline = [entry(4, "escalated", "carol", "slack")]
    w = time_to_wake(T, timeline, alerts, [{"kind": "update", "sent_at": T + 1}])
    assert w.first_failure.at == T
    assert w.first_page is None  # an update is not a page
    assert w.first_reached is not None and (w.first_reached.who, w.first_reached.after) == ("carol", 4.0)


def test_the_api_shape_gives_each_moment_a_time_and_seconds_from_the_first() -> None:
    w = time_to_wake(T, [entry(2, "acknowledged", "alice")], [], [])
    got = as_json(w, lambda v: datetime.fromtimestamp(v, UTC).isoformat())
    assert got["first_failure"] == {
        "at": datetime.fromtimestamp(T, UTC).isoformat(),
        "after_seconds": 0.0,
        "how": "incident",
        "who": None,
    }
    assert got["acknowledged"]["after_seconds"] == 2.0 and got["first_page"] is None
