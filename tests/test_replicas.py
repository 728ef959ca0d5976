"""Two `rag serve` replicas over one index on the test Milvus server: an article added through one
replica's page (a real browser uploading it) is answered by the other at its next question."""

import contextlib
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.config import Config
from rag.indexing.build import build_index
from tests.conftest import CORPUS, free_port

pytest.importorskip("gradio", reason="the chat page needs the app extra: pip install -e '.[app]'")
from tests.test_app import CHROMIUM, upload_through_page  # noqa: E402

QUESTION = "When did Zorblat Industries open a plant in Tromso?"


@contextlib.contextmanager
def replica(corpus: Path, index_dir: Path):
    """`rag serve` over ``index_dir`` on a free port, in its own process: its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index_dir), "--corpus",
                                str(corpus), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "rag serve did not start within 180 s"
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=2).read()
                break
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ask(url: str) -> dict:
    from gradio_client import Client

    return Client(url, verbose=False).predict(QUESTION, api_name="/ask")


@pytest.mark.server
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_an_article_added_through_one_replica_is_answered_by_the_other(tmp_path, milvus_server, real_embedder):
    from playwright.sync_api import sync_playwright

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    build_index(corpus, index_dir, Config(vector_store=milvus_server), real_embedder, progress=False)
    article = tmp_path / "upload" / "zorblat.txt"
    article.parent.mkdir()
    article.write_text("Zorblat Industries opened a plant in Tromso on 4 May 2024, the town's mayor said.\n")
    with replica(corpus, index_dir) as first, replica(corpus, index_dir) as second:
        assert _ask(second)["abstained"]  # not in the archive yet
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                upload_through_page(page, first, article, timeout=120_000)
            finally:
                browser.close()
        answer = _ask(second)
    assert not answer["abstained"] and "4 May 2024" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "zorblat"
