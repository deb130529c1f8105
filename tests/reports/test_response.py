from koban.reports.records import IncidentRecord, Period, PersonInfo
from koban.reports.response import response

DAY = 86400.0
PERIOD = Period(10 * DAY, 20 * DAY)


def make_incident(ident, created, *, ack=None, by="alice", resolved=None, service="web", team="ops", **kw):
    timeline = []
    if ack is not None:
        timeline.append({"at": created + ack, "kind": "acknowledged", "actor": by, "via": "api"})
    timeline += kw.pop("timeline", [])
    return IncidentRecord(
        ident,
        service,
        team,
        kw.pop("severity", "critical"),
        created,
        None if resolved is None else created + resolved,
        timeline=timeline,
    )


def test_clocks_run_from_creation_to_first_acknowledgement_and_to_resolution():
    incs = [
        make_incident(1, 11 * DAY, ack=60, resolved=600),
        make_incident(2, 12 * DAY, ack=120, resolved=1200),
        make_incident(3, 13 * DAY, ack=600, resolved=3600),
    ]
    r = response(incs, PERIOD, as_of=30 * DAY)
    assert r["total"]["time_to_acknowledge"] == {"count": 3, "p50": 120.0, "p90": 600.0, "max": 600.0}
    assert r["total"]["time_to_resolve"] == {"count": 3, "p50": 1200.0, "p90": 3600.0, "max": 3600.0}


def test_an_incident_open_at_the_reports_time_is_counted_open_not_in_the_percentiles():
    incs = [make_incident(1, 11 * DAY, ack=60, resolved=600), make_incident(2, 19 * DAY, ack=None)]
    # acknowledged after the report was made: not yet known
    incs.append(make_incident(3, 19.5 * DAY, ack=DAY))
    t = response(incs, PERIOD, as_of=20 * DAY)["total"]
    assert (t["incidents"], t["acknowledged"], t["unacknowledged"], t["open"]) == (3, 1, 2, 2)
    assert t["time_to_acknowledge"]["count"] == 1


def test_acknowledged_by_a_source_before_any_page_counts_and_belongs_to_nobody():
    incs = [make_incident(1, 11 * DAY, ack=5, by=None), make_incident(2, 12 * DAY, ack=50)]
    r = response(incs, PERIOD, as_of=30 * DAY, by="person", people={"alice": PersonInfo("alice", "Alice")})
    assert r["total"]["acknowledged_by_source"] == 1
    groups = {g["key"]: g for g in r["groups"]}
    assert groups["(nobody)"]["time_to_acknowledge"]["p50"] == 5.0
    assert groups["alice"]["name"] == "Alice" and groups["alice"]["known"]


def test_a_reassigned_incident_belongs_to_who_acknowledged_it_and_a_deleted_person_keeps_their_id():
    reassigned = {
        "at": 11 * DAY + 30,
        "kind": "reassigned",
        "actor": "alice",
        "via": "api",
        "data": {"to": "gone"},
    }
    incs = [make_incident(1, 11 * DAY, ack=90, by="gone", timeline=[reassigned])]
    r = response(incs, PERIOD, as_of=30 * DAY, by="person", people={"alice": PersonInfo("alice", "Alice")})
    assert r["total"]["reassigned"] == 1
    assert r["groups"] == [{**r["groups"][0], "key": "gone", "name": "gone", "known": False}]
    assert r["groups"][0]["time_to_acknowledge"]["p50"] == 90.0


def test_groups_by_service_team_and_severity_compare_with_the_previous_period():
    incs = [
        make_incident(1, 1 * DAY, ack=200, service="api", team=None),  # previous period
        make_incident(2, 11 * DAY, ack=100, service="api", team=None),
        make_incident(3, 12 * DAY, ack=30, service="web", severity="warning"),
    ]
    r = response(incs, PERIOD, as_of=30 * DAY, by="service")
    api = next(g for g in r["groups"] if g["key"] == "api")
    assert api["trend"]["time_to_acknowledge_p50"] == -0.5
    assert next(g for g in r["groups"] if g["key"] == "web")["trend"]["incidents"] is None
    assert r["trend"]["incidents"] == 1.0  # 2 against 1
    assert [g["key"] for g in response(incs, PERIOD, 30 * DAY, by="team")["groups"]] == ["(none)", "ops"]
    assert [g["key"] for g in response(incs, PERIOD, 30 * DAY, by="severity")["groups"]] == [
        "critical",
        "warning",
    ]


def test_days_compare_with_the_day_before():
    incs = [make_incident(1, 11 * DAY, ack=100), make_incident(2, 12 * DAY, ack=50)]
    groups = response(incs, PERIOD, as_of=30 * DAY, by="day")["groups"]
    assert [g["key"] for g in groups] == ["1970-01-12", "1970-01-13"]
    assert groups[0]["trend"]["time_to_acknowledge_p50"] is None
    assert groups[1]["trend"]["time_to_acknowledge_p50"] == -0.5
