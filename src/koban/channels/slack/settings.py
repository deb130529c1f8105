"""Process-wide Slack settings from ``KOBAN_SLACK_*`` variables (per-channel keys live in the config)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOBAN_SLACK_", extra="ignore", frozen=True)

    signing_secret: SecretStr = Field(
        SecretStr(""),
        description="Verifies button clicks (the Slack app's Signing Secret), besides any channel's "
        "signing_secret key.",
    )
    api_base_url: str = Field(
        "",
        description="Web API root for bot-mode channels without base_url (the fake Slack in the demo).",
    )
    require_known_user: bool = Field(
        False,
        description="Refuse clicks from Slack users no koban person lists as contacts.slack.",
    )
