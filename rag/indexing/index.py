"""Opening an index at the generation its manifest names.

Layout of ``index/``: ``manifest.json`` (rag.indexing.manifest), the chunk store (documents, chunks with
their stable keys, and sentences with their typed spans and vectors: ``chunks.sqlite``, or collections on
the Milvus server that holds the vectors), the vector store (``vectors.faiss`` and its update segments, a
Milvus Lite file, or a collection on a Milvus server that the manifest names) and the keyword store
(``keywords/``, a tantivy index, or a collection beside Milvus vectors), all keyed by chunk key. On a
Milvus server with BM25 (2.5+) the directory holds the manifest alone. rag.indexing.write writes it
whole, rag.indexing.update in place.
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Config
from rag.errors import IndexCorruptError, StoreUnavailableError, damaged_index
from rag.indexing.lock import finish_interrupted_swap
from rag.indexing.manifest import MANIFEST, Manifest, manifest_stamp
from rag.stores.backends import check_backends, open_chunk_store, open_stores
from rag.stores.protocols import ChunkStore, KeywordStore, VectorStore


class Index:
    """An open index at the generation its manifest names: the chunk store, the vector store and the
    keyword index, all keyed by chunk keys. Nothing but the manifest is read into memory up front."""

    def __init__(self, directory: Path, manifest: Manifest, store: ChunkStore, vectors: VectorStore,
                 keywords: KeywordStore, stamp: tuple[int, int] | None = None):
        self.directory = directory
        self.manifest = manifest
        self.store = store
        self.vectors = vectors
        self.keywords = keywords
        self.stamp = stamp or manifest_stamp(directory)  # of the manifest read, taken before reading it

    def is_current(self) -> bool:
        """False once a writer has committed a newer generation or swapped in a new index."""
        return manifest_stamp(self.directory) in (self.stamp, None)  # None: a swap is under way

    @property
    def generation(self) -> int:
        return self.manifest.generation

    def __len__(self) -> int:
        return len(self.vectors)

    def close(self) -> None:
        self.store.close()
        self.vectors.close()
        self.keywords.close()


def open_index(index_dir: str | Path, config: Config | None = None) -> Index:
    """Open an index, checking it was built with the embedder and chunker ``config`` names."""
    index_dir = Path(index_dir)
    finish_interrupted_swap(index_dir)
    stamp = manifest_stamp(index_dir)
    manifest = Manifest.read(index_dir, config or Config())
    check_backends(manifest.backends, index_dir)
    store = None
    try:
        store = open_chunk_store(index_dir, manifest.backends, manifest.generation)
        vectors, keywords = open_stores(index_dir, manifest.backends, manifest.generation, store.hidden_keys())
        index = Index(index_dir, manifest, store, vectors, keywords, stamp)
    except StoreUnavailableError:
        if store is not None:
            store.close()
        raise  # a server that is down is not a damaged index
    except Exception as error:  # sqlite3, faiss, Milvus and tantivy each raise their own kinds
        if store is not None:
            store.close()
        raise IndexCorruptError(f"{damaged_index(index_dir, index_dir)} ({type(error).__name__})") from None
    if not store.chunk_count() == len(vectors) == len(keywords) == manifest.chunks:
        raise IndexCorruptError(damaged_index(index_dir, index_dir) + f" (chunk count differs from {MANIFEST})")
    return index
