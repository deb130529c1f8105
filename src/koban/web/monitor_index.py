"""Finding monitors fast at 100,000: one index per catalog, filters over it, pages by state.

The catalog holds every monitor in memory already; the index adds, once per catalog (a config
change replaces the mapping, never mutates it), the ids in order and a lower-case text to search in.
A filter is then one pass over plain tuples. Only the state lives in the database: a page without a
state filter reads the states of its own rows; with one, ``down`` (the few a person looks for) is
one indexed read of the down monitors, and the other states read the candidates' states in chunks
until the page is full, so a healthy list's "up" page costs one chunk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from koban.catalog.monitors import briefs_of

PAGE_SIZE = 100
CHUNK = 2000  # ids per state read when filtering by state
STATES = ("up", "down", "unknown")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    text: str  # id, name and target, lower case: what the search box searches
    service: str
    tags: frozenset[str]
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MonitorIndex:
    source: Any  # the catalog's monitors mapping this index was built from
    entries: tuple[Entry, ...]
    tags: tuple[str, ...]
    locations: tuple[str, ...]
    by_id: Mapping[str, Entry]


def build_index(monitors: Mapping[str, Any]) -> MonitorIndex:
    # A catalog's briefs carry what the index needs: no model is built per monitor.
    rows = briefs_of(monitors)
    entries = tuple(
        Entry(
            m.id,
            f"{m.id}\n{m.name}\n{m.target}".lower(),
            m.service,
            frozenset(getattr(m, "tags", ()) or ()),
            tuple(m.locations),
        )
        for m in (rows[i] for i in sorted(rows))
    )
    tags = sorted({t for e in entries for t in e.tags})
    locations = sorted({loc for e in entries for loc in e.locations})
    return MonitorIndex(monitors, entries, tuple(tags), tuple(locations), {e.id: e for e in entries})


def index_of(holder: Any, monitors: Mapping[str, Any]) -> MonitorIndex:
    """The index of this catalog, kept on ``holder`` (the app's state) until the catalog changes."""
    cached: MonitorIndex | None = getattr(holder, "monitor_index", None)
    if cached is None or cached.source is not monitors:
        cached = build_index(monitors)
        holder.monitor_index = cached
    return cached


@dataclass(frozen=True, slots=True)
class Filters:
    q: str = ""
    tag: str = ""
    location: str = ""
    state: str = ""
    service: str = ""

    def as_query(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("q", self.q),
                ("tag", self.tag),
                ("location", self.location),
                ("state", self.state),
                ("service", self.service),
            )
            if v
        }


def matching(entries: Iterable[Entry], f: Filters, shown: set[str] | None) -> Iterable[Entry]:
    """The entries a person may see that pass the text filters, in their order (lazily)."""
    q = f.q.strip().lower()
    for e in entries:
        if shown is not None and e.service not in shown:
            continue
        if (q and q not in e.text) or (f.tag and f.tag not in e.tags):
            continue
        if (f.location and f.location not in e.locations) or (f.service and e.service != f.service):
            continue
        yield e


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    states: dict[str, str]
    more: bool
    total: int | None  # None when a state filter stopped reading early


StatesOf = Callable[[list[str]], Awaitable[dict[str, str]]]
InState = Callable[[str], Awaitable[set[str]]]


async def page_of(
    index: MonitorIndex,
    f: Filters,
    shown: set[str] | None,
    page: int,
    states_of: StatesOf,
    in_state: InState,
) -> Page:
    start = page * PAGE_SIZE
    if f.state == "down":
        # The few down monitors, from their index, then the text filters over them alone: not a
        # pass over 100,000 entries to keep 1 %.
        down = await in_state("down")
        every = list(matching((index.by_id[i] for i in sorted(down) if i in index.by_id), f, shown))
        rows = every[start : start + PAGE_SIZE]
        return Page(
            rows, dict.fromkeys((e.id for e in rows), "down"), len(every) > start + PAGE_SIZE, len(every)
        )
    found = matching(index.entries, f, shown)
    if f.state not in STATES:
        every = list(found)
        rows = every[start : start + PAGE_SIZE]
        return Page(rows, await states_of([e.id for e in rows]), len(every) > start + PAGE_SIZE, len(every))
    kept: list[Entry] = []
    states: dict[str, str] = {}
    chunk: list[Entry] = []
    exhausted = True
    for e in found:
        chunk.append(e)
        if len(chunk) == CHUNK:
            await _keep(chunk, f.state, states_of, kept, states)
            chunk = []
            if len(kept) > start + PAGE_SIZE:
                exhausted = False
                break
    if chunk:
        await _keep(chunk, f.state, states_of, kept, states)
    rows = kept[start : start + PAGE_SIZE]
    return Page(
        rows,
        {e.id: states[e.id] for e in rows},
        len(kept) > start + PAGE_SIZE,
        len(kept) if exhausted else None,
    )


async def _keep(
    chunk: list[Entry], state: str, states_of: StatesOf, kept: list[Entry], states: dict[str, str]
) -> None:
    known = await states_of([e.id for e in chunk])
    for e in chunk:
        s = known.get(e.id, "unknown")
        if s == state:
            kept.append(e)
            states[e.id] = s
