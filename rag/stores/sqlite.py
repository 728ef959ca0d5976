"""The chunk store: documents, chunks and sentences in one SQLite file beside the vector and
keyword indexes.

Each chunk has a stable integer key: the vector and keyword indexes return keys, and a hit maps
back to its chunk with one indexed lookup. Text is read for the hits only, never all at once.

Updates happen in place and cost what changed. Every row records the generation (the count of
commits to the index) that added it and the one that removed it, if any. A store opened at
generation G shows the rows live at G, so an update first writes generation G+1 here and in the
other stores and becomes visible only when the manifest names G+1; an update killed before that
leaves G exactly as it was, and the next update discards what it left. Removed rows stay until
the next full write (``rag index --compact``); their keys are the ``hidden_keys`` that the vector
and keyword stores leave out of their results.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np

from rag.dates import EventDate, day_of_iso
from rag.faults import point
from rag.ingest.duplicates import SIMILARITY, band_keys, signature, similarity
from rag.stores.protocols import VectorStore
from rag.types import Chunk, Document, Sentence, TypedSpan

CHUNKS_FILE = "chunks.sqlite"  # its file in the index directory
_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT NOT NULL, generation INTEGER NOT NULL, removed_in INTEGER,
    title TEXT NOT NULL, date TEXT, source TEXT, url TEXT, author TEXT,
    path TEXT NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL,
    date_evidence TEXT NOT NULL,  -- empty for a published date, else what it was inferred from
    signature BLOB NOT NULL,  -- MinHash of the text (rag.ingest.duplicates), to confirm a near-duplicate
    PRIMARY KEY (doc_id, generation)
);
CREATE INDEX documents_by_date ON documents(date);
-- An update finds what a killed update left, and what updates removed, without scanning every row.
CREATE INDEX documents_by_generation ON documents(generation);
CREATE INDEX documents_removed ON documents(removed_in) WHERE removed_in IS NOT NULL;
CREATE TABLE chunks (
    chunk_key INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    generation INTEGER NOT NULL, removed_in INTEGER,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
CREATE INDEX chunks_by_generation ON chunks(generation);
CREATE INDEX chunks_removed ON chunks(removed_in) WHERE removed_in IS NOT NULL;
CREATE TABLE sentences (
    sentence_id TEXT NOT NULL, doc_id TEXT NOT NULL, generation INTEGER NOT NULL, removed_in INTEGER,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    spans TEXT NOT NULL,  -- JSON list of [start, end, kind], offsets in the sentence
    dates TEXT NOT NULL,  -- JSON list of [phrase, first, last, month, day]: the dates it talks about
    vector BLOB NOT NULL,  -- float32, unit length
    PRIMARY KEY (sentence_id, generation)
);
CREATE INDEX sentences_by_doc ON sentences(doc_id, start);
CREATE INDEX sentences_by_generation ON sentences(generation);
CREATE INDEX sentences_removed ON sentences(removed_in) WHERE removed_in IS NOT NULL;
-- The resolved event dates of the sentences again, one row each, so a date range finds its chunks on an index.
CREATE TABLE event_dates (
    doc_id TEXT NOT NULL, generation INTEGER NOT NULL, removed_in INTEGER,
    position INTEGER NOT NULL,  -- the sentence's start in the document text
    first TEXT NOT NULL, last TEXT NOT NULL
);
CREATE INDEX event_dates_by_first ON event_dates(first, last);
CREATE INDEX event_dates_by_doc ON event_dates(doc_id);
CREATE INDEX event_dates_by_generation ON event_dates(generation);
CREATE INDEX event_dates_removed ON event_dates(removed_in) WHERE removed_in IS NOT NULL;
-- Each article's LSH band keys: articles sharing one are candidate near-duplicates.
CREATE TABLE bands (
    doc_id TEXT NOT NULL, generation INTEGER NOT NULL, removed_in INTEGER, band INTEGER NOT NULL
);
CREATE INDEX bands_by_band ON bands(band);
CREATE INDEX bands_by_doc ON bands(doc_id);
CREATE INDEX bands_by_generation ON bands(generation);
CREATE INDEX bands_removed ON bands(removed_in) WHERE removed_in IS NOT NULL;
"""
_TABLES = ("documents", "chunks", "sentences", "event_dates", "bands")
_DOCUMENT_COLUMNS = "doc_id, title, date, source, url, path, content_hash, text, date_evidence, author"
_CHUNK_COLUMNS = 'chunk_key, chunk_id, doc_id, start, "end", text'
_SENTENCE_COLUMNS = 'sentence_id, doc_id, start, "end", text, spans, dates, vector'


class SqliteChunkStore:
    """The store as of one generation, in ``chunks.sqlite`` of the index directory. Safe to share between
    threads: it only reads; writes open a connection of their own."""

    name = "sqlite"

    def __init__(self, path: Path, generation: int):
        self.path = Path(path)
        self.generation = int(generation)
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        for table in _TABLES:  # the rows live at this generation; temporary views need no write access
            self._db.execute(f"CREATE TEMP VIEW live_{table} AS SELECT * FROM main.{table} WHERE generation <= "
                             f"{self.generation} AND (removed_in IS NULL OR removed_in > {self.generation})")
        self._db.execute("SELECT * FROM live_chunks LIMIT 1").fetchone()  # fails fast on a damaged file
        # Rows live at a generation never change, so each date range's keys are read once.
        self.keys_dated = functools.lru_cache(maxsize=16)(self._keys_dated)
        self.keys_with_events = functools.lru_cache(maxsize=16)(self._keys_with_events)

    @classmethod
    def write(cls, directory: Path, vectors: VectorStore, dimension: int, documents: list[Document],
              keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence]) -> dict:
        """A new store in ``directory`` holding these rows as generation 1; its manifest entry."""
        db = sqlite3.connect(Path(directory) / CHUNKS_FILE)
        try:
            db.executescript(_SCHEMA)
            _insert(db, 1, documents, keyed_chunks, sentences)
            point("store rows inserted")
            db.commit()
            point("store committed")
        finally:
            db.close()
        return {"store": cls.name}

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int) -> SqliteChunkStore:
        return cls(Path(directory) / CHUNKS_FILE, generation)

    def retire(self) -> None:
        pass  # the file goes with its index directory

    def write_next(self, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence],
                   removed_doc_ids: list[str]) -> dict:
        """Write generation + 1 in one transaction: the rows of ``removed_doc_ids`` marked removed, the given
        rows added. First discards what an update killed before its commit left."""
        committed = self.generation
        db = sqlite3.connect(self.path)
        try:
            with db:
                for table in _TABLES:
                    db.execute(f"DELETE FROM {table} WHERE generation > ?", (committed,))
                    db.execute(f"UPDATE {table} SET removed_in = NULL WHERE removed_in > ?", (committed,))
                for batch in _batches(list(removed_doc_ids)):
                    marks = ",".join("?" * len(batch))
                    for table in _TABLES:
                        db.execute(f"UPDATE {table} SET removed_in = ? "
                                   f"WHERE removed_in IS NULL AND doc_id IN ({marks})",
                                   (committed + 1, *batch))
                _insert(db, committed + 1, documents, keyed_chunks, sentences)
                point("store generation inserted")
            point("store generation committed")
        finally:
            db.close()
        return {"store": self.name}

    def close(self) -> None:
        self._db.close()

    def documents(self) -> list[Document]:
        rows = self._db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM live_documents ORDER BY doc_id").fetchall()
        return [_document(row) for row in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self._db.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM live_documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _document(row) if row else None

    def articles(self, doc_ids: set[str]) -> dict[str, tuple[str, date | None, str]]:
        """doc_id -> (title, date, date evidence) of the given articles, without reading their text."""
        found = {}
        for batch in _batches(sorted(doc_ids)):
            query = ("SELECT doc_id, title, date, date_evidence FROM live_documents "
                     f"WHERE doc_id IN ({','.join('?' * len(batch))})")
            found.update({doc_id: (title, day_of_iso(day), evidence)
                          for doc_id, title, day, evidence in self._db.execute(query, batch)})
        return found

    def duplicates(self, doc_ids: set[str] | None = None) -> dict[str, tuple[str, ...]]:
        """doc_id -> its live near-duplicates (rag.ingest.duplicates), for the given articles or every one;
        articles without copies are left out."""
        candidates = ("SELECT DISTINCT a.doc_id, b.doc_id FROM live_bands a "
                      "JOIN live_bands b ON a.band = b.band AND a.doc_id != b.doc_id")
        if doc_ids is None:
            pairs = set(self._db.execute(candidates))
        else:
            pairs = set()
            for batch in _batches(sorted(doc_ids)):
                pairs.update(self._db.execute(f"{candidates} WHERE a.doc_id IN ({','.join('?' * len(batch))})", batch))
        pairs = sorted(pairs)
        signatures = self._signatures({doc_id for pair in pairs for doc_id in pair})
        found: dict[str, list[str]] = {}
        # Every candidate pair compared at once: articles that share boilerplate can make thousands.
        agreeing = similarity(np.stack([signatures[first] for first, _ in pairs]),
                              np.stack([signatures[second] for _, second in pairs])) if pairs else []
        for (first, second), share in zip(pairs, agreeing, strict=True):
            if share >= SIMILARITY:
                found.setdefault(first, []).append(second)
        return {doc_id: tuple(others) for doc_id, others in found.items()}

    def _signatures(self, doc_ids: set[str]) -> dict[str, np.ndarray]:
        found = {}
        for batch in _batches(sorted(doc_ids)):
            query = f"SELECT doc_id, signature FROM live_documents WHERE doc_id IN ({','.join('?' * len(batch))})"
            found.update({doc_id: np.frombuffer(blob, dtype=np.uint32)
                          for doc_id, blob in self._db.execute(query, batch)})
        return found

    def event_dates(self, doc_ids: set[str]) -> dict[str, list[tuple[int, EventDate]]]:
        """doc_id -> (sentence start, event date) of every date the given articles talk about."""
        found: dict[str, list[tuple[int, EventDate]]] = {doc_id: [] for doc_id in doc_ids}
        for batch in _batches(sorted(doc_ids)):
            query = (f"SELECT doc_id, start, dates FROM live_sentences WHERE doc_id IN ({','.join('?' * len(batch))}) "
                     "AND dates != '[]'")
            for doc_id, start, dates in self._db.execute(query, batch):
                found[doc_id].extend((start, event) for event in _event_dates(dates))
        return found

    def content_hashes(self, doc_ids: list[str] | None = None) -> dict[str, str]:
        """doc_id -> content hash of every live article, or of those of ``doc_ids`` that are live."""
        if doc_ids is None:
            return dict(self._db.execute("SELECT doc_id, content_hash FROM live_documents"))
        found = {}
        for batch in _batches(list(doc_ids)):
            query = f"SELECT doc_id, content_hash FROM live_documents WHERE doc_id IN ({','.join('?' * len(batch))})"
            found.update(self._db.execute(query, batch))
        return found

    def catalogue(self, since: date | None = None, until: date | None = None) -> list[tuple]:
        """(doc_id, title, date, date evidence, source, author, chunk count) of the live articles dated
        within [since, until] (every one when neither is given), oldest first and undated last."""
        within, bounds = _dated_within(since, until)
        query = ("SELECT d.doc_id, d.title, d.date, d.date_evidence, d.source, d.author, "
                 "(SELECT count(*) FROM live_chunks c WHERE c.doc_id = d.doc_id) "
                 f"FROM live_documents d WHERE 1{within} ORDER BY d.date IS NULL, d.date, d.doc_id")
        return [(doc_id, title, day_of_iso(day), evidence, source, author, chunks)
                for doc_id, title, day, evidence, source, author, chunks in self._db.execute(query, bounds)]

    def chunk_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM live_chunks").fetchone()[0]

    def sentence_count(self, doc_ids: list[str]) -> int:
        """Live sentences of the given articles."""
        total = 0
        for batch in _batches(list(doc_ids)):
            query = f"SELECT count(*) FROM live_sentences WHERE doc_id IN ({','.join('?' * len(batch))})"
            total += self._db.execute(query, batch).fetchone()[0]
        return total

    def hidden_keys(self) -> np.ndarray:
        """Keys of chunks removed by an update but still in the stores until the next full write."""
        query = "SELECT chunk_key FROM chunks WHERE removed_in <= ?"
        return np.array([key for (key,) in self._db.execute(query, (self.generation,))], dtype=np.int64)

    def chunks(self, keys: list[int] | None = None) -> list[Chunk]:
        """Chunks of the given keys, in that order; all live chunks in key order when ``keys`` is None."""
        return [chunk for _, chunk in self.keyed_chunks(keys)]

    def keyed_chunks(self, keys: list[int] | None = None) -> list[tuple[int, Chunk]]:
        if keys is None:
            query = f"SELECT {_CHUNK_COLUMNS} FROM live_chunks ORDER BY chunk_key"
            return [(record[0], Chunk(*record[1:])) for record in self._db.execute(query)]
        by_key = {}
        for batch in _batches(list(keys)):
            query = f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE chunk_key IN ({','.join('?' * len(batch))})"
            by_key.update({record[0]: Chunk(*record[1:]) for record in self._db.execute(query, batch)})
        return [(key, by_key[key]) for key in keys]

    def document_chunks(self, doc_id: str) -> list[tuple[int, Chunk]]:
        """(key, chunk) of one article's chunks, in order."""
        query = f"SELECT {_CHUNK_COLUMNS} FROM live_chunks WHERE doc_id = ? ORDER BY start"
        return [(record[0], Chunk(*record[1:])) for record in self._db.execute(query, (doc_id,))]

    def _keys_dated(self, since: date | None, until: date | None) -> np.ndarray:
        """Keys of the chunks of articles dated within [since, until] (an undated article is in no range);
        called as ``keys_dated``, cached per store."""
        within, bounds = _dated_within(since, until)
        query = f"SELECT chunk_key FROM live_chunks JOIN live_documents USING (doc_id) WHERE date IS NOT NULL{within}"
        return np.array([key for (key,) in self._db.execute(query, bounds)], dtype=np.int64)

    def _keys_with_events(self, since: date | None, until: date | None) -> np.ndarray:
        """Keys of the chunks holding a sentence that talks about a date within [since, until], whatever
        their article's date; called as ``keys_with_events``, cached per store."""
        conditions = " AND ".join(["1", *(["e.last >= ?"] if since else []), *(["e.first <= ?"] if until else [])])
        bounds = [day.isoformat() for day in (since, until) if day]
        query = ("SELECT DISTINCT c.chunk_key FROM live_event_dates e JOIN live_chunks c ON c.doc_id = e.doc_id "
                 f'AND e.position >= c.start AND e.position < c."end" WHERE {conditions}')
        return np.array(sorted(key for (key,) in self._db.execute(query, bounds)), dtype=np.int64)

    def max_key(self) -> int:
        """The largest key ever given in this store, removed chunks included: keys are never reused."""
        return self._db.execute("SELECT coalesce(max(chunk_key), -1) FROM chunks").fetchone()[0]

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        """Every sentence of one article, in order, with spans and vectors."""
        query = f"SELECT {_SENTENCE_COLUMNS} FROM live_sentences WHERE doc_id = ? ORDER BY start"
        return [_sentence(record) for record in self._db.execute(query, (doc_id,))]

    def sentences_in(self, chunks: list[Chunk]) -> dict[str, tuple[Sentence, ...]]:
        """chunk_id -> the sentences each chunk overlaps, in order (one query per chunk, on an index)."""
        return {chunk.chunk_id: tuple(_sentence(record) for record in self._overlapping(chunk, _SENTENCE_COLUMNS))
                for chunk in chunks}

    def sentence_vectors(self, chunks: list[Chunk]) -> dict[str, np.ndarray]:
        return {chunk.chunk_id: _rows([vector for (vector,) in self._overlapping(chunk, "vector")]) for chunk in chunks}

    def _overlapping(self, chunk: Chunk, columns: str) -> sqlite3.Cursor:
        """The live sentences that ``chunk`` overlaps, in order: their ``columns``."""
        return self._db.execute(f'SELECT {columns} FROM live_sentences WHERE doc_id = ? AND start < ? AND "end" > ? '
                                "ORDER BY start", (chunk.doc_id, chunk.end, chunk.start))


def _rows(vectors: list[bytes]) -> np.ndarray:
    """Stored float32 vectors, one row each (none: an empty array)."""
    if not vectors:
        return np.empty((0, 0), dtype=np.float32)
    return np.frombuffer(b"".join(vectors), dtype=np.float32).reshape(len(vectors), -1)


def _insert(db: sqlite3.Connection, generation: int, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]],
            sentences: list[Sentence]) -> None:
    signatures = [signature(d.text) for d in documents]
    db.executemany(
        f"INSERT INTO documents (generation, {_DOCUMENT_COLUMNS}, signature) VALUES ({', '.join('?' * 12)})",
        [
            (generation, d.doc_id, d.title, d.date.isoformat() if d.date else None, d.source, d.url, d.path,
             d.content_hash, d.text, d.date_evidence, d.author, values.tobytes())
            for d, values in zip(documents, signatures, strict=True)
        ],
    )
    db.executemany("INSERT INTO bands (generation, doc_id, band) VALUES (?, ?, ?)",
                   [(generation, d.doc_id, key) for d, values in zip(documents, signatures, strict=True)
                    for key in band_keys(values)])
    db.executemany(
        f"INSERT INTO chunks (generation, {_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(generation, key, c.chunk_id, c.doc_id, c.start, c.end, c.text) for key, c in keyed_chunks],
    )
    db.executemany(
        f"INSERT INTO sentences (generation, {_SENTENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (generation, s.sentence_id, s.doc_id, s.start, s.end, s.text,
             json.dumps([[span.start, span.end, span.kind] for span in s.spans]),
             json.dumps([e.stored() for e in s.dates]),
             np.asarray(s.vector, dtype=np.float32).tobytes())
            for s in sentences
        ],
    )
    db.executemany(
        "INSERT INTO event_dates (generation, doc_id, position, first, last) VALUES (?, ?, ?, ?, ?)",
        [(generation, s.doc_id, s.start, e.first.isoformat(), e.last.isoformat())
         for s in sentences for e in s.dates if e.first is not None],
    )


def _dated_within(since: date | None, until: date | None) -> tuple[str, list[str]]:
    """SQL conditions on the article ``date`` column for [since, until], and their bound values."""
    conditions, bounds = "", []
    if since is not None:
        conditions, bounds = conditions + " AND date >= ?", [*bounds, since.isoformat()]
    if until is not None:
        conditions, bounds = conditions + " AND date <= ?", [*bounds, until.isoformat()]
    return conditions, bounds


def _batches(values: list, size: int = 500):
    """SQLite caps the bound parameters of one statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _event_dates(stored: str) -> tuple[EventDate, ...]:
    return tuple(EventDate.from_stored(values) for values in json.loads(stored))


def _document(row: tuple) -> Document:
    doc_id, title, iso_date, source, url, path, content_hash, text, date_evidence, author = row
    return Document(
        doc_id=doc_id, text=text, title=title, date=day_of_iso(iso_date), source=source, url=url, path=path,
        content_hash=content_hash, date_evidence=date_evidence, author=author,
    )


def _sentence(record: tuple) -> Sentence:
    sentence_id, doc_id, start, end, text, spans, dates, vector = record
    return Sentence(
        sentence_id=sentence_id, doc_id=doc_id, start=start, end=end, text=text,
        spans=tuple(TypedSpan(a, b, kind, text[a:b]) for a, b, kind in json.loads(spans)),
        dates=_event_dates(dates),
        vector=np.frombuffer(vector, dtype=np.float32),
    )
