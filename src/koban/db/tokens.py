"""Single-use tokens across every instance: a consumed nonce is a row in ``used_tokens``.

Serves both ports that need it: signed links (``consume(nonce)``) and TwiML tokens
(``consume(token_id, expires_at=...)``). The primary key makes "first time" a database fact, so
two instances racing on the same replayed link cannot both win.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from koban.core.clock import Clock
from koban.db import schema as t
from koban.db.engine import Database

# Links carry their own expiry; when a caller doesn't say, remember the nonce this long.
DEFAULT_RETENTION = 30 * 86400.0


class DbNonceStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def consume(self, nonce: str, *, expires_at: float | None = None) -> bool:
        now = self.clock.now()
        insert = (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(t.used_tokens)
        stmt = insert.values(
            nonce=_fit(nonce), used_at=now, expires_at=expires_at or now + DEFAULT_RETENTION
        ).on_conflict_do_nothing()
        async with self.db.begin() as conn:
            result = await conn.execute(stmt)
        return result.rowcount == 1

    async def forget_expired(self) -> int:
        """Housekeeping: an expired token fails its signature check anyway, so its row can go."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                sa.delete(t.used_tokens).where(t.used_tokens.c.expires_at < self.clock.now())
            )
        return result.rowcount


def _fit(nonce: str) -> str:
    """Nonces longer than the column are stored as their digest (still unique, still fixed)."""
    return nonce if len(nonce) <= 64 else hashlib.sha256(nonce.encode()).hexdigest()
