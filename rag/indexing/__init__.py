"""Indexing: what changed (plan), chunks embedded and tagged (prepare), the whole index written and swapped
in (write) or the next generation written in place (update), opening an index (index), its manifest, one
writer at a time (lock), and adding, removing and listing articles (library)."""

from rag.indexing.build import build_index
from rag.indexing.index import Index, open_index
from rag.indexing.manifest import Manifest
from rag.indexing.plan import IndexReport
from rag.indexing.update import update, update_index

__all__ = ["Index", "IndexReport", "Manifest", "build_index", "open_index", "update", "update_index"]
