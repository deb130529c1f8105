"""Settings from ``KOBAN_*`` environment variables, parsed once into typed values.

Every setting has a default and help text; a bad value fails at start with a message naming the
variable. Secrets are ``SecretStr`` so they never print.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from koban.core.sealing import Sealer


class SettingsError(RuntimeError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOBAN_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("data"), description="Where the default SQLite file and state live.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql://user@host/db (default: SQLite).",
    )
    host: str = Field("127.0.0.1", description="Listen address of the HTTP server.")
    port: int = Field(8080, ge=1, le=65535, description="Listen port of the HTTP server.")
    public_url: str = Field("", description="Base URL people and vendors reach koban at (links, callbacks).")
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Signs links and tokens. Required outside the demo; generated into data_dir otherwise.",
    )
    secret_key_previous: SecretStr = Field(
        SecretStr(""),
        description="The key before the last rotation: sealed secrets still open with it until re-sealed.",
    )
    sqlite_synchronous: str = Field(
        "FULL",
        description="SQLite synchronous pragma: FULL survives power loss, NORMAL only process crashes.",
    )
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest accepted inbound request body.")
    ingest_max_backlog_rows: int = Field(
        100_000,
        ge=0,
        description="Deliveries waiting in the ingest inbox past which queued sources get 429 with"
        " Retry-After until the worker catches up (0: no limit).",
    )
    ingest_max_backlog_age_seconds: float = Field(
        300.0,
        ge=0,
        description="How long the oldest waiting delivery may wait before queued sources get 429 with"
        " Retry-After (0: no limit).",
    )
    # Short, and renewed every third of it while the work goes on: a dead instance's pages move to
    # another within lease + poll seconds, while a slow one (a vendor taking 20 s) keeps its own.
    lease_seconds: float = Field(
        3.0,
        gt=0,
        description="How long a claim lasts unless its worker renews it (every third of this) while working.",
    )
    poll_seconds: float = Field(0.5, gt=0, description="How often workers look for due work when not woken.")
    # 256: a burst is sent in cycles of this many pages, each one claim and one record transaction;
    # 64 made those commits most of a 6,000-page burst. Memory stays bounded (a few KB per page in
    # flight), per-channel pacing still applies (voice CPS), and it stays near the outbound pool (200).
    worker_concurrency: int = Field(256, ge=1, description="Deliveries sent at once per process.")
    max_delivery_attempts: int = Field(
        8, ge=1, description="Transient failures retried this often before giving up."
    )
    instance_name: str = Field("", description="Names this process in leases and logs (default: host:pid).")
    config_file: Path | None = Field(
        None, description="YAML configuration applied at start (config as code)."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    probe_enabled: bool = Field(True, description="koban serve also runs the prober for probe_location.")
    probe_location: str = Field(
        "local", min_length=1, max_length=64, description="The location this process probes monitors for."
    )
    probe_concurrency: int = Field(500, ge=1, description="Probes in flight at once per prober.")
    probe_raw_retention_days: float = Field(
        7.0, gt=0, description="Raw probe failures and state changes are kept this long."
    )
    probe_raw_success_retention_days: float = Field(
        0.25, gt=0, description="Raw successful probe results are kept this long (minute rollups hold them)."
    )
    probe_minute_retention_days: float = Field(
        1.5, gt=0, description="Per-minute probe rollups are kept this long (24 h graphs read them)."
    )
    probe_hour_retention_days: float = Field(
        31.0, gt=0, description="Per-hour probe rollups are kept this long (graphs of up to 31 days)."
    )
    probe_rollup_retention_days: float = Field(
        400.0, gt=0, description="Per-day probe rollups are kept this long."
    )
    oidc_issuer: str = Field(
        "", description="Single sign-on when the config has no sso: section: the provider's issuer URL."
    )
    oidc_client_id: str = Field("", description="Single sign-on: koban's client id at the provider.")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="Single sign-on: the client secret.")
    oidc_group_claim: str = Field("groups", description="Single sign-on: the claim that lists groups.")

    @field_validator("sqlite_synchronous")
    @classmethod
    def _sync(cls, v: str) -> str:
        v = v.upper()
        if v not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
        return v

    @field_validator("database_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("only sqlite:/// and postgresql:// URLs are supported")
        return v

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'koban.db').resolve()}"

    @cached_property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def sealer(self) -> Sealer:
        """Seals channel secrets at rest (core/sealing.py) with the secret key."""
        return _sealer(self)

    def signing_key(self) -> bytes:
        """The secret key, or one generated once into data_dir (demo and single-box installs)."""
        if self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()


def _sealer(settings: Settings) -> Sealer:
    previous = settings.secret_key_previous.get_secret_value().encode()
    return Sealer([settings.signing_key(), *([previous] if previous else [])])


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "KOBAN_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
