"""schemathesis against the whole app's /openapi.json, in process (ASGI): no operation answers 5xx.

The app runs its real lifespan (system, migrations, worker off) on a SQLite file seeded with a
config that has an integration of every source type; requests carry a valid integration key so
the ingest operations reach their parsers instead of stopping at 401.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from koban.bootstrap.app import create_app
from koban.bootstrap.system import System
from koban.core.settings import Settings
from tests.ingest import support as s
from tests.support.system import running_system


def _seed(url: str, tmp: Path) -> None:
    async def main() -> None:
        async with running_system(url, s.edge_config(), tmp):
            pass

    asyncio.run(main())


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp / 'koban.db'}"
    _seed(url, tmp)
    system = System(
        Settings(database_url=url, data_dir=tmp, secret_key="test-secret", sqlite_synchronous="NORMAL")
    )
    app = create_app(system, start_worker=False)
    with warnings.catch_warnings():
        # FastAPI warns about operation ids shared by a GET and POST on one function; not ours to judge here.
        warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
        loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield loaded
    asgi.shutdown_lifespans()


def test_no_operation_answers_5xx(api_schema: schemathesis.BaseSchema) -> None:
    failures: dict[str, str] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same examples every run: CI must not pass or fail by chance
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=s.bearer("generic"), checks=[not_a_server_error])

        try:
            call()
        except Exception as exc:  # every failing operation is reported, not just the first
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())
