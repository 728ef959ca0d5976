#!/usr/bin/env bash
# Create .venv at the repo root and install the project into it. Safe to run again: it does
# nothing when pyproject.toml and constraints.txt have not changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "rag needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and run again" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

# Within the versions of constraints.txt, which the figures in docs/ were measured with (scripts/pin.sh).
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing rag and its dependencies into .venv (a few minutes the first time; log: .venv/install.log)..." >&2
  {
    .venv/bin/python -m pip install --upgrade pip &&
    # The CPU build of torch first: asked for alone it comes from the local wheel or the CPU index,
    # never the multi-gigabyte CUDA build. A large wheel cut off mid-download resumes where it
    # stopped (--resume-retries, pip 25.1+) rather than failing the install.
    .venv/bin/python -m pip install --resume-retries 20 -c constraints.txt "torch==2.13.0" &&
    .venv/bin/python -m pip install --resume-retries 20 -c constraints.txt -e ".[app,dev,onnx]"
  } > .venv/install.log 2>&1 || { tail -n 40 .venv/install.log >&2; echo "install failed; see .venv/install.log" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The encoder's and the span head's ONNX exports, made now rather than by the first question
# (rag.models.onnx, rag.answers.span_head); each is named by what it was made from, so after a pull
# that changed the span head this makes the new one, and otherwise finds both made and does nothing.
.venv/bin/python -m rag.answers.span_head >> .venv/install.log 2>&1 ||
  { tail -n 40 .venv/install.log >&2; echo "preparing the ONNX exports failed; see .venv/install.log" >&2; exit 1; }
