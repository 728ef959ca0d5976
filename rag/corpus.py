"""Reading articles from a corpus directory into Documents.

Each format has a loader (rag.loaders): text, Markdown and HTML files (read here), JSONL and CSV
dumps, RSS/Atom feeds and PDFs. A leading ``date YYYY-MM-DD`` marker in a text file becomes the
article date; an optional ``metadata.jsonl`` (doc_id, title, date, source, url, author) overrides what the
files say. A file or record that cannot be read is reported and skipped; the rest go on.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.errors import CorpusError
from rag.faults import point
from rag.files import write_text_durably
from rag.sentences import sentence_spans
from rag.types import Document

METADATA_FILE = "metadata.jsonl"
# Longer articles are refused: a news article is under 100,000 characters, and one of 40 MB (a log,
# a book, a file with no sentence breaks) would keep an index build busy for an hour embedding it.
MAX_ARTICLE_CHARS = 2_000_000
# Records removed from a dump or feed with `rag remove`, one doc id per line: the file itself stays.
REMOVED_FILE = "removed-records.ids"
PARTIAL_COPY = ".part"  # the suffix of a file `rag add` is still copying in

_DATE_MARKER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})[ \t]*\n?\s*", re.IGNORECASE)
_MD_HEADING = re.compile(r"\A\s*#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HEADLINE_MAX_WORDS = 16


@dataclass(frozen=True)
class Skipped:
    """A file left out of the corpus, with the reason and what to do about it."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


def corpus_files(corpus_dir: Path) -> list[Path]:
    from rag.loaders import SUFFIXES

    return sorted(p for p in corpus_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and p.name != METADATA_FILE)


def load_corpus(corpus_dir: str | Path, progress: bool = False, fields: dict[str, str] | None = None
                ) -> tuple[list[Document], list[Skipped]]:
    """Every readable article in ``corpus_dir``, and the files and records that were skipped and why.
    ``progress``: a bar over the bytes read, with the articles so far and an ETA (dumps advance it as they
    stream); ``fields``: the dump columns that hold a record's text, title, date... (rag.loaders)."""
    from tqdm import tqdm

    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist; create it and add articles")
    metadata, skipped = _read_metadata(corpus_dir / METADATA_FILE)
    removed = removed_records(corpus_dir)
    documents, seen = [], {}  # seen: doc_id -> where it was read first
    paths, inside = [], corpus_dir.resolve()
    for path in corpus_files(corpus_dir):
        if inside not in path.resolve().parents:  # a link that leads out of the corpus
            skipped.append(Skipped(str(path), "a link to a file outside the corpus; copy the file in instead"))
        else:
            paths.append(path)
    sizes = [_size(path) for path in paths]
    with tqdm(total=sum(sizes), desc="Reading articles", unit="B", unit_scale=True, disable=not progress) as bar:
        for path, size in zip(paths, sizes):
            finished = bar.n + size
            found, problems = load_file(path, metadata.get(path.stem, {}), bar.update, fields)
            bar.update(finished - bar.n)  # loaders that do not stream advance by the whole file
            skipped.extend(problems)
            for document in found:
                if document.doc_id in removed:
                    continue
                if document.doc_id in seen:
                    skipped.append(Skipped(document.path, f"doc id {document.doc_id} is also {seen[document.doc_id]}; "
                                                          "give each article its own id or file name"))
                    continue
                seen[document.doc_id] = document.path
                documents.append(document)
            bar.set_postfix(articles=len(documents), refresh=False)
    if not documents:
        found = f"{len(skipped)} unreadable file(s) or record(s)" if skipped else "no article files"
        raise CorpusError(f"no articles to index in {corpus_dir} ({found}); add UTF-8 articles there or pass --corpus DIR")
    return documents, skipped


def load_file(path: Path, overrides: dict | None = None, advance=lambda read: None, fields: dict[str, str] | None = None
              ) -> tuple[list[Document], list[Skipped]]:
    """The articles of one file (many for a dump or feed) through its format's loader, and what was
    skipped; ``advance`` is told the bytes a streaming loader reads. ``overrides`` (metadata.jsonl)
    apply to one-article files, read once with them; ``fields`` name a dump's columns."""
    from rag.loaders import SUFFIXES, ArticleFileLoader, loader_for

    loader = loader_for(path)
    if loader is None:
        return [], [Skipped(str(path), f"not an article format rag reads ({', '.join(SUFFIXES)})")]
    if loader.max_bytes is not None and (size := _size(path)) > loader.max_bytes:
        return [], [Skipped(str(path), f"{size:,} bytes, over the {loader.max_bytes:,}-byte limit for a "
                                       f"{path.suffix} file, which is read whole; split it into smaller files, or "
                                       "put its articles in a JSONL or CSV dump, which is streamed and has no limit")]
    documents, skipped = [], []
    try:
        one_article = path.suffix.lower() in ArticleFileLoader.suffixes
        items = [read_document(path, overrides)] if overrides and one_article else loader.load(path, advance, fields or {})
        for item in items:
            if isinstance(item, CorpusError):
                skipped.append(Skipped(str(path), str(item)))
            elif len(item.text) > MAX_ARTICLE_CHARS:
                skipped.append(Skipped(item.path, f"{len(item.text):,} characters, over the {MAX_ARTICLE_CHARS:,}-character "
                                                  "limit for one article; split it into articles"))
            else:
                documents.append(_dated(item))
    except CorpusError as problem:
        skipped.append(Skipped(str(path), str(problem)))
    except OSError as error:  # deleted or made unreadable since the corpus was listed
        skipped.append(Skipped(str(path), f"could not be read ({error.strerror or type(error).__name__}); "
                                          "check that it exists and is readable, then index again"))
    return documents, skipped


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # gone already: reading it reports why


def _dated(document: Document) -> Document:
    """An undated article with the date its text gives away (a dateline, the dates it states), marked as inferred."""
    from rag.temporal import inferred_date

    inferred = None if document.date else inferred_date(document.text)
    return dataclasses.replace(document, date=inferred[0], date_evidence=inferred[1]) if inferred else document


def read_document(path: Path, overrides: dict | None = None) -> Document:
    """One article; raises CorpusError if the file is empty, binary or not UTF-8 (or UTF-16 with its BOM)."""
    raw = path.read_bytes()
    content = _decoded(raw)
    if path.suffix.lower() in (".html", ".htm"):
        content, html_title, html_date, site, author = _html_text(content)
    else:
        html_title, html_date, site, author = None, None, None, None
    text, marker_date = _strip_date_marker(content)
    text = text.strip()
    if not text:
        raise CorpusError("empty file; add the article text or remove the file")
    overrides = overrides or {}
    return Document(
        doc_id=path.stem,
        text=text,
        title=overrides.get("title") or html_title or title_from_text(text, markdown=path.suffix.lower() == ".md"),
        date=_parse_date(overrides.get("date"), path) or marker_date or html_date,
        source=overrides.get("source") or site,
        url=overrides.get("url"),
        path=str(path),
        content_hash=hashlib.sha256(raw + json.dumps(overrides, sort_keys=True).encode()).hexdigest(),
        author=overrides.get("author") or author,
    )


def add_article(corpus_dir: str | Path, source: Path, filename: str | None = None,
                max_bytes: int | None = 5_000_000, fields: dict[str, str] | None = None) -> Path:
    """Copy the article file ``source`` into the corpus under a safe version of ``filename`` (its own
    name by default); raises CorpusError if it is unfit.

    The name keeps only letters, digits, dots, dashes and underscores, so it cannot leave the
    corpus directory, and never starts with a dot or a dash (hidden, or read as an option). The
    file must yield an article through its format's loader; a dump or feed is checked up to its
    first good record and copied in a stream, never read into memory whole.
    """
    from rag.loaders import SUFFIXES, loader_for

    source = Path(source)
    filename = filename or source.name
    corpus_dir = Path(corpus_dir).resolve()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename.replace("\\", "/")).name).lstrip("._-")[:120]
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES or not Path(name).stem or name == METADATA_FILE:
        raise CorpusError(f"{filename}: only articles ({', '.join(SUFFIXES)}) can be added")
    size = source.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise CorpusError(f"{filename}: {size:,} bytes is over the {max_bytes:,}-byte limit; split the file")
    target = corpus_dir / name
    if target.parent != corpus_dir:
        raise CorpusError(f"{filename}: not a plain file name")
    problem = "no article in it"
    try:
        for item in loader_for(target).load(source, fields=fields or {}):  # the same checks as indexing, up to the first article
            if isinstance(item, Document):
                break
            problem = str(item)
        else:
            raise CorpusError(problem)
    except CorpusError as error:
        raise CorpusError(f"{filename}: {error}") from None
    partial = corpus_dir / f".{name}{PARTIAL_COPY}"  # not an article suffix: an index build running now skips it
    shutil.copyfile(source, partial)
    point(f"copied {name} into the corpus")
    partial.replace(target)
    return target


def discard_partial_copies(corpus_dir: Path) -> None:
    """Delete the copies an `add` killed mid-copy left (run by a writer holding the index's lock)."""
    for path in Path(corpus_dir).glob(f".*{PARTIAL_COPY}"):
        path.unlink()


def remove_article(corpus_dir: str | Path, doc_id: str) -> Path:
    """Delete the article file with this doc id from the corpus, or, for a record of a dump or feed
    ("<file name>-<record id>"), list it in REMOVED_FILE so that reading the corpus leaves it out; returns
    the file changed. Raises CorpusError if the corpus has no such article."""
    from rag.loaders import ArticleFileLoader

    corpus_dir = Path(corpus_dir).resolve()
    for path in corpus_files(corpus_dir):
        if path.stem == doc_id and path.suffix.lower() in ArticleFileLoader.suffixes:
            point(f"removing {path.name} from the corpus")
            path.unlink()
            return path
    if any(doc_id.startswith(f"{path.stem}-") for path in corpus_files(corpus_dir)
           if path.suffix.lower() not in ArticleFileLoader.suffixes):
        return _list_removed(corpus_dir, removed_records(corpus_dir) | {doc_id})
    raise CorpusError(f"no article {doc_id!r} in {corpus_dir}; pick one from the list")


def removed_records(corpus_dir: Path) -> set[str]:
    """Doc ids of the dump and feed records `rag remove` took out of the corpus."""
    listed = Path(corpus_dir) / REMOVED_FILE
    return set(listed.read_text().split()) if listed.exists() else set()


def restore_records(corpus_dir: Path, doc_ids: set[str]) -> None:
    """Take records added again (`rag add` of their dump) off the removed list."""
    removed = removed_records(corpus_dir)
    if removed & doc_ids:
        _list_removed(Path(corpus_dir), removed - doc_ids)


def _list_removed(corpus_dir: Path, doc_ids: set[str]) -> Path:
    listed = corpus_dir / REMOVED_FILE
    write_text_durably(listed, "".join(f"{doc_id}\n" for doc_id in sorted(doc_ids)))
    return listed


def _decoded(raw: bytes) -> str:
    binary = CorpusError("binary file (contains NUL bytes); only UTF-8 text, Markdown or HTML is indexed")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-16 saved with its byte-order mark
        try:
            content = raw.decode("utf-16").removeprefix("\ufeff")  # a second mark, as utf-8-sig drops
        except UnicodeError:
            raise CorpusError("starts like UTF-16 but is not; re-save the file as UTF-8") from None
        if "\x00" in content:
            raise binary
        return content
    if b"\x00" in raw:
        raise binary
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(f"not UTF-8 (bad byte at position {error.start}); re-save the file as UTF-8") from None


def _strip_date_marker(content: str) -> tuple[str, date | None]:
    match = _DATE_MARKER.match(content)
    if not match:
        return content, None
    try:
        return content[match.end():], date.fromisoformat(match.group(1))
    except ValueError:
        return content, None  # "date 2021-02-31" is text, not a marker


def title_from_text(text: str, markdown: bool) -> str:
    if markdown and (heading := _MD_HEADING.match(text)):
        return heading.group(1)
    first_line = text.split("\n", 1)[0].strip()
    if len(first_line.split()) <= _HEADLINE_MAX_WORDS and not first_line.endswith((".", "!", "?", '"', "”")):
        return first_line  # a headline: short and unpunctuated
    start, end = sentence_spans(first_line)[0]
    return first_line[start:end]


def _html_text(content: str) -> tuple[str, str | None, date | None, str | None, str | None]:
    """(text, title, publication date, site name, author) of a web page. News pages go through
    trafilatura, which keeps the article and drops navigation, ads, related links and comments, and
    reads the date from metadata; where it finds none, htmldate looks in the page's markup (not its
    text: a date read from the text is inferred, rag.temporal). A page too small for trafilatura is
    read whole, scripts and menus removed."""
    import trafilatura
    from htmldate import find_date

    from rag.temporal import published_date

    extracted = trafilatura.bare_extraction(content, with_metadata=True, include_comments=False, include_tables=True)
    if extracted is not None and extracted.text:
        day = published_date(extracted.date or "") or published_date(find_date(content, extensive_search=False) or "")
        return extracted.text, extracted.title, day, extracted.sitename, extracted.author
    text, title, day, author = _small_page_text(content)
    return text, title, day, None, author


def _small_page_text(content: str) -> tuple[str, str | None, date | None, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header"]):
        if tag.name != "header" or not tag.find("h1"):
            tag.decompose()
    title_tag = soup.find("h1") or soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    published = soup.find("meta", attrs={"property": "article:published_time"}) or soup.find("meta", attrs={"name": "date"})
    published_date = _parse_date(published.get("content", "")[:10], None) if published else None
    byline = soup.find("meta", attrs={"name": "author"})
    root = soup.find("article") or soup.body or soup
    paragraphs = [line.strip() for line in root.get_text("\n").splitlines()]
    return "\n".join(p for p in paragraphs if p), title, published_date, (byline.get("content") or None) if byline else None


def _parse_date(value: str | None, path: Path | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        if path is None:
            return None
        raise CorpusError(f"metadata date {value!r} for {path.name} is not YYYY-MM-DD; fix {METADATA_FILE}") from None


def _read_metadata(path: Path) -> tuple[dict[str, dict], list[Skipped]]:
    """doc_id -> fields from metadata.jsonl; bad lines are reported, not fatal."""
    if not path.exists():
        return {}, []
    metadata, skipped = {}, []
    allowed = {"title", "date", "source", "url", "author"}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            metadata[str(record["doc_id"])] = {k: v for k, v in record.items() if k in allowed and v}
        except (json.JSONDecodeError, KeyError, TypeError):
            skipped.append(Skipped(f"{path}:{number}", 'not a JSON object with a "doc_id"; fix or delete the line'))
    return metadata, skipped


def fingerprint(content_hashes: dict[str, str], start: str | None = None) -> str:
    """One hash for a whole corpus (doc_id -> content hash): changes when any article is added,
    edited or removed. It is the XOR of one digest per article, so an update adjusts the fingerprint
    ``start`` by the articles it adds and removes (each counted once) without reading the others."""
    combined = int(start, 16) if start else 0
    for doc_id, content_hash in content_hashes.items():
        combined ^= int.from_bytes(hashlib.sha256(f"{doc_id}:{content_hash}".encode()).digest(), "big")
    return f"{combined:064x}"
