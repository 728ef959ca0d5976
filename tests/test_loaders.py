"""Article formats (rag.ingest.loaders): dumps, feeds and PDFs, each read by its loader, bad records
reported with where they are and skipped."""

import shutil
from datetime import date
from pathlib import Path

from rag.config import Config
from rag.indexing.build import build_index
from rag.indexing.index import open_index
from rag.ingest.corpus import read_corpus, read_file
from rag.ingest.loaders import loader_for
from rag.registry import LOADERS
from tests.fakes import HashEmbedder

FORMATS = Path(__file__).parent / "fixtures" / "formats"


def _articles(name: str):
    documents, skipped = read_file(FORMATS / name)
    return {document.doc_id: document for document in documents}, [str(s) for s in skipped]


def test_a_jsonl_dump_gives_one_article_per_record_by_common_field_names_and_reports_bad_lines():
    articles, skipped = _articles("dump.jsonl")
    assert set(articles) == {"dump-a1", "dump-a2"}
    first = articles["dump-a1"]
    assert (first.title, first.date, first.source, first.url) == (
        "Seoul reports two launches", date(2022, 1, 27), "Wire", "https://example.com/a1")
    assert first.text.startswith("North Korea fired two ballistic missiles on Thursday")
    assert articles["dump-a2"].source == "Daily" and articles["dump-a2"].date == date(2022, 2, 14)
    assert any("line 3" in s and "not a JSON object" in s for s in skipped)
    assert any("record 4" in s and "no article text" in s for s in skipped)


def test_a_csv_dump_reads_quoted_fields_and_any_date_style_and_reports_a_short_row():
    articles, skipped = _articles("dump.csv")
    assert set(articles) == {"dump-c1", "dump-c3"}
    assert articles["dump-c1"].text.startswith("The rocket flew 420 kilometers, officials said")
    assert articles["dump-c3"].date == date(2023, 3, 21) and articles["dump-c3"].source == "Herald"
    assert skipped and "line 3" in skipped[0] and "fewer fields" in skipped[0]


def test_rss_and_atom_feeds_give_one_article_per_entry_with_its_html_as_text():
    rss, _ = _articles("news.rss")
    assert set(rss) == {"news-r1", "news-r2"}
    assert rss["news-r1"].text == "Two missiles landed in the East Sea on Monday."
    assert (rss["news-r1"].title, rss["news-r1"].date, rss["news-r1"].source) == (
        "Missiles land in the East Sea", date(2023, 3, 27), "Peninsula Wire")
    atom, _ = _articles("news.atom")
    [entry] = atom.values()
    assert entry.text == "The missiles flew 450 kilometers before landing." and entry.date == date(2021, 3, 25)


def test_a_pdf_gives_its_text_title_and_creation_date(tmp_path):
    articles, _ = _articles("report.pdf")
    assert articles["report"].title == "Missile report" and articles["report"].date == date(2022, 3, 6)
    assert "600 kilometers" in articles["report"].text
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\nnot really a pdf")
    documents, skipped = read_file(scan)
    assert documents == [] and "PDF" in skipped[0].reason


def test_every_suffix_has_exactly_one_loader():
    suffixes = [suffix for loader in LOADERS for suffix in loader.spellings]
    assert len(suffixes) == len(set(suffixes))
    assert loader_for(Path("x.JSONL")) is not None and loader_for(Path("x.docx")) is None


def test_a_corpus_of_mixed_formats_is_indexed_and_searchable(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(FORMATS, corpus)
    documents, skipped = read_corpus(corpus)
    assert len(documents) == 9 and len(skipped) == 3
    config = Config(embedder="hash-embedder")
    build_index(corpus, tmp_path / "index", config, HashEmbedder(), progress=False)
    index = open_index(tmp_path / "index", config)
    found = index.keywords.search("satellite orbit", 3)[0].tolist()
    assert index.store.chunks(found)[0].doc_id == "dump-c3"


def test_a_news_page_keeps_the_article_and_drops_navigation_ads_related_links_and_comments():
    articles, _ = _articles("news_page.html")
    page = articles["news_page"]
    assert (page.title, page.date, page.source) == ("Missiles fly 420 km in Kusong test", date(2021, 3, 25), "Peninsula Daily")
    assert page.author == "Kim Min-ji"
    assert "The missiles flew about 420 kilometers" in page.text and "open to diplomacy" in page.text
    for boilerplate in ("Subscribe now", "ADVERTISEMENT", "celebrity diets", "fake news", "All rights reserved", "window.ads"):
        assert boilerplate not in page.text


def test_dumps_report_the_bytes_they_stream_for_the_progress_bar():
    for name in ("dump.jsonl", "dump.csv"):
        read = []
        read_file(FORMATS / name, advance=read.append)
        assert len(read) > 1 and sum(read) == (FORMATS / name).stat().st_size


def test_a_repeated_doc_id_is_reported_and_only_its_first_article_kept(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wire.jsonl").write_text('{"id": 0, "text": "First story."}\n{"id": 1, "text": "Second story."}\n'
                                       '{"id": 1, "text": "Same id again."}\n')
    documents, skipped = read_corpus(corpus)
    assert [d.doc_id for d in documents] == ["wire-0", "wire-1"] and documents[1].text == "Second story."
    assert len(skipped) == 1 and "doc id wire-1 is also" in skipped[0].reason and skipped[0].path.endswith(":3")


ODD_DUMP = ('{"uid": "x1", "story_body": "Missiles flew 300 km on Tuesday.", "pub_ts": "2024-02-01", "writer": "Lee"}\n'
            '{"uid": "x2", "story_body": "Talks resumed.", "pub_ts": "2024-02-02", "authors": ["Park", "Choi"]}\n')


def test_a_dump_with_unusual_column_names_is_read_through_field_overrides(tmp_path):
    dump = tmp_path / "odd.jsonl"
    dump.write_text(ODD_DUMP)
    articles, skipped = read_file(dump)
    assert articles == [] and "--field text=COLUMN" in skipped[0].reason
    articles, skipped = read_file(dump, fields={"text": "story_body", "date": "pub_ts"})
    assert skipped == [] and [(a.doc_id, a.date, a.author) for a in articles] == [
        ("odd-x1", date(2024, 2, 1), "Lee"), ("odd-x2", date(2024, 2, 2), "Park, Choi")]


def test_a_csv_dump_with_unusual_column_names_is_read_through_field_overrides(tmp_path):
    dump = tmp_path / "odd.csv"
    dump.write_text("uid,story_body,pub_ts\nx1,Missiles flew 300 km on Tuesday.,2024-02-01\n")
    assert read_file(dump)[0] == []
    articles, skipped = read_file(dump, fields={"text": "story_body", "date": "pub_ts"})
    assert skipped == [] and [(a.doc_id, a.date, a.text) for a in articles] == [
        ("odd-x1", date(2024, 2, 1), "Missiles flew 300 km on Tuesday.")]


def test_field_overrides_are_kept_in_the_index_for_later_builds(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "odd.jsonl").write_text(ODD_DUMP)
    config = Config(embedder="hash-embedder", record_fields=(("text", "story_body"),))
    assert build_index(corpus, tmp_path / "index", config, HashEmbedder(), progress=False).added == ("odd-x1", "odd-x2")
    again = build_index(corpus, tmp_path / "index", Config(embedder="hash-embedder"), HashEmbedder(), progress=False)
    assert again.unchanged == ("odd-x1", "odd-x2") and again.removed == ()


def test_a_link_leading_out_of_the_corpus_is_refused_and_reported(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "inside.txt").write_text("Talks resumed in Geneva.\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("Private notes that must never be served.\n")
    (corpus / "leak.txt").symlink_to(secret)
    (corpus / "alias.txt").symlink_to(corpus / "inside.txt")  # a link within the corpus is fine
    documents, skipped = read_corpus(corpus)
    assert sorted(document.doc_id for document in documents) == ["alias", "inside"]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [
        ("leak.txt", "a link to a file outside the corpus; copy the file in instead")]


def test_an_article_longer_than_the_limit_is_skipped_with_the_reason(tmp_path):
    from rag.ingest.corpus import MAX_ARTICLE_CHARS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "short.txt").write_text("Talks resumed in Geneva.\n")
    (corpus / "huge.txt").write_text("word " * (MAX_ARTICLE_CHARS // 5 + 1))  # no sentence breaks at all
    documents, skipped = read_corpus(corpus)
    assert [document.doc_id for document in documents] == ["short"]
    assert [Path(s.path).name for s in skipped] == ["huge.txt"]
    assert "over the 2,000,000-character limit for one article; split it" in skipped[0].reason
