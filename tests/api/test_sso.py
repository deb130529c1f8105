"""Single sign-on against a real OpenID Connect provider started here (oidc-provider-mock):
login, callback, a session for the person with that email; a forged state, a replayed callback
and an unknown person refused; the config's ``sso:`` mapping the ID token's groups to team roles
at every sign-on."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import werkzeug.serving

from koban.auth.audit import Filter, query
from koban.auth.login import session_for
from koban.auth.permissions import Role
from koban.auth.sessions import COOKIE
from koban.auth.store import principal_for
from koban.bootstrap.app import create_app
from koban.config.model import ConfigFile
from koban.core.clock import SystemClock
from tests.support.factories import make_config
from tests.support.system import running_system

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
# The provider runs in this process; its Authlib calls deprecated parts of Authlib, which this
# suite's warnings-as-errors would turn into 500s from the provider.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def provider() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


async def _sign_in(koban: httpx.AsyncClient, sub: str) -> httpx.Response:
    """The browser's part: koban -> provider (pick the user) -> back to koban's callback."""
    start = await koban.get("/auth/oidc/login")
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as browser:
        back = await browser.post(start.headers["location"], data={"sub": sub})
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    return await koban.get(f"{callback.path}?{callback.query}")


def _settings(issuer: str) -> dict:
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": "koban",
        "oidc_client_secret": "s",
        "public_url": "http://koban.test",
    }


async def test_a_person_signs_in_through_the_provider_and_gets_a_session(db_url, tmp_path, provider):
    async with httpx.AsyncClient() as admin_of_the_provider:
        await admin_of_the_provider.put(f"{provider}/users/alice", json={"email": "alice@example.test"})
    async with running_system(
        db_url, make_config(), tmp_path, clock=SystemClock(), **_settings(provider)
    ) as k:
        transport = httpx.ASGITransport(app=create_app(k, manage_system=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as koban:
            done = await _sign_in(koban, "alice")
            assert done.status_code == 302 and done.headers["location"] == "/"
            cookie = done.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
            session_id = cookie.split(";")[0].split("=", 1)[1]
            async with k.db.begin() as conn:
                assert (await session_for(conn, session_id, k.clock.now())).person_id == "alice"
            again = await _sign_in(koban, "alice")  # linked now: found by issuer and subject
            assert again.status_code == 302 and COOKIE in again.headers["set-cookie"]


async def test_wrong_state_a_replayed_code_and_an_unknown_person_are_refused(db_url, tmp_path, provider):
    async with httpx.AsyncClient() as admin_of_the_provider:
        await admin_of_the_provider.put(f"{provider}/users/mallory", json={"email": "mallory@elsewhere.test"})
        await admin_of_the_provider.put(f"{provider}/users/bob", json={"email": "bob@example.test"})
    async with running_system(
        db_url, make_config(), tmp_path, clock=SystemClock(), **_settings(provider)
    ) as k:
        transport = httpx.ASGITransport(app=create_app(k, manage_system=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as koban:
            start = await koban.get("/auth/oidc/login")
            async with httpx.AsyncClient() as browser:
                back = await browser.post(start.headers["location"], data={"sub": "bob"})
            q = {k2: v[0] for k2, v in parse_qs(urlsplit(back.headers["location"]).query).items()}
            forged = await koban.get("/auth/oidc/callback", params={"code": q["code"], "state": "forged"})
            assert forged.status_code == 400 and "state" in forged.json()["detail"]
            first = await koban.get("/auth/oidc/callback", params=q)
            assert first.status_code == 302  # bob@example.test is a person of the config
            replay = await koban.get("/auth/oidc/callback", params=q)  # the flow's cookie is spent
            assert replay.status_code == 400 and "start again" in replay.json()["detail"]
            stranger = await _sign_in(koban, "mallory")
            assert stranger.status_code == 403 and "no koban person" in stranger.json()["detail"]


def _config_with_sso(issuer: str, secret: str = "${KOBAN_TEST_SSO_SECRET}") -> ConfigFile:
    base = make_config().model_dump(mode="json")
    return ConfigFile.model_validate(
        {
            **base,
            "teams": [{"id": "web"}, {"id": "db", "members": [{"person": "alice", "role": "viewer"}]}],
            "sso": {
                "issuer": issuer,
                "client_id": "koban",
                "client_secret": secret,
                "group_mapping": [
                    {"group": "web-oncall", "team": "web", "role": "responder"},
                    {"group": "web-leads", "team": "web", "role": "manager"},
                    {"group": "db-leads", "team": "db", "role": "manager"},
                ],
            },
        }
    )


async def _team_roles(k, person: str) -> dict[str, Role]:
    async with k.db.read() as conn:
        found = await principal_for(conn, person)
    assert found is not None
    return found.team_roles


async def test_mapped_groups_give_team_roles_at_sign_on_and_lose_them_at_the_next(
    db_url, tmp_path, provider, monkeypatch
):
    monkeypatch.setenv("KOBAN_TEST_SSO_SECRET", "s")
    groups = ["web-oncall", "web-leads", "db-leads", "marketing"]
    async with httpx.AsyncClient() as admin_of_the_provider:
        await admin_of_the_provider.put(
            f"{provider}/users/alice", json={"email": "alice@example.test", "groups": groups}
        )
    # The KOBAN_OIDC_* settings name a provider that is not there: the config's sso: wins.
    async with running_system(
        db_url,
        _config_with_sso(provider),
        tmp_path,
        clock=SystemClock(),
        **{**_settings(provider), "oidc_issuer": "http://127.0.0.1:9"},
    ) as k:
        transport = httpx.ASGITransport(app=create_app(k, manage_system=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as koban:
            assert (await _sign_in(koban, "alice")).status_code == 302
            # web: the highest of the two groups; db: the file's viewer stays; marketing: nothing.
            assert await _team_roles(k, "alice") == {"web": Role.MANAGER, "db": Role.VIEWER}
            async with httpx.AsyncClient() as admin_of_the_provider:
                await admin_of_the_provider.put(
                    f"{provider}/users/alice", json={"email": "alice@example.test", "groups": ["marketing"]}
                )
            assert (await _sign_in(koban, "alice")).status_code == 302
            assert await _team_roles(k, "alice") == {"db": Role.VIEWER}
            assert (await _sign_in(koban, "alice")).status_code == 302  # no change: no entry
        async with k.db.read() as conn:
            entries = await query(conn, Filter(object_id="alice"))
    trail = [e for e in entries if e.change.action == "user.sso_roles"]
    assert [e.change.after["teams"] for e in reversed(trail)] == [{"web": "manager"}, {}]
    assert trail[-1].change.after["groups"] == sorted(groups) and trail[-1].origin.actor == "alice"


async def test_a_client_secret_naming_an_unset_variable_says_which_and_nothing_more(
    db_url, tmp_path, provider, monkeypatch
):
    monkeypatch.delenv("KOBAN_TEST_SSO_SECRET", raising=False)
    async with running_system(
        db_url, _config_with_sso(provider), tmp_path, clock=SystemClock(), public_url="http://koban.test"
    ) as k:
        transport = httpx.ASGITransport(app=create_app(k, manage_system=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://koban.test") as koban:
            start = await koban.get("/auth/oidc/login")
    assert start.status_code == 503
    assert "${KOBAN_TEST_SSO_SECRET}" in start.json()["detail"]
