"""Public status pages in the configuration file (docs/web.md, "Public status pages").

Nothing is public unless a status page lists it, and a page shows only the words written here for
the public: its title, its groups' titles and each item's public name. The services' and monitors'
own ids and names stay inside (they name hosts, customers, people).

status_pages:
  - id: shop                        # the slug: /status/shop (``slug:`` to pick another)
    title: {en: Shop status, ja: ショップの稼働状況}
    timezone: Asia/Tokyo            # the times the page shows
    groups:
      - title: {en: Storefront, ja: ストア}
        items:
          - service: web            # a service: as down as its most-down monitor
            name: {en: Website, ja: ウェブサイト}
          - monitor: checkout-probe # or one monitor
            name: {en: Checkout, ja: 決済}
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from koban.config.base import Identified, Strict

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_TEXT = 200


class PublicText(Strict):
    """Words shown to the public, in English and (optionally) Japanese; a plain string is English."""

    en: str = Field(min_length=1, max_length=MAX_TEXT)
    ja: str | None = Field(None, min_length=1, max_length=MAX_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, v: Any) -> Any:
        return {"en": v} if isinstance(v, str) else v

    def in_language(self, lang: str) -> str:
        return self.ja if lang == "ja" and self.ja else self.en


class StatusItem(Strict):
    service: str | None = None
    monitor: str | None = None
    name: PublicText

    @model_validator(mode="after")
    def _one(self) -> StatusItem:
        if (self.service is None) == (self.monitor is None):
            raise ValueError("an item names exactly one of service or monitor")
        return self


class StatusGroup(Strict):
    title: PublicText
    items: list[StatusItem] = Field(min_length=1, max_length=100)


class StatusPage(Identified):
    slug: str | None = None  # the page's address, /status/<slug>; default: the id
    title: PublicText
    timezone: str = "UTC"
    groups: list[StatusGroup] = Field(min_length=1, max_length=50)

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        if v is not None and not SLUG.match(v):
            raise ValueError(
                "a slug is lower-case letters, digits and '-' (max 63), starting with one of the first two"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @property
    def address(self) -> str:
        """The slug the page answers at: ``slug``, else the id lower-cased."""
        return self.slug or self.id.lower()
