"""``python -m koban.fakes.twilio`` runs standalone with a persona file (as the demo starts it)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

from koban.fakes.twilio import PersonaBook
from koban.fakes.twilio.personas import Behavior
from koban.testing.ports import free_port

PERSONAS = """
default: busy
numbers:
  "+15550000001": ack
  "+15550000002": {behavior: answer, digits: "*1", answer_after: 3}
"""


def test_persona_file_accepts_presets_and_spelled_out_behaviour(tmp_path):
    path = tmp_path / "personas.yaml"
    path.write_text(PERSONAS)
    book = PersonaBook.load(path)
    assert book.for_number("+15550000001").digits == "1"
    assert book.for_number("+15550000002").answer_after == 3
    assert book.for_number("+19999999999").behavior is Behavior.BUSY


def test_simulator_runs_as_a_module_and_serves_the_inspection_endpoint(tmp_path):
    path = tmp_path / "personas.yaml"
    path.write_text(PERSONAS)
    port = free_port()
    args = ["--port", str(port), "--auth-token", "t", "--personas", str(path), "--speed", "10"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "koban.fakes.twilio", *args], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()  # printed once listening; pytest-timeout bounds a hang
        assert f"http://127.0.0.1:{port}" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/calls", timeout=5) as resp:
            assert resp.status == 200 and json.load(resp) == {"calls": []}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert proc.returncode == 0
