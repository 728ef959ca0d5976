"""Question answering with citations over a local news archive.

    import rag
    rag.build_index("corpus", "index")
    qa = rag.load("index")
    answer = qa.ask("How far did the March 2023 missiles fly?")
    print(answer)                                   # as `rag ask` prints it
    rag.add(["new_story.html"]); rag.remove(["old_story"]); rag.list_articles(since="2023-01-01")
    report = rag.evaluate(qa, rag.read_questions("eval/questions.jsonl"))
    report.summary.strict_accuracy

Heavy libraries (torch, transformers, faiss, gradio) load only when a model or a store is first used.
"""

from __future__ import annotations

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
    "Sentence", "ShortAnswer", "TypedSpan", "add", "build_index", "evaluate", "list_articles", "load", "parse_query",
    "read_questions", "remove",
]


def build_index(corpus_dir="corpus", index_dir="index", config: Config | None = None, *, embedder: str | None = None,
                store: str | None = None, keywords: str | None = None, fields: dict[str, str] | None = None,
                rebuild: bool = False, compact: bool = False, wait: bool = True, progress: bool = True,
                cluster: str | None = None, workers: int | None = None):
    """Build the index of ``corpus_dir`` in ``index_dir``, or bring it up to date, as `rag index` does:
    ``embedder`` (a model name), ``store`` (where vectors live: faiss, faiss-flat, faiss-ivf, milvus-lite or
    a Milvus URI), ``keywords`` (tantivy or milvus-bm25) and ``fields`` (a dump's columns by field, as
    --field) override ``config``; ``cluster`` ("local" or ray://HOST:10001) prepares the articles on Ray
    with ``workers`` workers. Returns an IndexReport; see rag.indexing.build.build_index."""
    from rag.indexing.build import build_index as build

    config = (config or Config()).replace(embedder=embedder, vector_store=store, keyword_store=keywords,
                                          record_fields=tuple(fields.items()) if fields else None)
    return build(corpus_dir, index_dir, config, rebuild=rebuild, compact=compact, progress=progress, wait=wait,
                 cluster=cluster, workers=workers)


def add(paths, corpus_dir="corpus", index_dir="index", config: Config | None = None, progress: bool = False):
    """Copy article files or folders into the corpus and index just those; see rag.indexing.library.add."""
    from rag.indexing.library import add as add_articles

    return add_articles(paths, corpus_dir, index_dir, config, progress=progress)


def remove(doc_ids, corpus_dir="corpus", index_dir="index", config: Config | None = None):
    """Delete articles from the corpus and the index; see rag.indexing.library.remove."""
    from rag.indexing.library import remove as remove_articles

    return remove_articles(doc_ids, corpus_dir, index_dir, config)


def list_articles(index_dir="index", since=None, until=None, config: Config | None = None):
    """The articles the index holds, with date, source and chunk count; see rag.indexing.library.list_articles."""
    from rag.indexing.library import list_articles as listing

    return listing(index_dir, since, until, config)


def load(index_dir="index", config: Config | None = None):
    """A QA over the existing index in ``index_dir`` (asking never builds one); see rag.pipeline.load."""
    from rag.pipeline import load as open_qa

    return open_qa(index_dir, config)


def read_questions(path):
    """The questions of a JSON lines question set (``question``, ``answers``, ``doc_ids``, ``type``,
    ``split``); a malformed line is skipped with a warning naming it."""
    import logging

    from rag.evaluation.dataset import read_questions as read

    questions, skipped = read(path)
    for line in skipped:
        logging.getLogger("rag").warning("rag: %s", line)
    return questions


def evaluate(qa, questions, progress: bool = True):
    """Ask every question through ``qa`` as `rag ask` would; an EvalReport of each result and the metrics
    (``report.summary.strict_accuracy``, ``.f1``, ``.retrieval``...)."""
    from rag.evaluation.harness import evaluate as run

    return run(qa, questions, progress)


def __getattr__(name):
    if name == "QA":
        from rag.pipeline import QA

        return QA
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
