"""The app ``bench.auth_overhead`` serves: two routes that do the same nothing, one open and one
behind koban's real guard (API token or session cookie, looked up in a real SQLite database).

``KOBAN_BENCH_DB`` names the database (migrated, with the token and session already in it).
"""

from __future__ import annotations

import os

from fastapi import Depends, FastAPI

from koban.auth.guard import public, requires
from koban.auth.permissions import Scope
from koban.core.clock import SystemClock
from koban.db.engine import Database


class Deps:
    def __init__(self, url: str) -> None:
        self.db, self.clock = Database(url), SystemClock()


app = FastAPI()
app.state.deps = Deps(os.environ["KOBAN_BENCH_DB"])
app.state.has_users = True


@app.get("/open", dependencies=[Depends(public("the bench's baseline"))])
async def open_route() -> dict[str, int]:
    return {"n": 1}


@app.get("/guarded", dependencies=[Depends(requires(Scope.READ))])
async def guarded_route() -> dict[str, int]:
    return {"n": 1}
