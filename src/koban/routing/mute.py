"""Why an alert is muted, in Alertmanager's pipeline order: inhibited, then maintenance (time
intervals), then silenced. Returns the first reason as a sentence the timeline can show.

Resolutions and acknowledgements are never muted (Keep does the same): muting exists to stop
pages, and dropping a resolve would leave an incident open forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from koban.domain.alerts import AlertAction
from koban.routing import inhibition, maintenance
from koban.routing.inhibition import ActiveAlert, InhibitRule
from koban.routing.maintenance import MaintenanceWindow
from koban.routing.silences import Silence, silenced_by


def mute_reason(
    *,
    action: AlertAction,
    fingerprint: str,
    labels: Mapping[str, str],
    service_id: str,
    now: datetime,
    silences: Iterable[Silence] = (),
    windows: Iterable[MaintenanceWindow] = (),
    inhibit_rules: Iterable[InhibitRule] = (),
    firing: Iterable[ActiveAlert] = (),
) -> str | None:
    if action is not AlertAction.TRIGGER:
        return None
    hit = inhibition.inhibited_by(inhibit_rules, fingerprint, labels, firing)
    if hit is not None:
        return inhibition.reason(*hit)
    windows_now = maintenance.active_windows(windows, service_id, now)
    if windows_now:
        return maintenance.reason(windows_now[0])
    silenced = silenced_by(silences, labels, now)
    if silenced:
        return silenced[0].reason()
    return None
