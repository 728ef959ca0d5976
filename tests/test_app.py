"""The chat page served for real: its API from gradio_client, and a real browser (Debian's Chromium
driven by Playwright) asking the flagship question. Corpus management runs against a real index."""

import shutil
from pathlib import Path

import pytest

from rag.config import Config
from tests.conftest import CORPUS, REPO, free_port

gradio = pytest.importorskip("gradio", reason="the chat page needs the app extra: pip install -e '.[app]'")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
FLAGSHIP = "How far did the March 2023 missiles fly?"


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_index_dir):
    from rag.archive import Archive

    root = tmp_path_factory.mktemp("app")
    shutil.copytree(CORPUS, root / "corpus")
    shutil.copytree(real_index_dir, root / "index")
    return Archive(root / "corpus", root / "index", Config(reader="extractive"))


@pytest.fixture(scope="module")
def server(library):
    from rag.ui import build_ui, serving_options

    port = free_port()
    page = build_ui(library).queue()
    page.launch(**serving_options(library), server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    page.close()


def test_the_api_endpoint_answers_from_gradio_client(server):
    from gradio_client import Client

    answer = Client(server, verbose=False).predict(FLAGSHIP, api_name="/ask")
    assert "200 miles" in answer["answer"] and answer["abstained"] is False and 0 < answer["probability"] <= 1
    assert [event["citation"]["doc_id"] for event in answer["answers"]][:1] == ["003_d7b843a5570d7940"]
    assert answer["citations"][0]["doc_id"] == "003_d7b843a5570d7940"
    assert answer["citations"][0]["date"] == "2023-03-27"


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_a_real_browser_asks_and_sees_the_cited_answer(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server)
            page.locator("#status").get_by_text("articles").wait_for(timeout=30_000)
            page.locator("#question textarea").fill(FLAGSHIP)
            page.locator("#ask").click()
            page.locator("#sources mark").first.wait_for(timeout=30_000)
            chat, sources = page.locator("#chat").inner_text(), page.locator("#sources").inner_text()
            highlighted = page.locator("#sources mark").first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
        finally:
            browser.close()
    assert "more than 200 miles (2023-03-27) [1]" in chat and "385 miles" in chat  # every matching launch
    assert "003_d7b843a5570d7940" in sources and "2023-03-27" in sources
    assert "traveled more than 200 miles" in highlighted  # the supporting sentence is the highlighted one
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000


def test_no_file_outside_the_uploads_can_be_read_through_the_page(server, library):
    """Gradio serves files a page made or received; the corpus, the index and the rest of the disk stay out."""
    import urllib.error
    import urllib.parse
    import urllib.request

    secrets = [next(library.corpus_dir.glob("*.txt")).resolve(), (library.index_dir / "manifest.json").resolve(),
               Path("/etc/passwd"), REPO / "pyproject.toml"]
    for path in secrets:
        for route in (f"gradio_api/file={path}", f"gradio_api/file={urllib.parse.quote(str(path))}",
                      f"file={path}", f"gradio_api/file=../../../../..{path}"):
            try:
                status = urllib.request.urlopen(server + route, timeout=10).status
            except urllib.error.HTTPError as error:
                status = error.code
            assert status in (403, 404), f"{route} answered {status}"


def test_with_a_password_the_page_and_its_api_answer_no_one_without_it(library):
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from rag.ui import build_ui, serving_options

    port = free_port()
    page = build_ui(library).queue()
    page.launch(**serving_options(library), server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                quiet=True, auth=("desk", "correct-horse"))
    url = f"http://127.0.0.1:{port}/"
    try:
        body = json.dumps({"data": [FLAGSHIP, 5, "", "", "auto", ""]}).encode()
        request = urllib.request.Request(url + "gradio_api/call/ask", body, {"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (401, 403)
        login = urllib.parse.urlencode({"username": "desk", "password": "wrong"}).encode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(urllib.request.Request(url + "login", login), timeout=10)
    finally:
        page.close()


def upload_through_page(page, url: str, article: Path, timeout: int) -> None:
    """Open the page at ``url``, add ``article`` through its corpus panel, and wait until it says so."""
    page.goto(url)
    page.locator("#status").get_by_text("articles").wait_for(timeout=30_000)
    page.get_by_text("Manage the corpus").click()
    page.locator("input[type=file]").set_input_files(str(article))
    page.get_by_role("button", name="Add and index").click()
    page.get_by_text(f"Added {article.stem}").wait_for(timeout=timeout)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_script_in_articles_and_uploads_shows_as_text_and_never_runs(server, library, tmp_path):
    from playwright.sync_api import sync_playwright

    from rag.indexing.library import add

    planted = tmp_path / "quayport.txt"
    planted.write_text("date 2024-06-03\n<script>window.__pwned = 'title'</script> Quayport dockers struck\n"
                       "Dockers at Quayport walked out on Monday <img src=x onerror=\"window.__pwned='body'\"> over pay.\n")
    add([planted], library.corpus_dir, library.index_dir, library.config)
    uploaded = tmp_path / "harbour.html"
    uploaded.write_text("<html><head><title>Harbour <script>window.__pwned='upload title'</script></title></head><body>"
                        "<article><h1>Harbour pilots</h1><p>Harbour pilots at Quayport joined the strike on Tuesday, "
                        "&lt;b onmouseover=alert(1)&gt; their union said.</p><script>window.__pwned='upload'</script>"
                        "<p>The port authority said ships would wait offshore until the pilots returned.</p>"
                        "</article></body></html>")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            dialogs = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            upload_through_page(page, server, uploaded, timeout=60_000)
            for question in ("Why did the Quayport dockers walk out?", "When did the harbour pilots join the strike?"):
                page.locator("#question textarea").fill(question)
                page.locator("#ask").click()
                page.locator("#sources mark").first.wait_for(timeout=30_000)
                page.wait_for_timeout(500)
                page.locator("#sources mark").first.hover()
            sources_html = page.locator("#sources").inner_html()
            chat = page.locator("#chat").inner_text()
            pwned = page.evaluate("window.__pwned")
        finally:
            browser.close()
    assert pwned is None and dialogs == []  # no script from an article ran
    assert "<img" not in sources_html and "<script" not in sources_html and "&lt;b onmouseover" in sources_html
    assert "Quayport" in chat


def test_a_follow_up_is_resolved_against_the_previous_question(library):
    from rag.ui import answer

    *_, (history, _, previous) = answer(library, "What did Seoul call the launch from Jangyon?", [], 5, "", "",
                                        "extractive", "", None)
    *_, (history, sources, resolved) = answer(library, "and how far did those missiles fly?", history, 5, "", "",
                                              "extractive", "", previous)
    assert resolved.startswith("How far did those missiles fly? (") and "Jangyon" in resolved
    assert "385 miles" in history[-1]["content"] and "000_8214d5b1d865915a" in sources
    assert len(history) == 4  # the conversation is kept


def test_errors_show_as_messages_not_tracebacks(library):
    from rag.ui import answer

    *_, (history, sources, _) = answer(library, "How far?", [], 5, "last spring", "", "extractive", "", None)
    assert history[-1]["content"].startswith("**Could not answer:**") and "YYYY-MM-DD" in history[-1]["content"]
    *_, (history, _, _) = answer(library, "How far?", [], 5, "", "", "seq2seq", "/no/such/model", None)
    assert "not available offline" in history[-1]["content"] and "Traceback" not in history[-1]["content"]


def test_uploading_and_removing_articles_updates_the_index(library, tmp_path):
    from rag.ui import answer, remove, upload

    article = tmp_path / "sat launch.txt"
    article.write_text("date 2024-05-27\nNorth Korea said its Malligyong-1 satellite rocket exploded in flight.\n")
    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\x00")
    message = upload(library, [str(article), str(bad)])
    assert "Added sat_launch;" in message and "photo.txt" in message
    assert "sat_launch" in library.doc_ids()
    *_, (history, sources, _) = answer(library, "Which satellite rocket exploded?", [], 5, "", "", "extractive", "", None)
    assert "sat_launch" in sources

    message = remove(library, "sat_launch")
    assert "Removed sat_launch;" in message
    assert "sat_launch" not in library.doc_ids()
