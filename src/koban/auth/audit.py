"""The audit trail: who changed what, when, from where and through which door (append-only).

Every write path records its change in the same transaction as the change itself, so the trail
and the state never disagree: a rolled-back change leaves no entry, a committed one always does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.db.schema_auth import audit_events


class Door(StrEnum):
    API = "api"
    UI = "ui"
    CLI = "cli"
    CONFIG = "config"  # koban config apply
    SLACK = "slack"
    KEYPAD = "keypad"
    SMS = "sms"
    LINK = "link"


# How the paging paths name their door (``via``) -> the audit trail's door.
_DOORS = {"voice": Door.KEYPAD, "phone": Door.KEYPAD, "config": Door.CONFIG}


def door_for(via: str) -> Door:
    try:
        return _DOORS.get(via) or Door(via)
    except ValueError:
        return Door.API


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from; the same for every entry it makes."""

    actor: str | None  # a person id; None when nobody is known (a failed login)
    via: Door
    ip: str = ""
    user_agent: str = ""
    token_id: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    action: str  # noun.verb: policy.update, incident.acknowledge, token.revoke, login.failed
    object_kind: str = ""
    object_id: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: float
    origin: Origin
    change: Change


@dataclass(frozen=True, slots=True)
class Filter:
    actor: str | None = None
    object_kind: str | None = None
    object_id: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 100
    before_id: int | None = None  # paging: entries older than this id
    after_id: int | None = None  # paging back: the page of entries just newer than this id


async def record(conn: AsyncConnection, origin: Origin, changes: list[Change], now: float) -> None:
    if not changes:
        return
    await conn.execute(
        sa.insert(audit_events),
        [
            {
                "at": now,
                "actor": origin.actor,
                "via": origin.via.value,
                "action": c.action,
                "object_kind": c.object_kind,
                "object_id": c.object_id,
                "before": c.before,
                "after": c.after,
                "ip": origin.ip[:64],
                "user_agent": origin.user_agent[:512],
                "token_id": origin.token_id,
            }
            for c in changes
        ],
    )


async def _cursor(conn: AsyncConnection, ident: int) -> tuple[float, int] | None:
    at = (await conn.execute(sa.select(audit_events.c.at).where(audit_events.c.id == ident))).scalar()
    return (at, ident) if at is not None else None


async def query(conn: AsyncConnection, f: Filter) -> list[Entry]:
    """Newest first: by time, then id (instances' clocks may disagree a little, so ids alone are not
    time order). Paged by keyset, never OFFSET: ``before_id`` for the entries after that one,
    ``after_id`` for the page just before it (read in the other order, then turned around). Every
    filter has an index that ends in (at, id), so a page reads one index range and stops."""
    a = audit_events.c
    newer = f.after_id is not None and f.before_id is None
    order = (a.at.asc(), a.id.asc()) if newer else (a.at.desc(), a.id.desc())
    q = sa.select(audit_events).order_by(*order).limit(max(1, min(f.limit, 1000)))
    # A person's entries are far fewer than a kind's: with both, the kind is checked row by row on
    # the person's index range (SQLite, without statistics, might otherwise walk the kind's).
    kind = a.object_kind if f.actor is None else sa.func.coalesce(a.object_kind, "")
    for column, value in ((a.actor, f.actor), (kind, f.object_kind), (a.object_id, f.object_id)):
        if value is not None:
            q = q.where(column == value)
    if f.since is not None:
        q = q.where(a.at >= f.since)
    if f.until is not None:
        q = q.where(a.at < f.until)
    for ident, older in ((f.before_id, True), (f.after_id, False)):
        if ident is None:
            continue
        cursor = await _cursor(conn, ident)
        if cursor is None:  # not an entry (a hand-made URL): by id alone
            q = q.where(a.id < ident if older else a.id > ident)
        else:
            pair = sa.tuple_(a.at, a.id)
            q = q.where(pair < sa.tuple_(*cursor) if older else pair > sa.tuple_(*cursor))
    rows = list(await conn.execute(q))
    if newer:
        rows.reverse()
    return [
        Entry(
            r.id,
            r.at,
            Origin(r.actor, Door(r.via), r.ip, r.user_agent, r.token_id),
            Change(r.action, r.object_kind, r.object_id, r.before, r.after),
        )
        for r in rows
    ]


async def last_doors(conn: AsyncConnection, kind: str, ids: list[str]) -> dict[str, Door]:
    """The door of the newest entry about each of these objects (those with none are absent):
    whether an object was last written by ``koban config apply`` or by a person through the API or
    a page. One group-by over ``ix_audit_events_object``, then the few rows it names."""
    if not ids:
        return {}
    a = audit_events.c
    newest = (
        sa.select(sa.func.max(a.id))
        .where(
            a.object_kind == kind, a.object_id.in_(ids), a.action.in_([f"{kind}.create", f"{kind}.update"])
        )
        .group_by(a.object_id)
    )
    rows = await conn.execute(sa.select(a.object_id, a.via).where(a.id.in_(newest)))
    return {r.object_id: Door(r.via) for r in rows}
