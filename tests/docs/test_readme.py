"""Every command block of the README runs, as printed, against a started demo (issue 17, items 1, 5).

``koban demo`` (what ``make run`` starts) runs in a fresh working directory on a free port; each
```bash block then runs with ``bash -e`` from that directory. The only changes to the text are
those a reader makes for their own machine: the port, and in "Running it for real" the database
and secret key (the demo's), the integration key (the demo's) and paths to the checkout's
examples/. ``make`` lines are checked with ``make -n`` (``make test`` is the whole suite), and the
long-running ``koban serve``/``koban worker`` with ``--help``. curl answers that are not 2xx fail
the block (a shim adds ``--fail-with-body``: the old README's ack without a Content-Type got 422).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from koban.testing.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
KOBAN = Path(sys.executable).with_name("koban")
BLOCK_TIMEOUT = 180  # the story waits ~30 s for carol's key press; a busy machine gets room


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Path, int, dict[str, str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOBAN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    shim = tmp_path / "bin"
    shim.mkdir()
    curl = shutil.which("curl")
    if curl is None or not KOBAN.exists():
        pytest.skip("needs curl and the koban command")
    (shim / "curl").write_text(f'#!/bin/sh\nexec {curl} --fail-with-body "$@"\n')
    (shim / "curl").chmod(0o755)
    (shim / "koban").symlink_to(KOBAN)
    env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    cwd = tmp_path / "checkout"
    cwd.mkdir()
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [str(KOBAN), "demo", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the simulators are its children: stopped with it
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "demo.log").read_text()) from None
                time.sleep(0.3)
        yield cwd, port, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def as_a_reader_would(block: str, cwd: Path, port: int) -> str:
    demo_db = f"sqlite:///{(cwd / 'data' / 'demo' / 'koban.db').resolve()}"
    block = block.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    block = block.replace("postgresql://koban@db/koban", demo_db)
    block = block.replace("KOBAN_SECRET_KEY=...", "KOBAN_SECRET_KEY=$(cat data/demo/secret.key)")
    block = block.replace("--key KEY", "--key demo-key-change-me")
    block = block.replace(" examples/", f" {ROOT}/examples/")
    lines = []
    for line in block.splitlines():
        command = line.split("#")[0].strip()
        if command.startswith("make "):
            line = f"make -n -C {ROOT} {command.removeprefix('make ')} >/dev/null"
        elif command in ("koban serve", "koban worker"):
            line = f"{command} --help >/dev/null"
        lines.append(line)
    return "\n".join(lines)


def test_the_readme_has_its_story_and_reference_blocks():
    blocks = bash_blocks(README.read_text())
    assert len(blocks) == 3
    assert "make run" in blocks[0] and "/api/v1/ingest" in blocks[1] and "koban serve" in blocks[2]


def test_every_readme_command_block_runs_and_the_story_is_what_it_says(demo):
    cwd, port, env = demo
    env = env | {"KOBAN_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    outputs = []
    for block in bash_blocks(README.read_text()):
        script = "set -eo pipefail\n" + as_a_reader_would(block, cwd, port)
        done = subprocess.run(
            ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT
        )
        assert done.returncode == 0, f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        outputs.append(done.stdout)
    story = outputs[1]
    # What the README says happens: alice not reached (no answer), bob busy twice (one retry),
    # carol answers and presses 1, which acknowledges.
    kinds = re.findall(r'"kind":"([^"]+)","actor":"?(\w+|null)', story)
    assert ("call.no-answer", "alice") in kinds
    assert kinds.count(("call.busy", "bob")) == 2
    assert ("key.pressed", "carol") in kinds and ("acknowledged", "carol") in kinds
    assert not (cwd / "data" / "koban.db").exists()  # the CLI lines used the database they were given
