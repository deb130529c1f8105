"""``koban user create`` makes the first administrator; ``koban token create|list|revoke``."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from koban.auth.api_tokens import well_formed
from koban.auth.audit import Filter, query
from koban.auth.permissions import Principal, Role, Scope
from koban.auth.store import authenticate
from koban.cli.main import app
from koban.db.engine import Database
from tests.support.factories import make_config
from tests.support.system import running_system


async def _seed(url: str, tmp_path) -> None:
    async with running_system(url, make_config(), tmp_path):
        pass


async def _who(url: str, token: str) -> object:
    db = Database(url)
    try:
        async with db.begin() as conn:
            return await authenticate(conn, token, 1e12 - 1)
    finally:
        await db.dispose()


async def _actions(url: str) -> list[str]:
    db = Database(url)
    try:
        async with db.read() as conn:
            return [e.change.action for e in await query(conn, Filter())]
    finally:
        await db.dispose()


def test_the_first_admin_and_a_token_from_the_command_line(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seed(url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test")
    run = CliRunner().invoke

    made = run(
        app, ["user", "create", "alice", "--admin", "--password-stdin"], input="correct horse battery\n"
    )
    assert made.exit_code == 0 and "administrator" in made.output
    again = run(app, ["user", "create", "alice", "--password-stdin"], input="correct horse battery\n")
    assert again.exit_code == 2 and "already has a login" in again.output
    stranger = run(app, ["user", "create", "mallory", "--no-password"])
    assert stranger.exit_code == 2 and "no person 'mallory' in the config" in stranger.output
    weak = run(app, ["user", "create", "bob", "--password-stdin"], input="short\n")
    assert weak.exit_code == 2 and "at least 12" in weak.output

    created = run(app, ["token", "create", "--person", "alice", "--name", "ci", "--scope", "manage"])
    token = created.stdout.strip()
    assert created.exit_code == 0 and well_formed(token)
    who = asyncio.run(_who(url, token))
    assert who == Principal("alice", Role.ADMIN, {}, token_id=1, token_scope=Scope.MANAGE, token_team=None)
    listed = run(app, ["token", "list"])
    assert token[:12] in listed.output and token not in listed.output and "active" in listed.output
    assert run(app, ["token", "revoke", "1"]).exit_code == 0
    assert run(app, ["token", "revoke", "1"]).exit_code == 2
    assert "revoked" in run(app, ["token", "list"]).output
    assert asyncio.run(_actions(url)) == ["token.revoke", "token.create", "user.create"]
    trail = run(app, ["audit"]).output.splitlines()
    assert [line.split()[4] for line in trail] == ["token.revoke", "token.create", "user.create"]
    assert "person/alice" in trail[-1] and " cli " in trail[-1]
    assert run(app, ["audit", "--kind", "token", "--limit", "1"]).output.count("\n") == 1


def test_a_local_config_apply_is_on_the_audit_trail_through_the_config_door(tmp_path, monkeypatch):
    import yaml

    url = f"sqlite:///{tmp_path / 'koban.db'}"
    asyncio.run(_seed(url, tmp_path))
    monkeypatch.setenv("KOBAN_DATABASE_URL", url)
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test")
    data = make_config(escalate_after="7m").model_dump(mode="json", exclude_none=True)
    path = tmp_path / "koban.yaml"
    path.write_text(yaml.safe_dump(data))
    applied = CliRunner().invoke(app, ["config", "apply", str(path)])
    assert applied.exit_code == 0 and "~ policies/default" in applied.output, applied.output
    trail = CliRunner().invoke(app, ["audit"]).output.splitlines()
    assert any("policies.update" in line and " config " in line for line in trail), trail
