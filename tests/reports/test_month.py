"""Issue 16's proof: every report over a month of raw events, against answers computed here from
the specs alone (tests/reports/month.py), through the REST API (and the CLI) on both databases."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from koban.auth import api_tokens
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user, set_membership
from koban.cli.main import app
from koban.core.clock import FakeClock
from tests.reports import month as mo
from tests.support.system import client, running_system

SPECS = mo.HAND + mo.random_incidents()
MARCH = [s for s in SPECS if mo.MONTH <= s.created < mo.END]
BEFORE = [s for s in SPECS if mo.PREVIOUS <= s.created < mo.MONTH]
RANGE = {"since": "2026-03-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}


def nearest(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


def stats(values: list[float]) -> dict:
    if not values:
        return {"count": 0, "p50": None, "p90": None, "max": None}
    return {"count": len(values), "p50": nearest(values, 50), "p90": nearest(values, 90), "max": max(values)}


def tta(specs: list[mo.Spec]) -> list[float]:
    return [s.ack[0] - s.created for s in specs if s.ack]


def ttr(specs: list[mo.Spec]) -> list[float]:
    return [s.resolved - s.created for s in specs if s.resolved]


def first_failure(s: mo.Spec) -> float:
    probe = [e[0] for e in s.events if e[1] == "probe.failed"]
    if probe:
        return probe[0]
    return min(s.starts_at, s.created) if s.starts_at is not None else s.created


def reached(s: mo.Spec) -> float | None:
    found = [e[0] for e in s.events if e[1] == "call.answered" or (e[1] == "reassigned" and e[2])]
    if s.ack and s.ack[1]:
        found.append(s.ack[0])
    return min(found, default=None)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


async def _seed(k) -> None:
    await mo.seed_incidents(k.db, SPECS)
    await mo.seed_probes(k.db)


async def _viewer(k, person: str, team: str) -> str:
    """A READ token for a member of one team only."""
    issued = api_tokens.issue(secrets.token_bytes(24))
    async with k.db.begin() as conn:
        await create_user(conn, person, mo.AS_OF, password_hash=None, global_role=None)
        await set_membership(conn, team, person, Role.VIEWER)
        await create_token(conn, issued, mo.AS_OF, person_id=person, name="t", scope=Scope.READ)
    return issued.text


async def test_every_report_recomputes_from_a_month_of_raw_events(db_url, tmp_path):
    async with running_system(db_url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await _seed(k)
        async with client(k) as http:
            await _response(http)
            await _wake(http)
            await _interruptions(http)
            await _availability(http)
            await _on_call(http)
            await _csv(http)
        token = await _viewer(k, "carol", "data")
        async with client(k, admin=False) as http:
            await _only_my_teams(http, token)


async def _response(http) -> None:
    r = (await http.get("/api/v1/reports/response", params={**RANGE, "by": "service"})).json()
    total = r["total"]
    assert total["incidents"] == len(MARCH) == 43
    assert total["time_to_acknowledge"] == stats(tta(MARCH))
    assert total["time_to_resolve"] == stats(ttr(MARCH))
    assert (total["acknowledged"], total["unacknowledged"]) == (42, 1)  # 113
    assert total["open"] == sum(1 for s in MARCH if not s.resolved)
    assert (total["acknowledged_by_source"], total["reassigned"]) == (1, 1)  # 103, 104
    assert r["previous"]["incidents"] == len(BEFORE) == 13
    assert r["previous"]["time_to_acknowledge"] == stats(tta(BEFORE))
    assert r["trend"]["incidents"] == round((43 - 13) / 13, 4)
    want = round((nearest(tta(MARCH), 50) - nearest(tta(BEFORE), 50)) / nearest(tta(BEFORE), 50), 4)
    assert r["trend"]["time_to_acknowledge_p50"] == want
    for g in r["groups"]:
        mine = [s for s in MARCH if s.service == g["key"]]
        assert g["incidents"] == len(mine) and g["time_to_acknowledge"] == stats(tta(mine))
    people = (await http.get("/api/v1/reports/response", params={**RANGE, "by": "person"})).json()["groups"]
    by_person = {g["key"]: g for g in people}
    assert set(by_person) == {"alice", "bob", "carol", "dave", "(nobody)"}
    assert by_person["dave"]["known"] is False and by_person["dave"]["incidents"] == 2
    assert by_person["(nobody)"]["incidents"] == 2  # a source's acknowledgement, and 113
    for who in ("alice", "bob", "carol"):
        mine = [s for s in MARCH if s.ack and s.ack[1] == who]
        assert by_person[who]["time_to_acknowledge"] == stats(tta(mine))
    days = (
        await http.get("/api/v1/reports/response", params={**RANGE, "by": "day", "tz": "Asia/Tokyo"})
    ).json()
    assert sum(g["incidents"] for g in days["groups"]) == 43
    tokyo = [datetime.fromtimestamp(s.created, ZoneInfo("Asia/Tokyo")).date().isoformat() for s in MARCH]
    assert {g["key"]: g["incidents"] for g in days["groups"]} == {d: tokyo.count(d) for d in tokyo}
    assert days["groups"][-1]["key"] == "2026-04-01"  # 112 and 113: 31 March 23:50 UTC


async def _wake(http) -> None:
    r = (await http.get("/api/v1/reports/wake", params=RANGE)).json()
    rows = {row["incident"]: row for row in r["incidents"]}
    assert len(rows) == 43
    lead, page, reach, ack = [], [], [], []
    for s in MARCH:
        ff = first_failure(s)
        sent = [p.sent_at for p in s.pages if p.sent_at is not None]
        lead.append(s.created - ff)
        if sent:
            page.append(min(sent) - ff)
        if (at := reached(s)) is not None:
            reach.append(at - ff)
        if s.ack:
            ack.append(s.ack[0] - ff)
        assert rows[s.id]["first_failure"] == iso(ff)
    t = r["total"]
    assert (t["lead"], t["first_page"]) == (stats(lead), stats(page))
    assert (t["first_reached"], t["acknowledged"]) == (stats(reach), stats(ack))
    assert t["began_before_alert"] == sum(1 for v in lead if v > 0)
    assert rows[101]["first_failure_how"] == "probe" and rows[101]["lead_seconds"] == 120
    assert rows[101]["first_reached_seconds"] == 180 and rows[101]["first_reached_how"] == "call.answered"
    assert rows[103]["first_reached_seconds"] is None and rows[103]["acknowledged_seconds"] == 30
    assert rows[104]["first_reached_how"] == "reassigned" and rows[104]["first_reached_who"] == "bob"
    assert rows[113]["first_page_seconds"] is None
    # a page of the rows, in creation order; the totals still count every incident
    paged = (await http.get("/api/v1/reports/wake", params={**RANGE, "limit": 5, "offset": 40})).json()
    assert paged["incidents"] == r["incidents"][40:45] and len(paged["incidents"]) == 3
    assert paged["total"] == t and paged["rows"] == {"offset": 40, "limit": 5}
    none = (await http.get("/api/v1/reports/wake", params={**RANGE, "limit": 0})).json()
    assert none["incidents"] == [] and none["total"] == t
    r = await http.get("/api/v1/reports/wake", params={**RANGE, "format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(r.text)))) == 43  # the CSV: every row


# Voice and SMS only, by hand: (business, evenings/weekends, sleep, nights woken).
INTERRUPTIONS = {
    "alice": (1, 1, 2, ["2026-03-28"]),  # 109 Fri 08:30 CET; 110 01:30 CET + 07:30 CEST; 111 Mon 09:30 CEST
    "bob": (1, 2, 2, ["2026-03-07", "2026-03-09"]),  # 101 Sat 21:42 EDT; 102 01:30 EST; 103 Sun 08:30 EDT;
    # 104 Mon 09:30 EDT; 105 Mon 22:30 EDT
    "carol": (1, 2, 1, ["2026-03-10"]),  # 105 11:31 JST; 106 23:00 JST; 107 Sat 12:00; 112 Wed 08:51 JST
    "dave": (1, 0, 1, ["2026-03-12"]),  # deleted: UTC. 104 Mon 13:35; 108 23:30
}


async def _interruptions(http) -> None:
    r = (await http.get("/api/v1/reports/interruptions", params=RANGE)).json()
    sent = [
        (s, p) for s in SPECS for p in s.pages if p.sent_at is not None and mo.MONTH <= p.sent_at < mo.END
    ]
    assert r["total"]["pages"] == len(sent)
    assert r["total"]["interruptions"] == 15
    people = {p["person"]: p for p in r["people"]}
    assert set(people) == set(INTERRUPTIONS)
    for who, (business, evening, sleep, nights) in INTERRUPTIONS.items():
        row = people[who]
        mine = [p for _, p in sent if p.person == who]
        assert row["pages"] == len(mine)
        assert row["by_channel"] == {
            c: sum(1 for p in mine if p.channel_type == c) for c in {p.channel_type for p in mine}
        }
        assert (row["business"], row["evening_weekend"], row["sleep"]) == (business, evening, sleep), who
        assert row["interruptions"] == business + evening + sleep
        assert row["nights"] == nights and row["nights_woken"] == len(nights)
    assert people["dave"]["known"] is False and people["bob"]["timezone"] == "America/New_York"


async def _on_call(http) -> None:
    r = (await http.get("/api/v1/reports/on-call", params=RANGE)).json()
    (rota,) = r["rotations"]
    members = {m["person"]: m for m in rota["members"]}
    assert rota["hours"] == 31 * 24
    assert {p: m["hours"] for p, m in members.items()} == {"alice": 14 * 24, "bob": 9 * 24, "carol": 8 * 24}
    assert members["alice"]["share"] == round(14 / 31, 4) and members["alice"]["even_share"] == round(
        1 / 3, 4
    )
    assert members["alice"]["fairness"] == round(14 / 31 - 1 / 3, 4)
    assert members["bob"]["nights_woken"] == 2 and members["carol"]["interruptions"] == 4


async def _availability(http) -> None:
    r = (await http.get("/api/v1/reports/availability", params=RANGE)).json()
    mons = {x["monitor"]: x for x in r["monitors"]}
    web = mons["m-web"]
    month_minutes = int((mo.END - mo.MONTH) // 60)
    assert web["maintenance_minutes"] == 120 and web["measured_minutes"] == month_minutes - 120
    assert web["down_seconds"] == 20 * 60  # 01:40-02:00; 02:00-03:10 is maintenance
    measured = (month_minutes - 120) * 60
    assert web["uptime"] == round(1 - 1200 / measured, 6)
    assert web["error_budget"]["budget_seconds"] == round(0.001 * measured, 3)
    assert web["error_budget"]["remaining_seconds"] == round(0.001 * measured - 1200, 3)
    (down,) = web["downtime_incidents"]
    assert (down["incident"], down["started"], down["ended"]) == (
        101,
        iso(mo.OUTAGE[0]),
        iso(mo.m(15, 3, 12)),
    )
    assert down["duration_seconds"] == 92 * 60 and down["in_maintenance_seconds"] == 72 * 60
    new = mons["m-new"]
    new_minutes = int((mo.END - mo.NEW_FROM) // 60)
    assert new["first_measured"] == iso(mo.NEW_FROM) and new["measured_minutes"] == new_minutes
    assert new["down_seconds"] == 30 * 30  # half of its results failed for 30 minutes
    assert new["coverage"] == round(new_minutes / month_minutes, 6)
    services = {s["service"]: s for s in r["services"]}
    assert services["web"]["down_seconds"] == 1200 and services["api"]["down_seconds"] == 900
    (shown,) = services["web"]["maintenance"]
    assert shown["window"] == "upgrade" and shown["seconds"] == 7200
    assert shown["intervals"] == [{"start": iso(mo.WINDOW[0]), "end": iso(mo.WINDOW[1])}]
    strict = (await http.get("/api/v1/reports/availability", params={**RANGE, "target": "0.9999"})).json()
    assert strict["services"][1]["error_budget"]["remaining_seconds"] < 0  # web spent more than it had


async def _csv(http) -> None:
    r = await http.get(
        "/api/v1/reports/response", params={**RANGE, "by": "service"}, headers={"Accept": "text/csv"}
    )
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert table[0]["key"] == "(total)" and int(table[0]["incidents"]) == 43
    assert float(table[0]["time_to_acknowledge.p50"]) == nearest(tta(MARCH), 50)
    r = await http.get("/api/v1/reports/availability", params={**RANGE, "format": "csv"})
    assert {row["id"] for row in csv.DictReader(io.StringIO(r.text))} == {"web", "api", "m-web", "m-new"}
    assert (await http.get("/api/v1/reports/response", params={**RANGE, "by": "colour"})).status_code == 422
    assert (await http.get("/api/v1/reports/wake", params={**RANGE, "tz": "Mars/Olympus"})).status_code == 422
    assert (await http.get("/api/v1/reports/wake", params={**RANGE, "limit": -1})).status_code == 422
    assert (await http.get("/api/v1/reports/wake", params={**RANGE, "offset": "x"})).status_code == 422


async def _only_my_teams(http, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    r = (await http.get("/api/v1/reports/availability", params=RANGE, headers=auth)).json()
    assert [s["service"] for s in r["services"]] == ["api"] and [m["monitor"] for m in r["monitors"]] == [
        "m-new"
    ]
    r = (await http.get("/api/v1/reports/response", params=RANGE, headers=auth)).json()
    assert r["total"]["incidents"] == sum(1 for s in MARCH if s.service == "api")
    assert (await http.get("/api/v1/reports/wake", params=RANGE)).status_code == 401


async def _seed_incidents(url: str, tmp_path) -> None:
    async with running_system(url, mo.config(), tmp_path, clock=FakeClock(mo.AS_OF)) as k:
        await mo.seed_incidents(k.db, SPECS)


def test_koban_report_prints_the_same_figures(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seed_incidents(db_url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", db_url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test-secret")
    out = CliRunner().invoke(
        app, ["report", "interruptions", "--since", RANGE["since"], "--until", RANGE["until"], "--csv"]
    )
    assert out.exit_code == 0, out.output
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(out.output))}
    assert rows["(total)"]["interruptions"] == "15" and rows["bob"]["sleep"] == "2"
    assert rows["alice"]["nights"] == "2026-03-28"
    out = CliRunner().invoke(
        app, ["report", "response", "--since", RANGE["since"], "--until", RANGE["until"]]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["total"]["time_to_acknowledge"] == stats(tta(MARCH))
    assert CliRunner().invoke(app, ["report", "nonsense"]).exit_code == 2
