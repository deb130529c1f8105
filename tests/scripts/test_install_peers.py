"""scripts/install-peers.sh stops only the nginx its own install started, by PID (issue 17, item 8).

Run as "root" with a stub apt-get that starts an nginx and writes its pid file, beside an nginx the
user already runs: the user's survives, the package's is stopped, and no name-based kill is used
(stub pkill/killall record any call and kill nothing)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-peers.sh"


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(0o755)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped child stays a zombie until reaped: that is dead too.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_only_the_installed_nginx_is_stopped_by_pid(tmp_path: Path) -> None:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    fake_nginx = tmp_path / "nginx-bin" / "nginx"  # named nginx, so `pkill -x nginx` would match it
    fake_nginx.parent.mkdir()
    shutil.copy(shutil.which("sleep") or "/bin/sleep", fake_nginx)
    for tool in ("bash", "cat", "sleep", "nohup"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    pid_file = tmp_path / "nginx.pid"
    _stub(bin_dir, "id", "echo 0")
    _stub(bin_dir, "pkill", f'echo "pkill $*" >> {log}')
    _stub(bin_dir, "killall", f'echo "killall $*" >> {log}')
    # The package's start: an nginx in the background, its PID in the pid file.
    _stub(
        bin_dir,
        "apt-get",
        f'if [ "$1" = install ]; then {fake_nginx} 300 >/dev/null 2>&1 & echo $! > {pid_file}; fi',
    )
    users = subprocess.Popen([str(fake_nginx), "300"])
    try:
        env = {
            "PATH": str(bin_dir),
            "KOBAN_NGINX_PID_FILE": str(pid_file),
            "HOME": str(tmp_path),
            "KOBAN_SKIP_OPENSEARCH_BUILD": "1",  # its apt-get stub would start another "nginx"
        }
        out = subprocess.run(
            ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        started = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while _alive(started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(started), out.stdout + out.stderr
        assert users.poll() is None, "the user's nginx was stopped"
        assert not log.exists(), log.read_text()
    finally:
        users.kill()
        users.wait()
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), 9)


def test_an_nginx_already_running_with_its_pid_file_is_left_alone(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    _stub(bin_dir, "id", "echo 0")
    _stub(bin_dir, "apt-get", "true")
    users = subprocess.Popen(["sleep", "300"])
    pid_file = tmp_path / "nginx.pid"
    pid_file.write_text(f"{users.pid}\n")
    try:
        env = {
            "PATH": str(bin_dir),
            "KOBAN_NGINX_PID_FILE": str(pid_file),
            "KOBAN_SKIP_OPENSEARCH_BUILD": "1",
        }
        subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, timeout=60, check=True)
        time.sleep(0.2)
        assert users.poll() is None
    finally:
        users.kill()
        users.wait()
