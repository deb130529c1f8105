"""What the ingest edge is given by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from koban.catalog.deps import StoreDeps
from koban.core.metrics import Metrics
from koban.ingest.batcher import IngestBatcher
from koban.ingest.inbox import InboxWriter


@dataclass(eq=False)
class IngestDeps(StoreDeps):
    metrics: Metrics
    # Queued sources: the request's body is committed to the inbox; the drain makes incidents.
    inbox: InboxWriter
    # Generic JSON: the whole alert -> incident step is committed before the 202 (it names ids).
    batcher: IngestBatcher
