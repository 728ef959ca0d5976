"""A PDF's text layer, page by page (pypdf); a scanned PDF has none and is reported."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rag.dates import published_date
from rag.errors import CorpusError
from rag.ingest.loaders.base import Fields, ignore, title_from_text
from rag.types import Document


class PdfLoader:
    max_bytes = None  # pypdf reads page by page
    whole_file = True

    def read(self, path: Path, advance: Callable[[int], None] = ignore, fields: Fields | None = None,
             overrides: Mapping[str, str] | None = None) -> Iterator[Document | CorpusError]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(path)
            text = "\n".join(page.extract_text() or "" for page in reader.pages).strip()
            info = reader.metadata or {}
        except (PdfReadError, OSError, ValueError) as error:
            yield CorpusError(f"not a readable PDF ({error}); re-save or export it")
            return
        if not text:
            yield CorpusError("the PDF has no text layer (a scan?); run OCR on it first")
            return
        yield Document(doc_id=path.stem, text=text, title=info.get("/Title") or title_from_text(text),
                       date=published_date(str(info.get("/CreationDate", ""))[2:10]), path=str(path),
                       author=info.get("/Author"), content_hash=hashlib.sha256(path.read_bytes()).hexdigest())
