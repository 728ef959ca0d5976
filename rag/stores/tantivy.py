"""BM25 keyword search in the index directory (``keywords/``), keyed by chunk keys.

tantivy is a Rust search engine with segments, deletes and atomic commits of its own.
Chosen over bm25s, which it replaced, by measurement (docs/scale.md): at a million chunks it builds
in half the time (40 s against 81 s, most of it rag's own tokenizing), answers a little faster
(7 ms against 9), and adds or removes an article in milliseconds where bm25s must rebuild. Text goes in
already tokenized by rag.text (lower-cased, stop words out, Snowball stems), so matching is the same as
everywhere else in rag.

Each chunk is a document (key, generation, day, tokens). A reader at generation G searches the
documents of generations up to G, less the hidden keys (chunks removed since the last full write):
an update killed before the manifest names G+1 changes nothing a reader sees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, damaged_index
from rag.faults import point
from rag.stores.protocols import DateFilter, VectorStore, day_number
from rag.text import tokenize

KEYWORDS = "keywords"  # its folder in the index directory

# tantivy's writer buffers this much before flushing a segment: 15 MB per thread is its minimum.
_UPDATE_HEAP = 50_000_000
_BUILD_HEAP = 400_000_000


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("key", indexed=True, fast=True)
    builder.add_integer_field("generation", indexed=True, fast=True)
    builder.add_integer_field("day", indexed=True, fast=True)
    # Tokens from rag.text joined by spaces, so tantivy only splits on them.
    builder.add_text_field("tokens", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


class TantivyKeywordIndex:
    name = "tantivy"

    def __init__(self, directory: Path, index, generation: int, hidden: np.ndarray):
        self.directory = Path(directory)
        self._index = index
        self.generation = generation
        self.hidden = np.asarray(hidden, dtype=np.int64)
        self._writer = None
        self._count = self._live_count()

    @classmethod
    def create(cls, directory: Path, vectors: VectorStore) -> TantivyKeywordIndex:
        """An empty keyword index for a full write of the index in ``directory``."""
        import tantivy

        folder = Path(directory) / KEYWORDS
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, tantivy.Index(_schema(), path=str(folder)), 0, np.zeros(0, dtype=np.int64))

    @classmethod
    def open(cls, directory: Path, entry: dict, vectors: VectorStore, generation: int,
             hidden: np.ndarray) -> TantivyKeywordIndex:
        import tantivy

        folder = Path(directory) / KEYWORDS
        if not tantivy.Index.exists(str(folder)):
            raise FileNotFoundError(f"no keyword index in {folder}")
        return cls(folder, tantivy.Index.open(str(folder)), generation, hidden)

    def __len__(self) -> int:
        return self._count

    def add(self, keys: np.ndarray, texts: list[str], days: np.ndarray) -> None:
        """Add chunks as the next generation; they show once ``commit`` has run."""
        import tantivy

        writer = self._open_writer(_BUILD_HEAP if self.generation == 0 else _UPDATE_HEAP)
        for key, tokens, day in zip(keys, tokenize(texts), days, strict=True):
            writer.add_document(tantivy.Document(key=int(key), generation=self.generation + 1, day=int(day),
                                                 tokens=" ".join(tokens)))

    def remove(self, keys: np.ndarray) -> None:
        """Hide chunks from the next generation on; their documents go at the next full write."""
        self.hidden = np.union1d(self.hidden, np.asarray(keys, dtype=np.int64))

    def discard_after(self, generation: int) -> None:
        """Delete what an update killed before its commit added beyond ``generation``."""
        import tantivy

        writer = self._open_writer(_UPDATE_HEAP)
        writer.delete_documents_by_query(tantivy.Query.range_query(
            self._index.schema, "generation", tantivy.FieldType.Integer, generation + 1, 2**62))

    def commit(self) -> dict:
        """Make the added chunks durable, as generation + 1."""
        if self._writer is not None:
            point("keywords written")
            self._writer.commit()
            point("keywords committed")
            self._writer.wait_merging_threads()  # also releases tantivy's writer lock
            self._writer = None
        self.generation += 1
        self._index.reload()
        self._count = self._live_count()
        return {"keywords": self.name}

    def search(self, query: str, k: int, where: DateFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        import tantivy

        terms = tokenize([query])[0]
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        schema = self._index.schema
        matching = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "tokens", term)) for term in terms])
        clauses = [(tantivy.Occur.Must, matching), *self._visible()]
        if where is not None:
            low = day_number(where.since) if where.since else 1  # undated articles (day 0) are in no range
            high = day_number(where.until) if where.until else 99991231
            dated = tantivy.Query.range_query(schema, "day", tantivy.FieldType.Integer, low, high)
            events = where.event_keys()
            if len(events):
                talked_about = tantivy.Query.term_set_query(schema, "key", [int(key) for key in events])
                dated = tantivy.Query.boolean_query([(tantivy.Occur.Should, dated),
                                                     (tantivy.Occur.Should, talked_about)])
            clauses.append((tantivy.Occur.Must, dated))
        searcher = self._index.searcher()
        try:
            hits = searcher.search(tantivy.Query.boolean_query(clauses), k, count=False).hits
            keys = searcher.fast_field_values("key", [address for _, address in hits])
        except ValueError as error:  # tantivy opens a segment's postings only when a search needs them
            raise IndexCorruptError(f"{damaged_index(self.directory, self.directory.parent)} "
                                    f"(tantivy: {str(error).splitlines()[0][:120]})") from None
        return np.array(keys, dtype=np.int64), np.array([score for score, _ in hits], dtype=np.float32)

    def close(self) -> None:
        self._writer = None

    def retire(self) -> None:
        pass  # the files go with the old directory

    def _visible(self) -> list:
        """Clauses keeping to this generation's documents, less the hidden ones."""
        import tantivy

        schema = self._index.schema
        clauses = [(tantivy.Occur.Must, tantivy.Query.range_query(
            schema, "generation", tantivy.FieldType.Integer, 0, self.generation))]
        if len(self.hidden):
            clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(schema, "key", self.hidden.tolist())))
        return clauses

    def _live_count(self) -> int:
        import tantivy

        query = tantivy.Query.boolean_query(self._visible())
        return self._index.searcher().search(query, 1, count=True).count

    def _open_writer(self, heap: int):
        if self._writer is None:
            self._writer = self._index.writer(heap_size=heap)
        return self._writer
