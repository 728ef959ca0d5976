"""What every article format shares: the loader protocol, and the title of an article that has none."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from rag.errors import CorpusError
from rag.ingest.sentences import sentence_spans
from rag.types import Document

Fields = Mapping[str, str]  # a record field (rag.config.RECORD_FIELDS) -> the column that holds it in a dump
_MD_HEADING = re.compile(r"\A\s*#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HEADLINE_MAX_WORDS = 16


def ignore(read: int) -> None:
    """What a loader tells of its progress when nobody listens."""


class Loader(Protocol):
    max_bytes: int | None  # the largest file it reads whole; None for a loader that streams
    whole_file: bool  # one article a file, whose doc id is the file's name: removing the article deletes the file

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        """The file's articles in order; a record that cannot be read comes as a CorpusError naming it.
        A loader that streams calls ``advance`` with the bytes it has read since, for a progress bar;
        a loader of records reads each field from the column ``fields`` names, else by its usual names;
        ``overrides`` (a line of metadata.jsonl) replace what a text, Markdown or HTML file says."""
        ...


def title_from_text(text: str, markdown: bool = False) -> str:
    """A Markdown heading, a short unpunctuated first line (a headline), else the first sentence."""
    if markdown and (heading := _MD_HEADING.match(text)):
        return heading.group(1)
    first_line = text.split("\n", 1)[0].strip()
    if len(first_line.split()) <= _HEADLINE_MAX_WORDS and not first_line.endswith((".", "!", "?", '"', "”")):
        return first_line  # a headline: short and unpunctuated
    start, end = sentence_spans(first_line)[0]
    return first_line[start:end]
