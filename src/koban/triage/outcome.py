"""What became of one alert event, and the signature of the step that decides it.

Its own module so that grouping, whose flushes go back through that step, can be handed the step
(``process``) instead of importing the module that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from koban.catalog.snapshot import Catalog
    from koban.db.uow import UnitOfWork
    from koban.domain.alerts import AlertEvent


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    incident_id: int | None
    status: str | None
    created: bool = False
    ignored: str | None = None


class ProcessAlerts(Protocol):
    """``triage.alerts.process_service_alerts``: events of one service -> incidents."""

    async def __call__(
        self,
        uow: UnitOfWork,
        catalog: Catalog,
        service_id: str,
        events: list[AlertEvent],
        now: float,
        *,
        integration_id: str | None = None,
        record: bool = True,
    ) -> list[AlertOutcome]: ...
