"""Every file in examples/ is a koban config that checks (issue 17, item 6), and ``config check``
counts exactly the changes a first ``config apply`` of it reports (item 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from koban.cli.main import app as cli

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("**/*.y*ml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_checks_and_its_count_is_a_first_apply(path: Path, tmp_path, monkeypatch):
    monkeypatch.setenv("KOBAN_DATABASE_URL", f"sqlite:///{tmp_path / 'koban.db'}")
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOBAN_SECRET_KEY", "test")
    monkeypatch.setenv("KOBAN_CLI_CONFIG", str(tmp_path / "cli-login.yaml"))
    monkeypatch.delenv("KOBAN_URL", raising=False)
    monkeypatch.delenv("KOBAN_TOKEN", raising=False)
    run = CliRunner().invoke
    checked = run(cli, ["config", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    [objects] = re.findall(r"ok \((\d+) objects\)", checked.output)
    applied = run(cli, ["config", "apply", str(path)])
    assert applied.exit_code == 0, applied.output
    [changes] = re.findall(r"^(\d+) change\(s\)$", applied.output, re.M)
    assert int(objects) == int(changes), applied.output
