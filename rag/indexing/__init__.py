"""Indexing: what changed (plan), chunks embedded and tagged (prepare), the whole index written and swapped
in (write) or the next generation written in place (update), opening an index (index), its manifest, one
writer at a time (lock), and adding, removing and listing articles (library).

``rag.indexing.build_index``, ``open_index``... are found in their modules when first asked for: answering
opens an index and should not import the build's tagging and chunking to do it. (An open index is updated
in place by ``rag.indexing.update.update``.)"""

from __future__ import annotations

import importlib

_HOMES = {"build_index": "build", "Index": "index", "open_index": "index", "Manifest": "manifest",
          "IndexReport": "plan", "update_index": "update"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'rag.indexing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"rag.indexing.{_HOMES[name]}"), name)
