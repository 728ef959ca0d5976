"""Article formats: one loader a format, each in a file of its own, chosen by the file's suffix through
rag.registry. A loader turns one file into articles: one for a text, Markdown, HTML or PDF file, many for
a JSONL or CSV dump or a feed. A record that cannot be read is reported with where it is and skipped."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rag.ingest.loaders.base import Loader
from rag.registry import LOADERS, Part, chosen


def loader_for(path: Path) -> Loader | None:
    """The loader of the file's format, or None for a file rag does not read."""
    part = chosen(LOADERS, Path(path).suffix.lower())
    return None if part is None else _instance(part)


@cache
def _instance(part: Part) -> Loader:
    return part.implementation()()
