"""Wake the other processes on one SQLite file when due work is committed (the SQLite twin of
``due_signal.py``).

SQLite has no LISTEN/NOTIFY, so a ``koban probe`` that opens an incident, or a second ``koban serve``
whose edge commits inbox rows, used to reach the worker only at its next poll (``poll_seconds``, 0.5 s):
a quarter of a second on the median page. All processes on one SQLite file share one host, so a unix
datagram socket per waiting process, in a folder beside the database (``koban.db.wake/``), is enough:
after a commit, ``notify()`` sends one byte to each socket there. Like the PostgreSQL signal it is a
latency hint, never the queue: a lost datagram (a full buffer, a process just starting) costs one poll.
Sockets of dead processes refuse the byte and are removed by whoever finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("koban.local_wake")
RESCAN_SECONDS = 1.0  # how stale the list of peers may be: a process newer than this polls once
MAX_SOCKET_PATH = 100  # sockaddr_un's sun_path is 108 bytes on Linux, including the NUL


def wake_dir(url: str) -> Path | None:
    """The folder of wake sockets for a SQLite file URL; None for PostgreSQL or an in-memory SQLite."""
    u = make_url(url)
    if not u.drivername.startswith("sqlite") or not u.database or u.database == ":memory:":
        return None
    db = Path(u.database).resolve()
    return db.with_name(db.name + ".wake")


class LocalWake:
    """One process's end: ``listen(on_wake)`` to be woken, ``notify()`` after a commit to wake others."""

    def __init__(self, folder: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self._clock = clock
        self._own: Path | None = None
        self._rx: socket.socket | None = None
        self._tx: socket.socket | None = None
        self._peers: list[str] = []
        self._scanned_at = float("-inf")

    # -- waking others ---------------------------------------------------------------------------------

    def notify(self) -> None:
        for path in self._current_peers():
            try:
                self._sender().sendto(b"!", path)
            except (ConnectionRefusedError, FileNotFoundError):
                self._forget(path)  # its process is gone
            except (BlockingIOError, OSError):
                pass  # a full buffer means a wake is already pending there

    def _sender(self) -> socket.socket:
        if self._tx is None:
            self._tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._tx.setblocking(False)
        return self._tx

    def _current_peers(self) -> list[str]:
        now = self._clock()
        if now - self._scanned_at >= RESCAN_SECONDS:
            self._scanned_at = now
            own = str(self._own) if self._own else None
            try:
                self._peers = [e.path for e in os.scandir(self.folder) if e.path != own]
            except FileNotFoundError:
                self._peers = []
        return self._peers

    def _forget(self, path: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(ValueError):
            self._peers.remove(path)

    # -- being woken ---------------------------------------------------------------------------------

    def listen(self, on_wake: Callable[[], None]) -> bool:
        """Bind this process's socket and call ``on_wake`` on the running loop for each datagram.
        False (and polling only) where a socket cannot be made, e.g. a path too long for AF_UNIX."""
        own = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        if len(os.fsencode(own)) > MAX_SOCKET_PATH:
            log.info("wake socket path too long (%s); other processes' work is found by polling", own)
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            rx.setblocking(False)
            rx.bind(str(own))
        except OSError as exc:
            log.info("no wake socket (%s); other processes' work is found by polling", exc)
            return False
        self._own, self._rx = own, rx

        def readable() -> None:
            woke = False
            with contextlib.suppress(BlockingIOError, OSError):
                while rx.recv(64):  # drain everything queued: one wake covers them all
                    woke = True
            if woke:
                on_wake()

        asyncio.get_running_loop().add_reader(rx.fileno(), readable)
        return True

    def close(self) -> None:
        if self._rx is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._rx.fileno())
            self._rx.close()
            self._rx = None
        if self._own is not None:
            with contextlib.suppress(OSError):
                self._own.unlink()
            self._own = None
        if self._tx is not None:
            self._tx.close()
            self._tx = None
