"""Checks shared by the web's and the outbound messages' Babel catalogue tests."""

from __future__ import annotations

from pathlib import Path


def entries_without_translation_line(po: Path) -> list[str]:
    """The ``msgid`` lines not followed (after their continuation lines) by a ``msgstr`` or
    ``msgid_plural``: a merge once left one, Babel only warned, and the entry after it was misread."""
    lines = po.read_text().splitlines()
    broken = []
    for i, line in enumerate(lines):
        if line.startswith("msgid "):
            j = i + 1
            while j < len(lines) and lines[j].startswith('"'):
                j += 1
            if j == len(lines) or not lines[j].startswith(("msgstr", "msgid_plural")):
                broken.append(line)
    return broken
