"""Database-backed stores for the Twilio integration: call states and contact problems.

``DbCallStateStore`` is the voice channel's ``CallStateStore``: a row per call, saved by
compare-and-set on its canonical JSON text, so two instances applying callbacks of the same call
concurrently cannot both settle it (the loser reloads and reduces again).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.channels.voice.state import CallState
from koban.db import schema_twilio as tw
from koban.db.engine import Database


def _text(state: CallState) -> str:
    return json.dumps(state.to_dict(), sort_keys=True, separators=(",", ":"))


class DbCallStateStore:
    def __init__(self, db: Database, clock: Any) -> None:
        self.db, self.clock = db, clock

    async def load(self, key: str) -> CallState | None:
        async with self.db.read() as conn:
            raw = (
                await conn.execute(sa.select(tw.call_states.c.state).where(tw.call_states.c.key == key))
            ).scalar()
        return CallState.from_dict(json.loads(raw)) if raw else None

    async def save(self, key: str, state: CallState, *, expected: CallState | None) -> bool:
        c = tw.call_states.c
        now = self.clock.now()
        stmt: sa.Executable
        async with self.db.begin() as conn:
            if expected is None:
                ins = (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(
                    tw.call_states
                )
                stmt = ins.values(key=key, state=_text(state), updated_at=now).on_conflict_do_nothing()
            else:
                stmt = (
                    sa.update(tw.call_states)
                    .where(c.key == key, c.state == _text(expected))
                    .values(state=_text(state), updated_at=now)
                )
            result = await conn.execute(stmt)
        return result.rowcount == 1

    async def load_many(self, keys: list[str]) -> dict[str, CallState]:
        if not keys:
            return {}
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(tw.call_states.c.key, tw.call_states.c.state).where(tw.call_states.c.key.in_(keys))
            )
            return {k: CallState.from_dict(json.loads(s)) for k, s in rows}


async def known_bad(db: Database, person: str, contact: str, address: str) -> dict[str, Any] | None:
    """The recorded problem with this exact address, or None (a changed number is tried again)."""
    c = tw.contact_problems.c
    async with db.read() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(tw.contact_problems).where(
                        c.person_id == person, c.contact == contact, c.address == address
                    )
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


async def record_problem(
    db: Database, person: str, contact: str, address: str, code: int | None, error: str, now: float
) -> None:
    c = tw.contact_problems.c
    values = {"address": address, "code": code, "error": error, "at": now}
    async with db.begin() as conn:
        await conn.execute(sa.delete(tw.contact_problems).where(c.person_id == person, c.contact == contact))
        await conn.execute(sa.insert(tw.contact_problems).values(person_id=person, contact=contact, **values))
