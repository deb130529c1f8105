"""The log tests' database: migrated, on SQLite and PostgreSQL (``db_url``)."""

import pytest

from koban.db.engine import Database
from koban.db.migrate import upgrade
from tests.support.outbound import _close_outbound_session  # noqa: F401  (autouse fixture)


@pytest.fixture
async def db(db_url):
    upgrade(db_url)
    database = Database(db_url, sqlite_synchronous="NORMAL")
    yield database
    await database.dispose()
