"""The `rag` command: a thin layer over the Python API (arguments.py reads the command line, commands.py
does each subcommand). Errors are one line naming the problem and the fix, with exit code 1."""

from __future__ import annotations

import logging
import sys

from rag.cli import commands
from rag.cli.arguments import build_parser
from rag.errors import RagError

_COMMANDS = {"index": commands.index, "add": commands.add, "remove": commands.remove, "list": commands.list_articles,
             "ask": commands.ask, "eval": commands.evaluate, "calibrate": commands.calibrate, "models": commands.models,
             "serve": commands.serve}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return _COMMANDS[args.command](args)
    except RagError as error:
        print(f"rag: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted; the previous index, if any, is unchanged", file=sys.stderr)
        return 130
