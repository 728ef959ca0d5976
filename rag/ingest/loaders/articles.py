"""One article a file (text, Markdown, HTML): its bytes checked and decoded, a leading ``date YYYY-MM-DD``
marker taken as the article date, and the fields a line of ``metadata.jsonl`` gives put over what the file says."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.loaders.base import title_from_text
from rag.types import Document

METADATA_FILE = "metadata.jsonl"
_DATE_MARKER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})[ \t]*\n?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """What a page's markup says besides its text."""

    text: str
    title: str | None = None
    date: date | None = None
    site: str | None = None
    author: str | None = None


def read_article(path: Path, overrides: Mapping[str, str] | None = None,
                 page: Callable[[str], Page] = Page) -> Document:
    """The article in ``path``; ``page`` reads its decoded content (the text as it is, by default).
    Raises CorpusError if the file is empty, binary or not UTF-8 (or UTF-16 with its byte-order mark)."""
    raw = path.read_bytes()
    found = page(_decoded(raw))
    text, marker_date = _strip_date_marker(found.text)
    text = text.strip()
    if not text:
        raise CorpusError("empty file; add the article text or remove the file")
    overrides = overrides or {}
    return Document(
        doc_id=path.stem,
        text=text,
        title=overrides.get("title") or found.title or title_from_text(text, markdown=path.suffix.lower() == ".md"),
        date=_metadata_date(overrides.get("date"), path) or marker_date or found.date,
        source=overrides.get("source") or found.site,
        url=overrides.get("url"),
        path=str(path),
        content_hash=hashlib.sha256(raw + json.dumps(overrides, sort_keys=True).encode()).hexdigest(),
        author=overrides.get("author") or found.author,
    )


def iso_date(value: str | None) -> date | None:
    """A YYYY-MM-DD date at the start of ``value``, or None."""
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _metadata_date(value: str | None, path: Path) -> date | None:
    if value and iso_date(value) is None:
        raise CorpusError(f"metadata date {value!r} for {path.name} is not YYYY-MM-DD; fix {METADATA_FILE}")
    return iso_date(value)


def _decoded(raw: bytes) -> str:
    binary = CorpusError("binary file (contains NUL bytes); only UTF-8 text, Markdown or HTML is indexed")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-16 saved with its byte-order mark
        try:
            content = raw.decode("utf-16").removeprefix("\ufeff")  # a second mark, as utf-8-sig drops
        except UnicodeError:
            raise CorpusError("starts like UTF-16 but is not; re-save the file as UTF-8") from None
        if "\x00" in content:
            raise binary
        return content
    if b"\x00" in raw:
        raise binary
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(f"not UTF-8 (bad byte at position {error.start}); re-save the file as UTF-8") from None


def _strip_date_marker(content: str) -> tuple[str, date | None]:
    match = _DATE_MARKER.match(content)
    if not match:
        return content, None
    try:
        return content[match.end():], date.fromisoformat(match.group(1))
    except ValueError:
        return content, None  # "date 2021-02-31" is text, not a marker
