"""Near-duplicate (syndicated) articles: found at index time, one canonical article per group, and
one place per story in the top-k and among matching events."""

import itertools
import shutil
from pathlib import Path

from rag.config import Config
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.library import list_articles
from rag.indexing.update import update_index
from rag.ingest.duplicates import SIMILARITY, signature, similarity
from rag.query import parse_query
from rag.retrieval import HybridRetriever
from tests.conftest import CORPUS
from tests.fakes import HashEmbedder

# The same wire story under two headlines, bylines and endings (a day apart), and a separate report on the same eruption.
SYNDICATED = Path(__file__).parent / "fixtures" / "syndicated"
CONFIG = Config(embedder="hash-embedder")


def _signatures(folder: Path) -> dict[str, object]:
    return {path.stem: signature(path.read_text()) for path in sorted(folder.glob("*.txt"))}


def test_syndicated_copies_are_similar_and_separate_reports_are_not():
    found = _signatures(SYNDICATED)
    assert similarity(found["wire_herald"], found["wire_gazette"]) >= SIMILARITY
    assert similarity(found["wire_herald"], found["own_report"]) < 0.2
    # The five starting articles all cover North Korean launches, and none is a copy of another.
    seeds = _signatures(CORPUS)
    assert max(similarity(a, b) for a, b in itertools.combinations(seeds.values(), 2)) < SIMILARITY


def _index(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(SYNDICATED, corpus)
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, corpus)
    build_index(corpus, tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    return tmp_path / "index"


def test_the_earliest_copy_is_canonical_and_lists_the_others(tmp_path):
    listed = {listing.doc_id: listing for listing in list_articles(_index(tmp_path), config=CONFIG)}
    assert listed["wire_herald"].also_in == ("wire_gazette",) and listed["wire_herald"].duplicate_of is None
    assert listed["wire_gazette"].duplicate_of == "wire_herald" and listed["wire_gazette"].also_in == ()
    assert all(not listing.also_in and not listing.duplicate_of for doc_id, listing in listed.items()
               if not doc_id.startswith("wire_"))
    assert listed["wire_gazette"].to_dict()["duplicate_of"] == "wire_herald"


def test_a_story_fills_one_place_in_the_top_k_and_names_its_copies(tmp_path):
    index = open_index(_index(tmp_path), CONFIG)
    try:
        hits = HybridRetriever(index, HashEmbedder(), CONFIG).search(
            parse_query("How many residents were told to leave the villages on the Reykjanes peninsula?"), top_k=8)
    finally:
        index.close()
    copies = [hit for hit in hits if hit.chunk.doc_id.startswith("wire_")]
    assert copies and len({hit.chunk.doc_id for hit in copies}) == 1
    other = {"wire_herald": ("wire_gazette",), "wire_gazette": ("wire_herald",)}[copies[0].chunk.doc_id]
    assert all(hit.also_in == other for hit in copies)
    assert len(hits) == 8  # the freed places go to other articles


def test_removing_one_copy_leaves_the_other_alone(tmp_path):
    index_dir = _index(tmp_path)
    update_index(index_dir, remove=["wire_herald"], config=CONFIG)
    listed = {listing.doc_id: listing for listing in list_articles(index_dir, config=CONFIG)}
    assert "wire_herald" not in listed and listed["wire_gazette"].duplicate_of is None and listed["wire_gazette"].also_in == ()
