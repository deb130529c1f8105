"""Browser sign-in and sign-out: ``GET/POST /login``, ``POST /logout``, and the signed-in home page.

- The login form carries a signed double-submit token (a random value in a short-lived cookie,
  its HMAC in the form), so another site cannot sign a browser in as someone else (login CSRF).
- A successful login always starts a new session with a new id, and ends any session the browser
  came with: an id planted before login (session fixation) is never signed in.
- Failed logins say the same words whether the person exists or not; throttling answers 429.
- Sign-out is a POST with the session's CSRF token; "everywhere" ends every session of the person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Protocol
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from koban.auth import sessions
from koban.auth.audit import Door, Origin
from koban.auth.guard import cache_of, public
from koban.auth.login import NotSignedIn, logout, password_login, signed_in
from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database
from koban.web.page import esc, page

LOGIN_COOKIE = "koban_login"
LOGIN_FORM_SECONDS = 3600
MAX_FIELD = 1024  # a person id or a password longer than this is not one koban made

router = APIRouter(tags=["sign-in"], include_in_schema=False)
OPEN = Depends(public("the sign-in pages: the password or the session's CSRF token is the proof"))


class WebDeps(Protocol):
    db: Database
    clock: Clock
    settings: Settings


def _deps(request: Request) -> WebDeps:
    deps: WebDeps = request.app.state.deps
    return deps


def _origin(request: Request) -> Origin:
    ip = request.client.host if request.client else ""
    return Origin(None, Door.UI, ip, request.headers.get("user-agent", "")[:512])


def _sso_offered(deps: WebDeps) -> bool:
    """The config's ``sso:`` section, or the ``KOBAN_OIDC_*`` settings (the fallback)."""
    catalog = getattr(deps, "catalog", None)
    return bool(deps.settings.oidc_issuer) or getattr(catalog, "sso", None) is not None


def _form_token(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"login-form:" + nonce.encode(), hashlib.sha256).hexdigest()


def safe_next(target: str) -> str:
    """Only a path on this site: ``//evil`` or ``/\\evil`` would leave it (open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    fields = parse_qs(body, keep_blank_values=True, max_num_fields=20)
    return {k: v[0][:MAX_FIELD] for k, v in fields.items() if v}


def _login_page(
    deps: WebDeps, next_path: str, error: str = "", status: int = 200, person: str = ""
) -> Response:
    nonce = secrets.token_urlsafe(24)
    message = f"<p class='error' role='alert'>{esc(error)}</p>" if error else ""
    body = (
        f"{message}<form method='post' action='/login'>"
        f"<input type='hidden' name='csrf' value='{_form_token(deps.settings.signing_key(), nonce)}'>"
        f"<input type='hidden' name='next' value='{esc(next_path)}'>"
        "<label for='person'>Person / ユーザー</label>"
        f"<input type='text' id='person' name='person' value='{esc(person)}' autocomplete='username'"
        " required>"
        "<label for='password'>Password / パスワード</label>"
        "<input type='password' id='password' name='password' autocomplete='current-password' required>"
        "<button type='submit'>Sign in / ログイン</button></form>"
    )
    if _sso_offered(deps):
        body += "<p><a href='/auth/oidc/login'>Sign in with single sign-on / SSO でログイン</a></p>"
    resp = page("Sign in", body, status)
    secure = "; Secure" if deps.settings.effective_public_url.startswith("https://") else ""
    resp.headers.append(
        "set-cookie",
        f"{LOGIN_COOKIE}={nonce}; Path=/login; HttpOnly; SameSite=Strict; "
        f"Max-Age={LOGIN_FORM_SECONDS}{secure}",
    )
    return resp


@router.get("/login", dependencies=[OPEN])
async def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the usual name
    return _login_page(_deps(request), safe_next(next))


@router.post("/login", dependencies=[OPEN])
async def login(request: Request) -> Response:
    deps = _deps(request)
    form = await _form(request)
    next_path = safe_next(form.get("next", "/"))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = _form_token(deps.settings.signing_key(), nonce)
    if not nonce or not hmac.compare_digest(expected, form.get("csrf", "")):
        return _login_page(
            deps, next_path, "This form has expired or came from another site: try again.", 403
        )
    person, password = form.get("person", "").strip(), form.get("password", "")
    if not person or not password:
        return _login_page(deps, next_path, "Give a person and a password.", 400, person)
    now = deps.clock.now()
    planted = request.cookies.get(sessions.COOKIE, "")
    async with deps.db.begin() as conn:
        if planted:  # whatever session the browser came with ends here; the login gets a new id
            await logout(conn, planted, _origin(request), now, everywhere=False)
        result = await password_login(
            conn,
            person,
            password,
            _origin(request),
            now,
            new_session_id=secrets.token_urlsafe(32),
            new_csrf=secrets.token_urlsafe(32),
        )
    if isinstance(result, NotSignedIn):
        status = 429 if result.retry_after > 0 else 401
        resp = _login_page(deps, next_path, result.reason, status, person)
        if result.retry_after > 0:
            resp.headers["retry-after"] = str(int(result.retry_after) + 1)
        return resp
    resp = RedirectResponse(next_path, status_code=303)
    resp.headers.append(
        "set-cookie", sessions.cookie_header(result.session_id, deps.settings.effective_public_url)
    )
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


@router.post("/logout", dependencies=[OPEN])
async def sign_out(request: Request) -> Response:
    deps = _deps(request)
    form = await _form(request)
    session_id = request.cookies.get(sessions.COOKIE, "")
    found = await signed_in(deps.db, session_id, deps.clock.now()) if session_id else None
    if found is None:
        return RedirectResponse("/login", status_code=303)
    if not sessions.csrf_ok(found[0].csrf, form.get("csrf")):
        return page("Not signed out", "<p class='error'>This form came from another site.</p>", 403)
    async with deps.db.begin() as conn:
        await logout(conn, session_id, _origin(request), deps.clock.now(), everywhere="everywhere" in form)
    cache_of(request.app.state).forget_sessions(found[1].person_id)
    resp = RedirectResponse("/login", status_code=303)
    resp.headers.append("set-cookie", sessions.clearing_cookie_header(deps.settings.effective_public_url))
    return resp


@router.get("/", dependencies=[OPEN])
async def home(request: Request) -> Response:
    """Who is signed in, and the way out. The web UI's pages hang off this one."""
    deps = _deps(request)
    session_id = request.cookies.get(sessions.COOKIE, "")
    found = await signed_in(deps.db, session_id, deps.clock.now()) if session_id else None
    if found is None:
        return RedirectResponse(f"/login?next={quote('/')}", status_code=303)
    row, who = found
    body = (
        f"<p>Signed in as <b>{esc(who.person_id)}</b>.</p>"
        "<p><a href='/incidents'>Incidents / インシデント</a> · <a href='/monitors'>Monitors / 監視</a>"
        " · <a href='/oncall'>On call / オンコール</a> · <a href='/reports'>Reports / レポート</a>"
        " · <a href='/settings'>Settings / 設定</a> · <a href='/docs'>API</a></p>"
        f"<form method='post' action='/logout'><input type='hidden' name='csrf' value='{esc(row.csrf)}'>"
        "<label><input type='checkbox' name='everywhere' value='1'> on every device / すべての端末で</label>"
        "<button type='submit'>Sign out / ログアウト</button></form>"
    )
    return page("koban", body)
