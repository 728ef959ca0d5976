"""A Milvus vector store through pymilvus's MilvusClient: the same code runs embedded on a file in
the index directory (Milvus Lite, no server; ``--store milvus-lite``) and against a Milvus
standalone or cluster by URI (``--store milvus://host:19530``).

Each chunk is a row (key, vector, day, generation): the chunk key is the primary key, ``day``
(yyyymmdd, 0 when the article is undated) lets a date filter run inside Milvus as a filter
expression, and ``generation`` lets a reader see only what was committed up to the manifest it
loaded (updates write in place; removed chunks are left out by key until the next full write). On a
server every full write makes a new collection; the manifest names it, so swapping the index
directory switches readers atomically, and the replaced collection is dropped afterwards.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from pathlib import Path

import numpy as np

from rag.config import Config
from rag.errors import InvalidInputError, StoreUnavailableError
from rag.stores.protocols import DateFilter, VectorStore, day_number
from rag.text import tokenize

LITE = "milvus-lite"
LITE_FILE = "vectors-milvus.db"
LITE_COLLECTION = "chunks"
LITE_KEYWORDS = "keywords"
_SERVER_SCHEMES = ("milvus://", "http://", "https://")
# Milvus caps the rows of one insert request; a few thousand 384-d vectors stay well under it.
INSERT_BATCH = 2000
# Milvus's BM25 function (full-text search) arrived in 2.5.
BM25_SINCE = (2, 5)


def _server_uri(location: str) -> str:
    """pymilvus speaks HTTP(S) URIs; milvus://host:port is the friendlier spelling users type."""
    return "http://" + location.removeprefix("milvus://") if location.startswith("milvus://") else location


def server_version(client) -> tuple[int, int]:
    """(major, minor) of the Milvus a client speaks to: "v2.3.5-lite" -> (2, 3); (0, 0) when unreadable."""
    match = re.search(r"(\d+)\.(\d+)", client.get_server_version() or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def connect(uri: str):
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    if not uri.startswith(_SERVER_SCHEMES):
        _quiet_lite_probe()
    try:
        return MilvusClient(uri)
    except MilvusException as error:
        raise StoreUnavailableError(
            f"cannot reach Milvus at {uri} ({error.message}); start it (docs/milvus.md) or build with --store faiss"
        ) from None


def written_now() -> int:
    """Now as a Milvus hybrid timestamp: when a commit's rows were all acknowledged by the server."""
    from pymilvus import utility

    return utility.mkts_from_unixtime(time.time())


def reads_since(written_at: int) -> dict:
    """Read options that see every row written by ``written_at`` (0: the collection's default). A server
    answers at once once its query nodes have caught up with that time, a fraction of a second after the
    write, where Strong consistency waits for the server's next tick (up to 200 ms on 2.3) on every read;
    the writing and reading machines' clocks must agree (NTP)."""
    return {"consistency_level": "Customized", "guarantee_timestamp": written_at} if written_at else {}


def loaded(client, collection: str, uri: str) -> None:
    """A collection in memory, ready for searches (loaded now if it is not: a restarted server, a new
    file); FileNotFoundError when it is gone."""
    from pymilvus.client.types import LoadState

    if not client.has_collection(collection):
        raise FileNotFoundError(f"Milvus collection {collection} is missing at {uri}")
    if client.get_load_state(collection)["state"] != LoadState.Loaded:
        client.load_collection(collection)


class _UnimplementedProbe(logging.Filter):
    """pymilvus probes the server for AllocTimestamp when creating a collection and falls back when it
    is missing; Milvus Lite lacks it, and its gRPC thread logs a traceback for a call that did no harm."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Method not implemented" not in record.getMessage()


@functools.cache
def _quiet_lite_probe() -> None:
    logging.getLogger("grpc._server").addFilter(_UnimplementedProbe())


class MilvusVectorStore:
    name = "milvus"

    def __init__(self, client, collection: str, uri: str, lite_file: str | None, generation: int = 0,
                 hidden: np.ndarray | None = None, location: str | None = None, written_at: int = 0):
        self.client = client
        self.written_at = written_at  # when what its generation shows was written (reads_since)
        self.collection = collection
        self.uri = uri
        self.given_location = location or uri  # as --store named it ("milvus://host:19530"), for the manifest
        self.lite_file = lite_file  # the Milvus Lite file's path, or None on a server
        self.generation = generation
        self.hidden = np.zeros(0, dtype=np.int64) if hidden is None else np.asarray(hidden, dtype=np.int64)

    @property
    def default_keywords(self) -> str:
        """Milvus's own BM25 on a server that has it (2.5+), so that the server holds the whole searchable
        archive; tantivy beside Milvus Lite, which answers exactly as FAISS does (docs/milvus.md), and
        beside an older server."""
        return MilvusKeywordIndex.name if self.lite_file is None and self.offers_bm25() else "tantivy"

    @property
    def chunk_store(self) -> str:
        """On a server, the chunk store too (rag.stores.milvus_chunks), so the server holds what answering
        reads; beside Milvus Lite, SQLite in the index directory like the Lite file."""
        return "sqlite" if self.lite_file else "milvus"

    def offers_bm25(self) -> bool:
        """Whether this Milvus has full-text search (BM25 functions): Milvus Lite and servers from 2.5 on."""
        return self.lite_file is not None or server_version(self.client) >= BM25_SINCE

    @classmethod
    def create(cls, location: str, directory: Path, dimension: int, config: Config) -> MilvusVectorStore:
        from pymilvus import DataType

        lite = location == LITE
        uri = str(Path(directory) / LITE_FILE) if lite else _server_uri(location)
        collection = LITE_COLLECTION if lite else f"rag_chunks_{uuid.uuid4().hex[:12]}"
        client = connect(uri)
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("day", DataType.INT64)
        schema.add_field("generation", DataType.INT64)
        index = client.prepare_index_params()
        # Lite: exact search, the same answers as FAISS flat. A server picks its own index (AUTOINDEX).
        index.add_index(field_name="vector", index_type="FLAT" if lite else "AUTOINDEX", metric_type="IP")
        client.create_collection(collection, schema=schema, index_params=index)
        return cls(client, collection, uri, uri if lite else None, location=location)

    @staticmethod
    def location(entry: dict) -> str:
        return entry.get("location") or entry.get("uri", LITE)

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int, hidden: np.ndarray) -> MilvusVectorStore:
        lite_file = str(Path(directory) / entry["file"]) if "file" in entry else None
        uri = lite_file or entry["uri"]
        client = connect(uri)
        loaded(client, entry["collection"], uri)
        return cls(client, entry["collection"], uri, lite_file, generation, hidden, entry.get("location"),
                   entry.get("written_at", 0))

    def commit(self, directory: Path) -> dict:
        self.generation += 1
        self.written_at = self.settle(self.collection)
        if self.lite_file:
            return {"vectors": self.name, "file": LITE_FILE, "collection": self.collection}
        return {"vectors": self.name, "uri": self.uri, "location": self.given_location,
                "collection": self.collection, "written_at": self.written_at}

    def settle(self, collection: str) -> int:
        """A commit's rows in ``collection`` made lasting and readable, and the time reads must ask to be as
        fresh as (reads_since). A Lite file is flushed to disk (0: its reads need not ask); a server has every
        acknowledged row in its log, which a restart replays, so readers only need to ask for reads as fresh
        as now (flushing costs seconds on 2.3)."""
        if self.lite_file:
            self.client.flush(collection)
            return 0
        return written_now()

    def close(self) -> None:
        self.client.close()
        if self.lite_file:
            # Milvus Lite serves each file from a thread that holds a lock on it until released.
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.lite_file)

    def retire(self) -> None:
        """A newer build replaced this one: drop its server collection (a Lite file goes with its directory)."""
        if self.lite_file is None:
            connect(self.uri).drop_collection(self.collection)  # a client of its own: this one may be closed

    def discard_after(self, directory: Path, generation: int) -> None:
        self.client.delete(self.collection, filter=f"generation > {int(generation)}")

    def __len__(self) -> int:
        found = self.client.query(self.collection, filter=_visible(self.generation, self.hidden),
                                  output_fields=["count(*)"], **reads_since(self.written_at))
        return int(found[0]["count(*)"])

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray) -> None:
        for start in range(0, len(keys), INSERT_BATCH):
            rows = slice(start, start + INSERT_BATCH)
            self.client.insert(self.collection, [
                {"key": int(key), "vector": vector.astype(np.float32).tolist(), "day": int(day),
                 "generation": self.generation + 1}
                for key, vector, day in zip(keys[rows], vectors[rows], days[rows], strict=True)
            ])

    def remove(self, keys: np.ndarray) -> None:
        """Hidden from the next generation on; the rows go with the collection at the next full write."""
        self.hidden = np.union1d(self.hidden, np.asarray(keys, dtype=np.int64))

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys):
            return np.zeros((0, 0), dtype=np.float32)
        rows = self.client.get(self.collection, ids=[int(key) for key in keys], output_fields=["vector"],
                               **reads_since(self.written_at))
        by_key = {row["key"]: row["vector"] for row in rows}
        return np.array([by_key[int(key)] for key in keys], dtype=np.float32)

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        expression = " and ".join([_visible(self.generation, self.hidden), *([_expression(where)] if where else [])])
        found = self.client.search(self.collection, data=np.asarray(queries, dtype=np.float32).tolist(), limit=k,
                                   filter=expression, output_fields=["key"], **reads_since(self.written_at))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        keys = np.full((len(queries), k), -1, dtype=np.int64)
        for row, hits in enumerate(found):
            for column, hit in enumerate(hits):
                scores[row, column], keys[row, column] = hit["distance"], hit["key"]
        return scores, keys



def _visible(generation: int, hidden: np.ndarray) -> str:
    """Rows committed up to ``generation``, less the hidden keys."""
    expression = f"generation <= {int(generation)}"
    if len(hidden):
        expression += f" and key not in [{','.join(str(int(key)) for key in hidden)}]"
    return expression


def _expression(where: DateFilter) -> str:
    """The date range as a Milvus filter on ``day`` (undated rows, day 0, are in no range), or on the
    keys of chunks that talk about a date in it."""
    terms = ["day > 0"]
    if where.since:
        terms.append(f"day >= {day_number(where.since)}")
    if where.until:
        terms.append(f"day <= {day_number(where.until)}")
    events = where.event_keys()
    if not len(events):
        return " and ".join(terms)
    return f"(({' and '.join(terms)}) or key in [{','.join(str(int(key)) for key in events)}])"


class MilvusKeywordIndex:
    """BM25 full-text search inside Milvus, beside its vectors: a second collection on the same
    connection (key, tokens, day, generation), with Milvus's BM25 function filling a sparse field.
    Tokens come from rag.text, as for tantivy (words of letters and digits, so Milvus's standard
    tokenizer, the one Milvus Lite has beside jieba, splits them as they are); a reader sees what
    was committed up to its generation, less the hidden keys, as in the vector collection."""

    name = "milvus-bm25"

    def __init__(self, vectors: MilvusVectorStore, collection: str, generation: int = 0,
                 hidden: np.ndarray | None = None, written_at: int = 0):
        self.vectors = vectors  # owns the connection
        self.collection = collection
        self.generation = generation
        self.hidden = np.zeros(0, dtype=np.int64) if hidden is None else np.asarray(hidden, dtype=np.int64)
        self.written_at = written_at  # as MilvusVectorStore's: what this generation shows was written by then

    @classmethod
    def create(cls, directory: Path, vectors: VectorStore) -> MilvusKeywordIndex:
        from pymilvus import DataType, Function, FunctionType

        if not isinstance(vectors, MilvusVectorStore):
            raise InvalidInputError("keywords in Milvus (milvus-bm25) need vectors in Milvus too; "
                                    "use --store milvus-lite or a Milvus URI, or keywords tantivy")
        if not vectors.offers_bm25():
            version = ".".join(map(str, server_version(vectors.client)))
            raise InvalidInputError(
                f"the Milvus server at {vectors.given_location} is version {version}; its BM25 full-text search "
                f"(milvus-bm25) needs {'.'.join(map(str, BM25_SINCE))} or newer. Build with --keywords tantivy "
                "(keywords kept in the index directory), or upgrade the server (docker-compose.yml runs 2.5)")
        client = vectors.client
        collection = LITE_KEYWORDS if vectors.lite_file else vectors.collection.replace("rag_chunks_", "rag_keywords_")
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("tokens", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("day", DataType.INT64)
        schema.add_field("generation", DataType.INT64)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                                     output_field_names=["sparse"]))
        index = client.prepare_index_params()
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(collection, schema=schema, index_params=index)
        return cls(vectors, collection)

    @classmethod
    def open(cls, directory: Path, entry: dict, vectors: VectorStore, generation: int,
             hidden: np.ndarray) -> MilvusKeywordIndex:
        collection = entry["keyword_collection"]
        loaded(vectors.client, collection, vectors.uri)
        return cls(vectors, collection, generation, hidden, entry.get("keywords_written_at", 0))

    def __len__(self) -> int:
        found = self.vectors.client.query(self.collection, filter=_visible(self.generation, self.hidden),
                                          output_fields=["count(*)"], **reads_since(self.written_at))
        return int(found[0]["count(*)"])

    def add(self, keys: np.ndarray, texts: list[str], days: np.ndarray) -> None:
        tokens = tokenize(texts)
        for start in range(0, len(keys), INSERT_BATCH):
            rows = slice(start, start + INSERT_BATCH)
            self.vectors.client.insert(self.collection, [
                {"key": int(key), "tokens": " ".join(words), "day": int(day), "generation": self.generation + 1}
                for key, words, day in zip(keys[rows], tokens[rows], days[rows], strict=True)
            ])

    def remove(self, keys: np.ndarray) -> None:
        self.hidden = np.union1d(self.hidden, np.asarray(keys, dtype=np.int64))

    def discard_after(self, generation: int) -> None:
        self.vectors.client.delete(self.collection, filter=f"generation > {int(generation)}")

    def commit(self) -> dict:
        self.generation += 1
        self.written_at = self.vectors.settle(self.collection)
        return {"keywords": self.name, "keyword_collection": self.collection,
                **({"keywords_written_at": self.written_at} if self.written_at else {})}

    def search(self, query: str, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        terms = tokenize([query])[0]
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        expression = " and ".join([_visible(self.generation, self.hidden), *([_expression(where)] if where else [])])
        hits = self.vectors.client.search(self.collection, data=[" ".join(terms)], anns_field="sparse", limit=k,
                                          filter=expression, output_fields=["key"], **reads_since(self.written_at))[0]
        return (np.array([hit["key"] for hit in hits], dtype=np.int64),
                np.array([hit["distance"] for hit in hits], dtype=np.float32))

    def close(self) -> None:
        pass  # the vector store closes the connection

    def retire(self) -> None:
        if self.vectors.lite_file is None:
            connect(self.vectors.uri).drop_collection(self.collection)
