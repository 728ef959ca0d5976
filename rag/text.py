"""Words and stems: the one place that decides what a word is, which words carry no subject, and
how words are stemmed, so that retrieval, question parsing and answer scoring agree.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

WORD = re.compile(r"[\w'’-]+")
_PLAIN_WORD = re.compile(r"\w+")
# Words that shape a question but say nothing about its subject.
QUESTION_WORDS = frozenset(
    "how what which who whom whose when where why did does do is are was were has have had far many much long "
    "can could would will name named called".split()
)
STOP_WORDS = frozenset(
    "a an the of in on at to for from by with and or is are was were be been did do does what which who whom whose "
    "when where why how that this these those it its as about into than after before".split()
)


@lru_cache(maxsize=1)
def bm25s_library():
    import bm25s

    # bm25s sets its logger to DEBUG on import and chats on every build; its warnings still show.
    # Once: setting a level clears every logger's cache, which cost more than tokenising a question.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, English stop words removed, Snowball-stemmed: "missiles" matches "missile"."""
    return bm25s_library().tokenize(texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def stems(text: str) -> list[str]:
    return tokenize([text])[0]


def content_words(text: str) -> set[str]:
    """Lower-cased words that are not stop words."""
    return {word for word in _PLAIN_WORD.findall(text.lower()) if word not in STOP_WORDS}


def stem_words(words: list[str]) -> list[str]:
    """Each word's stem, lower-cased, stop words kept, in order: for matching word by word."""
    return _stemmer().stemWords([word.lower() for word in words])


_ARTICLES = re.compile(r"\b(a|an|the)\b")


_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.I)


def negated(text: str) -> bool:
    """Whether a text says "not", "never", "no"...: a question and a sentence that differ here differ in meaning."""
    return _NEGATION.search(text) is not None


def normalise(
text: str) -> str:
    """As the SQuAD evaluation script does: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if not unicodedata.category(c).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())
