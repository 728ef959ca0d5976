#!/usr/bin/env bash
# Set up, bring the index up to date with corpus/, and answer a question (the sample one by default).
#   bash scripts/run.sh ["your question"] [rag ask options...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/rag index --corpus corpus --index index
if [ $# -eq 0 ]; then
  set -- "How far did the March 2023 missiles fly?"
fi
exec .venv/bin/rag ask "$@"
