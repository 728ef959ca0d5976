"""Readers turn a question and retrieved passages into an answer with citations.

A new reader is one new file with a class that meets rag.readers.base.Reader, and one line in rag.registry.
"""

from __future__ import annotations

import logging

from rag.answers.model import AnswerModels
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.models.local import checkpoint_kind, find_checkpoint
from rag.readers.base import Reader
from rag.readers.extractive import ExtractiveReader
from rag.readers.qa import QAReader
from rag.readers.seq2seq import Seq2SeqReader
from rag.registry import AUTO_READER, READERS, named

log = logging.getLogger("rag")

__all__ = ["ExtractiveReader", "QAReader", "Reader", "Seq2SeqReader", "make_reader", "with_model"]


def make_reader(config: Config, models: AnswerModels) -> Reader:
    """The reader ``config.reader`` names, its model loaded now (ModelNotAvailableError if it cannot be);
    "auto" is the best reader whose model is on disk (AUTO_ORDER), and the log says which."""
    if config.reader != AUTO_READER:
        return named(READERS, config.reader).implementation().create(config, models).warm_up()
    for name, model in ((QAReader.name, config.qa_model), (Seq2SeqReader.name, config.seq2seq_model)):
        # Looking at the disk first spares importing transformers and PyTorch when the model is absent.
        if find_checkpoint(model, config.models_dir) is None:
            continue
        try:
            reader = named(READERS, name).implementation().create(config, models).warm_up()
        except ModelNotAvailableError as error:
            log.warning("rag: not using the %s reader: %s", name, error)
            continue
        log.warning("rag: using the %s reader with %s", name, model)
        return reader
    log.warning(
        "rag: using the extractive reader: no trained reader's model is on this machine (%s for qa, %s for "
        "seq2seq). To use one, download it once (rag models pull %s) or pass --model DIR", config.qa_model,
        config.seq2seq_model,
        config.qa_model,
    )
    return ExtractiveReader.create(config, models)


def with_model(config: Config, reader: str | None, model: str | None) -> Config:
    """``config`` choosing ``reader`` (None: as it is) with ``model`` (None: its default). A model is the
    chosen reader's; named alone, it chooses the reader its checkpoint serves (qa or, as ever, seq2seq)."""
    if model and not reader:
        checkpoint = find_checkpoint(model, config.models_dir)
        reader = QAReader.name if checkpoint and checkpoint_kind(checkpoint) == QAReader.name else Seq2SeqReader.name
    reader = reader or config.reader
    field = "qa_model" if reader == QAReader.name else "seq2seq_model"
    return config.replace(reader=reader, **{field: model or None})
