"""The Gradio chat page: answers with numbered sources, date filters, reader choice, corpus management.

``build_ui`` draws the page over an Archive (rag.archive), which does the work; ``launch`` serves it.
This is the only module that imports gradio.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from rag.archive import Archive
from rag.config import READER_CHOICES, Config
from rag.errors import RagError
from rag.registry import SUFFIXES
from rag.render import answer_markdown, sources_html

CSS = """
.rag-source { border-left: 3px solid #3b6ea5; padding: 4px 10px; margin: 8px 0; }
.rag-source-head { font-size: 0.9em; margin-bottom: 4px; }
.rag-source mark { background: #ffe58a; padding: 0 2px; }
"""


def answer(archive: Archive, question: str, history: list, top_k: int, since: str, until: str, reader: str,
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
        qa = archive.qa(reader, model.strip())
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


# Gradio keeps every session's state (each API call is a session) up to this many, oldest dropped
# first. Its default, 10,000, held half a gigabyte after 10,000 API questions (docs/load.md); a
# visitor idle while 500 others arrive loses only the question a follow-up would lean on.
SESSIONS_KEPT = 500


def upload(archive: Archive, files: list | None):
    """Save uploaded articles (validated) and index just those, as `rag add` does; returns a status message."""
    if not files:
        return "Choose one or more article files first (text, Markdown, HTML, JSONL/CSV dumps, feeds or PDFs)."
    try:
        report = archive.add([Path(getattr(file, "name", file)) for file in files])
    except RagError as error:
        return f"Nothing was added: {error}"
    added = [*report.added, *report.changed]
    lines = [f"Added {', '.join(added)}; the index holds {report.total_chunks} chunks." if added
             else "Nothing was added."]
    return "\n\n".join(lines + [f"Skipped {skipped.path}: {skipped.reason}" for skipped in report.skipped])


def remove(archive: Archive, doc_id: str | None) -> str:
    """Delete one article from the corpus and the index, as `rag remove` does."""
    if not doc_id:
        return "Pick an article to remove."
    try:
        report = archive.remove(doc_id)
    except RagError as error:
        return f"Could not remove {doc_id}: {error}"
    return f"Removed {doc_id}; the index holds {report.total_chunks} chunks."


def build_ui(archive: Archive):
    """The page: a conversation beside its controls and the library panel, wired to ``archive``."""
    import gradio as gr

    # Uploaded files wait in Gradio's cache until added; an hour later they are deleted.
    with gr.Blocks(title="News archive QA", analytics_enabled=False, delete_cache=(3600, 3600)) as page:
        gr.Markdown("## Ask the news archive\nAnswers cite the sentences they rest on; when the archive "
                    "does not say, the answer says so.")
        status = gr.Markdown(elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                chat = _conversation(gr)
            with gr.Column(scale=1):
                controls = _controls(gr, archive)
                with gr.Accordion("Manage the corpus", open=False):
                    panel = _library_panel(gr, archive)
        previous = gr.State(None)
        refresh_status = _status_of(archive)
        _wire_conversation(archive, chat, controls, previous)
        for control in (controls.reader, controls.model):
            control.change(refresh_status, [controls.reader, controls.model], status, api_visibility="private")
        _wire_library_panel(gr, archive, panel, controls, status, refresh_status)
        page.load(refresh_status, [controls.reader, controls.model], status, api_visibility="private")
        gr.api(_ask_api(archive), api_name="ask")
    return page


def _conversation(gr) -> SimpleNamespace:
    chat = gr.Chatbot(label="Conversation", height=420, elem_id="chat")
    question = gr.Textbox(label="Question", placeholder="How far did the March 2023 missiles fly?", elem_id="question")
    with gr.Row():
        ask = gr.Button("Ask", variant="primary", elem_id="ask")
        clear = gr.Button("New conversation")
    return SimpleNamespace(chat=chat, question=question, ask=ask, clear=clear, sources=gr.HTML(elem_id="sources"))


def _controls(gr, archive: Archive) -> SimpleNamespace:
    return SimpleNamespace(
        top_k=gr.Slider(1, 20, value=archive.config.top_k, step=1, label="Passages to read (top-k)"),
        since=gr.Textbox(label="Since (YYYY-MM-DD)", placeholder="any date"),
        until=gr.Textbox(label="Until (YYYY-MM-DD)", placeholder="any date"),
        reader=gr.Radio(list(READER_CHOICES), value=archive.config.reader, label="Reader"),
        model=gr.Textbox(label="Seq2seq model directory (optional)", value=""),
    )


def _library_panel(gr, archive: Archive) -> SimpleNamespace:
    return SimpleNamespace(
        files=gr.File(label="Add articles", file_count="multiple", file_types=list(SUFFIXES)),
        add=gr.Button("Add and index"),
        article=gr.Dropdown(archive.doc_ids(), label="Article", allow_custom_value=False),
        delete=gr.Button("Remove from corpus and index", variant="stop"),
        message=gr.Markdown(),
    )


def _status_of(archive: Archive):
    def refresh_status(reader_choice, model_path):
        try:
            return archive.status(reader_choice, model_path.strip())
        except RagError as error:
            return f"**Not ready:** {error}"

    return refresh_status


def _wire_conversation(archive: Archive, chat: SimpleNamespace, controls: SimpleNamespace, previous) -> None:
    def chat_handler(q, history, k, s, u, r, m, prev):
        for update in answer(archive, q, history, k, s, u, r, m, prev):
            yield ("", *update)

    inputs = [chat.question, chat.chat, controls.top_k, controls.since, controls.until, controls.reader,
              controls.model, previous]
    for trigger in (chat.ask.click, chat.question.submit):
        trigger(chat_handler, inputs, [chat.question, chat.chat, chat.sources, previous], api_visibility="private")
    chat.clear.click(lambda: ([], "", None), None, [chat.chat, chat.sources, previous], api_visibility="private")


def _wire_library_panel(gr, archive: Archive, panel: SimpleNamespace, controls: SimpleNamespace, status,
                        refresh_status) -> None:
    choice = [controls.reader, controls.model]
    # The progress argument is how Gradio shows a tqdm bar of the indexing that follows.
    panel.add.click(lambda f, progress=gr.Progress(track_tqdm=True): upload(archive, f),  # noqa: B008
                    panel.files, panel.message, api_visibility="private").then(
        lambda r, m: (refresh_status(r, m), gr.update(choices=archive.doc_ids())), choice, [status, panel.article])
    panel.delete.click(lambda d, progress=gr.Progress(track_tqdm=True): remove(archive, d),  # noqa: B008
                       panel.article, panel.message, api_visibility="private").then(
        lambda r, m: (refresh_status(r, m), gr.update(choices=archive.doc_ids(), value=None)), choice,
        [status, panel.article])


def _ask_api(archive: Archive):
    def ask_api(question: str, top_k: int = 5, since: str = "", until: str = "", reader: str = "auto",
                model: str = "") -> dict:
        """Answer one question; the same JSON object as `rag ask --json`."""
        result = archive.qa(reader, model.strip()).ask(question, top_k=int(top_k), since=since.strip() or None,
                                                        until=until.strip() or None)
        return result.to_dict()

    return ask_api


def launch(host: str = "127.0.0.1", port: int = 7860, share: bool = False, index_dir: str = "index",
           corpus_dir: str = "corpus", config: Config | None = None, auth: tuple[str, str] | None = None,
           concurrency: int = 2, queue_size: int = 256) -> None:
    """Serve the page. ``concurrency`` questions are answered at once (answering is CPU-bound: more
    than the cores only adds waiting), up to ``queue_size`` more wait, and past that a visitor is
    told the page is busy rather than kept waiting without end (docs/load.md measures the load)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no usage reporting
    archive = Archive(Path(corpus_dir), Path(index_dir), config or Config())
    if not archive.has_index():
        print(f"Building the index of {corpus_dir} into {index_dir}…")
    archive.qa(archive.config.reader, "")  # build if missing and load models before the first visitor
    page = build_ui(archive).queue(default_concurrency_limit=concurrency, max_size=queue_size)
    page.launch(**serving_options(archive), server_name=host, server_port=port, share=share, auth=auth)


def serving_options(archive: Archive) -> dict:
    """What every launch of the page shares: the look, no tracebacks shown to visitors, the corpus and
    index never served as files (uploads go through the library panel, which checks them), and a bound
    on the sessions kept in memory."""
    return {"css": CSS, "show_error": False, "state_session_capacity": SESSIONS_KEPT,
            "blocked_paths": [str(archive.corpus_dir.resolve()), str(archive.index_dir.resolve())]}
