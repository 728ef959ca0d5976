"""The question path on ONNX Runtime: the float32 export embeds questions into the same space as the
PyTorch model that embedded the chunks, the span head's int8 export reads the tokens and computes the
scores its PyTorch module was trained to, and answering a question imports neither PyTorch nor
transformers."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.answers.span_head import MAX_TOKENS, SpanHead, _load, adapter_config, head_path, reader_module, trained_weights
from rag.config import Config
from rag.errors import ModelNotAvailableError
from rag.models.embedders import FEW_TEXTS
from rag.models.local import find_checkpoint, resolve_model_path, sentence_transformer
from rag.models.onnx import OnnxEncoder, export_path, exported_encoder, mean_pooled, prepare
from tests.conftest import REPO

pytest.importorskip("onnx", reason="exporting to ONNX needs the onnx extra: pip install -e '.[onnx]'")

MODEL = "all-MiniLM-L6-v2"
TEXTS = ["How far did the missiles fly?",
         "Both missiles flew east, the first one 420 kilometers and the second 270 kilometers, the Joint Chiefs said.",
         "Seoul"]


def test_questions_embedded_on_onnx_runtime_land_where_pytorch_puts_them(real_embedder):
    pytorch = sentence_transformer(MODEL).encode(TEXTS, normalize_embeddings=True)
    onnx = exported_encoder(resolve_model_path(MODEL), "float32")
    assert isinstance(onnx, OnnxEncoder)
    assert np.min(np.sum(onnx.embed(TEXTS) * pytorch, axis=1)) > 0.99999
    # The embedder sends a few texts (a question) there and batches (chunks) to PyTorch: one space.
    assert len(TEXTS) <= FEW_TEXTS
    assert np.allclose(real_embedder.embed(TEXTS), real_embedder.embed(TEXTS * 4)[: len(TEXTS)], atol=1e-5)


def test_the_span_heads_int8_export_reads_pairs_token_for_token_as_its_pytorch_module_does():
    path = head_path(Config().answer_weights)
    head = SpanHead.read(path)
    questions, sentences = [TEXTS[0]] * 2, TEXTS[1:]
    scores, offsets, sequence = head.encoder.pair_outputs(questions, sentences, MAX_TOKENS)
    tokenizer = sentence_transformer(MODEL).tokenizer
    inputs = tokenizer(questions, sentences, truncation="only_second", max_length=MAX_TOKENS, padding=True,
                       return_offsets_mapping=True)
    assert offsets == [[tuple(pair) for pair in row] for row in inputs["offset_mapping"]]
    assert sequence.tolist() == [[-1 if s is None else s for s in inputs.sequence_ids(i)] for i in range(2)]
    import torch

    module = reader_module(Path(resolve_model_path(MODEL)), _load(str(path))).eval()
    with torch.inference_mode():
        reference = module(**{k: torch.tensor(v) for k, v in inputs.items() if k != "offset_mapping"}).numpy()
    sentence = sequence[0] == 1
    assert np.corrcoef(scores[0, sentence].ravel(), reference[0, sentence].ravel())[0, 1] > 0.98  # int8: close
    assert np.argmax(scores[0, sentence, 0]) == np.argmax(reference[0, sentence, 0])  # the same start


def test_the_span_head_file_keeps_adapters_that_merged_into_the_layers_compute_what_training_did():
    """The file keeps low-rank adapters, small enough to ship (the bench's "weights under 5 MB");
    merged into the base layers for the export, they give the scores the unmerged reader gave."""
    import torch
    from peft import get_peft_model

    assert head_path(Config().answer_weights).stat().st_size < 5e6
    model_dir = Path(resolve_model_path(MODEL))
    torch.manual_seed(0)
    adapted = get_peft_model(reader_module(model_dir), adapter_config(4))
    for parameter in adapted.parameters():
        if parameter.requires_grad:  # as if trained: adapters, biases and start/end layer all moved
            parameter.data += 0.05 * torch.randn_like(parameter)
    inputs = sentence_transformer(MODEL).tokenizer([TEXTS[0]], [TEXTS[1]], return_tensors="pt")
    merged = reader_module(model_dir, {name: value.clone() for name, value in trained_weights(adapted).items()})
    with torch.inference_mode():
        assert torch.allclose(adapted(**inputs), merged(**inputs), atol=1e-4)
        states = [reader.encoder(**inputs).last_hidden_state for reader in (reader_module(model_dir), merged)]
        assert not torch.allclose(*states, atol=1e-2)  # the layers themselves changed
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_the_int8_exports_weights_fit_in_7_bits_so_that_every_cpu_multiplies_them_exactly():
    """ONNX Runtime's int8 kernels on CPUs without VNNI add pairs of u8 x s8 products in 16 bits: with
    weights in [-64, 64] no pair overflows (2 x 255 x 64 < 32,768), so such CPUs compute the vectors
    VNNI CPUs do."""
    import onnx
    from onnx import numpy_helper

    exported_encoder(resolve_model_path(MODEL), "int8")  # made if missing
    graph = onnx.load(str(export_path(resolve_model_path(MODEL), "int8"))).graph
    weights = [numpy_helper.to_array(tensor) for tensor in graph.initializer if tensor.data_type == onnx.TensorProto.INT8]
    matrices = [w for w in weights if w.ndim == 2]  # the rest are their zero points
    assert len(matrices) == 36  # six layers' query, key, value, output and two feed-forward matrices
    assert max(int(np.abs(w).max()) for w in matrices) == 64  # the range is used, and no more
    span_head = onnx.load(str(SpanHead.read(head_path(Config().answer_weights)).encoder.model_file)).graph
    matrices = [numpy_helper.to_array(tensor) for tensor in span_head.initializer
                if tensor.data_type == onnx.TensorProto.INT8 and len(tensor.dims) == 2]
    assert len(matrices) == 19  # its three layers' six matrices and the start/end layer
    assert max(int(np.abs(w).max()) for w in matrices) == 64


def test_a_file_that_is_not_a_span_head_is_refused_with_the_fix(tmp_path):
    from safetensors.numpy import save_file

    save_file({"hidden.weight": np.zeros((2, 2), dtype=np.float32)}, str(tmp_path / "span_head.safetensors"))
    (tmp_path / "broken.safetensors").write_bytes(b"not safetensors")
    for name in ("span_head.safetensors", "broken.safetensors", "missing.safetensors"):
        with pytest.raises(ModelNotAvailableError, match="rag calibrate"):
            SpanHead.read(tmp_path / name)


def test_only_a_plain_mean_pooled_model_is_exported(tmp_path):
    assert mean_pooled(resolve_model_path(MODEL))
    assert not mean_pooled(tmp_path)
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Transformer"},
                                                       {"type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert not mean_pooled(tmp_path)  # CLS pooling, no normalisation: PyTorch serves it
    assert exported_encoder(str(tmp_path), "float32") is None and prepare(tmp_path) == []
    assert all(path.exists() for path in prepare(resolve_model_path(MODEL)))  # what set-up runs: both made
    names = {export_path(resolve_model_path(MODEL), precision).name for precision in ("float32", "int8")}
    assert len(names) == 2 and all(name.endswith(".onnx") for name in names)


def test_a_reader_model_missing_from_disk_is_known_without_loading_it(tmp_path):
    assert find_checkpoint(str(tmp_path), tmp_path / "models") == str(tmp_path)
    (tmp_path / "models" / "owner--pulled").mkdir(parents=True)
    (tmp_path / "models" / "owner--pulled" / "config.json").write_text("{}")
    assert find_checkpoint("owner/pulled", tmp_path / "models") == str(tmp_path / "models" / "owner--pulled")
    assert find_checkpoint("no-such-owner/no-such-model", tmp_path / "models") is None
    assert find_checkpoint("not a repository name!", tmp_path / "models") is None


def test_answering_a_question_imports_neither_pytorch_nor_transformers(real_index_dir):
    script = (
        "import sys\n"
        "from rag.config import Config\n"
        "from rag.pipeline import load\n"
        f"answer = load({str(real_index_dir)!r}, Config()).ask('How far did the missiles fly?')\n"
        "print(answer.text)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text, imported = done.stdout.strip().splitlines()[-2:]
    assert "420" in text and imported == "[]"


SQUAD_TRAIN = REPO.parent / "shared" / "bench" / "squad2-train-10-articles.json"


@pytest.mark.slow
@pytest.mark.skipif(not SQUAD_TRAIN.exists(), reason="the SQuAD articles live in ../shared/bench, beside the repo (as in CI)")
def test_a_span_head_fine_tuned_on_answer_sentences_finds_answers_it_never_saw(tmp_path):
    """Fine-tuned (briefly) on SQuAD answer sentences, the head points at held-out answers' first
    tokens far more often than chance, through the int8 export answering reads; and the export is
    named by the file's digest, so retrained weights are never read through an older export."""
    from rag.answers.span_training import train_head
    from rag.calibration import answer_sentences

    examples = answer_sentences(json.loads(SQUAD_TRAIN.read_text(encoding="utf-8"))["data"])
    train, held_out = examples[:480], examples[-100:]
    out = tmp_path / "span_head.safetensors"
    head = train_head(MODEL, train, out, epochs=1, progress=False)
    assert out.stat().st_size < 5e6  # the layers' adapters and the start/end layer in float16, not the layers
    hits = chance = 0.0
    for question, sentence, start, _ in held_out:
        scores = head.scores(question, [sentence])[0]
        best = int(np.argmax(scores.start))
        first = next(i for i, (a, b) in enumerate(scores.offsets) if b > start)
        hits += best == first
        chance += 1 / len(scores.offsets)
    assert hits > 3 * chance
    retrained = train_head(MODEL, train[:160], out, epochs=1, progress=False)
    assert retrained.encoder.model_file != head.encoder.model_file
    for used in (head, retrained):
        used.discard_export()
        assert not used.encoder.model_file.exists()


def test_a_worker_given_one_core_makes_encoders_that_compute_on_one_thread(monkeypatch):
    import rag.models.onnx as onnx_module

    model = export_path(resolve_model_path(MODEL), "float32")
    exported_encoder(resolve_model_path(MODEL), "float32")  # exported on first use
    tokenizer = Path(resolve_model_path(MODEL)) / "tokenizer.json"
    default = OnnxEncoder(model, tokenizer)
    monkeypatch.setattr(onnx_module, "_threads", None)
    onnx_module.use_threads(1)
    one = OnnxEncoder(model, tokenizer)
    assert one.session.get_session_options().intra_op_num_threads == 1
    assert default.session.get_session_options().intra_op_num_threads != 1  # 0: a thread per core
    assert np.allclose(one.embed(TEXTS), default.embed(TEXTS), atol=1e-6)
