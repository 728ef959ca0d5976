"""Question answering with citations over a local news archive.

    import rag
    rag.build_index("corpus", "index")
    qa = rag.load("index")
    answer = qa.ask("How far did the March 2023 missiles fly?")
    print(answer.text, answer.citations[0].quote)
    rag.add(["new_story.html"]); rag.remove(["old_story"]); rag.list_articles(since="2023-01-01")
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
    "Sentence", "ShortAnswer", "TypedSpan", "add", "build_index", "list_articles", "load", "parse_query", "remove",
]


def build_index(corpus_dir="corpus", index_dir="index", config=None, rebuild=False, compact=False, progress=True):
    """Build or update the index; see rag.build.build_index."""
    from rag.build import build_index as _build

    return _build(corpus_dir, index_dir, config, rebuild=rebuild, compact=compact, progress=progress)


def add(paths, corpus_dir="corpus", index_dir="index", config=None, progress=False):
    """Copy article files or folders into the corpus and index just those; see rag.library.add."""
    from rag.library import add as _add

    return _add(paths, corpus_dir, index_dir, config, progress=progress)


def remove(doc_ids, corpus_dir="corpus", index_dir="index", config=None):
    """Delete articles from the corpus and the index; see rag.library.remove."""
    from rag.library import remove as _remove

    return _remove(doc_ids, corpus_dir, index_dir, config)


def list_articles(index_dir="index", since=None, until=None, config=None):
    """The articles the index holds, with date, source and chunk count; see rag.library.list_articles."""
    from rag.library import list_articles as _list

    return _list(index_dir, since, until, config)


def load(index_dir="index", config=None, embedder=None):
    """A QA over an existing index (asking never builds one); see rag.pipeline.load."""
    from rag.pipeline import load as _load

    return _load(index_dir, config, embedder)


def __getattr__(name):
    if name == "QA":
        from rag.pipeline import QA

        return QA
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
