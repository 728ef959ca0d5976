"""FAISS in the index directory: exact (flat) search, or approximate (IVF) above a size, over unit vectors
keyed by chunk key. A date filter and the hidden keys become an ID selector applied inside the search,
never a scan of everything masked afterwards.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.config import Config
from rag.files import write_durably
from rag.registry import AUTOMATIC_VECTOR_STORE
from rag.stores.protocols import DateFilter

FAISS_FILE = "vectors.faiss"


@contextmanager
def _threads_for(queries: int):
    """One question searches on one thread: waking FAISS's OpenMP team, whose idle threads then spin,
    cost more (4 of 6 ms) than the search and slowed the reader's ONNX Runtime threads after it. The
    setting is the calling thread's own (an OpenMP per-thread value), so other threads are untouched."""
    import faiss

    if queries > 1:
        yield
        return
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


class FaissVectorStore:
    """Exact search: a flat inner-product index behind an id map from chunk keys.

    A full write saves one file; each later update saves only the vectors it added, as a segment
    file of its own (``vectors-<generation>.faiss``), so adding an article to a million chunks writes
    kilobytes. Segments are searched beside the main file; removed chunks are left out by an ID selector."""

    name = "faiss-flat"

    def __init__(self, index, dimension: int, generation: int = 0, segments: tuple[str, ...] = (),
                 hidden: np.ndarray | None = None):
        import faiss

        self.index = index  # the main file's index; None until an IVF store has vectors to train on
        self.dimension = dimension
        self.generation = generation
        self.segments = segments  # segment files, oldest first
        self.recent = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))  # the segments' vectors, and new ones
        self._recent_keys: set[int] = set()
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # (keys, vectors) not yet in a file
        self.hidden = np.zeros(0, dtype=np.int64) if hidden is None else np.asarray(hidden, dtype=np.int64)
        self._selectors: dict[tuple, tuple] = {}  # (since, until) -> its ID selector (and its parts), until keys change

    default_keywords = "tantivy"  # beside it in the index directory
    chunk_store = "sqlite"  # likewise

    @classmethod
    def create(cls, location: str, directory: Path, dimension: int, config: Config) -> FaissVectorStore:
        """An empty store for a full write in ``directory``."""
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension)

    @staticmethod
    def location(entry: dict) -> str:
        """The --store value that makes this kind of store again: exact FAISS stays automatic, so an
        archive that grows past the threshold turns approximate at its next full write."""
        return AUTOMATIC_VECTOR_STORE

    @classmethod
    def open(cls, directory: Path, entry: dict, generation: int, hidden: np.ndarray) -> FaissVectorStore:
        import faiss

        index = faiss.read_index(str(Path(directory) / FAISS_FILE), cls._read_flags())
        store = cls(index, index.d, generation, tuple(entry.get("segments", ())), hidden, **cls._options(entry))
        for name in store.segments:
            segment = faiss.read_index(str(Path(directory) / name))
            keys = faiss.vector_to_array(segment.id_map)
            store._add_recent(keys, faiss.downcast_index(segment.index).reconstruct_n(0, segment.ntotal))
        return store

    @staticmethod
    def _options(entry: dict) -> dict:
        return {}

    @staticmethod
    def _read_flags() -> int:
        """The main file never changes once written (updates go to segments), so its flat codes are
        mapped, not read: a million vectors open in a tenth of a second instead of over a second,
        and search as fast (docs/storage.md)."""
        import faiss

        return faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY

    def commit(self, directory: Path) -> dict:
        import faiss

        self.generation += 1
        if self.generation == 1:  # a full write
            write_durably(Path(directory) / FAISS_FILE, lambda path: faiss.write_index(self.index, path))
        elif self._pending:
            segment = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
            for keys, vectors in self._pending:
                segment.add_with_ids(vectors, keys)
            name = f"vectors-{self.generation}.faiss"
            write_durably(Path(directory) / name, lambda path: faiss.write_index(segment, path))
            self.segments = (*self.segments, name)
        self._pending.clear()
        return {"vectors": self.name, "segments": list(self.segments)}

    def discard_after(self, directory: Path, generation: int) -> None:
        for path in Path(directory).glob("vectors-*.faiss"):
            if path.name not in self.segments:
                path.unlink()

    def close(self) -> None:
        pass

    def retire(self) -> None:
        pass  # the files go with the old directory

    def __len__(self) -> int:
        main = 0 if self.index is None else self.index.ntotal
        return main + self.recent.ntotal - len(self.hidden)

    def add(self, keys: np.ndarray, vectors: np.ndarray, days: np.ndarray | None = None) -> None:
        if not len(keys):
            return
        self._selectors.clear()
        keys = np.asarray(keys, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.generation > 0:
            self._add_recent(keys, vectors)  # an update: saved as a segment of its own
            self._pending.append((keys, vectors))
        else:
            self._add_to_main(keys, vectors)

    def _add_to_main(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.index.add_with_ids(vectors, keys)

    def _add_recent(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.recent.add_with_ids(vectors, keys)
        self._recent_keys.update(int(key) for key in keys)

    def remove(self, keys: np.ndarray) -> None:
        self._selectors.clear()
        self.hidden = np.union1d(self.hidden, np.asarray(keys, dtype=np.int64))

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([(self.recent if int(key) in self._recent_keys else self.index).reconstruct(int(key))
                         for key in keys])

    def search(self, queries: np.ndarray, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, max(len(self), 1))
        selector = self._selector(where)
        parameters = None if selector is None else faiss.SearchParameters(sel=selector)
        with _threads_for(len(queries)):
            scores, keys = self._search_main(queries, k, selector)
            if not self.recent.ntotal:
                return scores, keys
            recent_scores, recent_keys = self.recent.search(queries, k, params=parameters)
        scores, keys = np.hstack([scores, recent_scores]), np.hstack([keys, recent_keys])
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, best, axis=1), np.take_along_axis(keys, best, axis=1)

    def _search_main(self, queries: np.ndarray, k: int, selector) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        return self.index.search(queries, k, params=None if selector is None else faiss.SearchParameters(sel=selector))


    def _selector(self, where: DateFilter | None):
        """The ID selector of a date range and the hidden keys, built once: over a million chunks,
        building it from the allowed keys costs more than the search it narrows."""
        import faiss

        if where is None and not len(self.hidden):
            return None
        key = (where.since, where.until) if where else None
        if key not in self._selectors:
            if len(self._selectors) >= 16:
                self._selectors.clear()
            # FAISS's Python wrappers do not keep a combined selector's parts alive: the tuple does.
            parts = []
            if where is not None:
                parts.append(faiss.IDSelectorBatch(np.asarray(where.allowed_keys(), dtype=np.int64)))
            if len(self.hidden):
                parts.append(faiss.IDSelectorBatch(self.hidden))
                parts.append(faiss.IDSelectorNot(parts[-1]))
                if where is not None:
                    parts.append(faiss.IDSelectorAnd(parts[0], parts[-1]))
            self._selectors[key] = tuple(parts)
        return self._selectors[key][-1]


class FaissIVFVectorStore(FaissVectorStore):
    """Approximate search: an inverted-file index over k-means lists, trained on the vectors of the
    full write; updates go to exact segments beside it until the next full write. Chosen over HNSW
    because it builds ten times faster and takes ID selectors as cheaply (bench/ann.py, docs/storage.md);
    "faiss" turns to it above Config.exact_search_below chunks."""

    name = "faiss-ivf"

    def __init__(self, index, dimension: int, generation: int = 0, segments: tuple[str, ...] = (),
                 hidden: np.ndarray | None = None, nprobe: int = Config.ivf_nprobe):
        super().__init__(index, dimension, generation, segments, hidden)
        self.nprobe = nprobe

    @classmethod
    def create(cls, location: str, directory: Path, dimension: int, config: Config) -> FaissIVFVectorStore:
        return cls(None, dimension, nprobe=config.ivf_nprobe)

    @staticmethod
    def location(entry: dict) -> str:
        return FaissIVFVectorStore.name

    @staticmethod
    def _options(entry: dict) -> dict:
        return {"nprobe": int(entry.get("nprobe", Config.ivf_nprobe))}

    @staticmethod
    def _read_flags() -> int:
        """Read whole: mapped inverted lists (FAISS's on-disk lists) search 18 times slower (3.8 ms
        against 0.22 ms at 100k chunks, nprobe 32), and a million open in under 2 s anyway."""
        return 0

    def commit(self, directory: Path) -> dict:
        return {**super().commit(directory), "nlist": self.index.nlist, "nprobe": self.nprobe}

    def _add_to_main(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if self.index is None:
            self.index = _trained_ivf(vectors, self.dimension)
        super()._add_to_main(keys, vectors)

    def _search_main(self, queries: np.ndarray, k: int, selector) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        return self.index.search(queries, k, params=faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe))


def _trained_ivf(vectors: np.ndarray, dimension: int):
    """An IVF index with about 4 sqrt(n) lists (FAISS's rule of thumb), and at least 39 training
    vectors per list (fewer and k-means warns and places lists badly): one list for a tiny archive.
    k-means sees at most 64 vectors per list, a fixed sample: more costs time and changes little."""
    import faiss

    lists = max(1, min(int(4 * np.sqrt(len(vectors))), len(vectors) // 39))
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * lists), replace=False)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.train(vectors[np.sort(sample)])
    return index
