"""Inbound routes owned by integrations: Twilio callbacks, Slack clicks, signed links, vendor paths.

Each builder takes the system (the REST route builders are given ``system.api``) and returns its
routes; listing it here is the one line that mounts it. Builders wire koban's stores and the
``IncidentActions`` port into the integration's own ``build_routes(deps)``, so the integration
never imports paging or the system.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from koban.api import channel_status, contact_problems, heartbeats, silences
from koban.bootstrap.wiring import links, slack, twilio

if TYPE_CHECKING:
    from koban.bootstrap.system import System

RouteBuilder = Callable[["System"], list[BaseRoute]]

BUILDERS: list[RouteBuilder] = [
    lambda system: silences.routes(system.api),
    lambda system: heartbeats.routes(system.api),
    links.routes,
    slack.routes,
    lambda system: channel_status.routes(system.api),
    lambda system: contact_problems.routes(system.api),
    twilio.routes,
]


def integration_routes(system: System) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for build in BUILDERS:
        routes.extend(build(system))
    return routes
