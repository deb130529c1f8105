"""``koban config apply`` (catalog/apply.py): the database follows the file, and says what changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from koban.catalog.apply import apply_config, plan_changes
from koban.db import schema as t
from koban.db.engine import Database
from koban.db.migrate import upgrade
from tests.support.factories import make_config

NOW = 1_800_000_000.0


@pytest.fixture
async def db(db_url) -> AsyncIterator[Database]:
    upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.dispose()


async def _apply(db: Database, cfg, prune: bool = True) -> list[str]:
    async with db.begin() as conn:
        return sorted(str(c) for c in await apply_config(conn, cfg, NOW, prune))


async def _ids(db: Database, table: sa.Table) -> set[str]:
    async with db.read() as conn:
        return {r.id for r in await conn.execute(sa.select(table.c.id))}


async def _key_count(db: Database) -> int:
    async with db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(t.integration_keys))).scalar_one()


async def test_first_apply_adds_everything_and_a_second_changes_nothing(db):
    cfg = make_config()
    first = await _apply(db, cfg)
    assert {
        "+ people/alice",
        "+ people/bob",
        "+ people/carol",
        "+ rotations/primary",
        "+ channels/log",
        "+ policies/default",
        "+ services/web",
    } <= set(first)
    assert await _apply(db, cfg) == []
    async with db.read() as conn:
        assert await plan_changes(conn, cfg) == []
    assert await _ids(db, t.integrations) == {"web-generic"}


async def test_an_edited_object_is_updated_and_a_missing_one_pruned_unless_told_not_to(db):
    await _apply(db, make_config())
    edited = make_config(escalate_after="2m")  # the policy's steps change
    without_web = edited.model_copy(update={"services": []})
    assert await _apply(db, without_web, prune=False) == ["~ policies/default"]
    assert await _ids(db, t.services) == {"web"}
    assert await _apply(db, without_web) == ["- services/web"]
    assert await _ids(db, t.services) == set()
    assert await _ids(db, t.integrations) == set()  # integrations go with their service


async def test_a_changed_channel_gets_a_fresh_chance(db):
    await _apply(db, make_config())
    async with db.begin() as conn:
        await conn.execute(sa.update(t.channels).values(broken_reason="401 from vendor", broken_at=NOW))
    fixed = make_config(channels=[{"id": "log", "type": "console", "name": "console, fixed"}])
    assert await _apply(db, fixed) == ["~ channels/log"]
    async with db.read() as conn:
        row = (await conn.execute(sa.select(t.channels))).one()
    assert (row.broken_reason, row.broken_at) == (None, None)


async def test_keys_made_through_the_api_survive_apply_and_go_with_their_integration(db):
    cfg = make_config()
    await _apply(db, cfg)
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(t.integration_keys).values(
                integration_id="web-generic", key_hash="f" * 64, prefix="kbn_ffff", created_at=NOW
            )
        )
    await _apply(db, cfg)
    assert await _key_count(db) == 1
    await _apply(db, cfg.model_copy(update={"services": []}))
    assert await _key_count(db) == 0


async def test_team_members_become_memberships_and_follow_the_file(db):
    from koban.auth.permissions import Principal, Role
    from koban.auth.store import create_user, principal_for

    base = make_config()
    teams = [{"id": "web", "members": [{"person": "alice", "role": "manager"}, {"person": "bob"}]}]
    cfg = base.model_validate({**base.model_dump(mode="json"), "teams": teams})
    assert "+ teams/web" in await _apply(db, cfg)
    async with db.begin() as conn:
        await create_user(conn, "bob", NOW, password_hash=None, global_role=None)
        assert await principal_for(conn, "bob") == Principal("bob", team_roles={"web": Role.RESPONDER})
    await _apply(db, base)  # the team is gone from the file
    async with db.read() as conn:
        assert await principal_for(conn, "bob") == Principal("bob")


async def test_channel_secrets_are_sealed_at_rest_and_a_second_apply_changes_nothing(db):
    from koban.catalog.snapshot import load_catalog
    from koban.core.sealing import PREFIX, Sealer

    sealer = Sealer([b"test-key"])
    slack = {"id": "slack", "type": "slack", "bot_token": "xoxb-secret", "channel": "#ops"}
    cfg = make_config(channels=[{"id": "log", "type": "console"}, slack])
    async with db.begin() as conn:
        await apply_config(conn, cfg, NOW, sealer=sealer)
        assert await apply_config(conn, cfg, NOW, sealer=sealer) == []
    async with db.read() as conn:
        stored = (
            await conn.execute(sa.select(t.channels.c.definition).where(t.channels.c.id == "slack"))
        ).scalar_one()
        assert stored["bot_token"].startswith(PREFIX) and stored["channel"] == "#ops"
        catalog = await load_catalog(conn, sealer)
    assert catalog.channels["slack"].settings()["bot_token"] == "xoxb-secret"


def _with_sso(base, mapping: list[dict], teams: list[dict] | None = None):
    sso = {"issuer": "https://idp.test", "client_id": "koban", "client_secret": "literal-secret"}
    return base.model_validate(
        {
            **base.model_dump(mode="json"),
            "teams": teams if teams is not None else [{"id": "web"}, {"id": "db"}],
            "sso": {**sso, "group_mapping": mapping},
        }
    )


async def test_the_sso_section_is_kept_sealed_and_read_back_whole(db):
    from koban.catalog.snapshot import load_catalog
    from koban.core.sealing import PREFIX, Sealer
    from koban.db.schema_auth import sso

    sealer = Sealer([b"test-key"])
    cfg = _with_sso(make_config(), [{"group": "web-oncall", "team": "web", "role": "responder"}])
    async with db.begin() as conn:
        assert "+ sso/oidc" in {str(c) for c in await apply_config(conn, cfg, NOW, sealer=sealer)}
        assert await apply_config(conn, cfg, NOW, sealer=sealer) == []
    async with db.read() as conn:
        stored = (await conn.execute(sa.select(sso.c.definition))).scalar_one()
        assert stored["client_secret"].startswith(PREFIX)
        catalog = await load_catalog(conn, sealer)
    assert catalog.sso == cfg.sso and catalog.as_config().sso == cfg.sso
    async with db.begin() as conn:
        gone = await apply_config(conn, make_config(), NOW, sealer=sealer)
    assert "- sso/oidc" in {str(c) for c in gone}


async def _sso_member(db, team: str, person: str, role: str) -> None:
    from koban.db.schema_auth import memberships

    async with db.begin() as conn:
        values = {"team_id": team, "person_id": person, "role": role, "source": "sso"}
        await conn.execute(sa.insert(memberships).values(**values))


async def _roles(db, person: str):
    from koban.auth.store import principal_for

    async with db.read() as conn:
        found = await principal_for(conn, person)
    assert found is not None
    return found.team_roles, found.global_role


async def test_apply_keeps_what_sign_ons_gave_but_the_file_wins_in_its_own_teams(db):
    from koban.auth.permissions import Role
    from koban.auth.store import create_user

    mapping = [
        {"group": "web-oncall", "team": "web", "role": "responder"},
        {"group": "db-oncall", "team": "db", "role": "responder"},
    ]
    cfg = _with_sso(make_config(), mapping)
    await _apply(db, cfg)
    async with db.begin() as conn:
        await create_user(conn, "bob", NOW, password_hash=None, global_role=None)
    await _sso_member(db, "web", "bob", "responder")
    await _sso_member(db, "db", "bob", "responder")
    teams = [{"id": "web", "members": [{"person": "alice"}]}, {"id": "db"}]
    await _apply(db, _with_sso(make_config(), mapping, teams))  # the file's memberships change
    assert await _roles(db, "bob") == ({"web": Role.RESPONDER, "db": Role.RESPONDER}, None)
    teams = [{"id": "web", "members": [{"person": "bob", "role": "viewer"}]}, {"id": "db"}]
    await _apply(db, _with_sso(make_config(), mapping, teams))
    assert await _roles(db, "bob") == ({"web": Role.VIEWER, "db": Role.RESPONDER}, None)


async def test_a_mapping_removed_or_lowered_bounds_what_sign_ons_gave_at_once(db):
    from koban.auth.permissions import Role
    from koban.auth.store import create_user
    from koban.db.schema_auth import users

    mapping = [
        {"group": "web-leads", "team": "web", "role": "manager"},
        {"group": "db-oncall", "team": "db", "role": "responder"},
        {"group": "admins", "global_role": "admin"},
    ]
    await _apply(db, _with_sso(make_config(), mapping))
    async with db.begin() as conn:
        await create_user(conn, "bob", NOW, password_hash=None, global_role=Role.VIEWER)
        await conn.execute(sa.update(users).values(sso_role="admin"))
    await _sso_member(db, "web", "bob", "manager")
    await _sso_member(db, "db", "bob", "responder")
    lowered = [
        {"group": "web-leads", "team": "web", "role": "viewer"},
        {"group": "m", "global_role": "manager"},
    ]
    await _apply(db, _with_sso(make_config(), lowered))
    assert await _roles(db, "bob") == ({"web": Role.VIEWER}, Role.MANAGER)
    await _apply(db, make_config())  # no sso at all: the role koban user create gave stays
    assert await _roles(db, "bob") == ({}, Role.VIEWER)


async def test_schedule_overrides_made_through_the_api_survive_apply_and_go_with_their_schedule(db):
    from koban.catalog.snapshot import load_catalog
    from koban.db.schema_schedules import schedule_overrides

    data = make_config().model_dump(mode="json")
    layer = {"members": ["alice", "bob"], "start": "2027-01-04", "handoff": "09:00"}
    data["schedules"] = [{"id": "primary", "timezone": "Europe/Paris", "layers": [layer]}]
    cfg = type(make_config()).model_validate(data)
    await _apply(db, cfg)
    made = {"id": "o-1", "start": "2027-01-15T12:00:00Z", "end": "2027-01-15T13:00:00Z", "person": "carol"}
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(schedule_overrides).values(
                schedule_id="primary", id="o-1", definition=made, created_at=NOW
            )
        )
    assert await _apply(db, cfg) == []
    async with db.read() as conn:
        catalog = await load_catalog(conn)
    assert [o.id for o in catalog.schedule_overrides["primary"]] == ["o-1"]
    assert catalog.schedules["primary"].overrides == []  # not in the file's definition
    await _apply(db, cfg.model_copy(update={"schedules": []}))
    assert await _ids(db, schedule_overrides) == set()


async def test_calendar_secret_addresses_and_caldav_passwords_are_sealed_at_rest(db):
    from koban.catalog.snapshot import load_catalog
    from koban.core.sealing import PREFIX, Sealer
    from koban.db.schema_calendars import calendars

    sealer = Sealer([b"test-key"])
    secret = "https://calendar.google.com/calendar/ical/ops%40example.jp/private-abc123/basic.ics"
    dav = {"url": "https://dav.example.jp/cal/", "username": "ops", "password": "hunter2"}
    cfg = make_config().model_validate(
        {
            **make_config().model_dump(mode="json"),
            "calendars": [{"id": "ical", "url": secret}, {"id": "dav", "caldav": dav}],
        }
    )
    async with db.begin() as conn:
        await apply_config(conn, cfg, NOW, sealer=sealer)
        assert await apply_config(conn, cfg, NOW, sealer=sealer) == []
    async with db.read() as conn:
        stored = dict((await conn.execute(sa.select(calendars.c.id, calendars.c.definition))).all())
        catalog = await load_catalog(conn, sealer)
    assert stored["ical"]["url"].startswith(PREFIX) and "private-abc123" not in str(stored["ical"])
    assert stored["dav"]["caldav"]["password"].startswith(PREFIX)
    assert stored["dav"]["caldav"]["username"] == "ops"  # only the secrets are sealed
    assert catalog.calendars["ical"].url == secret
    assert (
        catalog.calendars["dav"].caldav is not None and catalog.calendars["dav"].caldav.password == "hunter2"
    )
