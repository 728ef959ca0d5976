"""A dump of one JSON object a line, read line by line: a 1 GB dump is never in memory at once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.errors import CorpusError
from rag.ingest.loaders.base import Fields, ignore
from rag.ingest.loaders.records import record_document
from rag.types import Document


class JsonlLoader:
    max_bytes = None
    whole_file = False

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
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
                yield record_document(record, path, number, fields)
