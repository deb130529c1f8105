"""schemathesis against the whole app's /openapi.json, in process (ASGI), as an administrator, with
every check (``--checks all``: no 5xx, statuses, content types, headers and bodies as documented,
schema-valid data accepted, invalid data refused, ``Allow`` on 405...) as the repository's
``schemathesis.toml`` configures them (the rules a schema cannot state, per operation). The CLI runs
the same with a large budget (``make schemathesis``).

The app runs its real lifespan (system, migrations, worker off) on a SQLite file seeded with a
config that has an integration of every source type. REST operations carry an admin token, so the
guarded ones run past 401 into their handlers; ingest and heartbeat pings carry a valid integration
key instead, so they reach their parsers.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi

from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.core.settings import Settings
from tests.ingest import support as s
from tests.support.admin import provision_url
from tests.support.system import running_system

CONFIG = Path(__file__).parents[2] / "schemathesis.toml"


def _seed(url: str, tmp: Path) -> str:
    async def main() -> str:
        async with running_system(url, s.edge_config(), tmp) as k, s.client(k) as c:
            made = await c.post("/api/v1/ingest", json={"summary": "disk full"}, headers=s.bearer("generic"))
            assert made.status_code == 202  # incident 1, for the examples that name it
        return await provision_url(url, time.time())

    return asyncio.run(main())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[schemathesis.BaseSchema, str]]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'koban.db'}"
    admin = _seed(url, tmp)
    system = System(
        Settings(database_url=url, data_dir=tmp, secret_key="test-secret", sqlite_synchronous="NORMAL")
    )
    app = create_app(system, start_worker=False)
    with warnings.catch_warnings():
        # FastAPI warns about operation ids shared by a GET and POST on one function; not ours to judge here.
        warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
        loaded = schemathesis.openapi.from_asgi(
            "/openapi.json", app, config=schemathesis.Config.from_path(CONFIG)
        )
    yield loaded, admin
    asgi.shutdown_lifespans()


def _headers(path: str, admin: str) -> dict[str, str]:
    """Alert senders and heartbeat pings prove themselves with an integration key; the rest of the
    API with a token."""
    if path.startswith(("/api/v1/ingest", "/api/v2/alerts", "/v2/enqueue")) or "/ping" in path:
        return s.bearer("generic")
    return {"Authorization": f"Bearer {admin}"}


def _revokes_the_admin(case: schemathesis.Case) -> bool:
    """Revoking the admin's own token would turn every later example into a 401: that one example
    is skipped (the operation itself still runs with every other id)."""
    return case.path == "/api/v1/tokens/{token_id}" and str(case.path_parameters.get("token_id")) == "1"


# Objects the seeded config has, by the collection a path names: every other example of an
# operation with path parameters names one of them, so it reaches a real object, not only a 404.
KNOWN = {
    "people": "alice",
    "rotations": "primary",
    "channels": "log",
    "policies": "default",
    "services": "web",
    "integrations": "in-kibana",  # not in-generic: revoking its key would stop the ingest examples
    "channel-status": "log",
}
REAL = {"incident_id": 1, "person": "alice", "contact": "phone"}


def _name_real_objects(case: schemathesis.Case) -> None:
    params = case.path_parameters or {}
    for name in params:
        if name == "ident":
            collection = case.path.removeprefix("/api/v1/").split("/")[0]
            params[name] = KNOWN.get(collection, params[name])
        elif name in REAL:
            params[name] = REAL[name]


def _explore(operation: Any, headers: dict[str, str], statuses: set[int]) -> None:
    """A few examples of one operation, each checked; the statuses it answered go in ``statuses``."""
    examples: list[schemathesis.Case] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,  # the same examples every run: CI must not pass or fail by chance
    )
    def call(case: schemathesis.Case) -> None:
        if case.method.upper() == "DELETE" and _revokes_the_admin(case):
            return
        examples.append(case)
        if len(examples) % 2 == 0:
            _name_real_objects(case)
        statuses.add(case.call_and_validate(headers=headers).status_code)

    call()


def test_no_operation_answers_5xx_or_anything_undocumented(
    api: tuple[schemathesis.BaseSchema, str],
) -> None:
    schema, admin = api
    failures: dict[str, str] = {}
    seen: dict[str, set[int]] = {}  # the statuses each operation answered
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletes last (they may remove the service whose key the ingest examples use), and the
    # ingest examples first.
    operations.sort(
        key=lambda op: (op.method.upper() == "DELETE", _headers(op.path, admin) != s.bearer("generic"))
    )
    for operation in operations:
        try:
            _explore(operation, _headers(operation.path, admin), seen.setdefault(operation.label, set()))
        # schemathesis raises a BaseExceptionGroup; every failing operation is reported, not just the first
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
    # The admin token works: no REST operation stopped every example at the door.
    # (An integration key in the path is generated at random there: its 401 is the right answer.)
    stuck = [op for op, codes in seen.items() if codes and codes <= {401, 403} and "{key}" not in op]
    assert stuck == [], "operations that refused the admin token every time"
