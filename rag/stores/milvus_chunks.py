"""The chunk store on a Milvus server, beside the vectors: articles, chunks, sentences with their typed
spans, event dates and vectors, near-duplicate bands, all in collections of the server, so the index
directory keeps only its manifest (and a keyword index, where the server has no BM25 of its own) and
any machine with a copy of that answers from the same index.

The rows keep rag.stores.sqlite's generations: each records the generation that added it, a reader at
generation G sees rows up to G, and an update writes G+1 first and becomes visible with the manifest.
Removing an article adds a row to ``removals`` instead of marking its rows: a row of that article is
gone from the removal's generation on, unless it was added then (a replaced article's new rows). An
update killed before its commit leaves rows past G, which the next one deletes. Each full write makes
new collections that the manifest names; the replaced ones are dropped after the swap.

The rows and their fields: rag.stores.milvus_rows.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import numpy as np

from rag.dates import EventDate, day_of_iso
from rag.ingest.duplicates import SIMILARITY, similarity
from rag.stores.milvus import connect, loaded, reads_since, written_now
from rag.stores.milvus_rows import (
    CHUNK_FIELDS,
    DOCUMENT_FIELDS,
    SENTENCE_FIELDS,
    TABLES,
    create_table,
    document_of,
    event_dates_of,
    keyed_chunk_of,
    requests,
    rows_of,
    sentence_of,
)
from rag.stores.protocols import VectorStore
from rag.types import Chunk, Document, Sentence

_IDS_PER_QUERY = 500


class MilvusChunkStore:
    name = "milvus"

    def __init__(self, client, uri: str, prefix: str, generation: int, dimension: int, last_key: int,
                 written_at: int = 0):
        self.client = client
        self.uri = uri
        self.prefix = prefix  # collections are named prefix + table
        self.generation = int(generation)
        self.dimension = dimension
        self.last_key = last_key
        self.written_at = written_at  # when what its generation shows was written (rag.stores.milvus.reads_since)
        self._removed: dict[str, int] = {}  # doc_id -> the last generation up to this one that removed it
        self.keys_dated = functools.lru_cache(maxsize=16)(self._keys_dated)
        self.keys_with_events = functools.lru_cache(maxsize=16)(self._keys_with_events)

    # --- writing

    @classmethod
    def write(cls, directory: Path, vectors: VectorStore, dimension: int, documents: list[Document],
              keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence]) -> dict:
        """New collections on the server ``vectors`` uses, holding these rows (sentence vectors of
        ``dimension``) as generation 1."""
        client = connect(vectors.uri)
        store = cls(client, vectors.uri, f"rag_store_{uuid.uuid4().hex[:12]}_", 0, dimension, -1)
        try:
            _each_table(lambda table: create_table(client, store.prefix + table, table, dimension))
            store._insert(1, documents, keyed_chunks, sentences, [])
            return store._commit(keyed_chunks)
        except BaseException:
            store.retire()
            raise
        finally:
            client.close()

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int) -> MilvusChunkStore:
        client = connect(entry["store_uri"])
        try:
            _each_table(lambda table: loaded(client, entry["store_prefix"] + table, entry["store_uri"]))
        except BaseException:
            client.close()
            raise
        store = cls(client, entry["store_uri"], entry["store_prefix"], generation, entry["store_dimension"],
                    entry["store_last_key"], entry["store_written_at"])
        store._removed = store._removal_generations()
        return store

    def write_next(self, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]], sentences: list[Sentence],
                   removed_doc_ids: list[str]) -> dict:
        """Write generation + 1: first deletes what an update killed before its commit left."""
        for table in TABLES:
            self.client.delete(self.prefix + table, filter=f"generation > {self.generation}")
        self._insert(self.generation + 1, documents, keyed_chunks, sentences, removed_doc_ids)
        return self._commit(keyed_chunks)

    def _commit(self, keyed_chunks: list[tuple[int, Chunk]]) -> dict:
        """The manifest entry of what was written. Milvus has acknowledged every row (it is in the server's
        log, which a restart replays), so nothing is flushed: readers ask for reads as fresh as now."""
        last_key = max([self.last_key, *(key for key, _ in keyed_chunks)])
        return {"store": self.name, "store_uri": self.uri, "store_prefix": self.prefix,
                "store_dimension": self.dimension, "store_last_key": last_key, "store_written_at": written_now()}

    def _insert(self, generation: int, documents: list[Document], keyed_chunks: list[tuple[int, Chunk]],
                sentences: list[Sentence], removed_doc_ids: list[str]) -> None:
        for table, rows in rows_of(generation, documents, keyed_chunks, sentences, removed_doc_ids).items():
            for batch in requests(rows):
                self.client.insert(self.prefix + table, batch)

    def retire(self) -> None:
        """A newer build replaced this one (or its build failed): drop its collections."""
        client = connect(self.uri)  # of its own: this store's may be closed
        try:
            _each_table(lambda table: client.drop_collection(self.prefix + table))
        finally:
            client.close()

    def close(self) -> None:
        self.client.close()

    # --- reading, as of self.generation

    def _removal_generations(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self._query("removals", f"generation <= {self.generation}", ["doc_id", "generation"]):
            found[row["doc_id"]] = max(found.get(row["doc_id"], 0), row["generation"])
        return found

    def _live(self, condition: str = "") -> str:
        """Rows live at this generation (and meeting ``condition``): added by then and not removed since."""
        terms = [f"generation <= {self.generation}"]
        if self._removed:
            terms.append(f"not ({self._removed_rows()})")
        return " and ".join(terms + ([f"({condition})"] if condition else []))

    def _removed_rows(self) -> str:
        """Rows of articles removed after they were written (a removal hides what came before it)."""
        removed_by: dict[int, list[str]] = defaultdict(list)
        for doc_id, generation in self._removed.items():
            removed_by[generation].append(doc_id)
        return " or ".join(f"(doc_id in {_strings(doc_ids)} and generation < {generation})"
                           for generation, doc_ids in sorted(removed_by.items()))

    def _query(self, table: str, expression: str, fields: list[str]) -> list[dict]:
        return self.client.query(self.prefix + table, filter=expression, output_fields=fields,
                                 **reads_since(self.written_at))

    def _by_doc_ids(self, table: str, doc_ids: Iterable[str], fields: list[str], condition: str = "") -> Iterator[dict]:
        """Live rows of the given articles, a few hundred articles a request."""
        doc_ids = sorted(doc_ids)
        for start in range(0, len(doc_ids), _IDS_PER_QUERY):
            batch = doc_ids[start:start + _IDS_PER_QUERY]
            terms = f"doc_id in {_strings(batch)}" + (f" and {condition}" if condition else "")
            yield from self._query(table, self._live(terms), fields)

    def _whole(self, kind: str, rows: list[dict], owner_field: str) -> list[dict]:
        """The rows with their full text: pieces past the first come from ``texts``."""
        long = {f"{kind}:{row[owner_field]}": row for row in rows if row["parts"] > 1}
        if long:
            pieces: dict[str, list[tuple[int, str]]] = defaultdict(list)
            owners = sorted(long)
            for start in range(0, len(owners), _IDS_PER_QUERY):
                expression = self._live(f"owner in {_strings(owners[start:start + _IDS_PER_QUERY])}")
                for piece in self._query("texts", expression, ["owner", "part", "text"]):
                    pieces[piece["owner"]].append((piece["part"], piece["text"]))
            for owner, row in long.items():
                row["text"] += "".join(text for _, text in sorted(pieces[owner]))
        return rows

    def documents(self) -> list[Document]:
        rows = self._query("documents", self._live(), DOCUMENT_FIELDS)
        return sorted((document_of(row) for row in self._whole("document", rows, "doc_id")), key=lambda d: d.doc_id)

    def document(self, doc_id: str) -> Document | None:
        rows = self._whole("document", list(self._by_doc_ids("documents", [doc_id], DOCUMENT_FIELDS)), "doc_id")
        return document_of(rows[0]) if rows else None

    def articles(self, doc_ids: set[str]) -> dict[str, tuple[str, date | None, str]]:
        return {row["doc_id"]: (row["record"]["title"], day_of_iso(row["date"]), row["record"]["date_evidence"])
                for row in self._by_doc_ids("documents", doc_ids, ["doc_id", "date", "record"])}

    def duplicates(self, doc_ids: set[str] | None = None) -> dict[str, tuple[str, ...]]:
        fields = ["doc_id", "band"]
        if doc_ids is None:
            bands = self._query("bands", self._live(), fields)
        else:
            asked = list(self._by_doc_ids("bands", doc_ids, fields))
            values = sorted({row["band"] for row in asked})
            bands = [row for start in range(0, len(values), _IDS_PER_QUERY)
                     for row in self._query("bands", self._live(f"band in {values[start:start + _IDS_PER_QUERY]}"),
                                            fields)]
        holders: dict[int, set[str]] = defaultdict(set)
        for row in bands:
            holders[row["band"]].add(row["doc_id"])
        pairs = sorted({(first, second) for group in holders.values() for first in group for second in group
                        if first != second and (doc_ids is None or first in doc_ids)})
        if not pairs:
            return {}
        signatures = {row["doc_id"]: np.frombuffer(bytes.fromhex(row["record"]["signature"]), dtype=np.uint32)
                      for row in self._by_doc_ids("documents", {doc for pair in pairs for doc in pair},
                                                  ["doc_id", "record"])}
        agreeing = similarity(np.stack([signatures[first] for first, _ in pairs]),
                              np.stack([signatures[second] for _, second in pairs]))
        found: dict[str, list[str]] = {}
        for (first, second), share in zip(pairs, agreeing, strict=True):
            if share >= SIMILARITY:
                found.setdefault(first, []).append(second)
        return {doc_id: tuple(others) for doc_id, others in found.items()}

    def event_dates(self, doc_ids: set[str]) -> dict[str, list[tuple[int, EventDate]]]:
        found: dict[str, list[tuple[int, EventDate]]] = {doc_id: [] for doc_id in doc_ids}
        for row in sorted(self._by_doc_ids("sentences", doc_ids, ["doc_id", "start", "tags"]),
                          key=lambda row: (row["doc_id"], row["start"])):
            found[row["doc_id"]].extend((row["start"], event) for event in event_dates_of(row["tags"]["dates"]))
        return found

    def content_hashes(self, doc_ids: list[str] | None = None) -> dict[str, str]:
        fields = ["doc_id", "content_hash"]
        rows = self._query("documents", self._live(), fields) if doc_ids is None else \
            self._by_doc_ids("documents", set(doc_ids), fields)
        return {row["doc_id"]: row["content_hash"] for row in rows}

    def catalogue(self, since: date | None = None, until: date | None = None) -> list[tuple]:
        rows = self._query("documents", self._live(_dated_within(since, until)), ["doc_id", "date", "record"])
        counts: dict[str, int] = defaultdict(int)
        for chunk in self._by_doc_ids("chunks", {row["doc_id"] for row in rows}, ["doc_id"]):
            counts[chunk["doc_id"]] += 1
        listed = [(row["doc_id"], row["record"]["title"], day_of_iso(row["date"]), row["record"]["date_evidence"],
                   row["record"]["source"], row["record"]["author"], counts[row["doc_id"]]) for row in rows]
        return sorted(listed, key=lambda row: (row[2] is None, row[2] or date.min, row[0]))

    def chunk_count(self) -> int:
        return int(self._query("chunks", self._live(), ["count(*)"])[0]["count(*)"])

    def sentence_count(self, doc_ids: list[str]) -> int:
        return sum(1 for _ in self._by_doc_ids("sentences", set(doc_ids), ["sentence_id"]))

    def hidden_keys(self) -> np.ndarray:
        if not self._removed:
            return np.zeros(0, dtype=np.int64)
        rows = self._query("chunks", f"generation <= {self.generation} and ({self._removed_rows()})", ["chunk_key"])
        return np.array(sorted(row["chunk_key"] for row in rows), dtype=np.int64)

    def chunks(self, keys: list[int] | None = None) -> list[Chunk]:
        return [chunk for _, chunk in self.keyed_chunks(keys)]

    def keyed_chunks(self, keys: list[int] | None = None) -> list[tuple[int, Chunk]]:
        if keys is None:
            rows = self._query("chunks", self._live(), CHUNK_FIELDS)
            return sorted(keyed_chunk_of(row) for row in self._whole("chunk", rows, "chunk_id"))
        by_key = {}
        keys = [int(key) for key in keys]
        for start in range(0, len(keys), _IDS_PER_QUERY):
            rows = self._query("chunks", f"chunk_key in {keys[start:start + _IDS_PER_QUERY]}", CHUNK_FIELDS)
            by_key.update(keyed_chunk_of(row) for row in self._whole("chunk", rows, "chunk_id"))
        return [(key, by_key[key]) for key in keys]

    def document_chunks(self, doc_id: str) -> list[tuple[int, Chunk]]:
        rows = self._whole("chunk", list(self._by_doc_ids("chunks", [doc_id], CHUNK_FIELDS)), "chunk_id")
        return sorted((keyed_chunk_of(row) for row in rows), key=lambda keyed: keyed[1].start)

    def _keys_dated(self, since: date | None, until: date | None) -> np.ndarray:
        dated = [row["doc_id"] for row in self._query("documents", self._live(_dated_within(since, until)),
                                                      ["doc_id"])]
        return np.array(sorted(row["chunk_key"] for row in self._by_doc_ids("chunks", dated, ["chunk_key"])),
                        dtype=np.int64)

    def _keys_with_events(self, since: date | None, until: date | None) -> np.ndarray:
        terms = [*([f'last >= "{since.isoformat()}"'] if since else []),
                 *([f'first <= "{until.isoformat()}"'] if until else [])]
        positions: dict[str, list[int]] = defaultdict(list)
        for row in self._query("event_dates", self._live(" and ".join(terms)), ["doc_id", "position"]):
            positions[row["doc_id"]].append(row["position"])
        rows = self._by_doc_ids("chunks", positions, ["chunk_key", "doc_id", "start", "end"])
        keys = {row["chunk_key"] for row in rows
                if any(row["start"] <= position < row["end"] for position in positions[row["doc_id"]])}
        return np.array(sorted(keys), dtype=np.int64)

    def max_key(self) -> int:
        return self.last_key

    def document_sentences(self, doc_id: str) -> list[Sentence]:
        rows = self._whole("sentence", list(self._by_doc_ids("sentences", [doc_id], SENTENCE_FIELDS)), "sentence_id")
        return sorted((sentence_of(row) for row in rows), key=lambda s: s.start)

    def sentences_in(self, chunks: list[Chunk]) -> dict[str, tuple[Sentence, ...]]:
        rows = self._whole("sentence", self._sentence_rows(chunks, SENTENCE_FIELDS), "sentence_id")
        sentences = sorted((sentence_of(row) for row in rows), key=lambda s: (s.doc_id, s.start))
        placed = _per_chunk(chunks, [(s.doc_id, s.start, s.end, s) for s in sentences])
        return {chunk_id: tuple(found) for chunk_id, found in placed.items()}

    def sentence_vectors(self, chunks: list[Chunk]) -> dict[str, np.ndarray]:
        rows = self._sentence_rows(chunks, ["doc_id", "start", "end", "vector"])
        placed = _per_chunk(chunks, [(row["doc_id"], row["start"], row["end"], row["vector"]) for row in rows])
        return {chunk_id: np.asarray(vectors, dtype=np.float32) for chunk_id, vectors in placed.items()}

    def _sentence_rows(self, chunks: list[Chunk], fields: list[str]) -> list[dict]:
        """The live rows of the sentences the chunks overlap, in one request."""
        spans = " or ".join(f'(doc_id == {json.dumps(c.doc_id)} and start < {c.end} and end > {c.start})'
                            for c in chunks)
        return self._query("sentences", self._live(spans), fields) if chunks else []


def _per_chunk(chunks: list[Chunk], placed: list[tuple[str, int, int, object]]) -> dict[str, list]:
    """chunk_id -> the items, each placed at (doc_id, start, end) in an article, that the chunk overlaps,
    in the order given."""
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_doc[chunk.doc_id].append(chunk)
    found: dict[str, list] = {chunk.chunk_id: [] for chunk in chunks}
    for doc_id, start, end, item in placed:
        for chunk in by_doc[doc_id]:
            if start < chunk.end and end > chunk.start:
                found[chunk.chunk_id].append(item)
    return found


def _each_table(call) -> None:
    """``call(table)`` for every table at once: a server takes seconds to load or flush a collection, most
    of it waiting, and the waits overlap."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(TABLES)) as pool:
        for _ in pool.map(call, TABLES):
            pass  # raises the first error


def _strings(values: Iterable[str]) -> str:
    """A list of strings as a Milvus expression spells it."""
    return "[" + ",".join(json.dumps(value) for value in values) + "]"


def _dated_within(since: date | None, until: date | None) -> str:
    """Articles dated within [since, until] (undated ones, date "", in no range), or every article."""
    if since is None and until is None:
        return ""
    return " and ".join(['date != ""', *([f'date >= "{since.isoformat()}"'] if since else []),
                         *([f'date <= "{until.isoformat()}"'] if until else [])])
