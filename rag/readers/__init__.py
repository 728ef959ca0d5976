"""Readers turn a question and retrieved passages into an answer with citations.

A new reader is one new class with ``name`` and ``read(query, hits) -> Answer``.
"""

from __future__ import annotations

import logging

from rag.config import Config
from rag.answers.model import AnswerModels
from rag.errors import ModelNotAvailableError
from rag.readers.base import Reader
from rag.readers.extractive import ExtractiveReader
from rag.readers.seq2seq import Seq2SeqReader, on_disk

log = logging.getLogger("rag")

__all__ = ["ExtractiveReader", "Reader", "Seq2SeqReader", "make_reader"]


def make_reader(config: Config, models: AnswerModels) -> Reader:
    """The reader ``config.reader`` names; "auto" falls back to extractive when no seq2seq model is on disk."""
    if config.reader == "extractive":
        return ExtractiveReader(models)
    seq2seq = Seq2SeqReader(config.seq2seq_model, models, config.max_input_tokens, config.max_new_tokens)
    if config.reader == "seq2seq":
        return seq2seq.load()
    try:
        # Looking at the disk first spares importing transformers and PyTorch when the model is absent.
        reader = seq2seq.load() if on_disk(config.seq2seq_model) else None
    except ModelNotAvailableError:
        reader = None
    if reader is None:
        log.warning(
            "rag: using the extractive reader: seq2seq model %r is not on this machine. To use a generator, "
            "put a checkpoint (e.g. flan-t5-base) in a local directory and pass --model DIR or set RAG_MODEL.",
            config.seq2seq_model,
        )
        return ExtractiveReader(models)
    log.warning("rag: using the seq2seq reader with %s", config.seq2seq_model)
    return reader
