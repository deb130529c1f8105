"""Processes on one SQLite file wake each other after a commit (db/local_wake.py)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from koban.db.local_wake import LocalWake, wake_dir


def test_wake_dir_sits_beside_the_sqlite_file(tmp_path: Path) -> None:
    assert wake_dir(f"sqlite:///{tmp_path}/koban.db") == tmp_path / "koban.db.wake"
    assert wake_dir("sqlite+aiosqlite:///:memory:") is None
    assert wake_dir("postgresql://postgres@127.0.0.1/test") is None


async def test_a_commit_in_one_process_wakes_the_worker_of_another(tmp_path: Path) -> None:
    worker, prober = LocalWake(tmp_path / "w"), LocalWake(tmp_path / "w")
    woken = asyncio.Event()
    assert worker.listen(woken.set)
    try:
        prober.notify()
        await asyncio.wait_for(woken.wait(), 5)
    finally:
        worker.close()
        prober.close()
    assert not list((tmp_path / "w").iterdir()), "a closed listener leaves no socket behind"


async def test_a_process_does_not_wake_itself(tmp_path: Path) -> None:
    me = LocalWake(tmp_path / "w")
    woken = asyncio.Event()
    assert me.listen(woken.set)
    try:
        me.notify()
        await asyncio.sleep(0.05)
        assert not woken.is_set()
    finally:
        me.close()


def test_the_socket_of_a_dead_process_is_removed_by_whoever_finds_it(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    dead = folder / "123-dead.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(dead))
    s.close()  # bound, then gone: the path stays, nobody reads it
    finder = LocalWake(folder)
    finder.notify()
    finder.close()
    assert not dead.exists()


async def test_a_path_too_long_for_a_unix_socket_falls_back_to_polling(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120)
    assert not LocalWake(deep).listen(lambda: None)


@pytest.mark.parametrize("listeners", [1, 3])
async def test_every_waiting_process_is_woken(tmp_path: Path, listeners: int) -> None:
    folder = tmp_path / "w"
    ends = [LocalWake(folder) for _ in range(listeners)]
    events = [asyncio.Event() for _ in ends]
    for end, ev in zip(ends, events, strict=True):
        assert end.listen(ev.set)
    committer = LocalWake(folder)
    try:
        committer.notify()
        await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in events)), 5)
    finally:
        committer.close()
        for end in ends:
            end.close()
