"""What the web pages are given: the app's deps (``request.app.state.deps``), seen through the
few fields the pages use."""

from __future__ import annotations

from typing import Any, Protocol

from starlette.requests import Request

from koban.core.clock import Clock
from koban.core.settings import Settings
from koban.db.engine import Database
from koban.paging.actions import Actions


class WebDeps(Protocol):
    db: Database
    clock: Clock
    settings: Settings
    actions: Actions

    @property
    def catalog(self) -> Any: ...

    async def refresh_catalog(self, force: bool = False) -> None: ...

    def wake(self) -> None: ...  # after committing work due now (schedule notices of a swap)


def deps_of(request: Request) -> WebDeps:
    deps: WebDeps = request.app.state.deps
    return deps
