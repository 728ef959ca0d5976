"""One writer per index at a time, and tidying up after a writer that was killed.

Every write to an index (``rag index``, ``rag add``, ``rag remove``, the chat page's library panel)
holds the index's lock, a file beside the index directory (``.index.lock`` for ``index/``) so that
it outlives the directory swaps of a full write. The operating system drops the lock when its holder
dies, even by SIGKILL, so a killed writer never leaves the index locked. Readers take no lock: they
see the generation the manifest named when they opened it (rag.indexing.update says why that stays whole).

The lock is re-entrant within a thread: a caller that wants to fail rather than wait takes it first
with ``wait=False`` and the library functions it calls then find it already held.
"""

from __future__ import annotations

import logging
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexBusyError
from rag.indexing.manifest import MANIFEST

log = logging.getLogger("rag")
_SWAP_SECONDS = 10.0  # how long a reader waits for a writer to finish the two renames of a swap


def lock_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.lock")


def retired(index_dir: Path) -> Path:
    """Where a full write moves the index it replaces, for the moment between two renames."""
    return index_dir.with_name(f".{index_dir.name}.old")


def staging_prefix(index_dir: Path) -> str:
    """The name prefix of the directories a full write builds in, beside the index."""
    return f".{index_dir.name}.building-"


@contextmanager
def writing(index_dir: str | Path, wait: bool = True):
    """Hold the write lock of ``index_dir`` for the block. Held by another process: wait for it,
    saying so, or raise IndexBusyError when ``wait`` is False. The first holder also clears what a
    killed writer left behind (a half-built directory, a swap cut between its renames)."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir).absolute()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path(index_dir)), is_singleton=True)  # one object per path: re-entrant
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise IndexBusyError(f"another rag process is writing index {index_dir}; "
                                 "try again when it has finished") from None
        log.warning("rag: another rag process is writing index %s; waiting for it to finish "
                    "(--no-wait fails instead)", index_dir)
        lock.acquire()
    try:
        if lock.lock_counter == 1:
            _tidy(index_dir)
        yield
    finally:
        lock.release()


def finish_interrupted_swap(index_dir: Path) -> None:
    """A full write killed between the two renames of its swap leaves only the retired index: put it
    back. A missing index while another process holds the lock is a swap under way: wait for it."""
    if index_dir.exists() or not retired(index_dir).exists():
        return
    try:
        with writing(index_dir, wait=False):
            pass  # taking the lock tidies
    except IndexBusyError:
        deadline = time.monotonic() + _SWAP_SECONDS
        while not index_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.01)


def _tidy(index_dir: Path) -> None:
    """Run with the lock held, so no writer is using what is removed here."""
    if not index_dir.exists() and (retired(index_dir) / MANIFEST).exists():
        retired(index_dir).rename(index_dir)
    leftovers = [path for path in (retired(index_dir), *index_dir.parent.glob(staging_prefix(index_dir) + "*"),
                                   *(index_dir.glob("*.partial") if index_dir.is_dir() else ())) if path.exists()]
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if leftovers:
        log.warning("rag: removed %d leftover(s) of an interrupted write of %s", len(leftovers), index_dir)
