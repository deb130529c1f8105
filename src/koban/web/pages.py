"""The web UI's routes, put on the app in the order they must match, and how a page's refusal or
a signed-out visit is answered (an HTML page, or the sign-in page)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from koban.web import (
    api_docs,
    audit_page,
    incident_page,
    incidents_list,
    live,
    login,
    logs_actions,
    logs_pages,
    monitor_page,
    monitors_list,
    oncall_page,
    reports_page,
    schedule_page,
    settings_config,
    settings_edit,
    settings_integrations,
    settings_lifecycle,
    settings_pages,
    settings_tokens,
    static_files,
    status_page,
)
from koban.web.guard import PageRefused, SignInFirst, to_login
from koban.web.render import render, viewer_of

HEADINGS = {403: "Not allowed", 404: "Not found"}


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRefused)
    viewer = await viewer_of(request)
    heading = HEADINGS.get(exc.status, "Error")
    return render(viewer, "error.html", exc.status, heading=heading, message=exc.message)


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInFirst)
    return to_login(exc.back_to)


def install(app: FastAPI) -> None:
    app.include_router(login.router)
    app.include_router(static_files.router)
    app.include_router(api_docs.router)
    app.include_router(live.router)  # before /incidents/{incident_id}, which "events" is not
    app.include_router(incidents_list.router)
    app.include_router(incident_page.router)
    app.include_router(monitors_list.router)
    app.include_router(monitor_page.router)
    app.include_router(oncall_page.router)
    app.include_router(schedule_page.router)
    app.include_router(reports_page.router)
    app.include_router(logs_pages.router)
    app.include_router(logs_actions.router)
    app.include_router(settings_pages.router)
    app.include_router(settings_edit.router)
    app.include_router(settings_lifecycle.router)
    app.include_router(settings_config.router)
    app.include_router(settings_tokens.router)
    app.include_router(settings_integrations.router)
    app.include_router(audit_page.router)
    app.include_router(status_page.router)
    app.add_exception_handler(PageRefused, _refused)
    app.add_exception_handler(SignInFirst, _sign_in)
