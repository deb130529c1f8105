"""Async context managers that run the real peers on free loopback ports.

    async with run_alertmanager(tmp_path, webhook_url=recorder.url) as am:
        ...  # am.url, am.port, am.log_tail()

Each peer gets its own directory (under ``workdir`` when given, so logs survive a failed test;
otherwise a temporary one removed afterwards) and is stopped on exit even if the body raises.
``binary`` defaults to the installed one; a missing binary raises ``PeerMissing``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from koban.testing.configs import (
    DEFAULT_BLACKBOX_MODULES,
    AlertmanagerTarget,
    Duration,
    alertmanager_config,
    go_duration,
    nginx_config,
    prometheus_config,
)
from koban.testing.ports import LOOPBACK
from koban.testing.process import Peer, require_binary, start_peer

DEFAULT_NGINX_FILES: dict[str, bytes] = {"health": b"ok\n", "tiny": b"x"}


@asynccontextmanager
async def run_alertmanager(
    workdir: Path | None = None,
    *,
    webhook_url: str | None = None,
    send_resolved: bool = True,
    group_by: Sequence[str] = ("alertname",),
    group_wait: Duration = 1,
    group_interval: Duration = 1,
    repeat_interval: Duration = "1h",
    resolve_timeout: Duration = "5m",
    binary: str | None = None,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[Peer]:
    config = alertmanager_config(
        webhook_url=webhook_url,
        send_resolved=send_resolved,
        group_by=group_by,
        group_wait=group_wait,
        group_interval=group_interval,
        repeat_interval=repeat_interval,
        resolve_timeout=resolve_timeout,
    )
    exe = binary or require_binary("alertmanager")
    async with _peer_dir("alertmanager", workdir) as path:
        config_path = _write_yaml(path / "alertmanager.yml", config)

        def argv(port: int) -> list[str]:
            return [
                exe,
                f"--config.file={config_path}",
                f"--storage.path={path / 'data'}",
                f"--web.listen-address={LOOPBACK}:{port}",
                "--cluster.listen-address=",  # empty: no gossip, no extra 0.0.0.0:9094 listener
                *extra_args,
            ]

        async with _running("alertmanager", argv, path, config_path) as peer:
            yield peer


@asynccontextmanager
async def run_prometheus(
    workdir: Path | None = None,
    *,
    scrape_interval: Duration = 1,
    evaluation_interval: Duration = 1,
    rule_files: Sequence[str | Path] = (),
    rules: Sequence[Mapping[str, Any]] = (),
    alertmanagers: Sequence[str | AlertmanagerTarget] = (),
    scrape_configs: Sequence[Mapping[str, Any]] = (),
    resend_delay: Duration | None = None,
    binary: str | None = None,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[Peer]:
    """``rules`` are rule groups (``{"name": ..., "rules": [...]}``) written to a rules.yml for you.

    Prometheus finds its alertmanagers ~5 s after start and drops alerts sent before that until the
    next re-send (``resend_delay``, default 1 m): pass ``resend_delay=1`` when a rule fires at once.
    """
    exe = binary or require_binary("prometheus")
    async with _peer_dir("prometheus", workdir) as path:
        files = [str(f) for f in rule_files]
        if rules:
            files.append(str(_write_yaml(path / "rules.yml", {"groups": [dict(g) for g in rules]})))
        config = prometheus_config(
            scrape_interval=scrape_interval,
            evaluation_interval=evaluation_interval,
            rule_files=files,
            alertmanagers=alertmanagers,
            scrape_configs=scrape_configs,
        )
        config_path = _write_yaml(path / "prometheus.yml", config)

        def argv(port: int) -> list[str]:
            return [
                exe,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={path / 'data'}",
                f"--web.listen-address={LOOPBACK}:{port}",
                "--web.enable-lifecycle",
                *(
                    [f"--rules.alert.resend-delay={go_duration(resend_delay)}"]
                    if resend_delay is not None
                    else []
                ),
                *extra_args,
            ]

        async with _running("prometheus", argv, path, config_path) as peer:
            yield peer


@asynccontextmanager
async def run_blackbox(
    workdir: Path | None = None,
    *,
    modules: Mapping[str, Any] | None = None,
    binary: str | None = None,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[Peer]:
    exe = binary or require_binary("blackbox")
    async with _peer_dir("blackbox", workdir) as path:
        config_path = _write_yaml(
            path / "blackbox.yml", {"modules": dict(modules or DEFAULT_BLACKBOX_MODULES)}
        )

        def argv(port: int) -> list[str]:
            return [
                exe,
                f"--config.file={config_path}",
                f"--web.listen-address={LOOPBACK}:{port}",
                *extra_args,
            ]

        async with _running("blackbox", argv, path, config_path) as peer:
            yield peer


@asynccontextmanager
async def run_nginx(
    workdir: Path | None = None,
    *,
    files: Mapping[str, bytes | str] = DEFAULT_NGINX_FILES,
    worker_processes: int | str = 1,
    binary: str | None = None,
) -> AsyncIterator[Peer]:
    """Static files from ``<dir>/www`` (``files`` maps URL path to content); ``/-/ready`` answers 200."""
    exe = binary or require_binary("nginx")
    async with _peer_dir("nginx", workdir) as path:
        www = path / "www"
        for rel, content in files.items():
            target = www / rel.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (path / "temp" / kind).mkdir(parents=True, exist_ok=True)
        config_path = path / "nginx.conf"
        as_root = os.geteuid() == 0

        def argv(port: int) -> list[str]:
            # The port is only known here, so the config is rewritten on each start attempt.
            config_path.write_text(
                nginx_config(port=port, workdir=str(path), as_root=as_root, worker_processes=worker_processes)
            )
            # -e: the error log before the config is read (default is under /var/log).
            return [exe, "-p", str(path), "-c", str(config_path), "-e", str(path / "nginx.log")]

        async with _running("nginx", argv, path, config_path) as peer:
            yield peer


async def reload_prometheus(peer: Peer) -> None:
    """Re-read ``peer.config_path`` (and its rule files) through the lifecycle API."""
    async with aiohttp.ClientSession() as session, session.post(peer.url + "/-/reload") as resp:
        if resp.status != 200:
            raise RuntimeError(f"prometheus reload failed: HTTP {resp.status} {await resp.text()}")


@asynccontextmanager
async def _running(
    name: str, argv: Callable[[int], Sequence[str]], path: Path, config_path: Path
) -> AsyncIterator[Peer]:
    peer = await start_peer(name, argv, path, config_path=config_path)
    try:
        yield peer
    finally:
        await peer.stop()


@asynccontextmanager
async def _peer_dir(name: str, workdir: Path | None) -> AsyncIterator[Path]:
    if workdir is not None:
        # A fresh subdirectory: two peers of one kind may share a test's tmp_path.
        yield Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
        return
    path = Path(tempfile.mkdtemp(prefix=f"koban-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False))
    return path
