"""The chunk store: documents, chunks and sentences in one SQLite file beside the vector and
keyword indexes.

Each chunk has a stable integer key: the vector and keyword indexes return keys, and a hit maps
back to its chunk with one indexed lookup. Text is read for the hits only, never all at once.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np

from rag.types import Chunk, Document, Sentence, TypedSpan

_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, source TEXT, url TEXT,
    path TEXT NOT NULL, content_hash TEXT NOT NULL, text TEXT NOT NULL
);
CREATE INDEX documents_by_date ON documents(date);
CREATE TABLE chunks (
    chunk_key INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL REFERENCES documents,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id);
CREATE TABLE sentences (
    sentence_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    spans TEXT NOT NULL,  -- JSON list of [start, end, kind], offsets in the sentence
    vector BLOB NOT NULL  -- float32, unit length
);
CREATE INDEX sentences_by_doc ON sentences(doc_id, start);
"""


class ChunkStore:
    """Read access to a written store. Safe to share between threads: it only reads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._db.execute("SELECT count(*) FROM chunks").fetchone()  # fails fast on a damaged file
        # A written store never changes, so each date range's keys are read once.
        self.keys_dated = functools.lru_cache(maxsize=16)(self._keys_dated)

    @staticmethod
    def write(path: Path, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence]) -> None:
        db = sqlite3.connect(path)
        try:
            db.executescript(_SCHEMA)
            db.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (d.doc_id, d.title, d.date.isoformat() if d.date else None, d.source, d.url, d.path,
                     d.content_hash, d.text)
                    for d in documents
                ],
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)",
                [(key, c.chunk_id, c.doc_id, c.start, c.end, c.text) for key, c in keyed_chunks],
            )
            db.executemany(
                "INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.sentence_id, s.doc_id, s.start, s.end, s.text,
                     json.dumps([[span.start, span.end, span.kind] for span in s.spans]),
                     np.asarray(s.vector, dtype=np.float32).tobytes())
                    for s in sentences
                ],
            )
            db.commit()
        finally:
            db.close()

    def close(self) -> None:
        self._db.close()

    def documents(self) -> list[Document]:
        rows = self._db.execute("SELECT * FROM documents ORDER BY doc_id").fetchall()
        return [_document(row) for row in rows]

    def document(self, doc_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _document(row) if row else None

    def titles_and_dates(self, doc_ids: set[str]) -> dict[str, tuple[str, date | None]]:
        """doc_id -> (title, date) of the given articles, without reading their text."""
        found = {}
        for batch in _batches(sorted(doc_ids)):
            query = f"SELECT doc_id, title, date FROM documents WHERE doc_id IN ({','.join('?' * len(batch))})"
            found.update({doc_id: (title, _date(day)) for doc_id, title, day in self._db.execute(query, batch)})
        return found

    def content_hashes(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT doc_id, content_hash FROM documents"))

    def chunk_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def chunks(self, keys: list[int] | None = None) -> list[Chunk]:
        """Chunks of the given keys, in that order; all chunks in key order when ``keys`` is None."""
        return [chunk for _, chunk in self.keyed_chunks(keys)]

    def keyed_chunks(self, keys: list[int] | None = None) -> list[tuple[int, Chunk]]:
        columns = 'chunk_key, chunk_id, doc_id, start, "end", text'
        if keys is None:
            return [(record[0], Chunk(*record[1:])) for record in self._db.execute(f"SELECT {columns} FROM chunks ORDER BY chunk_key")]
        by_key = {}
        for batch in _batches(list(keys)):
            query = f"SELECT {columns} FROM chunks WHERE chunk_key IN ({','.join('?' * len(batch))})"
            by_key.update({record[0]: Chunk(*record[1:]) for record in self._db.execute(query, batch)})
        return [(key, by_key[key]) for key in keys]

    def document_chunks(self, doc_id: str) -> list[tuple[int, Chunk]]:
        """(key, chunk) of one article's chunks, in order."""
        query = 'SELECT chunk_key, chunk_id, doc_id, start, "end", text FROM chunks WHERE doc_id = ? ORDER BY start'
        return [(record[0], Chunk(*record[1:])) for record in self._db.execute(query, (doc_id,))]

    def _keys_dated(self, since: date | None, until: date | None) -> np.ndarray:
        """Keys of the chunks of articles dated within [since, until] (an undated article is in no range);
        called as ``keys_dated``, cached per store."""
        query = "SELECT chunk_key FROM chunks JOIN documents USING (doc_id) WHERE date IS NOT NULL"
        bounds = []
        if since is not None:
            query += " AND date >= ?"
            bounds.append(since.isoformat())
        if until is not None:
            query += " AND date <= ?"
            bounds.append(until.isoformat())
        return np.array([key for (key,) in self._db.execute(query, bounds)], dtype=np.int64)

    def max_key(self) -> int:
        return self._db.execute("SELECT coalesce(max(chunk_key), -1) FROM chunks").fetchone()[0]

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        """Every sentence of one article, in order, with spans and vectors."""
        query = 'SELECT * FROM sentences WHERE doc_id = ? ORDER BY start'
        return [_sentence(record) for record in self._db.execute(query, (doc_id,))]

    def sentences_in(self, chunks: list[Chunk]) -> dict[str, tuple[Sentence, ...]]:
        """chunk_id -> the sentences each chunk overlaps, in order (one query per chunk, on an index)."""
        query = 'SELECT * FROM sentences WHERE doc_id = ? AND start < ? AND "end" > ? ORDER BY start'
        return {
            chunk.chunk_id: tuple(_sentence(record) for record in self._db.execute(query, (chunk.doc_id, chunk.end, chunk.start)))
            for chunk in chunks
        }



def _batches(values: list, size: int = 500):
    """SQLite caps the bound parameters of one statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _date(iso_date: str | None) -> date | None:
    return date.fromisoformat(iso_date) if iso_date else None


def _document(row: tuple) -> Document:
    doc_id, title, iso_date, source, url, path, content_hash, text = row
    return Document(
        doc_id=doc_id, text=text, title=title, date=_date(iso_date),
        source=source, url=url, path=path, content_hash=content_hash,
    )


def _sentence(record: tuple) -> Sentence:
    sentence_id, doc_id, start, end, text, spans, vector = record
    return Sentence(
        sentence_id=sentence_id, doc_id=doc_id, start=start, end=end, text=text,
        spans=tuple(TypedSpan(a, b, kind, text[a:b]) for a, b, kind in json.loads(spans)),
        vector=np.frombuffer(vector, dtype=np.float32),
    )
