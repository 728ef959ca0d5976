"""Reading a corpus directory into Documents, each file through its format's loader (rag.ingest.loaders).

An optional ``metadata.jsonl`` (doc_id, title, date, source, url, author) overrides what text, Markdown and
HTML files say. A file or record that cannot be read is reported and skipped; the rest go on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from rag.dates import inferred_date
from rag.errors import CorpusError
from rag.ingest.loaders import loader_for
from rag.ingest.loaders.articles import METADATA_FILE
from rag.ingest.loaders.base import ignore
from rag.registry import SUFFIXES
from rag.types import Document, Skipped

# Longer articles are refused: a news article is under 100,000 characters, and one of 40 MB (a log,
# a book, a file with no sentence breaks) would keep an index build busy for an hour embedding it.
MAX_ARTICLE_CHARS = 2_000_000
# Records removed from a dump or feed with `rag remove`, one doc id per line: the file itself stays.
REMOVED_FILE = "removed-records.ids"


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in Path(corpus_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and p.name != METADATA_FILE)


# Reads (file, metadata overrides) pairs and the dump fields into each file's (articles, skipped), in order.
FileReader = Callable[[list[tuple[Path, Mapping[str, str]]], Mapping[str, str]],
                      Iterable[tuple[list[Document], list[Skipped]]]]


def read_corpus(corpus_dir: str | Path, progress: bool = False, fields: Mapping[str, str] | None = None,
                read_files: FileReader | None = None) -> tuple[list[Document], list[Skipped]]:
    """Every readable article in ``corpus_dir``, and the files and records that were skipped and why.
    ``progress``: a bar over the bytes read, with the articles so far and an ETA (dumps advance it as they
    stream); ``fields``: the dump columns that hold a record's text, title, date... (rag.ingest.loaders.records);
    ``read_files``: what reads the files (a cluster's workers), else ``read_file`` here, one after another."""
    from tqdm import tqdm

    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist; create it and add articles")
    metadata, skipped = _read_metadata(corpus_dir / METADATA_FILE)
    removed = removed_records(corpus_dir)
    documents, seen = [], {}  # seen: doc_id -> where it was read first
    paths, inside = [], corpus_dir.resolve()
    for path in corpus_files(corpus_dir):
        if inside not in path.resolve().parents:  # a link that leads out of the corpus
            skipped.append(Skipped(str(path), "a link to a file outside the corpus; copy the file in instead"))
        else:
            paths.append(path)
    sizes = [_size(path) for path in paths]
    files = [(path, metadata.get(path.stem, {})) for path in paths]
    read = 0
    with tqdm(total=sum(sizes), desc="Reading articles", unit="B", unit_scale=True, disable=not progress) as bar:
        results = (read_files(files, fields or {}) if read_files else
                   (read_file(path, overrides, bar.update, fields) for path, overrides in files))
        for size, (found, problems) in zip(sizes, results, strict=True):
            read += size
            bar.update(read - bar.n)  # loaders that do not stream advance by the whole file
            skipped.extend(problems)
            for document in found:
                if document.doc_id in removed:
                    continue
                if document.doc_id in seen:
                    skipped.append(Skipped(document.path, f"doc id {document.doc_id} is also {seen[document.doc_id]}; "
                                                          "give each article its own id or file name"))
                    continue
                seen[document.doc_id] = document.path
                documents.append(document)
            bar.set_postfix(articles=len(documents), refresh=False)
    if not documents:
        found = f"{len(skipped)} unreadable file(s) or record(s)" if skipped else "no article files"
        raise CorpusError(f"no articles to index in {corpus_dir} ({found}); "
                          "add UTF-8 articles there or pass --corpus DIR")
    return documents, skipped


def read_file(path: Path, overrides: Mapping[str, str] | None = None, advance: Callable[[int], None] = ignore,
              fields: Mapping[str, str] | None = None) -> tuple[list[Document], list[Skipped]]:
    """The articles of one file (many for a dump or feed) through its format's loader, and what was
    skipped; ``advance`` is told the bytes a streaming loader reads. ``overrides`` (metadata.jsonl)
    apply to text, Markdown and HTML files; ``fields`` name a dump's columns."""
    loader = loader_for(path)
    if loader is None:
        return [], [Skipped(str(path), f"not an article format rag reads ({', '.join(SUFFIXES)})")]
    if loader.max_bytes is not None and (size := _size(path)) > loader.max_bytes:
        return [], [Skipped(str(path), f"{size:,} bytes, over the {loader.max_bytes:,}-byte limit for a "
                                       f"{path.suffix} file, which is read whole; split it into smaller files, or "
                                       "put its articles in a JSONL or CSV dump, which is streamed and has no limit")]
    documents, skipped = [], []
    try:
        for item in loader.read(path, advance, fields or {}, overrides):
            if isinstance(item, CorpusError):
                skipped.append(Skipped(str(path), str(item)))
            elif len(item.text) > MAX_ARTICLE_CHARS:
                skipped.append(Skipped(item.path, f"{len(item.text):,} characters, over the "
                                                  f"{MAX_ARTICLE_CHARS:,}-character limit for one article; "
                                                  "split it into articles"))
            else:
                documents.append(dated(item))
    except CorpusError as problem:
        skipped.append(Skipped(str(path), str(problem)))
    except OSError as error:  # deleted or made unreadable since the corpus was listed
        skipped.append(Skipped(str(path), f"could not be read ({error.strerror or type(error).__name__}); "
                                          "check that it exists and is readable, then index again"))
    return documents, skipped


def dated(document: Document) -> Document:
    """An undated article with the date its text gives away (a dateline, the dates it states), marked as inferred."""
    inferred = None if document.date else inferred_date(document.text)
    return dataclasses.replace(document, date=inferred[0], date_evidence=inferred[1]) if inferred else document


def removed_records(corpus_dir: Path) -> set[str]:
    """Doc ids of the dump and feed records `rag remove` took out of the corpus."""
    listed = Path(corpus_dir) / REMOVED_FILE
    return set(listed.read_text().split()) if listed.exists() else set()


def fingerprint(content_hashes: dict[str, str], start: str | None = None) -> str:
    """One hash for a whole corpus (doc_id -> content hash): changes when any article is added,
    edited or removed. It is the XOR of one digest per article, so an update adjusts the fingerprint
    ``start`` by the articles it adds and removes (each counted once) without reading the others."""
    combined = int(start, 16) if start else 0
    for doc_id, content_hash in content_hashes.items():
        combined ^= int.from_bytes(hashlib.sha256(f"{doc_id}:{content_hash}".encode()).digest(), "big")
    return f"{combined:064x}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # gone already: reading it reports why


def _read_metadata(path: Path) -> tuple[dict[str, dict], list[Skipped]]:
    """doc_id -> fields from metadata.jsonl; bad lines are reported, not fatal."""
    if not path.exists():
        return {}, []
    metadata, skipped = {}, []
    allowed = {"title", "date", "source", "url", "author"}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            metadata[str(record["doc_id"])] = {k: v for k, v in record.items() if k in allowed and v}
        except (json.JSONDecodeError, KeyError, TypeError):
            skipped.append(Skipped(f"{path}:{number}", 'not a JSON object with a "doc_id"; fix or delete the line'))
    return metadata, skipped
