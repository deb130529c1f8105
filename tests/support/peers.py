"""pytest face of koban.testing.peers: a missing peer skips, or fails when CI requires peers.

am_bin = peer_binary("alertmanager")
async with run_alertmanager(tmp_path, webhook_url=..., binary=am_bin) as am: ...
"""

from __future__ import annotations

import os

import pytest

from koban.testing.configs import AlertmanagerTarget, blackbox_scrape_config
from koban.testing.peers import (
    reload_prometheus,
    run_alertmanager,
    run_blackbox,
    run_nginx,
    run_prometheus,
)
from koban.testing.process import BINARY_CANDIDATES, Peer, PeerStartError, find_binary

__all__ = [
    "AlertmanagerTarget",
    "Peer",
    "PeerStartError",
    "blackbox_scrape_config",
    "peer_binary",
    "peers_required",
    "reload_prometheus",
    "run_alertmanager",
    "run_blackbox",
    "run_nginx",
    "run_prometheus",
]


def peers_required() -> bool:
    return os.environ.get("KOBAN_REQUIRE_PEERS") == "1"


def peer_binary(name: str) -> str:
    """Path of the peer's binary (``alertmanager``, ``prometheus``, ``blackbox``, ``nginx``).

    Skips the test when it is missing, except under KOBAN_REQUIRE_PEERS=1 (CI), where a missing
    peer is a broken environment and must fail rather than quietly test nothing.
    """
    found = find_binary(name)
    if found is not None:
        return found
    names = " or ".join(BINARY_CANDIDATES.get(name, (name,)))
    reason = f"peer {name!r} not installed ({names} not on PATH); run `make peers` (scripts/install-peers.sh)"
    if peers_required():
        pytest.fail(f"KOBAN_REQUIRE_PEERS=1 but {reason}", pytrace=False)
    pytest.skip(reason)
