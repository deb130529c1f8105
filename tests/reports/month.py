"""A month of raw events with known answers (issue 16's proof): March 2026 for three people in
three zones (Paris, New York, Tokyo) across both DST changes, a person deleted since (dave), a
monitor with an outage that overlaps a maintenance window, and a monitor added mid-month.

The cases are written out (``HAND``), plus seeded random incidents (``random_incidents``) whose
answers the test computes from these specs alone, never through koban.reports. Everything is
written into the real tables: incidents, timeline, alerts, deliveries; probe results go through the
prober's own rollup path (``RollupBuffer``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from koban.config.model import ConfigFile
from koban.db import schema as t
from koban.monitoring.rollups import RollupBuffer
from koban.monitoring.series import SeriesIds
from koban.probes.result import ProbeResult


def at(*a: int) -> float:
    return datetime(*a, tzinfo=UTC).timestamp()


MONTH, END = at(2026, 3, 1), at(2026, 4, 1)
PREVIOUS = MONTH - (END - MONTH)  # the period of the same length before: the trend's base
AS_OF = at(2026, 4, 1, 6)  # the fixed clock: the report is made six hours after the month ends
ZONES = {"alice": "Europe/Paris", "bob": "America/New_York", "carol": "Asia/Tokyo"}
TEAMS = {"web": "ops", "api": "data"}
OUTAGE = (at(2026, 3, 15, 1, 40), at(2026, 3, 15, 3, 10))  # m-web fails every minute of it
WINDOW = (at(2026, 3, 15, 2), at(2026, 3, 15, 4))  # web's one-off maintenance
NEW_FROM = at(2026, 3, 15)  # m-new (api) is added then
HALF = (at(2026, 3, 20, 10), at(2026, 3, 20, 10, 30))  # m-new's second location fails


@dataclass
class Page:
    person: str | None
    channel_type: str
    sent_at: float | None  # None: the channel never accepted it


@dataclass
class Spec:
    id: int
    service: str
    created: float
    severity: str = "critical"
    ack: tuple[float, str | None] | None = None  # (at, actor)
    resolved: float | None = None
    pages: list[Page] = field(default_factory=list)
    events: list[tuple[float, str, str | None, dict[str, Any]]] = field(default_factory=list)
    starts_at: float | None = None  # the alert's own startsAt
    key: str = ""


def m(*a: int) -> float:
    return at(2026, 3, *a)


HAND = [
    # m-web's outage: first failed probe 01:40, incident 01:42; bob answers and acknowledges; it is
    # resolved during maintenance.
    Spec(
        101, "web", m(15, 1, 42), ack=(m(15, 1, 43, 20), "bob"), resolved=m(15, 3, 12),
        pages=[Page("bob", "voice", m(15, 1, 42, 30))],
        events=[
            (m(15, 1, 40), "probe.failed", None, {}),
            (m(15, 1, 43), "call.answered", None, {"answered_by": "human"}),
        ],
        key="monitor:m-web",
    ),
    # New York, 8 March: 01:30 EST is sleep (the night of the 7th); 08:30 EDT the same morning is not.
    Spec(102, "api", m(8, 6, 29), ack=(m(8, 6, 40), "bob"), resolved=m(8, 7),
         pages=[Page("bob", "voice", m(8, 6, 30))]),
    # A source acknowledged it before the first page: counted, but nobody was reached.
    Spec(103, "api", m(8, 12, 29), ack=(m(8, 12, 29, 30), None), resolved=m(8, 12, 45),
         pages=[Page("bob", "sms", m(8, 12, 30))]),
    # Monday 09:30 EDT; bob hands it to dave (deleted since), who acknowledges. Email does not interrupt.
    Spec(
        104, "web", m(9, 13, 29), ack=(m(9, 13, 40), "dave"), resolved=m(9, 14),
        pages=[Page("bob", "voice", m(9, 13, 30)), Page("alice", "email", m(9, 13, 30)),
               Page("dave", "voice", m(9, 13, 35, 10))],
        events=[(m(9, 13, 35), "reassigned", "bob", {"to": "dave"})],
    ),
    # 22:30 EDT Monday for bob, 11:31 JST Tuesday for carol.
    Spec(105, "web", m(10, 2, 29), ack=(m(10, 2, 35), "carol"), resolved=m(10, 3),
         pages=[Page("bob", "voice", m(10, 2, 30)), Page("carol", "voice", m(10, 2, 31))]),
    Spec(106, "api", m(10, 13, 59), ack=(m(10, 14, 10), "carol"), resolved=m(10, 14, 30),
         pages=[Page("carol", "voice", m(10, 14))]),  # 23:00 JST
    Spec(107, "api", m(14, 2, 59), severity="warning", ack=(m(14, 3, 5), "carol"), resolved=m(14, 3, 30),
         pages=[Page("carol", "sms", m(14, 3))]),  # Saturday noon in Tokyo
    Spec(108, "web", m(12, 23, 29), ack=(m(12, 23, 40), "dave"), resolved=m(12, 23, 50),
         pages=[Page("dave", "voice", m(12, 23, 30))]),  # dave is gone: UTC
    Spec(109, "web", m(27, 7, 29), ack=(m(27, 7, 33), "alice"), resolved=m(27, 7, 50),
         pages=[Page("alice", "voice", m(27, 7, 30))]),  # Friday 08:30 CET
    # Paris, 29 March: 01:30 CET and 07:30 CEST are the same night (the 28th).
    Spec(
        110, "web", m(29, 0, 29), ack=(m(29, 5, 31), "alice"), resolved=m(29, 6),
        pages=[Page("alice", "voice", m(29, 0, 30)), Page("alice", "email", m(29, 1)),
               Page("alice", "voice", m(29, 5, 30))],
    ),
    Spec(111, "web", m(30, 7, 29), ack=(m(30, 7, 32), "alice"), resolved=m(30, 8),
         pages=[Page("alice", "sms", m(30, 7, 30))]),  # Monday 09:30 CEST
    # Open at the month's end: acknowledged after it (still counted: it was made in March), never resolved.
    Spec(112, "api", m(31, 23, 50), ack=(at(2026, 4, 1, 0, 10), "carol"),
         pages=[Page("carol", "voice", m(31, 23, 51))]),
    # Open, never acknowledged, its page never accepted.
    Spec(113, "api", m(31, 23, 55), severity="warning", pages=[Page("bob", "voice", None)]),
    # Last period: not in March's figures, only in the trend.
    Spec(90, "web", at(2026, 2, 20, 3), ack=(at(2026, 2, 20, 3, 20), "bob"), resolved=at(2026, 2, 20, 4),
         pages=[Page("bob", "voice", at(2026, 2, 20, 3, 1))]),
]  # fmt: skip


def random_incidents(seed: int = 16) -> list[Spec]:
    """Incidents paged on Slack (counted as pages, never as interruptions), in both periods."""
    rng = random.Random(seed)
    out = []
    for n in range(42):
        lo, hi = (MONTH, END) if n < 30 else (PREVIOUS, MONTH)
        created = float(int(rng.uniform(lo, hi - 3600)))
        who = rng.choice(["alice", "bob", "carol"])
        ack = created + rng.randint(10, 1800)
        resolved = None if n % 6 == 5 else ack + rng.randint(60, 7200)
        out.append(
            Spec(
                1000 + n,
                rng.choice(["web", "api"]),
                created,
                severity=rng.choice(["critical", "warning"]),
                ack=(ack, who),
                resolved=resolved,
                pages=[Page(who, "slack", created + rng.randint(1, 9))],
                starts_at=created - rng.randint(0, 120) if n % 2 else None,
            )
        )
    return out


def config() -> ConfigFile:
    people = [{"id": p, "name": p.title(), "timezone": z, "notify": ["log"]} for p, z in ZONES.items()]
    return ConfigFile.model_validate(
        {
            "teams": [
                {"id": "ops", "members": [{"person": "alice"}]},
                {"id": "data", "members": [{"person": "carol"}]},
            ],
            "people": people,
            "channels": [{"id": "log", "type": "console"}],
            # Weekly hand-offs on Mondays: carol until 2 March, then alice, bob, carol, alice, bob.
            "rotations": [
                {
                    "id": "primary",
                    "members": ["alice", "bob", "carol"],
                    "shift": "7d",
                    "start": "2026-03-02T00:00:00Z",
                }
            ],
            "policies": [{"id": "p", "steps": [{"notify": [{"person": "alice"}]}]}],
            "services": [{"id": s, "team": team, "policy": "p"} for s, team in TEAMS.items()],
            "monitors": [
                {"id": "m-web", "service": "web", "target": "http://127.0.0.1:9/"},
                {"id": "m-new", "service": "api", "target": "http://127.0.0.1:9/"},
            ],
            "maintenance": [
                {
                    "id": "upgrade",
                    "services": ["web"],
                    "starts_at": datetime.fromtimestamp(WINDOW[0], UTC).isoformat(),
                    "ends_at": datetime.fromtimestamp(WINDOW[1], UTC).isoformat(),
                }
            ],
        }
    )


async def seed_incidents(db: Any, specs: list[Spec]) -> None:
    async with db.begin() as conn:
        for s in specs:
            ack_at, ack_by = s.ack or (None, None)
            await conn.execute(
                sa.insert(t.incidents).values(
                    id=s.id, service_id=s.service, incident_key=s.key or f"k{s.id}",
                    open_key=None if s.resolved else f"{s.service}:k{s.id}", status="resolved" if s.resolved
                    else "acknowledged" if s.ack else "triggered", severity=s.severity, summary=f"#{s.id}",
                    created_at=s.created, updated_at=s.created, acknowledged_at=ack_at,
                    acknowledged_by=ack_by, resolved_at=s.resolved,
                )
            )  # fmt: skip
            entries = [(s.created, "triggered", None, {}), *s.events]
            if s.ack:
                entries.append((s.ack[0], "acknowledged", s.ack[1], {}))
            if s.resolved:
                entries.append((s.resolved, "resolved", None, {}))
            for when, kind, actor, data in sorted(entries, key=lambda e: e[0]):
                await conn.execute(
                    sa.insert(t.timeline).values(
                        incident_id=s.id, at=when, kind=kind, actor=actor, via="test", data=data
                    )
                )
            event = {"occurred_at": s.starts_at} if s.starts_at is not None else {}
            await conn.execute(
                sa.insert(t.alerts).values(
                    incident_id=s.id, service_id=s.service, dedup_key=f"k{s.id}", action="trigger",
                    severity=s.severity, summary="", event=event, received_at=s.created,
                )
            )  # fmt: skip
            for n, p in enumerate(s.pages):
                await conn.execute(
                    sa.insert(t.deliveries).values(
                        key=f"{s.id}:{n}", incident_id=s.id, kind="page", channel_id=f"ch-{p.channel_type}",
                        channel_type=p.channel_type, person_id=p.person, created_at=s.created,
                        state="sent" if p.sent_at else "failed", sent_at=p.sent_at,
                    )
                )  # fmt: skip


def _result(monitor: str, location: str, start: float, ok: bool) -> ProbeResult:
    return ProbeResult(
        kind="http", target="", success=ok, duration=0.01, monitor_id=monitor, location=location,
        started_at=datetime.fromtimestamp(start, UTC) + timedelta(seconds=5),
    )  # fmt: skip


async def seed_probes(db: Any) -> None:
    """One result a minute: m-web all month from ``here``; m-new from mid-month, and from a second
    location on the 20th (whose results fail for half an hour)."""
    buffer = RollupBuffer(PREVIOUS, SeriesIds(db))
    batch = []
    for minute in range(int(MONTH), int(END), 60):
        batch.append(_result("m-web", "here", minute, not OUTAGE[0] <= minute < OUTAGE[1]))
        if minute >= NEW_FROM:
            batch.append(_result("m-new", "here", minute, True))
        if at(2026, 3, 20) <= minute < at(2026, 3, 21):
            batch.append(_result("m-new", "there", minute, not HALF[0] <= minute < HALF[1]))
    buffer.add(batch)
    await buffer.flush(db, now=AS_OF)
