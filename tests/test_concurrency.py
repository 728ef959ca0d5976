"""One writer at a time, readers never blocked: a second writer waits (or fails at once with
--no-wait), two writers at once both land, and a process that keeps the index open answers from the
old index until a writer commits and from the new one after, without a restart."""

import logging
import subprocess
import sys
import threading

import pytest

from rag.cli import main
from rag.config import Config
from rag.errors import IndexBusyError
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.indexing.library import add, list_articles, remove
from rag.indexing.lock import lock_path, writing
from rag.indexing.update import update
from tests.conftest import CORPUS, REPO, without_timings
from tests.fakes import HashEmbedder

CONFIG = Config(embedder="hash-embedder")
HOLDER = """
import sys
from rag.indexing.lock import writing
with writing(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""
WRITER = """
import sys
from rag.config import Config
from rag.indexing.library import add
from tests.fakes import HashEmbedder
add([sys.argv[3]], sys.argv[1], sys.argv[2], Config(embedder="hash-embedder"), HashEmbedder())
"""
ZORBLAT = "date 2024-01-02\nThe Zorblat satellite reached orbit at 7:40 a.m. on Tuesday, its makers said.\n"


@pytest.fixture
def index_dir(corpus_dir, tmp_path):
    build_index(corpus_dir, tmp_path / "index", CONFIG, HashEmbedder(), progress=False)
    return tmp_path / "index"


@pytest.fixture
def holder(index_dir):
    """Another process holding the index's write lock until the test lets go."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(index_dir)], cwd=REPO, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    yield process
    if process.poll() is None:
        process.communicate("go\n", timeout=30)


def test_a_second_writer_with_no_wait_fails_at_once_and_changes_nothing(index_dir, corpus_dir, holder, tmp_path, capsys):
    with pytest.raises(IndexBusyError, match="another rag process is writing index .*try again"), \
            writing(index_dir, wait=False):
        pass
    article = tmp_path / "zorblat.txt"
    article.write_text(ZORBLAT)
    before = sorted(path.name for path in corpus_dir.iterdir())
    assert main(["add", str(article), "--corpus", str(corpus_dir), "--index", str(index_dir), "--no-wait"]) == 1
    assert "rag: error: another rag process is writing index" in capsys.readouterr().err
    assert main(["index", "--corpus", str(corpus_dir), "--index", str(index_dir), "--no-wait"]) == 1
    assert main(["remove", "000_8214d5b1d865915a", "--corpus", str(corpus_dir), "--index", str(index_dir),
                 "--no-wait"]) == 1
    assert sorted(path.name for path in corpus_dir.iterdir()) == before
    assert open_index(index_dir, CONFIG).generation == 1


def test_a_second_writer_waits_saying_so_then_goes_ahead(index_dir, corpus_dir, holder, tmp_path, caplog):
    article = tmp_path / "zorblat.txt"
    article.write_text(ZORBLAT)
    done = []
    with caplog.at_level(logging.WARNING, logger="rag"):
        writer = threading.Thread(target=lambda: done.append(add([article], corpus_dir, index_dir, CONFIG, HashEmbedder())))
        writer.start()
        writer.join(timeout=2)
        assert writer.is_alive() and not done  # waiting for the lock
        assert "another rag process is writing index" in caplog.text and "--no-wait" in caplog.text
        holder.communicate("go\n", timeout=30)
        writer.join(timeout=60)
    assert done and done[0].added == ("zorblat",)


@pytest.mark.slow  # three processes loading spaCy
def test_two_writers_at_once_both_land(index_dir, corpus_dir, tmp_path):
    articles = []
    for name in ("first", "second", "third"):
        articles.append(tmp_path / f"{name}.txt")
        articles[-1].write_text(f"date 2024-02-0{len(articles)}\nThe {name} story of the day is about a port strike.\n")
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(corpus_dir), str(index_dir), str(article)], cwd=REPO)
               for article in articles]
    assert [writer.wait(timeout=300) for writer in writers] == [0, 0, 0]
    index = open_index(index_dir, CONFIG)
    assert {"first", "second", "third"} <= set(index.store.content_hashes()) and index.generation == 4
    assert index.store.chunk_count() == len(index.vectors) == len(index.keywords) == index.manifest.chunks
    assert lock_path(index_dir).exists() and not list(tmp_path.glob(".index.building-*"))


def test_an_open_index_changed_by_another_writer_is_not_written_over(index_dir, corpus_dir):
    stale = open_index(index_dir, CONFIG)
    remove(["000_8214d5b1d865915a"], corpus_dir, index_dir, CONFIG)
    assert not stale.is_current()
    with pytest.raises(IndexBusyError, match="changed index .* since this one opened it"):
        update(stale, remove=["001_1847a96a2c4d2b8a"], config=CONFIG)
    assert len(list_articles(index_dir, config=CONFIG)) == 4


@pytest.fixture
def page_library(tmp_path, real_index_dir):
    import shutil

    from rag.archive import Archive

    shutil.copytree(CORPUS, tmp_path / "page" / "corpus")
    shutil.copytree(real_index_dir, tmp_path / "page" / "index")
    return Archive(tmp_path / "page" / "corpus", tmp_path / "page" / "index", Config(reader="extractive"))


def test_a_running_page_answers_from_the_new_index_after_a_commit_without_a_restart(page_library, tmp_path, real_embedder):
    question = "When did the Zorblat satellite reach orbit?"
    flagship = "How far did the March 2023 missiles fly?"
    before = page_library.qa("extractive", "")
    assert before.ask(question).abstained
    seen_before = before.ask(flagship).to_dict()
    article = tmp_path / "zorblat.txt"
    article.write_text(ZORBLAT)
    add([article], page_library.corpus_dir, page_library.index_dir, Config(), real_embedder)  # as `rag add` would

    after = page_library.qa("extractive", "")
    assert after is not before and after.index.generation == before.index.generation + 1
    assert {citation.doc_id for citation in after.ask(question).citations} == {"zorblat"}
    # a question already under way on the old index finishes there, whole
    assert without_timings(before.ask(flagship).to_dict()) == without_timings(seen_before)

    build_index(page_library.corpus_dir, page_library.index_dir, Config(), real_embedder, rebuild=True, progress=False)
    rebuilt = page_library.qa("extractive", "")
    assert rebuilt is not after and "zorblat" in rebuilt.index.store.content_hashes()
    assert without_timings(after.ask(flagship).to_dict()) == without_timings(seen_before)  # its files were swapped away
    assert page_library.qa("extractive", "") is rebuilt  # nothing changed since: nothing reloaded
