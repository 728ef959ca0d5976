"""The `rag` command's arguments: one function per subcommand."""

from __future__ import annotations

import argparse

from rag.config import READER_CHOICES
from rag.registry import KEYWORD_STORES, names

EXAMPLES = """examples:
  rag index                                   build or update index/ from corpus/
  rag add ~/Downloads/story.html reports/     copy articles into corpus/ and index just those
  rag remove 004_56a94f60d051a7dc             delete an article from corpus/ and the index
  rag list --since 2023-01-01 --json          what the index holds
  rag ask "How far did the March 2023 missiles fly?"
  rag ask "What did Seoul call the launch?" --json
  rag ask - --json < questions.txt            one question per line, JSON lines out
  rag eval                                    score eval/questions.jsonl, report in eval/results/
  rag eval --squad ../shared/bench/squad2-dev-subset.json
  rag calibrate --squad ../shared/bench/squad2-train-10-articles.json   refit the answer ranker and answerability
  rag models pull deepset/tinyroberta-squad2  download a trained reader's model (the one command that downloads)
  rag models list                             the models on this machine
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Question answering with citations over a local news archive. Runs offline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in (_index, _add, _remove, _list, _ask, _eval, _calibrate, _models, _serve):
        add_command(commands)
    return parser


def _index(commands) -> None:
    index = commands.add_parser("index", help="build the index, or update it with new, changed and deleted articles")
    index.add_argument("--corpus", default="corpus", help="folder of .txt, .md and .html articles (default: corpus)")
    index.add_argument("--index", default="index", help="where the index lives (default: index)")
    index.add_argument("--rebuild", action="store_true", help="embed every article again instead of updating")
    index.add_argument("--compact", action="store_true",
                       help="write the whole index again, reusing every vector: drops what updates removed and merges "
                            "their segments (updates otherwise write in place and compact by themselves now and then)")
    index.add_argument("--embedder", help="sentence-transformers model name or path, with @int8 to run its int8 "
                       "ONNX export (default: all-MiniLM-L6-v2@int8; all-MiniLM-L6-v2 embeds on PyTorch float32)")
    index.add_argument("--store", metavar="STORE",
                       help="where vectors live: faiss (default for a new index: exact below 200,000 chunks, "
                            "approximate above), faiss-flat (always exact), faiss-ivf (always approximate), "
                            "milvus-lite (embedded Milvus), or a Milvus server URI such as milvus://localhost:19530 "
                            "(default: as the index was built)")
    index.add_argument("--keywords", choices=names(KEYWORD_STORES),
                       help="where BM25 keywords live: tantivy (files in the index folder) or milvus-bm25 (inside "
                            "Milvus, beside Milvus vectors); default: as the index was built, milvus-bm25 on a Milvus "
                            "server, tantivy otherwise")
    index.add_argument("--cluster", metavar="ADDRESS",
                       help="read, split, embed and tag the articles on a Ray cluster: ray://HOST:10001 (a running "
                            "cluster's client address; every node needs rag installed and the corpus at the same path) "
                            "or local (a Ray started here); needs the cluster extra (pip install -e '.[cluster]')")
    index.add_argument("--workers", type=int, metavar="N",
                       help="Ray workers preparing articles with --cluster (default: the cluster's CPUs)")
    _field_option(index)
    index.add_argument("--json", action="store_true", help="print the build report as JSON")
    _quiet_option(index)
    _no_wait_option(index)


def _add(commands) -> None:
    add = commands.add_parser("add", help="copy article files or folders into the corpus and index just those")
    add.add_argument("paths", nargs="+", metavar="PATH",
                     help="article files (text, Markdown, HTML, JSONL/CSV dumps, RSS/Atom feeds, PDFs) or folders "
                          "of them")
    _corpus_change_options(add)
    _field_option(add)
    _quiet_option(add)


def _remove(commands) -> None:
    remove = commands.add_parser("remove", help="delete articles from the corpus and the index")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="doc ids, as `rag list` shows them")
    _corpus_change_options(remove)


def _list(commands) -> None:
    listing = commands.add_parser(
        "list", help="list the articles the index holds: doc id, date, source, chunks, title, near-duplicate group")
    listing.add_argument("--index", default="index", help="index folder (default: index)")
    listing.add_argument("--since", help="only articles dated on or after YYYY-MM-DD")
    listing.add_argument("--until", help="only articles dated on or before YYYY-MM-DD")
    listing.add_argument("--json", action="store_true", help="print a JSON list")


def _ask(commands) -> None:
    ask = commands.add_parser("ask", help="answer a question (or '-' for one question per line on stdin)")
    ask.add_argument("question", help="the question, or - to read questions from stdin")
    ask.add_argument("--index", default="index", help="index folder (default: index)")
    ask.add_argument("--top-k", type=int, help="passages to read (default: 5)")
    ask.add_argument("--since", help="only articles dated on or after YYYY-MM-DD (undated articles are left out)")
    ask.add_argument("--until", help="only articles dated on or before YYYY-MM-DD (undated articles are left out)")
    _reader_options(ask)
    ask.add_argument("--abstain-threshold", type=float, metavar="X",
                     help="withhold answers whose probability of being right is below X, 0 to 1 (default: the "
                          "threshold `rag calibrate` chose)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON lines with -)")


def _eval(commands) -> None:
    evaluate = commands.add_parser("eval", help="measure answers, retrieval, citations, abstention and latency")
    evaluate.add_argument("file", nargs="?", help="question set, JSON lines (default: eval/questions.jsonl)")
    evaluate.add_argument("--squad", help="a SQuAD 2.0 JSON file, evaluated over a temporary index of its paragraphs")
    evaluate.add_argument("--calibrate", metavar="FILE",
                          help="first choose the abstention threshold that maximises accuracy on FILE, then use it")
    evaluate.add_argument("--corpus", help="corpus the question set is about (default: the corpus/ folder beside "
                                           "the question file if there is one, else corpus/)")
    evaluate.add_argument("--index", help="index of that corpus (default: index/ for corpus/, a temporary one for "
                                          "another corpus)")


    _reader_options(evaluate)
    evaluate.add_argument("--top-k", type=int, help="passages per question (default: 5)")
    evaluate.add_argument("--abstain-threshold", type=float, metavar="X",
                          help="withhold answers below X (default: the threshold `rag calibrate` chose)")
    evaluate.add_argument("--split", choices=("all", "train", "test"), default="all",
                          help="only the questions of this split (test: held out from `rag calibrate`; default: all)")
    evaluate.add_argument("--out", default="eval/results", help="where report.md, results.json and charts go")
    evaluate.add_argument("--min-accuracy", type=float, metavar="X", help="exit with 1 when strict accuracy is below X")
    evaluate.add_argument("--json", action="store_true", help="print the summaries as JSON")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")


def _calibrate(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate", help="fit the answer ranker and answerability model on SQuAD training data and an eval split")
    calibrate.add_argument("--squad", default="../shared/bench/squad2-train-10-articles.json",
                           help="SQuAD 2.0 training file (default: ../shared/bench/squad2-train-10-articles.json)")
    calibrate.add_argument("--eval-set", action="append", metavar="FILE",
                           help="question set whose split=train questions are also learned from; repeatable "
                                "(default: eval/questions.jsonl and eval/news/news-questions.jsonl; '' for none)")
    calibrate.add_argument("--corpus", help="corpus the eval sets are about (default: the corpus/ folder beside "
                                            "each file if there is one, else corpus/)")

    calibrate.add_argument("--out", help="where to write the weights (default: the package's rag/answers/weights.json)")
    calibrate.add_argument("--json", action="store_true", help="print what was fitted as JSON")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bars")


def _serve(commands) -> None:
    serve = commands.add_parser("serve", help="serve the chat page (builds the index first if it is missing)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1, this machine only; any other needs --auth or "
                            "--insecure)")
    serve.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    serve.add_argument("--share", action="store_true",
                       help="also create a public Gradio share link (needs --auth or --insecure)")
    serve.add_argument("--auth", metavar="USER:PASSWORD",
                       help="ask visitors for this user name and password (default: $RAG_AUTH; none on this machine "
                            "only)")
    serve.add_argument("--insecure", action="store_true",
                       help="serve beyond this machine without a password (anyone who reaches the port can read and "
                            "change the archive)")
    serve.add_argument("--concurrency", type=int, default=2, metavar="N",
                       help="questions answered at once; more queue (default: 2, one per core of a laptop)")
    serve.add_argument("--queue-size", type=int, default=256, metavar="N",
                       help="questions waiting beyond those; past it a visitor is told the page is busy (default: 256)")
    serve.add_argument("--index", default="index", help="index folder (default: index)")
    serve.add_argument("--corpus", default="corpus", help="corpus folder (default: corpus)")


def _models(commands) -> None:
    models = commands.add_parser("models", help="download trained reader models (rag models pull), list them")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    pull = actions.add_parser(
        "pull", help="download a model from the Hugging Face hub (HF_ENDPOINT: another hub; HF_TOKEN: gated models)")
    pull.add_argument("name", help="hub model name, e.g. deepset/tinyroberta-squad2 (qa) or google/flan-t5-base "
                                   "(seq2seq)")
    pull.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    listing = actions.add_parser("list", help="the models pulled into the models folder")
    for parser in (pull, listing):
        parser.add_argument("--models-dir", help="where models live (default: models, or RAG_MODELS_DIR)")
        parser.add_argument("--json", action="store_true", help="print JSON")
    pull.add_argument("--quiet", action="store_true", help="no progress bars")


def _reader_options(parser: argparse.ArgumentParser) -> None:
    """The options `ask` and `eval` share to choose a reader."""
    parser.add_argument("--reader", choices=READER_CHOICES,
                        help="auto (default): the best reader whose model is on disk (qa, then seq2seq), else "
                             "extractive; it says which")
    parser.add_argument("--model", help="the reader's model: a name pulled with rag models pull, a checkpoint "
                                        "directory or a cached model id (alone: the reader that model serves)")


def _field_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--field", action="append", type=_record_field, metavar="FIELD=COLUMN", dest="fields",
                        help="read a dump's FIELD (title, text, date, url, source, author, id) from COLUMN, e.g. "
                             "--field text=story_body; repeat for several; kept in the index for later runs "
                             "(default: the usual names: text/body/content, title/headline, date/published...)")


def _record_field(value: str) -> tuple[str, str]:
    name, _, column = value.partition("=")
    if not name.strip() or not column.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not FIELD=COLUMN, e.g. text=story_body")
    return name.strip().lower(), column.strip()


def _corpus_change_options(parser: argparse.ArgumentParser) -> None:
    """The options `rag add` and `rag remove` share."""
    parser.add_argument("--corpus", default="corpus", help="corpus folder (default: corpus)")
    parser.add_argument("--index", default="index",
                        help="index folder (default: index; `rag add` builds it if missing)")
    parser.add_argument("--json", action="store_true", help="print what was done as JSON")
    _no_wait_option(parser)


def _quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")


def _no_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-wait", action="store_true",
                        help="fail at once if another rag process is writing the index (default: wait for it)")
