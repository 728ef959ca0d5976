"""Building an index from a corpus folder, or bringing one up to date with it: read the corpus, plan
what changed, then update in place or write the whole index (reusing every vector it can)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rag.config import Config
from rag.indexing.cluster import RayCluster
from rag.indexing.index import open_index
from rag.indexing.lock import writing
from rag.indexing.manifest import exists, older_format, record_fields
from rag.indexing.plan import IndexReport, Plan
from rag.indexing.prepare import prepare
from rag.indexing.update import check_embedder, fits_update, write_update
from rag.indexing.write import write_whole
from rag.ingest.corpus import read_corpus
from rag.ingest.filing import discard_partial_copies
from rag.models.embedders import Embedder, make_embedder


def build_index(corpus_dir: str | Path, index_dir: str | Path, config: Config | None = None,
                embedder: Embedder | None = None, rebuild: bool = False, compact: bool = False, progress: bool = True,
                wait: bool = True, cluster: str | None = None, workers: int | None = None) -> IndexReport:
    """Build ``index_dir`` from ``corpus_dir``, or bring an existing index up to date.

    Only new and changed articles are embedded. An existing index is updated in place unless
    ``compact`` (or the config's compaction limits) asks for a full write, which reuses every vector;
    ``rebuild`` embeds everything again. Holds the index's write lock (rag.indexing.lock) throughout,
    waiting for another writer unless ``wait`` is False. ``embedder``: the one the config names, already
    made (else it is made here). ``cluster``: read and prepare the articles on a Ray cluster
    (rag.indexing.cluster: "local" or ray://HOST:10001) with ``workers`` workers (default: its CPUs).
    """
    config = config or Config()
    index_dir = Path(index_dir)
    check_embedder(embedder, config.embedder)
    on_cluster = RayCluster(cluster, workers) if cluster else None
    with writing(index_dir, wait=wait), on_cluster or contextlib.nullcontext():
        config = config.replace(record_fields=tuple(sorted(record_fields(config, index_dir).items())))
        discard_partial_copies(corpus_dir)
        documents, skipped = read_corpus(corpus_dir, progress, dict(config.record_fields),
                                         on_cluster.read_files if on_cluster else None)
        prepare_with = on_cluster.prepare if on_cluster else prepare
        rebuild = rebuild or older_format(index_dir)
        rebuilding = rebuild and exists(index_dir)
        previous = None if rebuild or not exists(index_dir) else open_index(index_dir, config)
        embedder = embedder or make_embedder(config.embedder)
        try:
            plan = Plan.of(documents, previous.store.content_hashes() if previous else {})
            in_place = previous is not None and not compact and fits_update(previous, config)
            if in_place:
                embedded, total = write_update(previous, list(plan.fresh), [*plan.removed, *plan.changed],
                                               config, embedder, progress, prepare_with)
            else:
                embedded, total = write_whole(previous, plan, index_dir, config, embedder, progress, prepare_with)
        finally:
            if previous is not None:
                previous.close()
    if rebuilding:
        return IndexReport(embedded_chunks=embedded, total_chunks=total, skipped=tuple(skipped),
                           rebuilt=tuple(sorted(document.doc_id for document in documents)))
    return IndexReport(added=plan.added, changed=plan.changed, removed=plan.removed, unchanged=plan.unchanged,
                       embedded_chunks=embedded, total_chunks=total, skipped=tuple(skipped), in_place=in_place)
