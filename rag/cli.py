"""The `rag` command: a thin layer over the Python API. Heavy libraries load only when needed."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap

from rag.config import READERS, Config
from rag.errors import InvalidInputError, RagError
from rag.locking import writing

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
"""


def from_env(environ=None) -> Config:
    """The default config with overrides from ``RAG_EMBEDDER``, ``RAG_READER``, ``RAG_MODEL``
    (read here, at the edge, and nowhere in the library)."""
    environ = os.environ if environ is None else environ
    return Config().replace(
        embedder=environ.get("RAG_EMBEDDER"), reader=environ.get("RAG_READER"), seq2seq_model=environ.get("RAG_MODEL"),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Question answering with citations over a local news archive. Runs offline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
                       help="where vectors live: faiss (default for a new index: exact below 200,000 chunks, approximate "
                            "above), faiss-flat (always exact), faiss-ivf (always approximate), milvus-lite (embedded Milvus), or a Milvus server URI such as "
                            "milvus://localhost:19530 (default: as the index was built)")
    index.add_argument("--keywords", choices=("tantivy", "milvus-bm25"),
                       help="where BM25 keywords live: tantivy (files in the index folder) or milvus-bm25 (inside Milvus, "
                            "beside Milvus vectors); default: as the index was built, milvus-bm25 on a Milvus server, "
                            "tantivy otherwise")
    _field_option(index)
    index.add_argument("--json", action="store_true", help="print the build report as JSON")
    index.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")
    _no_wait_option(index)

    add = commands.add_parser("add", help="copy article files or folders into the corpus and index just those")
    add.add_argument("paths", nargs="+", metavar="PATH",
                     help="article files (text, Markdown, HTML, JSONL/CSV dumps, RSS/Atom feeds, PDFs) or folders of them")
    _corpus_change_options(add)
    _field_option(add)
    add.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors")

    remove = commands.add_parser("remove", help="delete articles from the corpus and the index")
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="doc ids, as `rag list` shows them")
    _corpus_change_options(remove)

    listing = commands.add_parser("list", help="list the articles the index holds: doc id, date, source, chunks, title, near-duplicate group")
    listing.add_argument("--index", default="index", help="index folder (default: index)")
    listing.add_argument("--since", help="only articles dated on or after YYYY-MM-DD")
    listing.add_argument("--until", help="only articles dated on or before YYYY-MM-DD")
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    ask = commands.add_parser("ask", help="answer a question (or '-' for one question per line on stdin)")
    ask.add_argument("question", help="the question, or - to read questions from stdin")
    ask.add_argument("--index", default="index", help="index folder (default: index)")
    ask.add_argument("--top-k", type=int, help="passages to read (default: 5)")
    ask.add_argument("--since", help="only articles dated on or after YYYY-MM-DD (undated articles are left out)")
    ask.add_argument("--until", help="only articles dated on or before YYYY-MM-DD (undated articles are left out)")
    ask.add_argument("--reader", choices=READERS, help="auto (default): seq2seq if its model is on disk, else extractive")
    ask.add_argument("--model", help="seq2seq checkpoint directory or cached model id (implies --reader seq2seq)")
    ask.add_argument("--abstain-threshold", type=float, metavar="X",
                     help="withhold answers whose confidence is below X, 0 to 1 (default: 0.5)")
    ask.add_argument("--json", action="store_true", help="print JSON (JSON lines with -)")

    evaluate = commands.add_parser("eval", help="measure answers, retrieval, citations, abstention and latency")
    evaluate.add_argument("file", nargs="?", help="question set, JSON lines (default: eval/questions.jsonl)")
    evaluate.add_argument("--squad", help="a SQuAD 2.0 JSON file, evaluated over a temporary index of its paragraphs")
    evaluate.add_argument("--calibrate", metavar="FILE",
                          help="first choose the abstention threshold that maximises accuracy on FILE, then use it")
    evaluate.add_argument("--index", default="index", help="index of the corpus the question set is about")
    evaluate.add_argument("--corpus", default="corpus", help="corpus to build that index from if it is missing")
    evaluate.add_argument("--reader", choices=READERS, help="reader to evaluate (default: auto)")
    evaluate.add_argument("--model", help="seq2seq checkpoint directory (implies --reader seq2seq)")
    evaluate.add_argument("--top-k", type=int, help="passages per question (default: 5)")
    evaluate.add_argument("--abstain-threshold", type=float, metavar="X", help="withhold answers below X (default: 0.5)")
    evaluate.add_argument("--split", choices=("all", "train", "test"), default="all",
                          help="only the questions of this split (test: held out from `rag calibrate`; default: all)")
    evaluate.add_argument("--out", default="eval/results", help="where report.md, results.json and charts go")
    evaluate.add_argument("--min-accuracy", type=float, metavar="X", help="exit with 1 when accuracy is below X")
    evaluate.add_argument("--json", action="store_true", help="print the summaries as JSON")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")

    calibrate = commands.add_parser(
        "calibrate", help="fit the answer ranker and answerability model on SQuAD training data and an eval split")
    calibrate.add_argument("--squad", default="../shared/bench/squad2-train-10-articles.json",
                           help="SQuAD 2.0 training file (default: ../shared/bench/squad2-train-10-articles.json)")
    calibrate.add_argument("--eval-set", default="eval/questions.jsonl",
                           help="question set whose split=train questions are also learned from ('' for none)")
    calibrate.add_argument("--corpus", default="corpus", help="corpus the eval set is about (default: corpus)")
    calibrate.add_argument("--out", help="where to write the weights (default: the package's rag/answers/weights.json)")
    calibrate.add_argument("--json", action="store_true", help="print what was fitted as JSON")
    calibrate.add_argument("--quiet", action="store_true", help="no progress bars")

    serve = commands.add_parser("serve", help="serve the chat page (builds the index first if it is missing)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1, this machine only; any other needs --auth or --insecure)")
    serve.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    serve.add_argument("--share", action="store_true", help="also create a public Gradio share link (needs --auth or --insecure)")
    serve.add_argument("--auth", metavar="USER:PASSWORD",
                       help="ask visitors for this user name and password (default: $RAG_AUTH; none on this machine only)")
    serve.add_argument("--insecure", action="store_true",
                       help="serve beyond this machine without a password (anyone who reaches the port can read and change the archive)")
    serve.add_argument("--concurrency", type=int, default=2, metavar="N",
                       help="questions answered at once; more queue (default: 2, one per core of a laptop)")
    serve.add_argument("--queue-size", type=int, default=256, metavar="N",
                       help="questions waiting beyond those; past it a visitor is told the page is busy (default: 256)")
    serve.add_argument("--index", default="index", help="index folder (default: index)")
    serve.add_argument("--corpus", default="corpus", help="corpus folder (default: corpus)")
    return parser


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
    parser.add_argument("--index", default="index", help="index folder (default: index; `rag add` builds it if missing)")
    parser.add_argument("--json", action="store_true", help="print what was done as JSON")
    _no_wait_option(parser)


def _no_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-wait", action="store_true",
                        help="fail at once if another rag process is writing the index (default: wait for it)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        commands = {"index": _index, "add": _add, "remove": _remove, "list": _list, "ask": _ask, "eval": _eval,
                    "calibrate": _calibrate, "serve": _serve}
        return commands[args.command](args)
    except RagError as error:
        print(f"rag: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted; the previous index, if any, is unchanged", file=sys.stderr)
        return 130


def _index(args) -> int:
    from rag.build import build_index

    config = from_env().replace(embedder=args.embedder, vector_store=args.store, keyword_store=args.keywords,
                                record_fields=tuple(args.fields) if args.fields else None)
    with writing(args.index, wait=not args.no_wait):
        report = build_index(args.corpus, args.index, config, rebuild=args.rebuild, compact=args.compact,
                             progress=not args.quiet)
    for skipped in report.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    if args.json:
        summary = {key: list(value) if isinstance(value, tuple) else value for key, value in vars(report).items()}
        summary["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(f"Indexed {args.corpus} into {args.index}: {report.summary()}")
    return 0


def _add(args) -> int:
    from rag.library import add

    config = from_env().replace(record_fields=tuple(args.fields) if args.fields else None)
    with writing(args.index, wait=not args.no_wait):
        change = add(args.paths, args.corpus, args.index, config, progress=not args.quiet and not args.json)
    return _report_change(change, "Added", args)


def _remove(args) -> int:
    from rag.library import remove

    with writing(args.index, wait=not args.no_wait):
        change = remove(args.doc_ids, args.corpus, args.index, from_env())
    return _report_change(change, "Removed", args)


def _report_change(change, verb: str, args) -> int:
    for skipped in change.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    if args.json:
        print(json.dumps({"doc_ids": list(change.doc_ids), "chunks": change.chunks,
                          "skipped": [{"path": s.path, "reason": s.reason} for s in change.skipped]}, indent=2))
    elif not getattr(args, "quiet", False):
        done = f"{verb} {len(change.doc_ids)} article(s)" + (f": {', '.join(change.doc_ids)}" if change.doc_ids else "")
        print(f"{done}; the index holds {change.chunks} chunks" if change.doc_ids else done)
    return 0 if change.doc_ids or not change.skipped else 1


def _list(args) -> int:
    from rag.library import list_articles

    listings = list_articles(args.index, args.since, args.until, from_env())
    if args.json:
        print(json.dumps([listing.to_dict() for listing in listings], indent=2, ensure_ascii=False))
        return 0
    for listing in listings:
        day = listing.date.isoformat() + ("~" if listing.date_evidence else " ") if listing.date else "undated"
        title = listing.title if len(listing.title) <= 80 else listing.title[:79] + "…"
        group = (f"  [copy of {listing.duplicate_of}]" if listing.duplicate_of else
                 f"  [also in {', '.join(listing.also_in)}]" if listing.also_in else "")
        print(f"{listing.doc_id}  {day:11}  {listing.source or '-':12}  {listing.chunks:3} chunks  {title}{group}")
    if any(listing.date_evidence for listing in listings):
        print("~ a date inferred from the article's text, not published with it (--json says from what)")
    print(f"{len(listings)} article(s)")
    return 0


def _answering_config(args):
    """The config `ask` and `eval` share: env defaults, then flags; --model alone means seq2seq."""
    reader = "seq2seq" if args.model and not args.reader else args.reader
    return from_env().replace(
        reader=reader, seq2seq_model=args.model, top_k=args.top_k, abstain_threshold=args.abstain_threshold
    )


def _ask(args) -> int:
    from rag.pipeline import load

    qa = load(args.index, _answering_config(args))
    if args.question != "-":
        answer = qa.ask(args.question, since=args.since, until=args.until)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else _render(answer))
        return 0

    failures = 0
    for line in _stdin_lines():
        if not line.strip():
            continue
        try:
            answer = qa.ask(line, since=args.since, until=args.until)
        except RagError as error:
            failures += 1
            if args.json:
                print(json.dumps({"question": line.strip()[:200], "error": str(error)}), flush=True)
            print(f"rag: error: {error}", file=sys.stderr)
            continue
        print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else _render(answer) + "\n", flush=True)
    return 1 if failures else 0


def _eval(args) -> int:
    import tempfile
    from pathlib import Path

    from rag.evaluation.runner import run

    config = _answering_config(args)
    paths = [args.file or "eval/questions.jsonl"] if args.file or not args.squad else []
    paths += [args.squad] if args.squad else []
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as workdir:
        evaluation = run(paths, config, Path(args.out), Path(workdir), Path(args.index), Path(args.corpus),
                         calibrate_on=args.calibrate, progress=not args.quiet, split=args.split)
    for skipped in evaluation.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    calibration = evaluation.calibration
    if args.json:
        print(json.dumps({"calibration": calibration, "sets": evaluation.summaries}, indent=2))
    else:
        if calibration:
            print(f"Calibrated on {calibration['set']}: abstention threshold {calibration['threshold']:.2f} "
                  f"(accuracy there {calibration['accuracy']:.3f}, {calibration['answered']} answered)")
        for name, summary in evaluation.summaries.items():
            print(_summary_line(name, summary))
        print(f"Report: {Path(args.out) / 'report.md'}")
    below = [name for name, s in evaluation.summaries.items()
             if args.min_accuracy is not None and s["strict_accuracy"] < args.min_accuracy]
    for name in below:
        print(f"rag: strict accuracy on {name} is {evaluation.summaries[name]['strict_accuracy']:.3f}, below --min-accuracy "
              f"{args.min_accuracy}", file=sys.stderr)
    return 1 if below else 0


def _calibrate(args) -> int:
    import tempfile
    from pathlib import Path

    from rag.answers.training import train
    from rag.config import DEFAULT_WEIGHTS

    squad = Path(args.squad)
    if not squad.is_file():
        raise RagError(f"SQuAD training file {squad} not found; pass --squad PATH (the repo's ../shared/bench has one)")
    eval_set = Path(args.eval_set) if args.eval_set else None
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as workdir:
        models = train(squad, eval_set, Path(args.corpus), Path(workdir), from_env(), out, progress=not args.quiet)
    models.save(out)
    if args.json:
        print(json.dumps({"weights": str(out), "trained_on": models.trained_on}, indent=2))
    else:
        fitted = models.trained_on
        print(f"Wrote {out}: ranker on {fitted['ranker_candidates']:,} candidates of {fitted['ranker_questions']:,} "
              f"questions, answerability on {fitted['answerability_rows']:,} askings, threshold {models.threshold:.2f}. "
              "Measure on held-out data: rag eval --split test; rag eval --squad ../shared/bench/squad2-dev-subset.json")
    return 0


def _serve(args) -> int:
    auth = args.auth or os.environ.get("RAG_AUTH")
    user, _, password = (auth or "").partition(":")
    if auth and not (user and password):
        raise InvalidInputError("--auth wants USER:PASSWORD, e.g. --auth desk:correct-horse")
    if (args.share or not _loopback(args.host)) and not (auth or args.insecure):
        raise InvalidInputError(f"serving on {'a share link' if args.share else args.host} lets anyone who reaches it read "
                                "and change the archive; add --auth USER:PASSWORD, or --insecure if that is intended")
    if args.concurrency < 1 or args.queue_size < 1:
        raise InvalidInputError("--concurrency and --queue-size must be at least 1")
    try:
        from rag.ui import launch
    except ImportError:
        raise RagError("the chat page needs gradio; run: .venv/bin/pip install -e '.[app]'") from None
    launch(args.host, args.port, args.share, args.index, args.corpus, from_env(), auth=(user, password) if auth else None,
           concurrency=args.concurrency, queue_size=args.queue_size)
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _summary_line(name: str, s: dict) -> str:
    r, a, t = s["retrieval"], s["abstention"], s["latency_ms"]
    return (
        f"{name}: strict accuracy {s['strict_accuracy']:.3f}, accuracy {s['accuracy']:.3f} (answerable {s['answerable_accuracy']:.3f}), EM {s['exact_match']:.3f}, "
        f"F1 {s['f1']:.3f}, recall@5 {r['recall@5']:.3f}, MRR {r['mrr']:.3f}, "
        f"citation precision {s['citations']['precision']:.3f}, abstention P/R/F1 {a['precision']:.3f}/"
        f"{a['recall']:.3f}/{a['f1']:.3f}, "
        f"p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms ({s['questions']} questions)"
    )


def _stdin_lines():
    """Lines of standard input as text; bytes that are not UTF-8 are kept (as surrogates) for the
    question's own check to report, so one bad line does not end the batch."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:
        yield from sys.stdin
        return
    for line in raw:
        yield line.decode("utf-8", errors="surrogateescape")


def _render(answer) -> str:
    lines = [answer.text, ""]
    for number, citation in enumerate(answer.citations, 1):
        matched = f"; matched by {citation.matched_date}" if citation.matched_date else ""
        copies = f"; also in {', '.join(citation.also_in)}" if citation.also_in else ""
        lines.append(f"[{number}] {citation.title[:90]} ({citation.doc_id}, {citation.date_text()}{matched}{copies})")
        lines.extend(textwrap.wrap(f"\u201c{citation.quote}\u201d", width=96, initial_indent="    ", subsequent_indent="    "))
    lines.append(f"({answer.reader} reader, probability right {answer.score:.2f}, {answer.timings_ms.get('total', 0):.0f} ms)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
