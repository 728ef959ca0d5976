"""A full write: the whole index into a fresh directory beside the old one, swapped in with renames.

Run for the first build, ``--rebuild``, ``--compact``, or once updates have piled up. Unchanged
articles keep their keys and vectors (nothing is embedded twice); new ones get keys never used before in
this index. The manifest is written last: a directory without one is never taken for an index, and a
write killed at any moment leaves the previous index as it was (rag.indexing.lock tidies what is left).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from rag.config import Config
from rag.faults import point
from rag.indexing.index import Index
from rag.indexing.lock import retired, staging_prefix
from rag.indexing.manifest import Manifest
from rag.indexing.plan import Plan
from rag.indexing.prepare import Preparer, days_of, prepare
from rag.ingest.corpus import fingerprint
from rag.ingest.tagging import SPACY_MODEL
from rag.models.embedders import Embedder
from rag.registry import AUTOMATIC_VECTOR_STORE
from rag.stores.backends import (
    chunk_store_beside,
    create_keyword_store,
    create_vector_store,
    location_of,
    open_chunk_store,
    resolve_location,
)
from rag.types import Chunk, Document, Sentence


def write_whole(previous: Index | None, plan: Plan, index_dir: Path, config: Config, embedder: Embedder,
                progress: bool, prepare_with: Preparer = prepare) -> tuple[int, int]:
    """Write every article of ``plan`` into a fresh directory and swap it in for ``previous`` (if any);
    returns (chunks embedded, chunks in the index). ``prepare_with``: what prepares the new articles."""
    next_key = previous.store.max_key() + 1 if previous else 0
    prepared = prepare_with(list(plan.fresh), next_key, config, embedder, progress)
    by_doc: dict[str, list[tuple[int, Chunk]]] = {}
    for key, chunk in prepared.chunks:
        by_doc.setdefault(chunk.doc_id, []).append((key, chunk))
    vector_of = dict(zip((key for key, _ in prepared.chunks), prepared.vectors, strict=True))
    chunks, sentences = [], list(prepared.sentences)
    fresh_ids = {document.doc_id for document in plan.fresh}
    for document in plan.documents:
        if document.doc_id in fresh_ids:
            chunks.extend(by_doc.get(document.doc_id, []))
            continue
        kept = previous.store.document_chunks(document.doc_id)
        keys = [key for key, _ in kept]
        vector_of.update(zip(keys, previous.vectors.vectors_of(np.array(keys)), strict=True))
        sentences.extend(previous.store.document_sentences(document.doc_id))
        chunks.extend(kept)
    location, keywords = _stores(previous, config, len(chunks))
    _write_atomically(index_dir, list(plan.documents), chunks, sentences, vector_of, location, keywords, config,
                      embedder)
    if previous is not None:
        previous.keywords.retire()
        previous.vectors.retire()
        previous.store.retire()
    return len(prepared.chunks), len(chunks)


def _stores(previous: Index | None, config: Config, chunks: int) -> tuple[str, str | None]:
    """The vector store and keyword store to write: as the config asks, else as the index was built."""
    built = location_of(previous.manifest.backends) if previous else None
    location = config.vector_store or built or AUTOMATIC_VECTOR_STORE
    keywords = config.keyword_store
    if keywords is None and previous is not None and location == built:
        keywords = previous.manifest.keyword_store  # as the index was built
    return resolve_location(location, chunks, config.exact_search_below), keywords


def _write_atomically(index_dir: Path, documents: list[Document], chunks: list[tuple[int, Chunk]],
                      sentences: list[Sentence], vector_of: dict[int, np.ndarray], location: str,
                      keyword_kind: str | None, config: Config, embedder: Embedder) -> None:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(index_dir), dir=index_dir.parent))
    vectors = keywords = store_entry = None
    try:
        keys = np.array([key for key, _ in chunks], dtype=np.int64)
        matrix = np.stack([vector_of[key] for key in keys]).astype(np.float32)
        days = days_of(documents, chunks)
        vectors = create_vector_store(location, staging, matrix.shape[1], config)
        store_entry = chunk_store_beside(vectors).write(staging, vectors, matrix.shape[1], documents, chunks,
                                                                 sentences)
        vectors.add(keys, matrix, days)
        vector_entry = vectors.commit(staging)
        keywords = create_keyword_store(staging, vectors, keyword_kind)
        keywords.add(keys, [chunk.text for _, chunk in chunks], days)
        keyword_entry = keywords.commit()
        keywords.close()
        vectors.close()
        Manifest.new(config, {**vector_entry, **keyword_entry, **store_entry}, embedder.name, int(matrix.shape[1]),
                     fingerprint({d.doc_id: d.content_hash for d in documents}), len(documents), len(chunks),
                     len(sentences), SPACY_MODEL).write(staging)
        _swap_into_place(staging, index_dir)
    except BaseException:
        if store_entry is not None:  # server collections the failed build made
            _retire_chunk_store(staging, store_entry)
        for store in (keywords, vectors):
            if store is not None:
                store.retire()
                store.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _retire_chunk_store(directory: Path, entry: dict) -> None:
    store = open_chunk_store(directory, entry, generation=1)
    store.retire()
    store.close()


def _swap_into_place(staging: Path, index_dir: Path) -> None:
    old = retired(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        index_dir.rename(old)
        point("retired the old index")
    staging.rename(index_dir)
    point("swapped in the new index")
    shutil.rmtree(old, ignore_errors=True)
