import pytest

from rag.ingest.chunking import chunk_document, word_count
from rag.ingest.corpus import read_corpus
from rag.types import Document
from tests.conftest import CORPUS


def _document(text: str) -> Document:
    return Document(doc_id="d", text=text, title="t")


@pytest.mark.parametrize("max_tokens, overlap", [(160, 40), (60, 0), (40, 20), (16, 8)])
def test_real_corpus_chunks_slice_back_and_respect_the_limit(max_tokens, overlap):
    for document in read_corpus(CORPUS)[0]:
        chunks = chunk_document(document, word_count, max_tokens, overlap)
        assert chunks
        for chunk in chunks:
            assert document.text[chunk.start : chunk.end] == chunk.text
            assert word_count(chunk.text) <= max_tokens or len(chunk.text.split()) == 1
        assert chunks[0].start == 0 and chunks[-1].end == len(document.text)


@pytest.mark.parametrize(
    "text",
    [
        "Short.",
        "Emoji 🚀 launches 🚀 again. Second 🎯 sentence here.",
        "북한이 미사일을 발사했다. 합동참모본부가 밝혔다. 미사일은 동해에 떨어졌다.",
        "word " * 500,  # one sentence far longer than a chunk
        "A.\n\n\nB.   \n C.",
    ],
)
def test_awkward_text_chunks_slice_back(text):
    document = _document(text.strip())
    chunks = chunk_document(document, word_count, 32, 8)
    assert chunks and all(document.text[c.start : c.end] == c.text for c in chunks)
    covered = "".join(document.text[c.start : c.end] for c in chunks)
    assert set(document.text.split()) <= set(covered.split())


def test_neighbouring_chunks_overlap_by_whole_sentences():
    text = " ".join(f"Sentence number {n} is here." for n in range(30))
    chunks = chunk_document(_document(text), word_count, 40, 15)
    assert len(chunks) > 3
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert following.start < previous.end  # overlap exists
        assert text[following.start : previous.end].startswith("Sentence")  # and starts at a sentence


def test_chunk_ids_are_stable_and_unique():
    document = read_corpus(CORPUS)[0][0]
    ids = [c.chunk_id for c in chunk_document(document, word_count, 60, 10)]
    assert len(ids) == len(set(ids)) and ids[0] == f"{document.doc_id}#0"


def test_sentences_the_caller_split_give_the_chunks_splitting_here_gives():
    """The build splits each article once, for tagging and chunking, and passes the spans on."""
    from rag.ingest.sentences import sentence_spans

    for document in [*read_corpus(CORPUS)[0], _document("A short one. " + "word " * 300 + "end. Last one.")]:
        spans = sentence_spans(document.text)
        assert chunk_document(document, word_count, 60, 20, spans) == chunk_document(document, word_count, 60, 20)
    document = _document("First sentence here. Second sentence here.")
    assert [c.text for c in chunk_document(document, word_count, 6, 0, [(0, 20), (21, 43)])] == \
        ["First sentence here.", "Second sentence here."]
