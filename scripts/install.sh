#!/usr/bin/env bash
# Installs everything OpenEnv needs on a fresh Debian machine, idempotently:
# Debian packages listed in scripts/apt-packages.txt (bubblewrap, for sandboxes), then a virtual
# environment in .venv with the openenv package, every env package under envs/,
# and (with --test) the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [[ "${1:-}" == "--test" ]]; then extras="[test]"; fi

# Debian packages: install only what is missing (apt-get needs root).
mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | tr -s ' \n' '\n' | sed '/^$/d')
missing=()
for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
envs=()
for project in envs/*/pyproject.toml; do envs+=(-e "$(dirname "$project")"); done
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" "${envs[@]}"
echo "OpenEnv installed in .venv (activate with: source .venv/bin/activate)"
