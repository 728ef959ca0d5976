"""The question, parsed once: what kind of answer it wants, its key terms, the period it names,
an ordinal ("the second missile") and, in a chat, the previous question it leans on.

Retrieval and every reader take the same ``Query``; nobody re-reads the raw question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rag.conversation import resolve_follow_up
from rag.dates import Period, find_period
from rag.text import QUESTION_WORDS, WORD, content_words, stems, tokenize

PERSON, ORG, PLACE, DATE, TIME = "person", "organisation", "place", "date", "time"
NUMBER, DISTANCE, COUNT, MONEY, DURATION = "number", "distance", "count", "money", "duration"
ORDINAL, QUOTE, NAME, GROUP, PHRASE, CAUSE, OTHER = "ordinal", "quote", "name", "group", "phrase", "cause", "other"
ANSWER_TYPES = (PERSON, ORG, PLACE, DATE, TIME, DURATION, NUMBER, DISTANCE, COUNT, MONEY, QUOTE, NAME, CAUSE, OTHER)

# First match wins, so the narrower patterns come first ("how many kilometres" is a distance).
_TYPE_PATTERNS = (
    (QUOTE, r"\bwhat did .+ (call|describe|label|term|dub)\b|\bhow did .+ (describe|characteri[sz]e|call|label)\b"
            r"|\bwhat (word|words|phrase|term) did\b|\bwhat (was|is) .+ called\b"),
    (CAUSE, r"^\s*why\b|\bwhat (caused|led to|triggered|sparked|prompted|started)\b|\bwhat (was|is|were) the "
            r"(main )?(cause|reason)s?\b|\bfor what reason\b"
            r"|\b(say|said|says|believe|think)s? (caused|started|led to)\b"),
    (DURATION, r"\bhow long (did|does|do|will|would|has|have|had|can|could|should|must)\b|\bfor how long\b"
               r"|\bhow many (seconds|minutes|hours|days|weeks|months|years|decades)\b|\bhow much time\b"
               r"|\b(winning|finishing|total|race|record|running|journey|travel) time\b"),
    (DISTANCE, r"\bhow (far|high|deep|long a distance)\b|\b(what|which) (distance|altitude|range|height)\b"
               r"|\bhow many (kilometers|kilometres|miles|km|meters|metres|feet)\b|\bat what (altitude|height)\b"),
    (TIME, r"\b(what|which) times?\b|\bat what (time|hour)\b|\bwhat time of day\b"),
    (DATE, r"^\s*(when|until when|since when)\b|\b(what|which) (days?|dates?|years?|months?|weeks?|decade|century)\b"
           r"|\bhow long ago\b|\bin what year\b|\bwhen (did|was|were|is|will|does|do)\b"),
    (MONEY, r"\bhow much (did|does|do|will|would)? ?.*\b(cost|spend|spent|pay|paid|worth|price|earn|raise)\b"
            r"|\b(what|which) (price|cost|sum)\b"),
    (COUNT, r"\bhow many\b"),
    (NUMBER, r"\bhow (much|old|long|large|big|tall)\b"
             r"|\b(what|which) (number|percentage|percent|share|amount|proportion|rate)\b"),
    (PERSON, r"^\s*who\b|\bwhose\b|\bwho (is|was|were|did|said|told)\b"
             r"|\b(which|what) (?:[\w.-]+ )?(person|official|leader|president|"
             r"spokesman|spokeswoman|spokesperson|ambassador|envoy|minister|secretary|advisor|adviser|reporter|"
             r"journalist|expert|fellow|general|king|queen|emperor|author|writer|composer|singer|artist|player|actor|"
             r"scientist)\b"),
    (PLACE, r"^\s*where\b|\bwhere (did|was|were|is|are|do|does)\b|\b(which|what) (place|city|town|country|countries|"
            r"region|province|state|site|base|sea|port|area|location|coast|island|peninsula|continent|river|ocean|lake|"
            r"body of water|waters)\b|\bfrom where\b"),
    (ORG, r"\b(which|what) (agency|organi[sz]ation|command|ministry|newspaper|outlet|company|party|group|institution|"
          r"body|council|committee|network|wire service|news agency|think tank|institute|university|team|band|label|"
          r"force)\b"),
    (NAME, r"\b(what|which) (is|was|are|were) the names? of\b|\bwhat (is|was) .+ (named|called)\b"),
)
_NEXT_WORD = re.compile(r"\b(?:which|what)\s+([a-z-]+)", re.I)
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "last": -1, "latest": -1, "final": -1,
}
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b(?!\s+(?:time|half|quarter|week|month|year)s?\b)", re.I)
# "Who is the mayor of ...", "who was the regional fire commander?": the role, whose last word is its head.
_ASKED_ROLE = re.compile(r"\bwho\s+(?:is|was|are|were|will be|has been)\s+(?:the|a|an)\s+"
                         r"(?:new\s+|current\s+|former\s+)?((?:[a-z-]+\s+){0,2}?[a-z-]+)\s*"
                         r"(?:\bof\b|\bat\b|\bfor\b|\bin\b|\bwho\b|\bthat\b|\?|$)", re.I)

_ASKED_NOUN = re.compile(r"\b(?:which|what)\s+(?:kind of\s+|type of\s+|two\s+|three\s+)?"
                         r"((?:[\w.-]+\s+){0,2}?[a-z-]+)\s+"
                         r"(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|of|in|on|at|to|for|from|"
                         r"with|by|that|which|who)\b", re.I)


@dataclass(frozen=True)
class Query:
    text: str  # the question as retrieval sees it (a follow-up completed from the previous question)
    asked: str  # the question as the user typed it
    answer_type: str
    terms: tuple[tuple[str, float], ...]  # (stem, weight): names and numbers weigh 2, other words 1
    names: frozenset[str]  # stems of the names and numbers among the terms
    words: frozenset[str]  # lower-cased content words, to reject answers that repeat the question
    period: Period | None = None
    ordinal: int | None = None  # 1 for "first", 2 for "second", -1 for "last"
    asked_noun: str | None = None  # stem of the noun in "which town", "what agency"
    plural: bool = False  # asks about several things ("the missiles"): every matching event is wanted
    vector: object = field(default=None, compare=False, repr=False)  # the question's embedding, once computed

    @property
    def term_weights(self) -> dict[str, float]:
        return dict(self.terms)


def parse_query(question: str, previous: str | None = None, today: date | None = None) -> Query:
    """The question parsed once; ``previous`` resolves a chat follow-up ("and how high did they fly?")."""
    text = resolve_follow_up(question, previous)
    period = find_period(text, today)
    terms = _weighted_terms(text, period)
    return Query(
        text=text,
        asked=question,
        answer_type=answer_type(question),
        terms=tuple(terms.items()),
        names=frozenset(term for term, weight in terms.items() if weight > 1),
        words=frozenset(content_words(text)),
        period=period,
        ordinal=_ordinal(text),
        asked_noun=_asked_noun(text),
        plural=_asks_about_several(text, period),
    )


def answer_type(question: str) -> str:
    lowered = question.lower()
    for kind, pattern in _TYPE_PATTERNS:
        if re.search(pattern, lowered):
            return kind
    return OTHER


def _weighted_terms(question: str, period: Period | None) -> dict[str, float]:
    """Stemmed question terms; names and numbers count double. A named period is left to the date
    machinery, so "in March 2023" does not demand the words "March" and "2023"."""
    if period and period.phrase:
        question = question.replace(period.phrase, " ")
    weights: dict[str, float] = {}
    words = [(position, word) for position, word in enumerate(WORD.findall(question))
             if word.lower() not in QUESTION_WORDS]
    # One call for all the words: each call to the tokenizer has a fixed cost larger than a word's.
    for (position, word), terms in zip(words, tokenize([word for _, word in words]), strict=True):
        for term in terms:
            weights[term] = max(weights.get(term, 0.0), 2.0 if is_name(position, word) else 1.0)
    return weights


def is_name(position: int, word: str) -> bool:
    """A question's word that names something: capitalised after the first word, or a number."""
    return (position > 0 and word[:1].isupper()) or is_number(word)


def is_number(word: str) -> bool:
    return any(character.isdigit() for character in word)


def _ordinal(question: str) -> int | None:
    match = _ORDINAL.search(question)
    return _ORDINALS[match.group(1).lower()] if match else None


def _asked_noun(question: str) -> str | None:
    """The noun of "which town", "what agency": an answer next to that word is likely right."""
    match = _ASKED_NOUN.search(question) or _NEXT_WORD.search(question) or _ASKED_ROLE.search(question)

    if not match:
        return None
    # The head noun is the last word before the verb: "which U.S. aircraft carrier was" -> "carrier".
    words = [word.lower() for word in match.group(1).split() if word.lower() not in QUESTION_WORDS]
    found = stems(words[-1]) if words else []
    return found[0] if found else None


def _asks_about_several(question: str, period: Period | None) -> bool:
    """A named period or a plural subject ("the missiles", "launches") may match several events."""
    if period is not None:
        return True
    subject = [word for word in WORD.findall(question)[2:] if word.lower() not in QUESTION_WORDS]
    return any(word.islower() and len(word) > 4 and word.endswith("s") and not word.endswith("ss") for word in subject)
