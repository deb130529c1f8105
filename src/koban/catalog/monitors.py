"""The catalog's monitors, compact: 100,000 of them in tens of megabytes instead of ~450 MB of models.

Every process (``koban serve`` and each ``koban probe`` shard) keeps a catalog, and a validated
``Monitor`` model costs ~4.5 KB, so the whole catalog in every process took most of 3 GB at 100,000
monitors (issue 18). Here each monitor is kept as:
- its definition without the fields left at their defaults, as JSON (~80 bytes for a plain HTTP
  check): ``monitors[ident]`` validates it again into the same ``Monitor`` (a few recent ones are
  cached), for the few paths that need the whole definition (a page of the API, a prober building
  its own shard's probes once);
- a ``MonitorBrief`` tuple of the fields the hot and bulk paths read (enabled, service, locations,
  name), shared strings and location tuples interned, so filtering all 100,000 (a prober choosing
  its shard, a team's list, a report) builds no model at all.
Stored definitions were validated when applied and are validated again at load, as before.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

import orjson

from koban.config.model_monitors import Monitor

CACHED = 256  # validated models kept for repeated reads of the same few monitors (API pages)


class MonitorBrief(NamedTuple):
    id: str
    name: str
    service: str
    enabled: bool
    locations: tuple[str, ...]
    # For the UI's monitor list (search and tag filter) without a model per monitor.
    target: str = ""
    tags: tuple[str, ...] = ()


class MonitorCatalog(Mapping[str, Monitor]):
    __slots__ = ("_defs", "briefs", "_cache", "_locations")

    def __init__(
        self, defs: dict[str, str] | None = None, briefs: dict[str, MonitorBrief] | None = None
    ) -> None:
        self._defs: dict[str, str] = defs or {}
        self.briefs: dict[str, MonitorBrief] = briefs or {}
        self._cache: OrderedDict[str, Monitor] = OrderedDict()
        self._locations: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct list

    @classmethod
    def of(cls, monitors: Iterable[Monitor]) -> MonitorCatalog:
        out = cls()
        out.add(monitors)
        return out

    def add(self, monitors: Iterable[Monitor]) -> None:
        """Only while building (a catalog is replaced, never changed, once in use)."""
        defs, briefs, shared = self._defs, self.briefs, self._locations
        for m in monitors:
            # As str: orjson's bytes keep its whole 4 KB write buffer allocated.
            defs[m.id] = orjson.dumps(m.model_dump(mode="json", exclude_defaults=True)).decode()
            locations, tags = tuple(m.locations), tuple(m.tags)
            briefs[m.id] = MonitorBrief(
                m.id,
                sys.intern(m.name),
                sys.intern(m.service),
                m.enabled,
                shared.setdefault(locations, locations),
                m.target,
                shared.setdefault(tags, tags),
            )

    def definition(self, ident: str) -> str:
        """The stored form: equal text means an unchanged monitor (no model needed to compare)."""
        return self._defs[ident]

    def __getitem__(self, ident: str) -> Monitor:
        cache = self._cache
        mon = cache.get(ident)
        if mon is not None:
            cache.move_to_end(ident)
            return mon
        mon = Monitor.model_validate(orjson.loads(self._defs[ident]))
        cache[ident] = mon
        if len(cache) > CACHED:
            cache.popitem(last=False)
        return mon

    def __contains__(self, ident: object) -> bool:
        return ident in self._defs

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MonitorCatalog):
            return self._defs == other._defs
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]  # a mapping

    def __repr__(self) -> str:
        return f"MonitorCatalog({len(self)} monitors)"


def briefs_of(monitors: Mapping[str, Monitor]) -> Mapping[str, MonitorBrief | Monitor]:
    """What bulk paths filter on: the briefs of a MonitorCatalog, or the models of a plain mapping
    (both have id, name, service, enabled and locations)."""
    return monitors.briefs if isinstance(monitors, MonitorCatalog) else monitors
