"""Browser sign-in through OpenID Connect: ``/auth/oidc/login`` and ``/auth/oidc/callback``.

Between the two, the browser holds a short-lived cookie with the login's state, nonce and PKCE
verifier, signed with koban's secret key (nothing is stored server-side until a login succeeds).
A provider identity is matched to a person by a login already linked to it, else by the person's
verified email (``contacts.email``), and linked then; nobody else gets in.

The provider is the config's ``sso:`` section; without one, the ``KOBAN_OIDC_*`` settings (which
map no groups). With ``sso.group_mapping``, every sign-on makes the person's roles from the ID
token's groups what the mapping says (``auth/sso_rules.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import replace

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from koban.api.access import anonymous
from koban.api.deps import deps_of
from koban.auth import sessions
from koban.auth.audit import Change, Door, Origin, record
from koban.auth.login import start_session
from koban.auth.oidc import OidcClient, OidcError, OidcSettings
from koban.auth.oidc_rules import Identity, Refusal
from koban.auth.sso_roles import refresh_sso_roles
from koban.auth.sso_rules import client_secret
from koban.db.schema_auth import users

router = APIRouter(prefix="/auth/oidc", tags=["sign-in"])
COOKIE = "koban_oidc"
FLOW_SECONDS = 600.0
OPEN = anonymous("the sign-in flow itself: the provider's answer is the proof")


class NotReady(Exception):
    """Single sign-on is configured but cannot work on this instance (the reason is safe to show)."""


async def _settings(request: Request) -> OidcSettings | None:
    """The provider to use: the config's ``sso:``, else the ``KOBAN_OIDC_*`` settings, else none."""
    deps = deps_of(request)
    s = deps.settings
    await deps.refresh_catalog()
    callback = f"{s.effective_public_url}/auth/oidc/callback"
    sso = deps.catalog.sso
    if sso is not None:
        secret = client_secret(sso.client_secret, os.environ)
        if secret is None:
            # The name only: never the value, which is not set anyway.
            raise NotReady(f"sso.client_secret names {sso.client_secret}, which is not set on this instance")
        return OidcSettings(
            sso.issuer, sso.client_id, secret, callback, " ".join(sso.scopes), sso.group_claim
        )
    if not (s.oidc_issuer and s.oidc_client_id):
        return None
    return OidcSettings(
        s.oidc_issuer,
        s.oidc_client_id,
        s.oidc_client_secret.get_secret_value(),
        callback,
        group_claim=s.oidc_group_claim,
    )


async def _client(request: Request) -> OidcClient | None:
    settings = await _settings(request)
    if settings is None:
        return None
    state = request.app.state
    # One client per provider settings: an apply that changes them gets a fresh one (metadata, keys).
    current: OidcClient | None = getattr(state, "oidc", None)
    if current is None or current.settings != settings:
        current = state.oidc = OidcClient(settings, deps_of(request).clock)
    return current


def _sign(key: bytes, payload: dict) -> str:
    raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    mac = hmac.new(key, b"oidc-flow:" + raw.encode(), hashlib.sha256).hexdigest()
    return f"{raw}.{mac}"


def _unsign(key: bytes, value: str) -> dict | None:
    raw, _, mac = value.rpartition(".")
    good = hmac.new(key, b"oidc-flow:" + raw.encode(), hashlib.sha256).hexdigest()
    if not raw or not hmac.compare_digest(mac, good):
        return None
    data = json.loads(base64.urlsafe_b64decode(raw))
    return data if isinstance(data, dict) else None


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status)


@router.get(
    "/login",
    summary="Start signing in with the OpenID Connect provider",
    dependencies=[OPEN],
    responses={
        302: {"description": "To the provider's sign-in page"},
        404: {"description": "Single sign-on is not configured"},
        502: {"description": "The provider cannot be reached"},
    },
)
async def login(request: Request) -> Response:
    try:
        client = await _client(request)
    except NotReady as exc:
        return _problem(503, str(exc))
    if client is None:
        return _problem(404, "single sign-on is not configured (sso: in the config, or KOBAN_OIDC_ISSUER)")
    deps = deps_of(request)
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "exp": deps.clock.now() + FLOW_SECONDS}
    try:
        url = await client.authorize_url(state=state, nonce=nonce, verifier=verifier)
    except OidcError as exc:
        return _problem(502, f"the sign-in provider cannot be reached: {exc}")
    resp = RedirectResponse(url, status_code=302)
    secure = deps.settings.effective_public_url.startswith("https://")
    resp.set_cookie(
        COOKIE,
        _sign(deps.settings.signing_key(), flow),
        max_age=int(FLOW_SECONDS),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/auth/oidc",
    )
    return resp


async def _person_for(request: Request, who: Identity) -> str | None:
    deps = deps_of(request)
    u = users.c
    async with deps.db.begin() as conn:
        linked = await conn.execute(
            sa.select(u.person_id).where(u.oidc_issuer == who.issuer, u.oidc_subject == who.subject)
        )
        found = linked.scalar_one_or_none()
        if found is not None:
            return str(found)
        if not who.email:
            return None
        await deps.refresh_catalog()
        person = next(
            (
                p.id
                for p in deps.catalog.people.values()
                if p.contacts.get("email", "").lower() == who.email.lower()
            ),
            None,
        )
        if person is None:
            return None
        now = deps.clock.now()
        exists = (await conn.execute(sa.select(u.person_id).where(u.person_id == person))).first()
        link = {"oidc_issuer": who.issuer, "oidc_subject": who.subject, "updated_at": now}
        if exists:
            await conn.execute(sa.update(users).where(u.person_id == person).values(**link))
        else:
            await conn.execute(
                sa.insert(users).values(person_id=person, disabled=False, created_at=now, **link)
            )
        origin = Origin(person, Door.UI, request.client.host if request.client else "")
        await record(
            conn, origin, [Change("user.link_sso", "person", person, None, {"issuer": who.issuer})], now
        )
        return person


@router.get(
    "/callback",
    summary="Where the provider sends the browser back",
    dependencies=[OPEN],
    responses={
        302: {"description": "Signed in: a session cookie, and on to the start page"},
        400: {"description": "The flow was not started here, took too long, or its state differs"},
        401: {"description": "The provider refused the sign-in, or its token did not check out"},
        403: {"description": "No koban person has this identity"},
        404: {"description": "Single sign-on is not configured"},
        502: {"description": "The provider cannot be reached"},
    },
)
async def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    try:
        client = await _client(request)
    except NotReady as exc:
        return _problem(503, str(exc))
    if client is None:
        return _problem(404, "single sign-on is not configured")
    deps = deps_of(request)
    if error:
        return _problem(401, f"the provider refused the sign-in: {error}")
    flow = _unsign(deps.settings.signing_key(), request.cookies.get(COOKIE, ""))
    if flow is None or flow.get("exp", 0) < deps.clock.now():
        return _problem(400, "this sign-in was not started here, or took too long: start again")
    if not state or not hmac.compare_digest(state, str(flow["state"])):
        return _problem(400, "the sign-in's state does not match: start again")
    try:
        who = await client.finish(code, nonce=str(flow["nonce"]), verifier=str(flow["verifier"]))
    except OidcError as exc:
        return _problem(502, f"the sign-in provider cannot be reached: {exc}")
    if isinstance(who, Refusal):
        return _problem(401, who.reason)
    person = await _person_for(request, who)
    if person is None:
        return _problem(403, "no koban person has this identity or email: ask an administrator")
    origin = Origin(
        None, Door.UI, request.client.host if request.client else "", request.headers.get("user-agent", "")
    )
    sso = deps.catalog.sso
    async with deps.db.begin() as conn:
        if sso is not None and sso.issuer == who.issuer:
            # In the session's transaction: the session never starts with the roles of the last sign-on.
            await refresh_sso_roles(
                conn, person, who.groups, sso.group_mapping, replace(origin, actor=person), deps.clock.now()
            )
        signed = await start_session(
            conn,
            person,
            origin,
            deps.clock.now(),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            via_sso=True,
        )
    resp = RedirectResponse("/", status_code=302)
    resp.headers.append(
        "set-cookie", sessions.cookie_header(signed.session_id, deps.settings.effective_public_url)
    )
    resp.delete_cookie(COOKIE, path="/auth/oidc")
    return resp
