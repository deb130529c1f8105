"""Build the Notification a channel sends from a delivery row, the incident and the catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from koban.catalog.snapshot import Catalog
from koban.channels.base import IncidentView, Notification, Recipient
from koban.channels.registry import CONTACT_FIELD
from koban.domain.on_call import on_call_names
from koban.paging.rows import ClaimedDelivery, IncidentRow
from koban.schedules.build import on_call


class Unreachable(ValueError):
    """The delivery can never be made as configured (no such channel, no contact address)."""


def incident_view(row: IncidentRow, public_url: str) -> IncidentView:
    def ts(v: float | None) -> datetime | None:
        return datetime.fromtimestamp(v, UTC) if v else None

    return IncidentView(
        id=row["id"],
        service=row["service_id"],
        summary=row["summary"],
        severity=row["severity"],
        status=row["status"],
        dedup_key=row["incident_key"],
        created_at=ts(row["created_at"]),  # type: ignore[arg-type]
        source=row.get("source") or "",
        details=row.get("details") or {},
        labels=row.get("labels") or {},
        links=tuple(row.get("links") or ()),
        url=f"{public_url}/incidents/{row['id']}",
        step=row.get("esc_step", 0),  # read when the channel shows escalation (Slack's buttons)
        loop=row.get("esc_loop", 0),
        acknowledged_by=row.get("acknowledged_by"),
        acknowledged_via=row.get("acknowledged_via"),
        acknowledged_at=ts(row.get("acknowledged_at")),
        resolved_at=ts(row.get("resolved_at")),
        alert_count=row.get("alert_count") or 1,
    )


def build_notification(
    delivery: ClaimedDelivery,
    incident: IncidentRow,
    catalog: Catalog,
    public_url: str,
    links: dict[str, str] | None = None,
) -> Notification:
    ch = catalog.channels.get(delivery["channel_id"])
    if ch is None:
        raise Unreachable(f"channel {delivery['channel_id']!r} is not configured")
    broken = catalog.broken_channels.get(ch.id)
    if broken:
        raise Unreachable(f"channel {ch.id!r} is broken: {broken}")
    person_id = delivery.get("person_id")
    person = catalog.people.get(person_id) if person_id else None
    field = CONTACT_FIELD.get(ch.type)
    address = ""
    if person_id and field:
        if person is None:
            raise Unreachable(f"person {person_id!r} is not configured")
        address = person.contacts.get(field, "")
        if not address:
            raise Unreachable(f"{person_id} has no {field} contact")
    recipient = Recipient(
        address=address,
        person=person_id,
        name=(person.name or person.id) if person else ch.id,
        language=person.language if person else "en-US",
        timezone=person.timezone if person else "UTC",
    )
    meta = delivery.get("meta") or {}
    return Notification(
        key=delivery["key"],
        kind=delivery["kind"],
        incident=incident_view(incident, public_url),
        recipient=recipient,
        channel=ch.id,
        config=(_with_on_call(ch.settings(), incident, catalog) if ch.type == "slack" else ch.settings()),
        step=delivery["step"],
        loop=delivery["loop"],
        links=links or {},
        previous=meta.get("previous", {}),
    )


def _with_on_call(config: dict[str, Any], incident: IncidentRow, catalog: Catalog) -> dict[str, Any]:
    """Channels that show who is on call get it from the frozen plan unless the config names them;
    a schedule target as of when the current step fired (the people it paged)."""
    if "on_call" in config:
        return config
    at = incident.get("esc_step_started_at")

    def schedule_people(ident: str) -> tuple[str, ...]:
        sched = catalog.schedules.get(ident)
        return on_call(sched, at, catalog).people if sched is not None and at is not None else ()

    names = on_call_names(
        incident.get("plan"),
        incident.get("esc_step", 0),
        incident.get("esc_loop", 0),
        catalog.people,
        schedule_people,
    )
    return {**config, "on_call": names} if names else config
