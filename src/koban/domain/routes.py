"""Which policy pages for an alert: a service's routes by severity and labels (first match wins)."""

from __future__ import annotations

from dataclasses import dataclass

from koban.domain.alerts import AlertEvent
from koban.domain.specs import ServiceSpec


@dataclass(frozen=True, slots=True)
class RouteChoice:
    policy: str | None
    suppressed: bool
    route_index: int | None


def choose_route(service: ServiceSpec, event: AlertEvent) -> RouteChoice:
    for i, route in enumerate(service.routes):
        m = route.match
        if m.severity and event.severity not in m.severity:
            continue
        if any(event.labels.get(k) != v for k, v in m.labels.items()):
            continue
        return RouteChoice(route.policy or service.policy, route.suppress, i)
    return RouteChoice(service.policy, False, None)
