"""What a hostile visitor, checkpoint or network cannot do: the server stays on this machine unless
told otherwise with a password or on purpose, and nothing in rag unpickles data."""

import re

import pytest

from rag import cli
from rag.cli import commands
from tests.conftest import REPO


@pytest.mark.parametrize("argv, message", [
    (["--host", "0.0.0.0"], "lets anyone who reaches it read and change the archive; add --auth USER:PASSWORD, or --insecure"),
    (["--host", "192.168.1.20"], "--auth USER:PASSWORD"),
    (["--host", "newsroom.example"], "--auth USER:PASSWORD"),
    (["--share"], "serving on a share link"),
    (["--host", "0.0.0.0", "--auth", "desk"], "--auth wants USER:PASSWORD"),
    (["--concurrency", "0"], "at least 1"),
])
def test_serving_beyond_this_machine_needs_a_password_or_insecure(argv, message, capsys):
    assert cli.main(["serve", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_loopback_addresses_need_no_password():
    assert all(commands._loopback(host) for host in ("127.0.0.1", "localhost", "::1", "127.0.1.1"))
    assert not any(commands._loopback(host) for host in ("0.0.0.0", "::", "10.0.0.5", "example.org"))


def test_nothing_in_rag_unpickles():
    """Pickle runs code on load: models are JSON and safetensors, stores SQLite, FAISS and tantivy files."""
    unpickling = re.compile(r"\bpickle\b|torch\.load\(|allow_pickle\s*=\s*True|\bjoblib\b|\bdill\b|cloudpickle")
    found = [f"{path.relative_to(REPO)}:{number}" for path in sorted((REPO / "rag").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if unpickling.search(line) and "no pickle" not in line.lower()]
    assert found == []
