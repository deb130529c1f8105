"""Close koban.core.outbound's per-loop aiohttp session after each test (autouse where imported)."""

from collections.abc import AsyncIterator

import pytest

from koban.core import outbound


@pytest.fixture(autouse=True)
async def _close_outbound_session() -> AsyncIterator[None]:
    # outbound keeps one aiohttp session per loop; each test has its own loop, so close it per test.
    yield
    await outbound.close()
