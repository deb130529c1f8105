"""Signed one-click links wired into koban: minting them for a page, and the ``/l/<token>`` routes.

A link is bound to the person a delivery goes to and to its incident, expires after ``LINK_TTL``
and works once (``DbNonceStore``: a row per used nonce, shared by every instance). Only pages to a
person through a channel that shows links get them; team channels act through their own buttons.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from koban.channels.actions import IncidentAction
from koban.channels.links import LinkDeps, LinkSigner, build_routes
from koban.db.tokens import DbNonceStore
from koban.domain.escalation import Status
from koban.paging.rows import ClaimedDelivery, IncidentRow

if TYPE_CHECKING:
    from koban.bootstrap.wiring.deps import Wired

# Long enough to act on a page read the next morning, short enough that an old mail is harmless.
LINK_TTL = 24 * 3600.0
LINK_PREFIX = "/l"
LINK_CHANNEL_TYPES = frozenset({"slack", "email", "sms"})
LINK_ACTIONS = (IncidentAction.ACKNOWLEDGE, IncidentAction.RESOLVE)


def signer_for(wired: Wired) -> LinkSigner:
    return LinkSigner(wired.signing_key.decode("utf-8", "replace"))


def nonce_for(delivery: ClaimedDelivery, action: IncidentAction) -> str:
    """Deterministic per (delivery, attempt, action): a resend carries fresh links, a link stays unique."""
    raw = f"{delivery['key']}|{delivery.get('attempts', 0)}|{action}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def mint_links(
    signer: LinkSigner,
    public_url: str,
    delivery: ClaimedDelivery,
    incident: IncidentRow,
    now: float,
    ttl: float = LINK_TTL,
    actions: tuple[IncidentAction, ...] = LINK_ACTIONS,
) -> dict[str, str]:
    """Pure: ``{"acknowledge": url, "resolve": url}`` (``actions``) for a page to a person, else ``{}``."""
    person = delivery.get("person_id")
    if not person or delivery.get("channel_type") not in LINK_CHANNEL_TYPES:
        return {}
    if incident.get("status") == Status.RESOLVED:
        return {}
    out = {}
    for action in actions:
        if action is IncidentAction.ACKNOWLEDGE and incident.get("status") == Status.ACKNOWLEDGED:
            continue
        token = signer.sign(
            person=str(person),
            incident_id=int(incident["id"]),
            action=action,
            expires_at=now + ttl,
            nonce=nonce_for(delivery, action),
            # The step the page was sent for: an Escalate from a step already left is refused.
            seen=(delivery["step"], delivery["loop"]),
            task=(incident.get("details") or {}).get("kind") == "task",  # its page says Start / Done
        )
        out[str(action)] = f"{public_url}{LINK_PREFIX}/{token}"
    return out


def links_for(wired: Wired, delivery: ClaimedDelivery, incident: IncidentRow) -> dict[str, str]:
    return mint_links(signer_for(wired), wired.public_url, delivery, incident, wired.clock.now())


def routes(wired: Wired) -> list[BaseRoute]:
    deps = LinkDeps(
        signer=signer_for(wired),
        store=DbNonceStore(wired.db, wired.clock),
        actions=wired.actions,
        clock=wired.clock.now,
        prefix=LINK_PREFIX,
    )
    return list(build_routes(deps))
