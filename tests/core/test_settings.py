"""Settings come from ``KOBAN_*`` variables; a bad one is refused at start, named, with the reason."""

from __future__ import annotations

import os
import stat

import pytest

from koban.core.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _no_koban_environment(monkeypatch):
    """Only what a test sets counts, whatever the shell running the suite exports."""
    for name in [n for n in os.environ if n.startswith("KOBAN_")]:
        monkeypatch.delenv(name)


def test_environment_variables_are_parsed_into_typed_values(monkeypatch, tmp_path):
    monkeypatch.setenv("KOBAN_PORT", "9090")
    monkeypatch.setenv("KOBAN_SQLITE_SYNCHRONOUS", "normal")
    monkeypatch.setenv("KOBAN_PROBE_ENABLED", "false")
    monkeypatch.setenv("KOBAN_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert (s.port, s.sqlite_synchronous, s.probe_enabled) == (9090, "NORMAL", False)
    assert s.effective_database_url == f"sqlite:///{(tmp_path / 'koban.db').resolve()}"
    assert s.effective_public_url == "http://127.0.0.1:9090"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("KOBAN_PORT", "70000", "KOBAN_PORT: Input should be less than or equal to 65535"),
        ("KOBAN_SQLITE_SYNCHRONOUS", "sometimes", "KOBAN_SQLITE_SYNCHRONOUS: Value error, must be one of"),
        (
            "KOBAN_DATABASE_URL",
            "mysql://db/x",
            "KOBAN_DATABASE_URL: Value error, only sqlite:/// and postgresql://",
        ),
        ("KOBAN_LEASE_SECONDS", "0", "KOBAN_LEASE_SECONDS: Input should be greater than 0"),
    ],
)
def test_a_bad_variable_is_named_with_the_reason(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match="invalid settings") as err:
        load_settings()
    assert says in str(err.value)


def test_public_url_loses_its_trailing_slash():
    assert load_settings(public_url="https://koban.example/").effective_public_url == "https://koban.example"


def test_without_a_secret_key_one_is_generated_once_and_kept_private(tmp_path):
    first = load_settings(data_dir=tmp_path).signing_key()
    again = load_settings(data_dir=tmp_path).signing_key()
    assert first == again and len(first) >= 48
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path, secret_key="s3cret").signing_key() == b"s3cret"
