"""The Gradio chat page: answers with numbered sources, date filters, reader choice, corpus management.

``build_ui`` makes the page; ``launch`` serves it. This is the only module that imports gradio.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import READERS, Config
from rag.corpus import corpus_files
from rag.library import add
from rag.loaders import SUFFIXES
from rag.library import remove as remove_articles
from rag.errors import RagError
from rag.locking import writing
from rag.vectors import location_of
from rag.build import build_index
from rag.index import MANIFEST
from rag.pipeline import QA, load
from rag.render import answer_markdown, sources_html

CSS = """
.rag-source { border-left: 3px solid #3b6ea5; padding: 4px 10px; margin: 8px 0; }
.rag-source-head { font-size: 0.9em; margin-bottom: 4px; }
.rag-source mark { background: #ffe58a; padding: 0 2px; }
"""


@dataclass
class Library:
    """The corpus, its index and one QA per (reader, model) choice, shared by every visitor."""

    corpus_dir: Path
    index_dir: Path
    config: Config
    _qas: dict[tuple[str, str], QA] = field(default_factory=dict)
    _opening: threading.Lock = field(default_factory=threading.Lock)

    def qa(self, reader: str, model: str) -> QA:
        """The QA for this reader choice; all choices share one loaded index (built if missing). Once a
        writer (this page's panel, `rag add` or `rag index` elsewhere) commits, the next question opens
        the new index; questions under way finish on the one they started with."""
        key = (reader, model)
        with self._opening:
            if self._index and not self._index.is_current():
                self._qas = {}  # not closed: other visitors may be mid-question on it
            if not self._qas:
                if not (self.index_dir / MANIFEST).exists():
                    build_index(self.corpus_dir, self.index_dir, self.config, progress=True)
                self._qas = {(self.config.reader, ""): load(self.index_dir, self.config).load()}
            if key not in self._qas:
                shared = next(iter(self._qas.values()))
                self._qas[key] = shared.using(reader=reader, seq2seq_model=model or None).load()
            return self._qas[key]

    @property
    def _index(self):
        """The index every reader choice shares, once loaded."""
        return next(iter(self._qas.values())).index if self._qas else None

    def forget(self) -> None:
        """Before this page writes the index: close it if it is a Milvus Lite file, which serves one client
        at a time; the next question loads it again. Other stores stay open for questions under way."""
        with self._opening:
            if self._index and location_of(self._index.manifest["backends"]) == "milvus-lite":
                self._index.close()
                self._qas = {}

    def doc_ids(self) -> list[str]:
        return [path.stem for path in corpus_files(self.corpus_dir)]

    def status(self, reader: str, model: str) -> str:
        qa = self.qa(reader, model)
        manifest = qa.index.manifest
        return (
            f"**{manifest['corpus']['documents']}** articles · **{manifest['chunks']}** chunks · "
            f"embedder `{manifest['embedder']['name']}` · reader **{qa.reader.name}** · "
            f"index built {manifest['built_at']}"
        )


def answer(library: Library, question: str, history: list, top_k: int, since: str, until: str, reader: str,
           model: str, previous: str | None):
    """Chat handler: yields (history, sources html, previous question) as it goes."""
    question = (question or "").strip()
    history = list(history or [])
    if not question:
        yield history, "", previous
        return
    history.append({"role": "user", "content": question})
    history.append({"role": "assistant", "content": "_Searching the archive…_"})
    yield history, "", previous
    try:
        qa = library.qa(reader, model.strip())
        history[-1] = {"role": "assistant", "content": "_Reading the passages…_"}
        yield history, "", previous
        result = qa.ask(question, top_k=int(top_k), since=since.strip() or None, until=until.strip() or None,
                        previous=previous)
    except RagError as error:
        history[-1] = {"role": "assistant", "content": f"**Could not answer:** {error}"}
        yield history, "", previous
        return
    resolved = result.resolved_question
    note = f"\n\n_(read as: {resolved})_" if resolved != question else ""
    history[-1] = {"role": "assistant", "content": answer_markdown(result) + note}
    yield history, sources_html(result), resolved


UPLOAD_LIMIT = 5_000_000  # bytes per uploaded file: larger dumps go in through `rag add`
# Gradio keeps every session's state (each API call is a session) up to this many, oldest dropped
# first. Its default, 10,000, held half a gigabyte after 10,000 API questions (docs/load.md); a
# visitor idle while 500 others arrive loses only the question a follow-up would lean on.
SESSIONS_KEPT = 500


def upload(library: Library, files: list | None, progress=None):
    """Save uploaded articles (validated) and index just those, as `rag add` does; returns a status message."""
    if not files:
        return "Choose one or more article files first (text, Markdown, HTML, JSONL/CSV dumps, feeds or PDFs)."
    try:
        with writing(library.index_dir, wait=False):
            library.forget()
            change = add([Path(getattr(file, "name", file)) for file in files], library.corpus_dir, library.index_dir,
                          library.config, progress=True, max_bytes=UPLOAD_LIMIT)
    except RagError as error:
        return f"Nothing was added: {error}"
    lines = [f"Added {', '.join(change.doc_ids)}; the index holds {change.chunks} chunks." if change.doc_ids
             else "Nothing was added."]
    return "\n\n".join(lines + [f"Skipped {skipped.path}: {skipped.reason}" for skipped in change.skipped])


def remove(library: Library, doc_id: str | None) -> str:
    """Delete one article from the corpus and the index, as `rag remove` does."""
    if not doc_id:
        return "Pick an article to remove."
    try:
        with writing(library.index_dir, wait=False):
            library.forget()
            change = remove_articles([doc_id], library.corpus_dir, library.index_dir, library.config)
    except RagError as error:
        return f"Could not remove {doc_id}: {error}"
    return f"Removed {doc_id}; the index holds {change.chunks} chunks."


def build_ui(library: Library):
    import gradio as gr

    # Uploaded files wait in Gradio's cache until added; an hour later they are deleted.
    with gr.Blocks(title="News archive QA", analytics_enabled=False, delete_cache=(3600, 3600)) as page:
        gr.Markdown("## Ask the news archive\nAnswers cite the sentences they rest on; when the archive "
                    "does not say, the answer says so.")
        status = gr.Markdown(elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=420, elem_id="chat")
                question = gr.Textbox(label="Question", placeholder="How far did the March 2023 missiles fly?",
                                      elem_id="question")
                with gr.Row():
                    ask = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear = gr.Button("New conversation")
                sources = gr.HTML(elem_id="sources")
            with gr.Column(scale=1):
                top_k = gr.Slider(1, 20, value=library.config.top_k, step=1, label="Passages to read (top-k)")
                since = gr.Textbox(label="Since (YYYY-MM-DD)", placeholder="any date")
                until = gr.Textbox(label="Until (YYYY-MM-DD)", placeholder="any date")
                reader = gr.Radio(list(READERS), value=library.config.reader, label="Reader")
                model = gr.Textbox(label="Seq2seq model directory (optional)", value="")
                with gr.Accordion("Manage the corpus", open=False):
                    files = gr.File(label="Add articles", file_count="multiple", file_types=list(SUFFIXES))
                    add = gr.Button("Add and index")
                    article = gr.Dropdown(library.doc_ids(), label="Article", allow_custom_value=False)
                    delete = gr.Button("Remove from corpus and index", variant="stop")
                    corpus_message = gr.Markdown()
        previous = gr.State(None)

        def refresh_status(reader_choice, model_path):
            try:
                return library.status(reader_choice, model_path.strip())
            except RagError as error:
                return f"**Not ready:** {error}"

        def chat_handler(q, history, k, s, u, r, m, prev):
            for update in answer(library, q, history, k, s, u, r, m, prev):
                yield ("", *update)

        inputs = [question, chat, top_k, since, until, reader, model, previous]
        for trigger in (ask.click, question.submit):
            trigger(chat_handler, inputs, [question, chat, sources, previous], api_visibility="private")
        clear.click(lambda: ([], "", None), None, [chat, sources, previous], api_visibility="private")
        for control in (reader, model):
            control.change(refresh_status, [reader, model], status, api_visibility="private")
        add.click(lambda f, progress=gr.Progress(track_tqdm=True): upload(library, f), files, corpus_message,
                  api_visibility="private").then(
            lambda r, m: (refresh_status(r, m), gr.update(choices=library.doc_ids())), [reader, model], [status, article])
        delete.click(lambda d, progress=gr.Progress(track_tqdm=True): remove(library, d), article, corpus_message,
                     api_visibility="private").then(
            lambda r, m: (refresh_status(r, m), gr.update(choices=library.doc_ids(), value=None)),
            [reader, model], [status, article])
        page.load(refresh_status, [reader, model], status, api_visibility="private")

        def ask_api(question: str, top_k: int = 5, since: str = "", until: str = "", reader: str = "auto",
                    model: str = "") -> dict:
            """Answer one question; the same JSON object as `rag ask --json`."""
            result = library.qa(reader, model.strip()).ask(question, top_k=int(top_k), since=since.strip() or None,
                                                            until=until.strip() or None)
            return result.to_dict()

        gr.api(ask_api, api_name="ask")
    return page


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, index_dir: str = "index",
           corpus_dir: str = "corpus", config: Config | None = None, auth: tuple[str, str] | None = None,
           concurrency: int = 2, queue_size: int = 256) -> None:
    """Serve the page. ``concurrency`` questions are answered at once (answering is CPU-bound: more
    than the cores only adds waiting), up to ``queue_size`` more wait, and past that a visitor is
    told the page is busy rather than kept waiting without end (docs/load.md measures the load)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no usage reporting
    library = Library(Path(corpus_dir), Path(index_dir), config or Config())
    if not (library.index_dir / MANIFEST).exists():
        print(f"Building the index of {corpus_dir} into {index_dir}…")
    library.qa(library.config.reader, "")  # build if missing and load models before the first visitor
    page = build_ui(library).queue(default_concurrency_limit=concurrency, max_size=queue_size)
    page.launch(**serving_options(library), server_name=host, server_port=port, share=share, auth=auth)


def serving_options(library: Library) -> dict:
    """What every launch of the page shares: the look, no tracebacks shown to visitors, the corpus and
    index never served as files (uploads go through the library panel, which checks them), and a bound
    on the sessions kept in memory."""
    return {"css": CSS, "show_error": False, "state_session_capacity": SESSIONS_KEPT,
            "blocked_paths": [str(library.corpus_dir.resolve()), str(library.index_dir.resolve())]}
