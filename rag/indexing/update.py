"""Updates in place that cost what changed.

An update writes the next generation into the stores where they are (rag.stores.sqlite says how) and
becomes visible when the new manifest replaces the old one in a single rename: killed at any moment
before that, readers still see the previous generation, and the next update discards what it left.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.config import Config
from rag.errors import IndexBusyError, InvalidInputError
from rag.indexing.index import Index, open_index
from rag.indexing.lock import writing
from rag.indexing.manifest import manifest_stamp
from rag.indexing.plan import IndexReport
from rag.indexing.prepare import Preparer, days_of, prepare
from rag.ingest.corpus import fingerprint
from rag.models.embedders import Embedder, make_embedder
from rag.stores.backends import location_of, open_chunk_store
from rag.types import Document


def update_index(index_dir: str | Path, add: list[Document] = (), remove: list[str] = (), config: Config | None = None,
                 embedder: Embedder | None = None, progress: bool = False) -> IndexReport:
    """Open the index in ``index_dir``, ``update`` it, and close it."""
    config = config or Config()
    with writing(index_dir):
        index = open_index(index_dir, config)
        try:
            return update(index, add, remove, config, embedder, progress)
        finally:
            index.close()


def update(index: Index, add: list[Document] = (), remove: list[str] = (), config: Config | None = None,
           embedder: Embedder | None = None, progress: bool = False) -> IndexReport:
    """Add (or replace, by doc_id) the articles ``add`` and remove the doc ids ``remove``, in place,
    without reading a corpus directory; ``index`` then shows the new generation. For a process that
    keeps an index open (the chat app, a script): nothing is loaded again."""
    config = config or Config()
    # Chunks and vectors made by other settings would not match the index's.
    if differences := index.manifest.settings_differences(config):
        raise InvalidInputError(f"index {index.directory} was built with {', '.join(differences)}; "
                                "pass the config it was built with")
    check_embedder(embedder, config.embedder)
    with writing(index.directory):
        if not index.is_current():
            raise IndexBusyError(f"another process changed index {index.directory} since this one opened it; "
                                 "open it again (rag.load) and repeat the change")
        known = index.store.content_hashes([*remove, *(document.doc_id for document in add)])
        if unknown := sorted(set(remove) - set(known)):
            raise InvalidInputError(f"not in index {index.directory}: {', '.join(unknown)}; "
                                    "a doc id is the article's file name without its extension")
        replaced = [document.doc_id for document in add if document.doc_id in known]
        if add and embedder is None:
            embedder = make_embedder(config.embedder)  # a removal alone loads no model
        gone = sorted(set(remove) | set(replaced))
        embedded, total = write_update(index, list(add), gone, config, embedder, progress)
    return IndexReport(added=tuple(document.doc_id for document in add if document.doc_id not in known),
                       changed=tuple(replaced), removed=tuple(remove), embedded_chunks=embedded, total_chunks=total,
                       in_place=True)


def check_embedder(embedder: Embedder | None, wanted: str) -> None:
    """The manifest names the vectors by the config's embedder: an index never holds another's vectors."""
    if embedder is not None and embedder.name != wanted:
        raise InvalidInputError(f"embedder {embedder.name!r} is not the one the index is for ({wanted!r}); "
                                f"pass that embedder, or a config with embedder={embedder.name!r}")


def fits_update(previous: Index, config: Config) -> bool:
    """An update in place, unless a different store was asked for or updates have piled up."""
    built_with = previous.manifest
    same_store = (config.vector_store in (None, location_of(built_with.backends))
                  and config.keyword_store in (None, built_with.keyword_store))
    hidden = len(previous.keywords.hidden)
    return (same_store and previous.generation <= config.compact_after_updates
            and hidden <= config.compact_when_hidden * max(len(previous), 1))


def write_update(index: Index, documents: list[Document], removed_ids: list[str], config: Config,
                 embedder: Embedder | None, progress: bool, prepare_with: Preparer = prepare) -> tuple[int, int]:
    """Write generation + 1 into the stores of ``index`` and commit it with the manifest; ``index`` then
    shows it. Returns (chunks embedded, chunks in the index). ``prepare_with``: what prepares the articles."""
    generation = index.generation
    prepared = prepare_with(documents, index.store.max_key() + 1, config, embedder, progress)
    removed_keys = np.array([key for doc_id in removed_ids for key, _ in index.store.document_chunks(doc_id)],
                            dtype=np.int64)
    removed_sentences = index.store.sentence_count(removed_ids)
    removed_hashes = index.store.content_hashes(removed_ids)
    added_hashes = {document.doc_id: document.content_hash for document in documents}

    store_entry = index.store.write_next(documents, prepared.chunks, prepared.sentences, removed_ids)
    keys = np.array([key for key, _ in prepared.chunks], dtype=np.int64)
    days = days_of(documents, prepared.chunks)
    index.vectors.discard_after(index.directory, generation)
    index.vectors.add(keys, prepared.vectors, days)
    index.vectors.remove(removed_keys)
    vector_entry = index.vectors.commit(index.directory)
    index.keywords.discard_after(generation)
    index.keywords.add(keys, [chunk.text for _, chunk in prepared.chunks], days)
    index.keywords.remove(removed_keys)
    keyword_entry = index.keywords.commit()

    old = index.manifest
    manifest = old.updated(
        backends={**old.backends, **store_entry, **vector_entry, **keyword_entry},
        fingerprint=fingerprint(added_hashes, fingerprint(removed_hashes, old.fingerprint)),
        documents=old.documents - len(removed_hashes) + len(added_hashes),
        chunks=old.chunks - len(removed_keys) + len(keys),
        sentences=old.sentences - removed_sentences + len(prepared.sentences),
        record_fields=dict(config.record_fields or old.record_fields),
    )
    manifest.write(index.directory)  # the commit: until this rename, every reader sees the previous generation
    index.manifest, index.stamp = manifest, manifest_stamp(index.directory)
    index.store.close()
    index.store = open_chunk_store(index.directory, manifest.backends, generation + 1)
    return len(keys), manifest.chunks
