"""Readers turn a question and retrieved passages into an answer with citations.

A new reader is one new file with a class that meets rag.readers.base.Reader, and one line in rag.registry.
"""

from __future__ import annotations

import logging

from rag.answers.model import AnswerModels
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.readers.base import Reader
from rag.readers.extractive import ExtractiveReader
from rag.readers.seq2seq import Seq2SeqReader, on_disk
from rag.registry import AUTO_READER, READERS, named

log = logging.getLogger("rag")

__all__ = ["ExtractiveReader", "Reader", "Seq2SeqReader", "make_reader"]


def make_reader(config: Config, models: AnswerModels) -> Reader:
    """The reader ``config.reader`` names, its model loaded now (ModelNotAvailableError if it cannot be);
    "auto" is the seq2seq reader when its model is on disk, else the extractive one."""
    if config.reader != AUTO_READER:
        return named(READERS, config.reader).implementation().create(config, models).warm_up()
    try:
        # Looking at the disk first spares importing transformers and PyTorch when the model is absent.
        reader = Seq2SeqReader.create(config, models).warm_up() if on_disk(config.seq2seq_model) else None
    except ModelNotAvailableError:
        reader = None
    if reader is None:
        log.warning(
            "rag: using the extractive reader: seq2seq model %r is not on this machine. To use a generator, "
            "put a checkpoint (e.g. flan-t5-base) in a local directory and pass --model DIR or set RAG_MODEL.",
            config.seq2seq_model,
        )
        return ExtractiveReader.create(config, models)
    log.warning("rag: using the seq2seq reader with %s", config.seq2seq_model)
    return reader
