"""An in-memory snapshot of the configuration objects, rebuilt when the database says they changed.

The hot paths (ingest, escalation) read config from here instead of querying it per alert. Every
instance checks a cheap fingerprint (row counts and newest ``updated_at``) at most every few
seconds, so an ``apply`` on one instance reaches the others without any other coordination.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.calendar_secrets import open_calendar
from koban.catalog.monitors import MonitorCatalog
from koban.catalog.routing import ROUTING_TABLES, RoutingSnapshot, load_routing
from koban.catalog.schedule_extras import EXTRA_TABLES, load_overrides, load_temporaries
from koban.config.model import Channel, ConfigFile, Integration, Person, Policy, Rotation, Service
from koban.config.model_calendars import Calendar
from koban.config.model_logs import Digest, LogCluster, LogRule
from koban.config.model_monitors import Monitor
from koban.config.model_reports import ReportSchedule
from koban.config.model_schedules import Override, Schedule, Temporary
from koban.config.model_sso import Sso
from koban.config.model_status import StatusPage
from koban.config.model_teams import Team
from koban.core.sealing import Sealer
from koban.db import schema as t
from koban.db.schema_auth import sso as sso_table
from koban.db.schema_auth import teams as teams_table
from koban.db.schema_calendars import calendars as calendars_table
from koban.db.schema_logs import digests as digests_table
from koban.db.schema_logs import log_clusters as log_clusters_table
from koban.db.schema_logs import log_rules as log_rules_table
from koban.db.schema_probes import monitors as monitors_table
from koban.db.schema_reports import report_schedules as report_schedules_table
from koban.db.schema_schedules import schedules as schedules_table
from koban.db.schema_status import status_pages as status_pages_table

CONFIG_TABLES = (
    teams_table,
    t.people,
    t.rotations,
    schedules_table,
    calendars_table,
    t.channels,
    t.policies,
    t.services,
    t.integrations,
    monitors_table,
    report_schedules_table,
    status_pages_table,
    sso_table,
    log_clusters_table,
    digests_table,
    log_rules_table,
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Catalog:
    teams: Mapping[str, Team] = field(default_factory=dict)
    people: Mapping[str, Person] = field(default_factory=dict)
    rotations: Mapping[str, Rotation] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    # Made through the API, per schedule id (catalog/schedule_extras.py): not part of the definition.
    schedule_overrides: Mapping[str, tuple[Override, ...]] = field(default_factory=dict)
    schedule_temporaries: Mapping[str, tuple[Temporary, ...]] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    channels: Mapping[str, Channel] = field(default_factory=dict)
    policies: Mapping[str, Policy] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    monitors: MonitorCatalog = field(default_factory=MonitorCatalog)  # compact (catalog/monitors.py)
    # Logs (docs/logs.md): a cluster's secrets are opened here, as channels' are.
    log_clusters: Mapping[str, LogCluster] = field(default_factory=dict)
    digests: Mapping[str, Digest] = field(default_factory=dict)
    log_rules: Mapping[str, LogRule] = field(default_factory=dict)
    report_schedules: Mapping[str, ReportSchedule] = field(default_factory=dict)
    status_pages: Mapping[str, StatusPage] = field(default_factory=dict)
    integration_service: Mapping[str, str] = field(default_factory=dict)
    keys: Mapping[str, str] = field(default_factory=dict)  # key hash -> integration id
    key_expiry: Mapping[str, float] = field(default_factory=dict)  # key hash -> epoch it stops working
    broken_channels: Mapping[str, str] = field(default_factory=dict)
    routing: RoutingSnapshot = field(default_factory=RoutingSnapshot)
    sso: Sso | None = None  # its client secret opened: never to be shown
    fingerprint: tuple = ()

    def integration_for_key(self, key: str, now: float | None = None) -> Integration | None:
        digest = hash_key(key)
        ident = self.keys.get(digest)
        expires = self.key_expiry.get(digest)
        if expires is not None and now is not None and now >= expires:
            return None
        return self.integrations.get(ident) if ident else None

    def as_config(self) -> ConfigFile:
        return ConfigFile(
            teams=list(self.teams.values()),
            people=list(self.people.values()),
            rotations=list(self.rotations.values()),
            schedules=list(self.schedules.values()),
            calendars=list(self.calendars.values()),
            channels=list(self.channels.values()),
            policies=list(self.policies.values()),
            services=list(self.services.values()),
            monitors=list(self.monitors.values()),
            log_clusters=list(self.log_clusters.values()),
            digests=list(self.digests.values()),
            log_rules=list(self.log_rules.values()),
            report_schedules=list(self.report_schedules.values()),
            status_pages=list(self.status_pages.values()),
            **self.routing.config_sections(),
            sso=self.sso,
        )


async def fingerprint(conn: AsyncConnection) -> tuple:
    """Every config table's row count and newest change, in one statement: each page and API call
    asks this (to see an edit made through another instance at once), and ~25 separate queries
    were most of a small page's server time."""
    parts: list[Any] = []
    for table in (*CONFIG_TABLES, t.integration_keys, *EXTRA_TABLES, *ROUTING_TABLES):
        col = table.c.updated_at if "updated_at" in table.c else table.c.created_at
        parts += [sa.select(sa.func.count()).select_from(table), sa.select(sa.func.max(col))]
    # A key given an expiry (rotation) changes no count or created_at: watch the expiries too.
    parts.append(sa.select(sa.func.sum(t.integration_keys.c.expires_at)))
    parts.append(sa.select(sa.func.max(t.channels.c.broken_at)))
    row = (await conn.execute(sa.select(*(p.scalar_subquery() for p in parts)))).one()
    return tuple(row)


MONITOR_PAGE = 2000


async def _monitors(conn: AsyncConnection) -> MonitorCatalog:
    """Read a page of definitions at a time, each made compact as soon as it is validated: the
    whole table's dicts and models at once were most of a process's peak memory at 100,000
    monitors, and an allocator seldom gives such a peak back."""
    c = monitors_table.c
    out = MonitorCatalog()
    after = ""
    while True:
        q = sa.select(c.id, c.definition).where(c.id > after).order_by(c.id).limit(MONITOR_PAGE)
        rows = (await conn.execute(q)).all()
        if not rows:
            return out
        out.add(Monitor.model_validate(r.definition) for r in rows)
        after = rows[-1].id


async def load_catalog(conn: AsyncConnection, sealer: Sealer | None = None) -> Catalog:
    fp = await fingerprint(conn)

    def opened(definition: dict) -> dict:
        return sealer.open(definition) if sealer is not None else definition

    async def defs(table: sa.Table) -> list[dict]:
        return [r.definition for r in (await conn.execute(sa.select(table.c.definition)))]

    services = [Service.model_validate(d) for d in await defs(t.services)]
    integrations: dict[str, Integration] = {}
    owner: dict[str, str] = {}
    keys: dict[str, str] = {}
    for svc in services:
        for integ in svc.integrations:
            integrations[integ.id] = integ
            owner[integ.id] = svc.id
            for h in integ.key_hashes:
                keys[h] = integ.id
    expiry: dict[str, float] = {}
    ik = t.integration_keys
    rows = await conn.execute(sa.select(ik.c.key_hash, ik.c.integration_id, ik.c.expires_at))
    for h, ident, expires in rows:
        keys[h] = ident
        if expires is not None:
            expiry[h] = expires
    broken = {
        r.id: r.broken_reason
        for r in await conn.execute(
            sa.select(t.channels.c.id, t.channels.c.broken_reason).where(
                t.channels.c.broken_reason.is_not(None)
            )
        )
    }
    return Catalog(
        teams={m.id: m for m in (Team.model_validate(d) for d in await defs(teams_table))},
        people={p.id: p for p in (Person.model_validate(d) for d in await defs(t.people))},
        rotations={r.id: r for r in (Rotation.model_validate(d) for d in await defs(t.rotations))},
        schedules={s.id: s for s in (Schedule.model_validate(d) for d in await defs(schedules_table))},
        schedule_overrides=await load_overrides(conn),
        schedule_temporaries=await load_temporaries(conn),
        calendars={
            c.id: c
            for c in (Calendar.model_validate(open_calendar(d, sealer)) for d in await defs(calendars_table))
        },
        channels={c.id: c for c in (Channel.model_validate(opened(d)) for d in await defs(t.channels))},
        policies={p.id: p for p in (Policy.model_validate(d) for d in await defs(t.policies))},
        services={s.id: s for s in services},
        monitors=await _monitors(conn),
        log_clusters={
            c.id: c for c in (LogCluster.model_validate(opened(d)) for d in await defs(log_clusters_table))
        },
        digests={d.id: d for d in (Digest.model_validate(x) for x in await defs(digests_table))},
        log_rules={r.id: r for r in (LogRule.model_validate(x) for x in await defs(log_rules_table))},
        report_schedules={
            r.id: r for r in (ReportSchedule.model_validate(d) for d in await defs(report_schedules_table))
        },
        status_pages={
            p.id: p for p in (StatusPage.model_validate(d) for d in await defs(status_pages_table))
        },
        integrations=integrations,
        integration_service=owner,
        keys=keys,
        key_expiry=expiry,
        broken_channels=broken,
        routing=await load_routing(conn),
        sso=next((Sso.model_validate(opened(d)) for d in await defs(sso_table)), None),
        fingerprint=fp,
    )
