"""What a build must do to bring an index in line with its corpus, and the report of what it did.

Articles are compared by content hash: new and changed ones are embedded, unchanged ones keep their
chunks, keys and vectors, and those no longer in the corpus are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.types import Document, Skipped


@dataclass(frozen=True)
class Plan:
    documents: tuple[Document, ...]  # every article of the corpus, in its order
    fresh: tuple[Document, ...]  # new and changed articles: the ones to embed
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]

    @classmethod
    def of(cls, documents: list[Document], indexed: dict[str, str]) -> Plan:
        """The plan for ``documents`` against an index holding ``indexed`` (doc_id -> content hash)."""
        fresh = tuple(document for document in documents if indexed.get(document.doc_id) != document.content_hash)
        ids = {document.doc_id for document in documents}
        return cls(
            documents=tuple(documents),
            fresh=fresh,
            added=tuple(sorted(ids - set(indexed))),
            changed=tuple(sorted(document.doc_id for document in fresh if document.doc_id in indexed)),
            removed=tuple(sorted(set(indexed) - ids)),
            unchanged=tuple(sorted(ids - {document.doc_id for document in fresh})),
        )


@dataclass(frozen=True)
class IndexReport:
    """What a build, an update, `rag add` or `rag remove` did to an index."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    embedded_chunks: int = 0
    total_chunks: int = 0
    skipped: tuple[Skipped, ...] = ()
    in_place: bool = False  # an update in place rather than a full write
    rebuilt: tuple[str, ...] = ()  # every article, embedded again (--rebuild, or an index of an older format)

    def summary(self) -> str:
        articles = (f"rebuilt {len(self.rebuilt)} articles" if self.rebuilt else
                    f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                    f"{len(self.unchanged)} unchanged")
        return (f"{articles}; embedded {self.embedded_chunks} of {self.total_chunks} chunks; "
                + ("updated in place" if self.in_place else "wrote the whole index"))
