#!/usr/bin/env bash
# README command 2: install everything (test tools included), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
.venv/bin/python -m ruff check src envs tests benchmarks
exec .venv/bin/python -m pytest -q "$@"
