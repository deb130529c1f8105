"""``koban demo``: SQLite in ./data/demo, the example config, the Twilio simulator, and a curl line to try."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer

DEMO_KEY = "demo-key-change-me"
DEMO_ADMIN = "carol"  # a person of examples/demo.yaml; the demo's administrator
DEMO_PASSWORD = "demo-password-change-me"
SIM_TOKEN = "demo-twilio-token"  # the simulator's auth token: only ever talks to 127.0.0.1
DEFAULT_DATA_DIR = Path("data/demo")
MARKER = ".koban-demo"  # written into a data dir the demo made: only such a dir is ever wiped


def prepare_data_dir(data_dir: Path, *, keep: bool) -> str:
    """Start the demo on fresh data unless told to keep it; returns the line that says which.

    A second run on the first's database dedups the README's alert into an incident acknowledged
    long ago, and nothing pages: so each run starts fresh. Only the demo's own directory (the
    default, or one holding the demo's marker) is wiped, never a directory the user pointed at."""
    ours = data_dir.resolve() == DEFAULT_DATA_DIR.resolve() or (data_dir / MARKER).exists()
    if not (data_dir / "koban.db").exists():
        if ours or not data_dir.exists() or not any(data_dir.iterdir()):
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / MARKER).write_text(
                "koban demo data: each `koban demo` starts it afresh unless --keep\n"
            )
        return f"data: fresh, in {data_dir}"
    if not ours:
        return (
            f"data: reusing {data_dir} (KOBAN_DATA_DIR names a directory the demo did not make: never wiped)"
        )
    if keep:
        return f"data: reusing the previous run's, in {data_dir} (without --keep a run starts fresh)"
    shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    (data_dir / MARKER).write_text("koban demo data: each `koban demo` starts it afresh unless --keep\n")
    return f"data: fresh, in {data_dir} (the previous run's was removed; --keep reuses it)"


def _examples() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples" / "demo.yaml").exists():
            return parent / "examples"
    raise typer.BadParameter("examples/demo.yaml not found; run from a koban checkout")


def start_twilio_simulator(koban_url: str) -> str:
    """The Twilio simulator as a child process (killed when the demo exits); returns its URL.
    Who answers comes from the simulator's own file (fakes/twilio/demo_personas.yaml): it is not a
    koban config, so it does not live among examples/."""
    from koban.fakes.lifeline import start_child
    from koban.fakes.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER, DEMO_PERSONAS
    from koban.testing.ports import free_port

    port = free_port()
    args = ["--port", str(port), "--auth-token", SIM_TOKEN, "--personas", str(DEMO_PERSONAS)]
    start_child("koban.fakes.twilio", [*args, "--sms-url", f"{koban_url}/twilio/sms/inbound"])
    url = f"http://127.0.0.1:{port}"
    os.environ.setdefault("KOBAN_TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID)
    os.environ.setdefault("KOBAN_TWILIO_AUTH_TOKENS", SIM_TOKEN)
    os.environ.setdefault("KOBAN_TWILIO_FROM_NUMBER", DEFAULT_NUMBER)
    os.environ.setdefault("KOBAN_TWILIO_API_BASE_URL", url)
    return url


def _demo_config(port: int) -> Path:
    """The demo config; on another port, a copy whose self-monitor probes that port."""
    shipped = _examples() / "demo.yaml"
    if port == 8080:
        return shipped
    copy = Path(os.environ["KOBAN_DATA_DIR"]) / "demo.yaml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(shipped.read_text().replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    return copy


def _demo_admin() -> str:
    """Migrate, give the demo's administrator a login (once), and issue a fresh API token."""
    import asyncio
    import secrets

    import sqlalchemy as sa

    from koban.auth import api_tokens
    from koban.auth.passwords import hash_password
    from koban.auth.permissions import Role, Scope
    from koban.auth.store import create_token, create_user
    from koban.core.clock import SystemClock
    from koban.core.settings import load_settings
    from koban.db.engine import Database
    from koban.db.migrate import upgrade
    from koban.db.schema_auth import users

    settings = load_settings()
    upgrade(settings.effective_database_url, "head", settings.sqlite_synchronous)
    issued = api_tokens.issue(secrets.token_bytes(24))

    async def main() -> None:
        db, now = Database(settings.effective_database_url), SystemClock().now()
        try:
            async with db.begin() as conn:
                known = await conn.execute(
                    sa.select(users.c.person_id).where(users.c.person_id == DEMO_ADMIN)
                )
                if known.first() is None:
                    hashed = hash_password(DEMO_PASSWORD)
                    await create_user(conn, DEMO_ADMIN, now, password_hash=hashed, global_role=Role.ADMIN)
                await create_token(conn, issued, now, person_id=DEMO_ADMIN, name="demo", scope=Scope.ADMIN)
        finally:
            await db.dispose()

    asyncio.run(main())
    # The README's curl lines read it from here (TOKEN=$(cat data/demo/admin-token)): no copying.
    path = settings.data_dir / "admin-token"
    path.touch(mode=0o600)
    path.write_text(issued.text + "\n")
    return issued.text


def run_demo(port: int, keep: bool = False) -> None:
    os.environ.setdefault("KOBAN_DATA_DIR", str(DEFAULT_DATA_DIR.resolve()))
    data = prepare_data_dir(Path(os.environ["KOBAN_DATA_DIR"]), keep=keep)
    os.environ.setdefault("KOBAN_PORT", str(port))
    os.environ.setdefault("KOBAN_CONFIG_FILE", str(_demo_config(int(os.environ["KOBAN_PORT"]))))
    base = f"http://127.0.0.1:{os.environ['KOBAN_PORT']}"
    sim = start_twilio_simulator(base)
    from koban.fakes.slack.demo import click_hint, start_fake_slack

    slack = start_fake_slack(base)
    token = _demo_admin()
    typer.echo(
        "\nkoban demo\n"
        f"  {data}\n"
        f"  sign in:    {base}/login  as {DEMO_ADMIN} / {DEMO_PASSWORD}\n"
        f"  status page (public, no login): {base}/status/demo\n"
        f"  API docs:   {base}/docs\n"
        f"  API token (this run, administrator): {token}\n"
        f"    (also in {os.environ['KOBAN_DATA_DIR']}/admin-token)\n"
        f"  incidents:  curl -s {base}/api/v1/incidents -H 'Authorization: Bearer {token}'\n"
        f"  Twilio simulator: {sim}/_sim/calls (alice never answers, bob is busy twice, carol presses 1)\n"
        "  send a critical alert (posts to the team channel, then phones alice, bob, carol in turn):\n"
        f"    curl -s -X POST {base}/api/v1/ingest -H 'Authorization: Bearer {DEMO_KEY}' \\\n"
        "      -H 'Content-Type: application/json' \\\n"
        '      -d \'{"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"}\'\n'
        "  the timeline (calls, key presses, who acknowledged):\n"
        f"    curl -s {base}/api/v1/incidents/1 -H 'Authorization: Bearer {token}'\n" + click_hint(slack)
    )
    from koban.cli.serve_cmd import serve

    serve(host=None, port=None, config=None, worker=True, migrate=True)
