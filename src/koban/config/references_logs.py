"""Cross-object checks for log clusters, digests and log rules: the ids they name must exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from koban.config.model import ConfigFile

Loc = tuple[Any, ...]


def log_problems(cfg: ConfigFile) -> Iterator[tuple[Loc, str]]:
    clusters = {c.id for c in cfg.log_clusters}
    channels = {c.id for c in cfg.channels}
    services = {s.id for s in cfg.services}
    for section in ("log_clusters", "digests", "log_rules"):
        ids = [o.id for o in getattr(cfg, section)]
        counts = Counter(ids)
        for i, ident in enumerate(ids):
            if counts[ident] > 1:
                yield (section, i, "id"), f"duplicate id {ident!r}"
    for di, digest in enumerate(cfg.digests):
        if digest.cluster not in clusters:
            yield ("digests", di, "cluster"), f"unknown log cluster {digest.cluster!r}"
        for ci, ch in enumerate(digest.channels):
            if ch not in channels:
                yield ("digests", di, "channels", ci), f"unknown channel {ch!r}"
        for ch in digest.languages:
            if ch not in digest.channels:
                yield ("digests", di, "languages", ch), f"{ch!r} is not one of the digest's channels"
        kinds = {c.id: c.type for c in cfg.channels}
        if any(kinds.get(ch) == "email" for ch in digest.channels) and not digest.email_to:
            yield ("digests", di, "email_to"), "an email channel needs email_to: who gets the digest"
        if digest.service is not None and digest.service not in services:
            yield ("digests", di, "service"), f"unknown service {digest.service!r}"
    for ri, rule in enumerate(cfg.log_rules):
        if rule.cluster not in clusters:
            yield ("log_rules", ri, "cluster"), f"unknown log cluster {rule.cluster!r}"
        if rule.service not in services:
            yield ("log_rules", ri, "service"), f"unknown service {rule.service!r}"
