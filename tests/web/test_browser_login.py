"""Signing in with a browser, end to end: a real ``koban serve`` and a real HTTP client keeping
cookies, the way a browser does (issue 12's proof: login, CSRF refused, fixation refused, an expired
token refused, logout everywhere)."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from koban.auth import api_tokens
from koban.auth.passwords import HASHER
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.db.engine import Database
from koban.testing.ports import free_port
from tests.support import koban_proc as kp

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Served:
    base: str
    db_url: str


async def _people(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.begin() as conn:
            now = time.time()
            await create_user(
                conn, "alice", now, password_hash=HASHER.hash(PASSWORD), global_role=Role.RESPONDER
            )
            await create_user(conn, "bob", now, password_hash=HASHER.hash(PASSWORD), global_role=Role.VIEWER)
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{tmp / 'koban.db'}"
    port = free_port()
    cfg = kp.write_config(tmp / "koban.yaml", kp.paging_config("http://127.0.0.1:9/"))
    env = kp.koban_env(db_url, tmp / "data", port=port, config_file=cfg)
    log = tmp / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([kp.KOBAN, "serve", "--no-worker"], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not kp.answers(f"{base}/healthz"):
            assert proc.poll() is None and time.monotonic() < deadline, kp.tail(log)
            time.sleep(0.1)
        asyncio.run(_people(db_url))
        yield Served(base, db_url)
    finally:
        kp.stop_popen(proc)


def _form_csrf(html: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", html)
    assert found, html
    return found.group(1)


def _sign_in(browser: httpx.Client, person: str = "alice", password: str = PASSWORD) -> httpx.Response:
    form = browser.get("/login")
    return browser.post(
        "/login", data={"csrf": _form_csrf(form.text), "person": person, "password": password, "next": "/"}
    )


def test_a_password_login_gives_a_session_cookie_that_the_api_accepts(served: Served) -> None:
    with httpx.Client(base_url=served.base) as browser:
        assert browser.get("/").headers["location"].startswith("/login")
        signed = _sign_in(browser)
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = next(
            v for k, v in signed.headers.multi_items() if k == "set-cookie" and "koban_session" in v
        )
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # http here
        home = browser.get("/")
        assert "Signed in as <b>alice</b>" in home.text
        assert browser.get("/api/v1/incidents").status_code == 200
        csrf = _form_csrf(home.text)
        # A state change through a session cookie needs the session's CSRF token as a header.
        silence = {"matchers": ["service=web"], "ends_at": "2099-01-01T00:00:00Z", "reason": "test"}
        refused = browser.post("/api/v1/silences", json=silence)
        assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
        assert (
            browser.post("/api/v1/silences", json=silence, headers={"X-CSRF-Token": csrf}).status_code != 403
        )


def test_forms_without_their_csrf_token_are_refused(served: Served) -> None:
    with httpx.Client(base_url=served.base) as browser:
        browser.get("/login")
        forged = browser.post("/login", data={"person": "alice", "password": PASSWORD, "csrf": "x" * 64})
        assert forged.status_code == 403 and "koban_session" not in forged.headers.get("set-cookie", "")
        assert _sign_in(browser).status_code == 303
        assert browser.post("/logout", data={}).status_code == 403
        assert "Signed in as" in browser.get("/").text  # still signed in


def test_a_session_id_planted_before_login_is_never_signed_in(served: Served) -> None:
    planted = secrets.token_urlsafe(32)
    with httpx.Client(base_url=served.base) as browser:
        browser.cookies.set("koban_session", planted, domain="127.0.0.1")
        assert _sign_in(browser).status_code == 303
        assert browser.cookies["koban_session"] != planted
        assert browser.get("/api/v1/incidents").status_code == 200
    with httpx.Client(base_url=served.base) as attacker:
        attacker.cookies.set("koban_session", planted, domain="127.0.0.1")
        assert attacker.get("/api/v1/incidents").status_code == 401


def test_a_wrong_password_says_the_same_as_an_unknown_person(served: Served) -> None:
    with httpx.Client(base_url=served.base) as browser:
        wrong = _sign_in(browser, "bob", "not the password")
        nobody = _sign_in(browser, "nobody-here", "not the password")
        assert wrong.status_code == nobody.status_code == 401
        assert "wrong username or password" in wrong.text and "wrong username or password" in nobody.text


def test_pages_carry_security_headers_and_no_inline_script(served: Served) -> None:
    page = httpx.get(f"{served.base}/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "same-origin"
    assert "<script" not in page.text and " style=" not in page.text
    assert httpx.get(f"{served.base}/static/koban.css").status_code == 200
    assert "content-security-policy" not in httpx.get(f"{served.base}/healthz").headers  # JSON: untouched


def test_logout_everywhere_ends_every_session_of_the_person(served: Served) -> None:
    with httpx.Client(base_url=served.base) as phone, httpx.Client(base_url=served.base) as laptop:
        assert _sign_in(phone, "bob").status_code == 303 and _sign_in(laptop, "bob").status_code == 303
        csrf = _form_csrf(phone.get("/").text)
        assert phone.post("/logout", data={"csrf": csrf, "everywhere": "1"}).status_code == 303
        assert laptop.get("/api/v1/incidents").status_code == 401
        assert phone.get("/api/v1/incidents").status_code == 401


def test_an_expired_api_token_is_refused(served: Served) -> None:
    issued = api_tokens.issue(secrets.token_bytes(24))

    async def make() -> None:
        db = Database(served.db_url)
        try:
            async with db.begin() as conn:
                now = time.time()
                await create_token(
                    conn,
                    issued,
                    now - 7200,
                    person_id="alice",
                    name="old",
                    scope=Scope.READ,
                    expires_at=now - 1,
                )
        finally:
            await db.dispose()

    asyncio.run(make())
    answer = httpx.get(f"{served.base}/api/v1/incidents", headers={"Authorization": f"Bearer {issued.text}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
