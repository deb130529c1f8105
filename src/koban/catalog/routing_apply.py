"""``koban config apply`` for the routing sections: silences, maintenance, inhibit_rules, heartbeats.

Like the other sections, but objects created through the REST API (origin "api") belong to the
API: applying a file neither changes nor prunes them, unless the file names the same id (then
the file wins and the object becomes the file's). A heartbeat gets its state row when it first
appears and keeps it across edits, so editing a period does not forget the last ping.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.config.model import ConfigFile
from koban.db import schema_routing as r

ROUTING_SECTIONS: tuple[tuple[str, sa.Table], ...] = (
    ("silences", r.silences),
    ("maintenance", r.maintenance_windows),
    ("inhibit_rules", r.inhibit_rules),
    ("heartbeats", r.heartbeats),
)
_HAS_ORIGIN = {"silences", "maintenance", "heartbeats"}


def row_values(section: str, obj: BaseModel, now: float, origin: str = "config") -> dict[str, Any]:
    values: dict[str, Any] = {"definition": obj.model_dump(mode="json"), "updated_at": now}
    if section in _HAS_ORIGIN:
        values["origin"] = origin
    if section == "silences":
        values["ends_at"] = obj.ends_at.timestamp()  # type: ignore[attr-defined]
    if section == "heartbeats":
        values["service_id"] = obj.service  # type: ignore[attr-defined]
    return values


async def _current(conn: AsyncConnection, section: str, table: sa.Table) -> dict[str, tuple[Any, str]]:
    origin = table.c.origin if section in _HAS_ORIGIN else sa.literal("config")
    rows = await conn.execute(sa.select(table.c.id, table.c.definition, origin))
    return {row[0]: (row[1], row[2]) for row in rows}


async def plan_routing(
    conn: AsyncConnection, cfg: ConfigFile, prune: bool = True
) -> list[tuple[str, str, str]]:
    """``(op, section, id)`` for every change, op in + ~ -."""
    out: list[tuple[str, str, str]] = []
    for section, table in ROUTING_SECTIONS:
        current = await _current(conn, section, table)
        wanted = {o.id: o.model_dump(mode="json") for o in getattr(cfg, section)}
        for ident, definition in wanted.items():
            if ident not in current:
                out.append(("+", section, ident))
            elif current[ident] != (definition, "config"):
                out.append(("~", section, ident))
        if prune:
            out.extend(
                ("-", section, i)
                for i, (_, origin) in current.items()
                if i not in wanted and origin == "config"
            )
    return out


async def apply_routing(
    conn: AsyncConnection, cfg: ConfigFile, now: float, prune: bool = True
) -> list[tuple[str, str, str]]:
    changes = await plan_routing(conn, cfg, prune)
    tables = dict(ROUTING_SECTIONS)
    objects = {(s, o.id): o for s, _ in ROUTING_SECTIONS for o in getattr(cfg, s)}
    for op, section, ident in changes:
        table = tables[section]
        if op == "-":
            await conn.execute(sa.delete(table).where(table.c.id == ident))
            if section == "heartbeats":
                await conn.execute(sa.delete(r.heartbeat_state).where(r.heartbeat_state.c.id == ident))
            continue
        values = row_values(section, objects[(section, ident)], now)
        if op == "+":
            await conn.execute(sa.insert(table).values(id=ident, **values))
        else:
            await conn.execute(sa.update(table).where(table.c.id == ident).values(**values))
        if section == "heartbeats":
            await ensure_heartbeat_state(conn, ident, now)
    return changes


async def ensure_heartbeat_state(conn: AsyncConnection, ident: str, now: float) -> None:
    exists = (
        await conn.execute(sa.select(r.heartbeat_state.c.id).where(r.heartbeat_state.c.id == ident))
    ).first()
    if exists is None:
        await conn.execute(sa.insert(r.heartbeat_state).values(id=ident, status="new", updated_at=now))
