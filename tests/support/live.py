"""The real app served over HTTP on 127.0.0.1 from a thread, for clients that block (the CLI).

The System and uvicorn run on the thread's own event loop; ``Live.run`` hands that loop a
coroutine (making a login or a token) and waits for its answer.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from koban.auth import api_tokens
from koban.auth.permissions import Role, Scope
from koban.auth.store import create_token, create_user
from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.config.model import ConfigFile
from koban.testing.ports import free_port
from tests.support.admin import provision
from tests.support.system import running_system


@dataclass
class Live:
    url: str
    system: System
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def admin_token(self) -> str:
        return str(self.run(provision(self.system.db, self.system.clock.now())))

    def token(self, person: str, role: Role | None, scope: Scope) -> str:
        """A login for ``person`` with a global ``role`` (None: none yet), and a token of ``scope``."""
        issued = api_tokens.issue(secrets.token_bytes(24))

        async def make() -> None:
            now = self.system.clock.now()
            async with self.system.db.begin() as conn:
                await create_user(conn, person, now, password_hash=None, global_role=role)
                await create_token(conn, issued, now, person_id=person, name="t", scope=scope)

        self.run(make())
        return issued.text


class _Server(uvicorn.Server):
    """Says when it listens."""

    def __init__(self, config: uvicorn.Config, listening: threading.Event) -> None:
        super().__init__(config)
        self.listening = listening

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@contextmanager
def serving(db_url: str, cfg: ConfigFile, tmp_path: Any) -> Iterator[Live]:
    port = free_port()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        async with running_system(db_url, cfg, tmp_path) as k:
            app = create_app(k, manage_system=False)
            server = _Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"),
                started,
            )
            state.update(live=Live(f"http://127.0.0.1:{port}", k, asyncio.get_running_loop()), server=server)
            await server.serve()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # shown by the test, not lost in the thread
            state["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=thread_main, name="koban-live", daemon=True)
    thread.start()
    started.wait(60)
    if "error" in state or "live" not in state or not state["server"].started:
        raise RuntimeError(f"the app did not start: {state.get('error')!r}")
    try:
        yield state["live"]
    finally:
        state["server"].should_exit = True
        thread.join(30)
    if "error" in state:
        raise state["error"]
