"""The offline default reader: the best sentence of the passages, and the short span in it.

Each sentence of the retrieved passages is scored by meaning (embedding similarity to the
question), by words (how many of the question's terms it and its passage contain), by whether it
holds a span of the kind the question asks for, and by whether its article fits a period the
question names. The best sentence is the citation; the span of the asked-for kind nearest the
question's words in it is the answer. The score, in 0..1, is the confidence used for abstention.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.lexical import tokenize
from rag.readers.base import QUESTION_WORDS, cite_sentence, content_words
from rag.readers.spans import ORG, OTHER, PERSON, QUOTE, Span, find_spans, question_type
from rag.sentences import sentence_spans
from rag.temporal import Period, find_period
from rag.types import Answer, Hit

# Weights of the sentence score (they sum to 1). Meaning and words carry it; holding a span of the
# asked-for kind (a distance for "how far") is strong evidence; the retrieval rank breaks near-ties.
MEANING, WORDS, CONTEXT, KIND, RANK = 0.45, 0.25, 0.1, 0.15, 0.05
# Factors for evidence that is unlikely to hold the answer.
NO_SPAN = 0.7  # the question asks for a kind of span (a distance, a person) the sentence lacks
PERIOD = {"inside": 1.0, "undated": 0.6, "outside": 0.4}  # against a period the question names
# Names and numbers of the question missing from the passage: at worst this factor remains.
MISSING_NAMES_FLOOR = 0.5
PERIOD_ANCHOR = 5.0  # weight of a named period's words when choosing among spans (terms weigh 0.5 to 5)
_WORD = re.compile(r"[\w'’-]+")
# Words that shape a question but say nothing about its subject ("what is the name of...").
_QUESTION_WORDS = QUESTION_WORDS | {"name", "named", "called"}
# "Who confirmed it?" may be answered by an organisation; "Who is the minister?" asks for a person.
_ASKS_IDENTITY = re.compile(r"^\s*who (is|was|are|were)\b", re.I)


@dataclass(frozen=True)
class _Sentence:
    hit: Hit
    rank: int
    start: int  # offsets in the hit's chunk
    end: int
    text: str
    stems: frozenset[str]  # of the sentence
    context: frozenset[str]  # stems of the passage and its title


class ExtractiveReader:
    name = "extractive"

    def __init__(self, embedder: Embedder, cache_size: int = 50_000):
        self.embedder = embedder
        # Sentence vectors are kept between questions: the same passages come back often, and
        # embedding their sentences is most of this reader's time.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def _embed(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self.embedder.embed(missing)))
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > self._cache_size:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[text] for text in texts])

    def read(self, question: str, hits: list[Hit]) -> Answer:
        sentences = _sentences(hits)
        if not sentences:
            return Answer(question=question, text="", abstained=True, reader=self.name)
        kind = question_type(question)
        period = find_period(question)
        base_terms = _weighted_terms(question, period)
        names = {term for term, weight in base_terms.items() if weight > 1}
        terms = _with_rarity(base_terms, sentences)
        question_vector = self.embedder.embed([question])[0]
        meanings = np.clip(self._embed([sentence.text for sentence in sentences]) @ question_vector, 0.0, 1.0)
        scored = [
            (_score(sentence, float(meaning), terms, names, spans, kind), sentence, spans)
            for sentence, meaning in zip(sentences, meanings)
            for spans in [_answer_spans(sentence.text, kind, question)]
        ]
        score, best, spans = max(scored, key=lambda item: item[0])
        anchors = {**terms, **_period_terms(period)}
        return Answer(
            question=question,
            text=_nearest_span(best.text, spans, anchors, question) if spans else best.text,
            abstained=False,
            citations=(cite_sentence(best.hit, best.start, best.end),),
            reader=self.name,
            score=min(max(score, 0.0), 1.0),
        )


def _score(
    sentence: _Sentence, meaning: float, terms: dict[str, float], names: set[str], spans: list[Span], kind: str
) -> float:
    score = (
        MEANING * meaning
        + WORDS * _coverage(terms, sentence.stems)
        + CONTEXT * _coverage(terms, sentence.context)
        + KIND * (0.5 if kind == OTHER else float(bool(spans)))
        + RANK / (1 + sentence.rank)
    )
    if kind != OTHER and not spans:
        score *= NO_SPAN
    score *= PERIOD.get(sentence.hit.period_match, 1.0)
    if names:
        name_weights = {term: terms[term] for term in names}
        score *= MISSING_NAMES_FLOOR + (1 - MISSING_NAMES_FLOOR) * _coverage(name_weights, sentence.context)
    return score


def _sentences(hits: list[Hit]) -> list[_Sentence]:
    """Every sentence of the passages, each article sentence once (chunks overlap)."""
    seen, found = set(), []
    for rank, hit in enumerate(hits):
        context = frozenset(_stems(f"{hit.title} {hit.chunk.text}"))
        for start, end in sentence_spans(hit.chunk.text):
            key = (hit.chunk.doc_id, hit.chunk.start + start)
            if key not in seen:
                seen.add(key)
                text = hit.chunk.text[start:end]
                found.append(_Sentence(hit, rank, start, end, text, frozenset(_stems(text)), context))
    return found


def _stems(text: str) -> list[str]:
    return tokenize([text])[0]


def _weighted_terms(question: str, period: Period | None) -> dict[str, float]:
    """Stemmed question terms; names and numbers count double. A named period is left to the
    date machinery, so "in March 2023" does not demand the words "March" and "2023"."""
    if period and period.phrase:
        question = question.replace(period.phrase, " ")
    weights: dict[str, float] = {}
    for position, word in enumerate(_WORD.findall(question)):
        if word.lower() in _QUESTION_WORDS:
            continue
        important = (position > 0 and word[:1].isupper()) or any(character.isdigit() for character in word)
        for term in _stems(word):
            weights[term] = max(weights.get(term, 0.0), 2.0 if important else 1.0)
    return weights


def _period_terms(period: Period | None) -> dict[str, float]:
    """The named period's words, as strong anchors for choosing a span: in "how many missiles in
    2022?", the count next to "2022" is the answer, not the one next to "missiles"."""
    return {term: PERIOD_ANCHOR for term in _stems(period.phrase)} if period else {}


def _with_rarity(weights: dict[str, float], sentences: list[_Sentence]) -> dict[str, float]:
    """Weights scaled by rarity among the candidate sentences: in an archive about missiles,
    "missile" tells little and "altitude" a lot. A term in no sentence is rarest of all."""
    count = len(sentences)
    return {
        term: weight * math.log((count + 1) / (sum(term in s.stems for s in sentences) + 0.5))
        for term, weight in weights.items()
    }


def _coverage(weights: dict[str, float], present: set[str]) -> float:
    if not weights:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in present) / sum(weights.values())


def _answer_spans(sentence: str, kind: str, question: str) -> list[Span]:
    """Spans of the asked-for kind that are not just words of the question said back."""
    question_words = content_words(question)
    kinds = (PERSON, ORG) if kind == PERSON and not _ASKS_IDENTITY.match(question) else (kind,)
    for candidate_kind in kinds:
        spans = [
            span
            for span in find_spans(sentence, candidate_kind)
            if not content_words(sentence[span.start : span.end]) <= question_words
        ]
        if spans:
            return spans
    return []


def _asked_noun(question: str) -> str | None:
    """The noun of "which town", "what agency": a span next to that word is likely the answer."""
    match = re.search(r"\b(?:which|what)\s+(\w+)(?:\s+(\w+))?", question.lower())
    if not match:
        return None
    words = [word for word in match.groups() if word]
    if words[-1] in _QUESTION_WORDS:
        words = words[:-1]
    stems = _stems(words[-1]) if words and words[-1] not in _QUESTION_WORDS else []
    return stems[0] if stems else None


def _nearest_span(sentence: str, spans: list[Span], terms: dict[str, float], question: str) -> str:
    """The most specific span; then one beside the asked-for noun ("the town of Jangyon");
    then the one nearest the question's words, weighted by importance."""
    words = list(_WORD.finditer(sentence))
    anchors = [(index, max(terms.get(t, 0.0) for t in _stems(w.group()) or [""])) for index, w in enumerate(words)]
    anchors = [(index, weight) for index, weight in anchors if weight > 0]
    noun = _asked_noun(question)

    def word_index(offset: int) -> int:
        return next((index for index, word in enumerate(words) if word.end() > offset), len(words))

    def closeness(span: Span) -> tuple[float, float]:
        first, last = word_index(span.start), word_index(span.end - 1)
        pulls = [weight / (1 + max(first - index, index - last, 0)) for index, weight in anchors] or [0.0]
        return max(pulls), sum(pulls)

    def beside_noun(span: Span) -> bool:
        nearby = sentence[max(0, span.start - 25) : span.end + 25]
        return noun is not None and noun in _stems(nearby)

    chosen = min(
        spans,
        key=lambda span: (span.specificity, not beside_noun(span), tuple(-value for value in closeness(span)), span.start),
    )
    text = sentence[chosen.start : chosen.end]
    return text.strip(" ,.") if chosen.kind == QUOTE else text
