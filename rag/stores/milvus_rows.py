"""How the chunk store's tables look in Milvus (rag.stores.milvus_chunks): each collection's fields, the
rows of new articles, chunks and sentences, and those rows read back.

Milvus caps a VARCHAR at 65,535 bytes and wants a vector field in every collection: text longer than
``PIECE`` characters continues in ``texts`` rows, and collections without vectors of their own carry a
two-number placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rag.dates import EventDate, day_of_iso
from rag.ingest.duplicates import band_keys, signature
from rag.types import Chunk, Document, Sentence, TypedSpan

PIECE = 16_000  # characters: at most 64,000 bytes of UTF-8, under Milvus's VARCHAR cap
_REQUEST_BYTES = 8 << 20  # rows per insert request, well under gRPC's 64 MiB message cap
PLACEHOLDER = "placeholder"  # the vector field of collections that have no vectors of their own
TABLES = ("documents", "texts", "chunks", "sentences", "event_dates", "bands", "removals")


def rows_of(generation: int, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]],
            sentences: list[Sentence], removed_doc_ids: list[str]) -> dict[str, list[dict]]:
    """Each table's rows for these additions and removals, written as ``generation``."""
    placeholder = [0.0, 0.0]
    texts: list[dict] = []

    def inline(kind: str, owner: str, doc_id: str, text: str) -> dict:
        """The text's first piece for its row; the rest goes to ``texts``."""
        pieces = [text[start:start + PIECE] for start in range(0, len(text), PIECE)] or [""]
        texts.extend({"owner": f"{kind}:{owner}", "doc_id": doc_id, "generation": generation, "part": part,
                      "text": piece, PLACEHOLDER: placeholder} for part, piece in enumerate(pieces[1:], 1))
        return {"text": pieces[0], "parts": len(pieces)}

    signatures = [signature(document.text) for document in documents]
    rows = {
        "removals": [{"doc_id": doc_id, "generation": generation, PLACEHOLDER: placeholder}
                     for doc_id in removed_doc_ids],
        "documents": [
            {"doc_id": d.doc_id, "generation": generation, "date": d.date.isoformat() if d.date else "",
             "content_hash": d.content_hash, **inline("document", d.doc_id, d.doc_id, d.text),
             "record": {"title": d.title, "source": d.source, "url": d.url, "path": d.path, "author": d.author,
                        "date_evidence": d.date_evidence, "signature": values.tobytes().hex()},
             PLACEHOLDER: placeholder}
            for d, values in zip(documents, signatures, strict=True)],
        "bands": [{"doc_id": d.doc_id, "generation": generation, "band": int(band), PLACEHOLDER: placeholder}
                  for d, values in zip(documents, signatures, strict=True) for band in band_keys(values)],
        "chunks": [{"chunk_key": int(key), "chunk_id": c.chunk_id, "doc_id": c.doc_id, "generation": generation,
                    "start": c.start, "end": c.end, **inline("chunk", c.chunk_id, c.doc_id, c.text),
                    PLACEHOLDER: placeholder}
                   for key, c in keyed_chunks],
        "sentences": [
            {"sentence_id": s.sentence_id, "doc_id": s.doc_id, "generation": generation, "start": s.start,
             "end": s.end, **inline("sentence", s.sentence_id, s.doc_id, s.text),
             "tags": {"spans": [[span.start, span.end, span.kind] for span in s.spans],
                      "dates": [e.stored() for e in s.dates]},
             "vector": np.asarray(s.vector, dtype=np.float32).tolist()}
            for s in sentences],
        "event_dates": [{"doc_id": s.doc_id, "generation": generation, "position": s.start,
                         "first": e.first.isoformat(), "last": e.last.isoformat(), PLACEHOLDER: placeholder}
                        for s in sentences for e in s.dates if e.first is not None],
    }
    rows["texts"] = texts
    for table, table_rows in rows.items():
        if table != "chunks":  # chunks are keyed by chunk key
            for number, row in enumerate(table_rows):
                row["row"] = f"{generation}:{number}:{row['doc_id']}"
    return rows


DOCUMENT_FIELDS = ["doc_id", "date", "content_hash", "text", "parts", "record"]
CHUNK_FIELDS = ["chunk_key", "chunk_id", "doc_id", "start", "end", "text", "parts"]
SENTENCE_FIELDS = ["sentence_id", "doc_id", "start", "end", "text", "parts", "tags", "vector"]


def create_table(client, collection: str, table: str, dimension: int) -> None:
    """One table's collection: its own fields, the generation, and a vector field Milvus requires."""
    from pymilvus import DataType

    text, day = {"max_length": 65_535}, {"max_length": 10}
    fields = {
        "documents": [("doc_id", DataType.VARCHAR, text), ("date", DataType.VARCHAR, day),
                      ("content_hash", DataType.VARCHAR, {"max_length": 128}), ("text", DataType.VARCHAR, text),
                      ("parts", DataType.INT64, {}), ("record", DataType.JSON, {})],
        "texts": [("owner", DataType.VARCHAR, text), ("doc_id", DataType.VARCHAR, text), ("part", DataType.INT64, {}),
                  ("text", DataType.VARCHAR, text)],
        "chunks": [("chunk_id", DataType.VARCHAR, text), ("doc_id", DataType.VARCHAR, text),
                   ("start", DataType.INT64, {}), ("end", DataType.INT64, {}), ("text", DataType.VARCHAR, text),
                   ("parts", DataType.INT64, {})],
        "sentences": [("sentence_id", DataType.VARCHAR, text), ("doc_id", DataType.VARCHAR, text),
                      ("start", DataType.INT64, {}), ("end", DataType.INT64, {}), ("text", DataType.VARCHAR, text),
                      ("parts", DataType.INT64, {}), ("tags", DataType.JSON, {})],
        "event_dates": [("doc_id", DataType.VARCHAR, text), ("position", DataType.INT64, {}),
                        ("first", DataType.VARCHAR, day), ("last", DataType.VARCHAR, day)],
        "bands": [("doc_id", DataType.VARCHAR, text), ("band", DataType.INT64, {})],
        "removals": [("doc_id", DataType.VARCHAR, text)],
    }[table]
    # Chunks are found by their key. Other rows get one of their own (generation, number, article), never
    # Milvus's auto_id: on 2.3 a server SIGKILLed and restarted lost the unflushed rows of auto_id
    # collections (every acknowledged row of the others came back).
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    if table == "chunks":
        schema.add_field("chunk_key", DataType.INT64, is_primary=True)
    else:
        schema.add_field("row", DataType.VARCHAR, is_primary=True, max_length=65_535)
    for name, kind, options in fields:
        schema.add_field(name, kind, **options)
    schema.add_field("generation", DataType.INT64)
    vector = "vector" if table == "sentences" else PLACEHOLDER
    schema.add_field(vector, DataType.FLOAT_VECTOR, dim=dimension if table == "sentences" else 2)
    index = client.prepare_index_params()
    index.add_index(field_name=vector, index_type="FLAT", metric_type="IP" if table == "sentences" else "L2")
    client.create_collection(collection, schema=schema, index_params=index, consistency_level="Strong")


def requests(rows: list[dict]) -> Iterator[list[dict]]:
    """Rows in requests of at most ``_REQUEST_BYTES`` (about: UTF-8 text takes up to 4 bytes a character)."""
    batch, size = [], 0
    for row in rows:
        row_size = 4 * len(row.get("text", "")) + 4 * len(row.get("vector", ())) + 1024
        if batch and size + row_size > _REQUEST_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield batch


def event_dates_of(stored: list) -> tuple[EventDate, ...]:
    return tuple(EventDate.from_stored(values) for values in stored)


def document_of(row: dict) -> Document:
    record = row["record"]
    return Document(doc_id=row["doc_id"], text=row["text"], title=record["title"], date=day_of_iso(row["date"]),
                    source=record["source"], url=record["url"], path=record["path"], content_hash=row["content_hash"],
                    date_evidence=record["date_evidence"], author=record["author"])


def keyed_chunk_of(row: dict) -> tuple[int, Chunk]:
    return row["chunk_key"], Chunk(row["chunk_id"], row["doc_id"], row["start"], row["end"], row["text"])


def sentence_of(row: dict) -> Sentence:
    text = row["text"]
    return Sentence(sentence_id=row["sentence_id"], doc_id=row["doc_id"], start=row["start"], end=row["end"], text=text,
                    spans=tuple(TypedSpan(a, b, kind, text[a:b]) for a, b, kind in row["tags"]["spans"]),
                    dates=event_dates_of(row["tags"]["dates"]), vector=np.asarray(row["vector"], dtype=np.float32))
