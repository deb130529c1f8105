"""Alertmanager's routing tree: depth-first, first match wins unless ``continue``, inheritance.

``Route`` is the configuration as written (``None`` = inherit); ``build_tree`` resolves inheritance
once into ``RouteNode``s, and ``match_routes`` returns every node that handles a label set.
Grouping (which group an alert joins) is ``group_labels`` / ``group_key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from koban.routing.matchers import Matcher, format_matchers, matches_all

T = TypeVar("T")
GROUP_BY_ALL = "..."
DEFAULT_GROUP_WAIT = timedelta(seconds=30)
DEFAULT_GROUP_INTERVAL = timedelta(minutes=5)
DEFAULT_REPEAT_INTERVAL = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class Route:
    receiver: str | None = None
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] | None = None
    group_wait: timedelta | None = None
    group_interval: timedelta | None = None
    repeat_interval: timedelta | None = None
    send_resolved: bool | None = None
    continue_: bool = False
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupTimers:
    group_wait: timedelta = DEFAULT_GROUP_WAIT
    group_interval: timedelta = DEFAULT_GROUP_INTERVAL
    repeat_interval: timedelta = DEFAULT_REPEAT_INTERVAL
    send_resolved: bool = True


@dataclass(frozen=True, slots=True)
class RouteNode:
    """A route with inheritance applied. ``key`` is Alertmanager's route key (``{}/{team="db"}``)."""

    key: str
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: frozenset[str]
    group_by_all: bool
    timers: GroupTimers
    continue_: bool
    children: tuple[RouteNode, ...]


def build_tree(root: Route) -> RouteNode:
    """Resolve inheritance. The root must match everything and name a receiver."""
    if root.matchers:
        raise ValueError("the root route must not have matchers: every alert enters there")
    if not root.receiver:
        raise ValueError("the root route needs a receiver")
    return _resolve(root, None, "")


def _resolve(route: Route, parent: RouteNode | None, parent_key: str) -> RouteNode:
    key = format_matchers(route.matchers)
    if parent is not None:
        key = f"{parent_key}/{key}"
    inherited = parent.timers if parent else GroupTimers()
    timers = GroupTimers(
        group_wait=_pick(route.group_wait, inherited.group_wait),
        group_interval=_pick(route.group_interval, inherited.group_interval),
        repeat_interval=_pick(route.repeat_interval, inherited.repeat_interval),
        send_resolved=_pick(route.send_resolved, inherited.send_resolved),
    )
    if route.group_by is None:
        group_by, group_all = (parent.group_by, parent.group_by_all) if parent else (frozenset(), False)
    else:
        group_all = GROUP_BY_ALL in route.group_by
        if group_all and len(route.group_by) > 1:
            raise ValueError("group_by '...' cannot be combined with label names")
        group_by = frozenset() if group_all else frozenset(route.group_by)
    node = RouteNode(
        key=key,
        receiver=route.receiver or (parent.receiver if parent else ""),
        matchers=route.matchers,
        group_by=group_by,
        group_by_all=group_all,
        timers=timers,
        continue_=route.continue_,
        children=(),
    )
    children = tuple(_resolve(child, node, key) for child in route.routes)
    return replace(node, children=children)


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value


def match_routes(node: RouteNode, labels: Mapping[str, str]) -> list[RouteNode]:
    """Every route that handles ``labels`` (Alertmanager ``Route.Match``)."""
    if not matches_all(node.matchers, labels):
        return []
    found: list[RouteNode] = []
    for child in node.children:
        hits = match_routes(child, labels)
        found.extend(hits)
        if hits and not child.continue_:
            break
    return found or [node]


def group_labels(node: RouteNode, labels: Mapping[str, str]) -> dict[str, str]:
    """Labels that define the alert's group on this route; absent labels are left out."""
    if node.group_by_all:
        return dict(labels)
    return {name: value for name, value in labels.items() if name in node.group_by}


def group_key(node: RouteNode, labels: Mapping[str, str]) -> str:
    """Alertmanager's groupKey: ``<route key>:<group labels>`` e.g. ``{}:{alertname="X"}``."""
    grouped = group_labels(node, labels)
    rendered = ", ".join(f'{k}="{_quote(grouped[k])}"' for k in sorted(grouped))
    return f"{node.key}:{{{rendered}}}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
