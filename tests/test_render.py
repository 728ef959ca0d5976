"""What the chat page shows: escaped article text, highlighted sentences, follow-ups, safe uploads."""

from datetime import date
from pathlib import Path

import pytest

from rag.conversation import is_follow_up, resolve_follow_up
from rag.errors import CorpusError
from rag.ingest.corpus import read_corpus
from rag.ingest.filing import add_article, remove_article
from rag.render import answer_markdown, markdown_text, sources_html
from rag.types import Answer, Chunk, Citation, Hit

TEXT = 'Intro. <script>alert("x")</script> The missiles flew 450 km. Outro.'


def _answer(abstained=False):
    chunk = Chunk("evil#0", "evil", 10, 10 + len(TEXT), TEXT)
    start = TEXT.index("The missiles")
    citation = Citation("evil", "<b>Title</b>", date(2021, 3, 25), "evil#0", 10 + start,
                        10 + start + len("The missiles flew 450 km."), "The missiles flew 450 km.")
    hit = Hit(chunk=chunk, score=1.0, title="<b>Title</b>", date=date(2021, 3, 25))
    if abstained:
        return Answer("q", "The archive does not say.", True, (), (hit,))
    return Answer("q", "450 km <img src=x onerror=alert(1)>", False, (citation,), (hit,))


def test_sources_escape_article_html_and_highlight_the_sentence():
    rendered = sources_html(_answer())
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<b>Title</b>" not in rendered and "&lt;b&gt;Title&lt;/b&gt;" in rendered
    assert "<mark>The missiles flew 450 km.</mark>" in rendered
    assert "2021-03-25" in rendered and "<code>evil</code>" in rendered


def test_chat_message_has_numbered_markers_and_escaped_text():
    message = answer_markdown(_answer())
    assert message.splitlines()[0].endswith("[1]") and "<img" not in message and "&lt;img" in message
    assert "[1] &lt;b&gt;Title&lt;/b&gt; (2021-03-25, `evil`)" in message
    assert markdown_text("a *b* [c](d)") == r"a \*b\* \[c\]\(d\)"


def test_abstentions_are_shown_as_such():
    answer = _answer(abstained=True)
    assert answer_markdown(answer).startswith("**Not in the archive.**")
    assert "withheld" in sources_html(answer) and "<mark>" not in sources_html(answer)


@pytest.mark.parametrize(
    "question, previous, expected",
    [
        ("and how high did they fly?", "How far did the March 2023 missiles fly?",
         "How high did they fly? (March 2023 missiles)"),
        ("Where did they land?", "How far did the Kusong missiles fly?", "Where did they land? (Kusong missiles fly)"),
        ("Who is the spokesman for INDOPACOM?", "How far did the missiles fly?", "Who is the spokesman for INDOPACOM?"),
        ("and where?", None, "and where?"),  # nothing to resolve against
    ],
)
def test_follow_ups_borrow_the_previous_subject(question, previous, expected):
    assert resolve_follow_up(question, previous) == expected


def test_follow_up_detection():
    assert is_follow_up("And what about Japan?") and is_follow_up("how far did it go?")
    assert not is_follow_up("How far did the missiles launched from Kusong fly?")


def _upload(tmp_path, data: bytes) -> Path:
    """An uploaded file as the browser leaves it: somewhere outside the corpus."""
    incoming = tmp_path.parent / f"{tmp_path.name}-incoming"
    incoming.mkdir(exist_ok=True)
    (incoming / "upload").write_bytes(data)
    return incoming / "upload"


@pytest.mark.parametrize(
    "filename, saved_as",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("my article (final).html", "my_article_final_.html"),
        (".hidden.txt", "hidden.txt"),
    ],
)
def test_uploads_get_safe_names_inside_the_corpus(tmp_path, filename, saved_as):
    path = add_article(tmp_path, _upload(tmp_path, b"North Korea fired two missiles."), filename)
    assert path == tmp_path.resolve() / saved_as and path.read_bytes() == b"North Korea fired two missiles."
    assert [p.name for p in tmp_path.iterdir()] == [saved_as]  # no staging files left behind


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("notes.pdf", b"%PDF", "not a readable PDF"),
        ("notes.docx", b"PK", "only articles .*.txt"),
        ("big.txt", b"x" * 5_000_001, "over the 5,000,000-byte limit"),
        ("latin.txt", "Caf\xe9".encode("latin-1"), "not UTF-8"),
        ("image.txt", b"\x89PNG\x00\x00", "binary"),
        ("blank.md", b"  \n", "empty"),
        (".txt", b"text", "only articles"),
    ],
)
def test_unfit_uploads_are_refused_and_nothing_is_written(tmp_path, filename, data, message):
    with pytest.raises(CorpusError, match=message):
        add_article(tmp_path, _upload(tmp_path, data), filename)
    assert list(tmp_path.iterdir()) == []


def test_remove_article(corpus_dir):
    remove_article(corpus_dir, "004_56a94f60d051a7dc")
    assert "004_56a94f60d051a7dc" not in {d.doc_id for d in read_corpus(corpus_dir)[0]}
    with pytest.raises(CorpusError, match="no article"):
        remove_article(corpus_dir, "../corpus")


def test_an_answer_prints_as_a_person_reads_it_and_its_repr_is_one_short_line():
    answer = _answer()
    printed = str(answer).splitlines()
    assert printed[0] == answer.text and printed[2] == "[1] <b>Title</b> (evil, 2021-03-25)"
    assert printed[3] == "    \u201cThe missiles flew 450 km.\u201d"
    assert printed[-1].startswith("(") and "probability right 0.00" in printed[-1]
    assert repr(answer) == "Answer(text='450 km <img src=x onerror=alert(1)>', probability=0.00, citations=('evil',))"
    assert TEXT not in repr(answer)  # the passages read are not dumped


def test_rag_ask_prints_the_answer_as_str_does(real_index_dir, capsys):
    from rag import cli, load

    assert cli.main(["ask", "--index", str(real_index_dir), "--reader", "extractive",
                     "What did Seoul call the launch?"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    expected = str(load(real_index_dir).ask("What did Seoul call the launch?")).splitlines()
    assert printed[:-1] == expected[:-1] and "grave provocation" in printed[0]  # the last line holds the timing
