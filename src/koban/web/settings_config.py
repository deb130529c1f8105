"""``/settings/config``: everything config as code also sets, read-only, for administrators.

The settings pages edit people, teams and channels; the other sections of the config file
(rotations, schedules, policies, services, routing, logs, reports, status pages...) are shown
here as they stand, each object marked YAML (the file manages it: ``editing/rules.yaml_managed``)
or not, its definition as JSON with secrets masked (``editing/redact.py``), as the REST API shows
it. Administrators only: the page spans every team. Monitors are counted and linked to their own
list (there may be 100,000); single sign-on's settings stay out (its client secret is opened in
memory, and the REST API does not show it either).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from koban.auth.permissions import Scope
from koban.editing.redact import redact
from koban.web.deps import deps_of
from koban.web.guard import page_needs
from koban.web.render import render, viewer_of
from koban.web.settings_pages import managed

router = APIRouter(include_in_schema=False)
ADMIN = page_needs(Scope.ADMIN)
# The config file's sections, in its order (config/model.py), but for monitors and sso.
SECTIONS = (
    "teams",
    "people",
    "rotations",
    "schedules",
    "calendars",
    "channels",
    "policies",
    "services",
    "silences",
    "maintenance",
    "inhibit_rules",
    "heartbeats",
    "log_clusters",
    "digests",
    "log_rules",
    "report_schedules",
    "status_pages",
)
SHOWN = 200  # objects a section shows; the REST API lists them all


def _objects(catalog: Any) -> dict[str, list[Any]]:
    routing = catalog.routing.config_sections()
    out: dict[str, list[Any]] = {}
    for section in SECTIONS:
        found = routing[section] if section in routing else list(getattr(catalog, section).values())
        out[section] = sorted(found, key=lambda o: str(getattr(o, "id", "")))
    return out


@router.get("/settings/config", dependencies=[ADMIN])
async def config_page(request: Request) -> Response:
    deps = deps_of(request)
    await deps.refresh_catalog()
    sections = []
    for section, objects in _objects(deps.catalog).items():
        shown = objects[:SHOWN]
        ids = [str(getattr(o, "id", "")) for o in shown]
        yaml = await managed(request, section, ids)
        rows = [
            (
                ident,
                ident in yaml,
                json.dumps(redact(o.model_dump(mode="json")), ensure_ascii=False, indent=2),
            )
            for ident, o in zip(ids, shown, strict=True)
        ]
        sections.append((section, len(objects), rows))
    return render(
        await viewer_of(request),
        "settings_config.html",
        nav="settings",
        sections=sections,
        monitors=len(deps.catalog.monitors),
        shown_at_most=SHOWN,
    )
