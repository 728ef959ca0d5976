"""Writing a file so that a crash at any moment leaves either the old file or the whole new one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rag.faults import point


def write_durably(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write`` on a temporary name beside ``path``, flush it to disk, then rename it into
    place (atomic on POSIX) and flush the directory, so the new name survives a power cut too."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    write(str(partial))
    point(f"wrote {partial.name}")
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, path)
    point(f"renamed {path.name}")
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_text_durably(path: Path, text: str) -> None:
    write_durably(path, lambda name: Path(name).write_text(text, encoding="utf-8"))
