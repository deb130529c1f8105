"""Single-use tokens are single-use across connections (and so across instances)."""

from __future__ import annotations

import asyncio

from koban.core.clock import FakeClock
from koban.db.engine import Database
from koban.db.migrate import upgrade
from koban.db.tokens import DbNonceStore


async def test_a_nonce_is_consumed_once_even_when_racing(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    clock = FakeClock(1_000.0)
    try:
        a, b = DbNonceStore(db, clock), DbNonceStore(db, clock)
        results = await asyncio.gather(*(s.consume("n1") for s in (a, b, a, b)))
        assert sorted(results) == [False, False, False, True]
        assert await a.consume("x" * 100, expires_at=1_010.0) is True
        assert await b.consume("x" * 100, expires_at=1_010.0) is False
        clock.advance(20)
        assert await a.forget_expired() == 1
        assert await a.consume("n1") is False  # kept for the default retention
    finally:
        await db.dispose()
