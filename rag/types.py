"""The shared vocabulary: small frozen dataclasses that flow one way through the pipeline.

Document -> Chunk (with its Sentences and their TypedSpans) -> Hit -> Candidate -> Answer (with
Citations and, when several events match, one ShortAnswer each). Nothing heavy is imported, so every
stage and every test can use them without paying for torch or faiss.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass, field
from datetime import date

from rag.dates import EventDate, Fit, iso_day


@dataclass(frozen=True)
class Skipped:
    """A file or record left out of the corpus, with the reason and what to do about it."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


@dataclass(frozen=True)
class Document:
    """One article of the corpus, as read from disk."""

    doc_id: str
    text: str
    title: str
    date: date | None = None
    source: str | None = None
    url: str | None = None
    path: str = ""
    content_hash: str = ""
    author: str | None = None
    # Empty for a date the article carries (metadata, a date marker, the page); otherwise ``date`` was
    # inferred from the text and this says from what: never shown as a publication date.
    date_evidence: str = ""


@dataclass(frozen=True)
class Chunk:
    """A span of a document small enough for the embedder: ``doc.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TypedSpan:
    """A short span of a sentence that could answer a question: a person, a date, a distance..."""

    start: int  # character offsets in the sentence
    end: int
    kind: str  # one of rag.query's types, or "phrase" for a plain noun phrase
    text: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of an article, found and tagged once at index time."""

    sentence_id: str
    doc_id: str
    start: int  # character offsets in the document text
    end: int
    text: str
    spans: tuple[TypedSpan, ...] = ()
    dates: tuple[EventDate, ...] = ()  # the dates it talks about, resolved against its article's date
    vector: object = field(default=None, compare=False, repr=False)  # unit-length embedding (numpy), if loaded


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the document facts a reader and a citation need."""

    chunk: Chunk
    score: float
    title: str
    date: date | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    sentence_rank: int | None = None  # by the chunk's sentence closest to the question (rag.retrieval)
    # How the passage fits a period the question names (rag.dates.Fit); None when it names none.
    period_match: Fit | None = None
    period_evidence: str = ""  # the date that decided period_match: "event date 2021-03-20 ("on Saturday")"
    date_evidence: str = ""  # what the article's date was inferred from, if it was not published with it
    also_in: tuple[str, ...] = ()  # doc ids of near-duplicate copies of this article, left out of the hits
    sentences: tuple[Sentence, ...] = ()  # the sentences the chunk overlaps, with their spans and vectors


@dataclass(frozen=True)
class Citation:
    """The sentence an answer rests on, located exactly in its article."""

    doc_id: str
    title: str
    date: date | None
    chunk_id: str
    start: int  # character offsets of the quote in the document text
    end: int
    quote: str
    date_evidence: str = ""  # what the article's date was inferred from, if it was not published with it
    matched_date: str = ""  # under a named period, the date that put this sentence in it
    also_in: tuple[str, ...] = ()  # doc ids of near-duplicate copies of the article (the same story)

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "date": iso_day(self.date)}

    def date_text(self) -> str:
        """The article's date as a reader should see it: "2021-03-25", "2023-03-05, inferred", "undated"."""
        if self.date is None:
            return "undated"
        return f"{self.date.isoformat()}, inferred" if self.date_evidence else self.date.isoformat()


@dataclass(frozen=True)
class Features:
    """How well a candidate span fits the question (all in about -1..1), by name; computed by
    rag.answers.features, read by the learned ranker in this order (``row``)."""

    similarity: float  # the sentence's meaning against the question's (MiniLM cosine)
    similarity_gap: float  # ... less the best sentence's
    sentence_terms: float  # weighted share of the question's terms in the sentence
    passage_terms: float  # ... in the passage and its title
    names: float  # ... of the question's names and numbers in the passage (1 when it names none)
    proximity: float  # how close the question's terms stand to the span
    window_terms: float  # share of the question's terms within WINDOW words of the span
    type_fit: float  # how well the span's kind answers the asked type (rag.answers.features.TYPE_FIT)
    asked_noun: float  # the noun of "which town" beside the span
    ordinal_fit: float  # for "the second missile": right after "second", or the second of its kind
    ordinal_conflict: float  # another ordinal right before the span
    period_fit: float  # the sentence's fit to the named period (rag.answers.features.PERIOD_FIT); 0 if none named
    retrieval_rank: float  # 1 / (1 + the passage's rank)
    repeats_question: float  # share of the span's words that are the question's
    length: float  # words, up to 12, over 12
    is_entity: float  # a named entity or value rather than a plain noun phrase
    phrase_for_other: float  # a noun phrase for an open question
    first_in_sentence: float  # the first fitting span of its sentence
    span_head: float = 0.0  # the span head's score (rag.answers.span_head)
    span_head_gap: float = 0.0  # ... less the best candidate's
    span_head_read: float = 0.0  # whether the head read the sentence at all

    def row(self) -> tuple[float, ...]:
        """The values in FEATURES order, as the ranker reads them."""
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self))



@dataclass(frozen=True)
class Candidate:
    """A possible short answer: a typed span of a retrieved sentence, with the features that rank it."""

    text: str
    kind: str
    sentence: Sentence
    hit: Hit
    hit_rank: int
    span_start: int  # offsets of the span in the sentence
    span_end: int
    features: Features
    score: float = 0.0  # the ranker's probability that this span answers the question


@dataclass(frozen=True)
class ShortAnswer:
    """One of several matching events: its answer, the sentence it rests on, and its date."""

    text: str
    citation: Citation
    date: date | None = None
    # How the event fits a period the question names: inside, or possible for an undated article
    # that names the asked month or day without a year; None when the question names no period.
    period_match: Fit | None = None

    def to_dict(self) -> dict:
        return {"text": self.text, "citation": self.citation.to_dict(), "date": iso_day(self.date),
                "period_match": self.period_match.value if self.period_match else None}


@dataclass(frozen=True, repr=False)
class Answer:
    """What a question gets back: the answer text, its citations and how it was made. ``str(answer)``
    reads as ``rag ask`` prints it; ``to_dict()`` is what ``rag ask --json`` prints."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Hit, ...] = ()
    reader: str = ""
    probability: float = 0.0  # that the answer is right (answerability)
    answers: tuple[ShortAnswer, ...] = ()  # every matching event, when the question has several
    resolved_question: str = ""  # the question as retrieved with (a follow-up completed)
    candidates: tuple[Candidate, ...] = field(default=(), compare=False, repr=False)  # ranked, best first
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "answers": [short.to_dict() for short in self.answers],
            "probability": round(self.probability, 4),
            "citations": [citation.to_dict() for citation in self.citations],
            "passages": [
                {
                    "doc_id": hit.chunk.doc_id,
                    "chunk_id": hit.chunk.chunk_id,
                    "title": hit.title,
                    "date": iso_day(hit.date),
                    "score": round(hit.score, 6),
                    "text": hit.chunk.text,
                }
                for hit in self.passages
            ],
            "reader": self.reader,
            "resolved_question": self.resolved_question,
            "timings_ms": {stage: round(ms, 1) for stage, ms in self.timings_ms.items()},
        }


    def __str__(self) -> str:
        lines = [self.text, ""]
        for number, citation in enumerate(self.citations, 1):
            matched = f"; matched by {citation.matched_date}" if citation.matched_date else ""
            copies = f"; also in {', '.join(citation.also_in)}" if citation.also_in else ""
            where = f"{citation.doc_id}, {citation.date_text()}{matched}{copies}"
            lines.append(f"[{number}] {citation.title[:90]} ({where})")
            lines.extend(textwrap.wrap(f"\u201c{citation.quote}\u201d", width=96, initial_indent="    ",
                                       subsequent_indent="    "))
        lines.append(f"({self.reader} reader, probability right {self.probability:.2f}, "
                     f"{self.timings_ms.get('total', 0):.0f} ms)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        cited = tuple(citation.doc_id for citation in self.citations)
        return f"Answer(text={self.text!r}, probability={self.probability:.2f}, citations={cited!r})"
