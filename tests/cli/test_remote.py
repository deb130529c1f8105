"""The CLI against a running koban with a token, the way ``gh`` and ``kubectl`` work (issue 12):
``koban login`` checks and saves it; ``config apply``, ``incident``, ``token`` and ``audit`` go
through the REST API; the environment overrides the saved login."""

from __future__ import annotations

import stat

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from koban.auth.permissions import Role, Scope
from koban.cli.main import app
from koban.cli.remote import Remote, RemoteError, resolve, save
from tests.support.factories import KEY, make_config
from tests.support.live import Live, serving


@pytest.fixture
def live(db_url, tmp_path):
    with serving(db_url, make_config(), tmp_path) as server:
        yield server


def koban(*args: str, **env: str):
    return CliRunner().invoke(app, list(args), env=env or None)


def _with_dave(tmp_path) -> str:
    data = make_config().model_dump(mode="json", exclude_defaults=True)
    data["people"].append({"id": "dave", "name": "Dave", "notify": ["log"], "contacts": {}})
    path = tmp_path / "koban.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_login_checks_the_token_and_saves_it_for_its_owner_only(live: Live, tmp_path):
    saved = tmp_path / "cli-login.yaml"
    done = koban("login", "--url", live.url, "--token", live.admin_token())
    assert done.exit_code == 0, done.output
    assert f"signed in to {live.url} as test-admin (token scope admin)" in done.output
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert yaml.safe_load(saved.read_text())["url"] == live.url
    listed = koban("incident", "list")  # no flag, no environment: the saved login
    assert listed.exit_code == 0 and listed.output == ""
    assert koban("logout").exit_code == 0 and not saved.exists()


def test_login_needs_only_a_valid_token_not_a_role(live: Live):
    newcomer = live.token("bob", None, Scope.READ)
    done = koban("login", "--url", live.url, "--token", newcomer)
    assert done.exit_code == 0 and "as bob (token scope read)" in done.output
    assert koban("incident", "list").stderr == "403: needs read\n"  # what the role decides, later


def test_a_bad_token_is_refused_at_login_and_nothing_is_saved(live: Live, tmp_path):
    refused = koban("login", "--url", live.url, "--token", "kbt_not-a-real-token")
    assert refused.exit_code == 1 and refused.stderr.startswith("401: ")
    assert refused.exception is None or isinstance(refused.exception, SystemExit)  # no traceback
    assert not (tmp_path / "cli-login.yaml").exists()


def test_config_apply_with_an_admin_token_applies_shows_changes_and_is_audited(live: Live, tmp_path):
    env = {"KOBAN_URL": live.url, "KOBAN_TOKEN": live.admin_token()}
    path = _with_dave(tmp_path)
    planned = koban("config", "apply", path, "--dry-run", **env)
    assert planned.exit_code == 0
    assert planned.output.splitlines() == ["+ people/dave", "1 change(s) (dry run)"]
    assert "dave" not in live.system.catalog.people
    applied = koban("config", "apply", path, **env)
    assert applied.exit_code == 0 and applied.output.splitlines() == ["+ people/dave", "1 change(s)"]
    assert koban("config", "apply", path, **env).output == "0 change(s)\n"  # idempotent
    trail = koban("audit", "--kind", "people", **env)
    [line] = trail.output.splitlines()
    assert line.split()[2:] == ["test-admin", "cli", "people.create", "people/dave"]


def test_config_apply_with_a_viewer_token_is_refused_with_403(live: Live, tmp_path):
    viewer = live.token("alice", Role.VIEWER, Scope.READ)
    refused = koban("config", "apply", _with_dave(tmp_path), "--url", live.url, KOBAN_TOKEN=viewer)
    assert refused.exit_code == 1 and refused.stderr == "403: needs admin\n"
    assert "dave" not in live.system.catalog.people


def test_an_invalid_config_is_refused_with_every_problem(live: Live, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("services:\n  - id: web\n    policy: nowhere\n")
    refused = koban("config", "apply", str(path), KOBAN_URL=live.url, KOBAN_TOKEN=live.admin_token())
    assert refused.exit_code == 1 and refused.stderr.startswith("422: line 3: services[0].policy")


def test_the_environment_overrides_the_saved_login(live: Live, tmp_path):
    assert koban("login", "--url", live.url, "--token", live.admin_token()).exit_code == 0
    viewer = live.token("alice", Role.VIEWER, Scope.READ)
    refused = koban("config", "apply", _with_dave(tmp_path), KOBAN_TOKEN=viewer)
    assert refused.exit_code == 1 and "403" in refused.stderr
    assert koban("config", "apply", _with_dave(tmp_path)).exit_code == 0  # the saved admin token


def test_the_saved_token_is_sent_only_to_the_server_it_was_saved_for(live: Live, tmp_path):
    assert koban("login", "--url", live.url, "--token", live.admin_token()).exit_code == 0
    elsewhere = koban("incident", "list", "--url", "http://127.0.0.1:9")
    assert elsewhere.exit_code == 2 and "no token for http://127.0.0.1:9" in elsewhere.stderr


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path):
    saved = tmp_path / "login.yaml"
    save(saved, "http://a.test", "kbt_file")
    env = {"KOBAN_CLI_CONFIG": str(saved)}
    assert resolve(None, env) == Remote("http://a.test", "kbt_file")
    assert resolve(None, env | {"KOBAN_TOKEN": "kbt_env"}) == Remote("http://a.test", "kbt_env")
    assert resolve(None, env | {"KOBAN_URL": "http://a.test/"}) == Remote("http://a.test", "kbt_file")
    both = env | {"KOBAN_URL": "http://b.test", "KOBAN_TOKEN": "kbt_env"}
    assert resolve("http://c.test", both) == Remote("http://c.test", "kbt_env")
    assert resolve(None, {"KOBAN_CLI_CONFIG": str(tmp_path / "none.yaml")}) is None  # local, as before
    with pytest.raises(RemoteError, match="no token for http://b.test"):
        resolve(None, env | {"KOBAN_URL": "http://b.test"})
    with pytest.raises(RemoteError, match="no server"):
        resolve(None, {"KOBAN_CLI_CONFIG": str(tmp_path / "none.yaml"), "KOBAN_TOKEN": "kbt_env"})
    xdg = resolve(None, {"XDG_CONFIG_HOME": str(tmp_path / "nothing-here")})
    assert xdg is None


def test_incidents_and_tokens_through_the_api(live: Live):
    env = {"KOBAN_URL": live.url, "KOBAN_TOKEN": live.admin_token()}
    sent = httpx.post(f"{live.url}/api/v1/ingest/{KEY}", json={"summary": "disk full", "dedup_key": "d"})
    incident = sent.json()["incidents"][0]["incident_id"]
    listed = koban("incident", "list", **env)
    assert listed.exit_code == 0 and f"#{incident}" in listed.output and "disk full" in listed.output
    acked = koban("incident", "ack", str(incident), **env)
    assert acked.exit_code == 0, acked.output
    again = koban("incident", "ack", str(incident), **env)
    assert again.exit_code == 1 and again.stderr.startswith("409: ")
    missing = koban("incident", "resolve", "999", **env)
    assert missing.exit_code == 1 and missing.stderr.startswith("404: ")

    made = koban("token", "create", "--name", "ci", "--scope", "read", **env)
    assert made.exit_code == 0 and made.stdout.startswith("kbt_")
    listed_tokens = koban("token", "list", **env).output.splitlines()
    assert len(listed_tokens) == 2 and listed_tokens[1].split()[0] == "2"
    assert koban("token", "revoke", "2", **env).output == "token 2 revoked\n"
    assert koban("token", "revoke", "2", **env).stderr == "404: no active token 2\n"
    actions = [line.split()[4] for line in koban("audit", **env).output.splitlines()]
    # The second ack was refused, and that is on the trail too.
    assert actions[:4] == [
        "token.revoke",
        "token.create",
        "incident.acknowledge.refused",
        "incident.acknowledge",
    ]
