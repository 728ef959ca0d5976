"""Articles as records (a line of a JSONL dump, a row of a CSV dump, an entry of a feed): each field is found by
its usual names (title/headline, text/body/content, date/published, url/link, source/site, author/byline,
id/guid), or by the column ``--field`` names for it (``rag index --field text=story_body``)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from rag.dates import published_date
from rag.errors import CorpusError
from rag.ingest.loaders.base import Fields, title_from_text
from rag.types import Document

# The names tried for each field of rag.config.RECORD_FIELDS, in order.
COLUMNS = {
    "title": ("title", "headline", "name"),
    "text": ("text", "body", "content", "article", "story", "description", "summary"),
    "date": ("date", "published", "published_at", "publication_date", "pubdate", "datetime", "time", "created_at"),
    "url": ("url", "link", "href"),
    "source": ("source", "site", "publisher", "outlet", "site_name"),
    "author": ("author", "authors", "byline", "creator", "writer"),
    "id": ("doc_id", "id", "guid", "uid"),
}


def record_document(record: dict, path: Path, number: int, fields: Fields | None = None) -> Document | CorpusError:
    """One record as an article (doc id ``<file>-<record id>``), or the reason it cannot be one."""
    fields = fields or {}
    values = {str(key).lower(): value for key, value in record.items() if value not in (None, "", [])}

    def field(name: str):
        names = (fields[name].lower(), *COLUMNS[name]) if name in fields else COLUMNS[name]
        return next((values[column] for column in names if column in values), None)

    text = field("text")
    if not isinstance(text, str) or not text.strip():
        looked_for = ", ".join((*([fields["text"]] if "text" in fields else []), *COLUMNS["text"]))
        return CorpusError(f"record {number}: no article text (looked for {looked_for}); fix or delete it, "
                           "or name its text column with --field text=COLUMN")
    text = text.strip()
    given_id = field("id")
    record_id = re.sub(r"[^A-Za-z0-9._-]+", "_", str(number if given_id is None else given_id)).strip("._")[:80]
    title, author = field("title"), field("author")
    serialised = json.dumps([record, dict(fields)], sort_keys=True, default=str)
    return Document(
        doc_id=f"{path.stem}-{record_id}", text=text,
        title=str(title).strip() if title else title_from_text(text),
        date=published_date(str(field("date") or "")),
        source=field("source"), url=field("url"), path=f"{path}:{number}",
        content_hash=hashlib.sha256(serialised.encode()).hexdigest(),
        author=", ".join(map(str, author)) if isinstance(author, list) else (str(author) if author else None),
    )
