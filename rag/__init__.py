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
from rag.types import Answer, Chunk, Citation, Document, Hit

__all__ = [
    "QA", "Answer", "Chunk", "Citation", "Config", "CorpusError", "Document", "Hit", "IndexCorruptError",
    "IndexMismatchError", "IndexNotFoundError", "InvalidInputError", "ModelNotAvailableError", "RagError",
    "build_index", "load",
]


def build_index(corpus_dir="corpus", index_dir="index", config=None, rebuild=False, progress=True):
    """Build or update the index; see rag.index.build_index."""
    from rag.index import build_index as _build

    return _build(corpus_dir, index_dir, config, rebuild=rebuild, progress=progress)


def load(index_dir="index", corpus_dir="corpus", config=None):
    """A QA over the index; see rag.pipeline.load."""
    from rag.pipeline import load as _load

    return _load(index_dir, corpus_dir, config)


def __getattr__(name):
    if name == "QA":
        from rag.pipeline import QA

        return QA
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
