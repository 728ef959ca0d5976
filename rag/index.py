"""The index directory and loading it.

Layout of ``index/``: ``manifest.json`` (what built it, backends included, and the generation it
shows), ``chunks.sqlite`` (documents, chunks with their stable keys, and sentences with their typed
spans and vectors), the vector store (``vectors.faiss`` and its update segments, a Milvus Lite file,
or a collection on a Milvus server that the manifest names) and the keyword store (``keywords/``, a
tantivy index, or a second collection beside Milvus vectors), all keyed by chunk key. rag.build writes it: whole into a fresh directory swapped in with renames, or in place
by updates that become visible only when the manifest is replaced (rag.store says how).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from rag.config import Config
from rag.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, StoreUnavailableError, damaged_index
from rag.lexical import KEYWORD_BACKENDS, KeywordStore, open_keyword_store
from rag.locking import finish_interrupted_swap
from rag.store import ChunkStore
from rag.vectors import VectorStore, backends, open_vector_store

# 2: sentences with offsets, typed spans (spaCy) and one embedding each, for the answer readers.
# 3: chunks keyed by stable integer keys that the vector and keyword indexes return (no shared row positions).
# 4: generations: updates in place (store rows, FAISS segments, tantivy keywords) made visible by the manifest.
# 5: event dates per sentence, inferred article dates with their evidence, near-duplicate groups.
FORMAT_VERSION = 5
log = logging.getLogger("rag")
MANIFEST, STORE, KEYWORDS = "manifest.json", "chunks.sqlite", "keywords"


class Index:
    """A loaded index at the generation its manifest names: the chunk store, the vector store and the
    keyword index, all keyed by chunk keys. Nothing but the manifest is read into memory up front."""

    def __init__(self, directory: Path, manifest: dict, store: ChunkStore, vectors: VectorStore, keywords: KeywordStore,
                 stamp: tuple[int, int] | None = None):
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
        return self.manifest["generation"]

    def __len__(self) -> int:
        return len(self.vectors)

    def close(self) -> None:
        self.store.close()
        self.vectors.close()
        self.keywords.close()


def load_index(index_dir: str | Path, config: Config | None = None) -> Index:
    """Open an index, checking it was built with the embedder and chunker ``config`` names."""
    index_dir = Path(index_dir)
    finish_interrupted_swap(index_dir)
    stamp = manifest_stamp(index_dir)
    manifest = read_manifest(index_dir)
    _check_compatible(manifest, config or Config(), index_dir)
    _check_backends(manifest, index_dir)
    generation = manifest["generation"]
    try:
        store = ChunkStore(index_dir / STORE, generation)
        hidden = store.hidden_keys()
        vectors = open_vector_store(index_dir, manifest["backends"], generation, hidden)
        keywords = open_keyword_store(index_dir / KEYWORDS, manifest["backends"], vectors, generation, hidden)
        index = Index(index_dir, manifest, store, vectors, keywords, stamp)
    except StoreUnavailableError:
        raise  # a server that is down is not a damaged index
    except Exception as error:  # sqlite3, faiss, Milvus and tantivy each raise their own kinds
        raise IndexCorruptError(f"{damaged_index(index_dir, index_dir)} ({type(error).__name__})") from None
    if not store.chunk_count() == len(vectors) == len(keywords) == manifest["chunks"]:
        raise IndexCorruptError(damaged_index(index_dir, index_dir) + f" (chunk count differs from {MANIFEST})")
    return index


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """Which manifest file is in place: every commit replaces it with a new file (a new inode)."""
    try:
        status = (Path(index_dir) / MANIFEST).stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def read_manifest(index_dir: Path) -> dict:
    manifest_path = index_dir / MANIFEST
    if not manifest_path.exists():
        if (index_dir / STORE).exists():  # the rest of an index is there: damaged, not absent
            raise IndexCorruptError(damaged_index(manifest_path, index_dir) + " (missing)")
        raise IndexNotFoundError(f"no index in {index_dir}; build one with: rag index --corpus CORPUS_DIR --index {index_dir}")
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexCorruptError(damaged_index(manifest_path, index_dir)) from None


def older_format(index_dir: Path) -> bool:
    """An index of an older format is rebuilt whole, saying so: its parts cannot be reused."""
    try:
        version = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8")).get("format_version")
    except (OSError, ValueError, AttributeError):
        return False  # no index yet, or a damaged one that load_index reports
    if version == FORMAT_VERSION:
        return False
    log.warning("rag: index %s has format version %s, this rag writes %s; rebuilding it whole", index_dir, version,
                FORMAT_VERSION)
    return True


def _check_backends(manifest: dict, index_dir: Path) -> None:
    built_with = manifest.get("backends", {})
    for part, known in (("vectors", list(backends())), ("keywords", KEYWORD_BACKENDS)):
        if built_with.get(part) not in known:
            raise IndexMismatchError(
                f"index {index_dir} was built with {part} backend {built_with.get(part)!r}, which this rag cannot read "
                f"(it reads {', '.join(known)}); rebuild it with: rag index --rebuild --index {index_dir}")


def _check_compatible(manifest: dict, config: Config, index_dir: Path) -> None:
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index {index_dir} has format version {manifest.get('format_version')}, this rag reads "
            f"{FORMAT_VERSION}; rebuild it with: rag index --rebuild --index {index_dir}"
        )
    differences = settings_differences(manifest, config)
    if differences:
        raise IndexMismatchError(
            f"index {index_dir} was built with {', '.join(differences)}; rebuild it with: "
            f"rag index --rebuild --index {index_dir}, or use the settings it was built with"
        )


def settings_differences(manifest: dict, config: Config) -> list[str]:
    """Each index setting (embedder, chunk size and overlap) the index was built with that ``config`` does not name."""
    built_with, wanted = manifest.get("settings", {}), config.index_settings()
    return [f"{key} {built_with.get(key)!r} (wanted {value!r})" for key, value in wanted.items() if built_with.get(key) != value]


def record_fields(config: Config, index_dir: Path) -> dict[str, str]:
    """The dump columns to read records by: the config's, else those the index was built with."""
    if config.record_fields is not None:
        return dict(config.record_fields)
    try:
        return dict(read_manifest(Path(index_dir)).get("record_fields", {}))
    except (IndexNotFoundError, IndexCorruptError):
        return {}
