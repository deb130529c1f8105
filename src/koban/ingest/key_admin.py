"""Making and revoking an integration's API keys, with their audit entries: one path for the REST
API (``api/objects.py``, ``ingest/keys.py``) and the settings page (``web/settings_integrations.py``).

A key is shown once, when made; koban keeps its SHA-256 and its first characters. Keys written in
the YAML file (``key_hashes``) are not these: they change by editing the file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from koban.auth.audit import Change, Origin, record
from koban.catalog.snapshot import hash_key
from koban.db import schema as t

SHOWN = 8  # the characters kept in clear, to tell keys apart


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    prefix: str
    created_at: float
    expires_at: float | None

    def active(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


async def create_key(conn: AsyncConnection, origin: Origin, now: float, integration: str) -> str:
    """A new key of ``integration`` (the caller checked that it exists): its text, shown once."""
    key = secrets.token_urlsafe(24)
    await conn.execute(
        sa.insert(t.integration_keys).values(
            integration_id=integration, key_hash=hash_key(key), prefix=key[:SHOWN], created_at=now
        )
    )
    change = Change("integration_keys.create", "integrations", integration, None, {"prefix": key[:SHOWN]})
    await record(conn, origin, [change], now)
    return key


async def revoke_key(
    conn: AsyncConnection, origin: Origin, now: float, integration: str, key_id: int, after: float = 0
) -> float | None:
    """Revoke now, or let the key work ``after`` more seconds (rotation); the time it stops, or None
    when the integration has no such key."""
    ik = t.integration_keys
    where = sa.and_(ik.c.id == key_id, ik.c.integration_id == integration)
    expires = now + after
    if after:
        done = await conn.execute(sa.update(ik).where(where).values(expires_at=expires))
    else:
        done = await conn.execute(sa.delete(ik).where(where))
    if not done.rowcount:
        return None
    change = Change(
        "integration_keys.revoke", "integrations", integration, {"key_id": key_id}, {"expires_at": expires}
    )
    await record(conn, origin, [change], now)
    return expires


async def api_keys(conn: AsyncConnection, integration: str) -> list[ApiKey]:
    ik = t.integration_keys
    q = sa.select(ik).where(ik.c.integration_id == integration).order_by(ik.c.id)
    return [ApiKey(r.id, r.prefix, r.created_at, r.expires_at) for r in await conn.execute(q)]
