#!/usr/bin/env bash
# Set up, then run the whole test suite (offline; extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m pytest "$@"
