"""Cross-object checks for status pages: ids and addresses unique, every service and monitor named
exists, and a page's address is one a URL can carry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from koban.config.model_status import SLUG

if TYPE_CHECKING:
    from koban.config.model import ConfigFile

Loc = tuple[Any, ...]


def status_problems(cfg: ConfigFile) -> Iterator[tuple[Loc, str]]:
    services = {s.id for s in cfg.services}
    monitors = {m.id for m in cfg.monitors}
    ids = Counter(p.id for p in cfg.status_pages)
    addresses = Counter(p.address for p in cfg.status_pages)
    for pi, page in enumerate(cfg.status_pages):
        at: Loc = ("status_pages", pi)
        if ids[page.id] > 1:
            yield (*at, "id"), f"duplicate id {page.id!r}"
        if page.slug is None and not SLUG.match(page.address):
            yield (*at, "id"), f"{page.id!r} cannot be an address: add a slug (a-z, 0-9, '-')"
        elif addresses[page.address] > 1:
            yield (*at, "slug"), f"another status page answers at /status/{page.address} too"
        for gi, group in enumerate(page.groups):
            for ii, item in enumerate(group.items):
                where = (*at, "groups", gi, "items", ii)
                if item.service is not None and item.service not in services:
                    yield (*where, "service"), f"unknown service {item.service!r}"
                if item.monitor is not None and item.monitor not in monitors:
                    yield (*where, "monitor"), f"unknown monitor {item.monitor!r}"
