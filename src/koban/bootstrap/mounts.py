"""Inbound routes owned by integrations: Twilio callbacks, Slack clicks, signed links, vendor paths.

Each integration folder exposes a builder ``(kernel) -> list[BaseRoute]``; listing it here is the
one line that mounts it. Builders wire the engine's stores and the ``IncidentActions`` port into
the integration's own ``build_routes(deps)``, so the integration never imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from koban.api import channel_status, contact_problems, heartbeats, silences
from koban.bootstrap.wiring import links, slack, twilio

if TYPE_CHECKING:
    from koban.bootstrap.system import Kernel

RouteBuilder = Callable[["Kernel"], list[BaseRoute]]

BUILDERS: list[RouteBuilder] = [
    silences.routes,
    heartbeats.routes,
    links.routes,
    slack.routes,
    channel_status.routes,
    contact_problems.routes,
    twilio.routes,
]


def integration_routes(kernel: Kernel) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for build in BUILDERS:
        routes.extend(build(kernel))
    return routes
