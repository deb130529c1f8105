"""The live incident feed: one poll however many tabs listen, a change told to each, and no poll
left running once the last tab is gone."""

from __future__ import annotations

import asyncio

from koban.web.live import LiveFeed, _events


class Table:
    def __init__(self) -> None:
        self.version = (1, 10.0)
        self.reads = 0

    async def read(self) -> tuple[int, float]:
        self.reads += 1
        return self.version


async def test_every_listening_tab_hears_of_a_new_incident_from_one_poll() -> None:
    table = Table()
    feed = LiveFeed(table.read, every=0.01)
    tabs = [_events(feed) for _ in range(3)]
    assert [await anext(tab) for tab in tabs] == ["retry: 3000\n\n"] * 3
    # The first version is told too: the page may have been rendered before the poll began.
    assert [await anext(tab) for tab in tabs] == ["id: 1:10.0\nevent: incidents\ndata: changed\n\n"] * 3
    table.version = (2, 11.0)
    heard = await asyncio.wait_for(asyncio.gather(*(anext(tab) for tab in tabs)), 10)
    assert heard == ["id: 2:11.0\nevent: incidents\ndata: changed\n\n"] * 3
    reads = table.reads
    await asyncio.sleep(0.1)
    assert table.reads - reads < 30, "one poll for all tabs, not one each"
    for tab in tabs:
        await tab.aclose()
    await asyncio.sleep(0.05)
    stopped = table.reads
    await asyncio.sleep(0.1)
    assert table.reads == stopped, "nobody listens: the poll stops"


async def test_a_tab_that_reconnects_is_not_told_again_what_it_already_knew() -> None:
    table = Table()
    feed = LiveFeed(table.read, every=0.01)
    first = _events(feed)
    await anext(first)
    assert (await anext(first)).startswith("id: 1:10.0\n")
    again = _events(feed, last_id="1:10.0")  # the browser's Last-Event-ID
    await anext(again)
    table.version = (3, 12.0)
    assert (await asyncio.wait_for(anext(again), 10)).startswith("id: 3:12.0\n")
    await first.aclose()
    await again.aclose()


async def test_a_quiet_feed_sends_keepalives_and_a_failing_read_keeps_the_tabs() -> None:
    calls = 0

    async def flaky() -> tuple[int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("database away for a moment")
        return (1,)

    feed = LiveFeed(flaky, every=0.01)
    async with feed.listen():
        assert await feed.next_change(5)
        assert not await feed.next_change(0.1)  # the failed read changed nothing
        assert calls >= 3
