#!/usr/bin/env bash
# README command 1: install everything, then run the main job, `openenv demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/openenv demo "$@"
