"""Slack interactivity wired into koban: signing secrets from config, Slack user -> koban person.

Secrets are read per request from the current catalog (every ``type: slack`` channel's
``signing_secret``) plus ``KOBAN_SLACK_SIGNING_SECRET``, so a config apply takes effect without a
restart. The clicked message itself is refreshed by koban's durable ``update`` deliveries that
the acknowledgement creates (chat.update in place + a thread reply), so no refresh hook is needed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from koban.channels.slack import SlackDeps, build_routes
from koban.channels.slack.settings import SlackSettings
from koban.config.model import Channel, Person

if TYPE_CHECKING:
    from koban.bootstrap.wiring.deps import Wired

SLACK_CONTACT = "slack"


def signing_secrets(channels: Mapping[str, Channel], env_secret: str) -> list[str]:
    """Pure: every distinct secret that may have signed a click, channel config first."""
    found = [str(c.settings().get("signing_secret") or "") for c in channels.values() if c.type == "slack"]
    out: list[str] = []
    for s in [*found, env_secret]:
        if s and s not in out:
            out.append(s)
    return out


def person_for_slack_user(people: Mapping[str, Person], user_id: str) -> str | None:
    """Pure: the koban person whose ``contacts.slack`` is this Slack user id (case-insensitive)."""
    wanted = user_id.strip().upper()
    if not wanted:
        return None
    for person in people.values():
        if person.contacts.get(SLACK_CONTACT, "").strip().upper() == wanted:
            return person.id
    return None


def routes(wired: Wired) -> list[BaseRoute]:
    settings = SlackSettings()
    env_secret = settings.signing_secret.get_secret_value()

    async def person_for_user(user_id: str) -> str | None:
        await wired.refresh_catalog()  # cheap fingerprint check: a person added a second ago is known
        return person_for_slack_user(wired.catalog.people, user_id)

    deps = SlackDeps(
        signing_secret="",
        signing_secrets=lambda: signing_secrets(wired.catalog.channels, env_secret),
        actions=wired.actions,
        person_for_user=person_for_user,
        clock=wired.clock.now,
        require_known_user=settings.require_known_user,
        language_of=lambda person: p.language if (p := wired.catalog.people.get(person)) else None,
    )
    return list(build_routes(deps))
