"""``koban config apply``: make the database match a config file; report what changed.

Idempotent: applying the same file twice changes nothing the second time. Objects missing from the
file are removed (``prune``), except integration keys created through the API, which belong to
their integration and go only with it, and the overrides and temporary schedules made through the
API (catalog/schedule_extras.py), which go only with their schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.catalog.calendar_secrets import open_calendar, seal_calendar
from koban.catalog.routing_apply import ROUTING_SECTIONS, apply_routing, plan_routing
from koban.catalog.schedule_extras import drop_with_schedule
from koban.catalog.sso_apply import ROW as SSO_ROW
from koban.catalog.sso_apply import apply_sso, plan_sso
from koban.config.model import ConfigFile
from koban.core.sealing import Sealer
from koban.db import schema as t
from koban.db.schema_auth import memberships, teams
from koban.db.schema_calendars import calendars
from koban.db.schema_logs import digests, log_clusters, log_rules
from koban.db.schema_probes import monitors
from koban.db.schema_reports import report_schedules
from koban.db.schema_schedules import schedules
from koban.db.schema_status import status_pages


@dataclass(frozen=True, slots=True)
class Change:
    op: str  # + ~ -
    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.op} {self.kind}/{self.id}"


SECTIONS: tuple[tuple[str, sa.Table], ...] = (
    ("teams", teams),
    ("people", t.people),
    ("rotations", t.rotations),
    ("schedules", schedules),
    ("calendars", calendars),
    ("channels", t.channels),
    ("policies", t.policies),
    ("services", t.services),
    ("monitors", monitors),
    ("log_clusters", log_clusters),
    ("digests", digests),
    ("log_rules", log_rules),
    ("report_schedules", report_schedules),
    ("status_pages", status_pages),
)
# Sections whose definitions hold credentials: stored sealed (core/sealing.py).
SEALED = ("channels", "log_clusters")


def managed_objects(cfg: ConfigFile) -> list[tuple[str, str]]:
    """``(section, id)`` of every object ``apply`` manages: what ``config check`` counts, so that
    its count is the number of changes a first apply reports."""
    out = [(s, o.id) for s, _ in SECTIONS + ROUTING_SECTIONS for o in getattr(cfg, s)]
    return out + ([("sso", SSO_ROW)] if cfg.sso is not None else [])


def _opened(section: str, definition: dict, sealer: Sealer | None) -> dict:
    """A stored definition as the file would say it: channel, cluster and calendar secrets opened,
    for comparing."""
    if section == "calendars":
        return open_calendar(definition, sealer)
    if section not in SEALED or sealer is None:
        return definition
    opened: dict = sealer.open(definition)
    return opened


def _definition(obj: BaseModel) -> dict:
    return obj.model_dump(mode="json", exclude_defaults=False)


async def plan_changes(
    conn: AsyncConnection, cfg: ConfigFile, prune: bool = True, sealer: Sealer | None = None
) -> list[Change]:
    changes: list[Change] = []
    for section, table in SECTIONS:
        rows = await conn.execute(sa.select(table.c.id, table.c.definition))
        current = {r.id: _opened(section, r.definition, sealer) for r in rows}
        wanted = {o.id: _definition(o) for o in getattr(cfg, section)}
        for ident, definition in wanted.items():
            if ident not in current:
                changes.append(Change("+", section, ident))
            elif current[ident] != definition:
                changes.append(Change("~", section, ident))
        if prune:
            changes.extend(Change("-", section, ident) for ident in current if ident not in wanted)
    changes.extend(Change(*c) for c in await plan_routing(conn, cfg, prune))
    changes.extend(Change(*c) for c in await plan_sso(conn, cfg, prune, sealer))
    return changes


async def apply_config(
    conn: AsyncConnection, cfg: ConfigFile, now: float, prune: bool = True, sealer: Sealer | None = None
) -> list[Change]:
    """``sealer``: channel and calendar secrets are stored sealed (core/sealing.py,
    catalog/calendar_secrets.py); None stores them as they are."""
    changes = [c for c in await plan_changes(conn, cfg, prune, sealer) if c.kind in dict(SECTIONS)]
    objects = {(s, o.id): o for s, _ in SECTIONS for o in getattr(cfg, s)}
    tables = dict(SECTIONS)
    for ch in changes:
        table = tables[ch.kind]
        if ch.op == "-":
            await conn.execute(sa.delete(table).where(table.c.id == ch.id))
            if ch.kind == "schedules":
                await drop_with_schedule(conn, ch.id)
            continue
        obj = objects[(ch.kind, ch.id)]
        values = {"name": getattr(obj, "name", "") or "", "definition": _definition(obj), "updated_at": now}
        if ch.kind == "channels":
            # A changed channel gets a fresh chance: clear what made it broken.
            values.update(type=obj.type, broken_reason=None, broken_at=None)
        if ch.kind in SEALED and sealer is not None:
            values["definition"] = sealer.seal(values["definition"])
        if ch.kind == "calendars":
            values["definition"] = seal_calendar(_definition(obj), sealer)
        if ch.kind == "monitors":
            values.update(service_id=obj.service, type=obj.type)
        if ch.op == "+":
            await conn.execute(sa.insert(table).values(id=ch.id, **values))
        else:
            await conn.execute(sa.update(table).where(table.c.id == ch.id).values(**values))
    await _sync_integrations(conn, cfg, now)
    await _sync_memberships(conn, cfg)
    sso_changes = [Change(*c) for c in await apply_sso(conn, cfg, now, prune, sealer)]
    # Silences, maintenance, inhibition, heartbeats: API-made objects are not pruned (routing_apply.py).
    return changes + [Change(*c) for c in await apply_routing(conn, cfg, now, prune)] + sso_changes


async def _sync_integrations(conn: AsyncConnection, cfg: ConfigFile, now: float) -> None:
    """Integrations live inside services in the file; a table of their own serves key lookups."""
    wanted = {i.id: (s.id, i) for s in cfg.services for i in s.integrations}
    current = {r.id: r for r in await conn.execute(sa.select(t.integrations))}
    for ident in set(current) - set(wanted):
        await conn.execute(sa.delete(t.integration_keys).where(t.integration_keys.c.integration_id == ident))
        await conn.execute(sa.delete(t.integrations).where(t.integrations.c.id == ident))
    for ident, (service_id, integ) in wanted.items():
        values = {
            "service_id": service_id,
            "type": integ.type,
            "name": integ.name,
            "definition": _definition(integ),
            "updated_at": now,
        }
        if ident not in current:
            await conn.execute(sa.insert(t.integrations).values(id=ident, **values))
        elif current[ident].definition != values["definition"] or current[ident].service_id != service_id:
            await conn.execute(sa.update(t.integrations).where(t.integrations.c.id == ident).values(**values))


async def _sync_memberships(conn: AsyncConnection, cfg: ConfigFile) -> None:
    """Who belongs to which team, with which role: exactly what the file's ``teams`` say.

    Memberships single sign-on gave (``source = 'sso'``) are left to it, except where the file now
    names the same person in the same team: the file's membership replaces it."""
    wanted = {(team.id, m.person): m.role for team in cfg.teams for m in team.members}
    existing = (await conn.execute(sa.select(memberships))).all()
    current = {(r.team_id, r.person_id): r.role for r in existing if r.source == "config"}
    if wanted == current:
        return
    m = memberships.c
    await conn.execute(sa.delete(memberships).where(m.source == "config"))
    taken_over = {(r.team_id, r.person_id) for r in existing if r.source == "sso"} & wanted.keys()
    for team_id, person_id in taken_over:
        await conn.execute(sa.delete(memberships).where(m.team_id == team_id, m.person_id == person_id))
    if wanted:
        rows = [{"team_id": tm, "person_id": p, "role": role} for (tm, p), role in wanted.items()]
        await conn.execute(sa.insert(memberships), rows)
