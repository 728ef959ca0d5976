"""docs/architecture.md's worked examples, applied as a developer would: each example file written into a
copy of the package and its one registry line added, nothing else; then the new part is used."""

import json
import re
import shutil
import subprocess

import pytest

from scripts.older_rag import command
from tests.conftest import REPO

ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n# (rag/[\w/.]+)(?:, in (\w+))?\n(.*?)```", ARCHITECTURE, re.S)


def _extended(tmp_path, module: str, registry: str):
    """A copy of rag with the example ``module`` (rag/...) written and its line added to ``registry``."""
    copy = tmp_path / "extended"
    shutil.copytree(REPO / "rag", copy / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    files = {path: code for path, into, code in BLOCKS if not into}
    lines = {into: code for path, into, code in BLOCKS if into}
    assert module in files and registry in lines, "docs/architecture.md lost an example"
    (copy / module).write_text(files[module], encoding="utf-8")
    source = (copy / "rag" / "registry.py").read_text(encoding="utf-8")
    assert f"{registry} = (\n" in source
    extended = source.replace(f"{registry} = (\n", f"{registry} = (\n{lines[registry]}", 1)
    (copy / "rag" / "registry.py").write_text(extended)
    return copy


def _run(copy, code: str) -> dict:
    result = subprocess.run(command(copy, f"import sys; sys.path.append({str(REPO)!r}); " + code), cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_new_format_is_one_file_and_one_line(tmp_path):
    copy = _extended(tmp_path, "rag/ingest/loaders/tsv.py", "LOADERS")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "other").mkdir()
    (corpus / "wire.tsv").write_text("id\ttitle\tbody\tdate\n"
                                     "a1\tPort strike\tDockers in Busan walked out on Monday.\t2024-03-04\n"
                                     "a2\tRain\tHeavy rain closed two roads.\t2024-03-05\n", encoding="utf-8")
    found = _run(copy, f"""
import json
from rag.ingest.corpus import read_corpus
from rag.ingest.filing import add_article
documents, skipped = read_corpus({str(corpus)!r})
added = add_article({str(tmp_path / "other")!r}, {str(corpus / "wire.tsv")!r})  # as `rag add` checks and files it
rows = [[d.doc_id, d.title, d.date.isoformat(), d.text] for d in documents]
print(json.dumps({{"added": added.name, "documents": rows}}))
""")
    assert found["added"] == "wire.tsv"
    assert found["documents"] == [["wire-a1", "Port strike", "2024-03-04", "Dockers in Busan walked out on Monday."],
                     ["wire-a2", "Rain", "2024-03-05", "Heavy rain closed two roads."]]


@pytest.mark.slow  # tags the corpus with spaCy in a fresh process
def test_a_new_vector_store_is_one_file_and_one_line(tmp_path, corpus_dir):
    copy = _extended(tmp_path, "rag/stores/arrays.py", "VECTOR_STORES")
    found = _run(copy, f"""
import json
from rag.config import Config
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.update import update
from rag.pipeline import QA
from rag.query import parse_query
from rag.retrieval import HybridRetriever
from tests.fakes import HashEmbedder

embedder, found = HashEmbedder(), {{}}
for store in ("faiss-flat", "arrays"):
    config = Config(embedder="hash-embedder", vector_store=store)
    build_index({str(corpus_dir)!r}, {str(tmp_path)!r} + "/" + store, config, embedder, progress=False)
    index = open_index({str(tmp_path)!r} + "/" + store, config)
    retriever = HybridRetriever(index, embedder, config)
    ask = lambda: [hit.chunk.chunk_id for hit in retriever.search(parse_query("How far did the missiles fly?"))]
    found[store] = {{"hits": ask(), "backend": index.manifest.vector_store}}
    update(index, remove=["003_d7b843a5570d7940"], config=config)
    found[store]["after removal"] = ask()
print(json.dumps(found))
""")
    assert found["arrays"]["backend"] == "arrays" and found["arrays"]["hits"] == found["faiss-flat"]["hits"]
    assert found["arrays"]["after removal"] == found["faiss-flat"]["after removal"]
    assert not any(hit.startswith("003_") for hit in found["arrays"]["after removal"])


@pytest.mark.slow  # loads the real embedder and span head in a fresh process
def test_a_new_reader_is_one_file_and_one_line(tmp_path, real_index_dir):
    copy = _extended(tmp_path, "rag/readers/sentence.py", "READERS")
    found = _run(copy, f"""
import io, json, contextlib
from rag.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["ask", "--index", {str(real_index_dir)!r}, "--reader", "sentence", "--json",
          "What did Seoul call the launch?"])
print(json.dumps(json.loads(out.getvalue())))
""")
    assert found["reader"] == "sentence" and not found["abstained"]
    assert found["answer"] == found["citations"][0]["quote"] and "grave provocation" in found["answer"]
