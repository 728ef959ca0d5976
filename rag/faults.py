"""Named points in every write to the index and the corpus, where a test can stop the writer.

The crash lane (tests/test_crashes.py) registers a hook that kills its own process with SIGKILL at
the n-th point reached, for every n, then checks that the previous index still answers exactly as
before and that the next run completes. Nothing is registered in normal use.
"""

from __future__ import annotations

from collections.abc import Callable

_hook: Callable[[str], None] | None = None


def point(step: str) -> None:
    """A write has reached ``step``; a registered hook may stop the process here."""
    if _hook is not None:
        _hook(step)


def set_hook(hook: Callable[[str], None] | None) -> None:
    global _hook
    _hook = hook
