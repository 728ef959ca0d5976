"""Follow-up questions in a chat, resolved against the previous question before retrieval.

"and how high did they fly?" after "How far did the March 2023 missiles fly?" becomes
"how high did they fly? (March 2023 missiles)": a follow-up keeps its own wording, which decides
what kind of answer it wants, and borrows the previous question's subject words (names, dates,
nouns), which steer retrieval and the period filter. A question counts as a follow-up when it
opens with "and", "but", "so", "also", "what about" or "how about", or leans on a pronoun
("they", "it", "those"...) while naming at most three things of its own.
"""

from __future__ import annotations

import re

from rag.text import QUESTION_WORDS, content_words

_OPENERS = re.compile(r"^\s*(?:and|but|so|also|then|what about|how about)\b[\s,]*", re.IGNORECASE)
_PRONOUNS = frozenset("they them their theirs it its those these he she him his her there that".split())
_QUESTION_WORDS = QUESTION_WORDS | {"high"}  # "how high" asks, it names nothing
_WORD = re.compile(r"[\w'’.-]*\w")


def is_follow_up(question: str) -> bool:
    words = {word.lower() for word in _WORD.findall(question)}
    own_subject = content_words(question) - _PRONOUNS - _QUESTION_WORDS
    return bool(_OPENERS.match(question)) or (bool(words & _PRONOUNS) and len(own_subject) <= 3)


def resolve_follow_up(question: str, previous: str | None) -> str:
    """The question to retrieve with: itself, or a follow-up completed from ``previous``."""
    if not previous or not is_follow_up(question):
        return question
    own = {word.lower() for word in _WORD.findall(question)}
    carried = [
        word for word in _WORD.findall(previous)
        if word.lower() not in own and word.lower() in content_words(previous) - _QUESTION_WORDS
    ]
    stripped = _OPENERS.sub("", question).strip()
    stripped = stripped[:1].upper() + stripped[1:]
    return f"{stripped} ({' '.join(dict.fromkeys(carried))})" if carried else stripped
