"""Managing the archive: add articles, remove them, list what the index holds. The CLI (`rag add`,
`rag remove`, `rag list`), the Python API and the chat page's library panel all call these.

The corpus folder stays the source of truth: added files are copied into it (checked and under
safe names) and the index is updated in place with just those articles; removing deletes the file
and the article's chunks. Without an index yet, adding builds one from the whole corpus.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.config import Config
from rag.dates import as_date
from rag.errors import CorpusError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.lock import writing
from rag.indexing.manifest import exists, record_fields
from rag.indexing.plan import IndexReport
from rag.indexing.update import update, update_index
from rag.ingest.corpus import read_file
from rag.ingest.filing import add_article, discard_partial_copies, remove_article, restore_records
from rag.registry import SUFFIXES
from rag.types import Skipped


@dataclass(frozen=True)
class Listing:
    doc_id: str
    title: str
    date: date | None
    date_evidence: str  # empty for a published date, else what it was inferred from
    source: str | None
    author: str | None
    chunks: int
    duplicate_of: str | None = None  # the canonical article of its near-duplicate group, when it is a copy
    also_in: tuple[str, ...] = ()  # for a canonical article, its copies

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "date": self.date.isoformat() if self.date else None,
                "date_inferred_from": self.date_evidence or None, "source": self.source, "author": self.author,
                "chunks": self.chunks, "duplicate_of": self.duplicate_of, "also_in": list(self.also_in)}


def add(paths: list[str | Path], corpus_dir: str | Path = "corpus", index_dir: str | Path = "index",
        config: Config | None = None, embedder=None, progress: bool = False,
        max_bytes: int | None = None, wait: bool = True) -> IndexReport:
    """Copy the article files in ``paths`` (files or folders; articles, dumps, feeds, PDFs) into the
    corpus and index their articles. A file or record that cannot be read is reported in ``skipped``
    and the rest go ahead; ``max_bytes`` refuses larger files (the chat page's upload limit). Waits for
    another writer of the index unless ``wait`` is False (IndexBusyError)."""
    with writing(index_dir, wait=wait):
        return _add(paths, Path(corpus_dir), Path(index_dir), config or Config(), embedder, progress, max_bytes)


def _add(paths: list[str | Path], corpus_dir: Path, index_dir: Path, config: Config, embedder, progress: bool,
         max_bytes: int | None) -> IndexReport:
    corpus_dir.mkdir(parents=True, exist_ok=True)
    discard_partial_copies(corpus_dir)
    fields = record_fields(config, index_dir)
    saved, skipped = [], []
    for path in _article_files(paths, skipped):
        try:
            saved.append(add_article(corpus_dir, path, max_bytes=max_bytes, fields=fields))
        except (CorpusError, OSError) as error:
            skipped.append(Skipped(str(path), str(error)))
    if not saved:
        return IndexReport(skipped=tuple(skipped))
    if not exists(index_dir):
        report = build_index(corpus_dir, index_dir, config, embedder, progress=progress)
        return dataclasses.replace(report, skipped=(*skipped, *report.skipped))
    documents = []
    for path in saved:
        found, problems = read_file(path, fields=fields)
        documents.extend(found)
        skipped.extend(problems)
    restore_records(corpus_dir, {document.doc_id for document in documents})
    report = update_index(index_dir, add=documents, config=config, embedder=embedder, progress=progress)
    return dataclasses.replace(report, skipped=tuple(skipped))


def remove(doc_ids: list[str], corpus_dir: str | Path = "corpus", index_dir: str | Path = "index",
           config: Config | None = None, wait: bool = True) -> IndexReport:
    """Delete the articles ``doc_ids`` from the corpus and the index; an unknown doc id is an error
    and removes nothing. Waits for another writer of the index unless ``wait`` is False (IndexBusyError)."""
    config = config or Config()
    with writing(index_dir, wait=wait):
        index = open_index(index_dir, config)
        try:
            return _remove(index, doc_ids, corpus_dir, config)
        finally:
            index.close()


def _remove(index, doc_ids: list[str], corpus_dir: str | Path, config: Config) -> IndexReport:
    unknown = sorted(set(doc_ids) - set(index.store.content_hashes(list(doc_ids))))
    if unknown:
        raise CorpusError(f"not in index {index.directory}: {', '.join(unknown)}; "
                          "`rag list` shows the doc ids it holds")
    for doc_id in doc_ids:
        # An article indexed from a file no longer in the corpus: removing it from the index is what is asked.
        with contextlib.suppress(CorpusError):
            remove_article(corpus_dir, doc_id)
    return update(index, remove=list(doc_ids), config=config)


def list_articles(index_dir: str | Path = "index", since: date | str | None = None, until: date | str | None = None,
                  config: Config | None = None) -> list[Listing]:
    """Every article the index holds (dated within [since, until] when given), oldest first, undated last."""
    since, until = as_date(since, "since"), as_date(until, "until")
    index = open_index(index_dir, config)
    try:
        listings = [Listing(*row) for row in index.store.catalogue(since, until)]
        copies = index.store.duplicates()
        dates = {doc_id: day for doc_id, (_, day, _) in index.store.articles(set(copies)).items()}
    finally:
        index.close()
    return [_grouped(listing, copies, dates) for listing in listings]


def _grouped(listing: Listing, copies: dict[str, tuple[str, ...]], dates: dict[str, date | None]) -> Listing:
    """The listing with its near-duplicate group: the earliest-dated copy (then the smallest doc id) is canonical."""
    if listing.doc_id not in copies:
        return listing
    group = sorted((listing.doc_id, *copies[listing.doc_id]),
                   key=lambda doc_id: (dates[doc_id] is None, dates[doc_id] or date.min, doc_id))
    if group[0] == listing.doc_id:
        return dataclasses.replace(listing, also_in=tuple(group[1:]))
    return dataclasses.replace(listing, duplicate_of=group[0])


def _article_files(paths: list[str | Path], skipped: list[Skipped]) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(Skipped(str(path), "no such file or folder"))
    return files
