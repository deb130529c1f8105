"""What the REST routes are given: the shared store deps, the incident actions and the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from koban.catalog.deps import StoreDeps
from koban.core.metrics import Metrics
from koban.paging.actions import Actions


@dataclass(eq=False)
class ApiDeps(StoreDeps):
    actions: Actions  # the lifecycle port plus what the API alone offers (reassign)
    metrics: Metrics


def deps_of(request: Request) -> ApiDeps:
    """The deps the app was built with (``bootstrap/app.py`` puts them on ``app.state``)."""
    deps: ApiDeps = request.app.state.deps
    return deps
