from koban.reports.records import IncidentRecord, Period
from koban.reports.wake import wake


def incident(ident, created, *, failed=None, page=None, answered=None, ack=None, ack_by="alice"):
    timeline = []
    if failed is not None:
        timeline.append({"at": created - failed, "kind": "probe.failed", "actor": None, "data": {}})
    if answered is not None:
        timeline.append({"at": created + answered, "kind": "call.answered", "data": {"answered_by": "human"}})
    if ack is not None:
        timeline.append({"at": created + ack, "kind": "acknowledged", "actor": ack_by, "via": "sms"})
    deliveries = [] if page is None else [{"kind": "page", "sent_at": created + page, "channel_id": "phone"}]
    return IncidentRecord(
        ident, "web", None, "critical", created, None, timeline=timeline, deliveries=deliveries
    )


def test_each_stage_is_counted_from_the_first_failure_and_aggregated():
    incs = [
        incident(1, 1000.0, failed=30, page=2, answered=20, ack=40),
        incident(2, 2000.0, page=1, answered=10, ack=15),
        incident(3, 3000.0, failed=60, page=3),  # nobody reached yet
    ]
    r = wake(incs, Period(0, 10_000), as_of=10_000)
    t = r["total"]
    assert t["incidents"] == 3 and t["began_before_alert"] == 2
    assert t["lead"] == {"count": 3, "p50": 30.0, "p90": 60.0, "max": 60.0}
    assert t["first_page"] == {"count": 3, "p50": 32.0, "p90": 63.0, "max": 63.0}
    assert t["first_reached"] == {"count": 2, "p50": 10.0, "p90": 50.0, "max": 50.0}
    assert t["acknowledged"] == {"count": 2, "p50": 15.0, "p90": 70.0, "max": 70.0}
    assert (
        r["incidents"][0]["first_failure_how"] == "probe"
        and r["incidents"][1]["first_failure_how"] == "incident"
    )


def test_an_acknowledgement_by_a_source_before_the_first_page_is_not_a_person_reached():
    r = wake([incident(1, 1000.0, ack=1, ack_by=None, page=5)], Period(0, 10_000), as_of=10_000)
    (row,) = r["incidents"]
    assert row["acknowledged_seconds"] == 1.0 and row["first_reached_seconds"] is None
    assert row["first_page_seconds"] == 5.0
