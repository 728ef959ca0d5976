"""Answers as chat Markdown and source HTML. Every piece of article text is escaped: an article
holding HTML or script shows it as text."""

from __future__ import annotations

import html
import re

from rag.types import Answer, Citation, Hit

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def markdown_text(text: str) -> str:
    """Plain text safe inside Markdown: HTML escaped, Markdown syntax backslash-escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(text, quote=False))


def answer_markdown(answer: Answer) -> str:
    """The chat message: the answer with numbered citation markers, then one line per source."""
    if answer.abstained:
        return f"**Not in the archive.** {markdown_text(answer.text)}"
    # Several matching events carry their own markers in the text; one answer gets them appended.
    markers = "" if answer.answers else "".join(f" [{number}]" for number in range(1, len(answer.citations) + 1))
    lines = [f"{markdown_text(answer.text)}{markers}", "", f"_probability it is right: {answer.probability:.2f}_", ""]
    for number, citation in enumerate(answer.citations, 1):
        lines.append(f"[{number}] {markdown_text(citation.title)} "
                     f"({markdown_text(citation.date_text())}, `{citation.doc_id}`)"
                     + (f" · {markdown_text(citation.matched_date)}" if citation.matched_date else "")
                     + (f" · also in {markdown_text(', '.join(citation.also_in))}" if citation.also_in else ""))
    return "\n".join(lines)


def sources_html(answer: Answer) -> str:
    """Each cited passage with its title, date and doc id, the supporting sentence highlighted."""
    if answer.abstained or not answer.citations:
        return '<div class="rag-sources"><p>No sources: the answer was withheld.</p></div>'
    hits = {hit.chunk.chunk_id: hit for hit in answer.passages}
    blocks = [
        f'<div class="rag-source"><div class="rag-source-head">[{number}] <b>{html.escape(citation.title)}</b> '
        f'&middot; {_date(citation)} &middot; <code>{html.escape(citation.doc_id)}</code></div>'
        f"<p>{_highlighted(citation, hits.get(citation.chunk_id))}</p></div>"
        for number, citation in enumerate(answer.citations, 1)
    ]
    return '<div class="rag-sources">' + "".join(blocks) + "</div>"


def _highlighted(citation: Citation, hit: Hit | None) -> str:
    if hit is None:
        return f"<mark>{html.escape(citation.quote)}</mark>"
    # A sentence may run past its chunk's edges; the highlight stays inside the shown passage.
    text = hit.chunk.text
    start = min(max(citation.start - hit.chunk.start, 0), len(text))
    end = min(max(citation.end - hit.chunk.start, start), len(text))
    return f"{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>{html.escape(text[end:])}"


def _date(citation: Citation) -> str:
    matched = f"; matched by {citation.matched_date}" if citation.matched_date else ""
    copies = f"; also in {', '.join(citation.also_in)}" if citation.also_in else ""
    return html.escape(citation.date_text() + matched + copies)
