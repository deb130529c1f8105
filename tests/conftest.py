"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (a fresh database each)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

# Loopback HTTP/TLS targets and a closed port, for every test that probes something (api, cli,
# monitoring, probes); a fixture starts its server only when a test asks for it.
pytest_plugins = ["tests.support.server_fixtures", "tests.support.opensearch"]
PG_ENV = "KOBAN_TEST_POSTGRES_URL"


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("KOBAN_REQUIRE_POSTGRES"):
        raise RuntimeError(f"KOBAN_REQUIRE_POSTGRES is set but {PG_ENV} is not")
    return url


def _pg_exec(admin_url: str, sql: str) -> None:
    import psycopg

    u = make_url(admin_url)
    with psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname=u.database or "postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated template database; each test copies it (fast) instead of migrating again."""
    admin = _pg_admin_url()
    if not admin:
        yield None
        return
    from koban.db.migrate import upgrade

    name = f"koban_tpl_{secrets.token_hex(4)}"
    _pg_exec(admin, f"CREATE DATABASE {name}")
    upgrade(make_url(admin).set(database=name).render_as_string(hide_password=False))
    yield name
    _pg_exec(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path, pg_template) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'koban.db'}"
        return
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    name = f"koban_t_{secrets.token_hex(5)}"
    _pg_exec(admin, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    _pg_exec(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
