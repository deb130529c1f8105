"""``koban demo``: SQLite in ./data/demo, the example config, and a curl line to try."""

from __future__ import annotations

import os
from pathlib import Path

import typer

DEMO_KEY = "demo-key-change-me"


def _examples() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples" / "demo.yaml").exists():
            return parent / "examples"
    raise typer.BadParameter("examples/demo.yaml not found; run from a koban checkout")


def run_demo(port: int) -> None:
    os.environ.setdefault("KOBAN_DATA_DIR", str(Path("data/demo").resolve()))
    os.environ.setdefault("KOBAN_PORT", str(port))
    os.environ.setdefault("KOBAN_CONFIG_FILE", str(_examples() / "demo.yaml"))
    base = f"http://127.0.0.1:{os.environ['KOBAN_PORT']}"
    typer.echo(
        "\nkoban demo\n"
        f"  API docs:   {base}/docs\n"
        f"  incidents:  {base}/api/v1/incidents\n"
        "  send a critical alert (pages the channel, then alice, bob, carol in turn every 20 s):\n"
        f"    curl -s -X POST {base}/api/v1/ingest -H 'Authorization: Bearer {DEMO_KEY}' \\\n"
        "      -H 'Content-Type: application/json' \\\n"
        '      -d \'{"summary": "web-1 is down", "severity": "critical", "dedup_key": "web-1"}\'\n'
        f"  acknowledge it:\n    curl -s -X POST {base}/api/v1/incidents/1/acknowledge"
        ' -d \'{"actor": "bob"}\'\n'
    )
    from koban.cli.main import serve

    serve(host=None, port=None, config=None, worker=True, migrate=True)
