#!/usr/bin/env bash
# Installs everything OpenEnv needs on a fresh Debian machine, idempotently:
# Debian packages listed in scripts/apt-packages.txt (bubblewrap, for sandboxes; Podman, for
# containers, with a containers.conf drop-in that makes it work on this kind of host), then a virtual
# environment in .venv with the openenv package, every env package under envs/,
# and (with --test) the test tools with the extras the tests use (the [test] extra of
# pyproject.toml: containers, training, and fastmcp for OpenEnv 0.10's MCPEnvironment).
#
# A second run takes a second or two: the Debian packages are checked again (dpkg, fast), and pip
# runs only when something it installed from has changed. After each successful pip run, a stamp
# in .venv records a hash of every pyproject.toml (root and envs/*), scripts/apt-packages.txt,
# this script and the venv's Python (.venv/pyvenv.cfg), and the extras installed; a run whose hash
# matches, asking for no more extras than were installed, skips pip. Editable installs pick up
# source changes by themselves; a changed pyproject.toml (a dependency, an entry point), a new or
# removed env package, or a new Python reinstalls. --reinstall runs pip regardless.
#
# Usage: bash scripts/install.sh [--test] [--reinstall]
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."

extras="[containers]"
reinstall=0
for arg in "$@"; do
    case "$arg" in
        --test) extras="[test]" ;;
        --reinstall) reinstall=1 ;;
        *) echo "usage: bash scripts/install.sh [--test] [--reinstall]" >&2; exit 2 ;;
    esac
done

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

# Podman on this kind of host: crun fails on hybrid cgroups, so runc and cgroupfs; and
# ulimits a container may have. A drop-in of ours, written once, never over a file of yours.
dropin=${OPENENV_CONTAINERS_DROPIN:-/etc/containers/containers.conf.d/50-openenv.conf}
if command -v podman >/dev/null && [[ ! -e $dropin ]]; then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "# Written by OpenEnv's scripts/install.sh (docs/deploy.md)." \
        "[containers]" 'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]' \
        "[engine]" 'runtime = "runc"' 'cgroup_manager = "cgroupfs"' | $SUDO tee "$dropin" >/dev/null
fi

python="${PYTHON:-python3}"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv

# What pip installs from; file names are hashed too, so an env package added or removed counts.
stamp=.venv/.openenv-install-stamp
inputs=(pyproject.toml envs/*/pyproject.toml scripts/apt-packages.txt scripts/install.sh .venv/pyvenv.cfg)
hash=$(sha256sum "${inputs[@]}" | sha256sum | cut -d' ' -f1)
if ((!reinstall)) && [[ -f $stamp ]]; then
    { read -r stamped_hash; read -r stamped_extras; } < "$stamp" || true
    # [test] includes [containers]: a plain run after a test install has nothing to add.
    if [[ ${stamped_hash:-} == "$hash" ]] \
        && [[ ${stamped_extras:-} == "$extras" || ( $extras == "[containers]" && ${stamped_extras:-} == "[test]" ) ]] \
        && [[ -x .venv/bin/openenv ]] \
        && .venv/bin/python -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("openenv"))'
    then
        echo "OpenEnv is installed in .venv, nothing changed since (activate with: source .venv/bin/activate)"
        exit 0
    fi
fi

rm -f "$stamp"  # until pip has succeeded
# The distribution `openenv` (OpenEnv 0.10 on PyPI, and this project's own name before it
# became openenv-rl) installs the same `openenv` module as ours: only one may be in the venv.
if .venv/bin/python -m pip show --quiet openenv >/dev/null 2>&1; then
    echo "removing the distribution 'openenv' from .venv: its 'openenv' module is replaced by openenv-rl's"
    .venv/bin/python -m pip uninstall --quiet --yes openenv
fi
envs=()
for project in envs/*/pyproject.toml; do envs+=(-e "$(dirname "$project")"); done
# The tests train a tiny model with TRL: torch==2.13.0 is the CPU build this machine's package
# index serves, where a bare "torch" (what trl asks for) would pull a multi-GB CUDA build.
pins=()
[[ $extras == "[test]" ]] && pins=("torch==2.13.0")
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" "${envs[@]}" "${pins[@]}"
printf '%s\n%s\n' "$hash" "$extras" > "$stamp.tmp" && mv "$stamp.tmp" "$stamp"
echo "OpenEnv installed in .venv (activate with: source .venv/bin/activate)"
