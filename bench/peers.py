"""rag beside LlamaIndex and Haystack: the same corpora, embedder, chunk size and top-k, in one run.

    .venv/bin/pip install -e '.[bench]'      # the peers; never part of the default install
    .venv/bin/python bench/peers.py [--generated 10000] [--out docs/peers.md]

Corpora: the starting articles (corpus/, with eval/questions.jsonl), the shared SQuAD subset as a
corpus of paragraphs (its questions), and a generated archive of ``--generated`` news-like articles
(questions made from one fact of 50 of them). Every system reads the same Documents (rag.ingest.corpus
reads the files once for all) and embeds with the same all-MiniLM-L6-v2 files (the peers through
sentence-transformers on PyTorch, rag through its default embedder, its int8 ONNX export of those
files), in chunks of about 160 MiniLM tokens with 40 of overlap, and returns the top 5. The raw
embedder every system is compared with is sentence-transformers' ``encode`` on PyTorch float32.

Each measurement runs in a fresh process, so import, load and peak memory are each system's own:
- index: chunks/s from Documents to a persisted index once the models are loaded (load timed apart),
  beside the raw embedder's own ``encode`` of (a sample of up to 2,000 of) the same chunks timed in
  the same process; peak memory up to the end of indexing (before the reference model is loaded);
- cold: a fresh process that opens the index and answers (rag) or retrieves for (peers) one
  question, to the printed result, beside a fresh Python importing numpy;
- query: warm retrieval p50/p95 (embed the question and search), recall@5 of the gold article,
  rag's end-to-end answer p50/p95, peak memory.
Neither peer has an answering path that runs offline (both answer through an LLM, and no generator
weights are installed here), so only rag reports answers.
"""


from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # nothing leaves the machine
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOP_K = 5
CHUNK_TOKENS, OVERLAP_TOKENS = 160, 40  # rag's defaults (rag.config)
WORDS_PER_TOKEN = 0.75  # Haystack splits by words offline (its token splitter downloads a tiktoken file)
SYSTEMS = ("rag", "llamaindex", "haystack")
REFERENCE_SAMPLE = 2000

WORKAROUNDS = """What each peer needed to run offline, on the same footing:

- LlamaIndex: `Settings.llm = None`, or building an index reaches for OpenAI; the SentenceSplitter is given
  the MiniLM tokenizer, so its 160-token chunks count the same tokens as rag's (its default counts
  tiktoken's cl100k tokens).
- Haystack 3: its sentence-transformers embedders now live in the `sentence-transformers-haystack`
  package; its token splitter downloads a tiktoken file, so it splits by words (120 with 30 of overlap,
  about 160 and 40 MiniLM tokens); telemetry is turned off (`HAYSTACK_TELEMETRY_ENABLED=False`).
- rag's index holds more than vectors: a keyword index, a vector per sentence (for citations), named
  entities and dates, so it embeds more texts than a peer for the same chunks (the "texts embedded"
  column); its chunks/s counts chunks only.
"""


def model_path() -> str:
    from rag.models.local import resolve_model_path

    return resolve_model_path("all-MiniLM-L6-v2")


class Rag:
    """The product as shipped: hybrid retrieval over chunks, sentence vectors and annotations for the reader."""

    def prepare(self) -> None:
        from rag.config import Config
        from rag.ingest.tagging import tagger
        from rag.models.embedders import make_embedder

        make_embedder(Config().embedder).embed(["warm-up"])  # opens the default embedder's model
        tagger()

    def index(self, corpus_dir: Path, store: Path, documents) -> list[str]:
        from rag.config import Config
        from rag.indexing.build import build_index
        from rag.indexing.index import open_index

        build_index(corpus_dir, store, Config(), progress=False)
        index = open_index(store, Config())
        try:
            chunks = [chunk.text for chunk in index.store.chunks()]
            self.embedded_texts = len(chunks) + index.store.sentence_count([d.doc_id for d in documents])
            return chunks
        finally:
            index.close()

    def open(self, store: Path) -> None:
        from rag.config import Config
        from rag.pipeline import load

        self.qa = load(store, Config(reader="extractive"))

    def retrieve(self, question: str) -> list[str]:
        import dataclasses

        from rag.query import parse_query

        query = parse_query(question)
        query = dataclasses.replace(query, vector=self.qa.embedder.embed([query.text])[0])
        return [hit.chunk.doc_id for hit in self.qa.retriever.search(query, TOP_K)]

    def answer(self, question: str) -> str:
        return self.qa.ask(question).text


class LlamaIndex:
    """llama-index-core's VectorStoreIndex (its default in-memory vector store), SentenceSplitter
    counting MiniLM tokens, HuggingFaceEmbedding over the same model files."""

    def prepare(self):
        from llama_index.core import Settings
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        Settings.llm = None  # otherwise it reaches for OpenAI
        Settings.embed_model = HuggingFaceEmbedding(model_name=model_path(), device="cpu")

    def index(self, corpus_dir: Path, store: Path, documents) -> list[str]:
        from llama_index.core import Document, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model_path(), local_files_only=True)
        splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=OVERLAP_TOKENS,
                                    tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False))
        index = VectorStoreIndex.from_documents(
            [Document(text=d.text, metadata={"doc_id": d.doc_id}) for d in documents], transformations=[splitter])
        index.storage_context.persist(persist_dir=str(store))
        return [node.get_content() for node in index.docstore.docs.values()]

    def open(self, store: Path) -> None:
        from llama_index.core import StorageContext, load_index_from_storage

        self.prepare()
        self.retriever = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(store))) \
            .as_retriever(similarity_top_k=TOP_K)

    def retrieve(self, question: str) -> list[str]:
        return [found.node.metadata["doc_id"] for found in self.retriever.retrieve(question)]


class Haystack:
    """haystack-ai's InMemoryDocumentStore and InMemoryEmbeddingRetriever, DocumentSplitter by words,
    the sentence-transformers embedders (sentence-transformers-haystack) over the same model files."""

    def prepare(self) -> None:
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
        )

        self.document_embedder = SentenceTransformersDocumentEmbedder(model=model_path(), progress_bar=False)
        self.document_embedder.warm_up()

    def index(self, corpus_dir: Path, store: Path, documents) -> list[str]:
        from haystack import Document
        from haystack.components.preprocessors import DocumentSplitter
        from haystack.document_stores.in_memory import InMemoryDocumentStore

        splitter = DocumentSplitter(split_by="word", split_length=round(CHUNK_TOKENS * WORDS_PER_TOKEN),
                                    split_overlap=round(OVERLAP_TOKENS * WORDS_PER_TOKEN))
        embedder = self.document_embedder
        chunks = splitter.run([Document(content=d.text, meta={"doc_id": d.doc_id}) for d in documents])["documents"]
        document_store = InMemoryDocumentStore()
        document_store.write_documents(embedder.run(chunks)["documents"])
        store.mkdir(parents=True, exist_ok=True)
        document_store.save_to_disk(str(store / "store.json"))
        return [chunk.content for chunk in chunks]

    def open(self, store: Path) -> None:
        from haystack.components.retrievers.in_memory import InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack_integrations.components.embedders.sentence_transformers import SentenceTransformersTextEmbedder

        self.embedder = SentenceTransformersTextEmbedder(model=model_path(), progress_bar=False)
        self.embedder.warm_up()
        self.retriever = InMemoryEmbeddingRetriever(InMemoryDocumentStore.load_from_disk(str(store / "store.json")),
                                                    top_k=TOP_K)

    def retrieve(self, question: str) -> list[str]:
        embedding = self.embedder.run(question)["embedding"]
        return [found.meta["doc_id"] for found in self.retriever.run(query_embedding=embedding)["documents"]]


def system(name: str):
    return {"rag": Rag, "llamaindex": LlamaIndex, "haystack": Haystack}[name]()


# --- one measurement, in its own process ---------------------------------------------------------

def work(action: str, name: str, corpus_dir: Path, store: Path, questions_file: Path) -> dict:
    runner = system(name)
    if action == "index":
        return measure_index(runner, corpus_dir, store)
    questions = json.loads(questions_file.read_text())
    runner.open(store)
    answer = getattr(runner, "answer", None)  # only rag answers offline
    if action == "cold":
        print((answer or runner.retrieve)(questions[0]["question"]))
        return {}
    result, found = timed(runner.retrieve, questions, "retrieve")
    result["recall_at_5"] = sum(bool(set(doc_ids) & set(q["doc_ids"])) for doc_ids, q in zip(found, questions)) / len(questions)
    result["questions"] = len(questions)
    return result | (timed(answer, questions, "answer")[0] if answer else {})


def measure_index(runner, corpus_dir: Path, store: Path) -> dict:
    """Index from Documents once the models are loaded, and the peak memory so far (the system's
    own); then the raw embedder's encode of a sample of the same chunks, from its own copy of the
    model, as the reference."""
    import resource

    from rag.ingest.corpus import read_corpus

    documents, _ = read_corpus(corpus_dir)
    started = time.perf_counter()
    runner.prepare()
    loaded = time.perf_counter()
    chunks = runner.index(corpus_dir, store, documents)
    seconds = time.perf_counter() - loaded
    index_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from sentence_transformers import SentenceTransformer

    sample = random.Random(0).sample(chunks, min(len(chunks), REFERENCE_SAMPLE))
    model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
    model.encode(sample[:32], batch_size=32)
    encoding = time.perf_counter()
    model.encode(sample, batch_size=32, normalize_embeddings=True)
    return {"chunks": len(chunks), "embedded_texts": getattr(runner, "embedded_texts", len(chunks)),
            "load_s": loaded - started, "index_s": seconds, "chunks_per_s": len(chunks) / seconds,
            "raw_encode_chunks_per_s": len(sample) / (time.perf_counter() - encoding), "index_peak_mib": index_peak_mib}


def timed(call, questions: list[dict], label: str) -> tuple[dict, list]:
    """p50 and p95 ms of ``call`` on each question (after one call to warm it), and what it returned."""
    from rag.evaluation.metrics import percentile

    call(questions[0]["question"])
    times, returned = [], []
    for question in questions:
        started = time.perf_counter()
        returned.append(call(question["question"]))
        times.append((time.perf_counter() - started) * 1000)
    return {f"{label}_p50_ms": percentile(times, 50), f"{label}_p95_ms": percentile(times, 95)}, returned


def in_fresh_process(arguments: list[str]) -> tuple[float, dict]:
    """(wall seconds, the result the process printed last, with its own peak memory) of this script
    run with ``arguments``."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def worker(argv: list[str]) -> None:
    import resource

    action, name, corpus_dir, store, questions_file = argv
    result = work(action, name, Path(corpus_dir), Path(store), Path(questions_file))
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# --- corpora --------------------------------------------------------------------------------------

COUNTRIES = ["Norway", "Chile", "Kenya", "Vietnam", "Canada", "Peru", "Ghana", "Poland", "Japan", "Egypt",
             "Brazil", "Finland", "India", "Mexico", "Turkey", "Spain", "Nigeria", "Chile", "Greece", "Korea"]
CITIES = ["Oslo", "Santiago", "Nairobi", "Hanoi", "Toronto", "Lima", "Accra", "Gdansk", "Osaka", "Cairo", "Recife",
          "Tampere", "Pune", "Monterrey", "Izmir", "Seville", "Lagos", "Valparaiso", "Patras", "Busan", "Bergen",
          "Mombasa", "Da Nang", "Calgary", "Cusco", "Kumasi", "Krakow", "Sapporo", "Luxor", "Manaus"]
BODIES = ["health ministry", "transport ministry", "energy agency", "port authority", "central bank",
          "statistics office", "interior ministry", "environment agency"]
THINGS = [("buses", "ordered"), ("wind turbines", "installed"), ("schools", "opened"), ("bridges", "repaired"),
          ("clinics", "built"), ("trains", "delivered"), ("wells", "drilled"), ("ferries", "launched"),
          ("houses", "completed"), ("flights", "cancelled"), ("containers", "inspected"), ("trees", "planted")]
PEOPLE = ["Ana Ruiz", "Tomas Berg", "Amina Okafor", "Lin Wei", "Sara Novak", "Kofi Mensah", "Yuki Sato",
          "Omar Haddad", "Elena Costa", "Piotr Zielinski", "Maria Lopes", "Arjun Rao"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


OPENINGS = ["{country}'s {body} said on {day} that {amount} {thing} had been {verb} in {city} since {month}.",
            "In {city}, {amount} {thing} had been {verb} since {month}, {country}'s {body} announced on {day}.",
            "Figures released on {day} by {country}'s {body} show {amount} {thing} {verb} in {city} since {month}."]
MIDDLES = ["{person}, who speaks for the {body}, expects the scheme to reach {city2} by {month2} {year}.",
           "The programme should extend to {city2} before {month2} {year}, {person} told journalists.",
           "Next comes {city2}: {person} named {month2} {year} as the target.",
           "Plans for {city2} were delayed until {month2} {year}, according to {person}."]
COSTS = ["Auditors put the bill at {money} million dollars, {percent} percent over budget.",
         "It has cost {money} million dollars so far.", "Spending reached {money} million dollars by {month2}.",
         "A {percent} percent overrun pushed costs to {money} million dollars."]
REACTIONS = ["Residents of {city3} called the {thing} {opinion}.", "Opposition politicians said the {thing} came {opinion}.",
             "Unions in {city3} welcomed the news.", "Some economists doubt the numbers.", "Traders barely reacted."]
OPINIONS = ["overdue", "too few", "too costly", "a relief", "badly planned", "late"]


def generate_archive(directory: Path, count: int, seed: int = 0) -> list[dict]:
    """``count`` news-like articles of four sentences as .txt files, each sentence in one of several
    phrasings, and a question about one fact (with its article as the gold) for 50 of them."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    questions = []
    asked = set(rng.sample(range(count), min(50, count)))
    for number in range(count):
        thing, verb = rng.choice(THINGS)
        facts = dict(country=rng.choice(COUNTRIES), body=rng.choice(BODIES), city=rng.choice(CITIES), thing=thing,
                     verb=verb, amount=rng.randint(3, 9000), person=rng.choice(PEOPLE), day=rng.choice(DAYS),
                     month=rng.choice(MONTHS), month2=rng.choice(MONTHS), year=rng.randint(2016, 2027),
                     city2=rng.choice(CITIES), city3=rng.choice(CITIES), money=rng.randint(2, 900),
                     percent=rng.randint(2, 60), opinion=rng.choice(OPINIONS))
        sentences = [rng.choice(OPENINGS), rng.choice(MIDDLES), rng.choice(COSTS), rng.choice(REACTIONS)]
        doc_id = f"generated_{number:05d}"
        text = f"{facts['city']} {thing} update\n\n" + " ".join(sentence.format(**facts) for sentence in sentences)
        (directory / f"{doc_id}.txt").write_text(text + "\n")
        if number in asked:
            questions.append({"question": f"How many {thing} were {verb} in {facts['city']}, according to "
                                          f"{facts['country']}'s {facts['body']}?", "doc_ids": [doc_id]})
    return questions


def corpora(work_dir: Path, generated: int) -> list[tuple[str, Path, Path]]:
    """(label, corpus folder, questions file) for each corpus."""
    from rag.evaluation.dataset import read_questions, read_squad, write_corpus

    found = []

    def add(label: str, corpus_dir: Path, questions: list[dict]) -> None:
        path = work_dir / f"{label.split()[0]}-questions.json"
        path.write_text(json.dumps(questions))
        found.append((label, corpus_dir, path))

    own, _ = read_questions(REPO / "eval" / "questions.jsonl")
    add("starting articles", REPO / "corpus",
        [{"question": q.question, "doc_ids": list(q.doc_ids)} for q in own if q.answerable])
    squad = REPO.parent / "shared" / "bench" / "squad2-dev-subset.json"
    if squad.exists():
        paragraphs, questions = read_squad(squad)
        add("SQuAD subset", write_corpus(paragraphs, work_dir / "squad"),
            [{"question": q.question, "doc_ids": list(q.doc_ids)} for q in questions if q.answerable])
    if generated:
        add(f"generated {generated:,} articles", work_dir / "generated",
            generate_archive(work_dir / "generated", generated))
    return found


# --- the run and its report -----------------------------------------------------------------------

def measure(label: str, corpus_dir: Path, questions: Path, work_dir: Path) -> list[dict]:
    rows = []
    for name in SYSTEMS:
        store = work_dir / f"{name}-{label.split()[0]}"
        print(f"{label}: {name} indexing...", file=sys.stderr, flush=True)
        _, indexed = in_fresh_process(["index", name, str(corpus_dir), str(store), str(questions)])
        _, queried = in_fresh_process(["query", name, str(corpus_dir), str(store), str(questions)])
        colds, cold_peak = [], 0.0
        for _ in range(3):
            seconds, cold = in_fresh_process(["cold", name, str(corpus_dir), str(store), str(questions)])
            colds.append(seconds)
            cold_peak = max(cold_peak, cold["peak_mib"])
        rows.append({"corpus": label, "system": name, **indexed,
                     **queried, "query_peak_mib": queried["peak_mib"], "cold_s": statistics.median(colds),
                     "cold_peak_mib": cold_peak})
    return rows


def python_floor() -> float:
    """A fresh Python importing numpy: what every process here pays before its own work."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def versions() -> str:
    from importlib.metadata import version

    packages = ["llama-index-core", "llama-index-embeddings-huggingface", "haystack-ai", "sentence-transformers-haystack",
                "sentence-transformers", "transformers", "torch", "onnxruntime", "faiss-cpu"]
    return ", ".join(f"{package} {version(package)}" for package in packages)


def report(rows: list[dict], floor: float, command: str, out: Path) -> str:
    import platform

    def cell(row: dict, key: str, digits: int = 0) -> str:
        return "" if row.get(key) is None else f"{row[key]:,.{digits}f}"

    lines = [
        "# rag beside LlamaIndex and Haystack", "", f"Reproduce: `.venv/bin/pip install -e '.[bench]' && {command}`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. Versions: {versions()}.",
        "", __doc__.split("\n\n", 2)[2].strip(), "", WORKAROUNDS.strip(), "",
        f"A fresh Python importing numpy took {floor:.2f} s in this run (the floor under every cold start).", "",
        "| corpus | system | chunks | texts embedded | model load s | index s | chunks/s | raw encode chunks/s | ratio | retrieve p50/p95 ms "
        "| answer p50/p95 ms | recall@5 | cold start s | peak MiB index / query / cold |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        answer = f"{row['answer_p50_ms']:.0f} / {row['answer_p95_ms']:.0f}" if "answer_p50_ms" in row else "no offline path"
        lines.append(
            f"| {row['corpus']} | {row['system']} | {row['chunks']:,} | {row['embedded_texts']:,} | {cell(row, 'load_s', 1)} | {cell(row, 'index_s', 1)} | {cell(row, 'chunks_per_s', 1)} "
            f"| {cell(row, 'raw_encode_chunks_per_s', 1)} | {row['chunks_per_s'] / row['raw_encode_chunks_per_s']:.2f} "
            f"| {row['retrieve_p50_ms']:.1f} / {row['retrieve_p95_ms']:.1f} | {answer} | {row['recall_at_5']:.3f} "
            f"| {row['cold_s']:.2f} | {row['index_peak_mib']:.0f} / {row['query_peak_mib']:.0f} / {row['cold_peak_mib']:.0f} |")
    lines += ["", "rag against each peer, same corpus (above 1: rag is better by that factor):", "",
              "| corpus | peer | indexing (chunks/s) | warm retrieval (p50) | cold start | peak memory, index | peak memory, query "
              "| recall@5 difference |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if row["system"] == "rag":
            continue
        ours = next(r for r in rows if r["corpus"] == row["corpus"] and r["system"] == "rag")
        lines.append(
            f"| {row['corpus']} | {row['system']} | {ours['chunks_per_s'] / row['chunks_per_s']:.2f}x "
            f"| {row['retrieve_p50_ms'] / ours['retrieve_p50_ms']:.2f}x | {row['cold_s'] / ours['cold_s']:.2f}x "
            f"| {row['index_peak_mib'] / ours['index_peak_mib']:.2f}x | {row['query_peak_mib'] / ours['query_peak_mib']:.2f}x "
            f"| {ours['recall_at_5'] - row['recall_at_5']:+.3f} |")
    lines += ["", f"![indexing, retrieval and cold start per system]({out.with_suffix('.png').name})", ""]
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(row["corpus"] for row in rows))
    panels = [("chunks_per_s", "indexing, chunks/s (higher is better)"),
              ("retrieve_p50_ms", "warm retrieval p50, ms (lower is better)"),
              ("cold_s", "cold start to first result, s (lower is better)"),
              ("query_peak_mib", "peak memory answering, MiB (lower is better)")]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6))
    width = 0.8 / len(SYSTEMS)
    for axis, (key, title) in zip(axes, panels):
        for offset, name in enumerate(SYSTEMS):
            values = [next(r[key] for r in rows if r["corpus"] == label and r["system"] == name) for label in labels]
            axis.bar([i + offset * width for i in range(len(labels))], values, width, label=name)
        axis.set_title(title, fontsize=9)
        axis.set_xticks([i + width for i in range(len(labels))], labels, fontsize=7, rotation=12)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=10000, help="articles in the generated archive (0: none)")
    parser.add_argument("--out", default=str(REPO / "docs" / "peers.md"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="rag-peers-"))
    floor = python_floor()
    rows = []
    for label, corpus_dir, questions in corpora(work_dir, args.generated):
        rows += measure(label, corpus_dir, questions, work_dir)
    command = ".venv/bin/python bench/peers.py" + ("" if args.generated == 10000 else f" --generated {args.generated}")
    text = report(rows, floor, command, out)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    plot(rows, out.with_suffix(".png"))
    print(text)
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("index", "query", "cold"):
        worker(sys.argv[1:])
    else:
        main()
