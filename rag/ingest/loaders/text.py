"""Plain text and Markdown: one article a file; a Markdown heading or a headline line is its title."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.loaders.articles import read_article
from rag.ingest.loaders.base import Fields, ignore
from rag.types import Document


class TextLoader:
    max_bytes = 20_000_000  # ten times the longest article rag takes (rag.ingest.corpus.MAX_ARTICLE_CHARS)
    whole_file = True

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        yield read_article(path, overrides)
