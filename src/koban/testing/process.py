"""One peer binary as a child process: start on a free port, wait until ready, stop without orphans.

Plain ``subprocess.Popen`` rather than asyncio subprocesses: a Popen is not tied to an event loop,
so a peer started under one loop (a pytest-asyncio test) can be killed from anywhere and leaves
no transport behind to raise ResourceWarning when that loop closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from koban.testing.ports import LOOPBACK, free_port

# Debian names first, upstream tarball names second; KOBAN_PEER_<NAME> overrides both.
BINARY_CANDIDATES: dict[str, tuple[str, ...]] = {
    "alertmanager": ("prometheus-alertmanager", "alertmanager"),
    "prometheus": ("prometheus",),
    "blackbox": ("prometheus-blackbox-exporter", "blackbox_exporter"),
    "nginx": ("nginx",),
}
# nginx lives in /usr/sbin, which is not on every PATH (non-root shells, some CI images).
_EXTRA_DIRS = ("/usr/sbin", "/usr/local/sbin")
_PR_SET_PDEATHSIG = 1


class PeerMissing(LookupError):
    """The peer's binary is not installed (see scripts/install-peers.sh)."""


class PeerStartError(RuntimeError):
    """The peer exited or never became ready; the message carries the tail of its log."""


def find_binary(name: str) -> str | None:
    override = os.environ.get(f"KOBAN_PEER_{name.upper()}")
    if override:
        return override
    search = os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_DIRS])
    for candidate in BINARY_CANDIDATES.get(name, (name,)):
        found = shutil.which(candidate, path=search)
        if found:
            return found
    return None


def require_binary(name: str) -> str:
    found = find_binary(name)
    if found is None:
        tried = ", ".join(BINARY_CANDIDATES.get(name, (name,)))
        raise PeerMissing(f"{name}: none of [{tried}] on PATH; run scripts/install-peers.sh")
    return found


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test runner is SIGKILLed, the kernel
    # kills the peer too, so no orphan keeps a port or a CPU busy.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Peer:
    name: str
    port: int
    workdir: Path
    log_path: Path
    config_path: Path | None
    process: subprocess.Popen[bytes] = field(repr=False)
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        """``host:port``, the form Prometheus static_configs want."""
        return f"{self.host}:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, then SIGKILL to the whole process group after ``grace`` seconds; idempotent."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                deadline = time.monotonic() + grace
                # Polling: a Popen offers nothing to await, and a waiter thread could outlive the test.
                while self.process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            # Also reached on cancellation (a test timeout): never leave the peer running.
            self.kill()
        return self.process.returncode

    def kill(self) -> None:
        """Synchronous last resort: SIGKILL the process group (nginx workers included) and reap."""
        if self.process.poll() is None:
            _killpg(self.process.pid)
        self.process.wait()
        # Workers whose master exited on SIGTERM are already gone; this catches any straggler.
        _killpg(self.process.pid)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def start_peer(
    name: str,
    argv: Callable[[int], Sequence[str]],
    workdir: Path,
    *,
    config_path: Path | None = None,
    ready_path: str = "/-/ready",
    ready_within: float = 30.0,
    attempts: int = 3,
) -> Peer:
    """Start ``argv(port)`` on a free port and return once ``GET ready_path`` answers 200.

    Retries on a fresh port when the chosen one was taken between probing and binding.
    """
    for attempt in range(1, attempts + 1):
        port = free_port()
        peer = spawn(name, argv(port), workdir, port=port, config_path=config_path)
        try:
            await _wait_ready(peer, ready_path, ready_within)
            return peer
        except PeerStartError as exc:
            peer.kill()
            if attempt < attempts and "address already in use" in str(exc).lower():
                continue
            raise
        except BaseException:
            peer.kill()
            raise
    raise AssertionError("unreachable")


def spawn(
    name: str, argv: Sequence[str], workdir: Path, *, port: int = 0, config_path: Path | None = None
) -> Peer:
    """Start ``argv`` in its own process group, logging to ``workdir/<name>.log``, killed with us."""
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log:
        # Forked from the calling (event loop) thread on purpose: PR_SET_PDEATHSIG fires when the
        # forking *thread* exits, so asyncio.to_thread would kill the peer right away.
        process = subprocess.Popen(  # noqa: ASYNC220
            list(argv),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return Peer(name, port, workdir, log_path, config_path, process)


async def _wait_ready(peer: Peer, ready_path: str, within: float) -> None:
    deadline = time.monotonic() + within
    last = "no answer"
    client_timeout = aiohttp.ClientTimeout(total=1.0)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        while time.monotonic() < deadline:
            if not peer.running():
                raise PeerStartError(
                    f"{peer.name} exited with {peer.process.returncode} before ready:\n{peer.log_tail()}"
                )
            try:
                async with session.get(peer.url + ready_path) as resp:
                    if resp.status == 200:
                        return
                    last = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.05)
    raise PeerStartError(f"{peer.name} not ready after {within}s ({last}):\n{peer.log_tail()}")
