"""An RSS or Atom feed (feedparser): one article an entry, its HTML reduced to text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.loaders.base import Fields, ignore
from rag.ingest.loaders.records import record_document
from rag.types import Document


class FeedLoader:
    max_bytes = 100_000_000  # feedparser parses the whole feed in memory
    whole_file = False

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        import feedparser

        feed = feedparser.parse(path.read_bytes())
        if not feed.entries:
            yield CorpusError("no feed entries found (not an RSS or Atom feed?)")
            return
        source = feed.feed.get("title")
        for number, entry in enumerate(feed.entries, start=1):
            content = entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
            record = {"id": entry.get("id") or entry.get("link") or str(number), "title": entry.get("title"),
                      "text": _html_to_text(content), "date": entry.get("published") or entry.get("updated"),
                      "url": entry.get("link"), "source": source, "author": entry.get("author")}
            yield record_document(record, path, number, fields)


def _html_to_text(content: str) -> str:
    if "<" not in content:
        return content
    from bs4 import BeautifulSoup

    return BeautifulSoup(content, "html.parser").get_text(" ", strip=True)
