"""Article formats: one loader class per format behind a registry, so a new format is one new class.

A loader turns one file into articles: one for a text, Markdown or HTML file or a PDF, many for a
JSONL or CSV dump or an RSS/Atom feed. Dumps are read record by record (a 1 GB dump is never in
memory at once); a record that cannot be read is reported with its line number and skipped, and
the rest go on. Records' fields are recognised by their usual names (title/headline, text/body/
content, date/published, url/link, source/site, author/byline, id/guid), or by the names given
with ``fields`` (`rag index --field text=story_body`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Callable, Iterator, Mapping, Protocol

from rag.errors import CorpusError
from rag.temporal import published_date
from rag.types import Document

TITLE_FIELDS = ("title", "headline", "name")
TEXT_FIELDS = ("text", "body", "content", "article", "story", "description", "summary")
DATE_FIELDS = ("date", "published", "published_at", "publication_date", "pubdate", "datetime", "time", "created_at")
URL_FIELDS = ("url", "link", "href")
SOURCE_FIELDS = ("source", "site", "publisher", "outlet", "site_name")
AUTHOR_FIELDS = ("author", "authors", "byline", "creator", "writer")
ID_FIELDS = ("doc_id", "id", "guid", "uid")
# What a record's fields may be named for (`--field NAME=COLUMN`), and the names tried by default.
RECORD_FIELDS = {"title": TITLE_FIELDS, "text": TEXT_FIELDS, "date": DATE_FIELDS, "url": URL_FIELDS,
                 "source": SOURCE_FIELDS, "author": AUTHOR_FIELDS, "id": ID_FIELDS}
Fields = Mapping[str, str]  # a RECORD_FIELDS name -> the column that holds it in a dump


def _ignore(read: int) -> None:
    pass


class Loader(Protocol):
    suffixes: tuple[str, ...]
    max_bytes: int | None  # the largest file it reads whole; None for a loader that streams

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
        """The file's articles in order; a record that cannot be read comes as a CorpusError naming it.
        A loader that streams calls ``advance`` with the bytes it has read since, for a progress bar;
        a loader of records reads each field from the column ``fields`` names, else by its usual names."""
        ...


class ArticleFileLoader:
    """One article per file: plain text, Markdown or HTML (rag.corpus.read_document)."""

    suffixes = (".txt", ".md", ".html", ".htm")
    max_bytes = 20_000_000  # ten times the longest article rag takes (rag.corpus.MAX_ARTICLE_CHARS), markup and all

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
        from rag.corpus import read_document

        yield read_document(path)


class JsonlLoader:
    """A dump of one JSON object per line."""

    suffixes = (".jsonl", ".ndjson")
    max_bytes = None

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
        with open(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                advance(len(line))
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    if not isinstance(record, dict):
                        raise ValueError
                except (ValueError, UnicodeDecodeError):
                    yield CorpusError(f"line {number}: not a JSON object; fix or delete the line")
                    continue
                yield _record_document(record, path, number, fields)


class CsvLoader:
    """A dump of one article per row, with a header row naming the fields."""

    suffixes = (".csv",)
    max_bytes = None

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
        csv.field_size_limit(sys.maxsize)  # article bodies are longer than csv's 128 kB default
        with open(path, "rb") as raw:
            reader = csv.DictReader(_decoded_lines(raw, advance))
            for number, row in enumerate(reader, start=2):
                if None in row or None in row.values():
                    yield CorpusError(f"line {reader.line_num}: the row has {'more' if None in row else 'fewer'} "
                                      f"fields than the header; fix or delete it")
                    continue
                yield _record_document(row, path, number)


class FeedLoader:
    """An RSS or Atom feed (feedparser): one article per entry, its HTML reduced to text."""

    suffixes = (".rss", ".atom", ".xml")
    max_bytes = 100_000_000  # feedparser parses the whole feed in memory

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
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
            yield _record_document(record, path, number, fields)


class PdfLoader:
    """A PDF's text, page by page (pypdf); a scanned PDF has none and is reported."""

    suffixes = (".pdf",)
    max_bytes = None  # pypdf reads page by page

    def load(self, path: Path, advance: Callable[[int], None] = _ignore, fields: Fields = {}) -> Iterator[Document | CorpusError]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(path)
            text = "\n".join(page.extract_text() or "" for page in reader.pages).strip()
            info = reader.metadata or {}
        except (PdfReadError, OSError, ValueError) as error:
            yield CorpusError(f"not a readable PDF ({error}); re-save or export it")
            return
        if not text:
            yield CorpusError("the PDF has no text layer (a scan?); run OCR on it first")
            return
        from rag.corpus import title_from_text

        yield Document(doc_id=path.stem, text=text, title=info.get("/Title") or title_from_text(text, markdown=False),
                       date=published_date(str(info.get("/CreationDate", ""))[2:10]), path=str(path), author=info.get("/Author"),
                       content_hash=hashlib.sha256(path.read_bytes()).hexdigest())


LOADERS: tuple[Loader, ...] = (ArticleFileLoader(), JsonlLoader(), CsvLoader(), FeedLoader(), PdfLoader())
SUFFIXES = tuple(suffix for loader in LOADERS for suffix in loader.suffixes)


def loader_for(path: Path) -> Loader | None:
    return next((loader for loader in LOADERS if path.suffix.lower() in loader.suffixes), None)


def _record_document(record: dict, path: Path, number: int, fields: Fields = {}) -> Document | CorpusError:
    """One dump record or feed entry as an article, or the reason it cannot be one."""
    values = {str(key).lower(): value for key, value in record.items() if value not in (None, "", [])}

    def field(name: str):
        names = (fields[name].lower(), *RECORD_FIELDS[name]) if name in fields else RECORD_FIELDS[name]
        return next((values[column] for column in names if column in values), None)

    text = field("text")
    if not isinstance(text, str) or not text.strip():
        looked_for = ", ".join((*([fields["text"]] if "text" in fields else []), *TEXT_FIELDS))
        return CorpusError(f"record {number}: no article text (looked for {looked_for}); fix or delete it, "
                           "or name its text column with --field text=COLUMN")
    from rag.corpus import title_from_text

    text = text.strip()
    given_id = field("id")
    record_id = re.sub(r"[^A-Za-z0-9._-]+", "_", str(number if given_id is None else given_id)).strip("._")[:80]
    title, author = field("title"), field("author")
    return Document(
        doc_id=f"{path.stem}-{record_id}", text=text,
        title=str(title).strip() if title else title_from_text(text, markdown=False),
        date=published_date(str(field("date") or "")),
        source=field("source"), url=field("url"), path=f"{path}:{number}",
        content_hash=hashlib.sha256(json.dumps([record, dict(fields)], sort_keys=True, default=str).encode()).hexdigest(),
        author=", ".join(map(str, author)) if isinstance(author, list) else (str(author) if author else None),
    )


def _decoded_lines(raw, advance: Callable[[int], None]) -> Iterator[str]:
    """A binary file's lines as text (UTF-8, a leading byte-order mark dropped), counting the bytes read."""
    for number, line in enumerate(raw):
        advance(len(line))
        yield line.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")


def _html_to_text(content: str) -> str:
    if "<" not in content:
        return content
    from bs4 import BeautifulSoup

    return BeautifulSoup(content, "html.parser").get_text(" ", strip=True)
