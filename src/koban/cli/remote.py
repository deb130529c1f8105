"""The CLI against a running koban, over its REST API, the way ``gh`` and ``kubectl`` work.

Where to talk: ``--url``, else ``KOBAN_URL``, else the file ``koban login`` writes
(``$XDG_CONFIG_HOME/koban/cli.yaml``, ``KOBAN_CLI_CONFIG`` to put it elsewhere). The token:
``KOBAN_TOKEN``, else that file. With neither a URL nor a token anywhere, the commands run locally
against the database, as they always did. The saved token is sent only to the URL it was saved
for: a ``--url`` naming another server does not receive it.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml

from koban import __version__

URL_ENV, TOKEN_ENV, FILE_ENV = "KOBAN_URL", "KOBAN_TOKEN", "KOBAN_CLI_CONFIG"
URL_OPTION: Any = typer.Option(
    None, "--url", help="A running koban to talk to (KOBAN_URL, or koban login); none: the local database."
)


class RemoteError(Exception):
    """Said to the user as it is, without a traceback."""


@dataclass(frozen=True, slots=True)
class Remote:
    url: str
    token: str


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    if env.get(FILE_ENV):
        return Path(env[FILE_ENV])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "koban" / "cli.yaml"


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def read_saved(path: Path) -> dict[str, str]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        raise RemoteError(f"{path}: cannot read it ({exc}); koban logout removes it") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("url", "token")):
        raise RemoteError(f"{path}: not a koban login (url and token); koban logout removes it")
    return {"url": data["url"], "token": data["token"]}


def save(path: Path, url: str, token: str) -> None:
    """Readable by its owner only (0600), like ``gh``'s hosts.yml: it holds a secret."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that existed keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump({"url": url, "token": token}, f, sort_keys=False)


def resolve(url_flag: str | None, env: Mapping[str, str] = os.environ) -> Remote | None:
    """Flags, then the environment, then the saved login; None: run locally."""
    saved = read_saved(config_path(env))
    url = url_flag or env.get(URL_ENV) or saved.get("url")
    if not url:
        if env.get(TOKEN_ENV):
            raise RemoteError(f"{TOKEN_ENV} is set but no server: give --url or {URL_ENV}")
        return None
    token = env.get(TOKEN_ENV) or (saved["token"] if saved and _same(saved["url"], url) else "")
    if not token:
        raise RemoteError(f"no token for {url}: koban login --url {url} --token …, or set {TOKEN_ENV}")
    return Remote(url.rstrip("/"), token)


def connect(url_flag: str | None) -> Remote | None:
    """``resolve`` for a command: a setup problem ends it with exit code 2."""
    try:
        return resolve(url_flag)
    except RemoteError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _user_agent() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        user = "?"
    # The server records config applied by this agent as coming through the CLI door.
    return f"koban-cli/{__version__} ({user})"


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text.strip()[:500] or r.reason_phrase
    detail = body.get("detail", body.get("error")) if isinstance(body, dict) else body
    if isinstance(detail, list):  # request validation: where and what
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg', d)}"
            if isinstance(d, dict)
            else str(d)
            for d in detail
        )
    return str(detail)


def call(remote: Remote, method: str, path: str, **kwargs: Any) -> Any:
    """One request; the answer's JSON. Refused or unreachable: the status and the server's message
    on stderr, exit code 1."""
    headers = {"Authorization": f"Bearer {remote.token}", "User-Agent": _user_agent()}
    headers.update(kwargs.pop("headers", {}))
    try:
        with httpx.Client(base_url=remote.url, timeout=30) as http:
            r = http.request(method, path, headers=headers, **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {remote.url}: {exc}", err=True)
        raise typer.Exit(1) from None
    if r.status_code >= 400:
        typer.echo(f"{r.status_code}: {_message(r)}", err=True)
        raise typer.Exit(1)
    try:
        return r.json()
    except ValueError:
        typer.echo(f"{r.status_code}: not a koban answer: {r.text[:200]}", err=True)
        raise typer.Exit(1) from None
