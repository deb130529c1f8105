"""``koban demo``: SQLite in ./data/demo, the example config, the Twilio simulator, and a curl line to try."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path

import typer

DEMO_KEY = "demo-key-change-me"
SIM_TOKEN = "demo-twilio-token"  # the simulator's auth token: only ever talks to 127.0.0.1


def _examples() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples" / "demo.yaml").exists():
            return parent / "examples"
    raise typer.BadParameter("examples/demo.yaml not found; run from a koban checkout")


def start_twilio_simulator(examples: Path, koban_url: str) -> str:
    """The Twilio simulator as a child process (killed when the demo exits); returns its URL."""
    from koban.fakes.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_NUMBER
    from koban.testing.ports import free_port

    port = free_port()
    args = [sys.executable, "-m", "koban.fakes.twilio", "--port", str(port), "--auth-token", SIM_TOKEN]
    args += [
        "--personas",
        str(examples / "demo-personas.yaml"),
        "--sms-url",
        f"{koban_url}/twilio/sms/inbound",
    ]
    proc = subprocess.Popen(args)
    atexit.register(proc.terminate)
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


def run_demo(port: int) -> None:
    os.environ.setdefault("KOBAN_DATA_DIR", str(Path("data/demo").resolve()))
    os.environ.setdefault("KOBAN_PORT", str(port))
    os.environ.setdefault("KOBAN_CONFIG_FILE", str(_demo_config(int(os.environ["KOBAN_PORT"]))))
    base = f"http://127.0.0.1:{os.environ['KOBAN_PORT']}"
    sim = start_twilio_simulator(_examples(), base)
    from koban.fakes.slack.demo import click_hint, start_fake_slack

    slack = start_fake_slack(base)
    typer.echo(
        "\nkoban demo\n"
        f"  API docs:   {base}/docs\n"
        f"  incidents:  {base}/api/v1/incidents\n"
        f"  Twilio simulator: {sim}/_sim/calls (alice never answers, bob is busy, carol presses 1)\n"
        "  send a critical alert (posts to the team channel, then phones alice, bob, carol in turn):\n"
        f"    curl -s -X POST {base}/api/v1/ingest -H 'Authorization: Bearer {DEMO_KEY}' \\\n"
        "      -H 'Content-Type: application/json' \\\n"
        '      -d \'{"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"}\'\n'
        f"  the timeline (calls, key presses, who acknowledged):\n    curl -s {base}/api/v1/incidents/1\n"
        + click_hint(slack)
    )
    from koban.cli.serve_cmd import serve

    serve(host=None, port=None, config=None, worker=True, migrate=True)
