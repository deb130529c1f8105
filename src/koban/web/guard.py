"""The guard of a web page: the REST guard's rules, answered the way a browser needs them.

Signed out, a page sends the browser to ``/login`` and back; refused, it shows why as a page. A
caller that does not ask for HTML (a script, the route walk in the tests) gets the REST guard's own
401/403, so every page is still checked like every REST route.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from koban.auth.guard import Guard, TeamOf
from koban.auth.permissions import Principal, Scope


class PageRefused(Exception):
    """A page's refusal or absence, shown as an HTML page (``errors.page_error``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class SignInFirst(Exception):
    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


class PageGuard(Guard):
    __slots__ = ()

    async def __call__(self, request: Request) -> Principal | None:
        try:
            return await Guard.__call__(self, request)
        except HTTPException as exc:
            if not wants_html(request) or exc.status_code not in (401, 403):
                raise
            if exc.status_code == 401:
                query = f"?{request.url.query}" if request.url.query else ""
                raise SignInFirst(request.url.path + query) from None
            raise PageRefused(403, str(exc.detail)) from None


def page_needs(scope: Scope, team_of: TeamOf | None = None) -> Any:
    """``dependencies=[page_needs(Scope.READ)]`` on a page's route."""
    return Depends(PageGuard(scope, team_of))


def to_login(back_to: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(back_to, safe='/')}", status_code=303)
