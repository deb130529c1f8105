"""Signed one-click links: ``/l/<token>`` acknowledges/resolves/escalates as one person, once.

A token is ``base64url(claims).base64url(HMAC-SHA256)`` binding person, incident, action, expiry, a
nonce and the escalation step and loop of the message it was sent in. ``verify`` is pure. Single use
is enforced by a ``NonceStore`` koban implements (a unique row). ``GET`` only shows a confirmation
page because mail and chat link scanners prefetch URLs; the page's button POSTs, and only the POST
acts (through ``IncidentActions`` with ``via="link"``, naming the step it was shown). A used link, or
an Escalate link from a step the incident has left, changes nothing and the page says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from koban.channels.actions import IncidentAction, IncidentActions
from koban.core.i18n import M_, Said, from_accept_language, tr

_DOMAIN = b"koban-link-v1."  # keeps these MACs distinct from anything else signed with the same secret


@dataclass(frozen=True, slots=True)
class LinkClaims:
    person: str
    incident_id: int
    action: IncidentAction
    expires_at: int
    nonce: str
    seen: tuple[int, int] | None = None  # (step, loop) of the message; None in links made before
    task: bool = False  # a calendar task's link: its page says Start and Done (docs/calendars.md)


@dataclass(frozen=True, slots=True)
class LinkError:
    reason: str  # "expired" | "forged" | "malformed"

    @property
    def message(self) -> str:
        return _ERROR_TEXT[self.reason][1]

    def text(self, lang: str | None) -> str:
        return tr(lang, self.message)

    @property
    def status(self) -> int:
        return _ERROR_TEXT[self.reason][0]


_ERROR_TEXT = {
    "expired": (410, M_("This link has expired. Open the incident in koban to act on it.")),
    "forged": (
        403,
        M_("This link is not valid. It may have been altered; use the link from the original message."),
    ),
    "malformed": (400, M_("This link is incomplete. Copy the whole link from the original message.")),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("link signing secret must not be empty")
        self._key = secret.encode("utf-8")

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, _DOMAIN + body.encode("ascii"), hashlib.sha256).digest())

    def sign(
        self,
        *,
        person: str,
        incident_id: int,
        action: IncidentAction,
        expires_at: float,
        nonce: str,
        seen: tuple[int, int] | None = None,
        task: bool = False,
    ) -> str:
        claims: dict[str, object] = {
            "p": person,
            "i": incident_id,
            "a": str(action),
            "e": int(expires_at),
            "n": nonce,
        }
        if seen is not None:
            claims["s"], claims["l"] = seen
        if task:
            claims["k"] = "task"
        body = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, now: float) -> LinkClaims | LinkError:
        body, dot, mac = token.partition(".")
        if not dot or not body or not mac:
            return LinkError("malformed")
        try:
            body.encode("ascii")
        except UnicodeEncodeError:
            return LinkError("malformed")
        if not hmac.compare_digest(mac, self._mac(body)):
            return LinkError("forged")
        try:
            raw = json.loads(_unb64(body))
            claims = LinkClaims(
                person=str(raw["p"]),
                incident_id=int(raw["i"]),
                action=IncidentAction(raw["a"]),
                expires_at=int(raw["e"]),
                nonce=str(raw["n"]),
                seen=(int(raw["s"]), int(raw["l"])) if "s" in raw else None,
                task=raw.get("k") == "task",
            )
        except (ValueError, KeyError, TypeError):
            return LinkError("malformed")  # signed by us but unreadable: an old format
        if now >= claims.expires_at:
            return LinkError("expired")
        return claims


class NonceStore(Protocol):
    async def consume(self, nonce: str) -> bool:
        """True the first time a nonce is consumed, False ever after (koban: a unique row)."""
        ...


@dataclass
class MemoryNonceStore:
    """For tests and the demo only: forgets everything on restart."""

    used: set[str] = field(default_factory=set)

    async def consume(self, nonce: str) -> bool:
        if nonce in self.used:
            return False
        self.used.add(nonce)
        return True


@dataclass(frozen=True, slots=True)
class LinkDeps:
    signer: LinkSigner
    store: NonceStore
    actions: IncidentActions
    clock: Callable[[], float] = time.time
    prefix: str = "/l"


# The pages' words are in the browser's language (its Accept-Language: a link names a person but
# the page is whoever opened it), through the outbound catalogue (core/i18n.py).
_VERBS = {
    IncidentAction.ACKNOWLEDGE: M_("Acknowledge"),
    IncidentAction.RESOLVE: M_("Resolve"),
    IncidentAction.ESCALATE: M_("Escalate"),
}
# A task's page: (the button, what it does), in the task's own words.
_TASK_WORDS = {
    IncidentAction.ACKNOWLEDGE: (M_("Start"), M_("Start task {n}")),
    IncidentAction.RESOLVE: (M_("Done"), M_("Mark task {n} done")),
    IncidentAction.ESCALATE: (M_("Escalate"), M_("Escalate task {n}")),
}
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html><head><meta charset='utf-8'><meta name='robots' content='noindex'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32em;margin:3em auto'><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _error_page(error: LinkError, lang: str | None) -> HTMLResponse:
    return _page(tr(lang, "Link not usable"), f"<p>{html.escape(error.text(lang))}</p>", error.status)


def _lang(request: Request) -> str | None:
    return from_accept_language(request.headers.get("accept-language", ""))


def build_routes(deps: LinkDeps) -> list[Route]:
    async def confirm(request: Request) -> HTMLResponse:
        lang = _lang(request)
        claims = deps.signer.verify(request.path_params["token"], deps.clock())
        if isinstance(claims, LinkError):
            return _error_page(claims, lang)
        if claims.task:
            verb, phrase = _TASK_WORDS[claims.action]
            button = tr(lang, verb)
            title = tr(lang, phrase, n=claims.incident_id)
        else:
            button = tr(lang, _VERBS[claims.action])
            title = tr(lang, "{verb} incident {id}", verb=button, id=claims.incident_id)
        # The words escaped first, then the escaped values put in (the name in bold).
        question = html.escape(tr(lang, "{action} as {person}?"))
        asked = question.format(action=html.escape(title), person=f"<b>{html.escape(claims.person)}</b>")
        body = (
            f"<p>{asked}</p>"
            "<form method='post'><button type='submit' style='font-size:1.2em;padding:.5em 1.5em'>"
            f"{button}</button></form>"
        )
        return _page(title, body)

    async def apply(request: Request) -> HTMLResponse:
        lang = _lang(request)
        claims = deps.signer.verify(request.path_params["token"], deps.clock())
        if isinstance(claims, LinkError):
            return _error_page(claims, lang)
        try:
            if not await deps.store.consume(claims.nonce):
                # A replay (a second tap, a forwarded mail): nothing happens, and the refusal is on
                # the timeline and the audit trail like any other action through this door.
                refused = await deps.actions.refuse(
                    claims.incident_id,
                    claims.action,
                    actor=claims.person,
                    via="link",
                    reason=Said.of(M_("this link was already used (each link works once)")),
                )
                return _page(tr(lang, "Link already used"), f"<p>{html.escape(refused.text(lang))}</p>", 409)
            result = await deps.actions.act(
                claims.incident_id, claims.action, actor=claims.person, via="link", seen=claims.seen
            )
        except LookupError:
            gone = M_("Incident {id} no longer exists, so nothing was changed.")
            text = tr(lang, gone, id=claims.incident_id)
            return _page(tr(lang, "Nothing changed"), f"<p>{html.escape(text)}</p>", 404)
        if not result.ok:  # e.g. already acknowledged by someone else: say so, with a 4xx
            return _page(tr(lang, "Nothing changed"), f"<p>{html.escape(result.text(lang))}</p>", 409)
        return _page(tr(lang, "Done"), f"<p>{html.escape(result.text(lang))}</p>")

    path = f"{deps.prefix}/{{token}}"
    return [Route(path, confirm, methods=["GET"]), Route(path, apply, methods=["POST"])]
