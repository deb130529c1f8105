"""Run the real ``koban`` command as subprocesses against a test database and a recording receiver.

Shared by the end-to-end, crash and two-worker tests. Config is written as YAML and applied with
``koban config apply`` semantics by ``serve`` (KOBAN_CONFIG_FILE) or by the test's own system.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import yaml

from koban.catalog.snapshot import hash_key

KEY = "e2e-key-0123456789abcdef"
SECRET = "hook-secret"
CONSOLE_PREFIX = "[sent-here]"
KOBAN = str(Path(sys.executable).with_name("koban"))


def paging_config(
    hook_url: str, *, escalate_after: str | list[str] = "1s", steps: int = 3, console: bool = False
) -> dict[str, Any]:
    """Step 0 pages the team webhook, then alice, then bob (each through the same webhook).

    ``console``: step 0 also prints to the log of whichever process sends it (who did the work)."""
    timeouts = [escalate_after] * steps if isinstance(escalate_after, str) else escalate_after
    people = [
        {"id": p, "name": p.title(), "contacts": {"webhook": hook_url}, "notify": ["hook"]}
        for p in ("alice", "bob", "carol")
    ]
    targets: list[dict[str, str]] = [{"channel": "hook"}, {"person": "alice"}, {"person": "bob"}]
    step_targets: list[list[dict[str, str]]] = [[t] for t in targets[:steps]]
    channels: list[dict[str, Any]] = [{"id": "hook", "type": "webhook", "url": hook_url, "secret": SECRET}]
    if console:
        channels.append({"id": "log", "type": "console", "prefix": CONSOLE_PREFIX})
        step_targets[0].append({"channel": "log"})
    return {
        "people": people,
        "channels": channels,
        "policies": [
            {
                "id": "page",
                "steps": [
                    {"notify": ts, "escalate_after": after}
                    for ts, after in zip(step_targets, timeouts, strict=True)
                ],
            }
        ],
        "services": [
            {
                "id": "web",
                "policy": "page",
                "integrations": [{"id": "web-generic", "type": "generic", "key_hashes": [hash_key(KEY)]}],
            }
        ],
    }


def expected_keys(incident_id: int, steps: int = 3) -> set[str]:
    targets = ["hook", "hook/alice", "hook/bob"][:steps]
    return {f"{incident_id}:{i}:{t}:0" for i, t in enumerate(targets)}


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def koban_env(db_url: str, data_dir: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOBAN_")}
    env.update(
        KOBAN_DATABASE_URL=db_url,
        KOBAN_DATA_DIR=str(data_dir),
        KOBAN_SECRET_KEY="e2e-secret",
        KOBAN_SQLITE_SYNCHRONOUS="NORMAL",
        KOBAN_LOG_LEVEL="WARNING",
    )
    env.update({f"KOBAN_{k.upper()}": str(v) for k, v in settings.items()})
    return env


async def start(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            KOBAN, *args, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        out.close()  # the child holds its own copy


async def stop(proc: asyncio.subprocess.Process, grace: float = 15) -> int:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    # uvicorn re-raises SIGTERM after its graceful shutdown: that ending is a clean one too.
    return 0 if proc.returncode == -signal.SIGTERM else proc.returncode or 0


async def wait_healthy(base: str, proc: asyncio.subprocess.Process, log: Path, within: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as s:
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"koban exited {proc.returncode}:\n{tail(log)}")
            try:
                async with s.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"koban did not become healthy:\n{tail(log)}")


async def wait_for(predicate: Any, within: float, what: str, every: float = 0.1) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text()[-chars:] if log.exists() else ""


# -- the same for the browser tests, whose Playwright sync API wants plain threads, not a loop --------


def answers(url: str) -> bool:
    """``url`` answers 200 now (a server still starting refuses or times out)."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop_popen(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds: only the process the test started."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
