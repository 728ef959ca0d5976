#!/usr/bin/env bash
# Write constraints.txt from .venv: run after `bash scripts/test.sh` is green on the versions installed
# there, then measure again (README "Measured"), since answers and timings move with the libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# The versions every figure in README.md and docs/ was measured with and CI tests: scripts/install.sh"
  echo "# and scripts/test.sh install within them (pip -c), so a fresh clone gets this environment rather"
  echo "# than whatever was released since. pyproject.toml keeps the ranges rag works with; this picks one"
  echo "# point in them. Written by scripts/pin.sh; torch without the +cpu label its CPU index adds."
  .venv/bin/python -m pip freeze --exclude-editable | sed 's/+cpu$//'
} > constraints.txt
echo "wrote constraints.txt ($(grep -c '==' constraints.txt) packages)" >&2
