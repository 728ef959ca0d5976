"""The architecture is a checked contract: the layers and independences import-linter holds the code to
(pyproject.toml, docs/architecture.md), ruff's rules, and a registry whose every line names a class that
meets its part's protocol."""

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import registry
from tests.conftest import REPO

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run: .venv/bin/pip install -e '.[dev]'")
    return found


def test_the_layers_and_independences_hold_with_no_import_cycle():
    result = subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_ruff_finds_nothing_in_the_package_its_tests_and_the_app():
    result = subprocess.run([_tool("ruff"), "check", "rag", "tests", "app.py"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_over_400_lines():
    long = {str(path.relative_to(REPO)): lines for path in (REPO / "rag").rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long


@pytest.mark.parametrize("part", registry.LOADERS, ids=lambda part: part.name)
def test_every_registered_loader_meets_the_loader_protocol(part):
    loader = part.implementation()()
    assert isinstance(loader.whole_file, bool) and (loader.max_bytes is None or loader.max_bytes > 0)
    assert list(inspect.signature(loader.read).parameters) == ["path", "advance", "fields", "overrides"]
    assert all(suffix.startswith(".") for suffix in part.spellings)


@pytest.mark.parametrize("part", registry.VECTOR_STORES + registry.KEYWORD_STORES, ids=lambda part: part.name)
def test_every_registered_store_meets_its_protocol(part):
    store = part.implementation()
    assert store.name == part.name  # the name its manifest entry records is the one the registry looks up
    methods = ["add", "remove", "search", "commit", "discard_after", "close", "retire", "__len__"]
    assert all(callable(getattr(store, method, None)) for method in methods)
    assert inspect.ismethod(store.create) and inspect.ismethod(store.open)  # classmethods, chosen by the registry


@pytest.mark.parametrize("part", registry.CHUNK_STORES, ids=lambda part: part.name)
def test_every_registered_chunk_store_meets_its_protocol(part):
    from rag.stores.protocols import ChunkStore

    store = part.implementation()
    assert store.name == part.name
    # keys_dated and keys_with_events are cached per open store, so they are set in __init__
    wanted = set(vars(ChunkStore)) - {"name", "generation", "keys_dated", "keys_with_events"}
    methods = [name for name in wanted if not name.startswith("_")]
    assert "sentences_in" in methods and all(callable(getattr(store, method, None)) for method in methods)
    assert inspect.ismethod(store.write) and inspect.ismethod(store.open)  # classmethods, chosen by the registry


@pytest.mark.parametrize("part", registry.READERS, ids=lambda part: part.name)
def test_every_registered_reader_meets_the_reader_protocol(part):
    reader = part.implementation()
    assert reader.name == part.name and inspect.ismethod(reader.create)
    assert callable(reader.read) and callable(reader.warm_up)
