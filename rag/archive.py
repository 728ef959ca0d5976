"""An archive being served: its corpus folder, its index and the QA over it, shared by every visitor of the
chat page. It opens the index once (building it first if it is missing), keeps one QA per reader choice
over it, opens the new index after any writer commits, and adds and removes articles through the library
code (rag.indexing.library) as `rag add` and `rag remove` do."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import Config
from rag.indexing import library
from rag.indexing.build import build_index
from rag.indexing.index import Index
from rag.indexing.lock import writing
from rag.indexing.manifest import exists
from rag.indexing.plan import IndexReport
from rag.ingest.corpus import corpus_files
from rag.pipeline import QA, load
from rag.readers import with_model
from rag.stores.backends import location_of

UPLOAD_LIMIT = 5_000_000  # bytes per uploaded file: larger dumps go in through `rag add`


@dataclass
class Archive:
    corpus_dir: Path
    index_dir: Path
    config: Config
    _qas: dict[tuple[str, str], QA] = field(default_factory=dict)
    _opening: threading.Lock = field(default_factory=threading.Lock)

    def qa(self, reader: str, model: str) -> QA:
        """The QA for this reader choice; all choices share one open index (built if missing). Once a
        writer (the page's panel, `rag add` or `rag index` elsewhere) commits, the next question opens
        the new index; questions under way finish on the one they started with."""
        key = (reader, model)
        with self._opening:
            if self._index and not self._index.is_current():
                self._qas = {}  # not closed: other visitors may be mid-question on it
            if not self._qas:
                if not self.has_index():
                    build_index(self.corpus_dir, self.index_dir, self.config, progress=True)
                self._qas = {(self.config.reader, ""): load(self.index_dir, self.config).warm_up()}
            if key not in self._qas:
                shared = next(iter(self._qas.values()))
                chosen = with_model(shared.config, reader, model or None)
                self._qas[key] = shared.using(reader=chosen.reader, seq2seq_model=chosen.seq2seq_model,
                                              qa_model=chosen.qa_model).warm_up()

            return self._qas[key]

    def has_index(self) -> bool:
        return exists(self.index_dir)

    def doc_ids(self) -> list[str]:
        return [path.stem for path in corpus_files(self.corpus_dir)]

    def status(self, reader: str, model: str) -> str:
        """A line of Markdown: what the index holds, what built it, and the reader answering."""
        qa = self.qa(reader, model)
        manifest = qa.index.manifest
        return (
            f"**{manifest.documents}** articles · **{manifest.chunks}** chunks · "
            f"embedder `{manifest.embedder}` · reader **{qa.reader.name}** · "
            f"index built {manifest.built_at}"
        )

    def add(self, paths: list[Path]) -> IndexReport:
        """Save article files (checked, up to UPLOAD_LIMIT bytes each) and index just those, as `rag add`
        does; IndexBusyError while another process writes the index."""
        with writing(self.index_dir, wait=False):
            self._forget()
            return library.add(paths, self.corpus_dir, self.index_dir, self.config, progress=True,
                               max_bytes=UPLOAD_LIMIT)

    def remove(self, doc_id: str) -> IndexReport:
        """Delete one article from the corpus and the index, as `rag remove` does."""
        with writing(self.index_dir, wait=False):
            self._forget()
            return library.remove([doc_id], self.corpus_dir, self.index_dir, self.config)

    @property
    def _index(self) -> Index | None:
        """The index every reader choice shares, once open."""
        return next(iter(self._qas.values())).index if self._qas else None

    def _forget(self) -> None:
        """Before a write: close the index if it is a Milvus Lite file, which serves one client at a
        time; the next question opens it again. Other stores stay open for questions under way."""
        with self._opening:
            if self._index and location_of(self._index.manifest.backends) == "milvus-lite":
                self._index.close()
                self._qas = {}
