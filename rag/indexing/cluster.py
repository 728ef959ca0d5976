"""Ingest on a Ray cluster (``rag index --cluster ray://HOST:10001``, or ``--cluster local`` for a Ray
started on this machine): Ray Data reads the corpus files and prepares the articles (splits, embeds and
tags them, rag.indexing.prepare) on the cluster's workers, one model per worker, while this process
keeps what must happen once: the plan, the chunk keys, and the writes to the stores.

Workers run rag's own code, so every node needs rag installed (``pip install 'rag-news[cluster]'``) and
sees the corpus folder at the same path (a shared filesystem). Results come back in corpus order, so a
build on a cluster gives the chunks, keys and (to float tolerance) vectors that a build here does.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from rag.config import Config
from rag.dates import EventDate, day_of_iso, iso_day
from rag.errors import InvalidInputError, StoreUnavailableError
from rag.indexing.prepare import Prepared, prepare
from rag.ingest.corpus import read_file
from rag.models.embedders import Embedder, make_embedder
from rag.models.onnx import use_threads
from rag.types import Chunk, Document, Sentence, Skipped, TypedSpan

LOCAL = "local"
_SCHEME = "ray://"
# A worker's batch: texts of like length embed together with little padding. Preparing 1,000 generated
# articles in batches of 16 took 27% longer than all at once, in batches of 128 5% longer.
_DOCUMENTS_PER_BATCH = 128


def check_cluster(address: str) -> None:
    """InvalidInputError unless ``address`` is "local" or a Ray client address."""
    if address != LOCAL and not address.startswith(_SCHEME):
        raise InvalidInputError(f"unknown cluster {address!r}; use --cluster local (a Ray started on this machine) "
                                "or --cluster ray://HOST:10001 (a running Ray cluster's client address)")


def _start_local(ray, cpus: int, options: dict) -> None:
    """Start a Ray on this machine. Its start waits for its control process (GCS) to publish a port and
    gives up after 30 s with a RuntimeError; on a busy 2-core machine that happened to one start in
    about a dozen, so a start that fails is cleaned up and tried once more before the error is named."""
    for attempt in (1, 2):
        try:
            ray.init(num_cpus=cpus, **options)
            return
        except RuntimeError as error:
            ray.shutdown()
            if attempt == 2:
                raise StoreUnavailableError(f"could not start a local Ray, twice ({error}); check that /tmp has room "
                                            "and no stale Ray is running (`ray stop`), or build without --cluster"
                                            ) from None


class RayCluster:
    """A connection to a Ray cluster for one build: used as a context manager, it connects (or starts a
    local Ray with ``workers`` CPUs) and disconnects at the end."""

    def __init__(self, address: str, workers: int | None = None):
        check_cluster(address)
        if workers is not None and workers < 1:
            raise InvalidInputError(f"--workers {workers}: give at least 1")
        self.address = address
        self.workers = workers

    def __enter__(self) -> RayCluster:
        try:
            import ray
            import ray.data
        except ImportError:
            raise InvalidInputError("--cluster needs Ray, which the main set-up leaves out; install the cluster "
                                    "extra: .venv/bin/pip install -e '.[cluster]'") from None
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
                   "configure_logging": False}
        try:
            if self.address == LOCAL:
                _start_local(ray, self.workers or os.cpu_count(), options)
            else:
                ray.init(address=self.address, **options)
        except ConnectionError as error:
            raise StoreUnavailableError(f"cannot reach the Ray cluster at {self.address} ({error}); start it with "
                                        "`ray start --head --ray-client-server-port 10001`, or build here without "
                                        "--cluster") from None
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # results in corpus order: the same keys as a build here
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes on each run; errors still show
        context.enable_progress_bars = False  # rag shows its own
        context.print_on_execution_start = False
        if self.workers is None:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return self

    def __exit__(self, *exc) -> None:
        import ray

        ray.shutdown()

    def read_files(self, files: list[tuple[Path, Mapping[str, str]]], fields: Mapping[str, str]
                   ) -> Iterator[tuple[list[Document], list]]:
        """(articles, skipped) of each file, in the order given, read on the workers."""
        import ray.data

        if not files:
            return
        items = [{"path": str(path), "overrides": json.dumps(dict(overrides))} for path, overrides in files]
        dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 4 * self.workers))
        read = dataset.map(_read_one, fn_kwargs={"fields": dict(fields)}, num_cpus=1)
        for row in read.iter_rows():
            found = json.loads(row["read"])
            yield [_document_from(item) for item in found["documents"]], [Skipped(*item) for item in found["skipped"]]

    def prepare(self, documents: list[Document], next_key: int, config: Config, embedder: Embedder | None,
                progress: bool) -> Prepared:
        """``prepare`` on the workers: each splits, embeds (with the model ``config`` names) and tags a share
        of the articles; keys are given here, from ``next_key`` on in corpus order."""
        import ray.data
        from tqdm import tqdm

        if not documents:
            return Prepared([], np.zeros((0, 0), dtype=np.float32), [])
        blocks = -(-len(documents) // _DOCUMENTS_PER_BATCH)
        dataset = ray.data.from_items([{"document": json.dumps(_document_json(document))} for document in documents],
                                      override_num_blocks=blocks)
        # The config travels with the class: constructor arguments would sit in the object store, which Ray
        # warns cannot bring a restarted worker back (Ray 2.5x prints that warning for its own arguments
        # anyway, ray-project/ray#57733).
        preparer = type("Preparer", (_Preparer,), {"config": config})
        prepared = dataset.map_batches(preparer, batch_size=_DOCUMENTS_PER_BATCH, num_cpus=1,
                                       compute=ray.data.ActorPoolStrategy(size=min(self.workers, blocks)))
        chunks: list[tuple[int, Chunk]] = []
        vectors: list[np.ndarray] = []
        sentences: list[Sentence] = []
        with tqdm(total=len(documents), desc=f"Preparing on {self.workers} Ray workers", unit="article",
                  disable=not progress) as bar:
            for row in prepared.iter_rows():
                done = json.loads(row["prepared"])
                for chunk in done["chunks"]:
                    chunks.append((next_key, Chunk(*chunk)))
                    next_key += 1
                vectors.append(_vectors_from(done["vectors"]))
                sentences.extend(_sentence_from(sentence) for sentence in done["sentences"])
                bar.update()
        return Prepared(chunks, np.concatenate([block for block in vectors if len(block)]) if chunks
                        else np.zeros((0, 0), np.float32),
                        sentences)


def _read_one(row: dict, fields: dict) -> dict:
    documents, skipped = read_file(Path(row["path"]), json.loads(row["overrides"]), fields=fields)
    return {"read": json.dumps({"documents": [_document_json(document) for document in documents],
                                "skipped": [[item.path, item.reason] for item in skipped]})}


class _Preparer:
    """One worker's model (loaded once) preparing batches of articles: a row per article of its chunks,
    their vectors, and its sentences."""

    config: Config  # set on a subclass for each build

    def __init__(self):
        use_threads(1)  # this worker's one CPU (num_cpus=1)
        self.embedder = make_embedder(self.config.embedder)

    def __call__(self, batch: dict) -> dict:
        documents = [_document_from(json.loads(text)) for text in batch["document"]]
        done = prepare(documents, 0, self.config, self.embedder, progress=False)
        rows = []
        for document in documents:
            mine = [index for index, (_, chunk) in enumerate(done.chunks) if chunk.doc_id == document.doc_id]
            rows.append(json.dumps({
                "chunks": [dataclasses.astuple(done.chunks[index][1]) for index in mine],
                "vectors": _vectors_json(done.vectors[mine]),
                "sentences": [_sentence_json(s) for s in done.sentences if s.doc_id == document.doc_id]}))
        return {"prepared": rows}


# Plain JSON between the workers and this process, as everywhere in rag: nothing is unpickled.

def _document_json(document: Document) -> dict:
    return {**dataclasses.asdict(document), "date": iso_day(document.date)}


def _document_from(data: dict) -> Document:
    return Document(**{**data, "date": day_of_iso(data["date"])})


def _sentence_json(sentence: Sentence) -> dict:
    return {"sentence_id": sentence.sentence_id, "doc_id": sentence.doc_id, "start": sentence.start,
            "end": sentence.end, "text": sentence.text, "spans": [[s.start, s.end, s.kind] for s in sentence.spans],
            "dates": [e.stored() for e in sentence.dates],
            "vector": _vectors_json(np.asarray(sentence.vector)[None, :])}


def _sentence_from(data: dict) -> Sentence:
    text = data["text"]
    return Sentence(sentence_id=data["sentence_id"], doc_id=data["doc_id"], start=data["start"], end=data["end"],
                    text=text, spans=tuple(TypedSpan(a, b, kind, text[a:b]) for a, b, kind in data["spans"]),
                    dates=tuple(EventDate.from_stored(values) for values in data["dates"]),
                    vector=_vectors_from(data["vector"])[0])


def _vectors_json(vectors: np.ndarray) -> list:
    """Rows of float32 vectors as [dimension, base64 of their little-endian bytes]: exact, and a tenth of
    the time that decimal numbers take to write and read back (the process collecting them shares the
    workers' cores)."""
    rows = np.ascontiguousarray(vectors, dtype="<f4")
    return [int(rows.shape[1]), base64.b64encode(rows.tobytes()).decode("ascii")]


def _vectors_from(data: list) -> np.ndarray:
    dimension, encoded = data
    flat = np.frombuffer(base64.b64decode(encoded), dtype="<f4").astype(np.float32)
    return flat.reshape(-1, dimension) if len(flat) else np.zeros((0, dimension), dtype=np.float32)
