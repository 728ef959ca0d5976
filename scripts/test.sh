#!/usr/bin/env bash
# Set up, then run the whole test suite (offline; extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The server lane's Milvus (the server extra: a real standalone server, about 60 MB) and the cluster
# lane's Ray (the cluster extra) are for the tests; the main set-up never installs them.
# No key of its own: scripts/install.sh removes every .venv/.installed-* stamp, this one too, whenever
# pyproject.toml or constraints.txt changed, so the lanes are installed again exactly then.
stamp=".venv/.installed-server-cluster"
if [ ! -f "$stamp" ]; then
  echo "Installing the server and cluster test lanes' Milvus and Ray into .venv (log: .venv/install-lanes.log)..." >&2
  .venv/bin/python -m pip install --resume-retries 20 -c constraints.txt -e ".[server,cluster]" > .venv/install-lanes.log 2>&1 ||
    { tail -n 40 .venv/install-lanes.log >&2; echo "install failed; see .venv/install-lanes.log" >&2; exit 1; }
  touch "$stamp"
fi
# The browser test drives Debian's Chromium (never a downloaded one). Install it when we can.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser test..." >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } > .venv/chromium-install.log 2>&1 ||
      echo "chromium install failed (see .venv/chromium-install.log); the browser test will be skipped" >&2
  else
    echo "chromium not found and cannot be installed here (needs root and apt-get); the browser test will be skipped" >&2
  fi
fi
exec .venv/bin/python -m pytest -m "" "$@"  # every lane: fast, slow, crash, browser, server and cluster
