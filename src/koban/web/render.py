"""Rendering a page: Jinja2 templates (autoescaped: an alert's summary or label is always text,
never markup) in the viewer's language and time zone, with the session's CSRF token for forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from koban.auth import sessions
from koban.auth.guard import cache_of
from koban.auth.permissions import Principal
from koban.web import i18n
from koban.web.deps import deps_of

ENV = Environment(
    loader=PackageLoader("koban.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt name fails the page's test instead of showing nothing
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks at a page, and how they read it."""

    who: Principal | None
    csrf: str
    lang: str
    tz: ZoneInfo

    @property
    def person_id(self) -> str | None:
        return self.who.person_id if self.who is not None else None


async def viewer_of(request: Request) -> Viewer:
    """The signed-in person (the page's guard put them on ``request.state``), else an anonymous
    visitor in their browser's language."""
    who: Principal | None = getattr(request.state, "principal", None)
    accept = request.headers.get("accept-language", "")
    if who is None:
        return Viewer(None, "", i18n.pick(None, accept), i18n.zone("UTC"))
    deps = deps_of(request)
    person = deps.catalog.people.get(who.person_id)
    cookie = request.cookies.get(sessions.COOKIE, "")
    # An API token may read pages too; only a session has a CSRF token for the forms.
    csrf = (await cache_of(request.app.state).session(deps, cookie))[1] if cookie else ""
    return Viewer(
        who,
        csrf,
        i18n.pick(getattr(person, "language", None), accept),
        i18n.zone(getattr(person, "timezone", None)),
    )


def render(viewer: Viewer, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    gettext = i18n.gettext_for(viewer.lang)
    html = ENV.get_template(template).render(
        _=gettext,
        lang=viewer.lang,
        viewer=viewer,
        when=lambda ts: i18n.format_time(ts, viewer.lang, viewer.tz),
        duration=lambda seconds: i18n.format_duration(seconds, viewer.lang),
        ms=i18n.format_ms,
        **context,
    )
    return HTMLResponse(html, status, headers={"cache-control": "no-store", "vary": "accept-language"})
