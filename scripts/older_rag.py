"""Run another commit's rag beside today's, in the same environment: for before-and-after comparisons
(scripts/same_answers.py, bench/latency.py --before REV)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def unpack(revision: str, into: Path) -> Path:
    """The ``rag`` package of ``revision``, unpacked under ``into``; returns the folder to import it from."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "rag"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def use(source: Path) -> None:
    """Make ``import rag`` find the package in ``source``: the editable install's finder comes before
    sys.path, so it is taken out of this process first."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if "__editable__" not in repr(finder)]
    sys.path.insert(0, str(source))


def command(source: Path | None, code: str) -> list[str]:
    """A Python command that runs ``code`` with the rag of ``source`` (today's when None)."""
    if source is None:
        return [sys.executable, "-c", code]
    prelude = (f"import sys; sys.path.append({str(ROOT)!r}); from scripts.older_rag import use; "
               f"use({str(source)!r}); import rag; assert rag.__file__.startswith({str(source)!r}), rag.__file__; ")
    return [sys.executable, "-c", prelude + code]
