"""A dump of one article a row, with a header row naming the fields; read row by row."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.loaders.base import Fields, ignore
from rag.ingest.loaders.records import record_document
from rag.types import Document


class CsvLoader:
    max_bytes = None
    whole_file = False

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        csv.field_size_limit(sys.maxsize)  # article bodies are longer than csv's 128 kB default
        with open(path, "rb") as raw:
            reader = csv.DictReader(_decoded_lines(raw, advance))
            for number, row in enumerate(reader, start=2):
                if None in row or None in row.values():
                    yield CorpusError(f"line {reader.line_num}: the row has {'more' if None in row else 'fewer'} "
                                      f"fields than the header; fix or delete it")
                    continue
                yield record_document(row, path, number, fields)


def _decoded_lines(raw, advance: Callable[[int], None]) -> Iterator[str]:
    """A binary file's lines as text (UTF-8, a leading byte-order mark dropped), counting the bytes read."""
    for number, line in enumerate(raw):
        advance(len(line))
        yield line.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")
