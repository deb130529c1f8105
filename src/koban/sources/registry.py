"""Kind → source class. Adding a vendor is a module plus one line here."""

from __future__ import annotations

from koban.sources.alertmanager import AlertmanagerSource
from koban.sources.base import Source
from koban.sources.generic import GenericSource
from koban.sources.grafana import GrafanaSource
from koban.sources.kibana import KibanaSource
from koban.sources.pagerduty import PagerDutySource
from koban.sources.prometheus import PrometheusSource
from koban.sources.zabbix import ZabbixSource

SOURCES: dict[str, type[Source]] = {
    cls.kind: cls
    for cls in (
        AlertmanagerSource,
        PrometheusSource,
        GrafanaSource,
        KibanaSource,
        ZabbixSource,
        PagerDutySource,
        GenericSource,
    )
}

# Kinds whose HTTP answer needs no incident id: the edge validates and commits the body to the inbox
# (ingest/inbox.py) and the worker's drain turns it into incidents. Generic JSON stays synchronous:
# its 202 carries the incident ids (issue 2).
QUEUED_KINDS = frozenset({"alertmanager", "prometheus", "grafana", "kibana", "zabbix", "pagerduty"})


def get_source(kind: str) -> Source:
    """A ready parser for ``kind``; KeyError names the known kinds."""
    try:
        return SOURCES[kind]()
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known: {', '.join(sorted(SOURCES))}") from None
