"""The embedder backends: the int8 ONNX export of all-MiniLM-L6-v2 gives the float32 model's vectors
to within rounding, in the order asked, and an index records which backend wrote it."""

import numpy as np
import pytest

from rag.build import build_index
from rag.config import Config
from rag.corpus import load_corpus
from rag.embedding import ONNX_INT8, OnnxEmbedder, make_embedder
from rag.errors import IndexMismatchError
from rag.index import load_index
from rag.sentences import sentence_spans

from tests.conftest import CORPUS

pytest.importorskip("onnxruntime", reason="the ONNX backend needs the onnx extra: pip install -e '.[onnx]'")


@pytest.fixture(scope="module")
def sentences():
    documents, _ = load_corpus(CORPUS)
    return [document.text[start:end] for document in documents for start, end in sentence_spans(document.text)][:40]


def test_int8_vectors_follow_the_float32_model_in_the_order_asked(sentences, real_embedder):
    onnx = make_embedder(ONNX_INT8)
    assert isinstance(onnx, OnnxEmbedder) and onnx.name == ONNX_INT8
    batch = onnx.embed(sentences)  # sorted by length inside, returned in the order given
    assert batch.shape == (len(sentences), 384) and np.allclose(np.linalg.norm(batch, axis=1), 1, atol=1e-5)
    assert np.allclose(batch[[0, 7, 23]], onnx.embed([sentences[0], sentences[7], sentences[23]]), atol=1e-4)
    assert np.min(np.sum(batch * real_embedder.embed(sentences), axis=1)) > 0.995
    assert [onnx.count_tokens(s) for s in sentences[:5]] == [real_embedder.count_tokens(s) for s in sentences[:5]]
    long = " ".join(sentences) * 3  # past the model's 256-token input: counted whole, as the chunker needs
    assert onnx.count_tokens(long) == real_embedder.count_tokens(long) > 256
    assert onnx.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_an_index_built_by_one_backend_is_never_read_with_the_other(corpus_dir, tmp_path):
    build_index(corpus_dir, tmp_path / "index", Config(embedder=ONNX_INT8), progress=False)
    assert load_index(tmp_path / "index", Config(embedder=ONNX_INT8)).manifest["embedder"]["name"] == ONNX_INT8
    with pytest.raises(IndexMismatchError, match="embedder 'all-MiniLM-L6-v2-onnx-int8' \\(wanted 'all-MiniLM-L6-v2'\\)"):
        load_index(tmp_path / "index", Config())
