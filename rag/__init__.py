"""Question answering with citations over a local news archive.

    import rag
    rag.build_index("corpus", "index")
    qa = rag.load("index")
    answer = qa.ask("How far did the March 2023 missiles fly?")
    print(answer.text, answer.citations[0].quote)
"""

from rag.config import Config
from rag.errors import (
    CorpusError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidInputError,
    ModelNotAvailableError,
    RagError,
)
from rag.query import Query, parse_query
from rag.types import Answer, Chunk, Citation, Document, Hit, Sentence, ShortAnswer, TypedSpan

__all__ = [
    "QA", "Answer", "Chunk", "Citation", "Config", "CorpusError", "Document", "Hit", "IndexCorruptError",
    "IndexMismatchError", "IndexNotFoundError", "InvalidInputError", "ModelNotAvailableError", "Query", "RagError",
    "Sentence", "ShortAnswer", "TypedSpan", "build_index", "load", "parse_query",
]


def build_index(corpus_dir="corpus", index_dir="index", config=None, rebuild=False, compact=False, progress=True):
    """Build or update the index; see rag.build.build_index."""
    from rag.build import build_index as _build

    return _build(corpus_dir, index_dir, config, rebuild=rebuild, compact=compact, progress=progress)


def load(index_dir="index", config=None, embedder=None):
    """A QA over an existing index (asking never builds one); see rag.pipeline.load."""
    from rag.pipeline import load as _load

    return _load(index_dir, config, embedder)


def __getattr__(name):
    if name == "QA":
        from rag.pipeline import QA

        return QA
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
