#!/usr/bin/env bash
# Install the Debian packages of scripts/apt-packages.txt that are missing; a no-op when none is,
# so `make test` stays fast and offline on a machine that has them.
set -euo pipefail

list=${1:-"$(cd "$(dirname "$0")" && pwd)/apt-packages.txt"}
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | awk 'NF && !seen[$0]++')

missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all ${#wanted[@]} installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-system: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
echo "system packages: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
