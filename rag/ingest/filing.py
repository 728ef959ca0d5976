"""Putting article files into the corpus folder and taking articles out of it (`rag add`, `rag remove`).

A file comes in under a safe name, checked by its format's loader and copied under a temporary name that
no index build reads, then renamed into place. A record of a dump or feed goes out by being listed in
``removed-records.ids``, which every later read of the corpus leaves out; the file itself stays.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from rag.errors import CorpusError
from rag.faults import point
from rag.files import write_text_durably
from rag.ingest.corpus import REMOVED_FILE, corpus_files, removed_records
from rag.ingest.loaders import loader_for
from rag.ingest.loaders.articles import METADATA_FILE
from rag.registry import SUFFIXES
from rag.types import Document

PARTIAL_COPY = ".part"  # the suffix of a file `rag add` is still copying in


def add_article(corpus_dir: str | Path, source: Path, filename: str | None = None,
                max_bytes: int | None = 5_000_000, fields: Mapping[str, str] | None = None) -> Path:
    """Copy the article file ``source`` into the corpus under a safe version of ``filename`` (its own
    name by default); raises CorpusError if it is unfit.

    The name keeps only letters, digits, dots, dashes and underscores, so it cannot leave the
    corpus directory, and never starts with a dot or a dash (hidden, or read as an option). The
    file must yield an article through its format's loader; a dump or feed is checked up to its
    first good record and copied in a stream, never read into memory whole.
    """
    source = Path(source)
    filename = filename or source.name
    corpus_dir = Path(corpus_dir).resolve()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename.replace("\\", "/")).name).lstrip("._-")[:120]
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES or not Path(name).stem or name == METADATA_FILE:
        raise CorpusError(f"{filename}: only articles ({', '.join(SUFFIXES)}) can be added")
    size = source.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise CorpusError(f"{filename}: {size:,} bytes is over the {max_bytes:,}-byte limit; split the file")
    target = corpus_dir / name
    if target.parent != corpus_dir:
        raise CorpusError(f"{filename}: not a plain file name")
    problem = "no article in it"
    try:  # the same checks as indexing, up to the first article
        for item in loader_for(target).read(source, fields=fields or {}):
            if isinstance(item, Document):
                break
            problem = str(item)
        else:
            raise CorpusError(problem)
    except CorpusError as error:
        raise CorpusError(f"{filename}: {error}") from None
    partial = corpus_dir / f".{name}{PARTIAL_COPY}"  # not an article suffix: an index build running now skips it
    shutil.copyfile(source, partial)
    point(f"copied {name} into the corpus")
    partial.replace(target)
    return target


def discard_partial_copies(corpus_dir: Path) -> None:
    """Delete the copies an `add` killed mid-copy left (run by a writer holding the index's lock)."""
    for path in Path(corpus_dir).glob(f".*{PARTIAL_COPY}"):
        path.unlink()


def remove_article(corpus_dir: str | Path, doc_id: str) -> Path:
    """Delete the article file with this doc id from the corpus, or, for a record of a dump or feed
    ("<file name>-<record id>"), list it in REMOVED_FILE so that reading the corpus leaves it out; returns
    the file changed. Raises CorpusError if the corpus has no such article."""
    corpus_dir = Path(corpus_dir).resolve()
    files = corpus_files(corpus_dir)
    for path in files:
        if path.stem == doc_id and loader_for(path).whole_file:
            point(f"removing {path.name} from the corpus")
            path.unlink()
            return path
    if any(doc_id.startswith(f"{path.stem}-") for path in files if not loader_for(path).whole_file):
        return _list_removed(corpus_dir, removed_records(corpus_dir) | {doc_id})
    raise CorpusError(f"no article {doc_id!r} in {corpus_dir}; pick one from the list")


def restore_records(corpus_dir: Path, doc_ids: set[str]) -> None:
    """Take records added again (`rag add` of their dump) off the removed list."""
    removed = removed_records(corpus_dir)
    if removed & doc_ids:
        _list_removed(Path(corpus_dir), removed - doc_ids)


def _list_removed(corpus_dir: Path, doc_ids: set[str]) -> Path:
    listed = corpus_dir / REMOVED_FILE
    write_text_durably(listed, "".join(f"{doc_id}\n" for doc_id in sorted(doc_ids)))
    return listed
