"""A real single-node OpenSearch for the log tests (peers/opensearch, docs/logs.md).

Built once with ``mvn -q package`` (skipped when target/ is newer than the pom), started on a free
loopback port for the whole session, stopped by its PID. Without Java or Maven the tests skip,
unless KOBAN_REQUIRE_PEERS=1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from koban.testing.ports import free_port
from tests.support.peers import peers_required

PEER_DIR = Path(__file__).resolve().parents[2] / "peers" / "opensearch"


def _unavailable(reason: str) -> None:
    if peers_required():
        pytest.fail(f"KOBAN_REQUIRE_PEERS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def build() -> None:
    stamp = PEER_DIR / "target" / "lib"
    if stamp.is_dir() and stamp.stat().st_mtime > (PEER_DIR / "pom.xml").stat().st_mtime:
        return
    subprocess.run(["mvn", "-q", "package"], cwd=PEER_DIR, check=True, timeout=900)
    stamp.touch()


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("java") is None or shutil.which("mvn") is None:
        _unavailable("OpenSearch peer needs java and mvn (Java 17, Maven); run scripts/install-peers.sh")
    try:
        build()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"building peers/opensearch failed: {exc}")
    home = tmp_path_factory.mktemp("opensearch")
    log_path = home / "node.log"
    port = free_port()
    env = {**os.environ, "OS_HOME": str(home / "home"), "OS_HTTP_PORT": str(port)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(PEER_DIR / "run.sh")], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180  # a busy 2-core machine: usually 5-10 s
        while "READY " not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"OpenSearch did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
