"""The audit trail: each change with who, when, where from and which door; filtered newest first."""

from __future__ import annotations

import pytest

from koban.auth.audit import Change, Door, Filter, Origin, query, record
from koban.db.engine import Database
from koban.db.migrate import upgrade

NOW = 1_800_000_000.0
BOB_API = Origin("bob", Door.API, ip="127.0.0.1", user_agent="curl/8", token_id=3)


async def test_changes_are_kept_with_their_origin_and_filtered_newest_first(db_url):
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            await record(
                conn,
                BOB_API,
                [Change("policy.update", "policy", "default", {"repeat": 0}, {"repeat": 2})],
                NOW,
            )
            await record(
                conn,
                Origin(None, Door.UI, ip="10.0.0.9"),
                [Change("login.failed", "person", "carol")],
                NOW + 1,
            )
            await record(
                conn,
                Origin("alice", Door.KEYPAD),
                [Change("incident.acknowledge", "incident", "42")],
                NOW + 2,
            )
        async with db.read() as conn:
            everything = await query(conn, Filter())
            assert [e.change.action for e in everything] == [
                "incident.acknowledge",
                "login.failed",
                "policy.update",
            ]
            [by_bob] = await query(conn, Filter(actor="bob"))
            assert by_bob.origin == BOB_API and by_bob.at == NOW
            assert (by_bob.change.before, by_bob.change.after) == ({"repeat": 0}, {"repeat": 2})
            assert [e.change.action for e in await query(conn, Filter(since=NOW + 1, until=NOW + 2))] == [
                "login.failed"
            ]
            [incident] = await query(conn, Filter(object_kind="incident", object_id="42"))
            assert incident.origin.via is Door.KEYPAD
            older = await query(conn, Filter(before_id=everything[0].id, limit=1))
            assert [e.change.action for e in older] == ["login.failed"]
    finally:
        await db.dispose()


async def test_a_rolled_back_change_leaves_no_entry(db_url):
    upgrade(db_url)
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError):
            async with db.begin() as conn:
                await record(conn, BOB_API, [Change("service.delete", "service", "web")], NOW)
                raise RuntimeError("the change itself failed")
        async with db.read() as conn:
            assert await query(conn, Filter()) == []
    finally:
        await db.dispose()
