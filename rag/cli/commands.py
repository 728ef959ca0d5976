"""What each `rag` subcommand does, one function each, over the Python API. Heavy libraries load only
when a command needs them; settings come from the environment (``from_env``) and then the flags."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rag.config import Config
from rag.errors import InvalidInputError, RagError


def from_env(environ=None) -> Config:
    """The default config with overrides from ``RAG_EMBEDDER``, ``RAG_READER``, ``RAG_MODEL`` and
    ``RAG_MODELS_DIR`` (read here, at the edge, and nowhere in the library)."""
    from rag.readers import with_model

    environ = os.environ if environ is None else environ
    config = Config().replace(embedder=environ.get("RAG_EMBEDDER"), models_dir=environ.get("RAG_MODELS_DIR"))
    return with_model(config, environ.get("RAG_READER"), environ.get("RAG_MODEL"))


def index(args) -> int:
    from rag.indexing.build import build_index

    config = from_env().replace(embedder=args.embedder, vector_store=args.store, keyword_store=args.keywords,
                                record_fields=tuple(args.fields) if args.fields else None)
    report = build_index(args.corpus, args.index, config, rebuild=args.rebuild, compact=args.compact,
                         progress=not args.quiet, wait=not args.no_wait, cluster=args.cluster, workers=args.workers)
    for skipped in report.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    if args.json:
        summary = {key: list(value) if isinstance(value, tuple) else value for key, value in vars(report).items()}
        summary["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(f"Indexed {args.corpus} into {args.index}: {report.summary()}")
    return 0


def add(args) -> int:
    from rag.indexing import library

    config = from_env().replace(record_fields=tuple(args.fields) if args.fields else None)
    report = library.add(args.paths, args.corpus, args.index, config, progress=not args.quiet and not args.json,
                         wait=not args.no_wait)
    return _report_change([*report.added, *report.changed], report, "Added", args)


def remove(args) -> int:
    from rag.indexing import library

    report = library.remove(args.doc_ids, args.corpus, args.index, from_env(), wait=not args.no_wait)
    return _report_change(list(report.removed), report, "Removed", args)


def _report_change(doc_ids: list[str], report, verb: str, args) -> int:
    for skipped in report.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    if args.json:
        print(json.dumps({"doc_ids": doc_ids, "chunks": report.total_chunks,
                          "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped]}, indent=2))
    elif not getattr(args, "quiet", False):
        done = f"{verb} {len(doc_ids)} article(s)" + (f": {', '.join(doc_ids)}" if doc_ids else "")
        print(f"{done}; the index holds {report.total_chunks} chunks" if doc_ids else done)
    return 0 if doc_ids or not report.skipped else 1


def list_articles(args) -> int:
    from rag.indexing.library import list_articles

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


def _answering_config(args) -> Config:
    """The config `ask` and `eval` share: env defaults, then flags; --model alone chooses the reader its
    checkpoint serves (qa or seq2seq)."""
    from rag.readers import with_model

    return with_model(from_env(), args.reader, args.model).replace(top_k=args.top_k,
                                                                   abstain_threshold=args.abstain_threshold)


def ask(args) -> int:
    from rag.pipeline import load

    qa = load(args.index, _answering_config(args))
    if args.question != "-":
        answer = qa.ask(args.question, since=args.since, until=args.until)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else answer)
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
        print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else f"{answer}\n", flush=True)
    return 1 if failures else 0


def evaluate(args) -> int:
    import tempfile

    from rag.evaluation.runner import run

    config = _answering_config(args)
    paths = [args.file or "eval/questions.jsonl"] if args.file or not args.squad else []
    paths += [args.squad] if args.squad else []
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as workdir:
        evaluation = run(paths, config, Path(args.out), Path(workdir), args.index and Path(args.index),
                         args.corpus and Path(args.corpus), calibrate_on=args.calibrate, progress=not args.quiet,
                         split=args.split)

    for skipped in evaluation.skipped:
        print(f"rag: warning: {skipped}", file=sys.stderr)
    calibration = evaluation.calibration
    if args.json:
        sets = {name: summary.to_dict() for name, summary in evaluation.summaries.items()}
        print(json.dumps({"calibration": calibration, "sets": sets}, indent=2))
    else:
        if calibration:
            print(f"Calibrated on {calibration['set']}: abstention threshold {calibration['threshold']:.2f} "
                  f"(accuracy there {calibration['accuracy']:.3f}, {calibration['answered']} answered)")
        for name, summary in evaluation.summaries.items():
            print(_summary_line(name, summary))
            kinds = summary.by_type.items()
            print("  strict accuracy by kind: " + ", ".join(
                f"{kind} {group['strict_accuracy']:.2f} ({group['questions']})" for kind, group in kinds))
            if summary.without_gold_articles:
                print(f"  {summary.without_gold_articles} answerable questions name no gold article: any citation "
                      "counted for them")

        print(f"Report: {Path(args.out) / 'report.md'}")
    below = [name for name, s in evaluation.summaries.items()
             if args.min_accuracy is not None and s.strict_accuracy < args.min_accuracy]
    for name in below:
        print(f"rag: strict accuracy on {name} is {evaluation.summaries[name].strict_accuracy:.3f}, below "
              f"--min-accuracy {args.min_accuracy}", file=sys.stderr)
    return 1 if below else 0


# The question sets whose train splits `rag calibrate` learns from, each about the corpus beside it or corpus/.
DEFAULT_EVAL_SETS = ("eval/questions.jsonl", "eval/news/news-questions.jsonl")


def calibrate(args) -> int:

    import tempfile

    from rag.calibration import train
    from rag.config import DEFAULT_WEIGHTS

    squad = Path(args.squad)
    if not squad.is_file():
        raise RagError(f"SQuAD training file {squad} not found; pass --squad PATH (the repo's ../shared/bench has one)")
    eval_sets = [Path(name) for name in args.eval_set or DEFAULT_EVAL_SETS if name]
    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    with tempfile.TemporaryDirectory(prefix="rag-calibrate-") as workdir:
        models = train(squad, eval_sets, Path(workdir), from_env(), out, args.corpus and Path(args.corpus),
                       progress=not args.quiet)

    models.save(out)
    if args.json:
        print(json.dumps({"weights": str(out), "trained_on": models.trained_on}, indent=2))
    else:
        fitted = models.trained_on
        print(f"Wrote {out}: ranker on {fitted['ranker_candidates']:,} candidates of {fitted['ranker_questions']:,} "
              f"questions, answerability on {fitted['answerability_rows']:,} askings, threshold "
              f"{models.threshold:.2f}. Measure on held-out data: rag eval --split test; "
              "rag eval --squad ../shared/bench/squad2-dev-subset.json")
    return 0


def models(args) -> int:
    from rag.models.hub import DEFAULT_ENDPOINT, pull, pulled_models

    models_dir = Path(args.models_dir) if args.models_dir else Path(from_env().models_dir)
    if args.action == "pull":
        endpoint = os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
        model = pull(args.name, models_dir, endpoint, args.revision, os.environ.get("HF_TOKEN"),
                     progress=not args.quiet and not args.json)
        found = [model]
    else:
        found = pulled_models(models_dir)
    if args.json:
        print(json.dumps([model.to_dict() for model in found], indent=2))
        return 0
    for model in found:
        print(f"{model.name}  {model.kind} reader  {model.size / 1e6:,.1f} MB  revision {model.revision[:12]}  "
              f"{model.folder}")
        if args.action == "pull":
            for file in model.files:
                print(f"  {file.path}  {file.size:,} bytes  sha256 {file.sha256}")
            use = f"--reader {model.kind} --model {model.name}" if model.kind in ("qa", "seq2seq") else "--model DIR"
            print(f'Ask with it: rag ask "..." {use} (--reader auto picks it when it is the configured model)')
    if not found:
        print(f"No models in {models_dir}; download one with: rag models pull deepset/tinyroberta-squad2")
    return 0


def serve(args) -> int:

    auth = args.auth or os.environ.get("RAG_AUTH")
    user, _, password = (auth or "").partition(":")
    if auth and not (user and password):
        raise InvalidInputError("--auth wants USER:PASSWORD, e.g. --auth desk:correct-horse")
    if (args.share or not _loopback(args.host)) and not (auth or args.insecure):
        where = "a share link" if args.share else args.host
        raise InvalidInputError(f"serving on {where} lets anyone who reaches it read and change the archive; add "
                                "--auth USER:PASSWORD, or --insecure if that is intended")
    if args.concurrency < 1 or args.queue_size < 1:
        raise InvalidInputError("--concurrency and --queue-size must be at least 1")
    try:
        from rag.ui import launch
    except ImportError:
        raise RagError("the chat page needs gradio; run: .venv/bin/pip install -e '.[app]'") from None
    launch(args.host, args.port, args.share, args.index, args.corpus, from_env(),
           auth=(user, password) if auth else None, concurrency=args.concurrency, queue_size=args.queue_size)
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def _summary_line(name: str, s) -> str:
    r, a, t = s.retrieval, s.abstention, s.latency_ms
    return (
        f"{name}: strict accuracy {s.strict_accuracy:.3f}, accuracy {s.accuracy:.3f} (answerable "
        f"{s.answerable_accuracy:.3f}), EM {s.exact_match:.3f}, F1 {s.f1:.3f}, recall@5 {r['recall@5']:.3f}, "
        f"MRR {r['mrr']:.3f}, citation precision {s.citations['precision']:.3f}, abstention P/R/F1 "
        f"{a['precision']:.3f}/{a['recall']:.3f}/{a['f1']:.3f}, p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms "
        f"({s.questions} questions)"
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
