"""Reference checks for the routing sections: ids unique, services named by heartbeats and
maintenance windows exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

Loc = tuple[Any, ...]


def routing_problems(cfg: Any) -> Iterator[tuple[Loc, str]]:
    services = {s.id for s in cfg.services}
    for section in ("silences", "maintenance", "inhibit_rules", "heartbeats"):
        ids = [o.id for o in getattr(cfg, section)]
        counts = Counter(ids)
        for i, ident in enumerate(ids):
            if counts[ident] > 1:
                yield (section, i, "id"), f"duplicate id {ident!r}"
    for i, hb in enumerate(cfg.heartbeats):
        if hb.service not in services:
            yield ("heartbeats", i, "service"), f"unknown service {hb.service!r}"
    for i, mw in enumerate(cfg.maintenance):
        for j, svc in enumerate(mw.services):
            if svc not in services:
                yield ("maintenance", i, "services", j), f"unknown service {svc!r}"
