"""The chunk store: documents and chunks in one SQLite file beside the vector index.

Row numbers in ``chunks`` are the positions of the vectors in the vector store and the BM25
index, so a search result maps back to its chunk with one indexed lookup.
"""

from __future__ import annotations

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
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL REFERENCES documents,
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

    @staticmethod
    def write(path: Path, documents: list[Document], chunks: list[Chunk], sentences: list[Sentence]) -> None:
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
                [(row, c.chunk_id, c.doc_id, c.start, c.end, c.text) for row, c in enumerate(chunks)],
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

    def chunks(self, rows: list[int] | None = None) -> list[Chunk]:
        """Chunks at the given rows, in that order; all chunks in row order when ``rows`` is None."""
        if rows is None:
            found = self._db.execute('SELECT row, chunk_id, doc_id, start, "end", text FROM chunks ORDER BY row')
            return [Chunk(*record[1:]) for record in found]
        by_row = {}
        for batch_start in range(0, len(rows), 500):  # SQLite caps bound parameters per statement
            batch = rows[batch_start : batch_start + 500]
            marks = ",".join("?" * len(batch))
            query = f'SELECT row, chunk_id, doc_id, start, "end", text FROM chunks WHERE row IN ({marks})'
            by_row.update({record[0]: Chunk(*record[1:]) for record in self._db.execute(query, batch)})
        return [by_row[row] for row in rows]

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

    def row_doc_ids(self) -> list[str]:
        return [doc_id for (doc_id,) in self._db.execute("SELECT doc_id FROM chunks ORDER BY row")]


def _document(row: tuple) -> Document:
    doc_id, title, iso_date, source, url, path, content_hash, text = row
    return Document(
        doc_id=doc_id, text=text, title=title, date=date.fromisoformat(iso_date) if iso_date else None,
        source=source, url=url, path=path, content_hash=content_hash,
    )


def _sentence(record: tuple) -> Sentence:
    sentence_id, doc_id, start, end, text, spans, vector = record
    return Sentence(
        sentence_id=sentence_id, doc_id=doc_id, start=start, end=end, text=text,
        spans=tuple(TypedSpan(a, b, kind, text[a:b]) for a, b, kind in json.loads(spans)),
        vector=np.frombuffer(vector, dtype=np.float32),
    )
