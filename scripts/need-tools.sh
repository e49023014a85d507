#!/usr/bin/env bash
# Installs, through apt-get (Debian), the tools the tests run that this machine
# lacks; does nothing when all are here. Each argument is a command, or
# command:package when the Debian package is named otherwise.
# Usage: bash scripts/need-tools.sh gcc valgrind readelf:binutils
set -euo pipefail

pkgs=()
for spec in "$@"; do
    tool=${spec%%:*}
    pkg=${spec#*:}
    command -v "$tool" >/dev/null 2>&1 || pkgs+=("$pkg")
done
((${#pkgs[@]})) || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    printf 'need-tools.sh: missing %s and no apt-get to install them\n' "${pkgs[*]}" >&2
    exit 1
fi
printf '\n==> installing %s\n' "${pkgs[*]}"
sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
