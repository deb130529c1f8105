from collections.abc import AsyncIterator

import pytest

from tests.support.recorder import Recorder


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    async with Recorder.running() as rec:
        yield rec
