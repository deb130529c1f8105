"""A login changed by an administrator (``auth/login_admin.py``, for the REST API and the pages):
created or updated with its audit entry in the caller's door, a disabled person's sessions ended,
and nobody lowering or disabling their own login."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from koban.auth.audit import Door, Origin
from koban.auth.login_admin import LoginRefused, LoginUpdate, self_lockout, set_login
from koban.auth.permissions import Role
from koban.db.schema_auth import audit_events, sessions
from tests.support.factories import make_config
from tests.support.system import running_system

ALICE = Origin("alice", Door.UI)


@pytest.mark.parametrize(
    ("actor", "change", "refused"),
    [
        ("alice", LoginUpdate(Role.ADMIN), False),
        ("alice", LoginUpdate(Role.MANAGER), True),
        ("alice", LoginUpdate(None), True),
        ("alice", LoginUpdate(Role.ADMIN, disabled=True), True),
        ("carol", LoginUpdate(None, disabled=True), False),  # another administrator may
    ],
)
def test_an_administrator_cannot_lower_or_disable_their_own_login(actor, change, refused):
    assert self_lockout(actor, "alice", change) is refused


async def test_a_login_is_made_then_disabled_ending_its_sessions_on_the_trail(db_url, tmp_path):
    async with running_system(db_url, make_config(), tmp_path) as k:
        async with k.db.begin() as conn:
            made = await set_login(conn, ALICE, 10.0, "bob", LoginUpdate(Role.RESPONDER))
            assert made.global_role == "responder" and not made.disabled
            await conn.execute(
                sa.insert(sessions).values(
                    digest="h", person_id="bob", csrf="c", created_at=10.0, last_seen_at=10.0, expires_at=99.0
                )
            )
            off = await set_login(conn, ALICE, 11.0, "bob", LoginUpdate(None, disabled=True))
            assert off.disabled and off.global_role is None
            left = (await conn.execute(sa.select(sessions).where(sessions.c.person_id == "bob"))).all()
            with pytest.raises(LoginRefused) as nobody:
                await set_login(conn, ALICE, 12.0, "zed", LoginUpdate(None))
        assert left == [] and nobody.value.status == 404
        async with k.db.read() as conn:
            trail = (await conn.execute(sa.select(audit_events).order_by(audit_events.c.id))).all()
        assert [(e.action, e.via, e.before, e.after) for e in trail if e.object_id == "bob"] == [
            ("user.create", "ui", None, {"global_role": "responder", "disabled": False}),
            (
                "user.update",
                "ui",
                {"global_role": "responder", "disabled": False},
                {"global_role": None, "disabled": True},
            ),
        ]
