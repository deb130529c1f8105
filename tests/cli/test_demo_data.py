"""``koban demo`` (make run) starts on fresh data and says so; ``--keep`` reuses the previous run's;
a directory the demo did not make is never wiped (issue 17, item 2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from koban.cli import demo
from koban.cli.main import app as cli


def _previous_run(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "koban.db").write_text("the previous run's incidents")
    (data_dir / demo.MARKER).write_text("")


def test_a_second_run_starts_fresh_and_says_so(tmp_path: Path):
    data_dir = tmp_path / "demo"
    assert demo.prepare_data_dir(data_dir, keep=False) == f"data: fresh, in {data_dir}"
    (data_dir / "koban.db").write_text("the first run's incidents")
    said = demo.prepare_data_dir(data_dir, keep=False)
    assert "fresh" in said and "previous run's was removed" in said and "--keep" in said
    assert not (data_dir / "koban.db").exists()


def test_keep_reuses_the_previous_runs_data(tmp_path: Path):
    data_dir = tmp_path / "demo"
    _previous_run(data_dir)
    assert "reusing the previous run's" in demo.prepare_data_dir(data_dir, keep=True)
    assert (data_dir / "koban.db").read_text() == "the previous run's incidents"


def test_a_directory_the_demo_did_not_make_is_never_wiped(tmp_path: Path):
    data_dir = tmp_path / "mine"
    data_dir.mkdir()
    (data_dir / "koban.db").write_text("production, perhaps")
    said = demo.prepare_data_dir(data_dir, keep=False)
    assert "never wiped" in said
    assert (data_dir / "koban.db").read_text() == "production, perhaps"
    assert not (data_dir / demo.MARKER).exists()


def test_the_default_demo_directory_of_an_older_run_is_the_demos(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = tmp_path / "data" / "demo"
    old.mkdir(parents=True)
    (old / "koban.db").write_text("made before the marker existed")
    assert "previous run's was removed" in demo.prepare_data_dir(Path("data/demo"), keep=False)


def test_the_command_offers_keep():
    assert "--keep" in CliRunner().invoke(cli, ["demo", "--help"]).output
