"""News web pages: one article a page, read by trafilatura, which keeps the article and drops navigation,
ads, related links and comments, and reads the title, site, author and date from the page's metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.dates import published_date
from rag.errors import CorpusError
from rag.ingest.loaders.articles import Page, iso_date, read_article
from rag.ingest.loaders.base import Fields, ignore
from rag.types import Document


class HtmlLoader:
    max_bytes = 20_000_000  # ten times the longest article rag takes, markup and all
    whole_file = True

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        yield read_article(path, overrides, page=news_page)


def news_page(content: str) -> Page:
    """The article of a web page. Where trafilatura finds no date in the metadata, htmldate looks in the
    page's markup (not its text: a date read from the text is inferred, rag.dates). A page too small for
    trafilatura is read whole, scripts and menus removed."""
    import trafilatura
    from htmldate import find_date

    extracted = trafilatura.bare_extraction(content, with_metadata=True, include_comments=False, include_tables=True)
    if extracted is not None and extracted.text:
        day = published_date(extracted.date or "") or published_date(find_date(content, extensive_search=False) or "")
        return Page(extracted.text, extracted.title, day, extracted.sitename, extracted.author)
    return _small_page(content)


def _small_page(content: str) -> Page:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header"]):
        if tag.name != "header" or not tag.find("h1"):
            tag.decompose()
    title_tag = soup.find("h1") or soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    published = (soup.find("meta", attrs={"property": "article:published_time"})
                 or soup.find("meta", attrs={"name": "date"}))
    published_on = iso_date(published.get("content", "")[:10]) if published else None
    byline = soup.find("meta", attrs={"name": "author"})
    root = soup.find("article") or soup.body or soup
    paragraphs = [line.strip() for line in root.get_text("\n").splitlines()]
    author = (byline.get("content") or None) if byline else None
    return Page("\n".join(p for p in paragraphs if p), title, published_on, None, author)
